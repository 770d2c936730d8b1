"""The home page: a med tech's is the med pass, a caregiver's the shift's care; a nurse's and
an administrator's is the supervisor's start of the shift (reports.home)."""

from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import CARE_STAFF, facility_view

from ..home import supervisor_home


@facility_view(CARE_STAFF)
def home(request):
    if request.role == Role.MED_TECH:
        return redirect("board")  # the med pass is a med tech's home page
    if request.role == Role.CAREGIVER:
        return redirect("care_shift")  # a caregiver's is the shift's care
    summary = supervisor_home(
        facility=request.facility, now=timezone.now(), may_verify=request.role == Role.NURSE
    )
    return render(request, "reports/home.html", {"home": summary})
