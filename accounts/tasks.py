"""Housekeeping the beat runs for sign-in."""

from celery import shared_task

from .sessions import SessionStore


@shared_task(name="accounts.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete the sessions past their expiry (they no longer sign anyone in): the table that
    every signed-in request reads stays the size of the staff signed in."""
    SessionStore.clear_expired()
