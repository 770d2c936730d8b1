"""appointments' pages: the calendar (day and week, facility or unit), booking, the
appointment's page with its steps (transport, holds, out, back, outcome, cancel) and a
resident's appointments. Thin: the services decide, the selectors read."""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import EVERYONE, facility_view, scoped_get
from core.errors import DomainError
from core.validators import parse_id
from core.views import run_service
from meds.models import DatedHold, DatedHoldState, OrderStatus, Prescription
from meds.services import dated_hold_cancel, dated_hold_verify
from residents.models import Resident

from . import selectors, services
from .forms import (
    AppointmentForm,
    CancelForm,
    HoldDecisionForm,
    HoldForm,
    MoveForm,
    OutcomeForm,
    TransportForm,
    local_input,
    local_instant,
)
from .models import Appointment, AppointmentState

BOOKERS = services.BOOKERS


def _day(raw: str | None, today: datetime.date) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(raw or "")
    except ValueError:
        return today
    return day if datetime.date(2000, 1, 1) <= day <= datetime.date(2100, 1, 1) else today


@facility_view(EVERYONE)
def appointment_calendar(request):
    """The facility's (or one unit's) appointments for a day or a week (Monday on)."""
    facility = request.facility
    today = facility.local_today()
    day = _day(request.GET.get("date"), today)
    week = request.GET.get("view") == "week"
    units = list(facility.units.order_by("name"))
    unit_id = parse_id(request.GET.get("unit"))
    unit = next((u for u in units if u.pk == unit_id), None)
    first = day - datetime.timedelta(days=day.weekday()) if week else day
    span = 7 if week else 1
    days = selectors.calendar(facility, first, span, unit)
    step = datetime.timedelta(days=span)
    return render(
        request,
        "appointments/calendar.html",
        {
            "days": days,
            "week": week,
            "day": day,
            "today": today,
            "previous": first - step,
            "next": first + step,
            "units": units,
            "unit": unit,
            "tz": facility.tz,
        },
    )


def _appointment(request, pk: int) -> Appointment:
    return scoped_get(
        Appointment.objects.select_related(
            "resident__unit",
            "created_by",
            "transport_booked_by",
            "left_by",
            "returned_by",
            "outcome_by",
            "cancelled_by",
        ),
        request,
        pk=pk,
    )


def _active_orders(resident: Resident):
    return (
        Prescription.objects.filter(resident=resident, status=OrderStatus.ACTIVE)
        .select_related("medication")
        .order_by("medication__name", "pk")
    )


def _detail(request, appointment: Appointment, *, bound: dict | None = None):
    bound = bound or {}
    tz = request.facility.tz
    state = appointment.state
    version = {"version": appointment.version}
    scheduled = state == AppointmentState.SCHEDULED
    holds = list(
        DatedHold.objects.filter(appointment_hold__appointment=appointment)
        .select_related("prescription__medication", "placed_by", "verified_by", "cancelled_by")
        .order_by("starts_at", "pk")
    )
    orders = list(appointment.orders.select_related("prescription__medication"))
    default_hold = {
        "starts_at": local_input(
            (appointment.pickup_at or appointment.starts_at) - datetime.timedelta(hours=2), tz
        ),
        "ends_at": local_input(appointment.expected_return_at, tz),
    }
    context = {
        "appointment": appointment,
        "holds": holds,
        "orders": orders,
        "nurse": request.role == Role.NURSE,
        "writer": request.role in (Role.NURSE, Role.ADMIN),
        "transport_form": bound.get("transport")
        or (
            TransportForm(
                initial={
                    **version,
                    "pickup_at": local_input(
                        appointment.pickup_at
                        or appointment.starts_at - datetime.timedelta(minutes=45),
                        tz,
                    ),
                }
            )
            if scheduled and not appointment.transport_booked
            else None
        ),
        "hold_form": bound.get("hold")
        or (
            HoldForm(
                orders=_active_orders(appointment.resident).filter(is_prn=False),
                initial=default_hold,
            )
            if scheduled
            else None
        ),
        "leave_form": bound.get("leave") or (MoveForm(initial=version) if scheduled else None),
        "back_form": bound.get("back")
        or (MoveForm(initial=version) if state == AppointmentState.OUT else None),
        "outcome_form": bound.get("outcome")
        or (
            OutcomeForm(
                orders=_active_orders(appointment.resident),
                initial={**version, "prescriber": appointment.provider_name, "order": "none"},
            )
            if state in (AppointmentState.SCHEDULED, AppointmentState.BACK)
            else None
        ),
        "cancel_form": bound.get("cancel") or (CancelForm(initial=version) if scheduled else None),
        "hold_decision_form": HoldDecisionForm(),
        "pending_state": DatedHoldState.PENDING,
        "verified_state": DatedHoldState.VERIFIED,
    }
    return render(request, "appointments/detail.html", context)


@facility_view(EVERYONE)
def appointment_detail(request, pk: int):
    return _detail(request, _appointment(request, pk))


def _form_page(request, *, resident, form, appointment=None):
    return render(
        request,
        "appointments/form.html",
        {"resident": resident, "form": form, "appointment": appointment},
    )


@facility_view(BOOKERS, action="book appointments")
def appointment_new(request, pk: int):
    resident = scoped_get(Resident.objects.select_related("unit"), request, pk=pk)
    tz = request.facility.tz
    tomorrow = request.facility.local_today() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(tomorrow, datetime.time(10, 0))
    form = AppointmentForm(
        request.POST or None,
        initial={
            "starts_at": start,
            "expected_return_at": start + datetime.timedelta(hours=2),
            "transport": "van",
            "transport_booker": "Front desk",
            "bring_medication_list": True,
            "bring_insurance_card": True,
        },
    )
    if request.method == "POST" and form.is_valid():
        appointment = run_service(
            form,
            lambda: services.appointment_create(
                actor=request.user, resident=resident, **form.details(tz)
            ),
        )
        if appointment is not None:
            messages.success(request, "Booked. Book the transport next (it is flagged until then).")
            return redirect("appointment_detail", pk=appointment.pk)
    return _form_page(request, resident=resident, form=form)


@facility_view(BOOKERS, action="change appointments")
def appointment_edit(request, pk: int):
    appointment = _appointment(request, pk)
    tz = request.facility.tz
    initial = {name: getattr(appointment, name) for name in services.DETAIL_FIELDS}
    for name in ("starts_at", "expected_return_at", "pickup_at"):
        initial[name] = local_input(initial[name], tz)
    initial["version"] = appointment.version
    form = AppointmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and not form.cleaned_data.get("version"):
        form.add_error(None, "This form is out of date: reload the page and change it again.")
    if request.method == "POST" and form.is_valid():
        done = run_service(
            form,
            lambda: services.appointment_update(
                actor=request.user,
                appointment=appointment,
                version=form.cleaned_data.get("version"),
                **form.details(tz),
            ),
        )
        if done is not None:
            messages.success(request, "Saved.")
            return redirect("appointment_detail", pk=appointment.pk)
    return _form_page(request, resident=appointment.resident, form=form, appointment=appointment)


def _step(request, pk: int, key: str, form, call, done_message: str):
    """POST one step of the appointment: the service, then back to its page (or the page with
    the refused form beside its fields, status 400)."""
    appointment = _appointment(request, pk)
    if form.is_valid() and run_service(form, lambda: call(appointment, form.cleaned_data)):
        messages.success(request, done_message)
        return redirect("appointment_detail", pk=appointment.pk)
    return _detail(request, _appointment(request, pk), bound={key: form})


@require_POST
@facility_view(BOOKERS, action="book transport")
def appointment_transport(request, pk: int):
    tz = request.facility.tz
    return _step(
        request,
        pk,
        "transport",
        TransportForm(request.POST),
        lambda a, data: services.appointment_book_transport(
            actor=request.user,
            appointment=a,
            version=data["version"],
            pickup_at=local_instant(data["pickup_at"], tz),
            note=data["note"],
        ),
        "Transport booked.",
    )


@require_POST
@facility_view(BOOKERS, action="place holds")
def appointment_hold(request, pk: int):
    tz = request.facility.tz
    appointment = _appointment(request, pk)
    form = HoldForm(request.POST, orders=_active_orders(appointment.resident).filter(is_prn=False))
    return _step(
        request,
        pk,
        "hold",
        form,
        lambda a, data: services.appointment_hold_medication(
            actor=request.user,
            appointment=a,
            prescription=data["prescription"],
            starts_at=local_instant(data["starts_at"], tz),
            ends_at=local_instant(data["ends_at"], tz),
            reason=data["reason"],
        ),
        "Hold placed: it stops doses once a nurse verifies it.",
    )


def _move(request, pk: int, key: str, service, message: str):
    tz = request.facility.tz
    return _step(
        request,
        pk,
        key,
        MoveForm(request.POST),
        lambda a, data: service(
            actor=request.user,
            appointment=a,
            version=data["version"],
            at=local_instant(data.get("at"), tz),
        ),
        message,
    )


@require_POST
@facility_view(BOOKERS, action="mark residents out")
def appointment_leave(request, pk: int):
    return _move(
        request,
        pk,
        "leave",
        services.appointment_leave,
        "Out — appointment. Their doses in that time ask for a reason on the med pass.",
    )


@require_POST
@facility_view(BOOKERS, action="mark residents back")
def appointment_back(request, pk: int):
    return _move(request, pk, "back", services.appointment_return, "Back. Record the outcome now.")


@require_POST
@facility_view(BOOKERS, action="cancel appointments")
def appointment_cancel(request, pk: int):
    return _step(
        request,
        pk,
        "cancel",
        CancelForm(request.POST),
        lambda a, data: services.appointment_cancel(
            actor=request.user, appointment=a, version=data["version"], reason=data["reason"]
        ),
        "Cancelled.",
    )


@require_POST
@facility_view(BOOKERS, action="record outcomes")
def appointment_outcome(request, pk: int):
    appointment = _appointment(request, pk)
    form = OutcomeForm(request.POST, orders=_active_orders(appointment.resident))

    def call(a, data):
        orders = []
        if (data.get("order") or "none") != "none":
            orders.append(
                services.OutcomeOrder(
                    medication=data["medication"],
                    dose_amount=data["dose_amount"],
                    dose_unit=data.get("dose_unit") or "tablet",
                    route=data["route"],
                    times=data["times_parsed"],
                    start_date=request.facility.local_today(),
                    prescriber=data["prescriber"],
                    instructions=data.get("instructions") or "",
                    replaces=data.get("replaces") if data["order"] == "change" else None,
                    allergy_override_reason=data.get("allergy_override_reason") or "",
                )
            )
        return services.appointment_record_outcome(
            actor=request.user,
            appointment=a,
            version=data["version"],
            seen=data["seen"],
            notes=data["notes"],
            orders=orders,
        )

    return _step(
        request,
        pk,
        "outcome",
        form,
        call,
        "Outcome recorded; the appointment is closed. Any order waits for a nurse's verification.",
    )


def _hold(request, pk: int, hold_pk: int) -> DatedHold:
    appointment = _appointment(request, pk)
    hold = DatedHold.objects.filter(pk=hold_pk, appointment_hold__appointment=appointment).first()
    if hold is None:
        raise Http404
    return appointment, hold


@require_POST
@facility_view((Role.NURSE,), action="verify holds")
def appointment_hold_verify(request, pk: int, hold_pk: int):
    appointment, hold = _hold(request, pk, hold_pk)
    try:
        dated_hold_verify(actor=request.user, hold=hold)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Hold verified: its doses will not be given.")
    return redirect("appointment_detail", pk=appointment.pk)


@require_POST
@facility_view(BOOKERS, action="cancel holds")
def appointment_hold_cancel(request, pk: int, hold_pk: int):
    appointment, hold = _hold(request, pk, hold_pk)
    form = HoldDecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        dated_hold_cancel(actor=request.user, hold=hold, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Hold cancelled.")
    return redirect("appointment_detail", pk=appointment.pk)


@facility_view(EVERYONE)
def resident_appointments(request, pk: int):
    resident = scoped_get(Resident.objects.select_related("unit", "facility"), request, pk=pk)
    upcoming = selectors.resident_upcoming(resident, timezone.now())
    upcoming_ids = {a.pk for a in upcoming}
    past = [a for a in selectors.resident_appointments(resident) if a.pk not in upcoming_ids]
    return render(
        request,
        "appointments/resident.html",
        {"resident": resident, "upcoming": upcoming, "past": past},
    )
