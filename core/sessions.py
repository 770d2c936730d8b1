"""Django's database sessions, read with one plain statement.

Every signed-in request loads its session; the ORM's query building for that one lookup cost
more than the rest of a small page's sign-in work. Writes (login, the once-a-minute activity
time, logout) stay Django's own.
"""

from types import SimpleNamespace

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {self.model._meta.db_table} "
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])
