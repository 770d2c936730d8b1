"""The downtime MAR: a unit's doses of the next hours on paper, for when no device works.

Printed from the board before (or as) the network goes: per resident of the unit, by room, the
name, room, birth date and allergies, each scheduled dose due in the next `DOWNTIME_HOURS` with
its window, dose, route, instructions and hold parameters, and the PRN orders with their limits
and the last time each was given, beside blank columns to initial. Built in the request (no
worker, no Redis: it is for when things are down), a fixed number of queries whatever the unit.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Facility, Unit
from mar.models import OPEN_STATES, ScheduledDose
from meds.models import HoldParameter, OrderStatus, Prescription
from residents.models import Resident, ResidentStatus

from .packet import last_given
from .pdf import _allergies

DOWNTIME_HOURS = 8


@dataclass
class PaperDose:
    due_at: datetime.datetime
    opens_at: datetime.datetime
    closes_at: datetime.datetime
    order: Prescription
    overdue: bool
    holds: list[str]


@dataclass
class PaperPrn:
    order: Prescription
    last_given: datetime.datetime | None
    limits: str


@dataclass
class PaperResident:
    resident: Resident
    allergies: str
    doses: list[PaperDose] = field(default_factory=list)
    prn: list[PaperPrn] = field(default_factory=list)


def _limits(order: Prescription) -> str:
    parts = []
    if order.prn_min_hours:
        parts.append(f"at least {order.prn_min_hours.normalize():f} h apart")
    if order.prn_max_per_24h:
        parts.append(f"at most {order.prn_max_per_24h} in 24 h")
    return "; ".join(parts) or "no limit set"


def downtime_mar(
    *, facility: Facility, unit: Unit, now: datetime.datetime
) -> tuple[list[PaperResident], datetime.datetime]:
    """The unit's present residents (by room) with their open doses due before the end of the
    period (overdue ones included) and their active PRN orders; and the period's end. Five
    queries."""
    until = now + datetime.timedelta(hours=DOWNTIME_HOURS)
    residents = list(
        Resident.objects.filter(facility=facility, unit=unit, status=ResidentStatus.ACTIVE)
        .prefetch_related("allergies")
        .order_by("room", "last_name", "first_name", "pk")
    )
    sheets = {r.pk: PaperResident(r, _allergies(r)) for r in residents}
    doses = (
        ScheduledDose.objects.filter(
            facility=facility,
            resident__in=list(sheets),
            state__in=OPEN_STATES,
            due_at__lt=until,
        )
        .select_related("prescription__medication")
        .prefetch_related(
            Prefetch("prescription__hold_parameters", queryset=HoldParameter.objects.order_by("pk"))
        )
        .order_by("due_at", "prescription__medication__name", "pk")
    )
    for dose in doses:
        sheets[dose.resident_id].doses.append(
            PaperDose(
                dose.due_at,
                dose.window_opens_at,
                dose.window_closes_at,
                dose.prescription,
                dose.window_closes_at <= now,
                [str(h) for h in dose.prescription.hold_parameters.all()],
            )
        )
    on = now.astimezone(facility.tz).date()
    prn_orders = (
        Prescription.objects.filter(
            resident__in=list(sheets), is_prn=True, status=OrderStatus.ACTIVE, start_date__lte=on
        )
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=on))
        .select_related("medication")
        .annotate(last_given=last_given())
        .order_by("medication__name", "pk")
    )
    for order in prn_orders:
        sheets[order.resident_id].prn.append(PaperPrn(order, order.last_given, _limits(order)))
    return list(sheets.values()), until


def downtime_mar_pdf(*, facility: Facility, unit: Unit, now: datetime.datetime) -> bytes:
    from weasyprint import HTML

    sheets, until = downtime_mar(facility=facility, unit=unit, now=now)
    context = {
        "facility": facility,
        "unit": unit,
        "sheets": sheets,
        "start": now,
        "until": until,
        "hours": DOWNTIME_HOURS,
        "printed": timezone.now(),
    }
    with timezone.override(facility.tz):
        html = render_to_string("reports/pdf/downtime_mar.html", context)
    return HTML(string=html).write_pdf()
