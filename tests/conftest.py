from pathlib import Path

import pytest
from django.test import Client
from pytest_django import fixtures as pytest_django_fixtures
from pytest_django.plugin import blocking_manager_key

from accounts.models import Role
from tests import databases
from tests.factories import FacilityFactory, ResidentFactory, UnitFactory, member


def _run_dir(config: pytest.Config) -> Path:
    """The run's temporary directory, which its processes share (pytest-xdist's workers each
    have their own folder in it)."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """This process's test database: a copy of the database migrated once for the whole run
    (tests/databases.py), where pytest-django would migrate one in every process. With
    --reuse-db or --nomigrations, pytest-django's own way."""
    aliases, serialized = pytest_django_fixtures._get_databases_for_setup(request.session.items)
    if (django_db_keepdb and not django_db_createdb) or not django_db_use_migrations:
        yield from pytest_django_fixtures.django_db_setup.__wrapped__(
            request,
            django_test_environment,
            django_db_blocker,
            django_db_use_migrations,
            django_db_keepdb,
            django_db_createdb,
            django_db_modify_db_settings,
        )
        return
    assert aliases <= {"default"} and not serialized, "one database, no serialized rollback"
    from django.db import connection

    own = connection.creation._get_test_db_name()  # test_<name>, _gw0 … with pytest-xdist
    workerinput = getattr(request.config, "workerinput", {})
    base = own.removesuffix(f"_{workerinput['workerid']}") if workerinput else own
    original = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        migrated = databases.shared_database(
            f"{base}_migrated", databases.migrate_into, run_dir=_run_dir(request.config)
        )
        databases.copy_database(source=migrated.name, target=own)
    connection.settings_dict["NAME"] = own
    request.config.stash[_MIGRATED] = migrated.name
    yield
    with django_db_blocker.unblock():
        databases.drop_database(own)
    connection.settings_dict["NAME"] = original


_MIGRATED = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def demo_template(request, django_db_setup, django_db_blocker) -> databases.SharedDatabase:
    """The demo with two days of history (tests/databases.py), seeded once per test run; what
    the seed printed is its `output`. Tests use copies of it (`demo_database`)."""
    from django.db import connection

    migrated = request.config.stash.get(_MIGRATED, None) or connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        return databases.shared_database(
            f"{migrated.removesuffix('_migrated')}_demo",
            lambda name: databases.seed_demo_into(name, source=migrated),
            run_dir=_run_dir(request.config),
        )


@pytest.fixture
def demo_database(demo_template, django_db_blocker) -> databases.SharedDatabase:
    """The test runs on a copy of the demo of its own (the demo's logins all sign in with
    databases.DEMO_PASSWORD): what it writes nobody else sees. The copy is committed data, so
    the test must be transactional (`django_db(transaction=True)`, or `live_server`)."""
    from django.db import connection

    assert not connection.in_atomic_block, "demo_database needs django_db(transaction=True)"
    with django_db_blocker.unblock():
        copy = f"{connection.settings_dict['NAME']}_demo_copy"
        databases.copy_database(source=demo_template.name, target=copy)
    with databases.using_database(copy):
        yield databases.SharedDatabase(name=copy, output=demo_template.output)
    with django_db_blocker.unblock():
        databases.drop_database(copy)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """The process that started the run drops the databases its processes built once for it."""
    config = session.config
    if hasattr(config, "workerinput") or blocking_manager_key not in config.stash:
        return
    with config.stash[blocking_manager_key].unblock():
        databases.drop_shared_databases(_run_dir(config))


@pytest.fixture
def facility(db):
    return FacilityFactory(name="Maple Grove", timezone="America/New_York")


@pytest.fixture
def other_facility(db):
    return FacilityFactory(name="Cedar House", timezone="America/Chicago")


@pytest.fixture
def unit(facility):
    return UnitFactory(facility=facility, name="North Wing")


@pytest.fixture
def resident(facility, unit):
    return ResidentFactory(facility=facility, unit=unit, first_name="Ada", last_name="Byron")


@pytest.fixture
def admin_user(facility):
    return member(facility, Role.ADMIN, username="admin1")


@pytest.fixture
def nurse_user(facility):
    return member(facility, Role.NURSE, username="nurse1")


@pytest.fixture
def medtech_user(facility):
    return member(facility, Role.MED_TECH, username="medtech1")


@pytest.fixture
def outsider_user(other_facility):
    return member(other_facility, Role.ADMIN, username="outsider1")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def nurse_client(nurse_user):
    return _client_for(nurse_user)


@pytest.fixture
def medtech_client(medtech_user):
    return _client_for(medtech_user)


@pytest.fixture
def caregiver_user(facility):
    return member(facility, Role.CAREGIVER, username="caregiver1")


@pytest.fixture
def caregiver_client(caregiver_user):
    return _client_for(caregiver_user)


@pytest.fixture
def outsider_client(outsider_user):
    return _client_for(outsider_user)


@pytest.fixture
def login_client():
    """Log a user in through the real backends (axes included)."""
    return _client_for


@pytest.fixture
def queued_generations():
    """The facilities whose dose generation was asked for after a commit (tests/seams.py)."""
    from tests import seams

    seams.GENERATIONS_QUEUED.clear()
    yield seams.GENERATIONS_QUEUED
    seams.GENERATIONS_QUEUED.clear()


@pytest.fixture
def queued_pdf_jobs():
    """The MAR PDF jobs sent to a worker after a commit (tests/seams.py)."""
    from tests import seams

    seams.PDF_JOBS_QUEUED.clear()
    yield seams.PDF_JOBS_QUEUED
    seams.PDF_JOBS_QUEUED.clear()


# The pharmacy interface's listener on a free port, and the messages it queued for a worker.
from tests.pharmacy_support import listener, queued_pharmacy_messages  # noqa: E402, F401, I001


@pytest.fixture
def queued_care_generations():
    """The facilities whose care task generation was asked for after a commit (tests/seams.py)."""
    from tests import seams

    seams.CARE_GENERATIONS_QUEUED.clear()
    yield seams.CARE_GENERATIONS_QUEUED
    seams.CARE_GENERATIONS_QUEUED.clear()


# The slowest tests, slowest first (`--durations` on CI). They are collected first, so that with
# one process per core (`make test`, sending one test at a time) each starts at once beside the
# rest instead of holding the run at its end.
SLOWEST = (
    "tests/demo/test_seed_demo.py",
    "tests/e2e/test_accessibility_browser.py",
    "tests/vitals/test_migration.py",
    "tests/care/test_migrations.py",
    "tests/test_fuzz_forms.py::test_hostile_query_parameters_never_error",
    "tests/demo/test_every_page_reads.py",
    "tests/demo/test_demo_logins.py",
)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next(
            (n for n, prefix in enumerate(SLOWEST) if item.nodeid.startswith(prefix)),
            len(SLOWEST),
        )

    items.sort(key=rank)  # stable: the rest keep their order
