"""What the pharmacy interface adds to the lower apps' pages, through their signals."""

from django.dispatch import receiver

from inventory.models import StockItem
from inventory.signals import reorder_list_shown, stock_item_shown

from .models import RefillRequest
from .refills import refill_statuses


@receiver(reorder_list_shown, sender=StockItem, dispatch_uid="pharmacy_refill_statuses")
def show_refills(sender, *, facility, supplies, **kwargs) -> None:
    refill_statuses(facility=facility, supplies=supplies)


@receiver(stock_item_shown, sender=StockItem, dispatch_uid="pharmacy_refill_of_item")
def show_refill(sender, *, item, extra, **kwargs) -> None:
    extra["refill"] = (
        RefillRequest.objects.filter(stock_item=item).order_by("-requested_at", "-pk").first()
    )
