"""The flowsheet pages as staff use them: recording, charts, the exceptions list and its
acknowledgement, local times across DST, and query counts that do not grow with the data."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from mar.models import Alert, AlertKind, AlertState
from tests.factories import ResidentFactory, member
from vitals import services
from vitals.models import ReadingSource, VitalException, VitalReading

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 10, 16, 0, tzinfo=datetime.UTC)  # 12:00 in New York
DAY = datetime.timedelta(days=1)


def _triangles(html: str) -> int:
    """The out-of-range markers drawn: one closed triangle each."""
    return sum(d.count("Z") for d in re.findall(r'class="out-of-range" d="([^"]*)"', html))


@pytest.fixture
def caregiver(facility):
    return member(facility, Role.CAREGIVER, username="carol")


def _take(actor, resident, values, at):
    return services.readings_record(
        actor=actor,
        resident=resident,
        values=values,
        source=ReadingSource.FLOWSHEET,
        taken_at=at,
        now=max(at, NOW),
    )


def test_a_caregiver_records_vitals_on_the_flowsheet(caregiver_client, resident):
    url = reverse("flowsheet", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        page = caregiver_client.get(url).content.decode()
        assert "Record vitals" in page and 'name="spo2"' in page
        response = caregiver_client.post(
            url + "?days=7",
            {"temperature": "98.4", "pulse": "121", "systolic_bp": "132", "diastolic_bp": "84"},
        )
    assert response.status_code == 302 and response.url == url + "?days=7"
    assert VitalReading.objects.filter(resident=resident, source="flowsheet").count() == 4
    assert VitalException.objects.get().reading.kind == "pulse"
    with time_machine.travel(NOW, tick=False):
        page = caregiver_client.get(response.url).content.decode()
    assert "4 readings recorded; 1 out of range, the nurse is alerted." in page
    assert "2026-06-10 12:00" in page  # New York time in the table
    assert "121 out of range" in page


def test_wrong_values_get_their_message_beside_each_field_and_nothing_is_recorded(
    medtech_client, resident
):
    url = reverse("flowsheet", args=[resident.pk])
    response = medtech_client.post(
        url, {"pulse": "720", "temperature": "abc", "systolic_bp": "130", "spo2": "95"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Pulse 720 /min cannot be right" in page
    assert "Temperature: “abc” is not a number." in page
    assert "Enter both numbers of the blood pressure." in page
    assert 'value="720"' in page  # what was typed is kept
    assert not VitalReading.objects.exists()
    empty = medtech_client.post(url, {}).content.decode()
    assert "Enter at least one reading." in empty


def test_an_administrator_reads_the_flowsheet_without_its_form(admin_client, resident):
    page = admin_client.get(reverse("flowsheet", args=[resident.pk])).content.decode()
    assert "Trends" in page and "Record vitals" not in page


def test_the_charts_show_the_period_asked_with_the_band_and_the_exceptions(
    nurse_client, caregiver, resident
):
    for days_ago, pulse in ((1, "72"), (3, "118"), (20, "80"), (60, "40")):
        _take(caregiver, resident, {"pulse": pulse}, NOW - days_ago * DAY)
    _take(caregiver, resident, {"systolic_bp": "150", "diastolic_bp": "95"}, NOW - 2 * DAY)
    url = reverse("flowsheet", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        week = nurse_client.get(url + "?days=7").content.decode()
        quarter = nurse_client.get(url + "?days=90").content.decode()
        wrong = nurse_client.get(url + "?days=abc").content.decode()
    pulse = re.search(r'<svg[^>]*aria-label="Pulse over the last 7 days[^"]*"', week).group(0)
    assert 'role="img"' in pulse
    assert "2 readings from 72 to 118 /min" in pulse and "1 out of range, marked" in pulse
    assert "<title>Pulse over the last 7 days" in week
    assert _triangles(week) == 1 and 'class="band"' not in week  # shape, not colour
    assert "Blood pressure over the last 7 days. Systolic BP: 1 reading" in week
    assert "Systolic BP: solid line. Diastolic BP: dashed line." in week
    assert "Pulse over the last 90 days. Pulse: 4 readings" in quarter
    assert _triangles(quarter) == 2
    assert "Pulse over the last 30 days" in wrong  # an unknown period reads as 30 days
    assert 'aria-current="page">7 days' in week and 'href="?days=90"' in week


def test_the_table_reads_local_times_across_the_spring_forward(nurse_client, caregiver, resident):
    # New York springs forward at 02:00 on 2026-03-08: 06:30 UTC is 01:30 EST, 07:30 UTC is
    # 03:30 EDT.
    day = datetime.datetime(2026, 3, 8, tzinfo=datetime.UTC)
    _take(caregiver, resident, {"pulse": "70"}, day.replace(hour=6, minute=30))
    _take(caregiver, resident, {"pulse": "71"}, day.replace(hour=7, minute=30))
    with time_machine.travel(day.replace(hour=12), tick=False):
        page = nurse_client.get(reverse("flowsheet", args=[resident.pk]) + "?days=7").content
    page = page.decode()
    assert "2026-03-08 01:30" in page and "2026-03-08 03:30" in page
    assert "06:30" not in page and "07:30" not in page


def test_a_nurse_acknowledges_an_exception_from_the_list(
    nurse_client, caregiver, facility, resident
):
    _take(caregiver, resident, {"spo2": "88"}, NOW - DAY)
    exception = VitalException.objects.get()
    listing = nurse_client.get(reverse("vital_exceptions")).content.decode()
    assert "SpO2 88 %" in listing and "92 to 100 % (facility range)" in listing
    url = reverse("vital_exception_acknowledge", args=[exception.pk])
    refused = nurse_client.post(url, {"note": "", "back": "list"})
    assert refused.status_code == 200
    assert "Write what you did or will do about this reading." in refused.content.decode()
    response = nurse_client.post(url, {"note": "O2 on 2 L per order, recheck", "back": "list"})
    assert response.status_code == 302 and response.url == reverse("vital_exceptions")
    assert exception.acknowledgement.note == "O2 on 2 L per order, recheck"
    alert = Alert.objects.get(kind=AlertKind.VITAL_EXCEPTION)
    assert alert.state == AlertState.RESOLVED
    assert (
        "No reading out of range waits"
        in nurse_client.get(reverse("vital_exceptions")).content.decode()
    )
    again = nurse_client.post(url, {"note": "twice", "back": "list"})
    assert "acknowledged this reading already" in again.content.decode()


def test_the_alert_leads_to_the_exceptions_and_the_weight_to_the_flowsheet(caregiver, resident):
    _take(caregiver, resident, {"weight": "160"}, NOW - 30 * DAY)
    _take(caregiver, resident, {"weight": "150", "pulse": "130"}, NOW)
    vital = Alert.objects.get(kind=AlertKind.VITAL_EXCEPTION)
    weight = Alert.objects.get(kind=AlertKind.WEIGHT_LOSS)
    assert vital.subject_url == reverse("vital_exceptions")
    assert weight.subject_url == reverse("flowsheet", args=[resident.pk]) + "?days=90"


def test_the_residents_pages_link_the_flowsheet(medtech_client, nurse_client, resident):
    link = reverse("flowsheet", args=[resident.pk])
    assert link in medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert link in nurse_client.get(reverse("resident_detail", args=[resident.pk])).content.decode()


def test_a_nurse_sets_and_removes_a_residents_own_range(nurse_client, resident):
    url = reverse("resident_vital_ranges", args=[resident.pk])
    refused = nurse_client.post(url, {"kind": "spo2", "low": "95", "high": "90", "note": "COPD"})
    assert "The low end is below the high end." in refused.content.decode()
    response = nurse_client.post(url, {"kind": "spo2", "low": "88", "high": "", "note": "COPD"})
    assert response.status_code == 302
    own = resident.vital_ranges.get()
    page = nurse_client.get(url).content.decode()
    assert "at least 88 %" in page and "(COPD)" in page
    nurse_client.post(reverse("resident_vital_range_remove", args=[own.pk]))
    assert not resident.vital_ranges.exists()


def test_an_administrator_edits_the_facility_range(admin_client, facility):
    pulse = facility.vital_ranges.get(kind="pulse")
    url = reverse("vital_range_edit", args=[pulse.pk])
    assert 'value="50"' in admin_client.get(url).content.decode()
    refused = admin_client.post(url, {"low": "500", "high": "110"})
    assert "the low end is a number from 20 to 250" in refused.content.decode()
    assert admin_client.post(url, {"low": "45", "high": ""}).status_code == 302
    pulse.refresh_from_db()
    assert (pulse.low, pulse.high) == (45, None)
    assert "at least 45 /min" in admin_client.get(reverse("vital_ranges")).content.decode()


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_flowsheet_costs_the_same_queries_with_more_readings(nurse_client, caregiver, resident):
    url = reverse("flowsheet", args=[resident.pk]) + "?days=90"
    every = {"temperature": "101", "pulse": "72", "respirations": "18", "systolic_bp": "128"}
    every |= {"diastolic_bp": "80", "spo2": "90", "blood_glucose": "140", "pain": "2"}

    def grow(count, start):
        services.readings_record_series(
            actor=caregiver,
            resident=resident,
            series=[(NOW - (start + i) * DAY / 3, every) for i in range(count)],
            source=ReadingSource.FLOWSHEET,
            now=NOW,
        )

    with time_machine.travel(NOW, tick=False):
        grow(3, 1)
        small = _queries(nurse_client, url)
        grow(60, 10)
        large = _queries(nurse_client, url)
    assert small == large


def test_the_exceptions_list_costs_the_same_queries_with_more_residents(
    nurse_client, caregiver, facility, unit
):
    def grow(count):
        for i in range(count):
            resident = ResidentFactory(facility=facility, unit=unit, room=f"{300 + i}")
            _take(caregiver, resident, {"pulse": "130", "spo2": "85"}, NOW - DAY)

    grow(2)
    small = _queries(nurse_client, reverse("vital_exceptions"))
    grow(10)
    large = _queries(nurse_client, reverse("vital_exceptions"))
    assert small == large


def test_the_inbox_counts_the_flowsheets_alerts_in_words(nurse_client, caregiver, resident):
    _take(caregiver, resident, {"weight": "160"}, NOW - 30 * DAY)
    _take(caregiver, resident, {"weight": "150", "pulse": "130"}, NOW)
    page = nurse_client.get(reverse("alert_list")).content.decode()
    assert "1 vital sign out of range" in page and "1 weight loss to review" in page


def test_the_weight_chart_shows_the_loss_to_review(nurse_client, caregiver, resident):
    _take(caregiver, resident, {"weight": "160"}, NOW - 31 * DAY)
    _take(caregiver, resident, {"weight": "150"}, NOW - DAY)
    with time_machine.travel(NOW, tick=False):
        page = nurse_client.get(reverse("flowsheet", args=[resident.pk]) + "?days=7").content
    page = page.decode()
    assert "Re-weigh and review: 6.2% weight loss in 30 days: 160 → 150 lb" in page
    assert "(weighed 2026-06-09 12:00; triangle)" in page
    weight = page[page.index("<strong>Weight</strong>") :]
    assert _triangles(weight[: weight.index("</svg>")]) == 1


def test_the_readings_table_pages_and_a_page_past_the_end_shows_the_last(
    nurse_client, caregiver, resident
):
    services.readings_record_series(
        actor=caregiver,
        resident=resident,
        series=[(NOW - i * DAY / 4, {"pulse": str(60 + i)}) for i in range(1, 46)],
        source=ReadingSource.FLOWSHEET,
        now=NOW,
    )
    url = reverse("flowsheet", args=[resident.pk]) + "?days=30"
    with time_machine.travel(NOW, tick=False):
        first = nurse_client.get(url).content.decode()
        past = nurse_client.get(url + "&page=9").content.decode()
    assert "Page 1 of 2 (45 in all)" in first and "<td>61</td>" in first
    assert "Page 2 of 2 (45 in all)" in past and "<td>105</td>" in past
