"""Records made on a med cart without a connection, and the nurse's reconciliation of those the
server could not simply accept.

A cart that loses its connection keeps each record in its browser (static/js/offline.js) with
a one-time key, the time on the device and the time of the snapshot it was recorded against,
and sends them in order when the connection comes back. Here each one is either

- recorded, by the same services as at the cart, at the device's time (every rule applied at
  that time, against everything documented meanwhile) and marked offline;
- already there (its key was seen: the first result, nothing new); or
- a reconciliation item: anything the server refuses (someone else documented the dose, the
  order was stopped or held, a PRN limit crossed across carts, a clock that cannot be right)
  waits for a nurse, who keeps it, amends it or voids it with a reason. Nothing is dropped.
"""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.time import local_day_time
from meds.models import OrderStatus, Prescription, PrescriptionStatusChange

from ..models import (
    RECORDABLE_STATUSES,
    Administration,
    AdminStatus,
    Entry,
    ReconciliationItem,
    ReconciliationState,
    ScheduledDose,
)
from .recording import (
    _mark_documented,
    _parse_vitals,
    _save_administration,
    administration_record,
    prn_give,
)

# A cart's clock may run a little ahead of the server's; more than this and its time is not
# taken as the time of the dose.
CLOCK_SKEW = datetime.timedelta(minutes=5)

# What the cart sends of a record, besides its key, dose or order and times.
RECORD_FIELDS = (
    "status",
    "reason",
    "late_reason",
    "other_code",
    "prn_reason",
    "notes",
    "vitals",
)


class Outcome:
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    RECONCILE = "reconcile"


@dataclass(frozen=True)
class OfflineRecord:
    """One record as the cart queued it (mar.forms.OfflineRecordForm checks the shape)."""

    key: object  # uuid.UUID
    kind: str  # "dose" or "prn"
    target: int  # the dose's id, or the PRN order's
    device_at: datetime.datetime
    snapshot_at: datetime.datetime | None
    status: str = AdminStatus.GIVEN
    reason: str = ""
    late_reason: str = ""
    other_code: str = ""
    prn_reason: str = ""
    notes: str = ""
    vitals: dict | None = None

    def fields(self) -> dict:
        return {name: getattr(self, name) for name in RECORD_FIELDS}


@dataclass(frozen=True)
class Replay:
    outcome: str  # Outcome
    message: str
    administration: Administration | None = None
    item: ReconciliationItem | None = None


def _targets(record: OfflineRecord) -> tuple[ScheduledDose | None, Prescription]:
    if record.kind == "dose":
        dose = ScheduledDose.objects.select_related("facility", "prescription").get(
            pk=record.target
        )
        return dose, dose.prescription
    return None, Prescription.objects.select_related("facility").get(pk=record.target)


def offline_replay(
    *,
    actor: User,
    record: OfflineRecord,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> Replay:
    """Take one record a cart made offline: recorded, already there, or a reconciliation item.

    Raises ScheduledDose.DoesNotExist / Prescription.DoesNotExist for a target that never
    existed (not a record of this app's pages)."""
    now = now or timezone.now()
    dose, order = _targets(record)
    if (known := _known(record, order)) is not None:
        return known
    if membership_role(user=actor, facility_id=order.facility_id) is None:
        raise DomainError("You are not a member of this facility.")
    problem = _clock_problem(record, order, now) or _order_problem(order)
    if problem is None:
        try:
            result = _record(actor, record, dose, order, now, client_address)
        except DomainError as error:
            problem = error.message
        else:
            if result.created:
                message = result.hold_message or "Recorded."
                return Replay(Outcome.RECORDED, message, administration=result.administration)
            return Replay(Outcome.DUPLICATE, "Already recorded.", result.administration)
    return _reconcile(actor, record, dose, order, now, problem)


def _known(record: OfflineRecord, order: Prescription) -> Replay | None:
    """A key seen before: its first result."""
    item = ReconciliationItem.objects.filter(idempotency_key=record.key).first()
    if item is not None:
        return Replay(Outcome.RECONCILE, item.conflict, item=item)
    administration = Administration.objects.filter(idempotency_key=record.key).first()
    if administration is not None and administration.prescription_id == order.pk:
        return Replay(Outcome.DUPLICATE, "Already recorded.", administration=administration)
    return None


def _clock_problem(record: OfflineRecord, order: Prescription, now) -> str | None:
    facility = order.facility
    if record.device_at > now + CLOCK_SKEW:
        return (
            "The cart's clock said "
            f"{local_day_time(record.device_at, facility.tz)}, later than the server's "
            f"{local_day_time(now, facility.tz)}: the time of this dose is not known for sure."
        )
    limit = datetime.timedelta(hours=facility.offline_max_hours)
    if now - record.device_at > limit + CLOCK_SKEW:
        return (
            f"Recorded offline at {local_day_time(record.device_at, facility.tz)}, more than "
            f"{facility.offline_max_hours} hours before it reached the server (the facility's "
            "limit for recording offline)."
        )
    return None


def _order_problem(order: Prescription) -> str | None:
    """A dose of an order that is no longer active (stopped or held while the cart was offline,
    or before) is not recorded as if nothing happened: a nurse looks at it."""
    if order.status == OrderStatus.ACTIVE:
        return None
    change = (
        PrescriptionStatusChange.objects.filter(prescription=order)
        .select_related("changed_by")
        .order_by("-changed_at", "-pk")
        .first()
    )
    said = f"This order is {order.get_status_display().lower()}"
    if change is None:
        return f"{said}."
    return (
        f"{said}: changed by {change.changed_by} at "
        f"{local_day_time(change.changed_at, order.facility.tz)} ({change.reason})."
    )


def _record(actor, record: OfflineRecord, dose, order, now, client_address):
    if record.kind == "dose":
        return administration_record(
            actor=actor,
            dose=dose,
            status=record.status,
            idempotency_key=record.key,
            reason=record.reason,
            late_reason=record.late_reason,
            other_code=record.other_code,
            vitals=record.vitals,
            notes=record.notes,
            now=record.device_at,
            client_address=client_address,
            entry=Entry.OFFLINE,
            received_at=now,
        )
    return prn_give(
        actor=actor,
        prescription=order,
        idempotency_key=record.key,
        prn_reason=record.prn_reason,
        vitals=record.vitals,
        notes=record.notes,
        now=record.device_at,
        client_address=client_address,
        entry=Entry.OFFLINE,
        received_at=now,
    )


def _reconcile(actor, record: OfflineRecord, dose, order, now, problem: str) -> Replay:
    try:
        with transaction.atomic():
            item = ReconciliationItem.objects.create(
                facility_id=order.facility_id,
                resident_id=order.resident_id,
                prescription=order,
                dose=dose,
                idempotency_key=record.key,
                made_by=actor,
                device_at=record.device_at,
                received_at=now,
                snapshot_at=record.snapshot_at,
                record=record.fields(),
                conflict=problem[:400],
            )
    except IntegrityError:  # the same key replayed at the same moment: its first item
        item = ReconciliationItem.objects.get(idempotency_key=record.key)
    return Replay(Outcome.RECONCILE, item.conflict, item=item)


# The nurse's reconciliation ----------------------------------------------------------------------


class Resolution:
    KEEP = "keep"
    AMEND = "amend"
    VOID = "void"
    CHOICES = (
        (KEEP, "Keep it as recorded"),
        (AMEND, "Amend it, then keep it"),
        (VOID, "Void it (it goes on no record)"),
    )


@transaction.atomic
def reconciliation_resolve(
    *,
    actor: User,
    item: ReconciliationItem,
    action: str,
    reason: str,
    status: str = "",
    administered_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> ReconciliationItem:
    """A nurse decides an offline record the server could not accept.

    Keep: it goes on the resident's record as the cart sent it (the med tech's record, at the
    device's time, marked offline). Amend: the same with the status and time the nurse sets.
    Void: it goes on no record. Every choice needs a reason and stays on the item.

    A scheduled dose that has a standing record already cannot take a second one: the nurse
    voids this one, or first corrects that record (entered in error) and then keeps this one.
    """
    now = now or timezone.now()
    item = (
        ReconciliationItem.objects.select_for_update(of=("self",))
        .select_related("facility", "made_by", "resolved_by")
        .get(pk=item.pk)
    )
    reason = (reason or "").strip()
    if item.state != ReconciliationState.OPEN:
        raise DomainError(
            f"Already decided ({item.get_state_display().lower()}) by {item.resolved_by} at "
            f"{local_day_time(item.resolved_at, item.facility.tz)}."
        )
    if membership_role(user=actor, facility_id=item.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse reconciles offline records.")
    if action not in (Resolution.KEEP, Resolution.AMEND, Resolution.VOID):
        raise DomainError("Choose keep, amend or void.", field="action")
    if not reason:
        raise DomainError("Enter the reason for your decision.", field="reason")
    if len(reason) > 300:
        raise DomainError("At most 300 characters.", field="reason")
    state = ReconciliationState.VOIDED
    if action != Resolution.VOID:
        fields = dict(item.record)
        at = item.device_at
        if action == Resolution.AMEND:
            if status not in RECORDABLE_STATUSES or (item.dose_id is None and status != "given"):
                raise DomainError("Choose what happened.", field="status")
            if administered_at is None:
                raise DomainError("Enter when it happened.", field="administered_at")
            if administered_at > now:
                raise DomainError("That time is still to come.", field="administered_at")
            fields["status"] = status
            at = administered_at
        item.administration = _keep(item, fields, at, reason, now)
        state = (
            ReconciliationState.AMENDED if action == Resolution.AMEND else ReconciliationState.KEPT
        )
    item.state, item.resolved_by, item.resolved_at = state, actor, now
    item.resolution_reason = reason
    item.save(
        update_fields=["state", "resolved_by", "resolved_at", "resolution_reason", "administration"]
    )
    return item


def _keep(item: ReconciliationItem, fields: dict, at, reason: str, now) -> Administration:
    """The offline record on the resident's record, as the nurse decided it."""
    order = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("facility", "medication", "resident")
        .get(pk=item.prescription_id)
    )
    dose = None
    if item.dose_id is not None:
        dose = ScheduledDose.objects.select_for_update(of=("self",)).get(pk=item.dose_id)
        standing = dose.administrations.filter(voided=False).select_related("recorded_by").first()
        if standing is not None:
            when = local_day_time(standing.administered_at, order.facility.tz)
            raise DomainError(
                f"This dose already has a record ({standing.get_status_display().lower()} by "
                f"{standing.recorded_by} at {when}). Void this offline record, or correct that "
                "one first (entered in error) and then keep this one.",
                field="action",
            )
    status = fields.get("status") or AdminStatus.GIVEN
    if dose is None:
        status = AdminStatus.GIVEN
    try:
        readings = _parse_vitals(fields.get("vitals"))
    except DomainError:
        readings = {}  # kept as the cart sent them on the item; not re-read as vitals
    record_reason = fields.get("reason") or ""
    late_reason = fields.get("late_reason") or ""
    if dose is not None and at > dose.window_closes_at and not late_reason:
        late_reason = f"Offline record kept by a nurse: {reason}"
    if status != AdminStatus.GIVEN and not record_reason:
        record_reason = reason
    administration = _save_administration(
        actor=item.made_by,
        order=order,
        resident=order.resident,
        dose=dose,
        status=status,
        now=now,
        administered_at=at,
        key=item.idempotency_key,
        readings=readings,
        witness=None,
        reason=record_reason[:300],
        late_reason=late_reason[:300],
        other_code=(fields.get("other_code") or "") if status == AdminStatus.OTHER else "",
        prn_reason=(fields.get("prn_reason") or "")[:300] if dose is None else "",
        notes=(fields.get("notes") or "")[:500],
        entry=Entry.OFFLINE,
    )
    if dose is not None:
        _mark_documented(dose=dose, status=status, by=item.made_by, now=now)
    return administration
