from accounts.permissions import WRITERS_CLINICAL

from .selectors import open_alert_count


def open_alerts(request):
    """The open-alert count in every page's header, for the people who work the inbox."""
    facility = getattr(request, "facility", None)
    if facility is None or getattr(request, "role", None) not in WRITERS_CLINICAL:
        return {}
    return {"open_alert_count": open_alert_count(facility=facility)}
