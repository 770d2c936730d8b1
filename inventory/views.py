from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, Unit
from accounts.permissions import EVERYONE, WRITERS_CLINICAL, facility_view, scoped_get
from core.errors import DomainError
from core.validators import parse_id, search_text
from core.views import paginate, run_service

from . import selectors, services
from .forms import AdjustForm, DestroyForm, ReceiveForm, ShiftCountForm, WitnessedForm
from .models import ControlledCount, StockItem
from .signals import reorder_list_shown, stock_item_shown


@facility_view(EVERYONE)
def stock_list(request):
    only_controlled = request.GET.get("controlled") == "1"
    query = search_text(request.GET.get("q"))
    items = selectors.stock_search(
        facility=request.facility, query=query, only_controlled=only_controlled
    )
    page = paginate(request, items)
    page.object_list = selectors.supply_list(
        facility=request.facility, now=timezone.now(), items=page.object_list
    )
    return render(
        request,
        "inventory/stock_list.html",
        {"page": page, "query": query, "only_controlled": only_controlled},
    )


@facility_view(WRITERS_CLINICAL, action="receive deliveries")
def stock_receive(request):
    initial = {}
    if item_id := parse_id(request.GET.get("item")):
        item = StockItem.objects.filter(facility=request.facility, pk=item_id).first()
        if item is not None:
            initial = {"resident": item.resident_id, "medication": item.medication_id}
    form = ReceiveForm(request.POST or None, facility=request.facility, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = run_service(
            form,
            lambda: services.stock_receive(
                actor=request.user,
                facility=request.facility,
                resident=data["resident"],
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
    return render(request, "inventory/receive.html", {"form": form})


@facility_view(WRITERS_CLINICAL, action="see the reorder list")
def reorder_list(request):
    supplies = selectors.reorder_list(facility=request.facility, now=timezone.now())
    reorder_list_shown.send(sender=StockItem, facility=request.facility, supplies=supplies)
    return render(request, "inventory/reorder.html", {"supplies": supplies})


@require_POST
@facility_view(WRITERS_CLINICAL, action="mark items as ordered")
def mark_ordered(request, pk: int):
    item = scoped_get(StockItem, request, pk=pk)
    services.stock_mark_ordered(actor=request.user, item=item)
    messages.success(request, f"{item} marked as ordered.")
    return redirect("reorder_list")


@facility_view(EVERYONE)
def stock_item(request, pk: int):
    """The item's ledger with balances and signatures: the controlled log, printable."""
    item = scoped_get(StockItem.objects.select_related("medication", "resident"), request, pk=pk)
    extra: dict = {}
    stock_item_shown.send(sender=StockItem, item=item, extra=extra)
    return render(
        request,
        "inventory/item.html",
        {
            "item": item,
            "movements": selectors.item_ledger(item=item),
            "tz": request.facility.tz,
            "extra": extra,
        },
    )


_REMOVALS = {
    "waste": (WitnessedForm, services.stock_waste, "Waste recorded."),
    "destroy": (DestroyForm, services.stock_destroy, "Destruction recorded."),
    "adjust": (AdjustForm, services.stock_adjust, "Count adjustment recorded."),
}


def _witnessed(request, pk: int, action: str):
    item = scoped_get(StockItem.objects.select_related("medication", "resident"), request, pk=pk)
    form_class, service, done = _REMOVALS[action]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        arguments = dict(form.cleaned_data)
        movement = run_service(
            form,
            lambda: service(
                actor=request.user,
                item=item,
                client_address=request.client_address,
                **arguments,
            ),
        )
        if movement is not None:
            messages.success(request, done)
            return redirect("stock_item", pk=item.pk)
    return render(
        request, "inventory/witnessed.html", {"item": item, "form": form, "action": action}
    )


@facility_view(EVERYONE)
def stock_waste(request, pk: int):
    return _witnessed(request, pk, "waste")


@facility_view(WRITERS_CLINICAL, action="destroy or return stock")
def stock_destroy(request, pk: int):
    return _witnessed(request, pk, "destroy")


@facility_view((Role.NURSE,), action="adjust the ledger to a count")
def stock_adjust(request, pk: int):
    return _witnessed(request, pk, "adjust")


@facility_view(EVERYONE)
def count_overview(request):
    states = selectors.count_overview(facility=request.facility, now=timezone.now())
    return render(request, "inventory/counts.html", {"states": states, "tz": request.facility.tz})


@facility_view(EVERYONE)
def count_unit(request, unit_pk: int):
    """The shift count: outgoing (signed in) and incoming (authenticates here) count together."""
    unit = get_object_or_404(Unit, pk=unit_pk, facility=request.facility)
    items = list(services.controlled_items_for_unit(unit=unit))
    error = None
    form = ShiftCountForm(request.POST or None, items=items)
    if request.method == "POST" and not form.is_valid():
        error = form.first_error()
    elif request.method == "POST":
        counted = {item.pk: form.cleaned_data[f"item_{item.pk}"] for item in items}
        try:
            count = services.controlled_count_record(
                actor=request.user,
                unit=unit,
                incoming_username=form.cleaned_data["incoming_username"],
                incoming_secret=form.cleaned_data["incoming_secret"],
                counted=counted,
                client_address=request.client_address,
            )
        except DomainError as problem:
            problem.settle()  # outside the count's rolled-back transaction
            error = problem.message
        else:
            if count.has_discrepancy:
                messages.error(
                    request, "The count differs from the ledger: the nurses are alerted."
                )
            else:
                messages.success(request, "Count signed: everything matches the ledger.")
            return redirect("count_detail", pk=count.pk)
    return render(
        request,
        "inventory/count_form.html",
        {"unit": unit, "items": items, "error": error, "posted": request.POST},
    )


@facility_view(EVERYONE)
def count_detail(request, pk: int):
    count = get_object_or_404(
        ControlledCount.objects.select_related("unit", "outgoing_by", "incoming_by"),
        pk=pk,
        facility=request.facility,
    )
    lines = list(count.lines.select_related("item__medication", "item__resident"))
    for line in lines:
        line.history = (
            list(selectors.movements_since_last_matching_count(item=line.item))
            if line.counted != line.expected
            else []
        )
    return render(
        request,
        "inventory/count_detail.html",
        {"count": count, "lines": lines, "tz": request.facility.tz},
    )
