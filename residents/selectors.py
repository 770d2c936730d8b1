"""Reads about residents shared by pages and reports."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet

from accounts.models import Facility, Membership, Role, Unit, User
from core import rows
from core.shifts import Shift, shift_after, shift_at

from .models import Cart, Resident, ResidentStatus, ShiftAssignment, display_name


def resident_name_matches(word: str, prefix: str = "") -> Q:
    """A resident (through `prefix`, e.g. "resident__") whose names hold `word`."""
    return (
        Q(**{f"{prefix}first_name__icontains": word})
        | Q(**{f"{prefix}last_name__icontains": word})
        | Q(**{f"{prefix}preferred_name__icontains": word})
    )


def resident_list(
    *, facility: Facility, query: str = "", unit_id: int | None = None, status: str = ""
) -> QuerySet[Resident]:
    """Residents of the facility for the list page: searched by name or room, filtered."""
    residents = Resident.objects.filter(facility=facility).select_related("unit")
    if query:
        for word in query.split():
            residents = residents.filter(resident_name_matches(word) | Q(room__iexact=word))
    if unit_id:
        residents = residents.filter(unit_id=unit_id)
    if status:
        residents = residents.filter(status=status)
    return residents.order_by("last_name", "first_name", "pk")


_RESIDENT_WITH_UNIT = """
    SELECT row_to_json(r), row_to_json(u)
    FROM residents_resident AS r LEFT JOIN accounts_unit AS u ON u.id = r.unit_id
    WHERE r.id = %(pk)s AND r.facility_id = %(facility)s
"""


def resident_of_facility(*, facility: Facility, pk: int) -> Resident | None:
    """The facility's resident with their unit (as select_related), else None: one prepared
    statement, for the pages a med pass opens at every resident."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_RESIDENT_WITH_UNIT, {"pk": pk, "facility": facility.pk})
        found = cursor.fetchone()
    if found is None:
        return None
    (resident,) = rows.instances(Resident, [found[0]])
    rows.attach(
        [resident], "unit", rows.by_pk(rows.instances(Unit, [found[1]] if found[1] else []))
    )
    resident.facility = facility  # found there: no join, no query
    return resident


_PRESENT_IN_UNIT = """
    SELECT id, first_name, preferred_name, last_name, room FROM residents_resident
    WHERE unit_id = %(unit)s AND status = %(active)s
    ORDER BY last_name, first_name, id
"""


def present_in_unit(*, unit: Unit) -> list[tuple[int, str, str]]:
    """The unit's present residents by name as (id, display name, room): one prepared
    statement, for the forms that offer them."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_PRESENT_IN_UNIT, {"unit": unit.pk, "active": ResidentStatus.ACTIVE.value})
        return [
            (pk, display_name(first, preferred, last), room)
            for pk, first, preferred, last, room in cursor.fetchall()
        ]


def resident_profile(*, facility: Facility, pk: int) -> Resident:
    """One resident with everything the profile shows, in a fixed number of queries."""
    return (
        Resident.objects.filter(facility=facility)
        .select_related("unit", "facility")
        .prefetch_related("allergies", "status_changes__changed_by")
        .get(pk=pk)
    )


def resident_status_counts(*, facility) -> dict[str, int]:
    """How many residents are present, on leave and in hospital (one query)."""
    counts = dict(
        Resident.objects.filter(
            facility=facility,
            status__in=(ResidentStatus.ACTIVE, ResidentStatus.LOA, ResidentStatus.HOSPITAL),
        )
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        str(status): counts.get(status, 0)
        for status in (ResidentStatus.ACTIVE, ResidentStatus.LOA, ResidentStatus.HOSPITAL)
    }


# What a med tech is passing: the whole facility, a unit, a cart or "my residents" ----------


@dataclass(frozen=True)
class Passing:
    """The part of the facility a med pass covers, resolved for one facility and person."""

    kind: str  # "all", "unit", "cart" or "mine"
    pk: int | None
    label: str  # what the person reads: "North Wing", "Cart 1", "My residents (Day shift …)"
    user_id: int | None = None
    shift: Shift | None = None
    assigned: int = 0  # "mine": how many present residents the med tech has this shift

    @property
    def is_all(self) -> bool:
        return self.kind == "all"

    def residents_q(self, prefix: str = "") -> Q:
        """The residents it covers, as a filter on a model reaching Resident through `prefix`
        ("resident__" from a dose)."""
        if self.kind == "unit":
            return Q(**{f"{prefix}unit_id": self.pk})
        if self.kind == "cart":
            return Q(**{f"{prefix}cart_id": self.pk})
        if self.kind == "mine":
            return Q(
                **{
                    f"{prefix}shift_assignments__med_tech_id": self.user_id,
                    f"{prefix}shift_assignments__shift_day": self.shift.day,
                    f"{prefix}shift_assignments__shift_name": self.shift.name,
                }
            )
        return Q()


WHOLE_FACILITY = "The whole facility"
# Where the session keeps what the person passes (chosen on the med pass board; the shift's care
# list follows the same choice).
SESSION_PASSING = "med_pass_passing"


def _mine_label(shift: Shift) -> str:
    """ "My residents, day shift 07:00–15:00" """
    return (
        f"My residents, {shift.label.lower()} shift "
        f"{shift.local_start:%H:%M}–{shift.local_end:%H:%M}"
    )


_ASSIGNED = """
    SELECT count(*) FROM residents_shiftassignment AS a
    JOIN residents_resident AS r ON r.id = a.resident_id
    WHERE a.facility_id = %(facility)s AND a.med_tech_id = %(user)s
      AND a.shift_day = %(day)s AND a.shift_name = %(shift)s AND r.status = %(active)s
"""


def _assigned_count(facility: Facility, user: User, shift: Shift) -> int:
    """How many present residents the med tech is given for the shift (one prepared statement:
    every med pass page asks)."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            _ASSIGNED,
            {
                "facility": facility.pk,
                "user": user.pk,
                "day": shift.day,
                "shift": shift.name,
                "active": ResidentStatus.ACTIVE.value,
            },
        )
        return cursor.fetchone()[0]


def passing_resolve(
    *, facility: Facility, user: User, choice: dict | None, now: datetime.datetime
) -> Passing:
    """The session's choice ({"kind": …, "pk": …}) made real for this facility: a unit or cart
    that is not the facility's (or no longer exists) falls back to the whole facility. With no
    choice yet, a med tech who has residents for the shift running now passes them ("my
    residents"); anyone else the whole facility. At most one query."""
    choice = choice if isinstance(choice, dict) else {}
    kind, pk = choice.get("kind"), choice.get("pk")
    if kind == "mine" or not kind:
        shift = shift_at(now, facility.shifts)
        assigned = _assigned_count(facility, user, shift)
        if not kind and not assigned:  # nothing chosen, nobody given to them: everyone
            return Passing("all", None, WHOLE_FACILITY)
        return Passing(
            "mine", None, _mine_label(shift), user_id=user.pk, shift=shift, assigned=assigned
        )
    model = {"unit": Unit, "cart": Cart}.get(kind)
    if model is not None and isinstance(pk, int):
        name = model.objects.filter(facility=facility, pk=pk).values_list("name", flat=True)
        name = next(iter(name), None)
        if name is not None:
            return Passing(kind, pk, name if kind == "cart" else f"{name} (unit)")
    return Passing("all", None, WHOLE_FACILITY)


@dataclass(frozen=True)
class PassingChoice:
    kind: str
    pk: int | None
    label: str
    residents: int  # present residents it covers
    current: bool


def passing_choices(
    *, facility: Facility, user: User, current: Passing, now: datetime.datetime
) -> list[PassingChoice]:
    """What the picker offers, each with its count of present residents (three queries)."""
    present = Resident.objects.filter(facility=facility, status=ResidentStatus.ACTIVE)
    by_unit = dict(present.values_list("unit_id").annotate(n=Count("pk")).order_by())
    by_cart = dict(present.values_list("cart_id").annotate(n=Count("pk")).order_by())
    shift = shift_at(now, facility.shifts)
    mine = present.filter(
        shift_assignments__med_tech=user,
        shift_assignments__shift_day=shift.day,
        shift_assignments__shift_name=shift.name,
    ).count()

    def choice(kind, pk, label, residents):
        return PassingChoice(kind, pk, label, residents, (current.kind, current.pk) == (kind, pk))

    return [
        choice("mine", None, _mine_label(shift), mine),
        *(
            choice("cart", cart.pk, cart.name, by_cart.get(cart.pk, 0))
            for cart in Cart.objects.filter(facility=facility).order_by("name")
        ),
        *(
            choice("unit", unit.pk, f"{unit.name} (unit)", by_unit.get(unit.pk, 0))
            for unit in Unit.objects.filter(facility=facility).order_by("name")
        ),
        choice("all", None, WHOLE_FACILITY, sum(by_unit.values())),
    ]


def shifts_to_assign(*, facility: Facility, now: datetime.datetime, count: int = 3) -> list[Shift]:
    """The shift running now and the ones after it: the shifts residents can be taken for."""
    shifts = [shift_at(now, facility.shifts)]
    while len(shifts) < count:
        shifts.append(shift_after(shifts[-1], facility.shifts))
    return shifts


def roster(*, facility: Facility) -> QuerySet[Resident]:
    """The present residents by unit and name, with their unit and cart (one query)."""
    return (
        Resident.objects.filter(facility=facility, status=ResidentStatus.ACTIVE)
        .select_related("unit", "cart")
        .order_by("unit__name", "last_name", "first_name", "pk")
    )


@dataclass(frozen=True)
class AssignmentRow:
    resident: Resident
    mine: bool = False  # assigned to the med tech being assigned
    holder: User | None = None  # another med tech who has the resident for this shift
    checked: bool = False  # ticked on the form (what is saved, or what was just sent)


def assignment_rows(*, facility: Facility, med_tech: User, shift: Shift) -> list[AssignmentRow]:
    """Every present resident, by unit and name, with who has them for `shift` (two queries)."""
    holders = {
        a.resident_id: a.med_tech
        for a in ShiftAssignment.objects.filter(
            facility=facility, shift_day=shift.day, shift_name=shift.name
        ).select_related("med_tech")
    }
    rows = []
    for resident in roster(facility=facility):
        holder = holders.get(resident.pk)
        mine = holder is not None and holder.pk == med_tech.pk
        rows.append(AssignmentRow(resident, mine, None if mine else holder))
    return rows


def med_techs(*, facility: Facility) -> list[User]:
    """The facility's active med techs, by name (whom a nurse can assign residents to)."""
    return [
        m.user
        for m in Membership.objects.filter(
            facility=facility, role=Role.MED_TECH, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ]


@dataclass(frozen=True)
class CartRow:
    cart: Cart
    residents: int


def cart_list(*, facility: Facility) -> list[CartRow]:
    """The facility's carts with how many present residents each serves (one query)."""
    carts = Cart.objects.filter(facility=facility).annotate(
        n=Count("residents", filter=Q(residents__status=ResidentStatus.ACTIVE))
    )
    return [CartRow(cart, cart.n) for cart in carts.order_by("name")]
