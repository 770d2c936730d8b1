"""The shift report as the med tech and the nurse use it: a note, the submission, the sign-off
at the cart, refusals beside their fields, and the nurse's last 24 hours (page and PDF)."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from core.shifts import shift_at
from handoff.models import HandoffNote, ReportState, ShiftReport
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def _page(unit) -> str:
    return f"{reverse('shift_report')}?unit={unit.pk}"


def _note_data(unit, resident, **overrides) -> dict:
    data = {
        "unit": unit.pk,
        "shift": shift_at(timezone.now(), unit.facility.shifts).key,
        "key": str(uuid.uuid4()),
        "resident": resident.pk,
        "category": "behaviour",
        "text": "Restless after supper; calmer with music.",
    }
    data.update(overrides)
    return data


def test_the_med_tech_leaves_a_note_submits_and_the_evening_med_tech_signs(
    medtech_client, facility, unit, resident
):
    evening = member(facility, Role.MED_TECH, username="evening1")
    response = medtech_client.get(_page(unit))
    assert response.status_code == 200
    assert "Live" in response.content.decode()

    response = medtech_client.post(
        reverse("handoff_note_add"), _note_data(unit, resident), follow=True
    )
    assert "Restless after supper" in response.content.decode()

    shift = shift_at(timezone.now(), facility.shifts)
    response = medtech_client.post(
        reverse("shift_report_submit"), {"unit": unit.pk, "shift": shift.key}, follow=True
    )
    body = response.content.decode()
    assert "Submitted" in body and "Acknowledge" in body
    assert "a note added now goes to the next shift's report" in body
    report = ShiftReport.objects.get()
    assert report.state == ReportState.SUBMITTED

    response = medtech_client.post(
        reverse("shift_report_acknowledge", args=[report.pk]),
        {"incoming_username": "evening1", "incoming_secret": PASSWORD},
        follow=True,
    )
    assert f"Report acknowledged by {evening}" in response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.acknowledged_by) == (ReportState.ACKNOWLEDGED, evening)
    assert HandoffNote.objects.get().acknowledged_in == report


def test_a_note_without_text_is_refused_beside_its_field_keeping_the_choice(
    medtech_client, unit, resident
):
    response = medtech_client.post(
        reverse("handoff_note_add"), _note_data(unit, resident, text="", category="family")
    )
    assert response.status_code == 400
    assert response.context["note_form"].errors["text"] == ["Write the note."]
    assert '<option value="family" selected>' in response.content.decode()
    assert not HandoffNote.objects.exists()


def test_a_wrong_sign_off_is_refused_beside_the_field(medtech_client, facility, unit, resident):
    member(facility, Role.MED_TECH, username="evening2")
    shift = shift_at(timezone.now(), facility.shifts)
    medtech_client.post(reverse("shift_report_submit"), {"unit": unit.pk, "shift": shift.key})
    report = ShiftReport.objects.get()
    response = medtech_client.post(
        reverse("shift_report_acknowledge", args=[report.pk]),
        {"incoming_username": "evening2", "incoming_secret": "nope"},
    )
    assert response.status_code == 400
    assert "not right for this facility" in response.content.decode()
    assert 'value="evening2"' in response.content.decode()
    assert 'value="nope"' not in response.content.decode()
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED


def test_the_nurse_reads_the_last_day_and_its_pdf(
    medtech_client, nurse_client, facility, unit, resident
):
    medtech_client.post(reverse("handoff_note_add"), _note_data(unit, resident))
    shift = shift_at(timezone.now(), facility.shifts)
    medtech_client.post(reverse("shift_report_submit"), {"unit": unit.pk, "shift": shift.key})
    response = nurse_client.get(reverse("shift_reports_last_day"))
    body = response.content.decode()
    assert "Restless after supper" in body
    assert "Not submitted" in body  # the shifts before it
    pdf = nurse_client.get(reverse("shift_reports_last_day_pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_med_tech_finds_the_report_in_the_header_and_the_nurse_on_her_home(
    medtech_client, nurse_client, unit
):
    assert reverse("shift_report") in medtech_client.get(reverse("board")).content.decode()
    home = nurse_client.get(reverse("home")).content.decode()
    assert reverse("shift_reports_last_day") in home
