"""Puts the user's current facility, role and address on every request; applies idle logout."""

import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.utils import timezone

from .backends import preloaded
from .models import Membership
from .selectors import membership_current, membership_for_request
from .sessions import SESSION_FACILITY_KEY

# When the person at the screen last did something (seconds since the epoch).
SESSION_ACTIVITY_KEY = "last_activity"
# The activity time is rewritten at most this often, so a busy page does not write the session
# on every request (a logout may come up to this much early).
ACTIVITY_RESOLUTION_SECONDS = 60
# A page that refreshes itself marks the request (the med pass board's 30-second poll): the
# page asked, not a person, so it is not activity.
POLL_PARAMETER = "poll"


def is_poll(request) -> bool:
    return request.GET.get(POLL_PARAMETER) == "1"


def idle_limit_seconds(membership) -> int:
    """The facility's idle minutes; before a facility is chosen, settings.IDLE_LOGOUT_MINUTES."""
    minutes = membership.facility.idle_logout_minutes if membership else None
    return (minutes or settings.IDLE_LOGOUT_MINUTES) * 60


def note_login(sender, request, user, **kwargs) -> None:
    """Signing in is activity, and a single facility is chosen at once (connected to
    `user_logged_in` in apps.py): the login writes the session anyway, the pages then need not."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_ACTIVITY_KEY] = time.time()
    membership = membership_current(user=user, facility_id=None)
    if membership is not None:
        request.session[SESSION_FACILITY_KEY] = membership.facility_id


def _chosen_membership(session) -> Membership | None:
    """The signed-in user's active membership of the facility chosen in the session, with the
    user and the facility: read with the session when its row names them (accounts.sessions),
    else in one query; None before a facility is chosen (or when anonymous)."""
    user_id, facility_id = session.get(SESSION_KEY), session.get(SESSION_FACILITY_KEY)
    if user_id is None or facility_id is None:
        return None
    read = session.membership_read_with(user_id, facility_id)
    if read is not ...:
        return read
    return membership_for_request(user_id=user_id, facility_id=facility_id)


class CurrentFacilityMiddleware:
    """Sets `request.membership` (or None), `request.facility` (or None), `request.role` and
    `request.client_address` (the workstation's address, as the login lockout sees it).

    The current facility is the one chosen on the picker and kept in the session; a user with a
    single active membership never has to choose.

    Idle logout: the session keeps the time of the last real request (refreshed at most once a
    minute; polls do not count). A request that finds it older than the facility's
    `idle_logout_minutes` logs the user out and goes on as anonymous, so the page sends them to
    the login page (`facility_view`: a redirect, or HX-Redirect for htmx).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = get_client_ip_address(request)
        session = request.session
        chosen = _chosen_membership(session)
        # Django decides whether the session is signed in (its checks, our one query).
        with preloaded(chosen.user if chosen else None):
            authenticated = request.user.is_authenticated
        membership = None
        if authenticated:
            membership = chosen
            if membership is None or membership.user_id != request.user.pk:
                membership = membership_current(
                    user=request.user, facility_id=session.get(SESSION_FACILITY_KEY)
                )
            now = time.time()
            last = session.get(SESSION_ACTIVITY_KEY)
            limit = idle_limit_seconds(membership)
            if last is not None and now - last > limit:
                logout(request)
                messages.info(
                    request, f"You were signed out after {limit // 60} minutes without activity."
                )
                membership = None
            else:
                if membership is not None and session.get(SESSION_FACILITY_KEY) != (
                    membership.facility_id
                ):
                    session[SESSION_FACILITY_KEY] = membership.facility_id
                if last is None or (
                    not is_poll(request) and now - last >= ACTIVITY_RESOLUTION_SECONDS
                ):
                    session[SESSION_ACTIVITY_KEY] = now
        request.membership = membership
        request.facility = membership.facility if membership else None
        request.role = membership.role if membership else None
        if request.facility is None:
            return self.get_response(request)
        # Every instant a page renders is read in the facility's zone.
        with timezone.override(request.facility.tz):
            return self.get_response(request)
