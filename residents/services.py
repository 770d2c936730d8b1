"""Every write about residents. Each function is one transaction and takes the acting user."""

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Facility, Role, Unit, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.shifts import Shift
from core.validators import check_inputs

from .models import (
    STATUS_WORDS,
    Allergy,
    AllergyStatus,
    Cart,
    Resident,
    ResidentStatus,
    ResidentStatusChange,
    ShiftAssignment,
)
from .signals import resident_status_changed

# Where a resident can go from each status. Discharge is final: a returning person is readmitted.
_ALLOWED_MOVES = {
    ResidentStatus.ACTIVE: {ResidentStatus.LOA, ResidentStatus.HOSPITAL, ResidentStatus.DISCHARGED},
    ResidentStatus.LOA: {ResidentStatus.ACTIVE, ResidentStatus.HOSPITAL, ResidentStatus.DISCHARGED},
    ResidentStatus.HOSPITAL: {
        ResidentStatus.ACTIVE,
        ResidentStatus.LOA,
        ResidentStatus.DISCHARGED,
    },
    ResidentStatus.DISCHARGED: set(),
}

EDITABLE_FIELDS = (
    "unit",
    "room",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "photo",
    "code_status",
    "physician_name",
    "physician_phone",
    "pharmacy",
    "admission_date",
    "notes",
)


def _facility_today(facility: Facility) -> date:
    return facility.local_today()


def _validate_details(*, facility: Facility, fields: dict) -> dict:
    """Clean and check the fields a form or a script supplies; raise DomainError on the first."""
    cleaned = dict(fields)
    for name in ("first_name", "last_name", "room"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if not cleaned[name]:
                label = name.replace("_", " ")
                raise DomainError(f"Enter the resident's {label}.", field=name)
    unit: Unit | None = cleaned.get("unit")
    if "unit" in cleaned and (unit is None or unit.facility_id != facility.pk):
        raise DomainError("Choose a unit of this facility.", field="unit")
    today = _facility_today(facility)
    born = cleaned.get("date_of_birth")
    if born is not None and (born > today or born.year < 1900):
        raise DomainError("Date of birth must be a past date after 1900.", field="date_of_birth")
    admitted = cleaned.get("admission_date")
    if admitted is not None and admitted > today:
        raise DomainError("Admission date cannot be in the future.", field="admission_date")
    if born is not None and admitted is not None and admitted < born:
        raise DomainError("Admission date is before the date of birth.", field="admission_date")
    return cleaned


@transaction.atomic
def resident_admit(*, actor: User, facility: Facility, **details) -> Resident:
    """Admit a resident (status active) and start their status history."""
    check_inputs(**details)
    unknown = set(details) - set(EDITABLE_FIELDS) - {"allergy_status"}
    if unknown:
        raise TypeError(f"Unknown resident fields: {sorted(unknown)}")
    details.setdefault("admission_date", _facility_today(facility))
    cleaned = _validate_details(facility=facility, fields=details)
    now = timezone.now()
    resident = Resident(
        facility=facility, status=ResidentStatus.ACTIVE, present_since=now, **cleaned
    )
    resident.save()
    ResidentStatusChange.objects.create(
        resident=resident,
        from_status="",
        to_status=ResidentStatus.ACTIVE,
        reason="Admitted",
        effective_at=now,
        changed_by=actor,
    )
    return resident


@transaction.atomic
def resident_update(*, actor: User, resident: Resident, **changes) -> Resident:
    """Change a resident's details (not their status: see resident_change_status)."""
    check_inputs(**changes)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {sorted(unknown)}")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    merged = {name: getattr(resident, name) for name in ("date_of_birth", "admission_date")}
    merged.update(changes)
    cleaned = _validate_details(facility=resident.facility, fields=merged)
    for name in changes:
        setattr(resident, name, cleaned[name])
    resident.save()
    return resident


@transaction.atomic
def resident_change_status(
    *,
    actor: User,
    resident: Resident,
    to_status: str,
    reason: str,
    effective_at: datetime | None = None,
) -> ResidentStatusChange:
    """Move a resident to LOA, hospital, back (active) or discharged, with a reason.

    Locks the resident row, so two people changing the status at once apply one after the other
    and the second sees the first's result. Receivers of `resident_status_changed` (the dose
    engine) run inside this transaction.
    """
    check_inputs(reason=reason, effective_at=effective_at)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the change.", field="reason")
    locked = Resident.objects.select_for_update().get(pk=resident.pk)
    try:
        to_status = ResidentStatus(to_status)
    except ValueError:
        raise DomainError("Choose a status.", field="to_status") from None
    from_status = ResidentStatus(locked.status)
    if to_status == from_status:
        raise DomainError(f"{locked.display_name} is already {STATUS_WORDS[from_status]}.")
    if to_status not in _ALLOWED_MOVES[from_status]:
        raise DomainError(
            f"A {from_status.label.lower()} resident cannot be moved to "
            f"{to_status.label.lower()}. Readmit them instead.",
            field="to_status",
        )
    now = timezone.now()
    effective_at = effective_at or now
    if effective_at > now:
        raise DomainError("The change cannot take effect in the future.", field="effective_at")
    last = locked.status_changes.order_by("-effective_at").first()
    if last is not None and effective_at < last.effective_at:
        raise DomainError(
            "The change cannot take effect before the previous one.", field="effective_at"
        )
    locked.status = to_status
    if to_status == ResidentStatus.ACTIVE:
        locked.present_since = effective_at
    locked.save(update_fields=["status", "present_since"])
    change = ResidentStatusChange.objects.create(
        resident=locked,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        effective_at=effective_at,
        changed_by=actor,
    )
    resident.status = to_status
    resident_status_changed.send(
        sender=Resident,
        resident=locked,
        from_status=from_status,
        to_status=to_status,
        effective_at=effective_at,
        actor=actor,
        change=change,
    )
    return change


def resident_discharge(
    *, actor: User, resident: Resident, reason: str, effective_at: datetime | None = None
) -> ResidentStatusChange:
    check_inputs(reason=reason, effective_at=effective_at)
    return resident_change_status(
        actor=actor,
        resident=resident,
        to_status=ResidentStatus.DISCHARGED,
        reason=reason,
        effective_at=effective_at,
    )


@transaction.atomic
def allergy_add(
    *, actor: User, resident: Resident, substance: str, reaction: str = "", severity: str = ""
) -> Allergy:
    check_inputs(substance=substance, reaction=reaction)
    substance = (substance or "").strip()
    if not substance:
        raise DomainError("Enter the substance the resident is allergic to.", field="substance")
    locked = Resident.objects.select_for_update().get(pk=resident.pk)
    if locked.allergies.filter(substance__iexact=substance).exists():
        raise DomainError(f"{substance} is already on the allergy list.", field="substance")
    allergy = Allergy.objects.create(
        resident=locked,
        substance=substance,
        reaction=(reaction or "").strip(),
        severity=severity or "unknown",
        recorded_by=actor,
    )
    locked.allergy_status = AllergyStatus.RECORDED
    locked.save(update_fields=["allergy_status"])
    return allergy


@transaction.atomic
def allergy_remove(*, actor: User, allergy: Allergy) -> None:
    """Remove an allergy entered in error. With none left, allergies read "not recorded" again."""
    locked = Resident.objects.select_for_update().get(pk=allergy.resident_id)
    allergy.delete()
    if not locked.allergies.exists():
        locked.allergy_status = AllergyStatus.NOT_RECORDED
        locked.save(update_fields=["allergy_status"])


@transaction.atomic
def resident_mark_nkda(*, actor: User, resident: Resident) -> Resident:
    """Record "no known drug allergies", distinct from "not recorded"."""
    locked = Resident.objects.select_for_update().get(pk=resident.pk)
    if locked.allergies.exists():
        raise DomainError("Remove the recorded allergies before marking NKDA.")
    locked.allergy_status = AllergyStatus.NKDA
    locked.save(update_fields=["allergy_status"])
    resident.allergy_status = AllergyStatus.NKDA
    return locked


# Med carts and "my residents" ----------------------------------------------------------------


def _cart_name(facility: Facility, name: str, *, cart: Cart | None = None) -> str:
    check_inputs(name=name)
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the cart, e.g. North Wing cart 1.", field="name")
    taken = Cart.objects.filter(facility=facility, name__iexact=name)
    if cart is not None:
        taken = taken.exclude(pk=cart.pk)
    if taken.exists():
        raise DomainError(f"{facility} already has a cart named “{name}”.", field="name")
    return name


def _of_facility(facility: Facility, residents) -> list[Resident]:
    residents = list(residents)
    if any(r.facility_id != facility.pk for r in residents):
        raise DomainError("Choose residents of this facility.", field="residents")
    return residents


@transaction.atomic
def cart_create(*, actor: User, facility: Facility, name: str) -> Cart:
    """A new med cart of the facility, serving nobody yet."""
    return Cart.objects.create(facility=facility, name=_cart_name(facility, name))


@transaction.atomic
def cart_update(*, actor: User, cart: Cart, name: str, residents) -> Cart:
    """Rename the cart and make `residents` exactly the ones it serves (a resident moved here
    leaves the cart it was on; one left out is on no cart)."""
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    cart.name = _cart_name(cart.facility, name, cart=cart)
    cart.save(update_fields=["name"])
    chosen = {r.pk for r in _of_facility(cart.facility, residents)}
    # Row by row (not a queryset update) so each resident's audit trail names the move.
    for resident in Resident.objects.select_for_update().filter(Q(cart=cart) | Q(pk__in=chosen)):
        wanted = cart if resident.pk in chosen else None
        if resident.cart_id != (wanted.pk if wanted else None):
            resident.cart = wanted
            resident.save(update_fields=["cart"])
    return cart


@transaction.atomic
def shift_assignment_set(
    *,
    actor: User,
    facility: Facility,
    med_tech: User,
    shift: Shift,
    residents,
    now: datetime | None = None,
) -> list[ShiftAssignment]:
    """Make `residents` exactly the ones `med_tech` passes medications to during `shift`.

    A med tech sets their own residents; a nurse or an administrator sets anyone's. A shift that
    has ended is not changed. A resident already given to another med tech for that shift is
    refused by name (the database's one-med-tech-per-shift constraint is the last guard).
    """
    now = now or timezone.now()
    role = membership_role(user=actor, facility_id=facility.pk)
    if role == Role.MED_TECH and actor.pk != med_tech.pk:
        raise DomainError("A med tech takes residents for themselves; a nurse assigns others.")
    if role not in (Role.MED_TECH, Role.NURSE, Role.ADMIN):
        raise DomainError("Only the facility's staff assign residents.")
    if membership_role(user=med_tech, facility_id=facility.pk) != Role.MED_TECH:
        raise DomainError("Choose a med tech of this facility.", field="med_tech")
    if shift.ends_at <= now:
        raise DomainError(
            f"The {shift} has ended; choose this shift or a later one.", field="shift"
        )
    chosen = {r.pk: r for r in _of_facility(facility, residents)}
    same_shift = ShiftAssignment.objects.select_for_update().filter(
        facility=facility, shift_day=shift.day, shift_name=shift.name
    )
    others = [
        a
        for a in same_shift.filter(resident_id__in=list(chosen)).select_related("med_tech")
        if a.med_tech_id != med_tech.pk
    ]
    if others:
        names = "; ".join(f"{chosen[a.resident_id]} to {a.med_tech}" for a in others)
        raise DomainError(
            f"Already assigned for this shift: {names}. A nurse can change it.", field="residents"
        )
    mine = same_shift.filter(med_tech=med_tech)
    mine.exclude(resident_id__in=list(chosen)).delete()
    kept = set(mine.values_list("resident_id", flat=True))
    ShiftAssignment.objects.bulk_create(
        ShiftAssignment(
            facility=facility,
            med_tech=med_tech,
            shift_day=shift.day,
            shift_name=shift.name,
            resident_id=pk,
            assigned_by=actor,
        )
        for pk in chosen
        if pk not in kept
    )
    return list(mine.select_related("resident"))
