"""Reads about doses and alerts that pages and reports share."""

import datetime

from django.db.models import QuerySet

from accounts.models import Facility
from meds.models import Prescription

from .models import Alert, AlertState, ScheduledDose


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
