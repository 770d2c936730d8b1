"""What the supervisor reports share: the period's UTC bounds and the unit / resident filter."""

import datetime

from django.db.models import Q

from accounts.models import Facility
from core.time import local_days_bounds


def local_bounds(facility: Facility, start: datetime.date, end: datetime.date):
    """UTC [from, to) of the facility-local days start..end (both included)."""
    return local_days_bounds(start, end, facility.tz)


def resident_filter(unit_id: int | None, resident_id: int | None, prefix: str = "") -> Q:
    """Unit and resident filters; an id of another facility simply matches nothing."""
    q = Q()
    if unit_id:
        q &= Q(**{f"{prefix}resident__unit_id": unit_id})
    if resident_id:
        q &= Q(**{f"{prefix}resident_id": resident_id})
    return q
