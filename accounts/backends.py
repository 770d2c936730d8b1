"""Sign-in by username and password (Django's model backend), reading the signed-in user at
no cost when the request's membership query has already brought them.

Every logged-in request needs the user and their membership of the chosen facility. Django
reads the user (one query) and the middleware then the membership (another); the middleware
instead reads the membership with its user and facility in one query and hands the user to
`get_user` here through `preloaded`, so Django's own session checks (the password hash kept in
the session, an active account) still decide whether the person is signed in.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.backends import ModelBackend

from .models import User

_preloaded: ContextVar[User | None] = ContextVar("preloaded_user", default=None)


@contextmanager
def preloaded(user: User | None):
    """While the block runs, `get_user(user.pk)` answers with this instance."""
    token = _preloaded.set(user)
    try:
        yield
    finally:
        _preloaded.reset(token)


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        user = _preloaded.get()
        if user is not None and str(user.pk) == str(user_id):
            return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)
