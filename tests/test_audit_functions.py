"""The audit triggers cost the same per row however many rows a statement writes.

The libraries' own helper functions rolled back a subtransaction per audited row, and each
rollback scanned every deferred foreign-key check pending in the transaction: n rows cost n²;
they also upserted the audit context once per row. Both are checked here by what the database
does, not by timing it: no function an audit trigger runs opens a subtransaction (an exception
block), and a bulk insert looks up and writes its context once, at any size. The time per row
at two sizes is a benchmark (bench/dose_engine.py), where a busy machine decides nothing.
"""

import re

import pghistory
import pytest
from django.apps import apps
from django.db import connection, transaction

from core.audit_events import event_models
from core.audit_functions import ATTACH_CONTEXT, SHOULD_IGNORE
from tests.factories import FacilityFactory

SMALL, LARGE = 500, 2_000
EXCEPTION_BLOCK = re.compile(r"\bEXCEPTION\s+WHEN\b", re.IGNORECASE)


def _context_table_work() -> tuple[int, int]:
    """(index look-ups, rows written) of the audit context table so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(idx_scan, 0), n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE relid = 'pghistory_context'::regclass"
        )
        return cursor.fetchone()


def _audited_insert(facility_id: int, rows: int) -> dict:
    """Insert `rows` audited rows in one statement, inside a savepoint rolled back after: what
    the statement did to the context table, and the events it wrote."""
    with transaction.atomic():
        looked_up, written = _context_table_work()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO mar_othercode (code, label, facility_id) "
                "SELECT 'c' || g, 'bulk', %s FROM generate_series(1, %s) g",
                [facility_id, rows],
            )
            cursor.execute(
                "SELECT COUNT(*), COUNT(pgh_context_id), COUNT(DISTINCT pgh_context_id) "
                "FROM mar_othercodeevent WHERE facility_id = %s AND label = 'bulk'",
                [facility_id],
            )
            events, with_context, contexts = cursor.fetchone()
        after = _context_table_work()
        transaction.set_rollback(True)
    return {
        "context look-ups": after[0] - looked_up,
        "context rows written": after[1] - written,
        "events": events,
        "events with a context": with_context,
        "contexts": contexts,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("with_context", [True, False], ids=["audit context", "no context"])
def test_an_audited_bulk_insert_writes_its_context_once_at_any_size(with_context):
    facility_id = FacilityFactory().pk
    if with_context:
        with pghistory.context(work="bulk insert test"):
            done = [_audited_insert(facility_id, rows) for rows in (SMALL, LARGE)]
    else:
        done = [_audited_insert(facility_id, rows) for rows in (SMALL, LARGE)]
    once = int(with_context)
    assert done == [
        {
            "context look-ups": once,
            "context rows written": once,
            "events": rows,
            "events with a context": rows * once,
            "contexts": once,
        }
        for rows in (SMALL, LARGE)
    ]


@pytest.mark.django_db
def test_no_audit_trigger_opens_a_subtransaction_per_row():
    """Every trigger function on a tracked table, and every function of ours it calls, is
    free of exception blocks: entering one starts a subtransaction, on every row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgrelid::regclass::text, p.proname, p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"
        )
        triggers = cursor.fetchall()
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        )
        functions = dict(cursor.fetchall())
    tracked = {m.pgh_tracked_model._meta.db_table for m in event_models()}
    audited = [(table, name, source) for table, name, source in triggers if table in tracked]
    assert {"mar_othercode", "mar_administration"} <= {table for table, _, _ in audited}
    blocks = []
    for table, name, source in audited:
        called = {f for f in functions if re.search(rf"\b{re.escape(f)}\s*\(", source)}
        blocks += [
            f"{table}: {f}" for f in {name, *called} if EXCEPTION_BLOCK.search(functions.get(f, ""))
        ]
    assert blocks == []


@pytest.mark.django_db
def test_the_rows_still_carry_their_context_and_ignore_still_works():
    import pgtrigger

    from mar.models import OtherCode

    facility = FacilityFactory()
    with pghistory.context(work="bulk insert test"):
        OtherCode.objects.bulk_create(
            [OtherCode(facility=facility, code=f"BULK{i}", label="x") for i in range(3)]
        )
    events = apps.get_model("mar", "OtherCodeEvent").objects.filter(
        facility_id=facility.pk, code__in=["BULK0", "BULK1", "BULK2", "QUIET", "LOUD"]
    )
    assert events.count() == 3
    assert {e.pgh_context.metadata["work"] for e in events} == {"bulk insert test"}
    with pgtrigger.ignore("mar.OtherCode:insert_insert"):
        OtherCode.objects.create(facility=facility, code="QUIET", label="x")
    assert events.count() == 3
    OtherCode.objects.create(facility=facility, code="LOUD", label="x")
    assert events.filter(code="LOUD").exists()


@pytest.mark.django_db
def test_the_functions_in_place_are_ours_after_migrate():
    """Every new trigger's migration re-creates the library's version; post_migrate puts ours
    back, so the database the tests run on has them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc "
            "WHERE proname IN ('_pgtrigger_should_ignore', '_pgh_attach_context')"
        )
        sources = dict(cursor.fetchall())
    assert "EXCEPTION" not in sources["_pgtrigger_should_ignore"].upper()
    assert "EXCEPTION" not in sources["_pgh_attach_context"].upper()
    assert sources["_pgh_attach_context"].strip() in ATTACH_CONTEXT
    assert sources["_pgtrigger_should_ignore"].strip() in SHOULD_IGNORE
