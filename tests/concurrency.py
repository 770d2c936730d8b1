"""Two sessions at once, synchronised on what the database server says, never on a timer."""

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction


def wait_until_a_session_waits_for_a_lock(deadline_seconds: float = 30) -> None:
    """Poll the server until some session of this database waits for a lock."""
    deadline = time.monotonic() + deadline_seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no session ever waited for the change in progress")


def while_in_progress(change: Callable[[], object], work: Callable[[], object]) -> list:
    """Run `change` in a transaction of its own and hold it open; run `work` in another session
    until it waits for the change's locks; then commit the change. Returns `work`'s result in a
    list, and raises what either side raised."""
    changed, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    results: list = []

    def change_then_wait():
        try:
            with transaction.atomic():
                change()
                changed.set()
                if not go.wait(30):
                    raise AssertionError("the change was never let go")
        except BaseException as error:  # raised below, in the test's thread
            errors.append(error)
        finally:
            changed.set()
            connection.close()

    def run_work():
        try:
            results.append(work())
        except BaseException as error:  # raised below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    changing = threading.Thread(target=change_then_wait)
    changing.start()
    assert changed.wait(30)
    working = threading.Thread(target=run_work)
    working.start()
    try:
        if not errors:
            wait_until_a_session_waits_for_a_lock()
    finally:
        go.set()
        changing.join()
        working.join()
    if errors:
        raise errors[0]
    return results
