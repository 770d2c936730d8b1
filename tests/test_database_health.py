"""A persistent connection is checked between requests without asking the server, and one the
server has closed is replaced before the request's first query fails."""

import psycopg
import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


def _between_requests():
    """What Django does when a request ends and the next begins."""
    connection.close_if_unusable_or_obsolete()
    assert connection.health_check_enabled and not connection.health_check_done


def _round_trips(monkeypatch) -> list[str]:
    asked = []
    original = type(connections["default"]).is_usable

    def is_usable(self):
        asked.append("SELECT 1")
        return original(self)

    monkeypatch.setattr(type(connections["default"]), "is_usable", is_usable)
    return asked


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_an_idle_healthy_connection_is_used_without_asking_the_server(monkeypatch):
    pid = _backend_pid()
    asked = _round_trips(monkeypatch)
    _between_requests()
    assert _backend_pid() == pid
    assert asked == []


def test_a_connection_the_server_closed_is_replaced_before_the_first_query(monkeypatch):
    pid = _backend_pid()
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as other:
        # Waits (up to 10 s) until the server has ended that connection.
        other.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
    asked = _round_trips(monkeypatch)
    _between_requests()
    assert _backend_pid() != pid  # a new connection; the request did not fail
    assert asked == ["SELECT 1"]  # the server had spoken: Django's own check decided
