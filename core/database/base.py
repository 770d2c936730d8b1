"""PostgreSQL as Django has it, with a health check that costs no round trip.

Connections persist between requests (CONN_MAX_AGE). Django's health check asks the server
"SELECT 1" before the first query of every request, so that a connection the server closed
(a restart, a failover, an idle timeout) is replaced instead of failing the request: on a small
signed-in page that was a third of its database time. A server that closes a connection says
so on it (an error message, then end of stream), so while a connection sits idle between
requests nothing should arrive on its socket: when nothing has, it is used as it is; when
something has, or the socket cannot be polled, Django's own check decides.
"""

import functools
import select

from django.db.backends.postgresql import base, operations
from psycopg import _queries, pq

# A prepared statement's text converted to PostgreSQL's placeholders ($1 …), kept: psycopg keeps
# only statements under 4 KB (an ORM's are many and long), but the prepared cursor's are a few
# fixed texts, and the shift report's is longer (converting it again at every request cost more
# than running it). psycopg's own converter, cached here.
_convert = functools.lru_cache(maxsize=64)(_queries._query2pg_nocache)


class _FixedQuery(_queries.PostgresQuery):
    def convert(self, query, vars):
        if vars is None or not isinstance(query, str | bytes):
            return super().convert(query, vars)
        self.query, self._want_formats, self._order, self._parts = _convert(
            self._ensure_bytes(query), self._tx.encoding
        )
        self.dump(vars)
        return None


class PreparedCursor(base.ServerBindingCursor):
    """A cursor whose statements the server parses and plans once per connection (server-side
    binding, `prepare=True`), then only runs: see `DatabaseWrapper.prepared_cursor`.

    Its statements only read. The audit trail's context (pghistory) is written into every
    statement run inside one, as a first command; a prepared statement is one command, and
    pghistory leaves a cursor with a name alone (it takes it for a reading iterator's)."""

    name = "prepared"
    _query_cls = _FixedQuery

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """A prepared statement as it would read with its values (the query log, the tests'
        query captures), as Django's own cursors' statements read."""
        if isinstance(cursor, PreparedCursor):
            return self.compose_sql(sql, params)
        return super().last_executed_query(cursor, sql, params)


# Django turns psycopg's prepared statements off (a pooler in transaction mode cannot keep them);
# its own cursors bind on the client and never prepare. Only `prepared_cursor` asks the server to
# prepare, and psycopg does so only when a threshold is set: set one no statement reaches on its
# own. Behind a transaction-mode pooler, set OPTIONS["prepare_threshold"] to None: the prepared
# cursor then simply runs its statements unprepared.
ONLY_WHEN_ASKED = 2**31 - 1


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self):
        params = super().get_connection_params()
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            params["prepare_threshold"] = ONLY_WHEN_ASKED
        return params

    def prepared_cursor(self):
        """A cursor (logged and wrapped as Django's own) for the few fixed statements run at
        every step of a med pass: planning them cost the server more than running them, and a
        prepared statement is planned once per connection (connections persist, CONN_MAX_AGE).
        The statement's text must be fixed (its values as parameters) and one command."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(PreparedCursor(self.connection))

    def close_if_health_check_failed(self):
        if (
            self.connection is None
            or self.pool
            or not self.health_check_enabled
            or self.health_check_done
        ):
            return
        if self._quiet():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet(self) -> bool:
        """The connection is open, idle, and the server has sent nothing on it since."""
        connection = self.connection
        if connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable
