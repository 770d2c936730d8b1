"""The downtime MAR typed in afterwards: a unit's paper entries saved in one go.

When no device works, staff initial the printed downtime MAR (reports/downtime.py). Once the
eMAR is back, a med tech or nurse types its entries in on one screen (mar/late_entry_views.py):
each scheduled dose's "given at / initials / not given: code, why / witness" and each PRN given
on paper. Every entry becomes an ordinary Administration with `entry=Entry.PAPER`: administered
at the time written on paper, recorded now, `recorded_by` the person who initialled it, a note
naming who typed it in. All the entries are saved in one transaction, or none.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Facility, Membership, Role, Unit, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.time import local_day_time, local_instants, local_time
from core.validators import check_inputs
from meds.models import OrderStatus, Prescription
from residents.models import ResidentStatus

from .. import rules
from ..models import (
    Administration,
    AdminStatus,
    DoseState,
    Entry,
    ScheduledDose,
)
from .recording import _already_documented, _by_key, _mark_documented, _save_administration

# What the paper says happened to a scheduled dose (the downtime MAR's codes: R, H, NA).
PAPER_STATUSES = (
    AdminStatus.GIVEN,
    AdminStatus.REFUSED,
    AdminStatus.HELD,
    AdminStatus.NOT_AVAILABLE,
)
# How far from its due time a dose's paper time may be: a wall-clock time is read as the one
# instant within this of the dose, so "07:50" for an 08:00 dose is never yesterday's 07:50.
AROUND_DUE = datetime.timedelta(hours=12)
MAX_HOURS = 12
REASON_LENGTH = 300  # Administration.reason, late_reason, early_reason, prn_reason
# Who initials (and witnesses) on the med cart.
PASSERS = (Role.MED_TECH, Role.NURSE)


@dataclass(frozen=True)
class PaperTime:
    """A time as written on paper: the facility's wall clock, and the zone's abbreviation when
    the writer gave it ("01:30 EST": needed only for the hour the fall-back repeats)."""

    clock: datetime.time
    zone: str = ""


@dataclass(frozen=True)
class LateEntry:
    """One line of the downtime MAR. `row` names the line on the page: a refusal's field is
    "<row>-<input>" with input one of status, time, by, reason, witness, key."""

    row: str
    key: uuid.UUID | None
    # A scheduled dose, or (dose None) a PRN given on paper of `prescription_id`.
    dose_id: int | None = None
    prescription_id: int | None = None
    status: str = ""
    time: PaperTime | None = None
    by_id: int | None = None
    reason: str = ""
    witness_id: int | None = None


@dataclass(frozen=True)
class LateEntriesResult:
    saved: int  # records made now
    already: int  # lines whose one-time key had already made its record (the form sent twice)


class LateEntriesRefused(DomainError):
    """At least one line is refused, so nothing was saved. `errors`: (field, message) per line,
    the first message of each refused line."""

    def __init__(self, errors: list[tuple[str, str]]):
        count = len(errors)
        super().__init__(
            f"Nothing was saved: {count} line{'s' if count != 1 else ''} need"
            f"{'s' if count == 1 else ''} correcting (see the messages beside them)."
        )
        self.errors = errors


class _Refused(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def period_bounds(
    start: datetime.datetime, hours: int
) -> tuple[datetime.datetime, datetime.datetime]:
    """The period [start, start + hours) the screen lists, as the downtime MAR's: 1 to 12 h."""
    if not 1 <= hours <= MAX_HOURS:
        raise DomainError(f"Choose 1 to {MAX_HOURS} hours.", field="hours")
    return start, start + datetime.timedelta(hours=hours)


def staff_who_pass(*, facility: Facility) -> list[User]:
    """The facility's active med techs and nurses: who may have initialled or witnessed."""
    return [
        membership.user
        for membership in Membership.objects.filter(
            facility=facility, is_active=True, role__in=PASSERS, user__is_active=True
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ]


def _instant(
    entry: LateEntry, tz, lower: datetime.datetime, upper: datetime.datetime, what: str
) -> datetime.datetime:
    """The one instant the paper time names between lower and upper."""
    field = f"{entry.row}-time"
    if entry.time is None:
        raise _Refused(field, "Write the time from the paper (HH:MM).")
    clock = entry.time.clock.strftime("%H:%M")
    found = local_instants(entry.time.clock, tz, lower, upper)
    if entry.time.zone:
        found = [t for t in found if t.astimezone(tz).tzname() == entry.time.zone.upper()]
    if not found:
        raise _Refused(
            field,
            f"{clock}{' ' + entry.time.zone if entry.time.zone else ''} is not {what} "
            f"({local_day_time(lower, tz)} to {local_day_time(upper, tz)}); a time the clocks "
            "skipped when they went forward never happened.",
        )
    if len(found) > 1:
        named = " and ".join(f"{clock} {t.astimezone(tz).tzname()}" for t in found)
        raise _Refused(
            field,
            f"{clock} happened twice that night (clocks went back): {named}. "
            f"Type which, e.g. “{clock} {found[-1].astimezone(tz).tzname()}”.",
        )
    return found[0]


def _person(entry: LateEntry, staff: dict[int, User], user_id: int | None, input: str) -> User:
    if user_id not in staff:
        raise _Refused(
            f"{entry.row}-{input}",
            "Choose an active med tech or nurse of this facility.",
        )
    return staff[user_id]


def _witness(entry: LateEntry, order: Prescription, facility: Facility, by: User, staff):
    """The named witness of a controlled drug given (no password: they signed on paper)."""
    if not order.medication.is_controlled:
        return None
    if entry.witness_id is None:
        if facility.controlled_requires_witness:
            raise _Refused(
                f"{entry.row}-witness",
                f"{order.medication} is controlled: choose the witness who initialled it.",
            )
        return None
    witness = _person(entry, staff, entry.witness_id, "witness")
    if witness.pk == by.pk:
        raise _Refused(f"{entry.row}-witness", "The witness must be another person.")
    return witness


def _lock_doses(dose_ids: list[int]) -> dict[int, ScheduledDose]:
    """Share-lock the doses' residents, then lock the doses, in id order: the order of locks
    recording takes (recording._share_lock_resident_of), so the two wait, never deadlock."""
    if not dose_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM residents_resident AS r "
            "JOIN mar_scheduleddose AS d ON d.resident_id = r.id "
            "WHERE d.id = ANY(%s) ORDER BY r.id FOR SHARE OF r",
            [dose_ids],
        )
    return {
        dose.pk: dose
        for dose in ScheduledDose.objects.select_for_update(of=("self",))
        .select_related("prescription__medication", "resident")
        .filter(pk__in=dose_ids)
        .order_by("pk")
    }


def _check_dose(entry, dose, *, unit, facility, staff, now) -> dict | None:
    """What to save for a scheduled dose's line, or None when its key already made it."""
    tz = facility.tz
    if dose is None or dose.facility_id != facility.pk or dose.resident.unit_id != unit.pk:
        raise _Refused(f"{entry.row}-status", "This dose is not one of this unit's.")
    if entry.key is None:
        raise _Refused(f"{entry.row}-status", "This form is out of date: reload the page.")
    if _by_key(entry.key, dose_id=dose.pk, prescription_id=dose.prescription_id) is not None:
        return None
    if dose.state == DoseState.DOCUMENTED:
        raise _Refused(f"{entry.row}-status", _already_documented(dose).message)
    if dose.state == DoseState.CANCELLED:
        raise _Refused(
            f"{entry.row}-status",
            f"This dose was cancelled ({dose.cancel_reason or 'order changed'}); nothing to "
            "record.",
        )
    if entry.status not in PAPER_STATUSES:
        raise _Refused(
            f"{entry.row}-status", "Choose what happened: given, refused, held or not available."
        )
    at = _instant(
        entry, tz, dose.due_at - AROUND_DUE, dose.due_at + AROUND_DUE, "within 12 hours of the dose"
    )
    if at > now:
        raise _Refused(
            f"{entry.row}-time", f"{local_day_time(at, tz)} is in the future; check the paper."
        )
    by = _person(entry, staff, entry.by_id, "by")
    reason = entry.reason
    status = AdminStatus(entry.status)
    if status != AdminStatus.GIVEN and not reason:
        raise _Refused(f"{entry.row}-reason", f"Write why the dose was {status.label.lower()}.")
    late = at > dose.window_closes_at
    early = at < dose.window_opens_at
    if (late or early) and not reason:
        raise _Refused(
            f"{entry.row}-reason",
            f"Late: the window closed at {local_time(dose.window_closes_at, tz)}. Write the "
            "late reason."
            if late
            else f"Early: the window opened at {local_time(dose.window_opens_at, tz)}. Write why "
            "it was given early.",
        )
    order = dose.prescription
    witness = _witness(entry, order, facility, by, staff) if status == AdminStatus.GIVEN else None
    return {
        "order": order,
        "resident": dose.resident,
        "dose": dose,
        "status": status,
        "administered_at": at,
        "actor": by,
        "witness": witness,
        "reason": "" if status == AdminStatus.GIVEN else reason,
        "late_reason": reason if late else "",
        "early_reason": reason if early else "",
    }


def _check_prn(entry, order, *, unit, facility, staff, period, now) -> dict | None:
    tz = facility.tz
    if order is None or order.facility_id != facility.pk or order.resident.unit_id != unit.pk:
        raise _Refused(f"{entry.row}-time", "This PRN order is not one of this unit's.")
    if entry.key is None:
        raise _Refused(f"{entry.row}-time", "This form is out of date: reload the page.")
    if _by_key(entry.key, dose_id=None, prescription_id=order.pk) is not None:
        return None
    if not order.is_prn or order.status != OrderStatus.ACTIVE:
        raise _Refused(
            f"{entry.row}-time",
            f"This order is {order.get_status_display().lower()}; a nurse records it as a late "
            "entry on the resident's page.",
        )
    if order.resident.status != ResidentStatus.ACTIVE:
        raise _Refused(
            f"{entry.row}-time", f"{order.resident.display_name} is not in the facility."
        )
    at = _instant(entry, tz, period[0], period[1], "in the period")
    if at > now:
        raise _Refused(
            f"{entry.row}-time", f"{local_day_time(at, tz)} is in the future; check the paper."
        )
    by = _person(entry, staff, entry.by_id, "by")
    if not entry.reason:
        raise _Refused(f"{entry.row}-reason", "Write why the PRN was given (and its result).")
    return {
        "order": order,
        "resident": order.resident,
        "dose": None,
        "status": AdminStatus.GIVEN,
        "administered_at": at,
        "actor": by,
        "witness": _witness(entry, order, facility, by, staff),
        "prn_reason": entry.reason,
    }


def _check_prn_limits(orders: dict[int, Prescription], lines: list[tuple[LateEntry, dict]]):
    """Each PRN order's limits (minimum interval, maximum in 24 hours) hold over its standing
    doses and every dose typed in, taken in time order: a dose typed in may come before doses
    already recorded, so each dose it precedes is checked again (rules.prn_check)."""
    typed = defaultdict(list)
    for entry, saved in lines:
        typed[saved["order"].pk].append((saved["administered_at"], entry))
    refusals = []
    for order_id, entries in typed.items():
        order = orders[order_id]
        standing = list(
            Administration.objects.filter(
                prescription_id=order_id,
                status=AdminStatus.GIVEN,
                voided=False,
                dose__isnull=True,
            )
            .order_by("-administered_at")
            .values_list("administered_at", flat=True)[:200]
        )
        doses = sorted([(t, None) for t in standing] + entries, key=lambda d: d[0])
        for i, (at, entry) in enumerate(doses):
            earlier = [t for t, _ in doses[:i]]
            check = rules.prn_check(
                given=earlier,
                at=at,
                min_hours=order.prn_min_hours,
                max_per_24h=order.prn_max_per_24h,
            )
            if check.allowed:
                continue
            # The line to blame: this one if typed, else the latest typed one before it.
            blamed = entry or next((e for t, e in reversed(doses[:i]) if e is not None), None)
            if blamed is None:
                continue  # standing records only: not this screen's to judge
            tz = order.facility.tz
            limit = (
                f"more than {order.prn_max_per_24h} in 24 hours"
                if check.too_many
                else f"less than {order.prn_min_hours.normalize():f} h apart"
            )
            refusals.append(
                (
                    f"{blamed.row}-time",
                    f"{order.medication}: with the dose at {local_day_time(at, tz)} that makes "
                    f"{limit} (last before it: {local_day_time(check.last_at, tz)}). Check the "
                    "paper; a nurse amends what was really given.",
                )
            )
            break
    return refusals


def late_entries_record(
    *,
    actor: User,
    unit: Unit,
    entries: list[LateEntry],
    start: datetime.datetime,
    hours: int,
    now: datetime.datetime | None = None,
) -> LateEntriesResult:
    """Save the downtime MAR's lines of `unit` typed in by `actor` (a med tech or nurse of its
    facility), every line or none.

    Each line is checked first, and every refused line is reported (LateEntriesRefused, one
    message per line, its field "<row>-<input>"); then all are saved in one transaction. The
    doses and PRN orders are locked, so a dose documented meanwhile by someone is refused
    naming who and when, and PRN limits count the doses typed in beside the recorded ones. A
    line whose one-time key already made its record is skipped (the form sent twice).

    The time on paper is the facility's wall clock: a scheduled dose's within 12 hours of its
    due time, a PRN's within the period [start, start + hours); not in the future. The person
    who initialled (and the witness: required for a controlled drug given when the facility
    says so, never the same person) is an active med tech or nurse of the facility. A reason is
    required when not given, and when given after the window closed (the late reason) or before
    it opened (the early reason). Given doses take their stock as at the cart.
    """
    now = now or timezone.now()
    for entry in entries:
        check_inputs(**{f"{entry.row}-reason": entry.reason})
        if len(entry.reason or "") > REASON_LENGTH:
            raise DomainError(
                f"At most {REASON_LENGTH} characters, please.", field=f"{entry.row}-reason"
            )
    facility = unit.facility
    if membership_role(user=actor, facility_id=facility.pk) not in PASSERS:
        raise DomainError("Only med techs and nurses of this facility type in downtime entries.")
    period = period_bounds(start, hours)
    if not entries:
        raise DomainError("Nothing to save: fill in the lines you have on paper.")
    entries = [
        LateEntry(**{**entry.__dict__, "reason": (entry.reason or "").strip()}) for entry in entries
    ]
    with transaction.atomic():
        return _record(
            actor=actor, unit=unit, facility=facility, entries=entries, period=period, now=now
        )


def _record(*, actor, unit, facility, entries, period, now) -> LateEntriesResult:
    staff = {user.pk: user for user in staff_who_pass(facility=facility)}
    doses = _lock_doses(sorted({e.dose_id for e in entries if e.dose_id is not None}))
    order_ids = sorted(
        {e.prescription_id for e in entries if e.dose_id is None and e.prescription_id}
    )
    orders = {
        order.pk: order
        for order in Prescription.objects.select_for_update(of=("self",))
        .select_related("medication", "resident", "facility")
        .filter(pk__in=order_ids)
        .order_by("pk")
    }
    refusals: list[tuple[str, str]] = []
    lines: list[tuple[LateEntry, dict]] = []
    already = 0
    seen: set[tuple] = set()
    for entry in entries:
        line = (entry.dose_id,) if entry.dose_id is not None else ("prn", entry.key)
        if line in seen:
            refusals.append((f"{entry.row}-status", "This line is typed twice."))
            continue
        seen.add(line)
        try:
            if entry.dose_id is not None:
                saved = _check_dose(
                    entry,
                    doses.get(entry.dose_id),
                    unit=unit,
                    facility=facility,
                    staff=staff,
                    now=now,
                )
            else:
                saved = _check_prn(
                    entry,
                    orders.get(entry.prescription_id),
                    unit=unit,
                    facility=facility,
                    staff=staff,
                    period=period,
                    now=now,
                )
        except _Refused as refused:
            refusals.append((refused.field, refused.message))
            continue
        except DomainError as error:  # a one-time key replayed against another line
            refusals.append((f"{entry.row}-status", error.message))
            continue
        if saved is None:
            already += 1
        else:
            lines.append((entry, saved))
    refusals += _check_prn_limits(orders, [(e, s) for e, s in lines if s["dose"] is None])
    if refusals:
        raise LateEntriesRefused(refusals)
    note = f"Typed in from the downtime MAR by {actor}."
    for entry, saved in lines:
        try:
            _save_administration(
                now=now, key=entry.key, readings={}, notes=note, entry=Entry.PAPER, **saved
            )
        except DomainError as error:  # no stock on hand, …: beside its line, nothing saved
            raise LateEntriesRefused([(f"{entry.row}-status", error.message)]) from None
        if saved["dose"] is not None:
            _mark_documented(dose=saved["dose"], status=saved["status"], by=actor, now=now)
    return LateEntriesResult(saved=len(lines), already=already)
