"""Django's database sessions, read with the signed-in membership in one plain statement.

Every signed-in request loads its session and then needs the user's membership of the chosen
facility (with the user and the facility). The session row keeps the user and the facility
beside its data (`StaffSession`), so one statement reads both; the middleware takes the
membership from `read_with` when the session's data names the same user and facility. Writes
(sign-in, choosing a facility, the once-a-minute activity time, sign-out) stay Django's own.
"""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

# The facility chosen on the picker (or the only one), kept in the session.
SESSION_FACILITY_KEY = "facility_id"


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SessionStore(db.SessionStore):
    # (user id, facility id, membership or None) as the session row's columns had them when it
    # was read; None until then.
    read_with = None

    @classmethod
    def get_model_class(cls):
        from .models import StaffSession

        return StaffSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = _number(data.get(SESSION_KEY))
        instance.facility_id = _number(data.get(SESSION_FACILITY_KEY))
        return instance

    def _get_session_from_db(self):
        from .selectors import session_with_membership

        read = session_with_membership(session_key=self.session_key, now=timezone.now())
        if read is None:
            self._session_key = None
            return None
        self.read_with = (read.user_id, read.facility_id, read.membership)
        return read

    def membership_read_with(self, user_id, facility_id):
        """The membership read with the session (None: no active one), or `...` when the
        session's row was not read for this user and facility."""
        if self.read_with is None:
            return ...
        row_user, row_facility, membership = self.read_with
        if row_user is None or row_user != _number(user_id) or row_facility != _number(facility_id):
            return ...
        return membership
