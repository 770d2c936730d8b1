"""The shift report, read: each section built from the record by its own function (a few
queries each, whatever the unit's size), the handoff notes the report carries, a submitted
report's frozen snapshot read back in the same shape, and the facility's last 24 hours.

A section builder takes a `ReportScope` and returns a `Section`; `SECTION_BUILDERS` lists them
in the report's order.
"""

import datetime
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db import connection
from django.urls import reverse

from accounts.models import Facility, Unit, User
from appointments.models import Transport
from care.models import AdlCategory, TaskState
from clinical.rules import changes_words
from core import rows
from core.shifts import Shift, parse_shift_key, shift_at, shift_before
from core.time import local_day_bounds, local_time
from core.words import count_of
from incidents.rules import IncidentKind
from inventory.selectors import COUNT_DUE_AFTER
from mar.models import AdminStatus, DoseState
from meds.models import Form, OrderStatus, Route
from residents.models import STATUS_WORDS, ResidentStatus, display_name
from vitals.models import VITAL_UNITS, VitalSign

from . import live
from .live import Row
from .models import AmendmentKind, NoteCategory, ShiftReport

SNAPSHOT_VERSION = 1
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
# Each section words the rows its branches of the report's statement (`live.STATEMENT`) read.

EXCEPTION_STATUSES = [
    AdminStatus.REFUSED,
    AdminStatus.HELD,
    AdminStatus.NOT_AVAILABLE,
    AdminStatus.OMITTED,
    AdminStatus.OTHER,
]
CONTROLLED_SCHEDULES = ["II", "III", "IV", "V"]
Rows = dict[int, list[Row]]

ADMIN_STATUSES = dict(AdminStatus.choices)
DOSE_STATES = dict(DoseState.choices)
ORDER_STATUSES = dict(OrderStatus.choices)
TASK_STATES = dict(TaskState.choices)
ADL_CATEGORIES = dict(AdlCategory.choices)
INCIDENT_KINDS = dict(IncidentKind.choices)
RESIDENT_STATUSES = dict(ResidentStatus.choices)
VITAL_SIGNS = dict(VitalSign.choices)
NOTE_CATEGORIES = dict(NoteCategory.choices)
TRANSPORTS = dict(Transport.choices)
FORMS = dict(Form.choices)
ROUTES = dict(Route.choices)


def _resident(row: Row) -> str:
    return display_name(row.resident_first, row.resident_preferred, row.resident_last)


def _name(first: str, last: str, username: str) -> str:
    """A person as `User.__str__` says them."""
    return f"{first} {last}".strip() or username


def _person(row: Row) -> str:
    return _name(row.person_first, row.person_last, row.person_username)


def _drug_words(name: str, strength: str, form: str) -> str:
    """A drug as `Medication.__str__` says it."""
    return f"{name} {strength} {FORMS.get(form, form).lower()}"


def _drug(row: Row) -> str:
    return _drug_words(row.drug_name, row.drug_strength, row.drug_form)


def doses_section(scope: ReportScope, rows: Rows) -> Section:
    """Late, missed, refused and held doses: the records of the shift that are not on-time
    gifts, and the doses whose window closed in the shift with nothing recorded."""
    tz = scope.facility.tz
    section = Section("doses", "Late, missed, refused and held doses")
    for row in rows[live.DOSE_RECORDS]:
        due = row.time1
        if row.text1 == AdminStatus.GIVEN:
            mark, why = "Late", row.text2
        else:
            mark, why = ADMIN_STATUSES.get(row.text1, row.text1), row.text3 or row.text2
        why = f" — {why}" if why else ""
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{_drug(row)} due {local_time(due, tz)}, by {_person(row)}{why}",
                _mar_day(row.resident_id, due, tz),
                mark,
            )
        )
    for row in rows[live.DOSES_OPEN]:
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{_drug(row)} due {local_time(row.time1, tz)}: nothing recorded",
                _resident_url("resident_pass", row.resident_id)
                if row.text1 == DoseState.OVERDUE
                else _mar_day(row.resident_id, row.time1, tz),
                DOSE_STATES.get(row.text1, row.text1),
            )
        )
    section.lines.sort(key=lambda line: line.at)
    return section


def prn_section(scope: ReportScope, rows: Rows) -> Section:
    """The PRNs given in the shift with their follow-up, pending first."""
    tz = scope.facility.tz
    section = Section("prn", "PRNs given and follow-ups pending")
    for row in rows[live.PRN_GIVEN]:
        reason = f" for {row.text1}" if row.text1 else ""
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{_drug(row)} given at {local_time(row.at, tz)}{reason} by {_person(row)}",
                _resident_url("resident_pass", row.resident_id) + f"#prn-{row.pk}",
                "" if row.flag1 else "Follow-up pending",
            )
        )
    section.empty = "No PRN given this shift."
    return section


ORDER_WORDS = {
    OrderStatus.ACTIVE: "verified",
    OrderStatus.ON_HOLD: "held",
    OrderStatus.DISCONTINUED: "discontinued",
}


def orders_section(scope: ReportScope, rows: Rows) -> Section:
    """Orders entered (new, or changing another), verified, held, resumed and discontinued in
    the shift."""
    section = Section("orders", "New, changed, held and discontinued orders")
    for row in rows[live.ORDERS_ENTERED]:
        # As `Prescription.__str__`: the drug and the dose.
        dose = f"{count_of(row.number1, row.text2)} {ROUTES.get(row.text3, row.text3).lower()}"
        changed = (
            f", replacing {_drug_words(row.other_first, row.other_last, row.other_username)}"
            if row.flag1
            else ""
        )
        waiting = " (waits for verification)" if row.text1 == OrderStatus.PENDING else ""
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{_drug(row)} — {dose}{changed}, entered by {_person(row)}{waiting}",
                _url("order_detail", row.ref),
                "Changed" if row.flag1 else "New",
            )
        )
    for row in rows[live.ORDER_CHANGES]:
        if row.text2 == OrderStatus.ACTIVE and row.text1 == OrderStatus.ON_HOLD:
            words = "resumed"
        else:
            words = ORDER_WORDS.get(row.text2, ORDER_STATUSES.get(row.text2, row.text2).lower())
        why = f" — {row.text3}" if row.text3 else ""
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{_drug(row)}: {words} by {_person(row)}{why}",
                _url("order_detail", row.ref),
                words.capitalize(),
            )
        )
    section.lines.sort(key=lambda line: line.at)
    section.empty = "No order changed this shift."
    return section


def condition_section(scope: ReportScope, rows: Rows) -> Section:
    """Changes of condition reported in the shift, and the residents under monitoring during
    it."""
    tz = scope.facility.tz
    section = Section("condition", "Changes of condition and residents under monitoring")
    for row in rows[live.CONDITION_REPORTS]:
        changes = changes_words(row.text1.split(",") if row.text1 else [])
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{changes}, reported by {_person(row)}",
                _url("condition_report", row.pk),
                "Change of condition",
            )
        )
    for row in rows[live.MONITORING]:
        end = row.time1
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"Under monitoring until {end.astimezone(tz):%Y-%m-%d} {local_time(end, tz)}: "
                f"{row.text1}",
                _resident_url("care_resident", row.resident_id),
                "Monitoring",
            )
        )
    section.empty = "No change of condition; nobody under monitoring."
    return section


def incidents_section(scope: ReportScope, rows: Rows) -> Section:
    """Incidents and falls that happened or were reported in the shift."""
    section = Section("incidents", "Incidents and falls")
    for row in rows[live.INCIDENTS]:
        hospital = " Sent to hospital." if row.flag1 else ""
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{row.text1}{hospital} Reported by {_person(row)}",
                _url("incident_detail", row.pk),
                INCIDENT_KINDS.get(row.text2, row.text2),
            )
        )
    section.empty = "No incident this shift."
    return section


def vitals_section(scope: ReportScope, rows: Rows) -> Section:
    """Readings out of range taken in the shift."""
    section = Section("vitals", "Vitals out of range")
    for row in rows[live.VITALS]:
        value = f"{row.number1.normalize():f}"
        bounds = " – ".join(
            f"{bound.normalize():f}" for bound in (row.number2, row.number3) if bound
        )
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{VITAL_SIGNS.get(row.text1, row.text1)} {value} "
                f"{VITAL_UNITS.get(row.text1, '')} (range {bounds})",
                _resident_url("flowsheet", row.resident_id),
                "Out of range",
            )
        )
    section.empty = "No reading out of range."
    return section


def care_section(scope: ReportScope, rows: Rows) -> Section:
    """Care tasks and monitoring checks of the shift left undocumented: missed, or overdue (in
    the shift's last hour). Those still due while the shift runs are not yet late."""
    section = Section("care", "Missed care tasks")
    for row in rows[live.CARE_TASKS]:
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{ADL_CATEGORIES.get(row.text1, row.text1)}: not documented",
                _resident_url("care_resident", row.resident_id),
                TASK_STATES.get(row.text2, row.text2),
            )
        )
    for row in rows[live.CARE_CHECKS]:
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                "Monitoring check: not documented",
                _resident_url("care_resident", row.resident_id),
                TASK_STATES.get(row.text2, row.text2),
            )
        )
    section.empty = "All care of the shift documented."
    return section


def absences_section(scope: ReportScope, rows: Rows) -> Section:
    """Residents who left (LOA, hospital), came back or were discharged in the shift."""
    section = Section("absences", "LOA, hospital and returns")
    for row in rows[live.ABSENCES]:
        to_status = RESIDENT_STATUSES.get(row.text2, row.text2)
        if not row.text1:
            mark = "Admitted"
        elif row.text2 == ResidentStatus.ACTIVE:
            mark = "Returned"
        else:
            mark = to_status
        words = STATUS_WORDS.get(row.text2, to_status.lower())  # `status_words`
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                f"{words.capitalize()}: {row.text3}",
                _resident_url("resident_detail", row.resident_id),
                mark,
            )
        )
    section.empty = "Nobody left or came back."
    return section


def counts_section(scope: ReportScope, rows: Rows) -> Section:
    """Controlled counts with a discrepancy in the shift, and whether a count is due (no count
    in the last 12 hours while the unit holds controlled drugs)."""
    tz = scope.facility.tz
    section = Section("counts", "Count discrepancies and counts due")
    for row in rows[live.COUNT_DISCREPANCIES]:
        other = _name(row.other_first, row.other_last, row.other_username)
        section.lines.append(
            Line(
                row.at,
                "",
                f"Count by {_person(row)} and {other} differs from the ledger",
                _url("count_detail", row.pk),
                "Discrepancy",
            )
        )
    # Whether the unit holds controlled drugs and when it was last counted (before `until`).
    state = rows[live.COUNT_STATE]
    controlled, last = (state[0].flag1, state[0].time1) if state else (False, None)
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


def appointments_window(scope: ReportScope) -> tuple[datetime.datetime, datetime.datetime]:
    """From the end of the shift to the end of the next local day (the rest of today, and
    tomorrow)."""
    tz = scope.facility.tz
    tomorrow = scope.shift.ends_at.astimezone(tz).date()
    if scope.shift.ends_at.astimezone(tz).time() != datetime.time(0):
        tomorrow += datetime.timedelta(days=1)
    return scope.shift.ends_at, local_day_bounds(tomorrow, tz)[1]


def appointments_section(scope: ReportScope, rows: Rows) -> Section:
    """The unit's appointments from the end of the shift to the end of the next local day,
    transport not yet booked marked (`appointments_window`)."""
    tz = scope.facility.tz
    section = Section("appointments", "Tomorrow's appointments")
    for row in rows[live.APPOINTMENTS]:
        provider = ", ".join(part for part in (row.text1, row.text2) if part)
        text = f"{provider}: {row.text3}; {TRANSPORTS.get(row.text4, row.text4)}"
        booked = row.flag1
        if booked and row.time1:
            text += f", pick-up {local_time(row.time1, tz)}"
        if row.flag2:
            text += "; fasting"
        section.lines.append(
            Line(
                row.at,
                _resident(row),
                text,
                _url("appointment_detail", row.pk),
                "" if booked else "Transport not booked",
            )
        )
    section.empty = "No appointment before the end of tomorrow."
    return section


# The report's sections, in its order.
SECTION_BUILDERS: list[Callable[[ReportScope, Rows], Section]] = [
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


def note_lines(rows: Rows, shift: Shift) -> list[NoteLine]:
    """The unit's notes written by `until` that no acknowledged report carried yet, as their
    amendments until then left them: the last correction (the original beside it); none
    entered in error."""
    lines = []
    for row in rows[live.NOTES]:
        text = row.text3 or row.text2
        lines.append(
            NoteLine(
                row.pk,
                _resident(row),
                row.resident_id,
                NOTE_CATEGORIES.get(row.text1, row.text1),
                text,
                row.text2 if text != row.text2 else "",
                _person(row),
                row.at,
                row.at < shift.starts_at,
                _resident_url("resident_pass", row.resident_id),
            )
        )
    return lines


def read_record(scope: ReportScope) -> Rows:
    """Every row the report words, by branch (`live.STATEMENT`): one prepared statement."""
    appointments_from, appointments_until = appointments_window(scope)
    params = {
        "facility": scope.facility.pk,
        "unit": scope.unit.pk,
        "start": scope.shift.starts_at,
        "until": scope.until,
        "shift_end": scope.shift.ends_at,
        "exception_statuses": [str(status) for status in EXCEPTION_STATUSES],
        "dose_states": [DoseState.OVERDUE.value, DoseState.MISSED.value],
        "given": AdminStatus.GIVEN.value,
        "pending": OrderStatus.PENDING.value,
        "task_states": [TaskState.OVERDUE.value, TaskState.MISSED.value],
        "controlled": CONTROLLED_SCHEDULES,
        "appointments_from": appointments_from,
        "appointments_until": appointments_until,
        "in_error": AmendmentKind.ENTERED_IN_ERROR.value,
        "correction": AmendmentKind.CORRECTION.value,
    }
    rows: Rows = defaultdict(list)
    with connection.prepared_cursor() as cursor:
        cursor.execute(live.STATEMENT, params)
        for values in cursor.fetchall():
            rows[values[0]].append(Row(*values))
    return rows


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
    now while it runs): one statement whatever the unit's size."""
    until = min(shift.ends_at, now)
    scope = ReportScope(facility, unit, shift, until, now)
    rows = read_record(scope)
    sections = [build(scope, rows) for build in SECTION_BUILDERS]
    notes = note_lines(rows, shift)
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


# A unit's report of a shift, with who submitted and acknowledged it (as select_related).
_REPORT = """
    SELECT row_to_json(r), row_to_json(s), row_to_json(a)
    FROM handoff_shiftreport AS r
    LEFT JOIN accounts_user AS s ON s.id = r.submitted_by_id
    LEFT JOIN accounts_user AS a ON a.id = r.acknowledged_by_id
    WHERE r.unit_id = %(unit)s AND r.shift_day = %(day)s AND r.shift_name = %(name)s
"""


def shift_report_row(*, unit: Unit, shift: Shift) -> ShiftReport | None:
    """The unit's report row of `shift` (one at most), its unit and people attached: one
    prepared statement (the ORM's compiling of it cost more than running it, on a page read at
    every handover)."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_REPORT, {"unit": unit.pk, "day": shift.day, "name": shift.name})
        found = cursor.fetchone()
    if found is None:
        return None
    (report,) = rows.instances(ShiftReport, [found[0]])
    people = rows.by_pk(rows.instances(User, [person for person in found[1:] if person]))
    rows.attach([report], "submitted_by", people)
    rows.attach([report], "acknowledged_by", people)
    report.unit = unit
    return report


def report_for(
    *, facility: Facility, unit: Unit, shift: Shift, now: datetime.datetime
) -> ShiftReportView:
    """The report of a unit's shift: frozen once submitted, live before."""
    report = shift_report_row(unit=unit, shift=shift)
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
