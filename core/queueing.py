"""Asking a worker, after the transaction commits, to do a facility's clock-driven work now.

Best effort: the beat is the guarantee (its next run does the same work), so a broker that is
down costs a delay, never a record. One request per facility and setting per transaction (a
seed verifying hundreds of orders asks once).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


def send_after_commit(setting: str, facility_id: int) -> None:
    """After commit, call the function `settings.<setting>` names with the facility's id (a
    task's sender in production; the tests name one that only remembers the request)."""
    key = (setting, facility_id)
    pending = transaction.get_connection().run_on_commit
    if any(getattr(entry[1], "queued", None) == key for entry in pending):
        return

    def callback() -> None:
        try:
            import_string(getattr(settings, setting))(facility_id)
        except Exception:  # the beat is the guarantee; this is only to be quick
            log.warning("Could not queue %s for facility %s", setting, facility_id, exc_info=True)

    callback.queued = key
    transaction.on_commit(callback)
