"""Small helpers the thin views share, and the health check."""

from collections.abc import Callable
from typing import Any

from celery import current_app
from django import forms
from django.core.paginator import Paginator
from django.db import IntegrityError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static

from .errors import DomainError


def run_service(form: forms.BaseForm, call: Callable[[], Any]) -> Any | None:
    """Call a service; put its refusal beside the field it names (or on top of the form).

    Returns the service's result, or None when it refused and the form now carries the message;
    `form.refusal` is then the service's DomainError (a view may answer some kinds its own way).
    A database constraint that fires under concurrency reads as a plain message, not a 500.
    Views run outside any transaction, so what a refusal must record despite its rollback
    (`DomainError.settle`, e.g. a wrong sign-off) is written here.
    """
    form.refusal = None
    try:
        return call()
    except DomainError as error:
        error.settle()
        form.refusal = error
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
    except IntegrityError:
        form.add_error(None, "This was changed by someone else at the same moment. Try again.")
    return None


def paginate(request, queryset, per_page: int = 50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def healthz(request):
    """Database and broker status for load balancers: 200 when both answer, else 503.

    The broker is the Celery app's (the one the project's configuration registered), reached
    through `current_app` so that this shared module imports no project package.
    """
    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "down" to a load balancer
        status["database"] = f"error: {error.__class__.__name__}"
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        status["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in status.values())
    status["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(status, status=200 if healthy else 503)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; send them to the static icon
    (resolved per request: the production manifest exists only after collectstatic)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
