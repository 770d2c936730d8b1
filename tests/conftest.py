import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import FacilityFactory, ResidentFactory, UnitFactory, member


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
