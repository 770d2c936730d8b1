"""Reads of appointments that pages, the board, the supervisor's home and the shift report
share. Each owns its joins, so its query count does not grow with the facility."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from accounts.models import Facility, Unit
from core.time import local_day_bounds
from residents.models import Resident

from .models import OPEN_STATES, Appointment, AppointmentState

# A dose this long before the pick-up (or the appointment) may be given before leaving.
BEFORE_LEAVING = datetime.timedelta(hours=2)
# No appointment starts more than this before a dose it takes the resident away for.
LONGEST_AWAY = datetime.timedelta(hours=26)


def appointments_between(
    facility: Facility,
    start: datetime.datetime,
    end: datetime.datetime,
    unit: Unit | None = None,
    *,
    include_cancelled: bool = False,
) -> list[Appointment]:
    """The facility's appointments starting in [start, end) (aware instants), in time order,
    each with its resident (and the resident's unit) and who booked the transport: one query.
    `unit` narrows to the residents of one unit. Cancelled ones are left out unless asked for.
    The shift report's "tomorrow's appointments" reads this."""
    rows = Appointment.objects.filter(
        facility=facility, starts_at__gte=start, starts_at__lt=end
    ).select_related("resident__unit", "transport_booked_by")
    if unit is not None:
        rows = rows.filter(resident__unit=unit)
    if not include_cancelled:
        rows = rows.exclude(state=AppointmentState.CANCELLED)
    return list(rows.order_by("starts_at", "resident__last_name", "pk"))


@dataclass
class CalendarDay:
    day: datetime.date
    appointments: list[Appointment] = field(default_factory=list)


def calendar(
    facility: Facility, first: datetime.date, days: int, unit: Unit | None = None
) -> list[CalendarDay]:
    """`days` local days from `first`, each with its appointments (cancelled ones too, marked):
    one query whatever the span. A day's bounds are the facility's midnights, so a DST day has
    its 23 or 25 hours."""
    tz = facility.tz
    start = local_day_bounds(first, tz)[0]
    end = local_day_bounds(first + datetime.timedelta(days=days - 1), tz)[1]
    out = [CalendarDay(first + datetime.timedelta(days=n)) for n in range(days)]
    by_day = {d.day: d for d in out}
    for appointment in appointments_between(facility, start, end, unit, include_cancelled=True):
        by_day[appointment.starts_at.astimezone(tz).date()].appointments.append(appointment)
    return out


def tomorrow_for_home(facility: Facility, today: datetime.date) -> list[Appointment]:
    """Tomorrow's appointments (local day) for the supervisor's home, those whose transport is
    not booked first."""
    start, end = local_day_bounds(today + datetime.timedelta(days=1), facility.tz)
    rows = appointments_between(facility, start, end)
    return sorted(rows, key=lambda a: (a.transport_booked, a.starts_at))


def resident_upcoming(resident: Resident, now: datetime.datetime) -> list[Appointment]:
    """The resident's open appointments from today on (and any still out or waiting for an
    outcome), soonest first."""
    start = today_start(resident.facility, now)
    return list(
        Appointment.objects.filter(resident=resident, state__in=OPEN_STATES)
        .filter(Q(starts_at__gte=start) | ~Q(state=AppointmentState.SCHEDULED))
        .select_related("transport_booked_by")
        .order_by("starts_at", "pk")[:20]
    )


# The resident's open appointments a med pass page needs, for a statement that reads the page in
# one go (mar.selectors): those still to come today or later, those they are out at or back from
# (outcome to record), and scheduled ones whose time away may reach back to a dose still open
# (their return after %(away_since)s). Parameters: %(resident)s, %(today_start)s, %(away_since)s.
# Soonest first; at most 100 (open ones past their day are few: they are closed as they end).
# `appointments_between`'s rule as a condition on `appointments_appointment AS ap`, for a
# statement that reads them with other things (the shift report's): starting in
# [%(appointments_from)s, %(appointments_until)s), not cancelled.
UNIT_APPOINTMENTS_BETWEEN_SQL = (
    "ap.starts_at >= %(appointments_from)s AND ap.starts_at < %(appointments_until)s "
    "AND ap.state <> 'cancelled'"
)

RESIDENT_OPEN_FOR_SQL = """
    SELECT a.* FROM appointments_appointment AS a
    WHERE a.resident_id = %(resident)s
      AND a.state IN ('scheduled', 'out', 'back')
      AND (a.state <> 'scheduled' OR a.starts_at >= %(today_start)s
           OR a.expected_return_at > %(away_since)s)
    ORDER BY a.starts_at, a.id
    LIMIT 100
"""


def today_start(facility: Facility, now: datetime.datetime) -> datetime.datetime:
    """The facility's midnight starting the local day of `now`."""
    return local_day_bounds(now.astimezone(facility.tz).date(), facility.tz)[0]


def upcoming_of(
    appointments: list[Appointment], today_start: datetime.datetime
) -> list[Appointment]:
    """Of the resident's open appointments (soonest first), what `resident_upcoming` reads."""
    return [
        a
        for a in appointments
        if a.state in OPEN_STATES
        and (a.starts_at >= today_start or a.state != AppointmentState.SCHEDULED)
    ][:20]


def away_of(
    appointments: list[Appointment], start: datetime.datetime, end: datetime.datetime
) -> list[Appointment]:
    """Of the resident's open appointments, those `away_appointments` reads for [start, end)."""
    return [
        a
        for a in appointments
        if a.state in (AppointmentState.SCHEDULED, AppointmentState.OUT)
        and a.starts_at < end + LONGEST_AWAY
        and (a.expected_return_at > start or a.state == AppointmentState.OUT)
    ]


def resident_appointments(resident: Resident) -> list[Appointment]:
    """Every appointment of the resident, latest first (the resident's appointments page)."""
    return list(
        Appointment.objects.filter(resident=resident)
        .select_related("transport_booked_by", "outcome_by")
        .order_by("-starts_at", "-pk")[:100]
    )


def out_now(resident_ids) -> dict[int, Appointment]:
    """Resident id -> the appointment they are out at, for these residents (one query)."""
    return {
        a.resident_id: a
        for a in Appointment.objects.filter(
            resident_id__in=list(resident_ids), state=AppointmentState.OUT
        )
    }


def away_span(
    appointment: Appointment, now: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    """When the appointment takes the resident away: from when they left (or, still here, 2
    hours before the pick-up or the start: doses then may be given before leaving) until the
    expected return (or now, while they are out later than expected)."""
    if appointment.state == AppointmentState.OUT:
        return appointment.left_at, max(appointment.expected_return_at, now)
    leaves = (appointment.pickup_at or appointment.starts_at) - BEFORE_LEAVING
    return leaves, appointment.expected_return_at


def away_appointments(
    resident_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[Appointment]:
    """The resident's appointments (scheduled, or out now) that may take them away between
    start and end, soonest first: one query."""
    return list(
        Appointment.objects.filter(
            resident_id=resident_id,
            state__in=(AppointmentState.SCHEDULED, AppointmentState.OUT),
            starts_at__lt=end + LONGEST_AWAY,
        )
        .filter(Q(expected_return_at__gt=start) | Q(state=AppointmentState.OUT))
        .order_by("starts_at", "pk")
    )


def away_at(
    appointments: list[Appointment],
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    now: datetime.datetime,
) -> Appointment | None:
    """Of these appointments, the one whose time away overlaps a dose window (out first)."""
    for appointment in sorted(appointments, key=lambda a: a.state != AppointmentState.OUT):
        leaves, back = away_span(appointment, now)
        if leaves < closes_at and opens_at < back:
            return appointment
    return None


def away_for(
    resident_id: int,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Appointment | None:
    """The resident's appointment a dose window falls in (they are out now, or a scheduled one
    takes them away across it; see away_span): its doses may be given before leaving, or
    recorded as sent with the resident or not given."""
    now = now or timezone.now()
    return away_at(away_appointments(resident_id, opens_at, closes_at), opens_at, closes_at, now)
