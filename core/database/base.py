"""PostgreSQL as Django has it, with a health check that costs no round trip.

Connections persist between requests (CONN_MAX_AGE). Django's health check asks the server
"SELECT 1" before the first query of every request, so that a connection the server closed
(a restart, a failover, an idle timeout) is replaced instead of failing the request: on a small
signed-in page that was a third of its database time. A server that closes a connection says
so on it (an error message, then end of stream), so while a connection sits idle between
requests nothing should arrive on its socket: when nothing has, it is used as it is; when
something has, or the socket cannot be polled, Django's own check decides.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
