def current_facility(request):
    """The facility, role and open-alert count every page's header shows."""
    facility = getattr(request, "facility", None)
    user = getattr(request, "user", None)
    facility_count = (
        user.memberships.filter(is_active=True).count()
        if user is not None and user.is_authenticated
        else 0
    )
    return {
        "facility_count": facility_count,
        "current_facility": facility,
        "current_membership": getattr(request, "membership", None),
        "current_role": getattr(request, "role", None),
    }
