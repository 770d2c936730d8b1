"""The error-rate report finds its errors in SQL and judges them by `mar.rules`: the SQL
conditions must find every record the rules would count (the window, a hold parameter's
comparison), and the whole report must read as the rules applied to every record of the month
(the reference below: the report as it was written before, one model instance per record)."""

import datetime
import random
import re
import uuid
from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.time import local_time
from mar import rules
from mar.models import Administration, AdminStatus, Amendment, DoseState, ScheduledDose
from meds.models import HoldParameter, Prescription
from reports import error_rate
from reports.common import local_bounds
from tests.factories import MedicationFactory, PrescriptionFactory, ResidentFactory

NY = ZoneInfo("America/New_York")
READINGS = [
    "52",
    "60",
    "60.0",
    " 59.9 ",
    "61",
    "100",
    "99.95",
    "+58",
    "-1",
    ".5",
    "59.",
    "abc",
    "",
    None,
    58,
    60.0,
    "1e2",
    "5_9",
    "NaN",
    " ",
]


def _local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=NY).astimezone(UTC)


def _record(order, nurse, at, *, dose=None, status="given", vitals=None, voided=False):
    return Administration.objects.create(
        facility=order.facility,
        resident=order.resident,
        prescription=order,
        dose=dose,
        status=status,
        administered_at=at,
        recorded_at=at,
        recorded_by=nurse,
        vitals=vitals or {},
        hold_triggered="Hold if pulse below 60 bpm" if status == "held" else "",
        prn_reason="Pain" if dose is None else "",
        voided=voided,
        idempotency_key=uuid.uuid4(),
    )


def _hold_order(resident, name, vital, comparator, threshold):
    order = PrescriptionFactory(resident=resident, medication=MedicationFactory(name=name))
    HoldParameter.objects.create(
        prescription=order, vital=vital, comparator=comparator, threshold=Decimal(threshold)
    )
    return order


@pytest.mark.parametrize("comparator", ["lt", "le", "gt", "ge"])
def test_the_hold_condition_finds_every_reading_the_rule_triggers_on(
    facility, resident, nurse_user, comparator
):
    order = _hold_order(resident, f"Metoprolol-{comparator}", "pulse", comparator, "60")
    records = {}
    for i, reading in enumerate(READINGS):
        at = _local(2026, 9, 1, 8) + timedelta(minutes=i)
        records[i] = _record(order, nurse_user, at, vitals={"pulse": reading})
    other = _record(order, nurse_user, _local(2026, 9, 2, 8), vitals={"systolic_bp": "52"})

    found = set(
        Administration.objects.filter(error_rate.hold_candidate_sql()).values_list("pk", flat=True)
    )

    rule = HoldParameter.objects.get(prescription=order)
    triggered = {
        r.pk for r in records.values() if rules.triggered_hold([rule], r.vitals) is not None
    }
    assert triggered <= found, "the SQL misses a reading the rule triggers on"
    plain = {
        r.pk
        for r in records.values()
        if isinstance(r.vitals["pulse"], int | float)
        or re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", r.vitals["pulse"] or "")
    }
    assert found & plain == triggered & plain, "plain numbers compare exactly as the rule does"
    assert other.pk not in found and records[READINGS.index(None)].pk not in found
    assert triggered, "the data has readings that trigger"


def test_the_window_condition_is_the_rule(facility, resident, nurse_user):
    order = PrescriptionFactory(resident=resident, medication=MedicationFactory(name="Lisinopril"))
    tick = timedelta(microseconds=1)
    offsets = [timedelta(minutes=m) for m in (-600, -61, -59, 0, 59, 61, 600)]
    offsets += [timedelta(minutes=-60) + d for d in (-tick, 0 * tick, tick)]
    offsets += [timedelta(minutes=60) + d for d in (-tick, 0 * tick, tick)]
    for day, offset in enumerate(offsets, start=1):
        due = _local(2026, 9, day, 8)
        dose = ScheduledDose.objects.create(
            facility=facility,
            prescription=order,
            resident=resident,
            due_at=due,
            window_opens_at=due - timedelta(minutes=60),
            window_closes_at=due + timedelta(minutes=60),
            state=DoseState.DOCUMENTED,
        )
        _record(order, nurse_user, due + offset, dose=dose)

    found = set(
        Administration.objects.filter(error_rate.outside_window_q()).values_list("pk", flat=True)
    )

    expected = {
        r.pk
        for r in Administration.objects.select_related("dose")
        if rules.outside_window(r.administered_at, r.dose.window_opens_at, r.dose.window_closes_at)
    }
    assert found == expected and len(expected) == 6


# The whole report against the rules applied to every record ------------------------------------


def _reference(facility, year, month, unit_id=None, resident_id=None):
    """The report as first written: every record of the month read whole and judged."""
    from django.db.models import Max, Prefetch, Q

    from reports.common import resident_filter

    tz = facility.tz
    first = datetime.date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    since, until = local_bounds(facility, first, last)
    who = resident_filter(unit_id, resident_id)
    longest = Prescription.objects.filter(facility=facility, is_prn=True).aggregate(
        hours=Max("prn_min_hours")
    )["hours"] or Decimal(0)
    lookback = max(timedelta(hours=24), timedelta(hours=float(longest)))
    doses = list(
        ScheduledDose.objects.filter(
            who,
            facility=facility,
            due_at__gte=since,
            due_at__lt=until,
            state__in=[DoseState.DOCUMENTED, DoseState.MISSED],
        ).select_related("resident__unit", "prescription__medication")
    )
    records = list(
        Administration.objects.filter(who, facility=facility, voided=False)
        .filter(
            Q(dose__due_at__gte=since, dose__due_at__lt=until)
            | Q(dose__isnull=True, administered_at__gte=since - lookback, administered_at__lt=until)
        )
        .select_related("resident__unit", "prescription__medication", "dose", "recorded_by")
        .prefetch_related(
            Prefetch("amendments", queryset=Amendment.objects.order_by("amended_at", "pk")),
            "prescription__hold_parameters",
        )
        .order_by("administered_at", "pk")
    )
    errors = [
        (
            error_rate.OMISSION,
            d.resident_id,
            str(d.prescription.medication),
            d.due_at,
            None,
            None,
            "Nothing recorded",
        )
        for d in doses
        if d.state == DoseState.MISSED
    ]
    prn_given = 0
    series = defaultdict(list)
    for record in records:
        effective = rules.effective_record(
            status=record.status,
            at=record.administered_at,
            amendments=[(a.kind, a.changes) for a in record.amendments.all()],
            tz=tz,
            statuses=AdminStatus.values,
        )
        status, at, changed = effective.status, effective.at, effective.changed_to_given
        due = record.dose.due_at if record.dose_id else None

        def error(kind, detail, record=record, at=at, due=due):
            errors.append(
                (
                    kind,
                    record.resident_id,
                    str(record.prescription.medication),
                    due,
                    at,
                    record.recorded_by_id,
                    detail,
                )
            )

        if status != AdminStatus.GIVEN:
            continue
        if record.dose_id is None:
            previous = series[record.prescription_id]
            order = record.prescription
            if at >= since:
                prn_given += 1
                problem = error_rate._prn_limit_problem(
                    order.prn_min_hours, order.prn_max_per_24h, previous, at, tz
                )
                if problem:
                    error(error_rate.PRN_LIMIT, problem)
            previous.append(at)
        elif rules.outside_window(at, record.dose.window_opens_at, record.dose.window_closes_at):
            opens = local_time(record.dose.window_opens_at, tz)
            closes = local_time(record.dose.window_closes_at, tz)
            error(error_rate.WRONG_TIME, f"Window {opens}–{closes}")
        triggered = error_rate._triggered_hold(
            list(record.prescription.hold_parameters.all()), record.vitals
        )
        if changed and record.hold_triggered:
            triggered = triggered or record.hold_triggered
        if triggered and (record.dose_id is not None or at >= since):
            error(error_rate.GIVEN_ON_HOLD, triggered + (" (amended to given)" if changed else ""))
    errors = [(k, r, m, _utc(due), _utc(at), by, detail) for k, r, m, due, at, by, detail in errors]
    return len(doses), prn_given, sorted(errors, key=repr)


def _utc(moment):
    return moment.astimezone(UTC) if moment is not None else None


def _month(facility, nurse, seed: int):
    """September 2026 for four residents, drawn at random: scheduled doses documented (early,
    on time, late, at the window's edges), missed or cancelled; readings that trigger a hold
    or not; PRN doses close together and many a day; voided records; amendments that change
    the status or the time, or void a record (a PRN series included)."""
    rng = random.Random(seed)
    people = [ResidentFactory(facility=facility) for _ in range(4)]
    for n, resident in enumerate(people):
        orders = [
            _hold_order(resident, f"Metoprolol {seed}-{n}", "pulse", "lt", "60"),
            _hold_order(resident, f"Lisinopril {seed}-{n}", "systolic_bp", "le", "100"),
            PrescriptionFactory(
                resident=resident, medication=MedicationFactory(name=f"Donepezil {seed}-{n}")
            ),
        ]
        prns = [
            PrescriptionFactory(
                resident=resident,
                medication=MedicationFactory(name=f"Oxycodone {seed}-{n}-{k}"),
                is_prn=True,
                times=[],
                prn_min_hours=Decimal(rng.choice(["4", "6", "2.5", "30"])),
                prn_max_per_24h=rng.choice([2, 3, 4]),
                indication="Pain",
            )
            for k in range(2)
        ]
        for day in range(1, 31):
            for order in orders:
                due = _local(2026, 9, day, 8 + orders.index(order))
                state = rng.choices(
                    [DoseState.DOCUMENTED, DoseState.MISSED, DoseState.CANCELLED], [20, 2, 1]
                )[0]
                dose = ScheduledDose.objects.create(
                    facility=facility,
                    prescription=order,
                    resident=resident,
                    due_at=due,
                    window_opens_at=due - timedelta(minutes=60),
                    window_closes_at=due + timedelta(minutes=60),
                    state=state,
                )
                if state != DoseState.DOCUMENTED:
                    continue
                minutes = rng.choice([0, 5, -30, 60, -60, 61, -61, 90, 240])
                status = rng.choices(["given", "refused", "held"], [10, 1, 1])[0]
                vitals = {}
                if order.hold_parameters.exists():
                    vitals = {
                        "pulse": rng.choice(READINGS),
                        "systolic_bp": rng.choice(["95", "100", "101", "120", "abc", None]),
                    }
                record = _record(
                    order,
                    nurse,
                    due + timedelta(minutes=minutes),
                    dose=dose,
                    status=status,
                    vitals=vitals,
                )
                _maybe_amend(rng, record, nurse, due)
            for order in prns:
                for _ in range(rng.choice([0, 1, 2, 3, 4])):
                    at = _local(2026, 9, day, rng.randrange(0, 24), rng.randrange(0, 60))
                    record = _record(
                        order,
                        nurse,
                        at,
                        status=rng.choices(["given", "refused"], [8, 1])[0],
                        voided=rng.random() < 0.05,
                        vitals={"pulse": rng.choice(READINGS)},
                    )
                    if not record.voided:
                        _maybe_amend(rng, record, nurse, at)
        # Doses before and after the month, which only PRN series look back on.
        for order in prns:
            _record(order, nurse, _local(2026, 8, 31, 22))
            _record(order, nurse, _local(2026, 10, 1, 1))
    return people


def _maybe_amend(rng, record, nurse, around):
    roll = rng.random()
    if roll > 0.12:
        return
    changes = rng.choice(
        [
            {"status": "given"},
            {"status": "refused"},
            {"administered_at": (around + timedelta(minutes=rng.choice([3, 75]))).isoformat()},
            {"status": "given", "administered_at": (around - timedelta(hours=2)).isoformat()},
        ]
    )
    kind = "entered_in_error" if roll < 0.01 else "correction"
    Amendment.objects.create(
        administration=record,
        kind=kind,
        reason="Corrected",
        changes=changes if kind == "correction" else {},
        amended_by=nurse,
        amended_at=around + timedelta(hours=3),
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_report_reads_as_the_rules_applied_to_every_record(facility, nurse_user, seed):
    people = _month(facility, nurse_user, seed)

    for filters in ({}, {"resident_id": people[1].pk}, {"unit_id": people[0].unit_id}):
        report = error_rate.error_rate_report(facility=facility, year=2026, month=9, **filters)
        scheduled, prn_given, errors = _reference(facility, 2026, 9, **filters)

        ours = sorted(
            (
                e.kind,
                e.resident.pk,
                e.medication,
                _utc(e.due_at),
                _utc(e.at),
                e.who.pk if e.who else None,
                e.detail,
            )
            for e in report.errors
        )
        assert (report.scheduled, report.prn_given) == (scheduled, prn_given)
        assert sorted(ours, key=repr) == errors
        kinds = {e[0] for e in errors}
        if not filters:
            assert kinds == set(error_rate.ERROR_LABELS), "the data holds every kind of error"
    times = [(e.due_at or e.at) for e in report.errors]
    assert times == sorted(times)
