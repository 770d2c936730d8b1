"""The resident's MAR: one facility-local day, or the month as the classic paper grid.

Both read a fixed number of queries whatever the number of orders, doses, days and residents
(`mar_months` builds a whole unit's grids at once): the doses of the period, every administration
of the period (scheduled and PRN, with its follow-up), their amendments, the orders with their
medications and the people who recorded; each table once for all the residents.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q

from accounts.models import User
from core.time import local_day_bounds, local_stamp
from incidents.selectors import incidents_on_records
from mar.models import (
    STATUS_CODES,
    Administration,
    AdminStatus,
    Amendment,
    AmendmentKind,
    DoseState,
    ScheduledDose,
)
from mar.selectors import Change, amendment_changes
from meds.models import Prescription
from residents.models import Resident
from vitals.models import VITAL_UNITS, VitalSign

# What a cell without a standing record says, by the dose's state or why it was cancelled.
MARKS = {
    "missed": ("MISSED", "Missed: nothing recorded 4 hours after the window closed"),
    "overdue": ("OVERDUE", "Overdue: window closed, nothing recorded yet"),
    "due": ("due", "Due: not yet documented"),
    "loa": ("LOA", "Leave of absence: no dose"),
    "hospital": ("HOSP", "In hospital: no dose"),
    "hold": ("HOLD", "Order on hold: no dose"),
    "discontinued": ("DC", "Order discontinued: no dose"),
    "discharged": ("DIS", "Discharged: no dose"),
    "cancelled": ("X", "Cancelled: no dose"),
}

# Words for the status codes where the status label alone would be unclear in a legend.
_CODE_MEANINGS = {
    AdminStatus.LOA: "On leave of absence: not given (or no dose while away)",
    AdminStatus.HOSPITAL: "In hospital: not given (or no dose while away)",
    AdminStatus.OTHER: "Other: not given (the code is on the day view)",
}

CODE_LEGEND = [
    ("Initials", "Given, by the person with these initials (see the initials legend)"),
    *(
        (code, _CODE_MEANINGS.get(status, f"{AdminStatus(status).label}: not given"))
        for status, code in STATUS_CODES.items()
        if code
    ),
    # Marks that share a status code (LOA, HOSP) are explained by it above.
    *(
        (text, meaning)
        for mark, (text, meaning) in MARKS.items()
        if mark != "cancelled" and text not in STATUS_CODES.values()
    ),
    ("late", "Given or recorded after the window closed (late reason on the day view)"),
    ("amended n", "Corrected by a nurse: see amendment n below"),
    ("in error n", "Entered in error (struck through): see amendment n below"),
    ("blank", "No dose scheduled"),
]


@dataclass
class AmendmentRow:
    number: int
    kind: str
    kind_label: str
    reason: str
    changes: list[Change]
    by: User
    by_initials: str
    at: str  # local "YYYY-MM-DD HH:MM"
    record: "Record | None" = None


@dataclass
class Record:
    """One administration, as the MAR shows it."""

    pk: int
    order_id: int
    status: str
    status_label: str
    cell_text: str  # initials when given, else the status code
    recorded_by: User
    initials: str
    medication: str
    administered_at: datetime.datetime  # facility-local
    time: str  # local "HH:MM"
    day: datetime.date  # local date of administration
    recorded_at: str  # local "YYYY-MM-DD HH:MM"
    dose_given: str
    reason: str
    late_reason: str
    early_reason: str
    spacing_override_reason: str
    other_code: str
    hold_triggered: str
    notes: str
    prn_reason: str
    lot: str  # the package's lot, from its scan
    vitals: list[str]
    witness: User | None
    approved_by: User | None
    voided: bool
    amendments: list[AmendmentRow] = field(default_factory=list)
    corrected_text: str = ""  # the cell text an amendment put instead (a corrected status)
    followup: str = ""
    incident_id: int | None = None  # an incident raised on this record (day view)

    @property
    def late(self) -> bool:
        return bool(self.late_reason)

    @property
    def amended(self) -> bool:
        return bool(self.amendments)

    @property
    def in_error(self) -> AmendmentRow | None:
        return next((a for a in self.amendments if a.kind == AmendmentKind.ENTERED_IN_ERROR), None)


@dataclass
class DoseEntry:
    """One scheduled dose with what happened to it (a voided record and its replacement, …)."""

    pk: int
    order: Prescription
    medication: str
    dose_text: str
    due_at: datetime.datetime  # facility-local
    time: str
    day: datetime.date
    state: str
    state_label: str
    records: list[Record]
    mark: str = ""  # key of MARKS when no standing record explains the dose
    mark_text: str = ""
    incident_id: int | None = None  # an incident raised on this dose (day view)

    @property
    def standing(self) -> Record | None:
        return next((r for r in self.records if not r.voided), None)


@dataclass
class Cell:
    day: datetime.date
    doses: list[DoseEntry] = field(default_factory=list)

    @property
    def marks(self) -> set[str]:
        return {dose.mark for dose in self.doses if dose.mark}

    @property
    def title(self) -> str:
        """What a pointer over the cell reads: the full story in words."""
        parts = []
        for dose in self.doses:
            for record in dose.records:
                parts.append(
                    f"{dose.time} {record.status_label} by {record.recorded_by} at {record.time}"
                    + (" (entered in error)" if record.voided else "")
                    + (" (late)" if record.late else "")
                )
            if dose.mark:
                parts.append(f"{dose.time} {MARKS[dose.mark][1]}")
        return "; ".join(parts)


@dataclass
class Row:
    order: Prescription
    medication: str
    dose_text: str
    schedule_text: str
    time: str
    cells: list[Cell]


@dataclass
class StaffEntry:
    initials: str
    name: str
    title: str


@dataclass
class DayMar:
    resident: Resident
    day: datetime.date
    tz: ZoneInfo
    doses: list[DoseEntry]
    prns: list[Record]
    staff: list[StaffEntry]
    amendments: list[AmendmentRow]


@dataclass
class MonthMar:
    resident: Resident
    year: int
    month: int
    tz: ZoneInfo
    days: list[datetime.date]
    rows: list[Row]
    prns: list[Record]
    staff: list[StaffEntry]
    amendments: list[AmendmentRow]
    code_legend: list[tuple[str, str]]

    @property
    def first(self) -> datetime.date:
        return self.days[0]


def mar_day(*, resident: Resident, day: datetime.date) -> DayMar:
    """Every dose due on the facility-local `day` and every PRN given that day, each marked
    with the incident raised on it (a medication error), if any."""
    tz = resident.facility.tz
    start, end = local_day_bounds(day, tz)
    loaded = _load(residents=[resident], tz=tz, start=start, end=end)[resident.pk]
    records = [record for dose in loaded.doses for record in dose.records] + loaded.prns
    raised = incidents_on_records(
        administration_ids=[record.pk for record in records],
        dose_ids=[dose.pk for dose in loaded.doses],
    )
    for record in records:
        record.incident_id = raised["administration"].get(record.pk)
    for dose in loaded.doses:
        dose.incident_id = raised["dose"].get(dose.pk)
    return DayMar(resident, day, tz, loaded.doses, loaded.prns, loaded.staff, loaded.amendments)


def mar_month(*, resident: Resident, year: int, month: int) -> MonthMar:
    """The month grid: a row per (order, local dose time), a column per local day."""
    return mar_months(residents=[resident], year=year, month=month)[0]


def mar_months(*, residents, year: int, month: int) -> list[MonthMar]:
    """Each resident's month grid, in the order given, reading each table once for them all.

    The residents are of one facility (its clock decides the month's bounds).
    """
    residents = list(residents)
    if not residents:
        return []
    facilities = {resident.facility_id for resident in residents}
    if len(facilities) > 1:
        raise ValueError("mar_months reads the residents of one facility at a time")
    tz = residents[0].facility.tz
    days = [
        datetime.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)
    ]
    start, end = local_day_bounds(days[0], tz)[0], local_day_bounds(days[-1], tz)[1]
    loaded = _load(residents=residents, tz=tz, start=start, end=end)
    return [_month(resident, year, month, tz, days, loaded[resident.pk]) for resident in residents]


def _month(resident, year, month, tz, days, loaded: "_Loaded") -> MonthMar:
    rows: dict[tuple[int, datetime.time], Row] = {}
    for dose in loaded.doses:
        order = dose.order
        nominal = _nominal_time(order, dose.due_at, tz)
        key = (order.pk, nominal)
        if key not in rows:
            rows[key] = Row(
                order=order,
                medication=dose.medication,
                dose_text=dose.dose_text,
                schedule_text=order.schedule_text,
                time=nominal.strftime("%H:%M"),
                cells=[Cell(day) for day in days],
            )
        rows[key].cells[dose.day.day - 1].doses.append(dose)
    ordered = sorted(rows.values(), key=lambda r: (r.medication.lower(), r.order.pk, r.time))
    return MonthMar(
        resident,
        year,
        month,
        tz,
        days,
        ordered,
        loaded.prns,
        loaded.staff,
        loaded.amendments,
        CODE_LEGEND,
    )


def _nominal_time(order: Prescription, due_local: datetime.datetime, tz) -> datetime.time:
    """The order's dose time this dose stands for: 02:30 given as 03:30 on spring-forward day
    stays on the 02:30 row."""
    local_time = due_local.time().replace(tzinfo=None)
    if local_time in order.times:
        return local_time
    for wanted in order.times:
        candidate = datetime.datetime.combine(due_local.date(), wanted, tzinfo=tz)
        if candidate.astimezone(datetime.UTC) == due_local.astimezone(datetime.UTC):
            return wanted
    return local_time


@dataclass
class _Loaded:
    """One resident's part of the period: doses, PRN records, staff legend, amendments."""

    doses: list[DoseEntry] = field(default_factory=list)
    prns: list[Record] = field(default_factory=list)
    staff: list[StaffEntry] = field(default_factory=list)
    amendments: list[AmendmentRow] = field(default_factory=list)


@dataclass
class _Order:
    """What the MAR shows of an order, worked out once per order rather than once per dose."""

    order: Prescription
    medication: str
    dose_text: str


def _load(*, residents, tz, start: datetime.datetime, end: datetime.datetime):
    """{resident id: _Loaded} of [start, end): five queries whatever the number of residents.

    Orders, medications and people are read once and shared by every row that names them
    (a month of doses names the same dozen orders thousands of times).
    """
    ids = [resident.pk for resident in residents]
    dose_rows = list(
        ScheduledDose.objects.filter(resident_id__in=ids, due_at__gte=start, due_at__lt=end)
        .only("pk", "prescription_id", "resident_id", "due_at", "state", "cancel_reason")
        .order_by("due_at", "pk")
    )
    in_period = Administration.objects.filter(resident_id__in=ids).filter(
        Q(dose__due_at__gte=start, dose__due_at__lt=end)
        | Q(dose__isnull=True, administered_at__gte=start, administered_at__lt=end)
    )
    administrations = list(in_period.select_related("followup").order_by("administered_at", "pk"))
    amendments_of: dict[int, list[Amendment]] = {}
    for amendment in Amendment.objects.filter(administration__in=in_period.values("pk")).order_by(
        "amended_at", "pk"
    ):
        amendments_of.setdefault(amendment.administration_id, []).append(amendment)
    order_ids = {dose.prescription_id for dose in dose_rows}
    order_ids.update(administration.prescription_id for administration in administrations)
    orders = {
        pk: _Order(order, str(order.medication), order.dose_text)
        for pk, order in Prescription.objects.select_related("medication")
        .in_bulk(order_ids)
        .items()
    }

    # Everyone whose initials the pages show: recorders, follow-up recorders, amending nurses,
    # and the witnesses and approvers the day view names.
    user_ids: set[int] = set()
    for administration in administrations:
        user_ids.add(administration.recorded_by_id)
        user_ids.update(
            pk for pk in (administration.witness_id, administration.approved_by_id) if pk
        )
        followup = getattr(administration, "followup", None)
        if followup is not None:
            user_ids.add(followup.recorded_by_id)
    user_ids.update(a.amended_by_id for found in amendments_of.values() for a in found)
    users = User.objects.in_bulk(user_ids)

    by_resident: dict[int, list[Administration]] = {pk: [] for pk in ids}
    for administration in administrations:
        by_resident[administration.resident_id].append(administration)
    loaded = {pk: _Loaded() for pk in ids}
    by_dose: dict[int, list[Record]] = {}
    for resident_id, own in by_resident.items():
        part = loaded[resident_id]
        people = {a.recorded_by_id for a in own}
        for administration in own:
            followup = getattr(administration, "followup", None)
            if followup is not None:
                people.add(followup.recorded_by_id)
            people.update(a.amended_by_id for a in amendments_of.get(administration.pk, ()))
        initials = _unique_initials(users[pk] for pk in people)
        part.staff = sorted(
            (
                StaffEntry(
                    initials[pk], users[pk].get_full_name() or users[pk].username, users[pk].title
                )
                for pk in people
            ),
            key=lambda s: s.initials,
        )
        for administration in own:
            record = _record(
                administration,
                tz,
                initials,
                part.amendments,
                users=users,
                order=orders[administration.prescription_id],
                amendments=amendments_of.get(administration.pk, ()),
            )
            if administration.dose_id is None:
                part.prns.append(record)
            else:
                by_dose.setdefault(administration.dose_id, []).append(record)

    for dose in dose_rows:
        loaded[dose.resident_id].doses.append(
            _dose_entry(dose, tz, orders[dose.prescription_id], by_dose.get(dose.pk, []))
        )
    return loaded


def _unique_initials(users) -> dict[int, str]:
    """Initials per user; two people with the same initials get a number (MP, MP2)."""
    result: dict[int, str] = {}
    taken: dict[str, int] = {}
    for user in sorted(users, key=lambda u: u.pk):
        base = user.initials
        taken[base] = taken.get(base, 0) + 1
        result[user.pk] = base if taken[base] == 1 else f"{base}{taken[base]}"
    return result


def _local_text(moment: datetime.datetime, tz) -> str:
    return local_stamp(moment, tz)


# Labels looked up once, not through get_FOO_display() on each of thousands of rows.
_STATUS_LABELS = dict(AdminStatus.choices)
_STATE_LABELS = dict(DoseState.choices)
_KIND_LABELS = dict(AmendmentKind.choices)


def _cell_text(status: str, initials: str) -> str:
    # A status's code ("" when given); a status this version does not know reads as itself.
    code = STATUS_CODES.get(status, "") if status in _STATUS_LABELS else status
    return code or initials


def _record(
    administration: Administration,
    tz,
    initials: dict[int, str],
    numbered,
    *,
    users: dict[int, User],
    order: _Order,
    amendments,
) -> Record:
    local = administration.administered_at.astimezone(tz)
    who = initials[administration.recorded_by_id]
    followup = getattr(administration, "followup", None)
    record = Record(
        pk=administration.pk,
        order_id=administration.prescription_id,
        status=administration.status,
        status_label=_STATUS_LABELS.get(administration.status, administration.status),
        cell_text=_cell_text(administration.status, who),
        recorded_by=users[administration.recorded_by_id],
        initials=who,
        medication=order.medication,
        administered_at=local,
        time=local.strftime("%H:%M"),
        day=local.date(),
        recorded_at=_local_text(administration.recorded_at, tz),
        dose_given=administration.dose_given,
        reason=administration.reason,
        late_reason=administration.late_reason,
        early_reason=administration.early_reason,
        spacing_override_reason=administration.spacing_override_reason,
        other_code=administration.other_code,
        hold_triggered=administration.hold_triggered,
        notes=administration.notes,
        prn_reason=administration.prn_reason,
        lot=administration.lot,
        vitals=[_vital_text(kind, value) for kind, value in administration.vitals.items()],
        witness=users.get(administration.witness_id),
        approved_by=users.get(administration.approved_by_id),
        voided=administration.voided,
        followup=(
            f"{followup.get_result_display()}"
            + (f": {followup.note}" if followup.note else "")
            + f" ({initials[followup.recorded_by_id]}, "
            f"{_local_text(followup.recorded_at, tz)})"
            if followup is not None
            else ""
        ),
    )
    for amendment in amendments:
        row = AmendmentRow(
            number=len(numbered) + 1,
            kind=amendment.kind,
            kind_label=_KIND_LABELS.get(amendment.kind, amendment.kind),
            reason=amendment.reason,
            changes=amendment_changes(administration, amendment.changes, tz),
            by=users[amendment.amended_by_id],
            by_initials=initials[amendment.amended_by_id],
            at=_local_text(amendment.amended_at, tz),
            record=record,
        )
        numbered.append(row)
        record.amendments.append(row)
        status = (amendment.changes or {}).get("status")
        if status and amendment.kind != AmendmentKind.ENTERED_IN_ERROR:
            record.corrected_text = _cell_text(status, who)
    return record


def _vital_text(kind: str, value) -> str:
    if kind in VitalSign.values:
        return f"{VitalSign(kind).label} {value} {VITAL_UNITS[VitalSign(kind)]}"
    return f"{kind} {value}"


def _dose_entry(dose: ScheduledDose, tz, order: _Order, records: list[Record]) -> DoseEntry:
    local = dose.due_at.astimezone(tz)
    entry = DoseEntry(
        pk=dose.pk,
        order=order.order,
        medication=order.medication,
        dose_text=order.dose_text,
        due_at=local,
        time=local.strftime("%H:%M"),
        day=local.date(),
        state=dose.state,
        state_label=_STATE_LABELS.get(dose.state, dose.state),
        records=records,
    )
    if entry.standing is None:
        if dose.state == DoseState.CANCELLED:
            entry.mark = dose.cancel_reason if dose.cancel_reason in MARKS else "cancelled"
        elif dose.state in (DoseState.MISSED, DoseState.OVERDUE, DoseState.DUE):
            entry.mark = dose.state
        entry.mark_text = MARKS[entry.mark][0] if entry.mark else ""
    return entry
