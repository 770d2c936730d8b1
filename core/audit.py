"""Audit tracking shared by every domain model: who, when, what, before and after.

Triggers (django-pghistory) record inserts, updates and deletes, so bulk updates and raw SQL are
captured too; HistoryMiddleware attaches the acting user and the URL as context.
"""

import pghistory


def track(*, exclude: list[str] | None = None, inserts: bool = True):
    """Decorator for a domain model: snapshot every insert, update and delete.

    `inserts=False` is for rows the machine derives in bulk (scheduled doses): their creation is
    reproducible from the order, and tracking it would double the cost of every generation run.
    """
    trackers = [pghistory.UpdateEvent(), pghistory.DeleteEvent()]
    if inserts:
        trackers.insert(0, pghistory.InsertEvent())
    return pghistory.track(*trackers, exclude=exclude)
