"""The med pass without a network, in a real browser: prepared pages, records kept on the
device, sent once when the connection returns, conflicts to a nurse, nothing lost.

Chromium's offline emulation (`context.set_offline`) cuts the page and its service worker off
the live server; every wait is on something the page shows, never on time.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from mar.models import (
    Administration,
    AdminStatus,
    DoseState,
    Entry,
    ReconciliationItem,
    ReconciliationState,
    ScheduledDose,
)
from meds.services import prescription_discontinue
from residents.models import Resident, ResidentStatus
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login
from tests.e2e.conftest import shot as _shot
from tests.factories import MedicationFactory, PrescriptionFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
CART = {"width": 1024, "height": 768}


@pytest.fixture
def playwright():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        try:
            yield running
        finally:
            connections.close_all()


@pytest.fixture
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def second(demo):
    """A second resident of the same unit with a dose due now."""
    first = demo["resident"]
    resident = (
        Resident.objects.filter(
            facility=first.facility, unit=first.unit, status=ResidentStatus.ACTIVE
        )
        .exclude(pk=first.pk)
        .order_by("pk")
        .first()
    )
    now = timezone.now()
    local_now = timezone.localtime(now, first.facility.tz).time().replace(second=0, microsecond=0)
    order = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Calmorex", strength="2 mg"),
        times=[local_now],
        start_date=(now - timedelta(days=2)).date(),
        active_since=now - timedelta(days=1),
        verified_at=now - timedelta(days=1),
    )
    from mar import services

    services.doses_generate(now=now)
    dose = ScheduledDose.objects.get(
        prescription=order, state=DoseState.DUE, window_opens_at__lte=now
    )
    return {"resident": resident, "dose": dose}


def _cart(browser):
    context = browser.new_context(viewport=CART)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _prepare(page, live_server, resident, username="medtech"):
    """Sign in, pass the resident's unit, and prepare for offline; the page is then controlled
    by the service worker."""
    login(page, live_server, username)
    page.goto(f"{live_server.url}/medpass/passing/")
    page.locator(f"input[name=passing][value='unit:{resident.unit_id}']").check()
    page.get_by_role("button", name="Pass these residents").click()
    page.wait_for_url("**/medpass/")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.get_by_role("button", name="Prepare for offline").click()
    page.locator("[data-offline-status]", has_text="Prepared for offline at").wait_for()


def _waiting(page, count: int) -> None:
    word = "record" if count == 1 else "records"
    page.locator("#offline-band", has_text=f"{count} {word} waiting").wait_for()


def test_a_med_pass_offline_reaches_the_server_once_with_device_times(
    live_server, browser, demo, second
):
    resident, (given_dose, refused_dose), prn = demo["resident"], demo["doses"], demo["prn"]
    context, page = _cart(browser)
    _prepare(page, live_server, resident)
    _shot(page, "offline-01-prepared")
    started = timezone.now()

    context.set_offline(True)
    page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
    page.locator("#offline-band", has_text="Offline since").wait_for()
    page.locator(f"#dose-{given_dose.pk}").get_by_role("button", name="Given", exact=True).click()
    _waiting(page, 1)
    refused = page.locator(f"#dose-{refused_dose.pk}")
    # A refusal needs its reason, offline too: said beside the field, nothing kept.
    refused.get_by_role("button", name="Refused").click()
    refused.locator(".offline-error", has_text="Enter the reason").wait_for()
    refused.locator(f"#r-{refused_dose.pk}").fill("Said no, will try later")
    refused.get_by_role("button", name="Refused").click()
    _waiting(page, 2)
    prn_card = page.locator(f"#prn-{prn.pk}")
    prn_card.locator(f"#prn-reason-{prn.pk}").fill("Knee pain 6/10")
    prn_card.get_by_role("button", name="Give PRN").click()
    _waiting(page, 3)
    # The PRN's interval counts the dose just given offline.
    prn_card.locator(f"#prn-reason-{prn.pk}").fill("Still hurts")
    prn_card.get_by_role("button", name="Give PRN").click()
    prn_card.locator(".offline-error", has_text="Not yet").wait_for()

    page.goto(f"{live_server.url}/medpass/residents/{second['resident'].pk}/")
    page.locator(f"#dose-{second['dose'].pk}").get_by_role(
        "button", name="Given", exact=True
    ).click()
    _waiting(page, 4)

    # Reloaded offline: the prepared page, with what this cart recorded marked on it.
    page.reload()
    _waiting(page, 4)
    assert "waiting to be sent" in page.locator(f"#dose-{second['dose'].pk}").inner_text()
    _shot(page, "offline-02-waiting")
    # Logging out is refused while records wait.
    page.get_by_role("button", name="Log out").click()
    page.locator("#offline-band", has_text="You cannot log out yet: 4 records").wait_for()
    assert not Administration.objects.filter(entry=Entry.OFFLINE).exists()
    stopped = timezone.now()

    context.set_offline(False)
    page.locator("#offline-band", has_text="All synced").wait_for()
    _shot(page, "offline-03-synced")

    records = Administration.objects.filter(entry=Entry.OFFLINE).order_by("administered_at")
    assert len(records) == 4, (
        page.locator("#offline-band").inner_text(),
        [item.conflict for item in ReconciliationItem.objects.all()],
    )
    assert {(r.dose_id, r.prescription_id, r.status) for r in records} == {
        (given_dose.pk, given_dose.prescription_id, AdminStatus.GIVEN),
        (refused_dose.pk, refused_dose.prescription_id, AdminStatus.REFUSED),
        (None, prn.pk, AdminStatus.GIVEN),
        (second["dose"].pk, second["dose"].prescription_id, AdminStatus.GIVEN),
    }
    for record in records:
        assert started <= record.administered_at <= stopped  # the device's time
        assert record.recorded_at >= stopped  # received when the connection came back
    assert Administration.objects.get(dose=refused_dose).reason == "Said no, will try later"
    assert not ReconciliationItem.objects.exists()

    # Once everything is sent, logging out works and leaves nothing on the device.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/**")
    # (Cleared as the logout goes, and again on the sign-in page: wait for it there.)
    page.wait_for_function(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("medtech-offline", 1);
            open.onsuccess = () => {
                const count = open.result.transaction("records").objectStore("records").count();
                count.onsuccess = () => caches.has("medtech-offline").then(
                    (cached) => resolve(count.result === 0 && !cached));
            };
        })"""
    )
    context.close()


def test_two_carts_offline_on_one_dose_make_one_record_and_one_item_for_the_nurse(
    live_server, browser, demo
):
    resident, (dose, stopped_dose) = demo["resident"], demo["doses"]
    carts = [_cart(browser) for _ in range(2)]
    for context, page in carts:
        _prepare(page, live_server, resident)
        context.set_offline(True)
        page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
        page.locator(f"#dose-{dose.pk}").get_by_role("button", name="Given", exact=True).click()
        _waiting(page, 1)
    # While the first cart was offline, a nurse stopped the other order it then gave.
    first_context, first_page = carts[0]
    first_page.locator(f"#dose-{stopped_dose.pk}").get_by_role(
        "button", name="Given", exact=True
    ).click()
    _waiting(first_page, 2)
    prescription_discontinue(
        actor=User.objects.get(username="nurse"),
        prescription=stopped_dose.prescription,
        reason="Stopped by the doctor",
    )

    first_context.set_offline(False)
    first_page.locator("#offline-band", has_text="went to a nurse").wait_for()
    second_context, second_page = carts[1]
    second_context.set_offline(False)
    second_page.locator("#offline-band", has_text="went to a nurse").wait_for()
    _shot(second_page, "offline-04-conflict")

    assert Administration.objects.filter(dose=dose).count() == 1
    items = {item.dose_id: item for item in ReconciliationItem.objects.all()}
    assert set(items) == {dose.pk, stopped_dose.pk}
    assert "Already documented (given)" in items[dose.pk].conflict
    assert "discontinued" in items[stopped_dose.pk].conflict
    assert not Administration.objects.filter(dose=stopped_dose).exists()

    # The nurse finds both in her queue and decides the duplicate.
    nurse_context, nurse = _cart(browser)
    login(nurse, live_server, "nurse")
    nurse.goto(f"{live_server.url}/medpass/reconciliation/")
    card = nurse.locator(f"#item-{items[dose.pk].pk}")
    card.get_by_label("Void it (it goes on no record)").check()
    card.get_by_label("Reason for your decision").fill("Same dose documented on two carts")
    card.get_by_role("button", name="Decide").click()
    nurse.locator("ul.messages li", has_text="Voided").wait_for()
    _shot(nurse, "offline-05-reconciled")
    items[dose.pk].refresh_from_db()
    assert items[dose.pk].state == ReconciliationState.VOIDED
    for context, _page in [*carts, (nurse_context, nurse)]:
        context.close()


def test_the_queue_survives_a_browser_restart(live_server, playwright, demo, tmp_path):
    resident, (dose, _other) = demo["resident"], demo["doses"]

    def launch():
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=CART
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)
        return context, page

    context, page = launch()
    _prepare(page, live_server, resident)
    context.set_offline(True)
    page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
    page.locator(f"#dose-{dose.pk}").get_by_role("button", name="Given", exact=True).click()
    _waiting(page, 1)
    # Leaving the app while a record waits asks first (the tab stays when the answer is no).
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.locator("#offline-band", has_text="1 record waiting").wait_for()
    assert asked == ["beforeunload"]
    context.close()  # the browser is closed with a record waiting

    context, page = launch()
    context.set_offline(True)
    page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
    _waiting(page, 1)
    assert not Administration.objects.filter(dose=dose).exists()
    context.set_offline(False)
    # Where the session ended with the browser, the band asks to sign in, and signing in
    # sends the record; where the profile kept it, it is sent at once.
    band = page.locator("#offline-band", has_text=re.compile("sign in again|All synced"))
    band.wait_for()
    if "sign in again" in band.inner_text():
        login(page, live_server, "medtech")
        page.locator("#offline-band", has_text="All synced").wait_for()
    record = Administration.objects.get(dose=dose)
    assert record.entry == Entry.OFFLINE
    context.close()


def test_offline_longer_than_the_facilitys_limit_stops_recording(live_server, browser, demo):
    resident, (dose, _other) = demo["resident"], demo["doses"]
    context, page = _cart(browser)
    _prepare(page, live_server, resident)
    context.set_offline(True)
    page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
    page.locator("#offline-band", has_text="Offline since").wait_for()
    # The cart went offline nine hours ago (the demo facility allows eight).
    page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("medtech-offline", 1);
            open.onsuccess = () => {
                const tx = open.result.transaction("meta", "readwrite");
                tx.objectStore("meta").put(
                    new Date(Date.now() - 9 * 3600 * 1000).toISOString(), "offline_since");
                tx.oncomplete = () => resolve(true);
            };
        })"""
    )
    card = page.locator(f"#dose-{dose.pk}")
    card.get_by_role("button", name="Given", exact=True).click()
    card.locator(".offline-error", has_text="Offline for more than 8 hours").wait_for()
    assert "downtime MAR" in card.locator(".offline-error").inner_text()
    count = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("medtech-offline", 1);
            open.onsuccess = () => {
                const c = open.result.transaction("records").objectStore("records").count();
                c.onsuccess = () => resolve(c.result);
            };
        })"""
    )
    assert count == 0
    context.close()


def test_a_dose_whose_window_opens_while_offline_can_be_recorded_then(live_server, browser, demo):
    """Prepared before its window opens, the dose shows its form when the window opens."""
    resident = demo["resident"]
    now = timezone.now()
    later = timezone.localtime(now + timedelta(hours=2), resident.facility.tz)
    order = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Laterol", strength="1 mg"),
        times=[later.time().replace(second=0, microsecond=0)],
        start_date=(now - timedelta(days=2)).date(),
        active_since=now - timedelta(days=1),
        verified_at=now - timedelta(days=1),
    )
    from mar import services

    services.doses_generate(now=now)
    dose = ScheduledDose.objects.get(
        prescription=order, window_opens_at__gt=now, window_opens_at__lt=now + timedelta(hours=3)
    )
    context, page = _cart(browser)
    context.clock.install(time=now)
    _prepare(page, live_server, resident)
    context.set_offline(True)
    page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
    card = page.locator(f"#dose-{dose.pk}")
    assert "Not yet" in card.inner_text()
    assert not card.get_by_role("button", name="Given", exact=True).is_visible()

    page.clock.fast_forward(int((dose.window_opens_at - now).total_seconds() * 1000) + 60_000)
    card.get_by_role("button", name="Given", exact=True).click()
    _waiting(page, 1)
    assert "Laterol" in card.inner_text()
    context.close()
