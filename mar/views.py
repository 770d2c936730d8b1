import datetime
import uuid
from dataclasses import replace
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
    WRITERS_CLINICAL,
    aide_certification,
    facility_view,
    scoped_get,
)
from care.forms import with_record_forms
from care.selectors import care_to_document
from core.shifts import parse_shift_key, shift_at
from core.time import local_time
from core.validators import parse_id
from core.views import run_service
from meds import barcodes
from meds import selectors as order_selectors
from meds.models import Prescription
from residents import selectors as resident_selectors
from residents import services as resident_services
from residents.models import Cart, Resident
from residents.selectors import AssignmentRow, Passing

from . import selectors, services
from .forms import (
    AmendmentForm,
    AssignmentForm,
    CartForm,
    DoseAwayForm,
    DoseRecordForm,
    FollowUpForm,
    OtherCodeForm,
    PassingForm,
    PrnGiveForm,
    ScanForm,
)
from .models import (
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

# What the med tech is passing (a unit, a cart, "my residents" or all): kept for the session.
SESSION_PASSING = resident_selectors.SESSION_PASSING
# A refused submit without JavaScript: its messages and typed values, for the next GET of the
# resident's page only (POST/redirect/GET), never a password or PIN.
SESSION_REFUSAL = "med_pass_refusal"
_NOT_KEPT = {"key", "csrfmiddlewaretoken", "witness_secret", "approver_secret"}


def _passing(request) -> Passing:
    return resident_selectors.passing_resolve(
        facility=request.facility,
        user=request.user,
        choice=request.session.get(SESSION_PASSING),
        now=timezone.now(),
    )


@facility_view(EVERYONE)
def board(request):
    """The med tech's home: overdue, due now and next 2 hours, by unit and resident, for what
    they are passing (chosen once per session)."""
    now = timezone.now()
    passing = _passing(request)
    units = selectors.med_pass_board(facility=request.facility, now=now, passing=passing)
    template = "mar/_board.html" if request.htmx else "mar/board.html"
    response = render(
        request,
        template,
        {
            "units": units,
            "now": now,
            "passing": passing,
            "scan_form": ScanForm(),
            "reconcile_count": (
                selectors.open_reconciliation_count(request.facility)
                if request.role == Role.NURSE and not request.htmx
                else 0
            ),
            # One reverse() for all rows: "<prefix><pk>/".
            "pass_url": reverse("resident_pass", args=[0]).removesuffix("0/"),
        },
    )
    response["Vary"] = "HX-Request"
    return response


def _resident(request, pk: int) -> Resident:
    resident = resident_selectors.resident_of_facility(facility=request.facility, pk=pk)
    if resident is None:
        raise Http404("No such resident in this facility.")
    return resident


def _cards(data: selectors.ResidentPass) -> list:
    return [*data.open_doses, *data.upcoming, *data.prn, *data.followups_due]


def _pass_data(request, resident: Resident, refusal: dict | None) -> selectors.ResidentPass:
    """The resident's cards for the person at the screen, each with a fresh one-time key; the
    card a submit was refused at carries its messages, typed values and key again (no record
    was made with it, so the first record made with it is still the only one)."""
    certification = aide_certification(request)
    data = selectors.resident_med_pass(
        resident=resident,
        now=timezone.now(),
        role=request.role,
        may_record=certification is None or certification.current,
    )
    highlight = parse_id(request.GET.get("dose")) or 0
    # The lot of the package just scanned for the highlighted dose (see `scan`).
    scanned_lot = request.GET.get("lot", "")
    for card in _cards(data):
        card.form.key = uuid.uuid4()
        if refusal and refusal.get("anchor") == card.anchor:
            selectors.card_refused(card, errors=refusal["errors"], values=refusal["values"])
            card.form.key = _uuid(refusal.get("key")) or card.form.key
        if isinstance(card, selectors.DoseCard):
            lot = card.form.values.get("lot") or (scanned_lot if card.pk == highlight else "")
            card.lot = lot if barcodes.is_lot(lot) else ""
    return data


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _pass_context(request, resident: Resident, data) -> dict:
    todo = care_to_document(resident_id=resident.pk, now=timezone.now())
    return {
        "resident": resident,
        "pass": data,
        "passing": _passing(request),
        "other_code_choices": [("", "—"), *((c.code, c.label) for c in data.other_codes)],
        "highlight": parse_id(request.GET.get("dose")) or 0,
        "scan_form": ScanForm(),
        "followup_results": FollowUpResult.choices,
        # Medications and care together: the care still to document, beside the doses, and
        # the monitoring checks of a resident under monitoring.
        "care_tasks": with_record_forms(todo.tasks),
        "todo": todo,
        "shift_starts_at": shift_at(timezone.now(), resident.facility.shifts).starts_at,
        # The resident's next appointments (and one they are out at), above the doses.
        "appointments": data.appointments[:3],
    }


def _render_pass(request, resident: Resident, refusal: dict | None = None):
    data = _pass_data(request, resident, refusal)
    return render(request, "mar/resident_pass.html", _pass_context(request, resident, data))


@facility_view(EVERYONE)
def resident_pass(request, pk: int):
    resident = _resident(request, pk)
    refusal = request.session.pop(SESSION_REFUSAL, None)
    if not isinstance(refusal, dict) or refusal.get("resident") != resident.pk:
        refusal = None
    response = _render_pass(request, resident, refusal)
    response["Vary"] = "HX-Request"
    return response


_CARD_TEMPLATES = {
    selectors.DoseCard: ("mar/_dose_card.html", "dose"),
    selectors.PrnCard: ("mar/_prn_card.html", "row"),
    selectors.FollowUpCard: ("mar/_followup_card.html", "card"),
}


def _errors(form) -> dict[str, list[str]]:
    """The form's messages by field; a service's refusal keeps the field it names even when
    the form has no such input ("witness", "vitals": a group of inputs on the card)."""
    errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    refusal = getattr(form, "refusal", None)
    if refusal is not None and refusal.field and refusal.field not in form.fields:
        top = [m for m in errors.get("__all__", []) if m != refusal.message]
        errors.pop("__all__", None)
        if top:
            errors["__all__"] = top
        errors[refusal.field] = [refusal.message]
    return errors


def _refused(request, resident_pk: int, anchor: str, form):
    """A refused submit. With htmx: that card again, in place, with its messages beside their
    fields and what was typed. Without: POST/redirect/GET to the page at that card, the refusal
    kept in the session for that GET."""
    refusal = {
        "resident": resident_pk,
        "anchor": anchor,
        "errors": _errors(form),
        # What was typed, as typed (the form's own inputs only; never a password or PIN).
        "values": {
            name: request.POST.get(name, "")[:500]
            for name in form.fields
            if name not in _NOT_KEPT and name in request.POST
        },
        "key": request.POST.get("key", "")[:40],
    }
    if not request.htmx:
        request.session[SESSION_REFUSAL] = refusal
        return _back_to_pass(resident_pk, anchor)
    resident = _resident(request, resident_pk)
    data = _pass_data(request, resident, refusal)
    card = next((c for c in _cards(data) if c.anchor == anchor), None)
    if card is None:  # gone meanwhile (documented, discontinued): the page says why
        messages.error(request, " ".join(" ".join(m) for m in refusal["errors"].values()))
        return _pass_updated(request, resident)
    template, name = _CARD_TEMPLATES[type(card)]
    context = _pass_context(request, resident, data)
    return render(request, template, {**context, name: card})


def _pass_updated(request, resident: Resident):
    """After a record: the resident's page again, with its message. htmx swaps the page's
    content in place (the address stays the page's); without it, POST/redirect/GET."""
    if not request.htmx:
        return _back_to_pass(resident.pk)
    response = _render_pass(request, resident)
    response["HX-Retarget"] = "#content"
    response["HX-Reselect"] = "#content"
    response["HX-Reswap"] = "outerHTML show:window:top"
    return response


def _back_to_pass(resident_pk: int, anchor: str = "open") -> HttpResponseRedirect:
    return redirect(f"{reverse('resident_pass', args=[resident_pk])}#{anchor}")


@require_POST
@facility_view(EVERYONE)
def dose_record(request, pk: int):
    dose = scoped_get(ScheduledDose.objects.select_related("resident", "facility"), request, pk=pk)
    form = DoseRecordForm(request.POST)
    anchor = f"dose-{dose.pk}"
    if not form.is_valid():
        return _refused(request, dose.resident_id, anchor, form)
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
            return _pass_updated(request, dose.resident)
        return _refused(request, dose.resident_id, anchor, form)
    administration = result.administration
    if result.hold_message:
        messages.warning(request, result.hold_message)
    elif result.created:
        messages.success(request, _recorded_message(administration, request.facility))
    else:
        messages.info(request, "Already recorded (the form was sent twice); nothing changed.")
    return _pass_updated(request, dose.resident)


@require_POST
@facility_view(EVERYONE)
def dose_record_away(request, pk: int):
    """A dose due while the resident is away at an appointment: given before leaving, sent
    with the resident, or not given."""
    dose = scoped_get(ScheduledDose.objects.select_related("resident", "facility"), request, pk=pk)
    form = DoseAwayForm(request.POST)
    anchor = f"dose-{dose.pk}"
    if not form.is_valid():
        return _refused(request, dose.resident_id, anchor, form)
    result = run_service(
        form,
        lambda: services.administration_record_away(
            actor=request.user,
            dose=dose,
            choice=form.cleaned_data["choice"],
            idempotency_key=form.cleaned_data["key"],
            client_address=request.client_address,
        ),
    )
    if result is None:
        if isinstance(form.refusal, AlreadyDocumented):
            messages.warning(request, form.refusal.message)
            return _pass_updated(request, dose.resident)
        return _refused(request, dose.resident_id, anchor, form)
    if result.created:
        messages.success(request, _recorded_message(result.administration, request.facility))
    else:
        messages.info(request, "Already recorded (the form was sent twice); nothing changed.")
    return _pass_updated(request, dose.resident)


def _recorded_message(administration: Administration, facility) -> str:
    medication = administration.prescription.medication
    when = local_time(administration.administered_at, facility.tz)
    return f"{administration.get_status_display()}: {medication} at {when}."


def _form_message(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@facility_view(EVERYONE)
def prn_give(request, pk: int):
    order = scoped_get(
        Prescription.objects.select_related("medication", "resident"), request, pk=pk
    )
    form = PrnGiveForm(request.POST)
    anchor = f"prn-{order.pk}"
    if not form.is_valid():
        return _refused(request, order.resident_id, anchor, form)
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
        return _refused(request, order.resident_id, anchor, form)
    if result.created:
        messages.success(
            request,
            _recorded_message(result.administration, request.facility)
            + f" Follow up on its effect in {request.facility.prn_followup_minutes} minutes.",
        )
    else:
        messages.info(request, "Already recorded (the form was sent twice); nothing changed.")
    if not request.htmx:
        return _back_to_pass(order.resident_id, "prn")
    return _pass_updated(request, order.resident)


@require_POST
@facility_view(EVERYONE)
def prn_followup(request, pk: int):
    administration = scoped_get(Administration.objects.select_related("resident"), request, pk=pk)
    form = FollowUpForm(request.POST)
    anchor = f"followup-{administration.pk}"
    if not form.is_valid():
        return _refused(request, administration.resident_id, anchor, form)
    followup = run_service(
        form,
        lambda: services.prn_followup_record(
            actor=request.user,
            administration=administration,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
        ),
    )
    if followup is None:
        return _refused(request, administration.resident_id, anchor, form)
    messages.success(request, "Follow-up documented.")
    if not request.htmx:
        return _back_to_pass(administration.resident_id, "followups")
    return _pass_updated(request, administration.resident)


# What the med tech is passing: a unit, a cart or "my residents" ------------------------------


def _choice_value(kind: str, pk: int | None) -> str:
    return f"{kind}:{pk}" if pk is not None else kind


@facility_view(EVERYONE)
def passing_choose(request):
    """Pick what the board shows for the rest of the session: a unit, a cart, "my residents"
    for this shift, or the whole facility."""
    now = timezone.now()
    current = _passing(request)
    choices = resident_selectors.passing_choices(
        facility=request.facility, user=request.user, current=current, now=now
    )
    by_value = {_choice_value(c.kind, c.pk): c for c in choices}
    form = PassingForm(
        request.POST or None,
        choices=[(value, c.label) for value, c in by_value.items()],
        initial={"passing": _choice_value(current.kind, current.pk)},
    )
    if request.method == "POST" and form.is_valid():
        chosen = by_value[form.cleaned_data["passing"]]
        request.session[SESSION_PASSING] = {"kind": chosen.kind, "pk": chosen.pk}
        messages.success(request, f"Passing: {_passing(request).label}.")
        return redirect("board")
    return render(
        request,
        "mar/passing.html",
        {"form": form, "choices": [(_choice_value(c.kind, c.pk), c) for c in choices]},
    )


@facility_view(EVERYONE)
def shift_assignments(request):
    """ "My residents": the residents a med tech passes to in a shift. A med tech takes their
    own (a whole unit or cart, or ticked one by one) for this shift or a later one; a nurse or an
    administrator assigns any med tech's."""
    now = timezone.now()
    facility = request.facility
    shifts = resident_selectors.shifts_to_assign(facility=facility, now=now)
    assigns_others = request.role in WRITERS_CLINICAL
    techs = resident_selectors.med_techs(facility=facility) if assigns_others else []
    source = request.POST or request.GET
    shift = parse_shift_key(source.get("shift", ""), facility.shifts)
    shift = shift if shift in shifts else shifts[0]
    med_tech = request.user
    if assigns_others:
        chosen = parse_id(source.get("med_tech"))
        med_tech = next((u for u in techs if u.pk == chosen), techs[0] if techs else None)
    rows = (
        resident_selectors.assignment_rows(facility=facility, med_tech=med_tech, shift=shift)
        if med_tech is not None
        else []
    )
    groups = resident_selectors.passing_choices(
        facility=facility, user=request.user, current=_passing(request), now=now
    )
    groups = [g for g in groups if g.kind in ("unit", "cart")]
    form = AssignmentForm(
        request.POST or None,
        shifts=shifts,
        med_techs=techs,
        residents=[row.resident for row in rows],
        groups=[_choice_value(g.kind, g.pk) for g in groups],
        initial={
            "shift": shift.key,
            "med_tech": str(med_tech.pk) if med_tech else "",
            "residents": [str(row.resident.pk) for row in rows if row.mine],
        },
    )
    if request.method == "POST" and med_tech is not None and form.is_valid():
        picked = {int(pk) for pk in form.cleaned_data["residents"]}
        take = form.cleaned_data["take"]
        if take:  # a whole unit or cart: its residents nobody else has this shift
            kind, _, pk = take.partition(":")
            picked |= {
                row.resident.pk
                for row in rows
                if row.holder is None and getattr(row.resident, f"{kind}_id") == int(pk)
            }
        saved = run_service(
            form,
            lambda: resident_services.shift_assignment_set(
                actor=request.user,
                facility=facility,
                med_tech=med_tech,
                shift=shift,
                residents=[row.resident for row in rows if row.resident.pk in picked],
                now=now,
            ),
        )
        if saved is not None:
            count = len(saved)
            whose = "You have" if med_tech == request.user else f"{med_tech} has"
            messages.success(
                request,
                f"{whose} {count} resident{'s' if count != 1 else ''} for the {shift}.",
            )
            if med_tech == request.user and shift == shifts[0]:
                request.session[SESSION_PASSING] = {"kind": "mine", "pk": None}
                return redirect("board")
            query = urlencode({"shift": shift.key, "med_tech": med_tech.pk})
            return redirect(f"{reverse('shift_assignments')}?{query}")
    ticked = set(form["residents"].value() or [])
    return render(
        request,
        "mar/shift_assignments.html",
        {
            "form": form,
            "rows": [replace(row, checked=str(row.resident.pk) in ticked) for row in rows],
            "shift": shift,
            "shifts": shifts,
            "med_tech": med_tech,
            "techs": techs,
            "groups": groups,
        },
    )


@facility_view(WRITERS_CLINICAL, action="manage the med carts")
def cart_list(request):
    """The facility's med carts, and the form that adds one."""
    form = CartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cart = run_service(
            form,
            lambda: resident_services.cart_create(
                actor=request.user, facility=request.facility, name=form.cleaned_data["name"]
            ),
        )
        if cart is not None:
            messages.success(request, f"“{cart}” added: choose the residents it serves.")
            return redirect("cart_edit", pk=cart.pk)
    rows = resident_selectors.cart_list(facility=request.facility)
    return render(request, "mar/cart_list.html", {"rows": rows, "form": form})


@facility_view(WRITERS_CLINICAL, action="manage the med carts")
def cart_edit(request, pk: int):
    """A cart's name and the residents it serves (ticked; one left out is on no cart)."""
    cart = scoped_get(Cart, request, pk=pk)
    residents = list(resident_selectors.roster(facility=request.facility))
    form = CartForm(
        request.POST or None,
        residents=residents,
        initial={
            "name": cart.name,
            "residents": [str(r.pk) for r in residents if r.cart_id == cart.pk],
        },
    )
    if request.method == "POST" and form.is_valid():
        picked = {int(pk) for pk in form.cleaned_data["residents"]}
        saved = run_service(
            form,
            lambda: resident_services.cart_update(
                actor=request.user,
                cart=cart,
                name=form.cleaned_data["name"],
                residents=[r for r in residents if r.pk in picked],
            ),
        )
        if saved is not None:
            messages.success(request, f"“{saved}” saved: it serves {len(picked)} residents.")
            return redirect("cart_list")
    ticked = set(form["residents"].value() or [])
    rows = [AssignmentRow(r, checked=str(r.pk) in ticked) for r in residents]
    return render(request, "mar/cart_form.html", {"form": form, "cart": cart, "rows": rows})


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
