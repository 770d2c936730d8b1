"""Puts the user's current facility and role on every request, and applies its idle logout."""

from .selectors import membership_current

SESSION_FACILITY_KEY = "facility_id"


class CurrentFacilityMiddleware:
    """Sets `request.membership` (or None) and `request.facility` (or None).

    The current facility is the one chosen on the picker and kept in the session; a user with a
    single active membership never has to choose. The session's idle age is the facility's
    `idle_logout_minutes` (SESSION_SAVE_EVERY_REQUEST restarts it on every request).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = None
        if request.user.is_authenticated:
            membership = membership_current(
                user=request.user, facility_id=request.session.get(SESSION_FACILITY_KEY)
            )
            if membership is not None:
                request.session[SESSION_FACILITY_KEY] = membership.facility_id
                request.session.set_expiry(membership.facility.idle_logout_minutes * 60)
        request.membership = membership
        request.facility = membership.facility if membership else None
        request.role = membership.role if membership else None
        return self.get_response(request)
