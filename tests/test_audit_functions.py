"""The audit triggers cost the same per row however many rows a statement writes.

The libraries' own helper functions rolled back a subtransaction per audited row, and each
rollback scanned every deferred foreign-key check pending in the transaction: n rows cost n².
Timing ratios with a wide margin, small and large runs in turns and the best of five each, so a
busy machine does not decide.
"""

import time

import pghistory
import pytest
from django.apps import apps
from django.db import connection, transaction

from core.audit_functions import ATTACH_CONTEXT, SHOULD_IGNORE
from tests.factories import FacilityFactory

SMALL, LARGE = 4_000, 16_000
ROUNDS = 5


def _insert_seconds(facility_id: int, rows: int) -> float:
    """Insert `rows` audited rows in one statement, inside a savepoint rolled back after."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                "INSERT INTO mar_othercode (code, label, facility_id) "
                "SELECT 'c' || g, 'label', %s FROM generate_series(1, %s) g",
                [facility_id, rows],
            )
            elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _per_row_growth(facility_id: int) -> float:
    """Small and large inserts taken in turns (a busy spell slows both), the best of each."""
    small = large = float("inf")
    for _ in range(ROUNDS):
        small = min(small, _insert_seconds(facility_id, SMALL))
        large = min(large, _insert_seconds(facility_id, LARGE))
    return (large / LARGE) / (small / SMALL)


@pytest.mark.django_db
@pytest.mark.parametrize("with_context", [True, False], ids=["audit context", "no context"])
def test_an_audited_bulk_insert_costs_the_same_per_row_at_two_sizes(with_context):
    """A quadratic cost shows as about 3.5x per row from 4k to 16k rows; a linear one as 1x."""
    facility_id = FacilityFactory().pk
    if with_context:
        with pghistory.context(work="bulk insert test"):
            growth = _per_row_growth(facility_id)
    else:
        growth = _per_row_growth(facility_id)
    assert growth < 2.0, f"cost per row grew {growth:.1f}x from {SMALL} to {LARGE} rows"


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
