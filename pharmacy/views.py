from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import (
    EVERYONE,
    WRITERS_ADMIN,
    WRITERS_CLINICAL,
    facility_view,
    scoped_get,
)
from core.errors import DomainError
from core.views import paginate, run_service
from inventory.models import StockItem

from . import refills, selectors, services
from .forms import DecisionForm, InterfaceForm, MatchForm, ReceiptForm
from .models import DispenseReceipt, InboundMessage, PendingOrder


@facility_view(WRITERS_CLINICAL, action="work the pharmacy inbox")
def inbox(request):
    facility = request.facility
    page = paginate(request, selectors.inbox(facility=facility))
    for pending in page.object_list:
        pending.dose_words = selectors.dose_words(pending)
        pending.schedule_words = selectors.schedule_words(pending)
    return render(
        request,
        "pharmacy/inbox.html",
        {
            "page": page,
            "interface": selectors.interface_of(facility=facility),
            "waiting": selectors.match_queue(facility=facility),
            "receipts": list(selectors.receipts_pending(facility=facility)[:50]),
        },
    )


@facility_view(WRITERS_CLINICAL, action="accept or reject pharmacy orders")
def order(request, pk: int):
    try:
        review = selectors.order_review(facility=request.facility, pk=pk)
    except PendingOrder.DoesNotExist:
        raise Http404 from None
    pending = review.pending
    form = DecisionForm(request.POST or None, pending=pending)
    if request.method == "POST" and pending.status == "pending" and form.is_valid():
        data = form.cleaned_data
        if data["decision"] == "accept":
            done = run_service(
                form,
                lambda: services.pending_order_accept(
                    actor=request.user,
                    pending=pending,
                    medication=data.get("medication"),
                    target=data.get("target"),
                    allergy_override_reason=data["allergy_override_reason"],
                ),
            )
            if done is not None:
                if done.created_order_id:
                    messages.success(
                        request,
                        f"Accepted: the {done.created_order.medication} order waits for a "
                        "nurse's verification.",
                    )
                    return redirect("order_detail", pk=done.created_order_id)
                messages.success(request, f"Accepted: {done.get_action_display().lower()} done.")
                return redirect("pharmacy_inbox")
        else:
            done = run_service(
                form,
                lambda: services.pending_order_reject(
                    actor=request.user, pending=pending, reason=data["reason"]
                ),
            )
            if done is not None:
                messages.success(request, "Rejected; the reason is recorded.")
                return redirect("pharmacy_inbox")
    return render(request, "pharmacy/order.html", {"review": review, "form": form})


@facility_view(WRITERS_CLINICAL, action="match pharmacy patients to residents")
def match(request, pk: int):
    try:
        patient = selectors.waiting_patient(facility=request.facility, pk=pk)
    except InboundMessage.DoesNotExist:
        raise Http404 from None
    form = MatchForm(request.POST or None, facility=request.facility)
    if request.method == "POST" and form.is_valid():
        resident = form.cleaned_data["resident"]
        processed = run_service(
            form,
            lambda: services.patient_match(
                actor=request.user,
                facility=request.facility,
                pharmacy_patient_id=patient.pharmacy_patient_id,
                resident=resident,
            ),
        )
        if processed is not None:
            messages.success(
                request,
                f"{patient.name} is {resident.display_name}: {processed} message"
                f"{'' if processed == 1 else 's'} processed into the inbox.",
            )
            return redirect("pharmacy_inbox")
    return render(request, "pharmacy/match.html", {"patient": patient, "form": form})


@facility_view(EVERYONE)
def deliveries(request):
    """The deliveries the pharmacy announced that wait to be received, oldest first."""
    receipts = list(selectors.receipts_pending(facility=request.facility)[:100])
    return render(request, "pharmacy/deliveries.html", {"receipts": receipts})


@facility_view(EVERYONE, action="receive pharmacy deliveries")
def receipt(request, pk: int):
    try:
        found = (
            DispenseReceipt.objects.select_related("resident", "medication", "message")
            .filter(facility=request.facility)
            .get(pk=pk)
        )
    except DispenseReceipt.DoesNotExist:
        raise Http404 from None
    initial = {
        "medication": found.medication_id,
        "quantity": found.quantity,
        "lot": found.lot,
        "expiry": found.expiry,
        "rx_number": found.rx_number,
    }
    form = ReceiptForm(request.POST or None, initial=initial)
    if request.method == "POST" and found.state == "pending" and form.is_valid():
        data = form.cleaned_data
        if data["decision"] == "receive":
            result = run_service(
                form,
                lambda: services.receipt_confirm(
                    actor=request.user,
                    receipt=found,
                    medication=data["medication"],
                    quantity=data["quantity"],
                    lot=data["lot"],
                    expiry=data["expiry"],
                    rx_number=data["rx_number"],
                ),
            )
            if result is not None:
                movement = result.movement
                messages.success(
                    request,
                    f"Received {movement.item.quantity_text(movement.quantity)} of "
                    f"{movement.item.medication}; on hand now "
                    f"{movement.item.quantity_text(movement.balance_after)}.",
                )
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect("stock_item", pk=movement.item_id)
        else:
            done = run_service(
                form,
                lambda: services.receipt_reject(
                    actor=request.user, receipt=found, reason=data["reason"]
                ),
            )
            if done is not None:
                messages.success(request, "Recorded as not received.")
                return redirect("pharmacy_inbox")
    return render(request, "pharmacy/receipt.html", {"receipt": found, "form": form})


@facility_view(WRITERS_ADMIN, action="set the pharmacy interface")
def interface(request):
    facility = request.facility
    current = selectors.interface_of(facility=facility)
    initial = (
        {
            "sending_application": current.sending_application,
            "sending_facility": current.sending_facility,
            "enabled": current.enabled,
            "pharmacy_host": current.pharmacy_host,
            "pharmacy_port": current.pharmacy_port,
        }
        if current
        else {"enabled": True}
    )
    form = InterfaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.interface_save(
                actor=request.user, facility=facility, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, "Pharmacy interface saved.")
            return redirect("pharmacy_interface")
    return render(request, "pharmacy/interface.html", {"form": form, "interface": current})


@require_POST
@facility_view(WRITERS_CLINICAL, action="request refills")
def refill_request(request, pk: int):
    """One click on the reorder list: the refill goes to the pharmacy from a worker."""
    item = scoped_get(StockItem.objects.select_related("medication", "resident"), request, pk=pk)
    try:
        refills.refill_request(actor=request.user, item=item)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Refill of {item} requested from the pharmacy.")
    return redirect("reorder_list")
