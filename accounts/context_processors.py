from core.time import WEEKDAY_FORMAT

from .permissions import aide_certification


def _aide_notice(request) -> str:
    """What a med tech must know about their certification on every page, or ""."""
    certification = aide_certification(request)
    if certification is None:
        return ""
    if not certification.current:
        return (
            "Your medication aide certification is expired or missing: you cannot record "
            "medications. Ask your administrator to renew it."
        )
    today = request.facility.local_today()
    if certification.expiring_soon(today):
        days = certification.days_left(today)
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return (
            f"Your medication aide certification expires {when} "
            f"({certification.expires.strftime(WEEKDAY_FORMAT)}). "
            "Renew it in time to keep giving medications."
        )
    return ""


def current_facility(request):
    """The facility, role and open-alert count every page's header shows."""
    facility = getattr(request, "facility", None)
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    facility_count = getattr(membership, "facility_count", None)
    if facility_count is None:
        facility_count = (
            user.memberships.filter(is_active=True).count()
            if user is not None and user.is_authenticated
            else 0
        )
    return {
        "aide_notice": _aide_notice(request),
        "facility_count": facility_count,
        "current_facility": facility,
        "current_membership": getattr(request, "membership", None),
        "current_role": getattr(request, "role", None),
    }
