from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.validators import search_text
from core.views import paginate, run_service

from . import selectors, services
from .forms import (
    CertificationForm,
    FacilityPolicyForm,
    LoginForm,
    MembershipForm,
    PinForm,
    SetPasswordForm,
    StaffCreateForm,
    UnitForm,
)
from .models import Certification, Facility, Membership, Role, Unit
from .permissions import EVERYONE, WRITERS_ADMIN, WRITERS_CLINICAL, facility_view
from .sessions import SESSION_FACILITY_KEY


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm


@login_required
def facility_select(request):
    memberships = list(selectors.membership_list_for_user(user=request.user))
    if request.method == "POST":
        try:
            chosen = int(request.POST.get("facility", ""))
        except ValueError:
            chosen = None
        if chosen not in {m.facility_id for m in memberships}:
            messages.error(request, "Choose one of your facilities.")
        else:
            request.session[SESSION_FACILITY_KEY] = chosen
            return redirect("home")
    return render(request, "accounts/facility_select.html", {"memberships": memberships})


@facility_view(WRITERS_ADMIN, action="manage staff")
def staff_list(request):
    query = search_text(request.GET.get("q"))
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    page = paginate(
        request, selectors.staff_list(facility=request.facility, query=query, role=role)
    )
    today = request.facility.local_today()
    return render(
        request,
        "accounts/staff_list.html",
        {
            "page": page,
            "query": query,
            "role": role,
            "roles": Role.choices,
            "today": today,
            "soon": today + timedelta(days=30),
        },
    )


@facility_view(WRITERS_ADMIN, action="add staff")
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        membership = run_service(
            form,
            lambda: services.staff_create(
                actor=request.user,
                facility=request.facility,
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                title=data["title"],
            ),
        )
        if membership is not None:
            messages.success(request, f"{membership.user} can now sign in.")
            return redirect("staff_detail", pk=membership.pk)
    return render(request, "accounts/staff_form.html", {"form": form})


def _membership(request, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, facility=request.facility
    )


@facility_view(WRITERS_ADMIN, action="manage staff")
def staff_detail(request, pk: int):
    membership = _membership(request, pk)
    form = MembershipForm(
        request.POST or None,
        initial={
            "role": membership.role,
            "title": membership.user.title,
            "is_active": membership.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.membership_update(
                actor=request.user, membership=membership, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, "Saved.")
            return redirect("staff_detail", pk=membership.pk)
    today = request.facility.local_today()
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "membership": membership,
            "form": form,
            "certifications": membership.user.certifications.all(),
            "today": today,
        },
    )


@facility_view(WRITERS_ADMIN, action="reset passwords")
def staff_password(request, pk: int):
    membership = _membership(request, pk)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_service(
            form,
            lambda: (
                services.staff_set_password(
                    actor=request.user,
                    user=membership.user,
                    password=form.cleaned_data["password1"],
                )
                or True
            ),
        )
        if done:
            messages.success(request, f"New password set for {membership.user}.")
            return redirect("staff_detail", pk=membership.pk)
    return render(request, "accounts/staff_password.html", {"form": form, "membership": membership})


@facility_view(WRITERS_ADMIN, action="manage certifications")
def certification_create(request, pk: int):
    membership = _membership(request, pk)
    form = CertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.certification_create(
                actor=request.user, user=membership.user, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"{saved.get_kind_display()} recorded.")
            return redirect("staff_detail", pk=membership.pk)
    return render(
        request, "accounts/certification_form.html", {"form": form, "membership": membership}
    )


def _certification(request, pk: int, cert_pk: int) -> tuple[Membership, Certification]:
    membership = _membership(request, pk)
    certification = get_object_or_404(Certification, pk=cert_pk, user=membership.user)
    return membership, certification


@facility_view(WRITERS_ADMIN, action="manage certifications")
def certification_edit(request, pk: int, cert_pk: int):
    membership, certification = _certification(request, pk, cert_pk)
    form = CertificationForm(request.POST or None, instance=certification)
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.certification_update(
                actor=request.user, certification=certification, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"{saved.get_kind_display()} saved.")
            return redirect("staff_detail", pk=membership.pk)
    return render(
        request,
        "accounts/certification_form.html",
        {"form": form, "membership": membership, "certification": certification},
    )


@require_POST
@facility_view(WRITERS_ADMIN, action="manage certifications")
def certification_delete(request, pk: int, cert_pk: int):
    membership, certification = _certification(request, pk, cert_pk)
    services.certification_delete(actor=request.user, certification=certification)
    messages.success(request, f"{certification.get_kind_display()} removed.")
    return redirect("staff_detail", pk=membership.pk)


@facility_view(WRITERS_CLINICAL, action="see expiring certifications")
def certification_expiring(request):
    today = request.facility.local_today()
    certifications = selectors.certification_expiring_list(facility=request.facility, today=today)
    return render(
        request,
        "accounts/certifications_expiring.html",
        {"certifications": certifications, "today": today},
    )


@facility_view(WRITERS_ADMIN, action="change facility policy")
def facility_settings(request):
    facility = request.facility
    # The form edits a copy: a refused change must not rename the facility in the page header.
    form = FacilityPolicyForm(request.POST or None, instance=Facility.objects.get(pk=facility.pk))
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.facility_update_policy(
                actor=request.user, facility=facility, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, "Facility policy saved.")
            return redirect("facility_settings")
    units = Unit.objects.filter(facility=facility)
    return render(
        request,
        "accounts/facility_settings.html",
        {"form": form, "units": units, "unit_form": UnitForm()},
    )


@require_POST
@facility_view(WRITERS_ADMIN, action="add units")
def unit_create(request):
    form = UnitForm(request.POST)
    if form.is_valid():
        unit = run_service(
            form,
            lambda: services.unit_create(
                actor=request.user, facility=request.facility, name=form.cleaned_data["name"]
            ),
        )
        if unit is not None:
            messages.success(request, f"Unit {unit.name} added.")
            return redirect("facility_settings")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("facility_settings")


@facility_view(EVERYONE)
def my_pin(request):
    form = PinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_service(
            form,
            lambda: (
                services.user_set_pin(
                    actor=request.user,
                    current_password=form.cleaned_data["current_password"],
                    pin=form.cleaned_data["pin"],
                )
                or True
            ),
        )
        if done:
            messages.success(request, "Your PIN is set.")
            return redirect("home")
    return render(request, "accounts/my_pin.html", {"form": form})
