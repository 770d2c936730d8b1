"""The few statements read at every step of a med pass are prepared once per connection
(core.database: `prepared_cursor`)."""

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

STATEMENT = "SELECT %(a)s::int + %(b)s::int"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_is_prepared_once_and_then_only_run():
    for a in range(3):
        with connection.prepared_cursor() as cursor:
            cursor.execute(STATEMENT, {"a": a, "b": 2})
            assert cursor.fetchone() == (a + 2,)
    assert len([s for s in _prepared() if "$1::int + $2::int" in s]) == 1


@pytest.mark.django_db
def test_django_own_cursors_prepare_nothing():
    with connection.cursor() as cursor:
        for _ in range(10):
            cursor.execute("SELECT %s::int * 3", [7])
    assert not [s for s in _prepared() if "* 3" in s]


@pytest.mark.django_db
def test_a_prepared_statement_runs_inside_an_audit_context_and_is_logged_with_its_values():
    with (
        pghistory.context(user=1),
        CaptureQueriesContext(connection) as captured,
        connection.prepared_cursor() as cursor,
    ):
        cursor.execute(STATEMENT, {"a": 40, "b": 2})
        assert cursor.fetchone() == (42,)
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 40::int + 2::int"]


@pytest.mark.django_db
def test_a_long_statement_is_converted_once_and_prepared_once():
    from core.database.base import _convert

    # Longer than psycopg keeps converted by itself (4 KB): the shift report's is 27 KB.
    long = "SELECT %(a)s::int + %(b)s::int" + " " * 5000 + "-- padded"
    before = _convert.cache_info()
    for a in range(3):
        with connection.prepared_cursor() as cursor:
            cursor.execute(long, {"a": a, "b": 2})
            assert cursor.fetchone() == (a + 2,)
    after = _convert.cache_info()
    assert after.hits - before.hits == 2
    assert after.misses - before.misses <= 1
    assert len([s for s in _prepared() if "-- padded" in s]) == 1
