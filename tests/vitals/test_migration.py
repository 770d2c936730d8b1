"""The readings' move from mar to vitals (migrations mar 0016 and 0017) keeps every row.

The database is taken back to before the move (mar 0015: the readings in `mar_vitalreading`,
each pointing at its record), readings are written there as the old code did, and the move is
run again: the same ids, a source from whether a record named the reading, the records' links,
and the audit events with their ids, times and contexts.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pghistory
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Role
from core.audit_functions import install
from mar.models import Administration
from tests.factories import (
    CertificationFactory,
    PrescriptionFactory,
    member,
    record_dose,
    scheduled_dose,
)
from vitals.models import ReadingSource, VitalReading

# The tables that point at the readings (the flowsheet's from vitals 0002, monitoring's care
# 0005, the evaluations' clinical 0002) go back first: the executor takes the targets in order.
BEFORE = [
    ("clinical", "0001_initial"),
    ("care", "0004_care_levels_for_every_facility"),
    ("vitals", "0001_initial"),
    ("mar", "0015_autovacuum_open_rows"),
]
DUE = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TAKEN = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_readings_ids_sources_links_and_events(facility, resident):
    aide = member(facility, Role.MED_TECH)
    CertificationFactory(user=aide, issued=date(2025, 1, 1), expires=date(2027, 1, 1))
    # Readings taken at the med pass by today's code: the move must survive going back too.
    first, second = PrescriptionFactory(resident=resident), PrescriptionFactory(resident=resident)
    record = record_dose(aide, scheduled_dose(first, DUE), vitals={"pulse": "72"})
    other = record_dose(aide, scheduled_dose(second, DUE), vitals={"pulse": "70"})
    taken, again = VitalReading.objects.get(value=72), VitalReading.objects.get(value=70)

    _migrate(BEFORE)
    try:
        # Readings as mar wrote them: one with its record, one on its own, with ids past the
        # sequence, in an audit context so that their insert events name who wrote them.
        with pghistory.context(user=aide.pk, url="/medpass/"), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO mar_vitalreading "
                "(id, resident_id, kind, value, taken_at, taken_by_id, administration_id) "
                "VALUES (5001, %s, 'systolic_bp', 128, %s, %s, %s), "
                "(5002, %s, 'temperature', 98.6, %s, %s, NULL)",
                [resident.pk, TAKEN, aide.pk, other.pk, resident.pk, TAKEN, aide.pk],
            )
        before = _rows(
            "SELECT pgh_id, pgh_obj_id, pgh_label, pgh_context_id, pgh_created_at "
            "FROM mar_vitalreadingevent ORDER BY pgh_id"
        )
        assert {row[1] for row in before} == {taken.pk, again.pk, 5001, 5002}
        linked = "SELECT administration_id FROM mar_vitalreading WHERE id = %s"
        assert _rows(linked, [taken.pk]) == [(record.pk,)]
    finally:
        _migrate(_latest())
        install()

    readings = {r.pk: r for r in VitalReading.objects.all()}
    assert set(readings) == {taken.pk, again.pk, 5001, 5002}
    assert (readings[taken.pk].kind, readings[taken.pk].value) == ("pulse", Decimal("72"))
    assert (readings[5001].kind, readings[5001].value) == ("systolic_bp", Decimal("128"))
    assert readings[5001].taken_at == TAKEN and readings[5001].taken_by_id == aide.pk
    assert {pk: r.source for pk, r in readings.items()} == {
        taken.pk: ReadingSource.MED_PASS,
        again.pk: ReadingSource.MED_PASS,
        5001: ReadingSource.MED_PASS,
        5002: ReadingSource.FLOWSHEET,
    }
    links = Administration.readings.through.objects.values_list(
        "administration_id", "vitalreading_id"
    )
    assert set(links) == {
        (record.pk, taken.pk),
        (other.pk, again.pk),
        (other.pk, 5001),
    }
    assert set(other.readings.values_list("pk", flat=True)) == {again.pk, 5001}

    # The events are the old ones (ids, labels, contexts, times), none added by the copy.
    after = _rows(
        "SELECT pgh_id, pgh_obj_id, pgh_label, pgh_context_id, pgh_created_at "
        "FROM vitals_vitalreadingevent ORDER BY pgh_id"
    )
    assert after == before
    sources = dict(_rows("SELECT pgh_obj_id, source FROM vitals_vitalreadingevent"))
    assert sources[5001] == "med_pass" and sources[5002] == "flowsheet"
    context = _rows(
        "SELECT c.metadata->>'user' FROM vitals_vitalreadingevent e "
        "JOIN pghistory_context c ON c.id = e.pgh_context_id WHERE e.pgh_obj_id = 5002"
    )
    assert context == [(str(aide.pk),)]

    # The sequences moved past the copied ids: a new reading and its event are numbered after.
    new = VitalReading.objects.create(
        resident=resident,
        kind="weight",
        value=Decimal("151.5"),
        taken_at=TAKEN,
        taken_by=aide,
        source=ReadingSource.FLOWSHEET,
    )
    assert new.pk > 5002
    assert _rows(
        "SELECT pgh_id > %s FROM vitals_vitalreadingevent WHERE pgh_obj_id = %s",
        [max(row[0] for row in before), new.pk],
    ) == [(True,)]


def test_a_new_database_has_no_table_of_the_old_readings(db):
    tables = {
        row[0]
        for row in _rows(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ["%vitalreading%"]
        )
    }
    assert tables == {"vitals_vitalreading", "vitals_vitalreadingevent"}
    functions = _rows(
        "SELECT proname FROM pg_proc WHERE proname IN "
        "('pgtrigger_vital_append_only_82a5c', 'pgtrigger_insert_insert_028fd')"
    )
    assert functions == []
