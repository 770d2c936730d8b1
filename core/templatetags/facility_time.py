"""The one date and time style a person reads, in the facility's zone.

Registered as template builtins (settings.TEMPLATES), so every template has them without
`{% load %}`. Each filter converts an aware instant to the *current* time zone, which
`accounts.middleware.CurrentFacilityMiddleware` sets to the facility's zone for every request
(PDFs built outside a request wrap their rendering in `timezone.override(facility.tz)`).

    {{ dose.due_at|instant }}   2026-12-02 14:05
    {{ dose.due_at|clock }}     14:05
    {{ record.day|day }}        2026-12-02        (a date, or the local date of an instant)
    {{ record.day|weekday }}    Wed 2026-12-02

Python code formats with the same words through `core.time` (local_stamp, local_time, ...).
"""

import datetime

from django import template
from django.utils import timezone

from core import time as facility_time

register = template.Library()


def _local(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            return value
        return value.astimezone(timezone.get_current_timezone())
    return value


@register.filter
def instant(value) -> str:
    """An instant as its local date and time; '' for None."""
    if not isinstance(value, datetime.datetime):
        return "" if value is None else str(value)
    return _local(value).strftime(facility_time.STAMP_FORMAT)


def _formatted(value, fmt: str, kinds) -> str:
    """`value` (an instant read locally, or a date/time of `kinds`) in `fmt`; '' for None."""
    if isinstance(value, datetime.datetime):
        value = _local(value)
    if isinstance(value, kinds):
        return value.strftime(fmt)
    return "" if value is None else str(value)


@register.filter
def clock(value) -> str:
    """The local clock time of an instant (or a time of day)."""
    return _formatted(value, facility_time.CLOCK_FORMAT, (datetime.datetime, datetime.time))


@register.filter
def day(value) -> str:
    """A calendar date, or the local date of an instant."""
    return _formatted(value, facility_time.DATE_FORMAT, datetime.date)


@register.filter
def weekday(value) -> str:
    """A date with its weekday, for day headings: 'Wed 2026-12-02'."""
    return _formatted(value, facility_time.WEEKDAY_FORMAT, datetime.date)
