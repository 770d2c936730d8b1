"""The shift report, read: each section built from the record by its own function (a few
queries each, whatever the unit's size), the handoff notes the report carries, a submitted
report's frozen snapshot read back in the same shape, and the facility's last 24 hours.

A section builder takes a `ReportScope` and returns a `Section`; `SECTION_BUILDERS` lists them
in the report's order.
"""

import datetime
import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse

from accounts.models import Facility, Unit
from appointments.selectors import appointments_between
from care.models import CareTask, MonitoringCheck, MonitoringEpisode, TaskState
from clinical.models import ConditionReport
from core.shifts import Shift, parse_shift_key, shift_at, shift_before
from core.time import local_day_bounds, local_time
from incidents.models import Incident
from inventory.models import ControlledCount, StockItem
from inventory.selectors import COUNT_DUE_AFTER
from mar.models import Administration, AdminStatus, DoseState, PrnFollowUp, ScheduledDose
from meds.models import OrderStatus, Prescription, PrescriptionStatusChange
from residents.models import ResidentStatus, ResidentStatusChange
from vitals.models import VITAL_UNITS, VitalException

from .models import AmendmentKind, HandoffNote, HandoffNoteAmendment, ShiftReport

SNAPSHOT_VERSION = 1
# The columns a line reads of the rows it names (a resident's name, a drug's, a person's): the
# report reads hundreds of rows, not their every column.
RESIDENT_NAME = ["resident__first_name", "resident__preferred_name", "resident__last_name"]
DRUG_NAME = [
    "prescription__medication__name",
    "prescription__medication__strength",
    "prescription__medication__form",
]
RECORDER_NAME = ["recorded_by__first_name", "recorded_by__last_name", "recorded_by__username"]
URGENT_MARKS = {"Missed", "Overdue", "Fall", "Discrepancy", "Follow-up pending", "Hospital"}
WARNING_MARKS = {
    "Refused",
    "Held",
    "Late",
    "Change of condition",
    "Out of range",
    "Count due",
    "Transport not booked",
}


@dataclass(frozen=True)
class ReportScope:
    """What a section reads: one unit's record from the shift's start until `until` (the end
    of the shift, or now while it runs)."""

    facility: Facility
    unit: Unit
    shift: Shift
    until: datetime.datetime
    now: datetime.datetime

    @property
    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        return (self.shift.starts_at, self.until)


@dataclass
class Line:
    at: datetime.datetime | None
    resident: str
    text: str
    url: str
    mark: str = ""  # a word that stands out: "Missed", "Fall", "Pending" …

    @property
    def tone(self) -> str:
        """The mark's colour (beside its word): what needs someone now reads as bad."""
        if self.mark in URGENT_MARKS:
            return "bad"
        return "warn" if self.mark in WARNING_MARKS else "info"


@dataclass
class Section:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)
    empty: str = "Nothing this shift."


@dataclass
class NoteLine:
    id: int
    resident: str
    resident_id: int
    category: str
    text: str
    original: str  # the text as written, when a correction changed it
    by: str
    at: datetime.datetime
    carried: bool  # written before this shift, not yet acknowledged
    url: str


def _in(prefix: str, scope: ReportScope) -> Q:
    start, until = scope.window
    return Q(**{f"{prefix}__gte": start, f"{prefix}__lt": until})


_PLACEHOLDER = 987654321


@functools.cache
def _url_parts(name: str) -> tuple[str, str]:
    """The URL of `name` around its one id, reversed once: a report reverses hundreds."""
    before, _, after = reverse(name, args=[_PLACEHOLDER]).partition(str(_PLACEHOLDER))
    return before, after


def _url(name: str, pk: int) -> str:
    before, after = _url_parts(name)
    return f"{before}{pk}{after}"


def _resident_url(name: str, resident_id: int) -> str:
    return _url(name, resident_id)


def _mar_day(resident_id: int, moment: datetime.datetime, tz) -> str:
    day = moment.astimezone(tz).date().isoformat()
    return f"{_url('resident_mar_day', resident_id)}?date={day}"


# The sections -------------------------------------------------------------------------------

EXCEPTION_STATUSES = [
    AdminStatus.REFUSED,
    AdminStatus.HELD,
    AdminStatus.NOT_AVAILABLE,
    AdminStatus.OMITTED,
    AdminStatus.OTHER,
]


def doses_section(scope: ReportScope) -> Section:
    """Late, missed, refused and held doses: the records of the shift that are not on-time
    gifts, and the doses whose window closed in the shift with nothing recorded (two queries)."""
    tz = scope.facility.tz
    section = Section("doses", "Late, missed, refused and held doses")
    records = (
        Administration.objects.filter(
            Q(status__in=EXCEPTION_STATUSES) | ~Q(late_reason=""),
            _in("recorded_at", scope),
            facility=scope.facility,
            resident__unit=scope.unit,
        )
        .select_related("resident", "prescription__medication", "dose", "recorded_by")
        .only(
            "recorded_at",
            "administered_at",
            "status",
            "late_reason",
            "reason",
            "dose__due_at",
            *RESIDENT_NAME,
            *DRUG_NAME,
            *RECORDER_NAME,
        )
        .order_by("recorded_at", "pk")
    )
    for record in records:
        due = record.dose.due_at if record.dose_id else record.administered_at
        if record.status == AdminStatus.GIVEN:
            mark, why = "Late", record.late_reason
        else:
            mark, why = record.get_status_display(), record.reason or record.late_reason
        why = f" — {why}" if why else ""
        section.lines.append(
            Line(
                record.recorded_at,
                str(record.resident),
                f"{record.prescription.medication} due {local_time(due, tz)}, "
                f"by {record.recorded_by}{why}",
                _mar_day(record.resident_id, due, tz),
                mark,
            )
        )
    doses = (
        ScheduledDose.objects.filter(
            _in("window_closes_at", scope),
            facility=scope.facility,
            resident__unit=scope.unit,
            state__in=[DoseState.OVERDUE, DoseState.MISSED],
        )
        .select_related("resident", "prescription__medication")
        .only("due_at", "window_closes_at", "state", *RESIDENT_NAME, *DRUG_NAME)
        .order_by("window_closes_at", "pk")
    )
    for dose in doses:
        section.lines.append(
            Line(
                dose.window_closes_at,
                str(dose.resident),
                f"{dose.prescription.medication} due {local_time(dose.due_at, tz)}: "
                "nothing recorded",
                _resident_url("resident_pass", dose.resident_id)
                if dose.state == DoseState.OVERDUE
                else _mar_day(dose.resident_id, dose.due_at, tz),
                dose.get_state_display(),
            )
        )
    section.lines.sort(key=lambda line: line.at)
    return section


def prn_section(scope: ReportScope) -> Section:
    """The PRNs given in the shift with their follow-up, pending first (one query)."""
    tz = scope.facility.tz
    section = Section("prn", "PRNs given and follow-ups pending")
    given = (
        Administration.objects.filter(
            _in("administered_at", scope),
            facility=scope.facility,
            resident__unit=scope.unit,
            dose__isnull=True,
            status=AdminStatus.GIVEN,
        )
        .annotate(followed=Exists(PrnFollowUp.objects.filter(administration=OuterRef("pk"))))
        .select_related("resident", "prescription__medication", "recorded_by")
        .only("administered_at", "prn_reason", *RESIDENT_NAME, *DRUG_NAME, *RECORDER_NAME)
        .order_by("administered_at", "pk")
    )
    for record in given:
        reason = f" for {record.prn_reason}" if record.prn_reason else ""
        section.lines.append(
            Line(
                record.administered_at,
                str(record.resident),
                f"{record.prescription.medication} given at "
                f"{local_time(record.administered_at, tz)}{reason} by {record.recorded_by}",
                _resident_url("resident_pass", record.resident_id) + f"#prn-{record.pk}",
                "" if record.followed else "Follow-up pending",
            )
        )
    section.empty = "No PRN given this shift."
    return section


ORDER_WORDS = {
    OrderStatus.ACTIVE: "verified",
    OrderStatus.ON_HOLD: "held",
    OrderStatus.DISCONTINUED: "discontinued",
}


def orders_section(scope: ReportScope) -> Section:
    """Orders entered (new, or changing another), verified, held, resumed and discontinued in
    the shift (two queries)."""
    section = Section("orders", "New, changed, held and discontinued orders")
    entered = (
        Prescription.objects.filter(
            _in("entered_at", scope), facility=scope.facility, resident__unit=scope.unit
        )
        .select_related("resident", "medication", "entered_by", "replaces__medication")
        .order_by("entered_at", "pk")
    )
    for order in entered:
        changed = f", replacing {order.replaces.medication}" if order.replaces_id else ""
        waiting = " (waits for verification)" if order.status == OrderStatus.PENDING else ""
        section.lines.append(
            Line(
                order.entered_at,
                str(order.resident),
                f"{order}{changed}, entered by {order.entered_by}{waiting}",
                _url("order_detail", order.pk),
                "Changed" if order.replaces_id else "New",
            )
        )
    changes = (
        PrescriptionStatusChange.objects.filter(
            _in("changed_at", scope),
            prescription__facility=scope.facility,
            prescription__resident__unit=scope.unit,
        )
        .exclude(to_status=OrderStatus.PENDING)
        .select_related("prescription__resident", "prescription__medication", "changed_by")
        .order_by("changed_at", "pk")
    )
    for change in changes:
        order = change.prescription
        if change.to_status == OrderStatus.ACTIVE and change.from_status == OrderStatus.ON_HOLD:
            words = "resumed"
        else:
            words = ORDER_WORDS.get(change.to_status, change.get_to_status_display().lower())
        why = f" — {change.reason}" if change.reason else ""
        section.lines.append(
            Line(
                change.changed_at,
                str(order.resident),
                f"{order.medication}: {words} by {change.changed_by}{why}",
                _url("order_detail", order.pk),
                words.capitalize(),
            )
        )
    section.lines.sort(key=lambda line: line.at)
    section.empty = "No order changed this shift."
    return section


def condition_section(scope: ReportScope) -> Section:
    """Changes of condition reported in the shift, and the residents under monitoring during
    it (two queries)."""
    tz = scope.facility.tz
    start, until = scope.window
    section = Section("condition", "Changes of condition and residents under monitoring")
    reports = (
        ConditionReport.objects.filter(
            _in("reported_at", scope), facility=scope.facility, resident__unit=scope.unit
        )
        .select_related("resident", "reported_by")
        .order_by("reported_at", "pk")
    )
    for report in reports:
        section.lines.append(
            Line(
                report.reported_at,
                str(report.resident),
                f"{report.changes_words}, reported by {report.reported_by}",
                _url("condition_report", report.pk),
                "Change of condition",
            )
        )
    episodes = (
        MonitoringEpisode.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=start),
            facility=scope.facility,
            resident__unit=scope.unit,
            started_at__lt=until,
            ends_at__gt=start,
        )
        .select_related("resident")
        .order_by("resident__last_name", "resident__first_name", "pk")
    )
    for episode in episodes:
        end = episode.ended_at or episode.ends_at
        section.lines.append(
            Line(
                episode.started_at,
                str(episode.resident),
                f"Under monitoring until {end.astimezone(tz):%Y-%m-%d} {local_time(end, tz)}: "
                f"{episode.reason}",
                _resident_url("care_resident", episode.resident_id),
                "Monitoring",
            )
        )
    section.empty = "No change of condition; nobody under monitoring."
    return section


def incidents_section(scope: ReportScope) -> Section:
    """Incidents and falls that happened or were reported in the shift (one query)."""
    section = Section("incidents", "Incidents and falls")
    incidents = (
        Incident.objects.filter(
            _in("occurred_at", scope) | _in("reported_at", scope),
            facility=scope.facility,
            unit=scope.unit,
        )
        .select_related("resident", "reported_by")
        .order_by("occurred_at", "pk")
    )
    for incident in incidents:
        hospital = " Sent to hospital." if incident.hospital_transfer else ""
        section.lines.append(
            Line(
                incident.occurred_at,
                str(incident.resident),
                f"{incident.description}{hospital} Reported by {incident.reported_by}",
                _url("incident_detail", incident.pk),
                incident.get_kind_display(),
            )
        )
    section.empty = "No incident this shift."
    return section


def vitals_section(scope: ReportScope) -> Section:
    """Readings out of range taken in the shift (one query)."""
    section = Section("vitals", "Vitals out of range")
    exceptions = (
        VitalException.objects.filter(
            _in("created_at", scope), facility=scope.facility, resident__unit=scope.unit
        )
        .select_related("resident", "reading")
        .order_by("created_at", "pk")
    )
    for exception in exceptions:
        reading = exception.reading
        value = f"{reading.value.normalize():f}"
        bounds = " – ".join(
            f"{bound.normalize():f}" for bound in (exception.low, exception.high) if bound
        )
        section.lines.append(
            Line(
                reading.taken_at,
                str(exception.resident),
                f"{reading.get_kind_display()} {value} {VITAL_UNITS.get(reading.kind, '')}"
                f" (range {bounds})",
                _resident_url("flowsheet", exception.resident_id),
                "Out of range",
            )
        )
    section.empty = "No reading out of range."
    return section


def care_section(scope: ReportScope) -> Section:
    """Care tasks and monitoring checks of the shift left undocumented: missed, or overdue (in
    the shift's last hour), two queries. Those still due while the shift runs are not yet
    late."""
    section = Section("care", "Missed care tasks")
    start, until = scope.window
    states = [TaskState.OVERDUE, TaskState.MISSED]
    tasks = (
        CareTask.objects.filter(
            facility=scope.facility,
            resident__unit=scope.unit,
            window_closes_at__gt=start,
            window_opens_at__lt=until,
            window_closes_at__lte=scope.shift.ends_at,
            state__in=states,
        )
        .select_related("resident", "item")
        .order_by("resident__last_name", "resident__first_name", "pk")
    )
    for task in tasks:
        section.lines.append(
            Line(
                task.window_closes_at,
                str(task.resident),
                f"{task.item.get_category_display()}: not documented",
                _resident_url("care_resident", task.resident_id),
                task.get_state_display(),
            )
        )
    checks = (
        MonitoringCheck.objects.filter(
            facility=scope.facility,
            resident__unit=scope.unit,
            window_closes_at__gt=start,
            window_opens_at__lt=until,
            window_closes_at__lte=scope.shift.ends_at,
            state__in=states,
        )
        .select_related("resident")
        .order_by("resident__last_name", "resident__first_name", "pk")
    )
    for check in checks:
        section.lines.append(
            Line(
                check.window_closes_at,
                str(check.resident),
                "Monitoring check: not documented",
                _resident_url("care_resident", check.resident_id),
                check.get_state_display(),
            )
        )
    section.empty = "All care of the shift documented."
    return section


def absences_section(scope: ReportScope) -> Section:
    """Residents who left (LOA, hospital), came back or were discharged in the shift."""
    section = Section("absences", "LOA, hospital and returns")
    changes = (
        ResidentStatusChange.objects.filter(
            _in("effective_at", scope),
            resident__facility=scope.facility,
            resident__unit=scope.unit,
        )
        .select_related("resident")
        .order_by("effective_at", "pk")
    )
    for change in changes:
        if not change.from_status:
            mark = "Admitted"
        elif change.to_status == ResidentStatus.ACTIVE:
            mark = "Returned"
        else:
            mark = change.get_to_status_display()
        section.lines.append(
            Line(
                change.effective_at,
                str(change.resident),
                f"{change.status_words.capitalize()}: {change.reason}",
                _resident_url("resident_detail", change.resident_id),
                mark,
            )
        )
    section.empty = "Nobody left or came back."
    return section


def counts_section(scope: ReportScope) -> Section:
    """Controlled counts with a discrepancy in the shift, and whether a count is due (no count
    in the last 12 hours while the unit holds controlled drugs): two queries."""
    tz = scope.facility.tz
    section = Section("counts", "Count discrepancies and counts due")
    counts = ControlledCount.objects.filter(
        _in("counted_at", scope), unit=scope.unit, has_discrepancy=True
    ).select_related("outgoing_by", "incoming_by")
    for count in counts.order_by("counted_at", "pk"):
        section.lines.append(
            Line(
                count.counted_at,
                "",
                f"Count by {count.outgoing_by} and {count.incoming_by} differs from the ledger",
                _url("count_detail", count.pk),
                "Discrepancy",
            )
        )
    # Whether the unit holds controlled drugs and when it was last counted: one statement.
    state = (
        Unit.objects.filter(pk=scope.unit.pk)
        .annotate(
            controlled=Exists(
                StockItem.objects.filter(
                    facility=scope.facility,
                    resident__unit=OuterRef("pk"),
                    medication__controlled_schedule__in=["II", "III", "IV", "V"],
                )
            ),
            last=Subquery(
                ControlledCount.objects.filter(unit=OuterRef("pk"), counted_at__lt=scope.until)
                .order_by("-counted_at")
                .values("counted_at")[:1]
            ),
        )
        .values_list("controlled", "last")
        .first()
    )
    controlled, last = state or (False, None)
    if controlled and (last is None or last < scope.until - COUNT_DUE_AFTER):
        since = (
            f"last counted {last.astimezone(tz):%Y-%m-%d} {local_time(last, tz)}"
            if last is not None
            else "never counted"
        )
        section.lines.append(
            Line(
                scope.until,
                "",
                f"Controlled drugs to count ({since})",
                _url("count_unit", scope.unit.pk),
                "Count due",
            )
        )
    section.empty = "No discrepancy; no count due."
    return section


def appointments_section(scope: ReportScope) -> Section:
    """The unit's appointments from the end of the shift to the end of the next local day (the
    rest of today, and tomorrow), transport not yet booked marked: one query."""
    tz = scope.facility.tz
    tomorrow = scope.shift.ends_at.astimezone(tz).date()
    if scope.shift.ends_at.astimezone(tz).time() != datetime.time(0):
        tomorrow += datetime.timedelta(days=1)
    end = local_day_bounds(tomorrow, tz)[1]
    section = Section("appointments", "Tomorrow's appointments")
    for appointment in appointments_between(scope.facility, scope.shift.ends_at, end, scope.unit):
        provider = ", ".join(
            part for part in (appointment.provider_specialty, appointment.provider_name) if part
        )
        text = f"{provider}: {appointment.purpose}; {appointment.get_transport_display()}"
        if appointment.transport_booked and appointment.pickup_at:
            text += f", pick-up {local_time(appointment.pickup_at, tz)}"
        if appointment.fasting:
            text += "; fasting"
        section.lines.append(
            Line(
                appointment.starts_at,
                str(appointment.resident),
                text,
                _url("appointment_detail", appointment.pk),
                "" if appointment.transport_booked else "Transport not booked",
            )
        )
    section.empty = "No appointment before the end of tomorrow."
    return section


# The report's sections, in its order.
SECTION_BUILDERS: list[Callable[[ReportScope], Section]] = [
    doses_section,
    prn_section,
    orders_section,
    condition_section,
    incidents_section,
    vitals_section,
    care_section,
    absences_section,
    counts_section,
    appointments_section,
]


# The notes ---------------------------------------------------------------------------------


def _note_line(note: HandoffNote, shift: Shift) -> NoteLine:
    """The note as it reads now: its last correction, the original beside it."""
    text = note.corrected or note.text
    return NoteLine(
        note.pk,
        str(note.resident),
        note.resident_id,
        note.get_category_display(),
        text,
        note.text if text != note.text else "",
        str(note.written_by),
        note.written_at,
        note.written_at < shift.starts_at,
        _resident_url("resident_pass", note.resident_id),
    )


def open_notes(*, unit: Unit, shift: Shift, until: datetime.datetime) -> list[NoteLine]:
    """The unit's notes written by `until` that no acknowledged report carried yet, as their
    amendments until then left them (the last correction; none entered in error): one query."""
    amendments = HandoffNoteAmendment.objects.filter(note=OuterRef("pk"), amended_at__lte=until)
    notes = (
        HandoffNote.objects.filter(unit=unit, written_at__lte=until, acknowledged_in__isnull=True)
        .annotate(
            in_error=Exists(amendments.filter(kind=AmendmentKind.ENTERED_IN_ERROR)),
            corrected=Subquery(
                amendments.filter(kind=AmendmentKind.CORRECTION)
                .order_by("-amended_at", "-pk")
                .values("text")[:1]
            ),
        )
        .filter(in_error=False)
        .select_related("resident", "written_by")
        .order_by("resident__last_name", "resident__first_name", "written_at", "pk")
    )
    return [_note_line(note, shift) for note in notes]


# The report --------------------------------------------------------------------------------


@dataclass
class ShiftReportView:
    """A report as a page shows it: live (read now) or frozen (the submitted snapshot)."""

    unit: Unit
    shift: Shift
    until: datetime.datetime
    sections: list[Section]
    notes: list[NoteLine]
    report: ShiftReport | None  # its row, once there is one
    frozen: bool

    @property
    def line_count(self) -> int:
        return sum(len(section.lines) for section in self.sections)


def report_live(
    *, facility: Facility, unit: Unit, shift: Shift, now: datetime.datetime, report=None
) -> ShiftReportView:
    """The unit's report of `shift` read from the record now, up to the end of the shift (or
    now while it runs): a constant number of queries whatever the unit's size."""
    until = min(shift.ends_at, now)
    scope = ReportScope(facility, unit, shift, until, now)
    sections = [build(scope) for build in SECTION_BUILDERS]
    notes = open_notes(unit=unit, shift=shift, until=until)
    return ShiftReportView(unit, shift, until, sections, notes, report, frozen=False)


def _when(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def snapshot_of(view: ShiftReportView) -> dict:
    """What was shown, as JSON: the sections with their lines and links, and the notes."""

    def plain(item) -> dict:
        data = asdict(item)
        data["at"] = item.at.isoformat() if item.at else None
        return data

    return {
        "version": SNAPSHOT_VERSION,
        "unit": view.unit.name,
        "shift": str(view.shift),
        "until": view.until.isoformat(),
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "empty": section.empty,
                "lines": [plain(line) for line in section.lines],
            }
            for section in view.sections
        ],
        "notes": [plain(note) for note in view.notes],
    }


def report_frozen(*, report: ShiftReport, shift: Shift) -> ShiftReportView:
    """A submitted report read back from its snapshot, exactly as it was submitted."""
    data = report.snapshot or {}
    sections = [
        Section(
            item["key"],
            item["title"],
            [Line(**{**line, "at": _when(line["at"])}) for line in item["lines"]],
            item.get("empty", ""),
        )
        for item in data.get("sections", [])
    ]
    notes = [NoteLine(**{**note, "at": _when(note["at"])}) for note in data.get("notes", [])]
    return ShiftReportView(
        report.unit, shift, _when(data.get("until")) or shift.ends_at, sections, notes, report, True
    )


def report_for(
    *, facility: Facility, unit: Unit, shift: Shift, now: datetime.datetime
) -> ShiftReportView:
    """The report of a unit's shift: frozen once submitted, live before."""
    report = (
        ShiftReport.objects.filter(unit=unit, shift_day=shift.day, shift_name=shift.name)
        .select_related("submitted_by", "acknowledged_by", "unit")
        .first()
    )
    if report is not None and report.snapshot is not None:
        return report_frozen(report=report, shift=shift)
    return report_live(facility=facility, unit=unit, shift=shift, now=now, report=report)


def shift_from_key(*, facility: Facility, key: str, now: datetime.datetime) -> Shift:
    """The shift a page's ?shift= names when it has begun; else the one running now."""
    shift = parse_shift_key(key, facility.shifts) if key else None
    if shift is None or shift.starts_at > now:
        return shift_at(now, facility.shifts)
    return shift


def previous_shift(*, facility: Facility, shift: Shift) -> Shift:
    return shift_before(shift, facility.shifts)


@dataclass(frozen=True)
class ReportRow:
    unit: Unit
    shift: Shift
    report: ShiftReport | None
    running: bool = False

    @property
    def state_words(self) -> str:
        if self.report is None or self.report.state == "open":
            return "Running, not submitted yet" if self.running else "Not submitted"
        return self.report.get_state_display()


def last_day_reports(*, facility: Facility, now: datetime.datetime) -> list[ReportRow]:
    """Every unit's shifts that began in the last 24 hours, newest first, with their report
    rows (two queries: the units, the reports)."""
    policy = facility.shifts
    shifts = [shift_at(now, policy)]
    while shifts[-1].starts_at > now - datetime.timedelta(hours=24):
        shifts.append(shift_before(shifts[-1], policy))
    shifts = [s for s in shifts if s.ends_at > now - datetime.timedelta(hours=24)]
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    reports = {
        (r.unit_id, r.shift_day, r.shift_name): r
        for r in ShiftReport.objects.filter(
            facility=facility, starts_at__gte=shifts[-1].starts_at
        ).select_related("unit", "submitted_by", "acknowledged_by")
    }
    return [
        ReportRow(
            unit,
            shift,
            reports.get((unit.pk, shift.day, shift.name)),
            shift.starts_at <= now < shift.ends_at,
        )
        for shift in shifts
        for unit in units
    ]
