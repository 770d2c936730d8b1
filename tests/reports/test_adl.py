"""The resident's ADL month reads like the MAR: care items by shift against the days, each cell
the GG code and initials, R, N or M; as a page and as CSV; constant queries."""

import csv
import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from care import services
from care.catalog import adl_template
from care.models import CareTask
from reports.adl import adl_month
from tests.care.conftest import NOW, published_plan
from tests.factories import member

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def documented(resident, facility):
    nurse = member(facility, Role.NURSE)
    medtech = member(facility, Role.MED_TECH, first_name="Maria", last_name="Lopez")
    published_plan(resident, adl_template(), nurse, at=NOW - 24 * HOUR)
    services.care_tasks_generate(now=NOW)
    services.care_tasks_generate(now=NOW + 20 * HOUR)
    tasks = list(CareTask.objects.filter(item__category="toileting").order_by("window_opens_at"))
    first, second = tasks[0], tasks[1]
    services.care_task_record(
        task_id=first.pk,
        status="done",
        performance_code="03",
        user=medtech,
        now=first.window_opens_at + HOUR,
    )
    services.care_task_record(
        task_id=second.pk,
        status="refused",
        reason="Wanted to rest",
        user=medtech,
        now=second.window_opens_at + HOUR,
    )
    services.care_tasks_mark(now=tasks[2].window_closes_at)
    return tasks


def test_the_cells_read_the_code_and_initials_refused_and_missed(resident, documented):
    grid = adl_month(resident=resident, year=2026, month=1)
    rows = {(row.category, row.shift): row for row in grid.rows}
    day = grid.days.index(datetime.date(2026, 1, 14))
    assert rows[("Toileting", "Day")].cells[day] == "03 ML"
    assert rows[("Toileting", "Evening")].cells[day] == "R ML"
    assert rows[("Toileting", "Night")].cells[day] == "M"
    assert rows[("Toileting", "Day")].planned == "04"
    assert len(grid.days) == 31


def test_the_page_and_its_csv(nurse_client, resident, documented):
    url = reverse("resident_adl_month", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        page = nurse_client.get(url, {"month": "2026-01"}).content.decode()
        assert "ADL care January 2026" in page and "03 ML" in page
        response = nurse_client.get(url, {"month": "2026-01", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Care", "Shift", "Planned help", "2026-01-01"]
    assert rows[3][:3] == ["Toileting", "Night", "04"] and "M" in rows[3]


def test_the_page_reads_in_constant_queries(nurse_client, resident, documented, facility):
    url = reverse("resident_adl_month", args=[resident.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert nurse_client.get(url, {"month": "2026-01"}).status_code == 200
        return len(queries.captured_queries)

    with time_machine.travel(NOW, tick=False):
        before = count()
    services.care_tasks_generate(now=NOW + 48 * HOUR)
    services.care_tasks_generate(now=NOW + 72 * HOUR)
    with time_machine.travel(NOW, tick=False):
        assert count() == before


def test_the_care_report_counts_by_unit_and_shift_missed_first(nurse_client, resident, documented):
    with time_machine.travel(NOW, tick=False):
        page = nurse_client.get(reverse("report_care"), {"month": "2026-01"}).content.decode()
        response = nurse_client.get(reverse("report_care"), {"month": "2026-01", "format": "csv"})
    assert "Care by unit and shift: 2026-01" in page
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Unit", "Shift", "Care tasks", "Done", "Refused", "Not done", "Missed"]
    unit = resident.unit.name
    assert rows[1][:2] == [unit, "Night"] and rows[1][6] == "1"  # missed care first
    by_shift = {row[1]: row for row in rows[1:]}
    assert by_shift["Day"][3] == "1" and by_shift["Evening"][4] == "1"


def test_the_pdf_is_one_landscape_letter_page_with_the_grid(nurse_client, resident, documented):
    import shutil
    import subprocess

    url = reverse("resident_adl_month", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        response = nurse_client.get(url, {"month": "2026-01", "format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert shutil.which("pdftotext"), "make test installs poppler-utils"
    info = subprocess.run(
        ["pdfinfo", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    pages = next(line for line in info.splitlines() if line.startswith("Pages:"))
    assert pages.split()[1] == "1" and "792 x 612" in info  # letter, landscape
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=response.content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "ADL care record — January 2026" in text
    assert "Toileting" in text and "03 ML" in text and "R ML" in text
