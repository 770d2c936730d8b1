import datetime
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import (
    EVERYONE,
    WRITERS_ADMIN,
    aide_certification,
    facility_view,
    scoped_get,
)
from core.validators import parse_id
from core.views import run_service
from meds import barcodes
from meds import selectors as order_selectors
from meds.models import Prescription, VitalSign
from residents.models import Resident

from . import selectors, services
from .forms import (
    AmendmentForm,
    DoseRecordForm,
    FollowUpForm,
    OtherCodeForm,
    PrnGiveForm,
    ScanForm,
)
from .models import (
    RECORDABLE_STATUSES,
    Administration,
    FollowUpResult,
    OtherCode,
    ScheduledDose,
)
from .services import AlreadyDocumented, codes


@facility_view(EVERYONE)
def order_detail(request, pk: int):
    """The order with its history and its next doses (the dose engine's view of it)."""
    try:
        order = order_selectors.order_detail(facility=request.facility, pk=pk)
    except Prescription.DoesNotExist:
        raise Http404 from None
    doses = selectors.dose_list_for_order(
        order=order, since=timezone.now() - timezone.timedelta(hours=12)
    )
    return render(
        request,
        "mar/order_detail.html",
        {"order": order, "doses": doses, "tz": request.facility.tz},
    )


# The med pass ----------------------------------------------------------------------------------


@facility_view(EVERYONE)
def board(request):
    """The med tech's home: overdue, due now and next 2 hours, by unit and resident."""
    now = timezone.now()
    units = selectors.med_pass_board(facility=request.facility, now=now)
    template = "mar/_board.html" if request.htmx else "mar/board.html"
    response = render(
        request,
        template,
        {
            "units": units,
            "now": now,
            "tz": request.facility.tz,
            "scan_form": ScanForm(),
            # One reverse() for all rows: "<prefix><pk>/".
            "pass_url": reverse("resident_pass", args=[0]).removesuffix("0/"),
        },
    )
    response["Vary"] = "HX-Request"
    return response


def _resident(request, pk: int) -> Resident:
    return scoped_get(Resident.objects.select_related("unit", "facility"), request, pk=pk)


def _render_pass(request, resident: Resident, *, error: dict | None = None):
    now = timezone.now()
    certification = aide_certification(request)
    data = selectors.resident_med_pass(
        resident=resident,
        now=now,
        role=request.role,
        may_record=certification is None or certification.current,
    )
    error = error or {}
    highlight = parse_id(request.GET.get("dose")) or 0
    # The lot of the package just scanned for the highlighted dose (see `scan`).
    scanned_lot = request.GET.get("lot", "")
    for kind, cards in (("dose", [*data.open_doses, *data.upcoming]), ("prn", data.prn)):
        for card in cards:
            card.form_key = uuid.uuid4()  # one-time key: a resubmitted form finds its first result
            if error.get("target") == f"{kind}-{card.pk}":
                card.error_message, card.posted = error["message"], error["data"]
            if kind == "dose":
                lot = (card.posted or {}).get("lot") or (
                    scanned_lot if card.pk == highlight else ""
                )
                card.lot = lot if barcodes.is_lot(lot) else ""
    return render(
        request,
        "mar/resident_pass.html",
        {
            "resident": resident,
            "pass": data,
            "now": now,
            "tz": request.facility.tz,
            "other_codes": OtherCode.objects.filter(facility=request.facility),
            "statuses": [(s.value, s.label) for s in RECORDABLE_STATUSES],
            "vital_labels": dict(VitalSign.choices),
            "error": error,
            "highlight": highlight,
            "scan_form": ScanForm(),
            "followup_results": FollowUpResult.choices,
        },
    )


@facility_view(EVERYONE)
def resident_pass(request, pk: int):
    return _render_pass(request, _resident(request, pk))


def _back_to_pass(resident_pk: int, anchor: str = "open") -> HttpResponseRedirect:
    return redirect(f"{reverse('resident_pass', args=[resident_pk])}#{anchor}")


@require_POST
@facility_view(EVERYONE)
def dose_record(request, pk: int):
    dose = scoped_get(ScheduledDose.objects.select_related("resident", "facility"), request, pk=pk)
    form = DoseRecordForm(request.POST)
    target = f"dose-{dose.pk}"
    if not form.is_valid():
        return _render_pass(
            request,
            _resident(request, dose.resident_id),
            error={"target": target, "message": _form_message(form), "data": request.POST},
        )
    data = form.cleaned_data
    result = run_service(
        form,
        lambda: services.administration_record(
            actor=request.user,
            dose=dose,
            status=data["status"],
            idempotency_key=data["key"],
            reason=data["reason"],
            late_reason=data["late_reason"],
            early_reason=data["early_reason"],
            other_code=data["other_code"],
            vitals=form.vitals(),
            witness_username=data["witness_username"],
            witness_secret=data["witness_secret"],
            notes=data["notes"],
            spacing_override_reason=data["spacing_override_reason"],
            client_address=request.client_address,
            lot=data["lot"],
        ),
    )
    if result is None:
        if isinstance(form.refusal, AlreadyDocumented):
            messages.warning(request, form.refusal.message)
            return _back_to_pass(dose.resident_id)
        return _render_pass(
            request,
            _resident(request, dose.resident_id),
            error={"target": target, "message": _form_message(form), "data": request.POST},
        )
    administration = result.administration
    if result.hold_message:
        messages.warning(request, result.hold_message)
    elif result.created:
        messages.success(request, _recorded_message(administration, request.facility))
    else:
        messages.info(request, "Already recorded (the form was sent twice); nothing changed.")
    return _back_to_pass(dose.resident_id)


def _recorded_message(administration: Administration, facility) -> str:
    medication = administration.prescription.medication
    when = timezone.localtime(administration.administered_at, facility.tz).strftime("%H:%M")
    return f"{administration.get_status_display()}: {medication} at {when}."


def _form_message(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@facility_view(EVERYONE)
def prn_give(request, pk: int):
    order = scoped_get(Prescription.objects.select_related("medication"), request, pk=pk)
    form = PrnGiveForm(request.POST)
    target = f"prn-{order.pk}"
    if not form.is_valid():
        return _render_pass(
            request,
            _resident(request, order.resident_id),
            error={"target": target, "message": _form_message(form), "data": request.POST},
        )
    data = form.cleaned_data
    result = run_service(
        form,
        lambda: services.prn_give(
            actor=request.user,
            prescription=order,
            idempotency_key=data["key"],
            prn_reason=data["prn_reason"],
            vitals=form.vitals(),
            witness_username=data["witness_username"],
            witness_secret=data["witness_secret"],
            approver_username=data["approver_username"],
            approver_secret=data["approver_secret"],
            notes=data["notes"],
            client_address=request.client_address,
        ),
    )
    if result is None:
        return _render_pass(
            request,
            _resident(request, order.resident_id),
            error={"target": target, "message": _form_message(form), "data": request.POST},
        )
    if result.created:
        messages.success(
            request,
            _recorded_message(result.administration, request.facility)
            + f" Follow up on its effect in {request.facility.prn_followup_minutes} minutes.",
        )
    else:
        messages.info(request, "Already recorded (the form was sent twice); nothing changed.")
    return _back_to_pass(order.resident_id, "prn")


@require_POST
@facility_view(EVERYONE)
def prn_followup(request, pk: int):
    administration = scoped_get(Administration, request, pk=pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose effective, partly effective or not effective.")
        return _back_to_pass(administration.resident_id, "followups")
    followup = run_service(
        form,
        lambda: services.prn_followup_record(
            actor=request.user,
            administration=administration,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
        ),
    )
    if followup is not None:
        messages.success(request, "Follow-up documented.")
    else:
        messages.error(request, _form_message(form))
    return _back_to_pass(administration.resident_id, "followups")


@require_POST
@facility_view(EVERYONE)
def scan(request):
    """What a keyboard-wedge scanner typed: a wristband opens that resident; on a resident's page
    a medication barcode or NDC selects the matching open dose, or stops with a clear message."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_message(form))
        return redirect("board")
    code = form.cleaned_data["code"].strip()
    if not code:
        messages.error(request, "Nothing was scanned.")
        return redirect("board")
    # A wristband is printable text; anything else (a GS1 string with FNC1, a NUL PostgreSQL
    # would refuse) is no wristband.
    if code.isprintable():
        found = Resident.objects.filter(
            facility=request.facility, wristband_code__iexact=code
        ).first()
        if found is not None:
            return redirect("resident_pass", pk=found.pk)
    try:
        current = _resident(request, parse_id(request.POST.get("resident")) or 0)
    except Http404:
        messages.error(
            request, f"No resident of {request.facility} has wristband “{_printable(code)}”."
        )
        return redirect("board")
    today = request.facility.local_today()
    scan = barcodes.parse_scan(code, today)
    open_doses = selectors.resident_med_pass(resident=current, now=timezone.now()).open_doses
    shown = _printable(code)
    for dose in open_doses:
        medication = dose.medication
        if not barcodes.matches_medication(
            scan, text=code, ndc=medication.ndc, barcode=medication.barcode, today=today
        ):
            continue
        if scan.expired:
            messages.error(
                request,
                f"EXPIRED: this package of {medication} expired on {scan.expiry:%Y-%m-%d}. "
                "Do not give it; take another package and tell the nurse.",
            )
            return _back_to_pass(current.pk)
        details = [f"lot {scan.lot}"] if scan.lot else []
        details += [f"expires {scan.expiry:%Y-%m-%d}"] if scan.expiry else []
        messages.success(
            request,
            f"Matched: {medication} for {current.display_name}"
            + (f" ({', '.join(details)})." if details else "."),
        )
        query = urlencode({"dose": dose.pk, **({"lot": scan.lot} if scan.lot else {})})
        return redirect(f"{reverse('resident_pass', args=[current.pk])}?{query}#dose-{dose.pk}")
    if scan.errors:
        messages.error(
            request,
            f"Could not read “{shown}”: {' '.join(scan.errors)} "
            "Or type the NDC printed on the package.",
        )
        return _back_to_pass(current.pk)
    messages.error(
        request,
        f"WRONG MEDICATION OR WRONG RESIDENT: “{shown}” matches no dose due now for "
        f"{current.display_name}. Do not give it; check the order.",
    )
    return _back_to_pass(current.pk)


def _printable(code: str) -> str:
    """What was scanned, fit to be read back: FNC1 and other control characters shown as
    spaces, and no more than a line of it."""
    text = "".join(c if c.isprintable() else " " for c in code)
    return text if len(text) <= 60 else text[:60] + "…"


@facility_view((Role.NURSE,), action="amend records")
def administration_amend(request, pk: int):
    administration = scoped_get(
        Administration.objects.select_related(
            "prescription__medication", "resident", "recorded_by"
        ),
        request,
        pk=pk,
    )
    form = AmendmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {"status": data["status"], "notes": data["note"]}
        if data["administered_at"]:
            local = data["administered_at"].replace(tzinfo=None)
            moment = local.replace(tzinfo=request.facility.tz)
            changes["administered_at"] = moment.astimezone(datetime.UTC).isoformat()
        amendment = run_service(
            form,
            lambda: services.amendment_create(
                actor=request.user,
                administration=administration,
                kind=data["kind"],
                reason=data["reason"],
                changes=changes,
            ),
        )
        if amendment is not None:
            messages.success(request, f"Amendment recorded: {amendment.get_kind_display()}.")
            return _back_to_pass(administration.resident_id, "documented")
    return render(
        request,
        "mar/amend.html",
        {"administration": administration, "form": form, "tz": request.facility.tz},
    )


# The facility's "other" codes ---------------------------------------------------------------


@facility_view(WRITERS_ADMIN, action="change the facility's other codes")
def other_code_list(request):
    """The list, and the form that adds a code (kept with what was typed when refused)."""
    form = OtherCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = run_service(
            form,
            lambda: codes.other_code_create(
                actor=request.user, facility=request.facility, **form.cleaned_data
            ),
        )
        if code is not None:
            messages.success(request, f"“{code.label}” added to the other codes.")
            return redirect("other_code_list")
    rows = selectors.other_code_list(facility=request.facility)
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
            lambda: codes.other_code_update(
                actor=request.user, other_code=other_code, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"“{saved.label}” saved.")
            return redirect("other_code_list")
    uses = selectors.other_code_use_count(code=other_code)
    return render(
        request,
        "mar/other_code_form.html",
        {"form": form, "other_code": other_code, "uses": uses},
    )


@require_POST
@facility_view(WRITERS_ADMIN, action="change the facility's other codes")
def other_code_delete(request, pk: int):
    other_code = scoped_get(OtherCode, request, pk=pk)
    form = forms.Form(request.POST)
    label = run_service(
        form, lambda: codes.other_code_delete(actor=request.user, other_code=other_code)
    )
    if label is not None:
        messages.success(request, f"“{label}” removed from the other codes.")
    else:
        messages.error(request, _form_message(form))
    return redirect("other_code_list")
