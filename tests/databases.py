"""Test databases copied from one made ready once (PostgreSQL's `CREATE DATABASE ... TEMPLATE`:
a fraction of a second, where migrating takes most of a minute and seeding the demo more).

- The migrations run once per test run, into `<test database>_migrated`; each test process
  (`_gw0`, `_gw1` … with pytest-xdist) starts from a copy of it instead of migrating again.
- The demo (two days of history) is seeded once per test run, into `<test database>_demo`, from
  that migrated copy; a test that asks for `demo_database` runs on a copy of the demo of its own,
  so that nothing one test writes is seen by another.

The first process to need one of them builds it while the others wait (a file lock in the run's
temporary directory); the process that started the run drops them at its end
(`drop_shared_databases`).
"""

import fcntl
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings

# The password of every demo login in the tests' demo (the browser tests sign in with it).
DEMO_PASSWORD = "e2e-demo-password"
# Days of history in the tests' demo: enough for the seed to report its days one by one and for
# every history page to have rows; the 35 days are the seed test's own (test_seed_demo.py).
DEMO_HISTORY_DAYS = 2


@dataclass(frozen=True)
class SharedDatabase:
    name: str
    output: str  # what building it printed (the demo seed's progress and logins)


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(*statements: str) -> None:
    with connection._nodb_cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def copy_database(*, source: str, target: str) -> None:
    """`target` made afresh as a copy of `source` (which nobody may be connected to)."""
    connections.close_all()
    _execute(
        f"DROP DATABASE IF EXISTS {_quoted(target)} WITH (FORCE)",
        f"CREATE DATABASE {_quoted(target)} TEMPLATE {_quoted(source)}",
    )


def drop_database(name: str) -> None:
    connections.close_all()
    _execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """The default connection, in every thread (the live server's too), on `name` for the block.

    Django's connections share one settings dict, so a thread's next connection goes where it
    says. Content type ids differ between databases: their cache is cleared both ways."""
    settings_dict = connection.settings_dict
    previous = settings_dict["NAME"]
    connections.close_all()
    settings_dict["NAME"] = name
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connections.close_all()
        settings_dict["NAME"] = previous
        ContentType.objects.clear_cache()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_database(name: str, build: Callable[[str], str], *, run_dir: Path) -> SharedDatabase:
    """Database `name`, built by `build(name)` (returning what it printed) once per test run:
    by the first process to ask, while the others wait for it."""
    marker = run_dir / f"database-{name}"
    with _locked(run_dir / f"database-{name}.lock"):
        if not marker.exists():
            output = build(name)
            connections.close_all()  # nobody may be connected to a database being copied
            marker.write_text(output)
    return SharedDatabase(name=name, output=marker.read_text())


def drop_shared_databases(run_dir: Path) -> None:
    """Drop the databases the run's processes built (`shared_database`)."""
    for marker in sorted(run_dir.glob("database-*")):
        if marker.suffix != ".lock":
            drop_database(marker.name.removeprefix("database-"))


def migrate_into(name: str) -> str:
    """The migrations applied to a new database `name`, as pytest-django does for a test
    database (Django's `create_test_db`)."""
    test_settings = connection.settings_dict["TEST"]
    own = test_settings["NAME"]
    test_settings["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    finally:
        test_settings["NAME"] = own
    return ""


def seed_demo_into(name: str, *, source: str) -> str:
    """A copy of `source` with the demo seeded in it; returns what the seed printed."""
    copy_database(source=source, target=name)
    out = io.StringIO()
    environment = {"DEMO_PASSWORD": DEMO_PASSWORD, "DEMO_HISTORY_DAYS": str(DEMO_HISTORY_DAYS)}
    # seed_demo reads the setting first (set in demo mode), then the environment.
    with (
        using_database(name),
        mock.patch.dict(os.environ, environment),
        override_settings(DEMO_PASSWORD=None),
    ):
        call_command("seed_demo", "--force", stdout=out, stderr=io.StringIO())
    return out.getvalue()
