"""Page access: login, a current facility, and the role the page needs.

Every view of the product goes through `facility_view`. Objects are then fetched through the
request's facility (see `scoped_get`), so another facility's object is a 404, never a leak.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from .models import Role
from .selectors import AideCertification, medication_aide_certification, medication_aide_on

WRITERS_ADMIN = (Role.ADMIN,)
WRITERS_CLINICAL = (Role.NURSE, Role.ADMIN)
EVERYONE = (Role.MED_TECH, Role.NURSE, Role.ADMIN)
# The care pages: everyone on the floor, caregivers too (they never reach a medication page).
CARE_STAFF = (Role.CAREGIVER, *EVERYONE)

_ROLE_WORDS = {
    Role.ADMIN: "administrators",
    Role.NURSE: "nurses",
    Role.MED_TECH: "med techs",
    Role.CAREGIVER: "caregivers",
}


def roles_phrase(roles: Iterable[str]) -> str:
    words = [_ROLE_WORDS[Role(r)] for r in roles]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def to_login(request):
    """Send a signed-out request to the login page. An htmx request (the board's poll) gets
    HX-Redirect, so the whole page goes there and comes back to the page the user was on."""
    if getattr(request, "htmx", False):
        login_url = resolve_url(settings.LOGIN_URL)
        back = request.htmx.current_url_abs_path
        return HttpResponseClientRedirect(
            f"{login_url}?{urlencode({'next': back})}" if back else login_url
        )
    return redirect_to_login(request.get_full_path())


def facility_view(roles: Iterable[str] = EVERYONE, *, action: str = "open this page"):
    """Decorator: the user is logged in, works in a current facility and has one of `roles`."""
    roles = tuple(roles)

    def decorator(view: Callable):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return to_login(request)
            if request.facility is None:
                if request.user.memberships.filter(is_active=True).exists():
                    return redirect("facility_select")
                raise PermissionDenied(
                    "Your account is not a member of any facility. "
                    "Ask an administrator to add you to one."
                )
            if request.role not in roles:
                raise PermissionDenied(
                    f"Only {roles_phrase(roles)} can {action}. "
                    f"You are signed in as a {request.membership.get_role_display().lower()}."
                )
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorator


def scoped_get(queryset: QuerySet | type[Model], request, **lookup):
    """Fetch one object of the current facility, or 404 (never another facility's object)."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset, facility=request.facility, **lookup)


def aide_certification(request) -> AideCertification | None:
    """The signed-in med tech's medication aide certification today (None for other roles);
    read once per request, shared by the page and its header."""
    if getattr(request, "role", None) != Role.MED_TECH:
        return None
    if not hasattr(request, "_aide_certification"):
        today = request.facility.local_today()
        terms = getattr(request.membership, "aide_terms", False)
        request._aide_certification = (
            medication_aide_on(terms, today)
            if terms is not False
            else medication_aide_certification(user=request.user, today=today)
        )
    return request._aide_certification
