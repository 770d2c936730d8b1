"""Reads of incidents that pages and reports share: one incident as amended, the facility's
list, the month's counts, and the incidents raised on a resident's doses."""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from accounts.models import Facility, User
from core.time import local_month_bounds

from . import rules
from .models import Incident, IncidentAmendment, IncidentFollowUp
from .rules import FACTS, FollowUpState, IncidentKind
from .services import close_blockers, facts_as_amended


@dataclass
class FactRow:
    label: str
    text: str
    amended: bool = False
    original: str = ""  # what the report said, when amended


@dataclass
class AmendmentRow:
    label: str
    before: str
    after: str
    reason: str
    by: User
    at: datetime.datetime


@dataclass
class IncidentPage:
    incident: Incident
    facts: list[FactRow]
    amendments: list[AmendmentRow]
    followups: list[IncidentFollowUp]
    description: str  # as amended
    description_amended: bool = False
    blockers: list[str] = field(default_factory=list)

    @property
    def amended(self) -> bool:
        return bool(self.amendments)


def incident_page(*, incident: Incident, tz: ZoneInfo) -> IncidentPage:
    """The incident as it reads now (the report with its amendments applied, each amended fact
    marked with what the report said), its amendments and its follow-ups."""
    amendments = list(
        IncidentAmendment.objects.filter(incident=incident).select_related("amended_by")
    )
    followups = list(
        IncidentFollowUp.objects.filter(incident=incident).select_related("completed_by")
    )
    current = facts_as_amended(incident, amendments)
    changed = {a.field for a in amendments}
    facts = [
        FactRow(
            label=FACTS[name].label,
            text=rules.fact_text(name, value, tz),
            amended=name in changed,
            original=rules.fact_text(name, getattr(incident, name), tz) if name in changed else "",
        )
        for name, value in current.items()
        if name != "description"
    ]
    rows = [
        AmendmentRow(
            label=FACTS[a.field].label if a.field in FACTS else a.field,
            before=rules.fact_text(a.field, a.before, tz) if a.field in FACTS else str(a.before),
            after=rules.fact_text(a.field, a.after, tz) if a.field in FACTS else str(a.after),
            reason=a.reason,
            by=a.amended_by,
            at=a.amended_at,
        )
        for a in amendments
    ]
    return IncidentPage(
        incident,
        facts,
        rows,
        followups,
        description=current["description"],
        description_amended="description" in changed,
        blockers=close_blockers(followups),
    )


@dataclass(frozen=True)
class ListFilters:
    unit_id: int | None = None
    kind: str = ""
    month: tuple[int, int] | None = None
    state: str = ""


def incident_list(*, facility: Facility, filters: ListFilters):
    """The facility's incidents, newest first, with their open follow-ups and amendments
    counted in the same query."""
    incidents = (
        Incident.objects.filter(facility=facility)
        .select_related("resident", "unit", "reported_by")
        .annotate(
            open_followups=Count(
                "followups", filter=Q(followups__state=FollowUpState.OPEN), distinct=True
            ),
            amendment_count=Count("amendments", distinct=True),
        )
        .order_by("-occurred_at", "-pk")
    )
    if filters.unit_id:
        incidents = incidents.filter(unit_id=filters.unit_id)
    if filters.kind in IncidentKind.values:
        incidents = incidents.filter(kind=filters.kind)
    if filters.state in rules.IncidentState.values:
        incidents = incidents.filter(state=filters.state)
    if filters.month:
        start, end = local_month_bounds(*filters.month, facility.tz)
        incidents = incidents.filter(occurred_at__gte=start, occurred_at__lt=end)
    return incidents


@dataclass
class CountRow:
    unit_id: int
    unit: str
    counts: list[int]  # one per IncidentKind, in its order
    total: int


@dataclass
class MonthCounts:
    kinds: list[str]  # the types' labels
    rows: list[CountRow]
    totals: list[int]
    total: int


def incident_counts(*, facility: Facility, year: int, month: int) -> MonthCounts:
    """The month's incidents (by when they happened, facility time) counted by unit and type;
    every unit of the facility has its row, zeros included. Two queries."""
    start, end = local_month_bounds(year, month, facility.tz)
    found = {
        (row["unit_id"], row["kind"]): row["n"]
        for row in Incident.objects.filter(
            facility=facility, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("unit_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    }
    rows = []
    for unit in facility.units.order_by("name"):
        counts = [found.get((unit.pk, kind), 0) for kind in IncidentKind.values]
        rows.append(CountRow(unit.pk, unit.name, counts, sum(counts)))
    totals = [sum(row.counts[i] for row in rows) for i in range(len(IncidentKind.values))]
    return MonthCounts(list(IncidentKind.labels), rows, totals, sum(totals))


def incidents_on_records(*, administration_ids, dose_ids) -> dict[str, dict[int, int]]:
    """The incidents raised on these records and doses: {"administration": {id: incident id},
    "dose": {id: incident id}} (the first incident of each), in one query."""
    found: dict[str, dict[int, int]] = {"administration": {}, "dose": {}}
    administration_ids, dose_ids = list(administration_ids), list(dose_ids)
    if not administration_ids and not dose_ids:
        return found
    rows = (
        Incident.objects.filter(
            Q(administration_id__in=administration_ids) | Q(dose_id__in=dose_ids)
        )
        .order_by("pk")
        .values_list("pk", "administration_id", "dose_id")
    )
    for pk, administration_id, dose_id in rows:
        if administration_id is not None:
            found["administration"].setdefault(administration_id, pk)
        if dose_id is not None:
            found["dose"].setdefault(dose_id, pk)
    return found
