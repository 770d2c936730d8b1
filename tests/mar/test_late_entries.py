"""The downtime MAR typed in afterwards: one screen per unit, every line saved or none."""

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Role
from inventory import services as stock_services
from inventory.models import StockItem
from mar.models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertState,
    DoseState,
    Entry,
    dose_subject,
)
from mar.services.late_entry import (
    LateEntriesRefused,
    LateEntry,
    PaperTime,
    late_entries_record,
)
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
    record_dose,
    scheduled_dose,
)

NOW = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York
START = NOW - timedelta(hours=8)  # 04:00 New York


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH, first_name="Mia", last_name="Tech")
    CertificationFactory(user=user)
    return user


@pytest.fixture
def witness(facility):
    return member(facility, Role.NURSE, first_name="Wren", last_name="Witness")


@pytest.fixture
def order(resident):
    return PrescriptionFactory(resident=resident, medication=MedicationFactory(name="Lisinopril"))


@pytest.fixture
def dose(order):
    """Due 08:00 New York (window 07:00-09:00), missed: nobody could document it."""
    return scheduled_dose(order, datetime(2026, 6, 10, 8, 0), state=DoseState.MISSED)


@pytest.fixture
def prn_order(resident):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Acetaminophen"),
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("4"),
        prn_max_per_24h=3,
        indication="Pain",
    )


def _line(dose, clock, by, status="given", reason="", witness=None, row=None, zone=""):
    return LateEntry(
        row=row or f"dose-{dose.pk}",
        key=uuid.uuid4(),
        dose_id=dose.pk,
        prescription_id=dose.prescription_id,
        status=status,
        time=PaperTime(clock, zone),
        by_id=by.pk,
        reason=reason,
        witness_id=witness.pk if witness else None,
    )


def _prn(order, clock, by, n=1, reason="Headache"):
    return LateEntry(
        row=f"prn-{order.pk}-{n}",
        key=uuid.uuid4(),
        prescription_id=order.pk,
        status=AdminStatus.GIVEN,
        time=PaperTime(clock),
        by_id=by.pk,
        reason=reason,
    )


def _save(actor, unit, entries, *, start=START, hours=8, now=NOW):
    return late_entries_record(
        actor=actor, unit=unit, entries=entries, start=start, hours=hours, now=now
    )


def _refused(actor, unit, entries, **kwargs) -> dict[str, str]:
    before = Administration.objects.count()
    with pytest.raises(LateEntriesRefused) as refused:
        _save(actor, unit, entries, **kwargs)
    assert Administration.objects.count() == before
    return dict(refused.value.errors)


# --- the service ------------------------------------------------------------------------------


def test_a_paper_entry_becomes_a_record_typed_in_and_documents_the_dose(
    facility, unit, nurse_user, aide, dose
):
    alert = Alert.objects.create(
        facility=facility,
        resident=dose.resident,
        dose=dose,
        kind=AlertKind.MISSED_DOSE,
        subject=dose_subject(dose.pk),
        message="Missed",
        created_at=NOW - timedelta(hours=2),
    )

    result = _save(nurse_user, unit, [_line(dose, time(8, 10), aide)])

    assert (result.saved, result.already) == (1, 0)
    record = Administration.objects.get(dose=dose)
    assert record.entry == Entry.PAPER
    assert record.status == AdminStatus.GIVEN
    assert record.administered_at == datetime(2026, 6, 10, 12, 10, tzinfo=UTC)
    assert record.recorded_at == NOW
    assert record.recorded_by == aide
    assert str(nurse_user) in record.notes and "downtime MAR" in record.notes
    assert record.late_reason == record.early_reason == ""
    dose.refresh_from_db()
    assert dose.state == DoseState.DOCUMENTED
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_a_given_dose_takes_its_stock(facility, unit, nurse_user, aide, resident, dose):
    stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=dose.prescription.medication,
        quantity="10",
    )

    _save(nurse_user, unit, [_line(dose, time(8, 0), aide)])

    item = StockItem.objects.get(resident=resident, medication=dose.prescription.medication)
    assert item.on_hand == 9
    assert item.movements.filter(kind="administered", by=aide).count() == 1


def test_no_stock_on_hand_refuses_beside_the_line_and_saves_nothing(
    facility, unit, nurse_user, aide, resident, dose
):
    stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=dose.prescription.medication,
        quantity="0.5",
    )

    errors = _refused(nurse_user, unit, [_line(dose, time(8, 0), aide)])

    assert "No stock on hand" in errors[f"dose-{dose.pk}-status"]
    dose.refresh_from_db()
    assert dose.state == DoseState.MISSED


def test_not_given_needs_its_reason_and_keeps_it(unit, nurse_user, aide, dose):
    errors = _refused(nurse_user, unit, [_line(dose, time(8, 5), aide, status="refused")])
    assert errors == {f"dose-{dose.pk}-reason": "Write why the dose was refused."}

    _save(nurse_user, unit, [_line(dose, time(8, 5), aide, status="refused", reason="Spat out")])

    record = Administration.objects.get(dose=dose)
    assert (record.status, record.reason, record.entry) == ("refused", "Spat out", "paper")


def test_given_after_the_window_needs_a_late_reason(unit, nurse_user, aide, dose):
    errors = _refused(nurse_user, unit, [_line(dose, time(9, 30), aide)])
    assert "window closed at 09:00" in errors[f"dose-{dose.pk}-reason"]

    _save(nurse_user, unit, [_line(dose, time(9, 30), aide, reason="Resident asleep")])

    assert Administration.objects.get(dose=dose).late_reason == "Resident asleep"


def test_given_before_the_window_needs_an_early_reason(unit, nurse_user, aide, dose):
    errors = _refused(nurse_user, unit, [_line(dose, time(6, 30), aide)])
    assert "window opened at 07:00" in errors[f"dose-{dose.pk}-reason"]

    _save(nurse_user, unit, [_line(dose, time(6, 30), aide, reason="Left early for dialysis")])

    assert Administration.objects.get(dose=dose).early_reason == "Left early for dialysis"


def test_a_time_in_the_future_is_refused(unit, nurse_user, aide, resident):
    later = scheduled_dose(PrescriptionFactory(resident=resident), datetime(2026, 6, 10, 11, 45))

    errors = _refused(nurse_user, unit, [_line(later, time(12, 30), aide)])

    assert "in the future" in errors[f"dose-{later.pk}-time"]


def test_a_dose_documented_meanwhile_names_who_and_when(unit, nurse_user, aide, witness, dose):
    record_dose(witness, dose, after=timedelta(minutes=10), reason="")

    errors = _refused(nurse_user, unit, [_line(dose, time(8, 0), aide)])

    message = errors[f"dose-{dose.pk}-status"]
    assert "Already documented (given) by Wren Witness at 08:10" in message


def test_initials_of_someone_not_an_active_passer_are_refused(
    facility, unit, nurse_user, admin_user, aide, dose
):
    Membership.objects.filter(user=aide).update(is_active=False)

    for who in (admin_user, aide):
        errors = _refused(nurse_user, unit, [_line(dose, time(8, 0), who)])
        assert errors == {
            f"dose-{dose.pk}-by": "Choose an active med tech or nurse of this facility."
        }


def test_a_controlled_drug_given_needs_another_person_as_witness(
    facility, unit, nurse_user, aide, witness, resident
):
    controlled = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Oxycodone", controlled_schedule="II")
    )
    dose = scheduled_dose(controlled, datetime(2026, 6, 10, 8, 0), state=DoseState.MISSED)
    assert facility.controlled_requires_witness

    missing = _refused(nurse_user, unit, [_line(dose, time(8, 0), aide)])
    same = _refused(nurse_user, unit, [_line(dose, time(8, 0), aide, witness=aide)])
    _save(nurse_user, unit, [_line(dose, time(8, 0), aide, witness=witness)])

    assert "choose the witness" in missing[f"dose-{dose.pk}-witness"]
    assert same == {f"dose-{dose.pk}-witness": "The witness must be another person."}
    assert Administration.objects.get(dose=dose).witness == witness


def test_every_line_or_none(unit, nurse_user, aide, dose, resident):
    other = scheduled_dose(PrescriptionFactory(resident=resident), datetime(2026, 6, 10, 9, 0))

    errors = _refused(
        nurse_user,
        unit,
        [_line(dose, time(8, 0), aide), _line(other, time(9, 0), aide, status="held")],
    )

    assert list(errors) == [f"dose-{other.pk}-reason"]
    dose.refresh_from_db()
    assert dose.state == DoseState.MISSED
    assert not Administration.objects.exists()


def test_the_same_lines_sent_twice_save_once(unit, nurse_user, aide, dose):
    lines = [_line(dose, time(8, 0), aide)]

    first = _save(nurse_user, unit, lines)
    again = _save(nurse_user, unit, lines)

    assert (first.saved, again.saved, again.already) == (1, 0, 1)
    assert Administration.objects.filter(dose=dose).count() == 1


def test_another_units_dose_is_refused(facility, nurse_user, aide, dose):
    elsewhere = UnitFactory(facility=facility, name="South Wing")

    errors = _refused(nurse_user, elsewhere, [_line(dose, time(8, 0), aide)])

    assert errors == {f"dose-{dose.pk}-status": "This dose is not one of this unit's."}


def test_an_administrator_does_not_type_in_entries(unit, admin_user, aide, dose):
    with pytest.raises(Exception, match="Only med techs and nurses"):
        _save(admin_user, unit, [_line(dose, time(8, 0), aide)])
    assert not Administration.objects.exists()


def test_prn_given_on_paper_is_saved_within_the_period(unit, nurse_user, aide, prn_order):
    _save(nurse_user, unit, [_prn(prn_order, time(6, 15), aide)])

    record = Administration.objects.get(prescription=prn_order)
    assert (record.dose_id, record.entry, record.prn_reason) == (None, "paper", "Headache")
    assert record.administered_at == datetime(2026, 6, 10, 10, 15, tzinfo=UTC)


def test_prn_outside_the_period_is_refused(unit, nurse_user, aide, prn_order):
    errors = _refused(nurse_user, unit, [_prn(prn_order, time(3, 0), aide)])

    assert "is not in the period" in errors[f"prn-{prn_order.pk}-1-time"]


def test_prn_limits_count_the_other_lines_typed_in(unit, nurse_user, aide, prn_order):
    errors = _refused(
        nurse_user,
        unit,
        [_prn(prn_order, time(6, 0), aide, 1), _prn(prn_order, time(8, 0), aide, 2)],
    )

    assert "less than 4 h apart" in errors[f"prn-{prn_order.pk}-2-time"]
    assert not Administration.objects.exists()


def test_prn_typed_in_before_a_recorded_dose_keeps_the_interval(unit, nurse_user, aide, prn_order):
    from mar import services

    services.prn_give(
        actor=aide,
        prescription=prn_order,
        idempotency_key=uuid.uuid4(),
        prn_reason="Pain",
        now=datetime(2026, 6, 10, 14, 0, tzinfo=UTC),  # 10:00 New York
    )

    errors = _refused(nurse_user, unit, [_prn(prn_order, time(8, 0), aide)])

    assert "less than 4 h apart" in errors[f"prn-{prn_order.pk}-1-time"]


def test_spring_forward_a_time_the_clocks_skipped_is_refused(
    facility, unit, nurse_user, aide, order
):
    # 2026-03-08 New York: 02:00 EST -> 03:00 EDT. The 02:30 dose is given at 03:30 EDT.
    dose = scheduled_dose(order, datetime(2026, 3, 8, 7, 30, tzinfo=UTC), state="missed")
    now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)

    errors = _refused(nurse_user, unit, [_line(dose, time(2, 30), aide)], start=start, now=now)
    _save(nurse_user, unit, [_line(dose, time(3, 40), aide)], start=start, now=now)

    assert "never happened" in errors[f"dose-{dose.pk}-time"]
    record = Administration.objects.get(dose=dose)
    assert record.administered_at == datetime(2026, 3, 8, 7, 40, tzinfo=UTC)


def test_fall_back_the_repeated_hour_is_named(facility, unit, nurse_user, aide, order):
    # 2026-11-01 New York: 02:00 EDT -> 01:00 EST. The dose is due 01:00 EDT (05:00 UTC),
    # its window 00:00-02:00 EDT (04:00-06:00 UTC).
    dose = scheduled_dose(order, datetime(2026, 11, 1, 5, 0, tzinfo=UTC), state="missed")
    now = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)

    errors = _refused(nurse_user, unit, [_line(dose, time(1, 30), aide)], start=start, now=now)
    late = _refused(
        nurse_user, unit, [_line(dose, time(1, 30), aide, zone="EST")], start=start, now=now
    )
    _save(nurse_user, unit, [_line(dose, time(1, 30), aide, zone="edt")], start=start, now=now)

    assert "01:30 EDT and 01:30 EST" in errors[f"dose-{dose.pk}-time"]
    assert "window closed" in late[f"dose-{dose.pk}-reason"]
    record = Administration.objects.get(dose=dose)
    assert record.administered_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# --- the page ---------------------------------------------------------------------------------


def _url(unit, **query):
    url = reverse("late_entries", args=[unit.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_page_lists_only_the_units_undocumented_doses_of_the_period(
    facility, unit, nurse_client, aide, dose, resident, prn_order
):
    south = UnitFactory(facility=facility, name="South Wing")
    elsewhere = ResidentFactory(facility=facility, unit=south, last_name="Elsewhere")
    other_unit_dose = scheduled_dose(
        PrescriptionFactory(resident=elsewhere), datetime(2026, 6, 10, 8, 0), state="missed"
    )
    documented = scheduled_dose(PrescriptionFactory(resident=resident), datetime(2026, 6, 10, 9, 0))
    record_dose(aide, documented)
    cancelled = scheduled_dose(
        PrescriptionFactory(resident=resident),
        datetime(2026, 6, 10, 9, 0),
        state="cancelled",
        cancel_reason="hold",
    )
    before_period = scheduled_dose(
        PrescriptionFactory(resident=resident), datetime(2026, 6, 10, 3, 0), state="missed"
    )

    response = nurse_client.get(_url(unit))

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="dose-{dose.pk}"' in body
    assert "Lisinopril" in body and f'id="prn-{prn_order.pk}-1"' in body
    for hidden in (other_unit_dose, documented, cancelled, before_period):
        assert f'id="dose-{hidden.pk}"' not in body
    # The period moved back: the 03:00 dose is listed.
    earlier = nurse_client.get(_url(unit, start="2026-06-10T02:00", hours=4)).content.decode()
    assert f'id="dose-{before_period.pk}"' in earlier and f'id="dose-{dose.pk}"' not in earlier


def _post(client, unit, data):
    return client.post(_url(unit), {"start": "2026-06-10T04:00", "hours": "8", **data})


def test_one_submit_saves_the_lines_typed_in(unit, medtech_client, aide, dose, prn_order):
    response = _post(
        medtech_client,
        unit,
        {
            f"dose-{dose.pk}-status": "given",
            f"dose-{dose.pk}-time": "0805",
            f"dose-{dose.pk}-by": aide.pk,
            f"dose-{dose.pk}-key": uuid.uuid4(),
            f"prn-{prn_order.pk}-1-time": "10:00",
            f"prn-{prn_order.pk}-1-by": aide.pk,
            f"prn-{prn_order.pk}-1-reason": "Knee pain, better after 1 h",
            f"prn-{prn_order.pk}-1-key": uuid.uuid4(),
            f"prn-{prn_order.pk}-2-key": uuid.uuid4(),  # a blank line: nothing to save
        },
    )

    assert response.status_code == 302
    page = medtech_client.get(response["Location"]).content.decode()
    assert "Saved 2 entries from the downtime MAR." in page
    assert f'id="dose-{dose.pk}"' not in page
    assert Administration.objects.filter(entry=Entry.PAPER).count() == 2
    # The resident's med pass lists them with the other records, marked as typed in.
    resident_page = medtech_client.get(reverse("resident_pass", args=[dose.resident_id]))
    assert "typed in from the downtime MAR" in resident_page.content.decode()


def test_a_bad_line_shows_its_message_beside_it_keeps_what_was_typed_and_saves_nothing(
    unit, nurse_client, aide, dose, resident
):
    other = scheduled_dose(PrescriptionFactory(resident=resident), datetime(2026, 6, 10, 9, 0))

    response = _post(
        nurse_client,
        unit,
        {
            f"dose-{dose.pk}-status": "given",
            f"dose-{dose.pk}-time": "08:00",
            f"dose-{dose.pk}-by": aide.pk,
            f"dose-{dose.pk}-key": uuid.uuid4(),
            f"dose-{other.pk}-status": "held",
            f"dose-{other.pk}-time": "09:05",
            f"dose-{other.pk}-by": aide.pk,
            f"dose-{other.pk}-key": uuid.uuid4(),
        },
    )

    assert response.status_code == 400
    body = response.content.decode()
    row = body[body.index(f'id="dose-{other.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Write why the dose was held." in row
    assert 'value="09:05"' in row
    assert "Write why" not in body[body.index(f'id="dose-{dose.pk}"') :][:2000].split("</tr>")[0]
    assert not Administration.objects.exists()


def test_a_dose_documented_meanwhile_is_shown_with_who_did_it(
    unit, nurse_client, aide, witness, dose
):
    key = uuid.uuid4()
    record_dose(witness, dose, after=timedelta(minutes=3))

    response = _post(
        nurse_client,
        unit,
        {
            f"dose-{dose.pk}-status": "given",
            f"dose-{dose.pk}-time": "08:00",
            f"dose-{dose.pk}-by": aide.pk,
            f"dose-{dose.pk}-key": key,
        },
    )

    assert response.status_code == 400
    assert "Already documented (given) by Wren Witness at 08:03" in response.content.decode()
    assert Administration.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"start": "nonsense"},
        {"hours": "13"},
        {"hours": "NaN"},
        {"start": "9999-12-31T23:59"},
        {"{dose}-time": "25:00"},
        {"{dose}-by": "999999999"},
        {"{dose}-status": "loa"},
        {},  # nothing typed
    ],
)
def test_bad_input_is_a_400_never_a_server_error(unit, nurse_client, aide, dose, data):
    data = {k.format(dose=f"dose-{dose.pk}"): v for k, v in data.items()}

    response = nurse_client.post(_url(unit), data)

    assert response.status_code == 400
    assert not Administration.objects.exists()


def test_who_may_open_the_page(
    facility, other_facility, unit, admin_client, caregiver_client, medtech_client, login_client
):
    outsider = login_client(member(other_facility, Role.NURSE))

    assert medtech_client.get(_url(unit)).status_code == 200
    assert admin_client.get(_url(unit)).status_code == 403
    assert admin_client.post(_url(unit), {}).status_code == 403
    assert caregiver_client.get(_url(unit)).status_code == 403
    assert outsider.get(_url(unit)).status_code == 404


def test_the_board_links_the_page_per_unit(unit, medtech_client, order):
    scheduled_dose(order, datetime(2026, 6, 10, 12, 0))  # due now: the unit is on the board
    body = medtech_client.get(reverse("board")).content.decode()

    assert reverse("late_entries", args=[unit.pk]) in body


def _grow(facility, unit, residents: int, recorder):
    for i in range(residents):
        resident = ResidentFactory(facility=facility, unit=unit, room=f"{300 + i}")
        for hour in (5, 8, 11):
            scheduled_dose(
                PrescriptionFactory(resident=resident),
                datetime(2026, 6, 10, hour, 0),
                state="missed",
            )
        PrescriptionFactory(
            resident=resident,
            medication=MedicationFactory(controlled_schedule="IV"),
            is_prn=True,
            times=[],
            prn_min_hours=Decimal("4"),
        )
        member(facility, Role.MED_TECH)


def test_the_page_costs_the_same_queries_at_any_size(facility, unit, nurse_client, nurse_user):
    def count() -> int:
        nurse_client.get(_url(unit))
        with CaptureQueriesContext(connection) as captured:
            response = nurse_client.get(_url(unit))
        assert response.status_code == 200
        return len(captured)

    _grow(facility, unit, 2, nurse_user)
    small = count()
    _grow(facility, unit, 8, nurse_user)

    assert count() == small
