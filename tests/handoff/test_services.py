"""The shift report: its lines from the record, the frozen submission, the signed
acknowledgement, notes carried until acknowledged, and the alert of a late acknowledgement."""

import datetime
import uuid

import pytest
import time_machine
from django.db import IntegrityError, ProgrammingError, transaction

from accounts.models import Role, SignoffFailure
from core.errors import DomainError
from core.shifts import shift_after, shift_at, shift_on
from handoff import selectors, services
from handoff.models import HandoffNote, ReportState, ShiftReport
from incidents import services as incident_services
from incidents.rules import IncidentKind
from mar.models import Alert, AlertKind, AlertState
from residents.models import ResidentStatus
from residents.services import resident_change_status
from tests.factories import PASSWORD, PrescriptionFactory, member, record_dose, scheduled_dose

from .conftest import HOUR, NOW, note

pytestmark = pytest.mark.django_db


def _sections(view) -> dict[str, list[str]]:
    return {
        section.key: [f"{line.resident} | {line.mark} | {line.text}" for line in section.lines]
        for section in view.sections
    }


def _record_the_morning(resident, med_tech, nurse):
    """A refused dose at 08:00, a 07:00 one given late at 09:00, a 06:00 dose missed (before
    the shift began but closing in it) and a fall at 09:30."""
    order = PrescriptionFactory(resident=resident)
    due = datetime.datetime(2026, 3, 4, 13, 0, tzinfo=datetime.UTC)  # 08:00 EST
    record_dose(nurse, scheduled_dose(order, due), "refused", reason="Said she felt sick")
    late = scheduled_dose(PrescriptionFactory(resident=resident), due - HOUR)
    record_dose(nurse, late, after=2 * HOUR, late_reason="Resident was asleep")
    scheduled_dose(PrescriptionFactory(resident=resident), due - 2 * HOUR, state="missed")
    incident_services.incident_report(
        actor=med_tech,
        resident=resident,
        kind=IncidentKind.FALL,
        occurred_at=NOW - 30 * datetime.timedelta(minutes=1),
        description="Found on the floor by her bed.",
        facts={
            "witnessed": False,
            "location": "room",
            "pain_score": 2,
            "head_strike": False,
            "hospital_transfer": False,
        },
        now=NOW - 20 * datetime.timedelta(minutes=1),
    )


def test_the_live_report_lists_the_shift_from_the_record_with_links(
    facility, unit, resident, med_tech, nurse
):
    _record_the_morning(resident, med_tech, nurse)
    shift = shift_at(NOW, facility.shifts)
    view = selectors.report_live(facility=facility, unit=unit, shift=shift, now=NOW)
    sections = _sections(view)
    assert [line.split(" | ")[1] for line in sections["doses"]] == ["Missed", "Refused", "Late"]
    assert "Said she felt sick" in sections["doses"][1]
    assert "Resident was asleep" in sections["doses"][2]
    assert sections["incidents"] == [
        f"Ada Byron | Fall | Found on the floor by her bed. Reported by {med_tech}"
    ]
    # The fall started monitoring: the resident is under it during the shift.
    assert [line.split(" | ")[1] for line in sections["condition"]] == ["Monitoring"]
    every_url = [line.url for section in view.sections for line in section.lines]
    assert all(url.startswith("/") for url in every_url)
    assert any(url.startswith("/incidents/") for url in every_url)


def test_a_report_covers_the_real_hours_of_the_spring_forward_night(facility, unit, resident):
    # Clocks go forward at 02:00 on Sunday 8 March 2026: the night of the 7th is 7 hours long.
    night = shift_on(datetime.date(2026, 3, 7), "night", facility.shifts)
    assert night.ends_at - night.starts_at == 7 * HOUR
    order = PrescriptionFactory(resident=resident)
    inside = datetime.datetime(2026, 3, 8, 11, 30, tzinfo=datetime.UTC)  # 07:30 EDT - 1 min
    first = scheduled_dose(order, night.starts_at + datetime.timedelta(minutes=1), state="missed")
    last = scheduled_dose(order, night.ends_at - 61 * datetime.timedelta(minutes=1))
    last.state = "missed"
    last.save(update_fields=["state"])
    after = scheduled_dose(order, night.ends_at + datetime.timedelta(minutes=1), state="missed")
    view = selectors.report_live(facility=facility, unit=unit, shift=night, now=inside)
    doses = view.sections[0].lines
    assert [line.at for line in doses] == [first.window_closes_at, last.window_closes_at]
    assert after.window_closes_at >= night.ends_at


def test_a_report_covers_the_real_hours_of_the_fall_back_night(facility, unit, resident):
    # Clocks go back at 02:00 on Sunday 1 November 2026: the night of 31 October is 9 hours.
    night = shift_on(datetime.date(2026, 10, 31), "night", facility.shifts)
    assert night.ends_at - night.starts_at == 9 * HOUR
    order = PrescriptionFactory(resident=resident)
    # 01:30 happens twice; both are inside the night.
    first_130 = datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC)
    second_130 = datetime.datetime(2026, 11, 1, 6, 30, tzinfo=datetime.UTC)
    for due in (first_130, second_130):
        scheduled_dose(order, due - HOUR, state="missed")  # windows close at 01:30 twice
    view = selectors.report_live(
        facility=facility, unit=unit, shift=night, now=night.ends_at + HOUR
    )
    assert [line.at for line in view.sections[0].lines] == [first_130, second_130]
    assert view.until == night.ends_at


def test_submit_freezes_the_report_and_the_database_keeps_it(
    facility, unit, resident, med_tech, nurse
):
    _record_the_morning(resident, med_tech, nurse)
    note(resident, med_tech)
    shift = shift_at(NOW, facility.shifts)
    report = services.shift_report_submit(actor=med_tech, unit=unit, shift=shift, now=NOW)
    assert report.state == ReportState.SUBMITTED
    frozen = selectors.report_for(facility=facility, unit=unit, shift=shift, now=NOW + HOUR)
    assert frozen.frozen
    # What happens after the submission is not in it.
    note(resident, med_tech, "Later note", at=NOW + datetime.timedelta(minutes=5))
    frozen = selectors.report_for(facility=facility, unit=unit, shift=shift, now=NOW + HOUR)
    assert [n.text for n in frozen.notes] == ["Ate little at lunch; offer a snack."]
    assert (
        _sections(frozen)["doses"]
        == _sections(selectors.report_live(facility=facility, unit=unit, shift=shift, now=NOW))[
            "doses"
        ]
    )
    with pytest.raises(DomainError, match="already submitted by"):
        services.shift_report_submit(actor=nurse, unit=unit, shift=shift, now=NOW)
    with pytest.raises((IntegrityError, ProgrammingError)), transaction.atomic():
        ShiftReport.objects.filter(pk=report.pk).update(snapshot={"sections": []})
    with pytest.raises((IntegrityError, ProgrammingError)), transaction.atomic():
        ShiftReport.objects.filter(pk=report.pk).delete()


def test_a_shift_not_begun_cannot_be_submitted(facility, unit, med_tech):
    later = shift_after(shift_at(NOW, facility.shifts), facility.shifts)
    with pytest.raises(DomainError, match="has not begun"):
        services.shift_report_submit(actor=med_tech, unit=unit, shift=later, now=NOW)
    assert not ShiftReport.objects.exists()


def test_a_caregiver_writes_notes_but_does_not_submit(facility, unit, resident):
    caregiver = member(facility, Role.CAREGIVER)
    note(resident, caregiver)
    with pytest.raises(DomainError, match="cannot submit"):
        services.shift_report_submit(
            actor=caregiver, unit=unit, shift=shift_at(NOW, facility.shifts), now=NOW
        )


def test_the_incoming_med_tech_acknowledges_by_signing_and_notes_settle(
    facility, unit, resident, med_tech, evening_tech
):
    first = note(resident, med_tech)
    shift = shift_at(NOW, facility.shifts)
    report = services.shift_report_submit(actor=med_tech, unit=unit, shift=shift, now=NOW)
    late = note(resident, med_tech, "Daughter calls at 6", at=NOW + HOUR)
    done = services.shift_report_acknowledge(
        actor=med_tech,
        report=report,
        incoming_username="eveningtech",
        incoming_secret=PASSWORD,
        now=shift.ends_at,
    )
    assert (done.state, done.acknowledged_by) == (ReportState.ACKNOWLEDGED, evening_tech)
    first.refresh_from_db()
    late.refresh_from_db()
    assert first.acknowledged_in == report
    assert late.acknowledged_in is None
    # The note written after the submission carries to the evening's report.
    evening = shift_after(shift, facility.shifts)
    view = selectors.report_live(
        facility=facility, unit=unit, shift=evening, now=evening.starts_at + HOUR
    )
    assert [(n.text, n.carried) for n in view.notes] == [("Daughter calls at 6", True)]


def test_a_wrong_password_is_refused_counted_and_five_lock_the_workstation(
    facility, unit, resident, med_tech, evening_tech
):
    shift = shift_at(NOW, facility.shifts)
    report = services.shift_report_submit(actor=med_tech, unit=unit, shift=shift, now=NOW)
    for _ in range(5):
        with pytest.raises(DomainError, match="not right") as error:
            services.shift_report_acknowledge(
                actor=med_tech,
                report=report,
                incoming_username="eveningtech",
                incoming_secret="wrong",
                client_address="10.0.0.7",
            )
        error.value.settle()
    assert SignoffFailure.objects.filter(typist=med_tech).count() == 5
    with pytest.raises(DomainError, match="paused"):
        services.shift_report_acknowledge(
            actor=med_tech,
            report=report,
            incoming_username="eveningtech",
            incoming_secret=PASSWORD,
            client_address="10.0.0.7",
        )
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED


def test_the_outgoing_cannot_acknowledge_their_own_report(facility, unit, med_tech, evening_tech):
    shift = shift_at(NOW, facility.shifts)
    report = services.shift_report_submit(actor=med_tech, unit=unit, shift=shift, now=NOW)
    with pytest.raises(DomainError, match="another staff member"):
        services.shift_report_acknowledge(
            actor=med_tech, report=report, incoming_username="daytech", incoming_secret=PASSWORD
        )
    with pytest.raises(DomainError, match="cannot be the one who submitted"):
        services.shift_report_acknowledge(
            actor=evening_tech, report=report, incoming_username="daytech", incoming_secret=PASSWORD
        )


def test_an_unacknowledged_report_alerts_the_nurse_once_and_the_sign_off_resolves_it(
    facility, unit, resident, med_tech, evening_tech
):
    shift = shift_at(NOW, facility.shifts)
    services.shift_reports_generate(now=NOW)
    report = ShiftReport.objects.get()
    assert (report.shift_name, report.state) == ("day", ReportState.OPEN)
    services.shift_report_submit(actor=med_tech, unit=unit, shift=shift, now=NOW)
    deadline = shift.ends_at + 30 * datetime.timedelta(minutes=1)
    assert services.handoff_alerts_raise(now=deadline - datetime.timedelta(seconds=1)) == 0
    assert services.handoff_alerts_raise(now=deadline) == 1
    assert services.handoff_alerts_raise(now=deadline + HOUR) == 0
    alert = Alert.objects.get(kind=AlertKind.HANDOFF_UNACKNOWLEDGED)
    assert "not acknowledged by the incoming shift" in alert.message
    assert alert.subject_url == f"/handoff/reports/{report.pk}/"
    services.shift_report_acknowledge(
        actor=med_tech,
        report=report,
        incoming_username="eveningtech",
        incoming_secret=PASSWORD,
        now=deadline + HOUR,
    )
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, evening_tech)


def test_after_an_outage_each_missed_shift_gets_its_row_and_one_alert(facility, unit, resident):
    services.shift_reports_generate(now=NOW)  # the day shift of the 4th
    later = NOW + 24 * HOUR  # nothing ran for a day
    assert services.handoff_alerts_raise(now=later) == 3  # day, evening and night of the 4th
    rows = list(ShiftReport.objects.order_by("starts_at").values_list("shift_name", flat=True))
    assert rows == ["day", "evening", "night", "day"]  # the 5th's day shift runs
    assert Alert.objects.filter(kind=AlertKind.HANDOFF_UNACKNOWLEDGED).count() == 3
    assert "the report was not submitted" in Alert.objects.first().message
    assert services.handoff_alerts_raise(now=later) == 0


def test_a_unit_with_nobody_present_gets_no_report(facility, unit, resident, nurse):
    with time_machine.travel(NOW - HOUR, tick=False):
        resident_change_status(
            actor=nurse, resident=resident, to_status=ResidentStatus.DISCHARGED, reason="moved"
        )
    assert services.shift_reports_generate(now=NOW) == 0


def test_a_note_is_written_once_per_form_and_amended_not_edited(
    facility, unit, resident, med_tech, nurse
):
    key = uuid.uuid4()
    kwargs = {
        "actor": med_tech,
        "resident": resident,
        "category": "family",
        "text": "Son visits",
        "key": key,
    }
    first = services.handoff_note_add(now=NOW, **kwargs)
    assert services.handoff_note_add(now=NOW, **kwargs) == first
    assert HandoffNote.objects.count() == 1
    with pytest.raises(DomainError, match="Write the note"):
        services.handoff_note_add(
            actor=med_tech, resident=resident, category="care", text="  ", key=uuid.uuid4()
        )
    services.handoff_note_amend(
        actor=nurse,
        note=first,
        kind="correction",
        text="Son visits at 4",
        reason="Wrong time",
        now=NOW + datetime.timedelta(minutes=5),
    )
    shift = shift_at(NOW, facility.shifts)
    [line] = selectors.report_live(facility=facility, unit=unit, shift=shift, now=NOW + HOUR).notes
    assert (line.text, line.original) == ("Son visits at 4", "Son visits")
    services.handoff_note_amend(
        actor=med_tech, note=first, kind="error", reason="Other resident", now=NOW + 2 * HOUR
    )
    # The report as it read before the note was marked entered in error still shows it.
    assert selectors.report_live(facility=facility, unit=unit, shift=shift, now=NOW + HOUR).notes
    assert not selectors.report_live(
        facility=facility, unit=unit, shift=shift, now=NOW + 3 * HOUR
    ).notes
    with pytest.raises((IntegrityError, ProgrammingError)), transaction.atomic():
        HandoffNote.objects.filter(pk=first.pk).update(text="changed")


def test_another_med_tech_cannot_amend_a_note(facility, resident, med_tech, evening_tech):
    written = note(resident, med_tech)
    with pytest.raises(DomainError, match="writer or a nurse"):
        services.handoff_note_amend(
            actor=evening_tech, note=written, kind="error", reason="Not mine"
        )


def test_the_report_ends_with_the_units_appointments_to_the_end_of_tomorrow(
    facility, unit, resident, med_tech
):
    from appointments import services as appointment_services
    from tests.factories import ResidentFactory, UnitFactory

    def book(who, local: datetime.datetime, **fields):
        starts = local.replace(tzinfo=facility.tz)
        return appointment_services.appointment_create(
            actor=med_tech,
            resident=who,
            provider_name="Dr. Patel",
            provider_specialty="Cardiology",
            starts_at=starts,
            expected_return_at=starts + 2 * HOUR,
            purpose="Echocardiogram",
            transport="van",
            now=NOW,
            **fields,
        )

    # The day shift of Wednesday 4 March: tomorrow is Thursday.
    shift = shift_at(NOW, facility.shifts)
    booked = book(resident, datetime.datetime(2026, 3, 5, 9, 30))
    appointment_services.appointment_book_transport(
        actor=med_tech, appointment=booked, version=1, pickup_at=booked.starts_at - HOUR, now=NOW
    )
    book(resident, datetime.datetime(2026, 3, 4, 16, 0), fasting=True)  # this evening
    book(resident, datetime.datetime(2026, 3, 4, 11, 0))  # during the shift: not ahead
    book(resident, datetime.datetime(2026, 3, 6, 9, 0))  # the day after tomorrow
    other = ResidentFactory(facility=facility, unit=UnitFactory(facility=facility, name="East"))
    book(other, datetime.datetime(2026, 3, 5, 10, 0))  # another unit

    view = selectors.report_live(facility=facility, unit=unit, shift=shift, now=NOW)
    (section,) = [s for s in view.sections if s.key == "appointments"]
    assert [f"{line.resident} | {line.mark} | {line.text}" for line in section.lines] == [
        "Ada Byron | Transport not booked | Cardiology, Dr. Patel: Echocardiogram; "
        "Facility van; fasting",
        "Ada Byron |  | Cardiology, Dr. Patel: Echocardiogram; Facility van, pick-up 08:30",
    ]
    assert all(line.url.startswith("/appointments/") for line in section.lines)
    assert section.lines[0].tone == "warn"
