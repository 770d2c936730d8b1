"""The audit triggers cost the same per row however many rows a statement writes.

The libraries' own helper functions rolled back a subtransaction per audited row, and each
rollback scanned every deferred foreign-key check pending in the transaction: n rows cost n².
Timing ratios with a wide margin (a quadratic cost shows as 2.5-3x per row at these sizes; a
linear one as about 1x), the best of three runs each so a busy machine does not decide.
"""

import time

import pghistory
import pytest
from django.apps import apps
from django.db import connection, transaction

from core.audit_functions import ATTACH_CONTEXT, SHOULD_IGNORE
from tests.factories import FacilityFactory

SMALL, LARGE = 2_000, 8_000


def _insert_seconds(facility_id: int, rows: int) -> float:
    """Insert `rows` audited rows in one statement, inside a savepoint rolled back after."""
    best = float("inf")
    for _ in range(3):
        with transaction.atomic():
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(
                    "INSERT INTO mar_othercode (code, label, facility_id) "
                    "SELECT 'c' || g, 'label', %s FROM generate_series(1, %s) g",
                    [facility_id, rows],
                )
                best = min(best, time.perf_counter() - started)
            transaction.set_rollback(True)
    return best


@pytest.mark.django_db
@pytest.mark.parametrize("with_context", [True, False], ids=["audit context", "no context"])
def test_an_audited_bulk_insert_costs_the_same_per_row_at_two_sizes(with_context):
    facility_id = FacilityFactory().pk
    if with_context:
        with pghistory.context(work="bulk insert test"):
            small, large = _insert_seconds(facility_id, SMALL), _insert_seconds(facility_id, LARGE)
    else:
        small, large = _insert_seconds(facility_id, SMALL), _insert_seconds(facility_id, LARGE)
    per_row_growth = (large / LARGE) / (small / SMALL)
    assert per_row_growth < 1.8, f"cost per row grew {per_row_growth:.1f}x from {SMALL} to {LARGE}"


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
