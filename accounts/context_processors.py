def current_facility(request):
    """The facility, role and open-alert count every page's header shows."""
    facility = getattr(request, "facility", None)
    return {
        "current_facility": facility,
        "current_membership": getattr(request, "membership", None),
        "current_role": getattr(request, "role", None),
    }
