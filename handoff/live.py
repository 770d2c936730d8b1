"""The live shift report read from the record in one prepared statement.

Every section of the report reads a few rows of a unit's shift from a different table. Read
with the ORM, each was a query of its own whose compiling cost more than its running, and the
report of a 40-resident unit took sixteen of them. Here each is one branch of a single
`UNION ALL`, prepared once per connection (`connection.prepared_cursor`): one round trip, no
planning, only the columns a line reads. The branches share one row shape (`Row`); a branch
fills the columns it needs and leaves the others NULL, and `selectors` words each branch's rows
as the lines of its section, in the order the statement gives (each branch's own order).
"""

from typing import NamedTuple

from appointments.selectors import UNIT_APPOINTMENTS_BETWEEN_SQL

# The shared row: which branch, the line's instant, the row's id and the id its link names;
# the resident (first, preferred, last name), a drug (name, strength, form), a person (first,
# last, username) and a second one (or a second drug); texts, instants, flags and numbers a
# branch gives meaning to; and the branch's own sort keys.
COLUMNS = (
    ("branch", "int"),
    ("at", "timestamptz"),
    ("pk", "bigint"),
    ("ref", "bigint"),
    ("resident_id", "bigint"),
    ("resident_first", "text"),
    ("resident_preferred", "text"),
    ("resident_last", "text"),
    ("drug_name", "text"),
    ("drug_strength", "text"),
    ("drug_form", "text"),
    ("person_first", "text"),
    ("person_last", "text"),
    ("person_username", "text"),
    ("other_first", "text"),
    ("other_last", "text"),
    ("other_username", "text"),
    ("text1", "text"),
    ("text2", "text"),
    ("text3", "text"),
    ("text4", "text"),
    ("time1", "timestamptz"),
    ("time2", "timestamptz"),
    ("flag1", "boolean"),
    ("flag2", "boolean"),
    ("number1", "numeric"),
    ("number2", "numeric"),
    ("number3", "numeric"),
    ("sort_time", "timestamptz"),
    ("sort_text1", "text"),
    ("sort_text2", "text"),
    ("sort_time2", "timestamptz"),
)


class Row(NamedTuple):
    branch: int
    at: object
    pk: int | None
    ref: int | None
    resident_id: int | None
    resident_first: str | None
    resident_preferred: str | None
    resident_last: str | None
    drug_name: str | None
    drug_strength: str | None
    drug_form: str | None
    person_first: str | None
    person_last: str | None
    person_username: str | None
    other_first: str | None
    other_last: str | None
    other_username: str | None
    text1: str | None
    text2: str | None
    text3: str | None
    text4: str | None
    time1: object
    time2: object
    flag1: bool | None
    flag2: bool | None
    number1: object
    number2: object
    number3: object
    sort_time: object
    sort_text1: str | None
    sort_text2: str | None
    sort_time2: object


# The branches, by number (the statement orders by it first).
DOSE_RECORDS = 1  # late, refused, held … records of the shift
DOSES_OPEN = 2  # doses whose window closed in the shift with nothing recorded
PRN_GIVEN = 3
ORDERS_ENTERED = 4
ORDER_CHANGES = 5
CONDITION_REPORTS = 6
MONITORING = 7
INCIDENTS = 8
VITALS = 9
CARE_TASKS = 10
CARE_CHECKS = 11
ABSENCES = 12
COUNT_DISCREPANCIES = 13
COUNT_STATE = 14  # always one row: whether the unit holds controlled drugs, its last count
APPOINTMENTS = 15
NOTES = 16

RESIDENT = {
    "resident_id": "r.id",
    "resident_first": "r.first_name",
    "resident_preferred": "r.preferred_name",
    "resident_last": "r.last_name",
}
BY_NAME = {"sort_text1": "r.last_name", "sort_text2": "r.first_name"}


def _drug(alias: str) -> dict[str, str]:
    return {
        "drug_name": f"{alias}.name",
        "drug_strength": f"{alias}.strength",
        "drug_form": f"{alias}.form",
    }


def _person(alias: str, role: str = "person") -> dict[str, str]:
    return {
        f"{role}_first": f"{alias}.first_name",
        f"{role}_last": f"{alias}.last_name",
        f"{role}_username": f"{alias}.username",
    }


def _branch(number: int, source: str, **columns: str) -> str:
    """One branch: every shared column, NULL where the branch has nothing for it."""
    unknown = set(columns) - {name for name, _ in COLUMNS}
    assert not unknown, unknown
    columns["branch"] = str(number)
    selected = ",\n           ".join(
        f"({columns.get(name, 'NULL')})::{kind} AS {name}" for name, kind in COLUMNS
    )
    return f"    SELECT {selected}\n    {source.strip()}"


IN_SHIFT = "{0} >= %(start)s AND {0} < %(until)s"

# Parameters: %(facility)s, %(unit)s; the shift's start, %(until)s (its end, or now while it
# runs) and %(shift_end)s; the status lists; %(appointments_from)s and %(appointments_until)s.
STATEMENT = (
    "\n    UNION ALL\n".join(
        [
            _branch(
                DOSE_RECORDS,
                f"""
    FROM mar_administration a
    JOIN residents_resident r ON r.id = a.resident_id
    JOIN meds_prescription p ON p.id = a.prescription_id
    JOIN meds_medication m ON m.id = p.medication_id
    JOIN accounts_user u ON u.id = a.recorded_by_id
    LEFT JOIN mar_scheduleddose d ON d.id = a.dose_id
    WHERE a.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("a.recorded_at")}
      AND (a.status = ANY(%(exception_statuses)s) OR a.late_reason <> '')""",
                at="a.recorded_at",
                pk="a.id",
                ref="a.id",
                **RESIDENT,
                **_drug("m"),
                **_person("u"),
                text1="a.status",
                text2="a.late_reason",
                text3="a.reason",
                time1="COALESCE(d.due_at, a.administered_at)",
                sort_time="a.recorded_at",
            ),
            _branch(
                DOSES_OPEN,
                f"""
    FROM mar_scheduleddose d
    JOIN residents_resident r ON r.id = d.resident_id
    JOIN meds_prescription p ON p.id = d.prescription_id
    JOIN meds_medication m ON m.id = p.medication_id
    WHERE d.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("d.window_closes_at")}
      AND d.state = ANY(%(dose_states)s)""",
                at="d.window_closes_at",
                pk="d.id",
                ref="d.id",
                **RESIDENT,
                **_drug("m"),
                text1="d.state",
                time1="d.due_at",
                sort_time="d.window_closes_at",
            ),
            _branch(
                PRN_GIVEN,
                f"""
    FROM mar_administration a
    JOIN residents_resident r ON r.id = a.resident_id
    JOIN meds_prescription p ON p.id = a.prescription_id
    JOIN meds_medication m ON m.id = p.medication_id
    JOIN accounts_user u ON u.id = a.recorded_by_id
    WHERE a.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("a.administered_at")}
      AND a.dose_id IS NULL AND a.status = %(given)s""",
                at="a.administered_at",
                pk="a.id",
                ref="a.id",
                **RESIDENT,
                **_drug("m"),
                **_person("u"),
                text1="a.prn_reason",
                flag1="EXISTS (SELECT FROM mar_prnfollowup f WHERE f.administration_id = a.id)",
                sort_time="a.administered_at",
            ),
            _branch(
                ORDERS_ENTERED,
                f"""
    FROM meds_prescription p
    JOIN residents_resident r ON r.id = p.resident_id
    JOIN meds_medication m ON m.id = p.medication_id
    JOIN accounts_user u ON u.id = p.entered_by_id
    LEFT JOIN meds_prescription rp ON rp.id = p.replaces_id
    LEFT JOIN meds_medication rm ON rm.id = rp.medication_id
    WHERE p.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("p.entered_at")}""",
                at="p.entered_at",
                pk="p.id",
                ref="p.id",
                **RESIDENT,
                **_drug("m"),
                **_person("u"),
                # the order it replaces: its drug
                other_first="rm.name",
                other_last="rm.strength",
                other_username="rm.form",
                flag1="p.replaces_id IS NOT NULL",
                text1="p.status",
                text2="p.dose_unit",
                text3="p.route",
                number1="p.dose_amount",
                sort_time="p.entered_at",
            ),
            _branch(
                ORDER_CHANGES,
                f"""
    FROM meds_prescriptionstatuschange c
    JOIN meds_prescription p ON p.id = c.prescription_id
    JOIN residents_resident r ON r.id = p.resident_id
    JOIN meds_medication m ON m.id = p.medication_id
    JOIN accounts_user u ON u.id = c.changed_by_id
    WHERE p.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("c.changed_at")}
      AND c.to_status <> %(pending)s""",
                at="c.changed_at",
                pk="c.id",
                ref="p.id",
                **RESIDENT,
                **_drug("m"),
                **_person("u"),
                text1="c.from_status",
                text2="c.to_status",
                text3="c.reason",
                sort_time="c.changed_at",
            ),
            _branch(
                CONDITION_REPORTS,
                f"""
    FROM clinical_conditionreport c
    JOIN residents_resident r ON r.id = c.resident_id
    JOIN accounts_user u ON u.id = c.reported_by_id
    WHERE c.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("c.reported_at")}""",
                at="c.reported_at",
                pk="c.id",
                ref="c.id",
                **RESIDENT,
                **_person("u"),
                text1="array_to_string(c.changes, ',')",
                sort_time="c.reported_at",
            ),
            _branch(
                MONITORING,
                """
    FROM care_monitoringepisode e
    JOIN residents_resident r ON r.id = e.resident_id
    WHERE e.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND (e.ended_at IS NULL OR e.ended_at > %(start)s)
      AND e.started_at < %(until)s AND e.ends_at > %(start)s""",
                at="e.started_at",
                pk="e.id",
                ref="r.id",
                **RESIDENT,
                text1="e.reason",
                time1="COALESCE(e.ended_at, e.ends_at)",
                **BY_NAME,
            ),
            _branch(
                INCIDENTS,
                f"""
    FROM incidents_incident i
    JOIN residents_resident r ON r.id = i.resident_id
    JOIN accounts_user u ON u.id = i.reported_by_id
    WHERE i.facility_id = %(facility)s AND i.unit_id = %(unit)s
      AND (({IN_SHIFT.format("i.occurred_at")}) OR ({IN_SHIFT.format("i.reported_at")}))""",
                at="i.occurred_at",
                pk="i.id",
                ref="i.id",
                **RESIDENT,
                **_person("u"),
                text1="i.description",
                text2="i.kind",
                flag1="i.hospital_transfer",
                sort_time="i.occurred_at",
            ),
            _branch(
                VITALS,
                f"""
    FROM vitals_vitalexception x
    JOIN vitals_vitalreading g ON g.id = x.reading_id
    JOIN residents_resident r ON r.id = x.resident_id
    WHERE x.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("x.created_at")}""",
                at="g.taken_at",
                pk="x.id",
                ref="r.id",
                **RESIDENT,
                text1="g.kind",
                number1="g.value",
                number2="x.low",
                number3="x.high",
                sort_time="x.created_at",
            ),
            _branch(
                CARE_TASKS,
                """
    FROM care_caretask k
    JOIN residents_resident r ON r.id = k.resident_id
    JOIN care_careitem ci ON ci.id = k.item_id
    WHERE k.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND k.window_closes_at > %(start)s AND k.window_opens_at < %(until)s
      AND k.window_closes_at <= %(shift_end)s AND k.state = ANY(%(task_states)s)""",
                at="k.window_closes_at",
                pk="k.id",
                ref="r.id",
                **RESIDENT,
                text1="ci.category",
                text2="k.state",
                **BY_NAME,
            ),
            _branch(
                CARE_CHECKS,
                """
    FROM care_monitoringcheck k
    JOIN residents_resident r ON r.id = k.resident_id
    WHERE k.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND k.window_closes_at > %(start)s AND k.window_opens_at < %(until)s
      AND k.window_closes_at <= %(shift_end)s AND k.state = ANY(%(task_states)s)""",
                at="k.window_closes_at",
                pk="k.id",
                ref="r.id",
                **RESIDENT,
                text2="k.state",
                **BY_NAME,
            ),
            _branch(
                ABSENCES,
                f"""
    FROM residents_residentstatuschange c
    JOIN residents_resident r ON r.id = c.resident_id
    WHERE r.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {IN_SHIFT.format("c.effective_at")}""",
                at="c.effective_at",
                pk="c.id",
                ref="r.id",
                **RESIDENT,
                text1="c.from_status",
                text2="c.to_status",
                text3="c.reason",
                sort_time="c.effective_at",
            ),
            _branch(
                COUNT_DISCREPANCIES,
                f"""
    FROM inventory_controlledcount c
    JOIN accounts_user u ON u.id = c.outgoing_by_id
    JOIN accounts_user v ON v.id = c.incoming_by_id
    WHERE c.unit_id = %(unit)s AND c.has_discrepancy
      AND {IN_SHIFT.format("c.counted_at")}""",
                at="c.counted_at",
                pk="c.id",
                ref="c.id",
                **_person("u"),
                **_person("v", "other"),
                sort_time="c.counted_at",
            ),
            _branch(
                COUNT_STATE,
                "",
                flag1="""EXISTS (
        SELECT FROM inventory_stockitem si
        JOIN residents_resident sr ON sr.id = si.resident_id
        JOIN meds_medication sm ON sm.id = si.medication_id
        WHERE si.facility_id = %(facility)s AND sr.unit_id = %(unit)s
          AND sm.controlled_schedule = ANY(%(controlled)s))""",
                time1="""(
        SELECT max(cc.counted_at) FROM inventory_controlledcount cc
        WHERE cc.unit_id = %(unit)s AND cc.counted_at < %(until)s)""",
            ),
            _branch(
                APPOINTMENTS,
                f"""
    FROM appointments_appointment ap
    JOIN residents_resident r ON r.id = ap.resident_id
    WHERE ap.facility_id = %(facility)s AND r.unit_id = %(unit)s
      AND {UNIT_APPOINTMENTS_BETWEEN_SQL}""",
                at="ap.starts_at",
                pk="ap.id",
                ref="ap.id",
                **RESIDENT,
                text1="ap.provider_specialty",
                text2="ap.provider_name",
                text3="ap.purpose",
                text4="ap.transport",
                time1="ap.pickup_at",
                flag1="ap.transport_booked_at IS NOT NULL",
                flag2="ap.fasting",
                sort_time="ap.starts_at",
                sort_text1="r.last_name",
            ),
            _branch(
                NOTES,
                """
    FROM handoff_handoffnote n
    JOIN residents_resident r ON r.id = n.resident_id
    JOIN accounts_user u ON u.id = n.written_by_id
    WHERE n.unit_id = %(unit)s AND n.written_at <= %(until)s
      AND n.acknowledged_in_id IS NULL
      AND NOT EXISTS (
        SELECT FROM handoff_handoffnoteamendment ae
        WHERE ae.note_id = n.id AND ae.amended_at <= %(until)s AND ae.kind = %(in_error)s)""",
                at="n.written_at",
                pk="n.id",
                ref="r.id",
                **RESIDENT,
                **_person("u"),
                text1="n.category",
                text2="n.text",
                text3="""(
        SELECT ac.text FROM handoff_handoffnoteamendment ac
        WHERE ac.note_id = n.id AND ac.amended_at <= %(until)s AND ac.kind = %(correction)s
        ORDER BY ac.amended_at DESC, ac.id DESC LIMIT 1)""",
                **BY_NAME,
                sort_time2="n.written_at",
            ),
        ]
    )
    + "\n    ORDER BY branch, sort_time, sort_text1, sort_text2, sort_time2, pk"
)
