"""The appointment packet: one page that travels with the resident to an appointment (face
sheet, allergies, code status, contacts, the active medications with when each was last given,
the appointment and what to bring). WeasyPrint, the MAR PDF's family (tables and @page only).
A fixed number of queries whatever the resident's orders."""

import datetime

from django.db.models import Max, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from appointments.models import Appointment
from mar.models import Administration, AdminStatus
from meds.models import DatedHold, DatedHoldState, OrderStatus, Prescription

from .pdf import _allergies


def last_given() -> Subquery:
    """When an order (the outer query's row) was last given, for `.annotate()`."""
    return Subquery(
        Administration.objects.filter(
            prescription=OuterRef("pk"), status=AdminStatus.GIVEN, voided=False
        )
        .order_by()
        .values("prescription")
        .annotate(last=Max("administered_at"))
        .values("last")
    )


def packet_medications(resident, *, on: datetime.date):
    """The resident's active orders on `on` with the last time each was given (one query)."""
    return list(
        Prescription.objects.filter(resident=resident, status=OrderStatus.ACTIVE)
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=on))
        .select_related("medication")
        .annotate(last_given=last_given())
        .order_by("is_prn", "medication__name", "pk")
    )


def appointment_packet_pdf(appointment: Appointment) -> bytes:
    from weasyprint import HTML

    resident = appointment.resident
    facility = appointment.facility
    tz = facility.tz
    holds = list(
        DatedHold.objects.filter(appointment_hold__appointment=appointment)
        .exclude(state=DatedHoldState.CANCELLED)
        .select_related("prescription__medication")
    )
    context = {
        "a": appointment,
        "resident": resident,
        "facility": facility,
        "allergies": _allergies(resident),
        "medications": packet_medications(resident, on=appointment.starts_at.astimezone(tz).date()),
        "holds": holds,
        "age": resident.age_on(appointment.starts_at.astimezone(tz).date()),
        "printed": timezone.now(),
    }
    with timezone.override(tz):
        html = render_to_string("reports/pdf/appointment_packet.html", context)
        return HTML(string=html).write_pdf()
