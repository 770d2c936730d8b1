"""Every write of the flowsheet: readings (whoever takes them: the flowsheet, the med pass, a
nurse's evaluation, monitoring), the ranges they are judged by, and the acknowledgement of an
exception. A reading out of range becomes an exception and a weight that is a loss to review is
told to the apps above (signals, inside the reading's transaction: mar raises the alerts)."""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Facility, Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.validators import check_inputs
from residents.models import Resident, ResidentStatus

from . import rules
from .models import (
    DEFAULT_RANGES,
    PLAUSIBLE,
    VITAL_UNITS,
    ExceptionAcknowledgement,
    ReadingSource,
    ResidentVitalRange,
    VitalException,
    VitalRange,
    VitalReading,
    VitalSign,
)
from .signals import vital_exception_acknowledged, vital_exceptions_raised, weight_loss_found

NOTE_MAX = 300
# Who acknowledges exceptions and sets a resident's own range.
NURSES = (Role.NURSE,)
# Who records on the flowsheet (an administrator reads it).
RECORDERS = (Role.NURSE, Role.MED_TECH, Role.CAREGIVER)


def _number(raw) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def reading_value(kind: str, raw) -> Decimal:
    """The value typed for one sign, or a DomainError beside its field (`kind`) that says what
    is wrong: not a number, impossible for this sign (a typing slip), a pain score not whole."""
    sign = VitalSign(kind)
    value = _number(raw)
    if value is None:
        raise DomainError(f"{sign.label}: “{raw}” is not a number.", field=kind)
    low, high = PLAUSIBLE[sign]
    unit = VITAL_UNITS[sign]
    if not low <= value <= high:
        raise DomainError(
            f"{sign.label} {value.normalize():f} {unit} cannot be right: enter a value from "
            f"{low} to {high} {unit}, or take it again.",
            field=kind,
        )
    if sign == VitalSign.PAIN and value != value.to_integral_value():
        raise DomainError("Pain is a whole number from 0 to 10.", field=kind)
    if value != value.quantize(Decimal("0.1")):
        raise DomainError(f"{sign.label}: one decimal place at most.", field=kind)
    return value


def readings_values(values: Mapping[str, object]) -> dict[str, Decimal]:
    """The signs given a value (empty ones are left out), each checked; blood pressure's
    systolic above its diastolic when both are given."""
    parsed = {}
    for kind, raw in values.items():
        if raw in (None, ""):
            continue
        if kind not in VitalSign.values:
            raise DomainError(f"Unknown vital sign {kind}.")
        parsed[kind] = reading_value(kind, raw)
    systolic = parsed.get(VitalSign.SYSTOLIC_BP)
    diastolic = parsed.get(VitalSign.DIASTOLIC_BP)
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        raise DomainError(
            "The systolic (top) number of a blood pressure is above the diastolic (bottom) one: "
            "check the order you typed them in.",
            field=VitalSign.DIASTOLIC_BP,
        )
    return parsed


def _ranges(resident: Resident) -> dict[str, tuple[Decimal | None, Decimal | None, bool]]:
    """The range each sign is judged by for this resident: their own, else the facility's."""
    ranges = {
        kind: (low, high, False)
        for kind, low, high in VitalRange.objects.filter(
            facility_id=resident.facility_id
        ).values_list("kind", "low", "high")
    }
    for kind, low, high in ResidentVitalRange.objects.filter(resident=resident).values_list(
        "kind", "low", "high"
    ):
        ranges[kind] = (low, high, True)
    return ranges


def readings_record(
    *,
    actor: User,
    resident: Resident,
    values: Mapping[str, object],
    source: str,
    taken_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> list[VitalReading]:
    """Record the readings taken together (`values`: sign -> value; empty ones skipped) and judge
    them: a reading outside its range (the resident's own, else the facility's) becomes an
    exception, and a weight that is a loss to review is told to mar. Every reading goes through
    here: the flowsheet, the med pass (inside its record's transaction, after its locks: this
    takes none), evaluations and monitoring (`source`). Refused, changing nothing, when a value
    is impossible (field: the sign) or none is given."""
    now = now or timezone.now()
    taken_at = taken_at or now
    return readings_record_series(
        actor=actor, resident=resident, series=[(taken_at, values)], source=source, now=now
    )


@transaction.atomic
def readings_record_series(
    *,
    actor: User,
    resident: Resident,
    series: Iterable[tuple[datetime.datetime, Mapping[str, object]]],
    source: str,
    now: datetime.datetime | None = None,
) -> list[VitalReading]:
    """`readings_record` for several moments at once (the demo's weeks of history, an import):
    one insert of the readings and one of the exceptions, the same exceptions and losses."""
    now = now or timezone.now()
    check_inputs(values=[str(v) for _, values in series for v in values.values()])
    if source not in ReadingSource.values:
        raise DomainError(f"Unknown source {source}.")
    role = membership_role(user=actor, facility_id=resident.facility_id)
    if role is None or (source == ReadingSource.FLOWSHEET and role not in RECORDERS):
        raise DomainError("Only a nurse, med tech or caregiver of this facility records vitals.")
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident} is discharged: no reading is recorded.")
    moments = []
    for taken_at, values in series:
        if taken_at > now + datetime.timedelta(minutes=5):
            raise DomainError("A reading cannot be taken in the future.", field="taken_at")
        moments.append((taken_at, readings_values(values)))
    if not any(parsed for _, parsed in moments):
        raise DomainError("Enter at least one reading.")
    readings = VitalReading.objects.bulk_create(
        VitalReading(
            resident_id=resident.pk,
            kind=kind,
            value=value,
            taken_at=taken_at,
            taken_by=actor,
            source=source,
        )
        for taken_at, parsed in moments
        for kind, value in parsed.items()
    )
    for reading in readings:
        reading.resident = resident
    _judge_ranges(resident=resident, readings=readings, now=now)
    _judge_weights(
        resident=resident,
        weights=[r for r in readings if r.kind == VitalSign.WEIGHT],
        now=now,
    )
    return readings


def _judge_ranges(*, resident: Resident, readings: list[VitalReading], now) -> None:
    ranges = _ranges(resident)
    exceptions = []
    for reading in readings:
        low, high, own = ranges.get(reading.kind, (None, None, False))
        reading.out_of_range = rules.out_of_range(reading.value, low, high)
        if reading.out_of_range:
            exceptions.append(
                VitalException(
                    reading=reading,
                    facility_id=resident.facility_id,
                    resident=resident,
                    low=low,
                    high=high,
                    resident_range=own,
                    created_at=reading.taken_at,
                )
            )
    if exceptions:
        VitalException.objects.bulk_create(exceptions)
        vital_exceptions_raised.send(VitalException, exceptions=exceptions, at=now)


def _judge_weights(*, resident: Resident, weights: list[VitalReading], now) -> None:
    """Each new weight against the ones before it (a series in time order: each against the
    weights before it, the series' own included)."""
    if not weights:
        return
    longest = max(days for days, _, _ in rules.WEIGHT_LOSS_RULES)
    widest = max(tolerance for _, _, tolerance in rules.WEIGHT_LOSS_RULES)
    first = min(w.taken_at for w in weights)
    earlier = list(
        VitalReading.objects.filter(
            resident=resident,
            kind=VitalSign.WEIGHT,
            taken_at__gte=first - datetime.timedelta(days=longest) - widest,
        ).values_list("taken_at", "value")
    )
    for weight in sorted(weights, key=lambda w: w.taken_at):
        loss = rules.weight_loss(earlier, at=weight.taken_at, weight=weight.value)
        if loss is not None:
            weight_loss_found.send(
                VitalReading, resident=resident, reading=weight, loss=loss, at=now
            )


@transaction.atomic
def exception_acknowledge(
    *, actor: User, exception: VitalException, note: str, now: datetime.datetime | None = None
) -> ExceptionAcknowledgement:
    """A nurse acknowledges an out-of-range reading with what was done (field "note"); its
    alert is settled. Once only: a second nurse is told who was first."""
    check_inputs(note=note)
    if membership_role(user=actor, facility_id=exception.facility_id) not in NURSES:
        raise DomainError("Only a nurse acknowledges an out-of-range reading.")
    note = (note or "").strip()
    if not note:
        raise DomainError("Write what you did or will do about this reading.", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="note")
    try:
        with transaction.atomic():
            acknowledgement = ExceptionAcknowledgement.objects.create(
                exception=exception, by=actor, at=now or timezone.now(), note=note
            )
    except IntegrityError:  # one per exception: someone was first
        earlier = ExceptionAcknowledgement.objects.select_related("by").get(exception=exception)
        raise DomainError(f"{earlier.by} acknowledged this reading already.") from None
    vital_exception_acknowledged.send(
        VitalException, exception=exception, acknowledgement=acknowledgement
    )
    return acknowledgement


def _bounds(kind: str, low, high) -> tuple[Decimal | None, Decimal | None]:
    """The range typed for one sign, checked: each bound empty or possible, low below high."""
    sign = VitalSign(kind)
    bounds = []
    for name, raw in (("low", low), ("high", high)):
        if raw in (None, ""):
            bounds.append(None)
            continue
        value = _number(raw)
        plausible = PLAUSIBLE[sign]
        if value is None or not plausible[0] <= value <= plausible[1]:
            raise DomainError(
                f"{sign.label}: the {name} end is a number from {plausible[0]} to "
                f"{plausible[1]} {VITAL_UNITS[sign]}, or empty.",
                field=name,
            )
        bounds.append(value.quantize(Decimal("0.1")))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise DomainError("The low end is below the high end.", field="high")
    return bounds[0], bounds[1]


@transaction.atomic
def vital_range_save(*, actor: User, facility: Facility, kind: str, low, high) -> VitalRange:
    """The facility's normal range for one sign (an administrator's decision); readings already
    judged keep their exceptions."""
    if membership_role(user=actor, facility_id=facility.pk) != Role.ADMIN:
        raise DomainError("Only an administrator changes the facility's vital sign ranges.")
    if kind not in VitalSign.values:
        raise DomainError("Choose a vital sign.", field="kind")
    low, high = _bounds(kind, low, high)
    saved, _ = VitalRange.objects.update_or_create(
        facility=facility, kind=kind, defaults={"low": low, "high": high}
    )
    return saved


@transaction.atomic
def resident_range_save(
    *,
    actor: User,
    resident: Resident,
    kind: str,
    low,
    high,
    note: str,
    now: datetime.datetime | None = None,
) -> ResidentVitalRange:
    """A resident's own range for one sign, set by a nurse with why (a resident whose usual SpO2
    is 90): it replaces the facility's range for their readings from now on."""
    check_inputs(note=note)
    if membership_role(user=actor, facility_id=resident.facility_id) not in NURSES:
        raise DomainError("Only a nurse sets a resident's own range.")
    if kind not in VitalSign.values:
        raise DomainError("Choose a vital sign.", field="kind")
    low, high = _bounds(kind, low, high)
    if low is None and high is None:
        raise DomainError("Give a low end, a high end or both.", field="low")
    note = (note or "").strip()
    if not note:
        raise DomainError("Say why this resident's range differs (e.g. usual SpO2).", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="note")
    saved, _ = ResidentVitalRange.objects.update_or_create(
        resident=resident,
        kind=kind,
        defaults={
            "low": low,
            "high": high,
            "note": note,
            "set_by": actor,
            "set_at": now or timezone.now(),
        },
    )
    return saved


@transaction.atomic
def resident_range_remove(*, actor: User, resident_range: ResidentVitalRange) -> str:
    """The resident is judged by the facility's range again; returns the sign's name."""
    if membership_role(user=actor, facility_id=resident_range.resident.facility_id) not in NURSES:
        raise DomainError("Only a nurse changes a resident's own range.")
    label = resident_range.get_kind_display()
    resident_range.delete()
    return label


def vital_ranges_create(facility: Facility) -> None:
    """The ranges a new facility starts with (its administrator edits them)."""
    VitalRange.objects.bulk_create(
        [
            VitalRange(facility=facility, kind=kind, low=low, high=high)
            for kind, (low, high) in DEFAULT_RANGES.items()
        ],
        ignore_conflicts=True,
    )
