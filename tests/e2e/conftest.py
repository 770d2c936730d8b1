"""What every browser test shares: Debian's Chromium through Playwright, the demo with two doses
and a PRN open right now, screenshots under artifacts/e2e/ (git-ignored).

`browser_page` is 1280x1000; `cart_page` is the med cart's 1024x768. Both log nobody in: `login`
does, as a demo user would, through the login form.
"""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from accounts.models import Facility
from mar import services
from mar.models import DoseState, ScheduledDose
from residents.models import AllergyStatus, Resident, ResidentStatus
from tests.databases import DEMO_PASSWORD
from tests.factories import MedicationFactory, PrescriptionFactory

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(django_settings.BASE_DIR) / "artifacts" / "e2e"


@pytest.fixture(autouse=True)
def _async_unsafe(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made while the
    # browser is open would otherwise raise SynchronousOnlyOperation.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _page(width: int, height: int):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            # While Playwright's loop runs in this thread, Django keeps the test's connection
            # in a context variable instead of the thread-local slot; close it here, or it
            # outlives the test and blocks dropping the test database.
            connections.close_all()
            browser.close()


@pytest.fixture
def browser_page():
    yield from _page(1280, 1000)


@pytest.fixture
def cart_page():
    """The med cart's screen: 1024x768."""
    yield from _page(1024, 768)


@pytest.fixture
def demo(demo_database):
    """The demo (seeded once per run, this test on a copy of its own: tests/conftest.py), plus
    orders whose windows are open right now."""
    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    resident = (
        Resident.objects.filter(
            facility=maple,
            status=ResidentStatus.ACTIVE,
            allergy_status__in=[AllergyStatus.RECORDED, AllergyStatus.NKDA],
        )
        .order_by("pk")
        .first()
    )
    # The seed's doses follow the real clock; these two are due at this very minute, so their
    # windows (60 minutes either side) stay open for the whole test.
    now = timezone.now()
    local_now = timezone.localtime(now, maple.tz).time().replace(second=0, microsecond=0)
    orders = [
        PrescriptionFactory(
            resident=resident,
            medication=MedicationFactory(name=name, strength="5 mg"),
            times=[local_now],
            start_date=(now - timedelta(days=2)).date(),
            active_since=now - timedelta(days=1),
            verified_at=now - timedelta(days=1),
        )
        for name in ("Zentrafil", "Quorvanex")
    ]
    prn = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Painaway", strength="500 mg"),
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        indication="Pain",
        start_date=(now - timedelta(days=2)).date(),
        active_since=now - timedelta(days=1),
    )
    services.doses_generate(now=now)
    doses = [
        ScheduledDose.objects.get(
            prescription=order,
            state=DoseState.DUE,
            window_opens_at__lte=now,
            window_closes_at__gte=now,
        )
        for order in orders
    ]
    return {"resident": resident, "doses": doses, "prn": prn}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, live_server, username: str) -> None:
    """Sign in through the login form as a demo user (password DEMO_PASSWORD)."""
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
