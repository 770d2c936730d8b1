"""A unit's monthly MAR PDF in a real browser: the nurse asks for it from a resident's MAR, the
job's page follows the worker's progress by itself (htmx) and offers the PDF when it is ready."""

import pytest

from reports.models import JobState, MarPdfJob
from reports.services import mar_pdf_job_run
from tests.e2e.conftest import CHROMIUM, login, shot

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def test_the_units_pdf_is_asked_for_followed_and_opened(live_server, cart_page, demo):
    page = cart_page
    resident = demo["resident"]
    login(page, live_server, "nurse")

    page.goto(f"{live_server.url}/residents/{resident.pk}/mar/month/")
    page.get_by_role("button", name=f"PDF of all {resident.unit.name}").click()
    page.wait_for_url("**/reports/mar-pdfs/*/")
    job = MarPdfJob.objects.get()
    assert job.state == JobState.QUEUED
    status = page.locator("#pdf-job")
    assert "Waiting for a worker" in status.inner_text()
    shot(page, "mar-pdf-01-queued")

    mar_pdf_job_run(job_id=job.pk)  # what the Celery worker does

    # The page asks again every 2 seconds: it turns to "Ready" without a reload.
    page.get_by_role("link", name="Open the PDF").wait_for(timeout=15_000)
    assert "Ready" in status.inner_text()
    job.refresh_from_db()
    assert f"{job.residents_total} of {job.residents_total} residents" in status.inner_text()
    shot(page, "mar-pdf-02-ready")
    href = page.get_by_role("link", name="Open the PDF").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
