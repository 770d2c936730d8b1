"""Reads about doses and alerts that pages and reports share."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Facility, User
from inventory.models import StockItem
from meds.models import HoldParameter, OrderStatus, Prescription
from residents.models import Resident, ResidentStatus

from . import rules
from .models import (
    Administration,
    AdminStatus,
    Alert,
    AlertState,
    Amendment,
    DoseState,
    PrnFollowUp,
    ScheduledDose,
)


def dose_list_for_order(
    *, order: Prescription, since: datetime.datetime, limit: int = 20
) -> QuerySet[ScheduledDose]:
    return ScheduledDose.objects.filter(prescription=order, due_at__gte=since).order_by("due_at")[
        :limit
    ]


def alert_list(
    *, facility: Facility, kind: str = "", unit_id: int | None = None, include_resolved=False
) -> QuerySet[Alert]:
    """The facility's alerts, most severe and newest first, with what each row shows."""
    alerts = Alert.objects.filter(facility=facility).select_related(
        "resident__unit",
        "dose__prescription__medication",
        "acknowledged_by",
        "resolved_by",
    )
    if not include_resolved:
        alerts = alerts.exclude(state=AlertState.RESOLVED)
    if kind:
        alerts = alerts.filter(kind=kind)
    if unit_id:
        alerts = alerts.filter(resident__unit_id=unit_id)
    return alerts.order_by("-severity", "-created_at", "-pk")


def open_alert_count(*, facility: Facility) -> int:
    return Alert.objects.filter(facility=facility, state=AlertState.OPEN).count()


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

    @property
    def counts(self) -> dict[str, int]:
        return {
            "overdue": sum(len(r.overdue) for r in self.residents),
            "due_now": sum(len(r.due_now) for r in self.residents),
            "upcoming": sum(len(r.upcoming) for r in self.residents),
        }


def med_pass_board(*, facility: Facility, now: datetime.datetime) -> list[BoardUnit]:
    """The facility's doses for the med pass, by unit and resident: overdue first, then due now
    (window open), then the next 2 hours. One query whatever the size.

    Read as plain values, not model instances: every cart fetches the board every 30 seconds.
    """
    rows = (
        ScheduledDose.objects.filter(facility=facility, resident__status=ResidentStatus.ACTIVE)
        .filter(
            Q(state=DoseState.OVERDUE) | Q(state=DoseState.DUE, window_opens_at__lte=now + UPCOMING)
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
            "resident__unit__name",
            "prescription__medication__name",
        )
    )
    tz = facility.tz
    units: dict[str, dict[int, BoardResident]] = {}
    for state, due_at, opens, resident_id, first, last, preferred, room, photo, unit, med in rows:
        row = units.setdefault(unit, {}).get(resident_id)
        if row is None:
            row = units[unit][resident_id] = BoardResident(
                resident_id, first, last, preferred, room, photo
            )
        dose = BoardDose(due_at, due_at.astimezone(tz).strftime("%H:%M"), med)
        if state == DoseState.OVERDUE:
            row.overdue.append(dose)
        elif opens <= now:
            row.due_now.append(dose)
        else:
            row.upcoming.append(dose)
    return [
        BoardUnit(name, sorted(rows.values(), key=lambda r: r.sort_key))
        for name, rows in sorted(units.items())
    ]


def _stock_by_medication(resident: Resident) -> dict[int, StockItem]:
    """The supply each medication is taken from: the resident's own, else house stock."""
    items = StockItem.objects.filter(
        Q(resident=resident) | Q(resident__isnull=True), facility_id=resident.facility_id
    ).order_by("-resident_id")
    stock: dict[int, StockItem] = {}
    for item in items:
        if item.resident_id or item.medication_id not in stock:
            stock[item.medication_id] = item
    return stock


@dataclass
class PrnRow:
    order: Prescription
    status: PrnStatus
    allowed: bool


@dataclass
class ResidentPass:
    open_doses: list[ScheduledDose]
    upcoming: list[ScheduledDose]
    prn: list[PrnRow]
    followups_due: list[Administration]
    documented: list[Administration]


def resident_med_pass(*, resident: Resident, now: datetime.datetime) -> ResidentPass:
    """What the resident's med pass page shows, in a fixed number of queries.

    Open doses: window open, or closed and undocumented (overdue; missed in the last 24 hours).
    Upcoming: windows opening in the next 2 hours. PRN orders with their limits. PRN doses whose
    follow-up is not documented. What was documented in the last 12 hours (with amendments).
    The page is opened at every resident of every pass, so related rows are read once each
    (hold parameters, recent records) and shared out in Python.
    """
    doses = list(
        ScheduledDose.objects.filter(resident=resident)
        .filter(
            Q(state__in=[DoseState.DUE, DoseState.OVERDUE], window_opens_at__lte=now + UPCOMING)
            | Q(state=DoseState.MISSED, due_at__gte=now - datetime.timedelta(hours=24))
        )
        .select_related("prescription__medication")
        .order_by("due_at", "pk")
    )
    prn_orders = list(
        Prescription.objects.filter(resident=resident, is_prn=True, status=OrderStatus.ACTIVE)
        .select_related("medication")
        .order_by("medication__name")
    )
    orders = {dose.prescription_id: dose.prescription for dose in doses}
    orders.update({order.pk: order for order in prn_orders})
    rules: dict[int, list[HoldParameter]] = {pk: [] for pk in orders}
    for rule in HoldParameter.objects.filter(prescription_id__in=list(orders)):
        rules[rule.prescription_id].append(rule)
    for order in orders.values():
        order.hold_rules = rules[order.pk]
    half_day_ago = now - datetime.timedelta(hours=12)
    # What the page lists (the last 12 hours) and the PRN doses its limits count (48 hours).
    records = list(
        Administration.objects.filter(resident=resident)
        .filter(
            Q(recorded_at__gte=half_day_ago)
            | Q(
                dose__isnull=True,
                status=AdminStatus.GIVEN,
                voided=False,
                administered_at__gte=now - datetime.timedelta(hours=48),
            )
        )
        .select_related("prescription__medication", "recorded_by", "witness", "followup")
        .prefetch_related(
            Prefetch("amendments", queryset=Amendment.objects.select_related("amended_by"))
        )
        .order_by("-administered_at", "-pk")
    )
    stock = _stock_by_medication(resident)
    for dose in doses:
        dose.stock = stock.get(dose.prescription.medication_id)
    open_doses = [d for d in doses if d.window_opens_at <= now]
    upcoming = [d for d in doses if d.window_opens_at > now]
    prn_given = [
        r for r in records if r.dose_id is None and r.status == AdminStatus.GIVEN and not r.voided
    ]
    prn = []
    for order in prn_orders:
        given = [r for r in prn_given if r.prescription_id == order.pk]
        status = prn_status(order=order, now=now, given=given)
        order.stock = stock.get(order.medication_id)
        prn.append(PrnRow(order, status, status.allowed(now)))
    day_ago = now - datetime.timedelta(hours=24)
    followups_due = sorted(
        (r for r in prn_given if r.administered_at >= day_ago and _no_followup(r)),
        key=lambda r: r.administered_at,
    )
    documented = [r for r in records if r.recorded_at >= half_day_ago]
    return ResidentPass(open_doses, upcoming, prn, followups_due, documented)


def _no_followup(record: Administration) -> bool:
    try:
        record.followup  # noqa: B018 - select_related made it; no query
    except PrnFollowUp.DoesNotExist:
        return True
    return False
