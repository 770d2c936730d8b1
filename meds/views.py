from django.contrib import messages
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Role
from accounts.permissions import (
    EVERYONE,
    WRITERS_ADMIN,
    WRITERS_CLINICAL,
    facility_view,
    scoped_get,
)
from core.errors import DomainError
from core.validators import parse_id, search_text
from core.views import paginate, run_service
from residents.models import Resident

from . import selectors, services
from .forms import MedicationForm, OrderForm, ReasonForm, initial_from_order
from .models import OrderStatus, Prescription
from .services import AllergyWarning


def _today(request):
    return request.facility.local_today()


@facility_view(EVERYONE)
def resident_orders(request, pk: int):
    resident = scoped_get(Resident.objects.select_related("unit"), request, pk=pk)
    groups = selectors.order_list_for_resident(resident=resident)
    return render(request, "meds/resident_orders.html", {"resident": resident, "groups": groups})


def _submit_order(request, form, call):
    try:
        return call()
    except AllergyWarning as warning:
        form.add_error("allergy_override_reason", warning.message)
        form.allergy_warning = warning.message
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    return None


def _medication_search(form) -> dict:
    chosen = form["medication"].value()
    return selectors.medication_choices(
        query=search_text(form["medication_query"].value()),
        chosen_id=parse_id(None if chosen is None else str(chosen)),
    )


def _searching(request) -> bool:
    """A POST that asks for the medication search rather than the order: the form's Search
    button, or Enter in the search box with no medication chosen yet (without JavaScript)."""
    if request.method != "POST":
        return False
    return "find_medication" in request.POST or (
        not request.POST.get("medication") and bool(request.POST.get("medication_query"))
    )


def _order_page(request, context: dict):
    form = context["form"]
    if context.pop("searching", False):
        # Show what was typed, without judging the half-filled order yet.
        form._errors = ErrorDict()
    context["medication_search"] = _medication_search(form)
    return render(request, "meds/order_form.html", context)


@facility_view(WRITERS_CLINICAL, action="enter orders")
def order_create(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    form = OrderForm(request.POST or None, initial={"start_date": _today(request)})
    searching = _searching(request)
    if request.method == "POST" and not searching and form.is_valid():
        order = _submit_order(
            request,
            form,
            lambda: services.prescription_create(
                actor=request.user, resident=resident, **form.service_arguments()
            ),
        )
        if order is not None:
            messages.success(request, "Order entered. It produces doses once a nurse verifies it.")
            return redirect("order_detail", pk=order.pk)
    return _order_page(
        request,
        {
            "resident": resident,
            "form": form,
            "title": f"New order for {resident.display_name}",
            "searching": searching,
        },
    )


@facility_view(WRITERS_CLINICAL, action="change orders")
def order_change(request, pk: int):
    old = scoped_get(Prescription.objects.select_related("resident"), request, pk=pk)
    if old.status == OrderStatus.DISCONTINUED:
        messages.error(request, "This order is discontinued; enter a new order instead.")
        return redirect("order_detail", pk=old.pk)
    form = OrderForm(request.POST or None, initial=initial_from_order(old, today=_today(request)))
    form.fields["change_reason"] = ReasonForm.base_fields["reason"]
    form.fields["change_reason"].label = "Why is the order changing?"
    searching = _searching(request)
    if request.method == "POST" and not searching and form.is_valid():
        order = _submit_order(
            request,
            form,
            lambda: services.prescription_change(
                actor=request.user,
                prescription=old,
                reason=form.cleaned_data["change_reason"],
                **form.service_arguments(),
            ),
        )
        if order is not None:
            messages.success(
                request,
                f"The {old.medication} order for {old.resident.display_name} is discontinued; "
                "the new order waits for verification.",
            )
            return redirect("order_detail", pk=order.pk)
    return _order_page(
        request,
        {
            "resident": old.resident,
            "form": form,
            "old": old,
            "title": f"Change the {old.medication} order for {old.resident.display_name}",
            "searching": searching,
        },
    )


_ACTIONS = {
    "discontinue": (
        services.prescription_discontinue,
        "The {order} order for {resident} is discontinued; its future doses are cancelled.",
    ),
    "hold": (
        services.prescription_hold,
        "The {order} order for {resident} is on hold; its future doses are cancelled.",
    ),
    "resume": (
        services.prescription_resume,
        "The {order} order for {resident} is resumed; its doses come back.",
    ),
}


@facility_view(WRITERS_CLINICAL, action="discontinue, hold or resume orders")
def order_action(request, pk: int, action: str):
    if action not in _ACTIONS:
        raise Http404
    order = scoped_get(
        Prescription.objects.select_related("medication", "resident"), request, pk=pk
    )
    service, done = _ACTIONS[action]
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = run_service(
            form,
            lambda: service(
                actor=request.user, prescription=order, reason=form.cleaned_data["reason"]
            ),
        )
        if result is not None:
            words = done.format(order=order.medication, resident=order.resident.display_name)
            messages.success(request, words)
            return redirect("order_detail", pk=order.pk)
    return render(
        request, "meds/order_action.html", {"order": order, "form": form, "action": action}
    )


@facility_view(WRITERS_CLINICAL, action="see the verification queue")
def verification_queue(request):
    orders = selectors.order_verification_queue(facility=request.facility)
    return render(request, "meds/verification_queue.html", {"orders": orders})


@facility_view((Role.NURSE,), action="verify orders")
def order_verify(request, pk: int):
    """The verify step: the order in full, the resident's allergies and the first doses it will
    produce; nothing changes until the nurse confirms (POST)."""
    try:
        review = selectors.order_review(facility=request.facility, pk=pk, now=timezone.now())
    except Prescription.DoesNotExist:
        raise Http404 from None
    order = review.order
    error = ""
    if request.method == "POST":
        try:
            services.prescription_verify(actor=request.user, prescription=order)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(
                request,
                f"{order.medication} for {order.resident.display_name} verified; "
                "its doses are being scheduled.",
            )
            target = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "verification_queue"
            return redirect(target)
    return render(
        request,
        "meds/order_verify.html",
        {
            "review": review,
            "order": order,
            "error": error,
            "pending": order.status == OrderStatus.PENDING,
        },
    )


# The catalog is one table shared by every facility: an administrator of any facility edits it,
# and a nurse reads it. No facility scoping applies to its rows.


@facility_view(WRITERS_CLINICAL, action="see the medication catalog")
def medication_list(request):
    query = search_text(request.GET.get("q"))
    page = paginate(request, selectors.medication_list(query=query))
    return render(
        request,
        "meds/medication_list.html",
        {"page": page, "query": query, "may_edit": request.role in WRITERS_ADMIN},
    )


@facility_view(WRITERS_CLINICAL, action="search the medication catalog")
def medication_search(request):
    """The catalog entries a few words find (name, strength, NDC). For the order form's
    search box (htmx): its list of choices, in place; opened as a page, the same list."""
    context = {
        "medication_search": selectors.medication_choices(
            query=search_text(request.GET.get("medication_query") or request.GET.get("q")),
            chosen_id=parse_id(request.GET.get("medication")),
        ),
        "choosable": bool(request.htmx),  # in the order form: radio choices
    }
    template = "meds/_medication_results.html" if request.htmx else "meds/medication_search.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@facility_view(WRITERS_ADMIN, action="add medications to the catalog")
def medication_create(request):
    form = MedicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        medication = run_service(
            form,
            lambda: services.medication_create(actor=request.user, **form.cleaned_data),
        )
        if medication is not None:
            messages.success(request, f"{medication} added to the catalog.")
            return redirect("medication_list")
    return render(request, "meds/medication_form.html", {"form": form})


@facility_view(WRITERS_ADMIN, action="change the medication catalog")
def medication_edit(request, pk: int):
    medication = get_object_or_404(selectors.medication_list(), pk=pk)
    form = MedicationForm(request.POST or None, initial=MedicationForm.initial_from(medication))
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.medication_update(
                actor=request.user, medication=medication, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"{saved} saved.")
            return redirect("medication_list")
    return render(request, "meds/medication_form.html", {"form": form, "medication": medication})
