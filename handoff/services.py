"""Every write of the handoff: a note and its amendment, the report's submission (its frozen
snapshot) and acknowledgement (the incoming staff member's sign-off), and the timed work: the
report rows made for every unit's shifts and the alert for a report not acknowledged 30
minutes into the next shift."""

import datetime
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Facility, Role, Unit, User
from accounts.selectors import membership_role
from accounts.services import staff_authenticate
from core.audit import automatic_work
from core.errors import DomainError
from core.shifts import Shift, shift_after, shift_at
from core.time import local_stamp
from core.validators import check_inputs
from mar.models import Alert, AlertKind, AlertSeverity
from mar.services.alerts import alerts_create, alerts_resolve
from residents.models import Resident, ResidentStatus

from . import selectors
from .models import (
    AmendmentKind,
    HandoffNote,
    HandoffNoteAmendment,
    NoteCategory,
    ReportState,
    ShiftReport,
)

# Who leaves notes: everyone on the floor. Who submits a report: whoever hands over the cart.
NOTE_WRITERS = (Role.CAREGIVER, Role.MED_TECH, Role.NURSE)
SUBMITTERS = (Role.MED_TECH, Role.NURSE)
NOTE_MAX = 1000
REASON_MAX = 300
# The incoming staff member has this long into their shift to acknowledge the report.
ACKNOWLEDGE_WITHIN = datetime.timedelta(minutes=30)
# After an outage the rows are made from where they stop, at most this far back.
CATCH_UP = datetime.timedelta(days=7)
HANDOFF_WORK = "shift report sweep"


def handoff_subject(report_id: int) -> str:
    """The unacknowledged report's alert: one per report."""
    return f"handoff:{report_id}"


def _require(actor: User, facility_id: int, roles, doing: str) -> None:
    if membership_role(user=actor, facility_id=facility_id) not in roles:
        raise DomainError(f"Your role cannot {doing}.")


# Notes ------------------------------------------------------------------------------------


@transaction.atomic
def handoff_note_add(
    *,
    actor: User,
    resident: Resident,
    category: str,
    text: str,
    key: uuid.UUID,
    now: datetime.datetime | None = None,
) -> HandoffNote:
    """A note for the next shift about a present resident, on their unit's report. The form's
    one-time `key` makes a resubmission return the first note instead of a second one."""
    check_inputs(text=text)
    now = now or timezone.now()
    _require(actor, resident.facility_id, NOTE_WRITERS, "leave handoff notes")
    existing = HandoffNote.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.resident_id != resident.pk:
            raise DomainError("This form is out of date: reload the page and write the note again.")
        return existing
    if category not in NoteCategory.values:
        raise DomainError("Choose what the note is about.", field="category")
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the note.", field="text")
    if len(text) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="text")
    try:
        with transaction.atomic():
            return HandoffNote.objects.create(
                facility_id=resident.facility_id,
                unit_id=resident.unit_id,
                resident=resident,
                category=category,
                text=text,
                written_by=actor,
                written_at=now,
                idempotency_key=key,
            )
    except IntegrityError:  # the same form, a moment earlier, in another request
        return HandoffNote.objects.get(idempotency_key=key)


@transaction.atomic
def handoff_note_amend(
    *,
    actor: User,
    note: HandoffNote,
    kind: str,
    text: str = "",
    reason: str,
    now: datetime.datetime | None = None,
) -> HandoffNoteAmendment:
    """Correct a note (what it reads from now on) or mark it entered in error (it leaves the
    reports not yet submitted). Its writer or a nurse; the original stays visible."""
    check_inputs(text=text, reason=reason)
    now = now or timezone.now()
    role = membership_role(user=actor, facility_id=note.facility_id)
    if role not in NOTE_WRITERS or (actor.pk != note.written_by_id and role != Role.NURSE):
        raise DomainError("Only the note's writer or a nurse can amend it.")
    if kind not in AmendmentKind.values:
        raise DomainError("Choose a correction or entered in error.", field="kind")
    text, reason = (text or "").strip(), (reason or "").strip()
    if not reason:
        raise DomainError("Say why the note is amended.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if kind == AmendmentKind.CORRECTION:
        if not text:
            raise DomainError("Write the corrected note.", field="text")
        if len(text) > NOTE_MAX:
            raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="text")
    else:
        text = ""
    locked = HandoffNote.objects.select_for_update().get(pk=note.pk)
    if locked.amendments.filter(kind=AmendmentKind.ENTERED_IN_ERROR).exists():
        raise DomainError("This note was already marked entered in error.")
    return HandoffNoteAmendment.objects.create(
        note=locked, kind=kind, text=text, reason=reason, amended_by=actor, amended_at=now
    )


# The report -------------------------------------------------------------------------------


def _row_values(unit: Unit, shift: Shift, now: datetime.datetime) -> dict:
    return {
        "facility_id": unit.facility_id,
        "unit": unit,
        "shift_day": shift.day,
        "shift_name": shift.name,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "acknowledge_by": shift.ends_at + ACKNOWLEDGE_WITHIN,
        "created_at": now,
    }


def _locked_report(unit: Unit, shift: Shift, now: datetime.datetime) -> ShiftReport:
    """The report row of the unit's shift, made if the beat has not yet, locked."""
    ShiftReport.objects.bulk_create(
        [ShiftReport(**_row_values(unit, shift, now))], ignore_conflicts=True
    )
    return (
        ShiftReport.objects.select_for_update(of=("self",))
        .select_related("submitted_by")
        .get(unit=unit, shift_day=shift.day, shift_name=shift.name)
    )


@transaction.atomic
def shift_report_submit(
    *, actor: User, unit: Unit, shift: Shift, now: datetime.datetime | None = None
) -> ShiftReport:
    """The outgoing staff member hands the shift over: the report as it reads now is frozen
    (its snapshot, with every line's link and the notes it carries) and never changes again.
    A shift not yet begun cannot be submitted; a report is submitted once."""
    now = now or timezone.now()
    facility = unit.facility
    _require(actor, facility.pk, SUBMITTERS, "submit a shift report")
    if shift.starts_at > now:
        raise DomainError("This shift has not begun: its report cannot be submitted yet.")
    report = _locked_report(unit, shift, now)
    if report.state != ReportState.OPEN:
        raise DomainError(
            f"This report was already submitted by {report.submitted_by} at "
            f"{local_stamp(report.submitted_at, facility.tz)}."
        )
    view = selectors.report_live(facility=facility, unit=unit, shift=shift, now=now)
    report.snapshot = selectors.snapshot_of(view)
    report.submitted_by, report.submitted_at = actor, now
    report.state = ReportState.SUBMITTED
    report.save(update_fields=["snapshot", "submitted_by", "submitted_at", "state"])
    return report


@transaction.atomic
def shift_report_acknowledge(
    *,
    actor: User,
    report: ShiftReport,
    incoming_username: str,
    incoming_secret: str,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> ShiftReport:
    """The incoming staff member takes the shift: they sign at the workstation of `actor` (the
    signed-in user, usually the outgoing one) with their username and password or PIN, the same
    second-person sign-off as the controlled counts (its lockout included). The notes the
    report carried are acknowledged with it; the others carry on to the next report. The alert
    of a late acknowledgement, if raised, is resolved."""
    check_inputs(incoming_username=incoming_username)
    now = now or timezone.now()
    facility = report.facility
    _require(actor, facility.pk, (*SUBMITTERS, Role.ADMIN), "take part in a handoff")
    incoming = staff_authenticate(
        actor=actor,
        facility=facility,
        username=incoming_username,
        secret=incoming_secret,
        field="incoming",
        who="incoming staff member",
        client_address=client_address,
    )
    if membership_role(user=incoming, facility_id=facility.pk) not in SUBMITTERS:
        raise DomainError(
            "The incoming staff member must be a med tech or a nurse of this facility.",
            field="incoming",
        )
    locked = (
        ShiftReport.objects.select_for_update(of=("self",))
        .select_related("acknowledged_by", "submitted_by")
        .get(pk=report.pk)
    )
    if locked.state == ReportState.OPEN:
        raise DomainError("The report must be submitted before it is acknowledged.")
    if locked.state == ReportState.ACKNOWLEDGED:
        raise DomainError(
            f"This report was already acknowledged by {locked.acknowledged_by} at "
            f"{local_stamp(locked.acknowledged_at, facility.tz)}."
        )
    if incoming.pk == locked.submitted_by_id:
        raise DomainError(
            "The incoming staff member cannot be the one who submitted the report.",
            field="incoming",
        )
    locked.acknowledged_by, locked.acknowledged_at = incoming, now
    locked.state = ReportState.ACKNOWLEDGED
    locked.save(update_fields=["acknowledged_by", "acknowledged_at", "state"])
    carried = [note["id"] for note in (locked.snapshot or {}).get("notes", [])]
    HandoffNote.objects.filter(pk__in=carried, acknowledged_in__isnull=True).update(
        acknowledged_in=locked
    )
    alerts_resolve(
        kinds=[AlertKind.HANDOFF_UNACKNOWLEDGED],
        subjects=[handoff_subject(locked.pk)],
        by=incoming,
        at=now,
        note="Report acknowledged",
    )
    return locked


# Timed work -------------------------------------------------------------------------------


def _shifts_since(start: datetime.datetime, now: datetime.datetime, policy) -> list[Shift]:
    shifts = [shift_at(start, policy)]
    while shifts[-1].ends_at <= now:
        shifts.append(shift_after(shifts[-1], policy))
    return shifts


@automatic_work(HANDOFF_WORK)
def shift_reports_generate(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> int:
    """Make the report row of every unit's shift running now and, after an outage, of the
    shifts since each unit's last row (at most 7 days back); return how many were added.
    Idempotent: the unique key (unit, shift) refuses a second row."""
    now = now or timezone.now()
    facilities = Facility.objects.order_by("pk")
    if facility_ids is not None:
        facilities = facilities.filter(pk__in=facility_ids)
    facilities = {f.pk: f for f in facilities}
    # A unit with nobody in it has nothing to hand over.
    units = list(
        Unit.objects.filter(facility_id__in=list(facilities))
        .filter(Exists(Resident.objects.filter(unit=OuterRef("pk"), status=ResidentStatus.ACTIVE)))
        .order_by("pk")
    )
    latest = dict(
        ShiftReport.objects.filter(unit__in=units)
        .order_by("unit_id", "-starts_at")
        .distinct("unit_id")
        .values_list("unit_id", "starts_at")
    )
    rows = []
    for unit in units:
        last = latest.get(unit.pk)
        start = now if last is None or last >= now else max(last, now - CATCH_UP)
        for shift in _shifts_since(start, now, facilities[unit.facility_id].shifts):
            rows.append(ShiftReport(**_row_values(unit, shift, now)))
    existing = set(
        ShiftReport.objects.filter(
            unit__in=units, starts_at__gte=min((r.starts_at for r in rows), default=now)
        ).values_list("unit_id", "shift_day", "shift_name")
    )
    fresh = [r for r in rows if (r.unit_id, r.shift_day, r.shift_name) not in existing]
    ShiftReport.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
    return len(fresh)


def _alert_words(report: ShiftReport, tz) -> str:
    shift = (
        f"{report.unit.name}, {report.get_shift_name_display().lower()} shift "
        f"{local_stamp(report.starts_at, tz)}–{local_stamp(report.ends_at, tz)[-5:]}"
    )
    if report.state == ReportState.OPEN:
        return f"{shift}: the report was not submitted."
    return (
        f"{shift}: submitted by {report.submitted_by} at "
        f"{local_stamp(report.submitted_at, tz)}, not acknowledged by the incoming shift."
    )


@automatic_work(HANDOFF_WORK)
def handoff_alerts_raise(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> int:
    """The beat's sweep: make the rows (catching up), then raise one alert per report not
    acknowledged by `acknowledge_by` (30 minutes into the next shift), read through the partial
    index of the open reports; return how many alerts were raised. Safe to run twice at once
    (skip_locked, the alert's unique subject) and after any outage (each report once)."""
    now = now or timezone.now()
    shift_reports_generate(now=now, facility_ids=facility_ids)
    with transaction.atomic():
        reports = ShiftReport.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            state__in=[ReportState.OPEN, ReportState.SUBMITTED],
            alerted_at__isnull=True,
            acknowledge_by__lte=now,
        )
        if facility_ids is not None:
            reports = reports.filter(facility_id__in=facility_ids)
        reports = list(reports.select_related("unit", "facility", "submitted_by"))
        alerts_create(
            [
                Alert(
                    facility_id=report.facility_id,
                    kind=AlertKind.HANDOFF_UNACKNOWLEDGED,
                    subject=handoff_subject(report.pk),
                    severity=AlertSeverity.WARNING,
                    message=_alert_words(report, report.facility.tz),
                    created_at=now,
                )
                for report in reports
            ]
        )
        ShiftReport.objects.filter(pk__in=[r.pk for r in reports]).update(alerted_at=now)
    return len(reports)
