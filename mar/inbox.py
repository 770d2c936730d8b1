"""Reads for the alerts inbox: rows and groups as the page shows them (it decides nothing).

The inbox groups open alerts by resident (default) or by kind, each group with its counts in
words ("3 overdue doses, 1 PRN follow-up"), most severe group first; the groups are paginated.
Every page costs the same few queries however many alerts there are.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q
from django.urls import reverse

from accounts.models import Facility
from core.time import local_stamp
from core.words import counted

from .models import DOSE_ALERT_KINDS, Alert, AlertKind, AlertSeverity, AlertState
from .selectors import alert_list

GROUPINGS = {"resident": "By resident", "kind": "By kind", "none": "One list"}
GROUPS_PER_PAGE = 20
ROWS_PER_PAGE = 50

# How a count of each kind reads: (one, several).
KIND_WORDS = {
    AlertKind.OVERDUE_DOSE: ("overdue dose", "overdue doses"),
    AlertKind.MISSED_DOSE: ("missed dose", "missed doses"),
    AlertKind.MISSED_ROLLUP: ("set of unreviewed missed doses", "sets of unreviewed missed doses"),
    AlertKind.PRN_FOLLOWUP: ("PRN follow-up", "PRN follow-ups"),
    AlertKind.REFUSALS: ("refusal pattern to report", "refusal patterns to report"),
    AlertKind.LOW_SUPPLY: ("low supply", "low supplies"),
    AlertKind.COUNT_DISCREPANCY: ("count discrepancy", "count discrepancies"),
    AlertKind.CERTIFICATION: ("certification alert", "certification alerts"),
    AlertKind.MISSED_CARE: ("missed care task", "missed care tasks"),
    AlertKind.REASSESSMENT_DUE: ("reassessment due", "reassessments due"),
    AlertKind.REASSESS_SUGGESTED: (
        "reassessment to consider",
        "reassessments to consider",
    ),
    AlertKind.CHANGE_OF_CONDITION: ("change of condition", "changes of condition"),
    AlertKind.VITAL_EXCEPTION: ("vital sign out of range", "vital signs out of range"),
    AlertKind.WEIGHT_LOSS: ("weight loss to review", "weight losses to review"),
    AlertKind.MISSED_MONITORING: ("missed monitoring check", "missed monitoring checks"),
    AlertKind.INCIDENT: ("incident", "incidents"),
    AlertKind.INCIDENT_FOLLOWUP: ("incident follow-up due", "incident follow-ups due"),
    AlertKind.APPOINTMENT_OUTCOME: (
        "appointment outcome not recorded",
        "appointment outcomes not recorded",
    ),
    AlertKind.HANDOFF_UNACKNOWLEDGED: (
        "shift report not acknowledged",
        "shift reports not acknowledged",
    ),
}
SEVERITY_CLASS = {AlertSeverity.URGENT: "bad", AlertSeverity.WARNING: "warn"}


@dataclass(frozen=True)
class AlertFilters:
    kind: str = ""
    unit_id: int | None = None
    severity: int | None = None
    group: str = "resident"
    rollup_id: int | None = None

    def query(self, **override) -> str:
        """This view's query string with some values changed (filters kept in every link)."""
        values = {
            "group": self.group,
            "kind": self.kind,
            "unit": self.unit_id or "",
            "severity": self.severity or "",
            "rollup": self.rollup_id or "",
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass(frozen=True)
class AlertRow:
    pk: int
    severity: str
    severity_class: str
    kind: str
    message: str
    detail: str  # the dose's medication and due time, or ""
    high_alert: str  # "Anticoagulant — high-alert medication", "Time-critical medication", ""
    resident_name: str
    resident_url: str
    where: str  # "North Wing, room 12"
    raised_at: object
    state: str
    is_open: bool
    can_resolve: bool
    handled: str  # "Acknowledged by … at …: note" or "Resolved by …"
    handled_at: object
    link: str
    link_label: str
    # Raise an incident from it (incidents' report form, by its URL name): a change of
    # condition may be a fall, a missed or overdue dose a medication error. (The inbox shows
    # it to those who report: not to administrators.)
    report_link: str = ""
    report_label: str = ""


@dataclass
class AlertGroup:
    key: str
    title: str
    where: str
    summary: str
    severity: str
    severity_class: str
    show_resident: bool  # its rows name their resident (grouped by kind)
    rows: list[AlertRow] = field(default_factory=list)

    @property
    def open_ids(self) -> str:
        """The group's open alerts, for its "tick the whole group" box."""
        return ",".join(str(row.pk) for row in self.rows if row.is_open)

    @property
    def open_count(self) -> int:
        return sum(1 for row in self.rows if row.is_open)


@dataclass
class Inbox:
    filters: AlertFilters
    page: Page
    groups: list[AlertGroup]  # empty when not grouped
    rows: list[AlertRow]  # the flat list when not grouped
    rollup: AlertRow | None = None  # the roll-up whose doses are listed


def _row(alert: Alert, tz) -> AlertRow:
    detail, high_alert = "", ""
    if alert.dose_id:
        medication = alert.dose.prescription.medication
        detail = f"{medication} due {local_stamp(alert.dose.due_at, tz)}"
        if medication.high_alert:
            high_alert = f"{medication.get_high_alert_display()} — high-alert medication"
        elif medication.is_time_critical:
            high_alert = "Time-critical medication"
    link, link_label = alert.subject_url, "Open"
    if alert.kind == AlertKind.MISSED_ROLLUP:
        link = reverse("alert_list") + "?" + AlertFilters(rollup_id=alert.pk).query(group="none")
        link_label = "See the missed doses"
    report_link, report_label = "", ""
    if alert.resident_id and alert.state != AlertState.RESOLVED:
        if alert.kind == AlertKind.CHANGE_OF_CONDITION:
            report_link = reverse("incident_report_new", args=[alert.resident_id])
            report_label = "Report an incident"
        elif alert.kind in DOSE_ALERT_KINDS and alert.dose_id:
            report_link = (
                reverse("incident_report_new", args=[alert.resident_id]) + f"?dose={alert.dose_id}"
            )
            report_label = "Report a medication error"
    handled, handled_at = "", None
    if alert.state == AlertState.RESOLVED:
        who = alert.resolved_by or "the dose engine"
        handled, handled_at = f"Resolved by {who}: {alert.resolution_note}", alert.resolved_at
    elif alert.state == AlertState.ACKNOWLEDGED:
        handled = f"Acknowledged by {alert.acknowledged_by}"
        if alert.acknowledgement_note:
            handled += f": {alert.acknowledgement_note}"
        handled_at = alert.acknowledged_at
    resident = alert.resident
    return AlertRow(
        pk=alert.pk,
        severity=alert.get_severity_display(),
        severity_class=SEVERITY_CLASS.get(alert.severity, "info"),
        kind=alert.get_kind_display(),
        message=alert.message,
        detail=detail,
        high_alert=high_alert,
        resident_name=resident.display_name if resident else "",
        resident_url=reverse("resident_detail", args=[resident.pk]) if resident else "",
        where=f"{resident.unit.name}, room {resident.room}" if resident else "",
        raised_at=alert.created_at,
        state=alert.get_state_display(),
        is_open=alert.state == AlertState.OPEN,
        can_resolve=alert.state != AlertState.RESOLVED,
        handled=handled,
        handled_at=handled_at,
        link=link,
        link_label=link_label,
        report_link=report_link,
        report_label=report_label,
    )


def alert_inbox(*, facility: Facility, filters: AlertFilters, page_number) -> Inbox:
    """The inbox page: groups of rows (by resident or by kind), or one list; paginated."""
    alerts = alert_list(
        facility=facility,
        kind=filters.kind,
        unit_id=filters.unit_id,
        severity=filters.severity,
        rollup_id=filters.rollup_id,
    )
    tz = facility.tz
    rollup = None
    if filters.rollup_id:
        found = alert_list(facility=facility, include_resolved=True).filter(
            pk=filters.rollup_id, kind=AlertKind.MISSED_ROLLUP
        )
        rollup = next((_row(a, tz) for a in found), None)
    if filters.group == "none" or filters.rollup_id:
        page = Paginator(alerts, ROWS_PER_PAGE).get_page(page_number)
        return Inbox(filters, page, [], [_row(a, tz) for a in page], rollup)
    column = "resident_id" if filters.group == "resident" else "kind"
    keys = (
        alerts.order_by()
        .values(column)
        .annotate(top=Max("severity"), latest=Max("created_at"))
        .order_by("-top", "-latest", column)
    )
    page = Paginator(keys, GROUPS_PER_PAGE).get_page(page_number)
    on_page = [entry[column] for entry in page]
    in_groups = Q(**{f"{column}__in": [k for k in on_page if k is not None]})
    if None in on_page:
        in_groups |= Q(resident__isnull=True)
    members = alerts.filter(in_groups)
    groups = {key: _group(column, key, tz) for key in on_page}
    counts: dict = {}
    if column == "resident_id":
        for entry in members.order_by().values(column, "kind").annotate(n=Count("pk")):
            counts.setdefault(entry[column], []).append((entry["kind"], entry["n"]))
    else:
        for entry in (
            members.order_by()
            .values("kind")
            .annotate(n=Count("pk"), people=Count("resident_id", distinct=True))
        ):
            counts[entry["kind"]] = (entry["n"], entry["people"])
    for alert in members:
        group = groups[getattr(alert, column)]
        row = _row(alert, tz)
        if not group.rows:
            group.severity, group.severity_class = row.severity, row.severity_class
            if column == "resident_id" and alert.resident is not None:
                group.title, group.where = row.resident_name, row.where
        group.rows.append(row)
    for key, group in groups.items():
        if column == "resident_id":
            group.summary = _kinds_in_words(counts.get(key, []))
        else:
            n, people = counts.get(key, (0, 0))
            group.summary = counted(n, "alert", "alerts") + (
                f" about {counted(people, 'resident', 'residents')}" if people else ""
            )
    return Inbox(filters, page, list(groups.values()), [], rollup)


def _group(column: str, key, tz) -> AlertGroup:
    if column == "kind":
        title = AlertKind(key).label
    else:
        title = "Not about one resident" if key is None else ""
    return AlertGroup(
        key=f"{column}:{key}",
        title=title,
        where="",
        summary="",
        severity="",
        severity_class="",
        show_resident=column == "kind",
    )


def _kinds_in_words(counts: list[tuple[str, int]]) -> str:
    """ "3 overdue doses, 1 PRN follow-up", in the inbox's order of kinds."""
    order = {kind: i for i, kind in enumerate(KIND_WORDS)}
    return ", ".join(
        counted(n, *KIND_WORDS[AlertKind(kind)])
        for kind, n in sorted(counts, key=lambda c: order[c[0]])
    )


def open_alerts_by_severity(*, facility: Facility) -> dict[int, int]:
    """Open alerts (not acknowledged, not gathered into a roll-up) per severity, in one query."""
    rows = (
        Alert.objects.filter(facility=facility, state=AlertState.OPEN, rolled_into__isnull=True)
        .values("severity")
        .annotate(n=Count("pk"))
    )
    found = {row["severity"]: row["n"] for row in rows}
    return {severity: found.get(severity, 0) for severity in sorted(AlertSeverity, reverse=True)}
