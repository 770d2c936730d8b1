from accounts.permissions import WRITERS_CLINICAL

from .selectors import orders_waiting_count


def orders_to_verify(request):
    """How many orders wait for verification, beside the menu's "Verify" item (one query)."""
    facility = getattr(request, "facility", None)
    if facility is None or getattr(request, "role", None) not in WRITERS_CLINICAL:
        return {}
    return {"verify_count": orders_waiting_count(facility=facility)}
