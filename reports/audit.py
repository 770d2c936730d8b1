"""Audit trails from the database triggers: every change of a resident's rows, or every change a
staff member made, within a period."""

import datetime
from dataclasses import dataclass

from accounts.models import Facility, Membership, User
from inventory.models import ControlledCount, StockItem
from mar.models import (
    Administration,
)
from meds.models import Prescription
from residents.models import Resident

from .common import local_bounds


@dataclass
class AuditEntry:
    at: datetime.datetime  # facility-local
    user: User | None
    model: str
    label: str
    object_id: str
    changes: list[tuple[str, str, str]]  # (field, before, after)
    url: str = ""


def _changes(diff: dict, data: dict, label: str) -> list[tuple[str, str, str]]:
    if diff:
        return [(key, _text(before), _text(after)) for key, (before, after) in diff.items()]
    if label == "insert":
        return [
            (key, "", _text(value))
            for key, value in (data or {}).items()
            if key != "id" and value not in (None, "", [], {})
        ]
    return []


def _text(value) -> str:
    return "" if value is None else str(value)


def resident_audit_report(
    *, resident: Resident, start: datetime.date, end: datetime.date
) -> list[AuditEntry]:
    """Every change of the resident and of rows pointing at them within the period, newest
    first (`residents.selectors.resident_audit_trail`, 2 queries)."""
    from residents.selectors import resident_audit_trail

    tz = resident.facility.tz
    since, until = local_bounds(resident.facility, start, end)
    return [
        AuditEntry(
            at=entry["at"].astimezone(tz),
            user=entry["user"],
            model=entry["model"],
            label=entry["label"],
            object_id=str((entry["data"] or {}).get("id", "")),
            changes=_changes(entry["diff"], entry["data"], entry["label"]),
            url=entry["url"],
        )
        for entry in resident_audit_trail(resident=resident)
        if since <= entry["at"] < until
    ]


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


def staff_audit_report(
    *, facility: Facility, user: User, start: datetime.date, end: datetime.date
) -> list[AuditEntry]:
    """Every change the staff member made (the pghistory context's user) within the period,
    newest first, limited to this facility's rows, the accounts of its staff and the shared
    catalog (medications). 1 query for the events, then 1 per kind of row they point at and 1
    for the facility's members."""
    from pghistory.models import MiddlewareEvents

    tz = facility.tz
    since, until = local_bounds(facility, start, end)
    events = list(
        MiddlewareEvents.objects.filter(
            pgh_context__user=user.pk, pgh_created_at__gte=since, pgh_created_at__lt=until
        ).order_by("-pgh_created_at", "-pgh_id")
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
        entries.append(
            AuditEntry(
                at=event.pgh_created_at.astimezone(tz),
                user=user,
                model=event.pgh_model.split(".")[-1].removesuffix("Event"),
                label=event.pgh_label,
                object_id=event.pgh_obj_id or "",
                changes=_changes(event.pgh_diff or {}, data, event.pgh_label),
                url=(event.pgh_context or {}).get("url", ""),
            )
        )
    return entries
