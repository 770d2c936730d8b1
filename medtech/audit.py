"""Audit tracking shared by every domain model: who, when, what, before and after.

Triggers (django-pghistory) record inserts, updates and deletes, so bulk updates and raw SQL are
captured too; HistoryMiddleware attaches the acting user and the URL as context.
"""

import pghistory


def track(*, exclude: list[str] | None = None):
    """Decorator for a domain model: snapshot every insert, update and delete."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
    )
