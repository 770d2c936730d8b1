"""The supervisor's start of the shift: what needs a nurse or an administrator now, each item one
click from its page. Read from every app below (alerts, doses, orders, counts, certifications),
so it lives here; a constant number of queries however big the facility.
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from accounts.models import Facility
from accounts.selectors import certification_expiring_list
from appointments.selectors import tomorrow_for_home
from core.words import counted
from inventory.selectors import count_overview
from mar.inbox import SEVERITY_CLASS, open_alerts_by_severity
from mar.models import AlertKind, AlertSeverity, DoseState, ScheduledDose
from meds.models import DatedHold, DatedHoldState, OrderStatus, Prescription
from meds.selectors import orders_waiting_count
from residents.selectors import resident_status_counts

SHOWN = 5  # items listed per section; the rest are one click away


@dataclass(frozen=True)
class Line:
    """One thing to look at: its words, where it is worked, and how it is marked."""

    text: str
    url: str
    detail: str = ""
    badge: str = ""
    badge_class: str = ""


@dataclass
class Section:
    title: str
    total: int
    total_words: str  # "2 orders wait", "Nothing waits"
    url: str  # the section's own page
    link_label: str
    lines: list[Line] = field(default_factory=list)

    listed: bool = False  # the lines are the first items of the total (orders, people ...)

    @property
    def more(self) -> int:
        """How many items the section's page holds beyond the lines shown."""
        return max(self.total - len(self.lines), 0) if self.listed else 0


@dataclass
class SupervisorHome:
    sections: list[Section]
    residents: dict[str, int]


def age_in_words(then: datetime.datetime, now: datetime.datetime) -> str:
    """How long ago, as a supervisor says it: "25 min ago", "3 h ago", "2 days ago"."""
    minutes = max(int((now - then).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def _alerts_url(**params) -> str:
    return reverse("alert_list") + "?" + urlencode(params)


def _alerts(facility: Facility) -> Section:
    counts = open_alerts_by_severity(facility=facility)
    total = sum(counts.values())
    return Section(
        title="Open alerts",
        total=total,
        total_words=counted(total, "open alert", "open alerts") if total else "No open alert",
        url=reverse("alert_list"),
        link_label="Open the inbox",
        lines=[
            Line(
                text=counted(n, "alert", "alerts"),
                url=_alerts_url(severity=int(severity)),
                badge=AlertSeverity(severity).label,
                badge_class=SEVERITY_CLASS.get(severity, "info"),
            )
            for severity, n in counts.items()
            if n
        ],
    )


def _overdue(facility: Facility) -> Section:
    by_unit = list(
        ScheduledDose.objects.filter(facility=facility, state=DoseState.OVERDUE)
        .values("resident__unit_id", "resident__unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "resident__unit__name")
    )
    total = sum(row["n"] for row in by_unit)
    return Section(
        title="Doses overdue now",
        total=total,
        total_words=counted(total, "dose overdue", "doses overdue") if total else "No dose overdue",
        url=_alerts_url(kind=AlertKind.OVERDUE_DOSE),
        link_label="See the overdue doses",
        lines=[
            Line(
                text=f"{row['resident__unit__name']}: {counted(row['n'], 'dose', 'doses')}",
                url=_alerts_url(kind=AlertKind.OVERDUE_DOSE, unit=row["resident__unit_id"]),
            )
            for row in by_unit
        ],
    )


def _orders(facility: Facility, now: datetime.datetime, may_verify: bool) -> Section:
    waiting = Prescription.objects.filter(facility=facility, status=OrderStatus.PENDING)
    total = orders_waiting_count(facility=facility)
    oldest = waiting.select_related("medication", "resident", "entered_by").order_by(
        "entered_at", "pk"
    )[:SHOWN]
    return Section(
        title="Orders waiting for verification",
        total=total,
        total_words=counted(total, "order waits", "orders wait") if total else "Nothing waits",
        url=reverse("verification_queue"),
        link_label="Open the verification queue",
        listed=True,
        lines=[
            Line(
                text=f"{order.medication} for {order.resident.display_name}",
                url=reverse("order_verify" if may_verify else "order_detail", args=[order.pk]),
                detail=f"entered {age_in_words(order.entered_at, now)} by {order.entered_by}",
            )
            for order in oldest
        ],
    )


def _counts(facility: Facility, now: datetime.datetime) -> Section:
    due = [state for state in count_overview(facility=facility, now=now) if state.overdue]
    lines = []
    for state in due:
        if state.last_count is None:
            detail = "never counted"
        else:
            detail = f"last counted {age_in_words(state.last_count.counted_at, now)}"
        items = counted(state.items, "controlled item", "controlled items")
        lines.append(
            Line(
                text=f"{state.unit.name}: {items}",
                url=reverse("count_unit", args=[state.unit.pk]),
                detail=detail,
                badge="Count due",
                badge_class="warn",
            )
        )
    return Section(
        title="Controlled counts due",
        total=len(due),
        total_words=counted(len(due), "unit to count", "units to count")
        if due
        else "Every unit counted in the last 12 hours",
        url=reverse("count_overview"),
        link_label="Open the shift counts",
        lines=lines,
    )


def _certifications(facility: Facility, today: datetime.date) -> Section:
    expiring = certification_expiring_list(facility=facility, today=today)
    total = expiring.count()
    lines = []
    for certification in expiring[:SHOWN]:
        expired = certification.expires < today
        lines.append(
            Line(
                text=f"{certification.user}: {certification.get_kind_display()}",
                url=reverse("certification_expiring"),
                detail=("expired " if expired else "expires ")
                + certification.expires.strftime("%Y-%m-%d"),
                badge="Expired" if expired else "Expiring",
                badge_class="bad" if expired else "warn",
            )
        )
    return Section(
        title="Certifications expiring",
        total=total,
        total_words=counted(total, "certification", "certifications")
        + " expired or expiring within 30 days"
        if total
        else "No certification expiring within 30 days",
        url=reverse("certification_expiring"),
        link_label="See the certifications",
        listed=True,
        lines=lines,
    )


def _appointments(facility: Facility, now: datetime.datetime) -> Section:
    """Tomorrow's appointments (facility day), those whose transport is not booked first and
    flagged; and the appointments whose pending holds wait for a nurse. One query each."""
    today = now.astimezone(facility.tz).date()
    tomorrow = tomorrow_for_home(facility, today)
    not_booked = sum(1 for a in tomorrow if not a.transport_booked)
    lines = [
        Line(
            text=f"{a.starts_at.astimezone(facility.tz):%H:%M} {a.resident.display_name}: {a}",
            url=reverse("appointment_detail", args=[a.pk]),
            detail=f"{a.get_transport_display()}"
            + (f", pick-up {a.pickup_at.astimezone(facility.tz):%H:%M}" if a.pickup_at else ""),
            badge="Transport booked" if a.transport_booked else "Transport not booked",
            badge_class="ok" if a.transport_booked else "warn",
        )
        for a in tomorrow[:SHOWN]
    ]
    # Holds placed for appointments that wait for a nurse's verification (one query).
    holds = list(
        DatedHold.objects.filter(
            prescription__facility=facility,
            state=DatedHoldState.PENDING,
            appointment_hold__isnull=False,
            ends_at__gt=now,
        )
        .select_related("prescription__medication", "prescription__resident", "appointment_hold")
        .order_by("starts_at", "pk")[:SHOWN]
    )
    lines += [
        Line(
            text=f"Hold {hold.prescription.medication} for "
            f"{hold.prescription.resident.display_name}",
            url=reverse("appointment_detail", args=[hold.appointment_hold.appointment_id]),
            detail=f"from {hold.starts_at.astimezone(facility.tz):%Y-%m-%d %H:%M}",
            badge="Hold to verify",
            badge_class="warn",
        )
        for hold in holds
    ]
    total = len(tomorrow)
    words = (
        counted(total, "appointment", "appointments") + " tomorrow"
        if total
        else "No appointment tomorrow"
    )
    if not_booked:
        words += f", {counted(not_booked, 'transport', 'transports')} not booked"
    if holds:
        words += f"; {counted(len(holds), 'hold waits', 'holds wait')} for a nurse"
    return Section(
        title="Tomorrow's appointments",
        total=total,
        total_words=words,
        url=reverse("appointment_calendar")
        + "?"
        + urlencode({"date": (today + datetime.timedelta(days=1)).isoformat()}),
        link_label="Open the calendar",
        lines=lines,
    )


def supervisor_home(
    *, facility: Facility, now: datetime.datetime, may_verify: bool
) -> SupervisorHome:
    """`may_verify`: the reader is a nurse, whose waiting orders open on their verify step."""
    return SupervisorHome(
        sections=[
            _alerts(facility),
            _overdue(facility),
            _orders(facility, now, may_verify),
            _appointments(facility, now),
            _counts(facility, now),
            _certifications(facility, now.astimezone(facility.tz).date()),
        ],
        residents=resident_status_counts(facility=facility),
    )
