"""The facility's "other" codes, under the facility's settings (administrators only)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import WRITERS_ADMIN, facility_view, scoped_get
from core.errors import DomainError
from core.views import run_service

from . import selectors_codes, services_codes
from .forms import OtherCodeForm
from .models import OtherCode


@facility_view(WRITERS_ADMIN, action="change the facility's other codes")
def other_code_list(request):
    """The list, and the form that adds a code (kept with what was typed when refused)."""
    form = OtherCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = run_service(
            form,
            lambda: services_codes.other_code_create(
                actor=request.user, facility=request.facility, **form.cleaned_data
            ),
        )
        if code is not None:
            messages.success(request, f"“{code.label}” added to the other codes.")
            return redirect("other_code_list")
    rows = selectors_codes.other_code_list(facility=request.facility)
    return render(request, "mar/other_code_list.html", {"rows": rows, "form": form})


@facility_view(WRITERS_ADMIN, action="change the facility's other codes")
def other_code_edit(request, pk: int):
    other_code = scoped_get(OtherCode, request, pk=pk)
    form = OtherCodeForm(
        request.POST or None, initial={"code": other_code.code, "label": other_code.label}
    )
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services_codes.other_code_update(
                actor=request.user, other_code=other_code, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"“{saved.label}” saved.")
            return redirect("other_code_list")
    uses = selectors_codes.other_code_use_count(code=other_code)
    return render(
        request,
        "mar/other_code_form.html",
        {"form": form, "other_code": other_code, "uses": uses},
    )


@require_POST
@facility_view(WRITERS_ADMIN, action="change the facility's other codes")
def other_code_delete(request, pk: int):
    other_code = scoped_get(OtherCode, request, pk=pk)
    try:
        services_codes.other_code_delete(actor=request.user, other_code=other_code)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{other_code.label}” removed from the other codes.")
    return redirect("other_code_list")
