"""Audit trails from the database triggers: every change of a resident's rows, or every change a
staff member made, within a period and of one kind (an app: orders, stock, ...). Each trail is a
`core.audit_events.Trail`: one query counts it, one reads a page (or all of it, for the CSV),
whatever kinds of rows it holds; `core.audit.audit_rows` reads the events as a surveyor does."""

import datetime

from accounts.models import Facility, Membership, User
from core.audit import audit_kinds
from core.audit_events import ALIAS, Trail, TrailPart, by_user, event_models, merged, pointing_at
from inventory.models import ControlledCount, StockItem
from mar.models import Administration
from meds.models import Prescription
from residents.models import Resident

from .common import local_bounds


def _kind(kind: str) -> str:
    return kind if kind in dict(audit_kinds()) else ""


def _subquery(queryset, field: str = "pk") -> tuple[str, tuple]:
    """The SQL of the queryset's `field` values, to stand in `IN (...)`."""
    sql, params = queryset.order_by().values(field).query.sql_with_params()
    return sql, tuple(params)


# Rows that belong to a resident through another of their rows: (that row's model, the events of
# the rows pointing at it). An amendment points at an administration, not at the resident.
_THROUGH = [
    (Prescription, ["meds.HoldParameterEvent", "meds.PrescriptionStatusChangeEvent"]),
    (Administration, ["mar.PrnFollowUpEvent", "mar.AmendmentEvent"]),
    (StockItem, ["inventory.StockMovementEvent", "inventory.ControlledCountLineEvent"]),
]


def resident_audit_events(
    *, resident: Resident, start: datetime.date, end: datetime.date, kind: str = ""
) -> Trail:
    """Every recorded change of the resident, of the rows pointing at them and of the rows
    pointing at those (`_THROUGH`) within the period, newest first (1 query to count, 1 for a
    page or for all)."""
    since, until = local_bounds(resident.facility, start, end)
    tables = event_models(_kind(kind))
    parts = pointing_at(Resident, "%s", [resident.pk], tables)
    for model, event_labels in _THROUGH:
        through = [m for m in tables if m._meta.label in event_labels]
        sql, params = _subquery(model.objects.filter(resident=resident))
        parts += pointing_at(model, sql, params, through)
    return Trail(merged(parts), since=since, until=until)


def staff_member(*, facility: Facility, pk: int) -> User | None:
    """A user who is (or was) a member of the facility, else None."""
    membership = (
        Membership.objects.filter(facility=facility, user_id=pk).select_related("user").first()
    )
    return membership.user if membership is not None else None


# Rows that carry no facility of their own are placed through the row they point at.
_FACILITY_OF = {
    "resident_id": Resident,
    "prescription_id": Prescription,
    "administration_id": Administration,
    "item_id": StockItem,
    "count_id": ControlledCount,
}


def _in_facility(event_model, facility: Facility) -> tuple[str, tuple]:
    """The condition of the events of `event_model` that are this facility's business: rows with
    a facility of their own, in it; a user account, of one of its members; other rows through
    the first row they point at (`_FACILITY_OF`), else through the member they belong to; the
    shared catalog (medications) always. Each row pointed at is looked up by its key, so the
    condition costs the same whatever the size of the facility."""
    columns = {f.column for f in event_model._meta.concrete_fields}
    if "facility_id" in columns:
        return f"{ALIAS}.facility_id = %s", (facility.pk,)
    if event_model.pgh_tracked_model is User:
        return _member(f"{ALIAS}.id"), (facility.pk,)
    cases, params = [], []
    for key, model in _FACILITY_OF.items():
        if key in columns:
            table = model._meta.db_table
            facility_column = model._meta.get_field("facility").column
            cases.append(
                f"WHEN {ALIAS}.{key} IS NOT NULL THEN EXISTS (SELECT 1 FROM {table} x "
                f"WHERE x.{model._meta.pk.column} = {ALIAS}.{key} AND x.{facility_column} = %s)"
            )
            params.append(facility.pk)
    otherwise = "TRUE"
    if "user_id" in columns:
        otherwise = f"({ALIAS}.user_id IS NULL OR {_member(f'{ALIAS}.user_id')})"
        params.append(facility.pk)
    if not cases:
        return otherwise, tuple(params)
    return f"(CASE {' '.join(cases)} ELSE {otherwise} END)", tuple(params)


def _member(user_column: str) -> str:
    """The condition that the user (the column) is a member of the facility (a %s)."""
    table = Membership._meta.db_table
    return (
        f"EXISTS (SELECT 1 FROM {table} m WHERE m.user_id = {user_column} AND m.facility_id = %s)"
    )


def staff_audit_events(
    *,
    facility: Facility,
    user: User,
    start: datetime.date,
    end: datetime.date,
    kind: str = "",
) -> Trail:
    """Every change the staff member made (the pghistory context's user) within the period,
    newest first, limited to this facility's rows, the accounts of its staff and the shared
    catalog (medications): 1 query to count, 1 for a page or for all. Their contexts are found
    by the index of the context's user (migration reports 0002)."""
    since, until = local_bounds(facility, start, end)
    mine, mine_params = by_user(user.pk, until=until)
    parts = []
    for event_model in event_models(_kind(kind)):
        if "pgh_context_id" not in {f.column for f in event_model._meta.concrete_fields}:
            continue
        ours, ours_params = _in_facility(event_model, facility)
        parts.append(TrailPart(event_model, f"{mine} AND {ours}", (*mine_params, *ours_params)))
    return Trail(parts, since=since, until=until)
