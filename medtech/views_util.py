"""Small helpers the thin views share."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import IntegrityError

from .errors import DomainError


def run_service(form: forms.BaseForm, call: Callable[[], Any]) -> Any | None:
    """Call a service; put its refusal beside the field it names (or on top of the form).

    Returns the service's result, or None when it refused and the form now carries the message.
    A database constraint that fires under concurrency reads as a plain message, not a 500.
    """
    try:
        return call()
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
    except IntegrityError:
        form.add_error(None, "This was changed by someone else at the same moment. Try again.")
    return None


def paginate(request, queryset, per_page: int = 50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
