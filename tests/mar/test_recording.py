"""Recording administrations: once only, within the rules, and never bent afterwards."""

import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from accounts.models import CertificationKind, Role
from core.errors import DomainError
from mar import services
from mar.models import (
    Administration,
    Alert,
    AlertKind,
    AlertState,
    DoseState,
    PrnFollowUp,
    ScheduledDose,
)
from meds.models import HoldParameter
from tests.factories import (
    PASSWORD,
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
)
from vitals.models import VitalReading

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 New York: the 08:00 window is open


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return user


@pytest.fixture
def order(resident):
    return PrescriptionFactory(resident=resident)


@pytest.fixture
def dose(order):
    services.doses_generate(now=NOW)
    return ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )


def _record(actor, dose, status="given", key=None, now=NOW, **kwargs):
    return services.administration_record(
        actor=actor,
        dose=dose,
        status=status,
        idempotency_key=key or uuid.uuid4(),
        now=now,
        **kwargs,
    )


def test_given_documents_the_dose_and_resolves_its_alert(aide, dose):
    services.doses_mark_overdue(now=dose.window_closes_at + timedelta(minutes=1))
    assert Alert.objects.get(dose=dose).state == AlertState.OPEN
    result = _record(
        aide, dose, now=dose.window_closes_at + timedelta(minutes=5), late_reason="Fire drill"
    )
    dose.refresh_from_db()
    assert result.created and dose.state == DoseState.DOCUMENTED
    assert result.administration.dose_given == "1 tablet by mouth"
    assert result.administration.late_reason == "Fire drill"
    assert Alert.objects.get(dose=dose).state == AlertState.RESOLVED


def test_same_form_twice_returns_the_first_record(aide, dose):
    key = uuid.uuid4()
    first = _record(aide, dose, key=key)
    second = _record(aide, dose, key=key)
    assert second.created is False
    assert second.administration.pk == first.administration.pk
    assert Administration.objects.count() == 1


def test_second_person_is_told_who_documented_first(aide, dose, facility):
    other = member(facility, Role.NURSE, first_name="Nina", last_name="Patel")
    _record(other, dose)
    with pytest.raises(
        services.AlreadyDocumented, match="Already documented \\(given\\) by Nina Patel at 08:05"
    ):
        _record(aide, dose)
    assert Administration.objects.count() == 1


@pytest.mark.parametrize("same_key", [True, False], ids=["double-click", "two-med-techs"])
def test_concurrent_documentation_makes_exactly_one_record(transactional_db, same_key):
    resident = ResidentFactory()
    facility = resident.facility
    order = PrescriptionFactory(resident=resident)
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )
    actors = [member(facility, Role.NURSE) for _ in range(4)]
    key = uuid.uuid4()
    outcomes, barrier = [], threading.Barrier(len(actors))

    def document(actor):
        try:
            barrier.wait()
            result = _record(actor, dose, key=key if same_key else uuid.uuid4())
            outcomes.append("created" if result.created else "replayed")
        except services.AlreadyDocumented as error:
            outcomes.append(f"refused: {error.message}")
        except Exception as error:  # anything else is a failure the assertions will show
            outcomes.append(f"error: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=document, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Administration.objects.filter(dose=dose).count() == 1
    assert outcomes.count("created") == 1
    others = [o for o in outcomes if o != "created"]
    if same_key:
        assert others == ["replayed"] * 3
    else:
        assert len(others) == 3 and all(o.startswith("refused: Already documented") for o in others)


def test_non_given_needs_a_reason(aide, dose):
    with pytest.raises(DomainError, match="reason the dose was refused"):
        _record(aide, dose, status="refused")
    assert not Administration.objects.exists()
    assert (
        _record(aide, dose, status="refused", reason="Said no").administration.status == "refused"
    )


def test_other_needs_a_facility_code(aide, dose):
    with pytest.raises(DomainError, match="code"):
        _record(aide, dose, status="other", reason="x", other_code="nope")
    result = _record(aide, dose, status="other", reason="Sleeping deeply", other_code="asleep")
    assert result.administration.other_code == "asleep"


def test_too_early_is_refused_with_the_opening_time(aide, dose, facility):
    early = dose.window_opens_at - timedelta(minutes=10)
    with pytest.raises(DomainError, match="window opens at 07:00"):
        _record(aide, dose, now=early)
    nurse = member(facility, Role.NURSE)
    with pytest.raises(DomainError, match="nurse you may override"):
        _record(nurse, dose, now=early)
    result = _record(nurse, dose, now=early, early_reason="Leaving for dialysis")
    assert result.administration.early_reason == "Leaving for dialysis"


def test_late_needs_a_late_reason(aide, dose):
    with pytest.raises(DomainError, match="window closed at 09:00"):
        _record(aide, dose, now=dose.window_closes_at + timedelta(minutes=1))


def test_hold_parameter_turns_given_into_held_with_the_reading(aide, resident, order):
    HoldParameter.objects.create(prescription=order, vital="pulse", comparator="lt", threshold=60)
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    with pytest.raises(DomainError, match="Take and enter Pulse"):
        _record(aide, dose)
    result = _record(aide, dose, vitals={"pulse": "52"})
    administration = result.administration
    assert administration.status == "held"
    assert (
        "Pulse below 60" in administration.hold_triggered and "52" in administration.hold_triggered
    )
    assert "Recorded as held" in result.hold_message
    reading = VitalReading.objects.get(resident=resident)
    assert (reading.kind, reading.value, reading.source) == ("pulse", Decimal("52"), "med_pass")
    assert list(administration.readings.all()) == [reading]


def test_vitals_within_limits_allow_given(aide, order):
    HoldParameter.objects.create(
        prescription=order, vital="systolic_bp", comparator="lt", threshold=100
    )
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    result = _record(aide, dose, vitals={"systolic_bp": "128"})
    assert result.administration.status == "given"
    assert result.administration.vitals == {"systolic_bp": "128"}


def test_bad_vital_is_refused(aide, dose):
    with pytest.raises(DomainError, match="not a number"):
        _record(aide, dose, vitals={"pulse": "sixty"})


def test_expired_certification_blocks_and_alerts_administrators(facility, dose):
    tech = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=tech,
        kind=CertificationKind.MEDICATION_AIDE,
        issued=datetime(2024, 1, 1).date(),
        expires=datetime(2026, 6, 1).date(),
    )
    with pytest.raises(services.CertificationRequired, match="certification is expired or missing"):
        _record(tech, dose)
    assert not Administration.objects.exists()
    alert = Alert.objects.get(kind=AlertKind.CERTIFICATION)
    assert str(tech) in alert.message


def test_controlled_dose_needs_a_witness_who_is_someone_else(aide, resident, facility):
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(controlled_schedule="IV")
    )
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    with pytest.raises(DomainError, match="witness must enter"):
        _record(aide, dose)
    with pytest.raises(DomainError, match="witness must be another"):
        _record(aide, dose, witness_username=aide.username, witness_secret=PASSWORD)
    witness = member(facility, Role.NURSE)
    with pytest.raises(DomainError, match="not right"):
        _record(aide, dose, witness_username=witness.username, witness_secret="wrong")
    witness.set_pin("4321")
    witness.save()
    result = _record(aide, dose, witness_username=witness.username, witness_secret="4321")
    assert result.administration.witness == witness


def test_schedule_ii_is_barred_for_med_techs_when_policy_says(aide, resident, facility):
    facility.medtechs_may_give_schedule_ii = False
    facility.save()
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(controlled_schedule="II")
    )
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    with pytest.raises(DomainError, match="schedule II"):
        _record(aide, dose)


# PRN ------------------------------------------------------------------------------------------


@pytest.fixture
def prn(resident):
    return PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("4"),
        prn_max_per_24h=2,
        indication="Pain",
    )


def _give(actor, order, now, key=None, **kwargs):
    kwargs.setdefault("prn_reason", "Knee pain 6/10")
    return services.prn_give(
        actor=actor, prescription=order, idempotency_key=key or uuid.uuid4(), now=now, **kwargs
    )


def test_prn_interval_and_daily_maximum_are_enforced_with_clear_messages(aide, prn):
    _give(aide, prn, NOW)
    with pytest.raises(
        DomainError,
        match=(
            r"last given at Wed 2026-06-10 08:05 by .*4 h apart\. "
            r"Next allowed at Wed 2026-06-10 12:05"
        ),
    ):
        _give(aide, prn, NOW + timedelta(hours=3))
    _give(aide, prn, NOW + timedelta(hours=4))
    with pytest.raises(
        DomainError,
        match=r"maximum of 2 in 24 hours is reached\. Next allowed at Thu 2026-06-11 08:05",
    ):
        _give(aide, prn, NOW + timedelta(hours=9))
    _give(aide, prn, NOW + timedelta(hours=24))
    assert Administration.objects.filter(prescription=prn).count() == 3


def test_prn_needs_a_reason(aide, prn):
    with pytest.raises(DomainError, match="why the PRN is given"):
        _give(aide, prn, NOW, prn_reason=" ")


def test_prn_needs_nurse_approval_where_policy_says(aide, prn, facility):
    facility.prn_requires_nurse_approval = True
    facility.save()
    with pytest.raises(DomainError, match="approving nurse"):
        _give(aide, prn, NOW)
    other_tech = member(facility, Role.MED_TECH)
    with pytest.raises(DomainError, match="A nurse must approve"):
        _give(aide, prn, NOW, approver_username=other_tech.username, approver_secret=PASSWORD)
    nurse = member(facility, Role.NURSE)
    result = _give(aide, prn, NOW, approver_username=nurse.username, approver_secret=PASSWORD)
    assert result.administration.approved_by == nurse


def test_two_prn_doses_at_once_cannot_exceed_the_maximum(transactional_db):
    resident = ResidentFactory()
    order = PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("0.25"),
        prn_max_per_24h=1,
        indication="Pain",
    )
    nurses = [member(resident.facility, Role.NURSE) for _ in range(3)]
    outcomes, barrier = [], threading.Barrier(len(nurses))

    def give(nurse):
        try:
            barrier.wait()
            _give(nurse, order, NOW)
            outcomes.append("given")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(n,)) for n in nurses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Administration.objects.filter(prescription=order).count() == 1
    assert outcomes.count("given") == 1
    assert all("Not yet" in o for o in outcomes if o != "given")


def test_followup_is_due_then_alerted_then_resolved(aide, prn, facility):
    administration = _give(aide, prn, NOW).administration
    assert services.alerts_raise_followups(now=NOW + timedelta(minutes=59))["prn_followup"] == 0
    assert services.alerts_raise_followups(now=NOW + timedelta(minutes=61))["prn_followup"] == 1
    assert services.alerts_raise_followups(now=NOW + timedelta(minutes=70))["prn_followup"] == 0
    services.prn_followup_record(
        actor=aide, administration=administration, result="partly", note="3/10"
    )
    assert PrnFollowUp.objects.get().result == "partly"
    assert Alert.objects.get(kind=AlertKind.PRN_FOLLOWUP).state == AlertState.RESOLVED


def test_three_refusals_in_seven_days_raise_one_alert(aide, order):
    services.doses_generate(now=NOW - timedelta(days=3))
    services.doses_generate(now=NOW)
    doses = list(ScheduledDose.objects.filter(prescription=order).order_by("due_at")[:4])
    for dose in doses[:3]:
        moment = dose.due_at + timedelta(minutes=5)
        _record(aide, dose, status="refused", reason="Spat it out", now=moment)
    assert services.alerts_raise_followups(now=NOW)["refusals"] == 1
    assert services.alerts_raise_followups(now=NOW)["refusals"] == 0
    alert = Alert.objects.get(kind=AlertKind.REFUSALS)
    assert "notify the prescriber" in alert.message


# Records that cannot be bent ----------------------------------------------------------------


def test_database_rejects_update_and_delete_of_a_record(aide, dose):
    administration = _record(aide, dose).administration
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mar_administration SET status = 'refused' WHERE id = %s", [administration.pk]
        )
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mar_administration SET administered_at = now() WHERE id = %s",
            [administration.pk],
        )
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM mar_administration WHERE id = %s", [administration.pk])
    administration.refresh_from_db()
    assert administration.status == "given"


def test_entered_in_error_keeps_the_original_and_frees_the_dose(aide, dose, facility):
    original = _record(aide, dose).administration
    nurse = member(facility, Role.NURSE)
    with pytest.raises(DomainError, match="Only a nurse"):
        services.amendment_create(
            actor=aide, administration=original, kind="entered_in_error", reason="x", changes={}
        )
    amendment = services.amendment_create(
        actor=nurse,
        administration=original,
        kind="entered_in_error",
        reason="Wrong resident",
        changes={},
    )
    original.refresh_from_db()
    dose.refresh_from_db()
    assert original.voided and original.status == "given"
    assert amendment.administration == original
    assert dose.state == DoseState.DUE
    again = _record(aide, dose, status="refused", reason="Asleep")
    assert again.created
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mar_administration SET voided = false WHERE id = %s", [original.pk])


def test_correction_records_what_changes(aide, dose, facility):
    original = _record(aide, dose).administration
    nurse = member(facility, Role.NURSE)
    with pytest.raises(DomainError, match="what the correction changes"):
        services.amendment_create(
            actor=nurse, administration=original, kind="correction", reason="x", changes={}
        )
    amendment = services.amendment_create(
        actor=nurse,
        administration=original,
        kind="correction",
        reason="Was refused",
        changes={"status": "refused"},
    )
    assert amendment.changes == {"status": "refused"}
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM mar_amendment WHERE id = %s", [amendment.pk])


def test_loa_dose_cannot_be_documented(aide, dose, resident, facility):
    import time_machine

    from residents import services as resident_services

    with time_machine.travel(dose.window_opens_at, tick=False):
        resident_services.resident_change_status(
            actor=member(facility, Role.ADMIN), resident=resident, to_status="loa", reason="Trip"
        )
    with pytest.raises(DomainError, match="cancelled \\(loa\\)"):
        _record(aide, dose)


def test_scheduled_time_is_never_moved_by_documenting(aide, dose):
    _record(aide, dose)
    dose.refresh_from_db()
    assert dose.due_at.astimezone(UTC).time() == time(12, 0)


def test_a_form_key_replayed_against_another_dose_is_refused(aide, dose, order):
    key = uuid.uuid4()
    _record(aide, dose, key=key)
    evening = ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 11, 0, 0, tzinfo=UTC)
    )
    with pytest.raises(DomainError, match="already used to document another dose"):
        _record(aide, evening, key=key, now=evening.due_at)
    evening.refresh_from_db()
    assert evening.state == DoseState.DUE
    assert Administration.objects.count() == 1


def test_a_scheduled_dose_key_replayed_as_a_prn_is_refused(aide, dose, resident):
    key = uuid.uuid4()
    _record(aide, dose, key=key)
    prn = PrescriptionFactory(
        resident=resident, is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    with pytest.raises(DomainError, match="already used to document another dose"):
        services.prn_give(
            actor=aide, prescription=prn, idempotency_key=key, prn_reason="Pain", now=NOW
        )
    assert Administration.objects.count() == 1


@pytest.mark.parametrize("status", ["loa", "hospital"])
def test_statuses_of_an_absent_resident_are_refused_on_a_dose(aide, dose, status):
    with pytest.raises(DomainError, match="not recorded on a dose") as refused:
        _record(aide, dose, status=status, reason="Out with family")
    assert refused.value.field == "status"
    dose.refresh_from_db()
    assert dose.state == DoseState.DUE and not Administration.objects.exists()


def test_the_database_refuses_voiding_without_an_entered_in_error_amendment(aide, dose, facility):
    from django.db import IntegrityError

    original = _record(aide, dose).administration
    nurse = member(facility, Role.NURSE)
    # A correction is an amendment too, but not one that voids.
    services.amendment_create(
        actor=nurse,
        administration=original,
        kind="correction",
        reason="Time",
        changes={"notes": "x"},
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mar_administration SET voided = true WHERE id = %s", [original.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.filter(pk=original.pk).update(voided=True)
    original.refresh_from_db()
    assert not original.voided
    services.amendment_create(
        actor=nurse,
        administration=original,
        kind="entered_in_error",
        reason="Wrong resident",
        changes={},
    )
    original.refresh_from_db()
    assert original.voided


def test_a_hold_saved_while_a_dose_is_being_recorded_waits_instead_of_deadlocking(
    transactional_db, monkeypatch
):
    """The med tech's "Given" has locked the dose and is about to check the order's spacing
    when a nurse holds the order. The hold waits for the record (both take the resident's row
    first); the dose stays given, the order is held and its later doses are cancelled."""
    import time_machine
    from django.utils import timezone

    from mar.services import recording
    from meds import services as order_services
    from tests.concurrency import wait_until_a_session_waits_for_a_lock

    resident = ResidentFactory()
    order = PrescriptionFactory(resident=resident)
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )
    nurse = member(resident.facility, Role.NURSE)
    dose_locked, go = threading.Event(), threading.Event()
    check_spacing = recording._check_spacing

    def paused_check_spacing(**kwargs):
        dose_locked.set()  # the dose row is locked; the order's is next
        assert go.wait(30)
        return check_spacing(**kwargs)

    monkeypatch.setattr(recording, "_check_spacing", paused_check_spacing)
    errors: list[BaseException] = []

    def give():
        try:
            _record(nurse, dose, now=timezone.now())
        except BaseException as error:  # asserted below
            errors.append(error)
        finally:
            dose_locked.set()
            connection.close()

    def hold():
        try:
            order_services.prescription_hold(actor=nurse, prescription=order, reason="NPO")
        except BaseException as error:  # asserted below
            errors.append(error)
        finally:
            connection.close()

    # Five minutes before the 08:00 dose (its window is open): the hold cancels the doses due
    # from its moment on, the one being recorded among them.
    early = datetime(2026, 6, 10, 11, 55, tzinfo=UTC)
    with time_machine.travel(early, tick=True):
        giving = threading.Thread(target=give)
        giving.start()
        assert dose_locked.wait(30)
        holding = threading.Thread(target=hold)
        holding.start()
        try:
            wait_until_a_session_waits_for_a_lock()
        finally:
            go.set()
            giving.join()
            holding.join()
    assert errors == []
    assert Administration.objects.get(dose=dose).status == "given"
    order.refresh_from_db()
    assert order.status == "on_hold"
    later = ScheduledDose.objects.filter(prescription=order, due_at__gt=dose.due_at)
    assert later.exists() and not later.exclude(state=DoseState.CANCELLED).exists()
