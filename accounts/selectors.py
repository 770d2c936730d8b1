"""Reads about facilities and staff that pages and reports share."""

import functools
import json
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from core import rows

from .models import (
    Certification,
    CertificationKind,
    Facility,
    Membership,
    StaffSession,
    Unit,
    User,
)

_UNITS = """
    SELECT row_to_json(u) FROM accounts_unit AS u
    WHERE u.facility_id = %(facility)s ORDER BY u.name, u.id
"""


def unit_list(*, facility: Facility) -> list[Unit]:
    """The facility's units by name (one prepared statement: pages that pick a unit read it
    at every view)."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_UNITS, {"facility": facility.pk})
        units = rows.instances(Unit, [row for (row,) in cursor.fetchall()])
    for unit in units:
        unit.facility = facility
    return units


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("facility")
        .order_by("facility__name")
    )


def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


_MODELS_READ = (Membership, User, Facility)


@functools.cache
def _membership_select() -> tuple[str, str]:
    """The columns and joins that read a membership with its user and facility, what every
    page's header shows, and the medication aide terms — built once from the models' own
    columns: no ORM compilation per request. `m` is the membership's alias."""
    certifications = Certification._meta.db_table
    memberships = Membership._meta.db_table
    aide = CertificationKind.MEDICATION_AIDE.value
    columns = [*_columns(Membership, "m"), *_columns(User, "u"), *_columns(Facility, "f")]
    select = f"""{", ".join(columns)},
            (SELECT count(*) FROM {memberships} a WHERE a.user_id = m.user_id AND a.is_active),
            (SELECT jsonb_agg(jsonb_build_object('issued', c.issued, 'expires', c.expires))
             FROM {certifications} c WHERE c.user_id = m.user_id AND c.kind = '{aide}')"""
    joins = f"""JOIN {User._meta.db_table} u ON u.id = m.user_id
        JOIN {Facility._meta.db_table} f ON f.id = m.facility_id"""
    return select, joins


def _membership_from_row(row) -> Membership | None:
    """The membership (with .user, .facility, .facility_count, .aide_terms) that
    `_membership_select`'s columns hold, None when they are empty (no active membership)."""
    if row[0] is None:
        return None
    instances = []
    at = 0
    for model in _MODELS_READ:
        fields = model._meta.concrete_fields
        values = row[at : at + len(fields)]
        instances.append(model.from_db(connection.alias, [f.attname for f in fields], values))
        at += len(fields)
    membership, user, facility = instances
    membership.user, membership.facility = user, facility
    membership.facility_count, terms = row[at], row[at + 1]
    membership.aide_terms = json.loads(terms) if isinstance(terms, str) else terms
    return membership


def membership_for_request(*, user_id, facility_id) -> Membership | None:
    """The user's active membership of the facility with its user and facility, and what every
    page's header shows (`facility_count`: how many facilities they work in; `aide_terms`: their
    medication aide certifications' dates) — one query.

    The models' columns hold plain values (tests/accounts/test_request_membership.py keeps
    them so): rows become instances without the ORM's per-query work."""
    select, joins = _membership_select()
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM {Membership._meta.db_table} m {joins} "
            "WHERE m.user_id = %s AND m.facility_id = %s AND m.is_active",
            [int(user_id), int(facility_id)],
        )
        row = cursor.fetchone()
    return None if row is None else _membership_from_row(row)


@dataclass(frozen=True)
class SessionRead:
    session_data: str
    user_id: int | None  # the session row's columns (accounts.models.StaffSession)
    facility_id: int | None
    membership: Membership | None  # the active membership they name, if any


def session_with_membership(*, session_key: str, now) -> SessionRead | None:
    """An unexpired session and the active membership its row names, in one statement (the
    whole of a signed-in request's reading before its view); None when there is no session."""
    select, joins = _membership_select()
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            f"""SELECT s.session_data, s.user_id, s.facility_id, {select}
            FROM {StaffSession._meta.db_table} s
            LEFT JOIN ({Membership._meta.db_table} m {joins})
                ON m.user_id = s.user_id AND m.facility_id = s.facility_id AND m.is_active
            WHERE s.session_key = %s AND s.expire_date > %s""",
            [session_key, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return SessionRead(row[0], row[1], row[2], _membership_from_row(row[3:]))


def membership_current(*, user: User, facility_id: int | None) -> Membership | None:
    """The membership for the chosen facility; else the only one; else None (pick first)."""
    if facility_id is not None:
        chosen = membership_list_for_user(user=user).filter(facility_id=facility_id).first()
        if chosen is not None:
            return chosen
    memberships = list(membership_list_for_user(user=user)[:2])
    return memberships[0] if len(memberships) == 1 else None


def staff_list(*, facility: Facility, query: str = "", role: str = "") -> QuerySet[Membership]:
    """The facility's staff with their certifications, for the staff page (constant queries)."""
    memberships = (
        Membership.objects.filter(facility=facility)
        .select_related("user")
        .prefetch_related(
            Prefetch("user__certifications", queryset=Certification.objects.order_by("kind"))
        )
        .order_by("-is_active", "user__last_name", "user__first_name", "user__username")
    )
    if query:
        memberships = memberships.filter(
            Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
            | Q(user__username__icontains=query)
        )
    if role:
        memberships = memberships.filter(role=role)
    return memberships


def certification_expiring_list(
    *, facility: Facility, today: date, days: int = 30
) -> QuerySet[Certification]:
    """Certifications of the facility's active staff that expired or expire within `days`."""
    return (
        Certification.objects.filter(
            user__memberships__facility=facility,
            user__memberships__is_active=True,
            expires__lte=today + timedelta(days=days),
        )
        .select_related("user")
        .order_by("expires", "user__last_name")
    )


AIDE_NOTICE_DAYS = 30  # a med tech is told this many days before the certification expires


@dataclass(frozen=True)
class AideCertification:
    """A med tech's medication aide certification as of one day."""

    expires: date | None  # the latest expiry of a certification current that day; None: none

    @property
    def current(self) -> bool:
        return self.expires is not None

    def days_left(self, today: date) -> int | None:
        return (self.expires - today).days if self.expires is not None else None

    def expiring_soon(self, today: date) -> bool:
        return self.current and self.days_left(today) < AIDE_NOTICE_DAYS


def medication_aide_certification(*, user: User, today: date) -> AideCertification:
    """One query: the certification that lets the user record medications today, if any."""
    expires = (
        Certification.objects.filter(
            user=user, kind="medication_aide", issued__lte=today, expires__gte=today
        )
        .order_by("-expires")
        .values_list("expires", flat=True)
        .first()
    )
    return AideCertification(expires)


def medication_aide_on(terms: list[dict] | None, today: date) -> AideCertification:
    """The certification current on `today` among (issued, expires) pairs as JSON (the same
    answer as `medication_aide_certification`)."""
    current = [
        date.fromisoformat(t["expires"])
        for t in terms or []
        if date.fromisoformat(t["issued"]) <= today <= date.fromisoformat(t["expires"])
    ]
    return AideCertification(max(current) if current else None)


def medication_aide_current(*, user: User, today: date) -> bool:
    return medication_aide_certification(user=user, today=today).current


def membership_role(*, user: User, facility_id: int) -> str | None:
    """The user's role in the facility, or None when not an active member."""
    return (
        Membership.objects.filter(user=user, facility_id=facility_id, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
