"""A unit's monthly MAR PDF, built by a worker: asked for from the MAR pages, its progress shown,
then its download; the same unit and month asked again while it is built reuses it."""

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from reports.models import JobState, MarPdfJob
from reports.services import mar_pdf_job_request, mar_pdf_job_run
from reports.tasks import build_mar_pdf
from residents.models import ResidentStatus
from tests.factories import ResidentFactory, UnitFactory
from tests.reports.test_mar_pdf import _chart, mary  # noqa: F401 (fixture)

_COMMITS = []


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path, django_capture_on_commit_callbacks):
    """Photos in a temporary folder; what a request does after its commit is done at once."""
    settings.MEDIA_ROOT = tmp_path
    _COMMITS[:] = [django_capture_on_commit_callbacks]
    yield
    _COMMITS.clear()


def _ask(client, unit, month="2026-01"):
    with _COMMITS[0](execute=True):
        return client.post(reverse("mar_pdf_jobs"), {"unit": unit.pk, "month": month})


def _text(content: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()


def test_the_month_and_day_pages_ask_for_the_units_pdf(nurse_client, resident):
    for name, query in (("resident_mar_month", {"month": "2026-01"}), ("resident_mar_day", {})):
        page = nurse_client.get(reverse(name, args=[resident.pk]), query).content.decode()
        assert f'action="{reverse("mar_pdf_jobs")}"' in page
        assert "PDF of all North Wing" in page


def test_asking_queues_a_job_and_shows_that_it_waits(
    medtech_client, medtech_user, unit, queued_pdf_jobs
):
    response = _ask(medtech_client, unit)

    job = MarPdfJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mar_pdf_job", args=[job.pk])
    assert (job.state, job.unit, job.year, job.month) == (JobState.QUEUED, unit, 2026, 1)
    assert job.requested_by == medtech_user
    assert queued_pdf_jobs == [job.pk]
    page = medtech_client.get(response["Location"]).content.decode()
    assert "North Wing · January 2026" in page
    assert "Waiting for a worker" in page
    assert 'hx-trigger="every 2s"' in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript the page reloads itself


def test_the_same_unit_and_month_asked_again_while_queued_reuses_the_job(
    nurse_client, medtech_client, unit, queued_pdf_jobs
):
    _ask(medtech_client, unit)
    again = _ask(nurse_client, unit)

    job = MarPdfJob.objects.get()
    assert again["Location"] == reverse("mar_pdf_job", args=[job.pk])
    assert queued_pdf_jobs == [job.pk]
    assert "already being built" in nurse_client.get(again["Location"]).content.decode()
    _ask(nurse_client, unit, "2025-12")
    assert MarPdfJob.objects.count() == 2  # another month is another PDF


def test_the_worker_builds_the_pdf_with_the_units_residents_and_reports_progress(
    nurse_client,
    facility,
    unit,
    resident,
    mary,  # noqa: F811 (the fixture imported above)
    queued_pdf_jobs,
):
    away = ResidentFactory(facility=facility, unit=unit, last_name="Leftearly")
    _chart(away, mary, 1)
    away.status = ResidentStatus.DISCHARGED
    away.save()
    ResidentFactory(facility=facility, unit=unit, last_name="Longgone", status="discharged")
    ResidentFactory(facility=facility, unit=UnitFactory(facility=facility), last_name="Elsewhere")
    _ask(nurse_client, unit)
    job = MarPdfJob.objects.get()

    build_mar_pdf(job.pk)  # the Celery task, run here as the worker would

    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert (job.residents_done, job.residents_total) == (2, 2)
    page = nurse_client.get(reverse("mar_pdf_job", args=[job.pk])).content.decode()
    assert "Ready" in page
    assert "2 of 2 residents" in page
    assert "hx-trigger" not in page  # nothing left to wait for: the polling stops
    download = nurse_client.get(reverse("mar_pdf_job_download", args=[job.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'inline; filename="MAR-North-Wing-2026-01.pdf"'
    if shutil.which("pdftotext"):
        text = _text(download.content)
        assert "Byron, Ada" in text
        assert "Leftearly" in text
        assert "Longgone" not in text
        assert "Elsewhere" not in text
    listing = nurse_client.get(reverse("mar_pdf_jobs")).content.decode()
    assert "North Wing · January 2026" in listing
    assert reverse("mar_pdf_job_download", args=[job.pk]) in listing


def test_progress_is_visible_while_the_job_runs(
    nurse_client, nurse_user, facility, unit, resident, monkeypatch
):
    ResidentFactory(facility=facility, unit=unit)
    job, _ = mar_pdf_job_request(actor=nurse_user, facility=facility, unit=unit, year=2026, month=1)
    seen = []

    def look(done, total):
        seen.append(nurse_client.get(reverse("mar_pdf_job", args=[job.pk]), HTTP_HX_REQUEST="true"))

    from reports import services

    build = services.mar_pdf  # the real build, with a look at the page after each resident

    def build_and_look(*, progress, **kwargs):
        return build(**kwargs, progress=lambda d, t: (progress(d, t), look(d, t)))

    monkeypatch.setattr(services, "mar_pdf", build_and_look)
    mar_pdf_job_run(job_id=job.pk)

    first = seen[0].content.decode()
    assert "Being built" in first
    assert "1 of 2 residents" in first
    assert 'hx-trigger="every 2s"' in first
    assert "<html" not in first  # the poll gets the fragment only


def test_a_running_or_finished_job_is_not_built_twice(nurse_user, facility, unit, resident):
    job, _ = mar_pdf_job_request(actor=nurse_user, facility=facility, unit=unit, year=2026, month=1)
    mar_pdf_job_run(job_id=job.pk)
    built = MarPdfJob.objects.get().finished_at

    mar_pdf_job_run(job_id=job.pk)  # a redelivered task

    assert MarPdfJob.objects.get().finished_at == built


def test_a_failed_build_says_so_and_can_be_asked_again(
    nurse_client, unit, monkeypatch, queued_pdf_jobs
):
    from reports import services

    def broken(**kwargs):
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(services, "mar_pdf", broken)
    _ask(nurse_client, unit)
    job = MarPdfJob.objects.get()

    mar_pdf_job_run(job_id=job.pk)

    page = nurse_client.get(reverse("mar_pdf_job", args=[job.pk])).content.decode()
    assert "Failed" in page
    assert "could not be built" in page
    assert "layout exploded" not in page
    assert nurse_client.get(reverse("mar_pdf_job_download", args=[job.pk])).status_code == 404
    _ask(nurse_client, unit)
    assert MarPdfJob.objects.filter(state=JobState.QUEUED).count() == 1


def test_a_job_no_worker_started_says_so_and_is_replaced_after_ten_minutes(
    nurse_client, unit, queued_pdf_jobs
):
    _ask(nurse_client, unit)
    job = MarPdfJob.objects.get()

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        page = nurse_client.get(reverse("mar_pdf_job", args=[job.pk])).content.decode()
    assert "No worker has started it yet" in page

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        _ask(nurse_client, unit)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert MarPdfJob.objects.filter(state=JobState.QUEUED).count() == 1


def test_jobs_finished_more_than_30_days_ago_are_deleted_when_another_is_asked_for(
    nurse_client, nurse_user, facility, unit, queued_pdf_jobs
):
    _ask(nurse_client, unit, "2025-11")
    old = MarPdfJob.objects.get()
    mar_pdf_job_run(job_id=old.pk)
    _ask(nurse_client, unit, "2025-12")
    assert MarPdfJob.objects.count() == 2  # finished today: kept

    with time_machine.travel(timezone.now() + timedelta(days=31)):  # (the session has ended)
        mar_pdf_job_request(actor=nurse_user, facility=facility, unit=unit, year=2026, month=1)

    assert not MarPdfJob.objects.filter(pk=old.pk).exists()
    assert MarPdfJob.objects.count() == 2


def test_with_the_broker_down_the_request_still_answers_and_the_job_waits(
    nurse_client, unit, settings, monkeypatch
):
    from medtech.celery import app

    dead = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(app.conf, "broker_url", dead)
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    settings.MAR_PDF_QUEUE = "reports.tasks.mar_pdf_send"

    response = _ask(nurse_client, unit)

    assert response.status_code == 302
    assert MarPdfJob.objects.get().state == JobState.QUEUED


def test_another_facilitys_job_is_404_and_its_units_cannot_be_asked_for(
    nurse_client, outsider_client, unit, queued_pdf_jobs
):
    _ask(nurse_client, unit)
    job = MarPdfJob.objects.get()
    mar_pdf_job_run(job_id=job.pk)

    for name in ("mar_pdf_job", "mar_pdf_job_download"):
        assert outsider_client.get(reverse(name, args=[job.pk])).status_code == 404
    assert "North Wing" not in outsider_client.get(reverse("mar_pdf_jobs")).content.decode()
    refused = _ask(outsider_client, unit)
    assert refused.status_code == 200
    assert "Choose one of this facility&#x27;s units." in refused.content.decode()
    assert MarPdfJob.objects.count() == 1


@pytest.mark.parametrize("month", ["", "2026-13", "January", "1999-12", "2026-1x"])
def test_a_bad_month_is_refused_beside_its_field(nurse_client, unit, month):
    response = _ask(nurse_client, unit, month)

    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'name="month"[^>]*value="' + re.escape(month) + '"', page) or not month
    assert "errorlist" in page
    assert not MarPdfJob.objects.exists()


def test_the_old_unit_pdf_address_opens_the_form_filled_in(nurse_client, outsider_client, unit):
    response = nurse_client.get(reverse("unit_mar_pdf", args=[unit.pk]), {"month": "2026-01"})

    assert response.status_code == 302
    form = nurse_client.get(response["Location"]).content.decode()
    assert re.search(rf'<option value="{unit.pk}" selected>North Wing</option>', form)
    assert 'value="2026-01"' in form
    assert not MarPdfJob.objects.exists()
    assert outsider_client.get(reverse("unit_mar_pdf", args=[unit.pk])).status_code == 404
