"""Reads about doses and alerts that pages and reports share."""

import datetime
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import Facility, Role, User
from appointments.models import Appointment, AppointmentState
from appointments.selectors import (
    RESIDENT_OPEN_FOR_SQL,
    away_at,
    away_of,
    today_start,
    upcoming_of,
)
from care.models import MonitoringEpisode
from core import rows
from core.lookups import Blank
from core.time import local_day_time, local_stamp, local_time
from inventory.models import StockItem
from inventory.selectors import STOCK_ITEMS_FOR_SQL
from meds.models import HoldParameter, Medication, OrderStatus, Prescription
from residents.models import Resident, ResidentStatus
from residents.selectors import Passing

from . import rules
from .models import (
    Administration,
    AdminStatus,
    Alert,
    AlertState,
    Amendment,
    DoseState,
    Entry,
    OtherCode,
    PrnFollowUp,
    ReconciliationItem,
    ReconciliationState,
    ScheduledDose,
)


def dose_list_for_order(
    *, order: Prescription, since: datetime.datetime, limit: int = 20
) -> QuerySet[ScheduledDose]:
    return ScheduledDose.objects.filter(prescription=order, due_at__gte=since).order_by("due_at")[
        :limit
    ]


def alert_list(
    *,
    facility: Facility,
    kind: str = "",
    unit_id: int | None = None,
    severity: int | None = None,
    rollup_id: int | None = None,
    include_resolved=False,
) -> QuerySet[Alert]:
    """The facility's alerts, most severe and newest first, with what each row shows.

    The dose alerts gathered into an "unreviewed missed doses" alert are left out, except when
    `rollup_id` asks for that roll-up's own (then resolved ones too)."""
    alerts = Alert.objects.filter(facility=facility).select_related(
        "resident__unit",
        "dose__prescription__medication",
        "acknowledged_by",
        "resolved_by",
    )
    if rollup_id:
        alerts = alerts.filter(rolled_into_id=rollup_id)
    else:
        alerts = alerts.filter(rolled_into__isnull=True)
        if not include_resolved:
            alerts = alerts.exclude(state=AlertState.RESOLVED)
    if kind:
        alerts = alerts.filter(kind=kind)
    if unit_id:
        alerts = alerts.filter(resident__unit_id=unit_id)
    if severity:
        alerts = alerts.filter(severity=severity)
    return alerts.order_by("-severity", "-created_at", "-pk")


def open_alert_count(*, facility: Facility) -> int:
    return Alert.objects.filter(
        facility=facility, state=AlertState.OPEN, rolled_into__isnull=True
    ).count()


@dataclass(frozen=True)
class PrnStatus:
    last_at: datetime.datetime | None
    last_by: User | None
    given_in_24h: int
    next_allowed_at: datetime.datetime | None  # None: allowed now
    too_many: bool = False  # the maximum per 24 hours is what holds it back

    def allowed(self, now: datetime.datetime) -> bool:
        return self.next_allowed_at is None or self.next_allowed_at <= now


def prn_status(
    *, order: Prescription, now: datetime.datetime, given: list[Administration] | None = None
) -> PrnStatus:
    """Last dose, doses in the rolling 24 hours and when the next is allowed (`rules.prn_check`).

    `given`: the order's standing PRN doses, newest first, when the caller already has them.
    """
    if given is None:
        given = list(
            Administration.objects.filter(
                prescription=order, status=AdminStatus.GIVEN, voided=False, dose__isnull=True
            )
            .select_related("recorded_by")
            .order_by("-administered_at")[:50]
        )
    if not given:
        return PrnStatus(None, None, 0, None)
    check = rules.prn_check(
        given=[a.administered_at for a in given],
        at=now,
        min_hours=order.prn_min_hours,
        max_per_24h=order.prn_max_per_24h,
    )
    return PrnStatus(
        given[0].administered_at,
        given[0].recorded_by,
        check.given_in_24h,
        check.next_allowed_at,
        check.too_many,
    )


# The downtime MAR typed in (mar/late_entry_views.py) -------------------------------------------

# Empty PRN lines offered per order: the downtime MAR's row has room for two doses.
PRN_PAPER_LINES = 2


@dataclass
class LateEntryResident:
    """A resident of the unit with the doses still undocumented in the period and the PRN
    orders a dose given on paper may be typed in for."""

    resident: Resident
    doses: list[ScheduledDose] = field(default_factory=list)
    prn: list[Prescription] = field(default_factory=list)  # annotated `last_given`


def late_entry_sheet(
    *,
    facility: Facility,
    unit_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    dose_ids: Iterable[int] = (),
    prn_ids: Iterable[int] = (),
) -> list[LateEntryResident]:
    """The unit's scheduled doses due in [start, end) that nobody documented (due, overdue or
    missed), and the active PRN orders of its present residents, by room, name and due time;
    with the doses and PRN orders `dose_ids` / `prn_ids` of the unit whatever their state (the
    lines a submit sent, so that one documented meanwhile is shown with its message). Two
    queries whatever the size of the unit."""
    start_day, end_day = start.astimezone(facility.tz).date(), end.astimezone(facility.tz).date()
    doses = (
        ScheduledDose.objects.filter(facility=facility, resident__unit_id=unit_id)
        .filter(
            Q(
                state__in=[DoseState.DUE, DoseState.OVERDUE, DoseState.MISSED],
                due_at__gte=start,
                due_at__lt=end,
            )
            | Q(pk__in=list(dose_ids))
        )
        .select_related("prescription__medication", "resident")
        .order_by("due_at", "prescription__medication__name", "pk")
    )
    last_given = (
        Administration.objects.filter(
            prescription=OuterRef("pk"), status=AdminStatus.GIVEN, voided=False
        )
        .order_by("-administered_at")
        .values("administered_at")[:1]
    )
    orders = (
        Prescription.objects.filter(facility=facility, resident__unit_id=unit_id, is_prn=True)
        .filter(
            Q(
                status=OrderStatus.ACTIVE,
                resident__status=ResidentStatus.ACTIVE,
                start_date__lte=end_day,
            )
            & (Q(stop_date__isnull=True) | Q(stop_date__gte=start_day))
            | Q(pk__in=list(prn_ids))
        )
        .select_related("medication", "resident")
        .annotate(last_given=Subquery(last_given))
        .order_by("medication__name", "pk")
    )
    sheets: dict[int, LateEntryResident] = {}
    for dose in doses:
        sheets.setdefault(dose.resident_id, LateEntryResident(dose.resident)).doses.append(dose)
    for order in orders:
        sheets.setdefault(order.resident_id, LateEntryResident(order.resident)).prn.append(order)
    return sorted(
        sheets.values(),
        key=lambda s: (s.resident.room, s.resident.last_name, s.resident.first_name, s.resident.pk),
    )


# The med pass --------------------------------------------------------------------------------

UPCOMING = datetime.timedelta(hours=2)


@dataclass
class BoardDose:
    due_at: datetime.datetime
    time: str  # facility-local HH:MM
    medication: str


@dataclass
class BoardResident:
    pk: int
    first_name: str
    last_name: str
    preferred_name: str
    room: str
    photo: str
    monitored: bool = False  # a monitoring episode is running
    out: bool = False  # out at an appointment (the sweep leaves their doses; a reason is asked)
    overdue: list[BoardDose] = field(default_factory=list)
    due_now: list[BoardDose] = field(default_factory=list)
    upcoming: list[BoardDose] = field(default_factory=list)

    @property
    def sort_key(self):
        first = (self.overdue or self.due_now or self.upcoming)[0]
        return (not self.overdue, not self.due_now, first.due_at, self.last_name)


@dataclass
class BoardUnit:
    name: str
    residents: list[BoardResident]
    pk: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "overdue": sum(len(r.overdue) for r in self.residents),
            "due_now": sum(len(r.due_now) for r in self.residents),
            "upcoming": sum(len(r.upcoming) for r in self.residents),
        }


def med_pass_board(
    *, facility: Facility, now: datetime.datetime, passing: Passing | None = None
) -> list[BoardUnit]:
    """The facility's doses for the med pass, by unit and resident: overdue first, then due now
    (window open), then the next 2 hours; only the residents of `passing` (a unit, a cart or the
    med tech's residents for the shift) when given. One query whatever the size.

    Read as plain values, not model instances: every cart fetches the board every 30 seconds.
    """
    rows = (
        # Overdue doses' windows opened before now: one range on the open rows' index.
        # The resident's facility is the dose's (one foreign key holds them together); saying
        # so lets the planner read the facility's residents, not hash every resident of every
        # facility (bench/fleet.py: 48 ms -> 16 ms at 40,000 residents).
        ScheduledDose.objects.filter(
            facility=facility,
            resident__facility=facility,
            resident__status=ResidentStatus.ACTIVE,
            state__in=[DoseState.DUE, DoseState.OVERDUE],
            window_opens_at__lte=now + UPCOMING,
        )
        .filter(passing.residents_q("resident__") if passing else Q())
        .annotate(
            monitored=Exists(
                MonitoringEpisode.objects.filter(
                    resident_id=OuterRef("resident_id"), ended_at__isnull=True, ends_at__gt=now
                )
            ),
            out=Exists(
                Appointment.objects.filter(
                    resident_id=OuterRef("resident_id"), state=AppointmentState.OUT
                )
            ),
        )
        .order_by("resident__unit__name", "resident__last_name", "resident_id", "due_at")
        .values_list(
            "state",
            "due_at",
            "window_opens_at",
            "resident_id",
            "resident__first_name",
            "resident__last_name",
            "resident__preferred_name",
            "resident__room",
            "resident__photo",
            "resident__unit_id",
            "resident__unit__name",
            "prescription__medication__name",
            "monitored",
            "out",
        )
    )
    tz = facility.tz
    units: dict[tuple[str, int], dict[int, BoardResident]] = {}
    for (
        state,
        due_at,
        opens,
        resident_id,
        first,
        last,
        preferred,
        room,
        photo,
        unit_id,
        unit_name,
        med,
        watch,
        out,
    ) in rows:
        unit = (unit_name, unit_id)
        row = units.setdefault(unit, {}).get(resident_id)
        if row is None:
            row = units[unit][resident_id] = BoardResident(
                resident_id, first, last, preferred, room, photo, watch, out
            )
        dose = BoardDose(due_at, due_at.astimezone(tz).strftime("%H:%M"), med)
        if state == DoseState.OVERDUE:
            row.overdue.append(dose)
        elif opens <= now:
            row.due_now.append(dose)
        else:
            row.upcoming.append(dose)
    return [
        BoardUnit(name, sorted(rows.values(), key=lambda r: r.sort_key), pk)
        for (name, pk), rows in sorted(units.items())
    ]


@dataclass
class VitalField:
    """One vital-sign input a card asks for (its hold parameters, in words), with what was typed
    and its error when a submit was refused."""

    kind: str
    label: str
    rules: str  # "Hold if Systolic BP below 100 mmHg"
    value: str = ""
    error: str = ""


def _vital_fields(rules_of: list[HoldParameter]) -> list[VitalField]:
    fields: dict[str, VitalField] = {}
    for rule in rules_of:
        if rule.vital in fields:  # two limits on one reading: one input
            fields[rule.vital].rules += f"; {rule}"
        else:
            fields[rule.vital] = VitalField(rule.vital, rule.get_vital_display(), str(rule))
    return list(fields.values())


@dataclass
class CardForm:
    """A card's recording form as the view hands it to the template: its one-time key and, after
    a refused submit, the messages (beside their field, or on top when no field of the card is
    theirs) and what was typed (never a password or PIN)."""

    key: uuid.UUID | None = None
    message: str = ""  # on top of the card
    # field name -> message beside it; a name without one reads "" (core.lookups)
    errors: dict[str, str] = field(default_factory=Blank)
    values: dict[str, str] = field(default_factory=Blank)


def card_refused(card, *, errors: dict[str, list[str]], values: dict[str, str]) -> None:
    """Put a refused submit's messages and typed values on `card` (a DoseCard, PrnCard or
    FollowUpCard): each message beside the input it names when the card shows that input."""
    placed = card.form_fields() if card.can_record else set()  # no form: all on top
    beside, top = {}, []
    for name, messages in errors.items():
        text = " ".join(str(m) for m in messages)
        if name in placed:
            beside[name] = text
        else:
            top.append(text)
    card.form.message = " ".join(top)
    card.form.errors = Blank(beside)
    card.form.values = Blank(values)
    for vital in getattr(card, "vitals", []):
        vital.value = values.get(f"vital_{vital.kind}", "")
        vital.error = beside.get(f"vital_{vital.kind}", "")
    card.error_message = card.form.message or " ".join(beside.values())


@dataclass
class DoseCard:
    """One scheduled dose on the resident's med pass, with the decisions already made.

    The template shows these; it decides nothing. `form` and `lot` are the view's (the form's
    one-time key with a refused submit's messages and values, and the lot of the package scanned
    for this dose).
    """

    pk: int
    state: str
    due_at: datetime.datetime
    window_opens_at: datetime.datetime
    window_closes_at: datetime.datetime
    order: Prescription
    medication: Medication
    hold_rules: list[HoldParameter]
    stock: StockItem | None
    upcoming: bool  # its window opens later (in the next 2 hours)
    can_record: bool  # the recording form is offered (an upcoming dose: only to a nurse)
    can_give: bool  # "Given" is offered
    no_stock: bool  # nothing on hand: only "not available" can be recorded
    blocked_reason: str  # why it cannot be given now, in words ("" when it can): one banner
    blocked_tone: str  # the banner's colour: "warn" (not yet) or "bad" (no stock, too close)
    opens_at: datetime.datetime | None  # when an upcoming dose's window opens
    needs_late_reason: bool  # the window has closed
    needs_early_reason: bool  # a nurse giving it before the window opens
    needs_vitals: bool  # hold parameters: vitals first
    needs_witness: bool  # a controlled drug
    too_close: str  # given now, it would be closer to another dose than the order allows
    needs_spacing_override: bool  # a nurse may give it anyway, with a reason
    vitals: list[VitalField] = field(default_factory=list)
    cancel_reason: str = ""
    form: CardForm = field(default_factory=CardForm)
    error_message: str = ""  # any refusal of the last submit (the card is outlined)
    lot: str = ""
    # Due while the resident is away at this appointment: a reason is asked instead.
    away: object | None = None
    away_given: bool = False  # "given before leaving" is offered (they have not left yet)
    # What the cart checks when it records this dose without a connection (JSON, offline.js).
    offline: str = ""
    # The form is on the page but hidden until the window opens: a cart that went offline
    # before then shows it at that time (offline.js), as the server would have.
    offline_later: bool = False

    @property
    def anchor(self) -> str:
        return f"dose-{self.pk}"

    def form_fields(self) -> set[str]:
        """The inputs this card shows, where a refusal's message can stand beside its field."""
        return (
            {"reason", "other_code"}
            | ({"late_reason"} if self.needs_late_reason else set())
            | ({"early_reason"} if self.needs_early_reason else set())
            | ({"spacing_override_reason"} if self.needs_spacing_override else set())
            | ({"witness"} if self.needs_witness else set())
            | ({"vitals", *(f"vital_{v.kind}" for v in self.vitals)} if self.vitals else set())
        )


@dataclass
class PrnCard:
    """One PRN order on the resident's med pass, with its limits decided (`rules.prn_check`)."""

    pk: int
    order: Prescription
    medication: Medication
    status: PrnStatus
    hold_rules: list[HoldParameter]
    stock: StockItem | None
    can_record: bool  # the form is offered (not to a med tech without a current certification)
    can_give: bool  # within its limits now
    blocked_reason: str  # no stock, in words ("" otherwise; the limits show as "next allowed")
    next_allowed_at: datetime.datetime | None  # when it is not allowed now
    needs_vitals: bool
    needs_witness: bool
    needs_approval: bool  # facility policy: a nurse approves a med tech's PRN
    vitals: list[VitalField] = field(default_factory=list)
    form: CardForm = field(default_factory=CardForm)
    error_message: str = ""
    # What the cart checks when it gives this PRN without a connection (JSON, offline.js).
    offline: str = ""

    @property
    def anchor(self) -> str:
        return f"prn-{self.pk}"

    def form_fields(self) -> set[str]:
        return (
            {"prn_reason"}
            | ({"witness"} if self.needs_witness else set())
            | ({"approver"} if self.needs_approval else set())
            | ({"vitals", *(f"vital_{v.kind}" for v in self.vitals)} if self.vitals else set())
        )


def _duration_words(delta: datetime.timedelta) -> str:
    hours, minutes = divmod(int(delta.total_seconds() // 60), 60)
    return " ".join(
        part
        for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "")
        if part
    )


def _spacing_words(
    *, previous: Administration, spacing: datetime.timedelta, tz, nurse: bool
) -> str:
    """Why Given is refused: the dose of the same order given less than its spacing before."""
    due = previous.dose.due_at if previous.dose_id else previous.administered_at
    return (
        f"Too close to the {local_time(due, tz)} dose of this order, given at "
        f"{local_day_time(previous.administered_at, tz)} by {previous.recorded_by}: doses are at "
        f"least {_duration_words(spacing)} apart. The next may be given from "
        f"{local_day_time(previous.administered_at + spacing, tz)}. Document this dose as not "
        "given with a reason"
        + (", or override with your reason." if nurse else ", or ask a nurse to override.")
    )


def too_close_to_another_dose(
    *, order: Prescription, given: list[Administration], now: datetime.datetime, tz, nurse: bool
) -> str:
    """Why "Given" now would break the order's minimum spacing (`rules.min_dose_spacing`) from
    one of the doses `given` (the order's other given doses, with their dose and recorder), in
    words; "" when it would not. The med pass card and the recording service both ask here."""
    spacing = rules.min_dose_spacing(order.times, order.min_dose_spacing_minutes)
    conflict = rules.spacing_conflict([a.administered_at for a in given], now, spacing)
    if conflict is None:
        return ""
    previous = next(a for a in given if a.administered_at == conflict)
    return _spacing_words(previous=previous, spacing=spacing, tz=tz, nurse=nurse)


def _no_stock(stock: StockItem | None, order: Prescription) -> bool:
    return stock is not None and stock.on_hand < order.dose_amount


def _dose_card(
    dose: ScheduledDose,
    *,
    now,
    role: str,
    may_record: bool,
    rules_of: list,
    stock: StockItem | None,
    given: list[Administration],
    tz,
) -> DoseCard:
    order = dose.prescription
    upcoming = dose.window_opens_at > now
    no_stock = _no_stock(stock, order)
    nurse = role == Role.NURSE
    too_close = too_close_to_another_dose(order=order, given=given, now=now, tz=tz, nurse=nurse)
    blocked, tone = "", "bad"
    if upcoming:
        blocked, tone = (
            (
                f"Not yet: the window opens at {local_time(dose.window_opens_at, tz)}. "
                + (
                    "Give it early only with your reason."
                    if nurse
                    else "A nurse may give it early."
                )
            ),
            "warn",
        )
    elif no_stock:
        blocked = (
            f"No stock on hand ({stock.on_hand.normalize():f} {stock.unit_of_count} left): only "
            "“Not available” can be recorded. Tell the nurse."
        )
    elif too_close:
        blocked = too_close
    return DoseCard(
        pk=dose.pk,
        state=dose.state,
        due_at=dose.due_at,
        window_opens_at=dose.window_opens_at,
        window_closes_at=dose.window_closes_at,
        order=order,
        medication=order.medication,
        hold_rules=rules_of,
        stock=stock,
        upcoming=upcoming,
        can_record=may_record and (not upcoming or role == Role.NURSE),
        offline_later=may_record and upcoming and role != Role.NURSE,
        can_give=not no_stock and (not too_close or nurse),
        no_stock=no_stock,
        too_close=too_close,
        needs_spacing_override=bool(too_close) and nurse,
        blocked_reason=blocked,
        blocked_tone=tone,
        opens_at=dose.window_opens_at if upcoming else None,
        needs_late_reason=dose.window_closes_at < now,
        needs_early_reason=upcoming and role == Role.NURSE,
        needs_vitals=bool(rules_of),
        needs_witness=bool(order.medication.controlled_schedule),
        vitals=_vital_fields(rules_of),
        offline=_offline_rules(
            kind="dose",
            id=dose.pk,
            order=order.pk,
            opens=dose.window_opens_at,
            closes=dose.window_closes_at,
            tz=tz,
            witness=bool(order.medication.controlled_schedule),
            holds=rules_of,
            give=not no_stock,
            spacing=rules.min_dose_spacing(order.times, order.min_dose_spacing_minutes),
            given=[r.administered_at for r in given],
        ),
    )


def _offline_rules(*, opens=None, closes=None, tz, holds, spacing=None, given, **facts) -> str:
    """The rules a cart applies offline, from the snapshot of this page: the dose's window, the
    hold parameters, the doses given recently (spacing, PRN limits). Times are ISO instants; the
    `*_text` are the facility's clock for messages."""
    facts |= {
        "holds": [
            {
                "vital": h.vital,
                "cmp": h.comparator,
                "at": float(h.threshold),
                "text": str(h),
            }
            for h in holds
        ],
        "given": [t.isoformat() for t in given],
    }
    if opens is not None:
        facts |= {
            "opens": opens.isoformat(),
            "opens_text": local_time(opens, tz),
            "closes": closes.isoformat(),
            "closes_text": local_time(closes, tz),
        }
    if spacing is not None:
        facts["spacing_min"] = int(spacing.total_seconds() // 60)
    return json.dumps(facts, separators=(",", ":"))


def _prn_card(
    order: Prescription,
    *,
    now,
    role: str,
    may_record: bool,
    status: PrnStatus,
    rules_of: list,
    stock,
    given: list[datetime.datetime] = (),
) -> PrnCard:
    allowed = status.allowed(now)
    no_stock = _no_stock(stock, order)
    return PrnCard(
        pk=order.pk,
        order=order,
        medication=order.medication,
        status=status,
        hold_rules=rules_of,
        stock=stock,
        can_record=may_record,
        can_give=allowed,
        blocked_reason="No stock on hand: this PRN cannot be given. Tell the nurse."
        if no_stock
        else "",
        next_allowed_at=None if allowed else status.next_allowed_at,
        needs_vitals=bool(rules_of),
        needs_witness=bool(order.medication.controlled_schedule),
        needs_approval=order.facility.prn_requires_nurse_approval and role == Role.MED_TECH,
        vitals=_vital_fields(rules_of),
        offline=_offline_rules(
            kind="prn",
            id=order.pk,
            order=order.pk,
            tz=order.facility.tz,
            witness=bool(order.medication.controlled_schedule),
            approval=order.facility.prn_requires_nurse_approval and role == Role.MED_TECH,
            holds=rules_of,
            give=not no_stock,
            min_hours=float(order.prn_min_hours or 0),
            max_24h=order.prn_max_per_24h or 0,
            given=given,
        ),
    )


@dataclass
class FollowUpCard:
    """A given PRN dose whose effect is still to be documented."""

    administration: Administration
    opens_at: datetime.datetime  # the effect is judged no sooner (facility policy)
    can_record: bool
    form: CardForm = field(default_factory=CardForm)
    error_message: str = ""

    @property
    def pk(self) -> int:
        return self.administration.pk

    @property
    def anchor(self) -> str:
        return f"followup-{self.pk}"

    def form_fields(self) -> set[str]:
        return {"result", "note"}


@dataclass
class AmendmentLine:
    kind_label: str
    reason: str
    changes: list  # of Change, in words and facility time
    by: User
    at: datetime.datetime


@dataclass
class DocumentedRow:
    """One record of the last 12 hours as the med pass lists it."""

    pk: int
    administered_at: datetime.datetime
    medication: str
    prn: bool
    filled_due: datetime.datetime | None  # the scheduled time this record documented
    status_label: str
    reason: str
    hold_note: str  # the triggered hold parameter, when the reason does not already say it
    late_reason: str
    voided: bool
    amendments: list[AmendmentLine]
    followup: str
    recorded_by: User
    witness: User | None
    can_amend: bool
    paper: bool = False  # initialled on the downtime MAR and typed in later
    # Made on a cart offline: when it reached the server (administered_at is the cart's time).
    offline_sent_at: datetime.datetime | None = None


def _documented_row(record: Administration, *, tz, nurse: bool) -> DocumentedRow:
    followup = getattr(record, "followup", None) if not _no_followup(record) else None
    return DocumentedRow(
        pk=record.pk,
        administered_at=record.administered_at,
        medication=str(record.prescription.medication),
        prn=record.dose_id is None,
        filled_due=record.dose.due_at if record.dose_id else None,
        status_label=record.get_status_display(),
        reason=record.reason,
        hold_note=record.hold_triggered if record.hold_triggered not in record.reason else "",
        late_reason=record.late_reason,
        voided=record.voided,
        amendments=[
            AmendmentLine(
                kind_label=amendment.get_kind_display(),
                reason=amendment.reason,
                changes=amendment_changes(record, amendment.changes, tz),
                by=amendment.amended_by,
                at=amendment.amended_at,
            )
            for amendment in record.amendments.all()
        ],
        followup=followup.get_result_display() if followup is not None else "",
        recorded_by=record.recorded_by,
        witness=record.witness,
        can_amend=nurse and not record.voided,
        paper=record.entry == Entry.PAPER,
        offline_sent_at=record.recorded_at if record.entry == Entry.OFFLINE else None,
    )


@dataclass
class ResidentPass:
    open_doses: list[DoseCard]
    upcoming: list[DoseCard]
    prn: list[PrnCard]
    followups_due: list[FollowUpCard]
    documented: list[DocumentedRow]
    other_codes: list[OtherCode] = field(default_factory=list)  # the facility's, by label
    # The resident's appointments from today on, and any they are out at or back from.
    appointments: list[Appointment] = field(default_factory=list)


def resident_med_pass(
    *,
    resident: Resident,
    now: datetime.datetime,
    role: str = Role.MED_TECH,
    may_record: bool = True,
) -> ResidentPass:
    """What the resident's med pass page shows, in a fixed number of queries, as cards whose
    decisions are made for the person at the screen (`role`; `may_record` False: a med tech
    without a current medication aide certification, offered no recording controls).

    Open doses: window open, or closed and undocumented (overdue; missed in the last 24 hours).
    Upcoming: windows opening in the next 2 hours. PRN orders with their limits. PRN doses whose
    follow-up is not documented. What was documented in the last 12 hours (with amendments).
    The page is opened at every resident of every pass, so related rows are read once each
    (hold parameters, recent records) and shared out in Python.
    """
    fetched = _pass_rows(resident, now)
    doses, prn_orders, records = fetched.doses, fetched.prn_orders, fetched.records
    hold_rules, stock = fetched.hold_rules, fetched.stock
    half_day_ago = now - datetime.timedelta(hours=12)
    given_scheduled: dict[int, list[Administration]] = {}
    for r in records:
        if r.dose_id is not None and r.status == AdminStatus.GIVEN and not r.voided:
            given_scheduled.setdefault(r.prescription_id, []).append(r)
    cards = [
        _dose_card(
            dose,
            now=now,
            role=role,
            may_record=may_record,
            rules_of=hold_rules[dose.prescription_id],
            stock=stock.get(dose.prescription.medication_id),
            given=[
                r for r in given_scheduled.get(dose.prescription_id, []) if r.dose_id != dose.pk
            ],
            tz=resident.facility.tz,
        )
        for dose in doses
    ]
    if doses and may_record:
        appointments = away_of(
            fetched.appointments, min(d.window_opens_at for d in doses), now + UPCOMING
        )
        for card in cards:
            card.away = away_at(appointments, card.window_opens_at, card.window_closes_at, now)
            card.away_given = bool(
                card.away and card.away.state == AppointmentState.SCHEDULED and card.can_give
            )
    prn_given = [
        r for r in records if r.dose_id is None and r.status == AdminStatus.GIVEN and not r.voided
    ]
    prn = [
        _prn_card(
            order,
            now=now,
            role=role,
            may_record=may_record,
            status=prn_status(
                order=order, now=now, given=[r for r in prn_given if r.prescription_id == order.pk]
            ),
            rules_of=hold_rules[order.pk],
            stock=stock.get(order.medication_id),
            given=[r.administered_at for r in prn_given if r.prescription_id == order.pk],
        )
        for order in prn_orders
    ]
    day_ago = now - datetime.timedelta(hours=24)
    earliest = resident.facility.prn_followup_earliest_minutes
    followups_due = [
        FollowUpCard(r, opens, can_record=opens <= now)
        for r in sorted(
            (r for r in prn_given if r.administered_at >= day_ago and _no_followup(r)),
            key=lambda r: r.administered_at,
        )
        for opens in [rules.followup_opens_at(r.administered_at, earliest)]
    ]
    documented = [
        _documented_row(r, tz=resident.facility.tz, nurse=role == Role.NURSE)
        for r in records
        if r.recorded_at >= half_day_ago
    ]
    return ResidentPass(
        [c for c in cards if not c.upcoming],
        [c for c in cards if c.upcoming],
        prn,
        followups_due,
        documented,
        fetched.other_codes,
        upcoming_of(fetched.appointments, fetched.today_start),
    )


# One statement reads what the page shows (see _pass_rows); each part is a JSON array of rows.
_PASS_SQL = """
WITH doses AS (
    SELECT d.* FROM mar_scheduleddose AS d
    WHERE d.resident_id = %(resident)s
      AND ((d.state IN ('due', 'overdue') AND d.window_opens_at <= %(upcoming)s)
           OR (d.state = 'missed' AND d.due_at >= %(day_ago)s))
), records AS (
    SELECT a.* FROM mar_administration AS a
    WHERE a.resident_id = %(resident)s
      AND (a.recorded_at >= %(half_day_ago)s
           OR (a.status = 'given' AND NOT a.voided AND a.administered_at >= %(two_days_ago)s))
), orders AS (
    SELECT p.* FROM meds_prescription AS p
    WHERE p.id IN (SELECT prescription_id FROM doses UNION SELECT prescription_id FROM records)
       OR (p.resident_id = %(resident)s AND p.is_prn AND p.status = 'active')
), amendments AS (
    SELECT m.* FROM mar_amendment AS m WHERE m.administration_id IN (SELECT id FROM records)
)
SELECT
    (SELECT json_agg(doses ORDER BY doses.due_at, doses.id) FROM doses),
    (SELECT json_agg(orders) FROM orders),
    (SELECT json_agg(m) FROM meds_medication AS m
     WHERE m.id IN (SELECT medication_id FROM orders)),
    (SELECT json_agg(h ORDER BY h.vital, h.id) FROM meds_holdparameter AS h
     WHERE h.prescription_id IN (SELECT id FROM orders)),
    (SELECT json_agg(records ORDER BY records.administered_at DESC, records.id DESC)
     FROM records),
    (SELECT json_agg(d) FROM mar_scheduleddose AS d
     WHERE d.id IN (SELECT dose_id FROM records)),
    (SELECT json_agg(f) FROM mar_prnfollowup AS f
     WHERE f.administration_id IN (SELECT id FROM records)),
    (SELECT json_agg(amendments ORDER BY amendments.amended_at, amendments.id)
     FROM amendments),
    (SELECT json_agg(u) FROM (
        SELECT id, username, first_name, last_name, title FROM accounts_user
        WHERE id IN (SELECT recorded_by_id FROM records UNION SELECT witness_id FROM records
                     UNION SELECT amended_by_id FROM amendments)
    ) AS u),
    (SELECT json_agg(s) FROM ({stock}) AS s),
    (SELECT json_agg(o ORDER BY o.label, o.id) FROM mar_othercode AS o
     WHERE o.facility_id = %(facility)s),
    (SELECT json_agg(a) FROM ({appointments}) AS a)
""".format(
    stock=STOCK_ITEMS_FOR_SQL.format(medications="SELECT medication_id FROM orders"),
    appointments=RESIDENT_OPEN_FOR_SQL,
)
# No open dose's window opened before this (missed ones count for a day): the appointments that
# may have taken the resident away during one returned after it.
_AWAY_LOOKBACK = datetime.timedelta(hours=48)


@dataclass
class _PassRows:
    doses: list[ScheduledDose]  # open, overdue, missed in the last day, upcoming: by due time
    prn_orders: list[Prescription]  # the resident's active PRN orders, by medication name
    hold_rules: dict[int, list[HoldParameter]]  # order id -> its hold parameters
    records: list[Administration]  # newest first, with their order, dose, people, amendments
    stock: dict[int, StockItem]  # medication id -> the supply it is taken from
    other_codes: list[OtherCode]
    appointments: list[Appointment]  # open ones, soonest first (RESIDENT_OPEN_FOR_SQL)
    today_start: datetime.datetime


def _pass_rows(resident: Resident, now: datetime.datetime) -> _PassRows:
    """What resident_med_pass decides from, read in ONE statement and made into the models'
    own instances with their related objects attached (core.rows): the page is opened at every
    resident of every pass, and building the querysets' SQL cost more than running it.

    Doses: window open or opening in the next 2 hours, or closed and undocumented (overdue;
    missed in the last 24 hours). Records: made in the last 12 hours, and the doses given in the
    last 48 hours that PRN limits and dose spacing count.
    """
    midnight = today_start(resident.facility, now)
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            _PASS_SQL,
            {
                "today_start": midnight,
                "away_since": now - _AWAY_LOOKBACK,
                "resident": resident.pk,
                "facility": resident.facility_id,
                "upcoming": now + UPCOMING,
                "day_ago": now - datetime.timedelta(hours=24),
                "half_day_ago": now - datetime.timedelta(hours=12),
                "two_days_ago": now - datetime.timedelta(hours=48),
            },
        )
        (
            dose_rows,
            order_rows,
            medication_rows,
            rule_rows,
            record_rows,
            record_dose_rows,
            followup_rows,
            amendment_rows,
            user_rows,
            stock_rows,
            code_rows,
            appointment_rows,
        ) = cursor.fetchone()
    medications = rows.by_pk(rows.instances(Medication, medication_rows))
    orders = rows.instances(Prescription, order_rows)
    rows.attach(orders, "medication", medications)
    for order in orders:
        order.facility = resident.facility  # the resident's own: no join, no query
        order.resident = resident
    orders_by_pk = rows.by_pk(orders)
    hold_rules: dict[int, list[HoldParameter]] = {pk: [] for pk in orders_by_pk}
    for rule in rows.instances(HoldParameter, rule_rows):
        hold_rules[rule.prescription_id].append(rule)
    doses = rows.instances(ScheduledDose, dose_rows)
    rows.attach(doses, "prescription", orders_by_pk)
    users = rows.by_pk(rows.instances(User, user_rows))
    records = rows.instances(Administration, record_rows)
    rows.attach(records, "prescription", orders_by_pk)
    rows.attach(records, "dose", rows.by_pk(rows.instances(ScheduledDose, record_dose_rows)))
    rows.attach(records, "recorded_by", users)
    rows.attach(records, "witness", users)
    followups = rows.instances(PrnFollowUp, followup_rows)
    rows.attach(records, "followup", {f.administration_id: f for f in followups})
    amendments = rows.instances(Amendment, amendment_rows)
    rows.attach(amendments, "amended_by", users)
    rows.attach_many(records, "amendments", amendments, "administration_id")
    stock = {item.medication_id: item for item in rows.instances(StockItem, stock_rows)}
    prn_orders = sorted(
        (
            o
            for o in orders
            if o.is_prn and o.status == OrderStatus.ACTIVE and o.resident_id == resident.pk
        ),
        key=lambda o: (o.medication.name, o.pk),
    )
    return _PassRows(
        doses=doses,
        prn_orders=prn_orders,
        hold_rules=hold_rules,
        records=records,
        stock=stock,
        other_codes=rows.instances(OtherCode, code_rows),
        appointments=sorted(
            rows.instances(Appointment, appointment_rows), key=lambda a: (a.starts_at, a.pk)
        ),
        today_start=midnight,
    )


def _no_followup(record: Administration) -> bool:
    try:
        record.followup  # noqa: B018 - select_related made it; no query
    except PrnFollowUp.DoesNotExist:
        return True
    return False


# The facility's "other" codes -----------------------------------------------------------


def other_code_use_count(*, code: OtherCode) -> int:
    """How many of the facility's administrations were recorded with this code."""
    return Administration.objects.filter(facility_id=code.facility_id, other_code=code.code).count()


@dataclass(frozen=True)
class OtherCodeRow:
    code: OtherCode
    uses: int

    @property
    def may_delete(self) -> bool:
        return self.uses == 0


def other_code_list(*, facility: Facility) -> list[OtherCodeRow]:
    """The facility's codes by label, each with how many recorded doses use it (two queries)."""
    uses = dict(
        Administration.objects.filter(facility=facility)
        .exclude(other_code="")
        .values_list("other_code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        OtherCodeRow(code=code, uses=uses.get(code.code, 0))
        for code in OtherCode.objects.filter(facility=facility).order_by("label", "code")
    ]


# Amendments, as people read them ---------------------------------------------------------------

_CHANGE_LABELS = {
    "status": "Status",
    "administered_at": "Time",
    "reason": "Reason",
    "notes": "Notes",
    "dose_given": "Dose given",
}


@dataclass
class Change:
    label: str
    before: str
    after: str


def amendment_changes(administration: Administration, changes: dict, tz) -> list[Change]:
    """What an amendment changes, in words and facility time: "Time 08:05 → 09:15"."""
    result = []
    for key, after in (changes or {}).items():
        before = getattr(administration, key, "")
        if key == "status":
            before = administration.get_status_display()
            after = AdminStatus(after).label if after in AdminStatus.values else str(after)
        elif key == "administered_at":
            before = local_stamp(administration.administered_at, tz)
            moment = rules.amended_time(after, tz)
            after = local_stamp(moment, tz) if moment is not None else str(after)
        result.append(Change(_CHANGE_LABELS.get(key, key), str(before or "—"), str(after)))
    return result


def open_reconciliation_count(facility) -> int:
    """Offline records of the facility waiting for a nurse (mar.services.offline)."""
    return ReconciliationItem.objects.filter(
        facility=facility, state=ReconciliationState.OPEN
    ).count()
