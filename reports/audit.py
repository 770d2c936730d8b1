"""Audit trails from the database triggers: every change of a resident's rows, or every change a
staff member made, within a period and of one kind (an app: orders, stock, ...). The events are
read as a surveyor reads them by `core.audit.audit_rows`, a page at a time."""

import datetime

from accounts.models import Facility, Membership, User
from core.audit import audit_filter, audit_kinds
from inventory.models import ControlledCount, StockItem
from mar.models import (
    Administration,
)
from meds.models import Prescription
from residents.models import Resident

from .common import local_bounds


def _kind(kind: str) -> str:
    return kind if kind in dict(audit_kinds()) else ""


# Rows that belong to a resident through another of their rows: (that row's model, the events of
# the rows pointing at it). An amendment points at an administration, not at the resident.
_THROUGH = [
    (Prescription, ["meds.HoldParameterEvent", "meds.PrescriptionStatusChangeEvent"]),
    (Administration, ["mar.PrnFollowUpEvent", "mar.AmendmentEvent"]),
    (StockItem, ["inventory.StockMovementEvent", "inventory.ControlledCountLineEvent"]),
]


def resident_audit_events(
    *, resident: Resident, start: datetime.date, end: datetime.date, kind: str = ""
) -> list:
    """Every recorded change of the resident, of the rows pointing at them and of the rows
    pointing at those (`_THROUGH`) within the period, newest first. Queries: 1, then 2 for each
    kind of row in `_THROUGH` the resident has."""
    from pghistory.models import Events

    from residents.selectors import resident_audit_events as events

    since, until = local_bounds(resident.facility, start, end)
    kind = _kind(kind)
    found = list(audit_filter(events(resident=resident), since=since, until=until, kind=kind))
    for model, event_models in _THROUGH:
        wanted = [m for m in event_models if not kind or m.startswith(f"{kind}.")]
        rows = list(model.objects.filter(resident=resident).only("pk")) if wanted else []
        if rows:
            through = Events.objects.references(rows).across(*wanted)
            found += audit_filter(through, since=since, until=until)
    found.sort(key=lambda event: (event.pgh_created_at, event.pgh_slug), reverse=True)
    return found


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


def staff_audit_events(
    *,
    facility: Facility,
    user: User,
    start: datetime.date,
    end: datetime.date,
    kind: str = "",
) -> list:
    """Every change the staff member made (the pghistory context's user) within the period,
    newest first, limited to this facility's rows, the accounts of its staff and the shared
    catalog (medications). 1 query for the events, then 1 per kind of row they point at and 1
    for the facility's members."""
    from pghistory.models import MiddlewareEvents

    since, until = local_bounds(facility, start, end)
    events = list(
        audit_filter(
            MiddlewareEvents.objects.filter(pgh_context__user=user.pk),
            since=since,
            until=until,
            kind=_kind(kind),
        )
    )
    wanted: dict[str, set] = {key: set() for key in _FACILITY_OF}
    for event in events:
        data = event.pgh_data or {}
        if "facility_id" in data:
            continue
        for key in _FACILITY_OF:
            if data.get(key) is not None:
                wanted[key].add(data[key])
                break
    ours = {
        key: set(
            model.objects.filter(pk__in=wanted[key] or [0], facility=facility).values_list(
                "pk", flat=True
            )
        )
        for key, model in _FACILITY_OF.items()
    }
    # A user account (or a certification) belongs to the facilities the person works in.
    members = set(Membership.objects.filter(facility=facility).values_list("user_id", flat=True))
    entries = []
    for event in events:
        data = event.pgh_data or {}
        if "facility_id" in data:
            if data["facility_id"] != facility.pk:
                continue
        elif event.pgh_obj_model == User._meta.label:
            if data.get("id") not in members:
                continue
        else:
            key = next((k for k in _FACILITY_OF if data.get(k) is not None), None)
            if key is not None and data[key] not in ours[key]:
                continue
            if key is None and data.get("user_id") is not None and data["user_id"] not in members:
                continue
        entries.append(event)
    return entries
