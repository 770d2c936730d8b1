"""The med pass on the med cart's 1024x768 screen, in Chromium: one header row, "my residents",
the first due dose visible without scrolling, a refused submit kept at its card (in place with
JavaScript, by POST/redirect/GET without), and what was documented in the last 12 hours.

Screenshots go to artifacts/e2e/ (git-ignored).
"""

import pytest

from mar.models import Administration, AdminStatus
from meds.models import Comparator, HoldParameter
from residents.models import Cart, ShiftAssignment
from tests.e2e.conftest import CHROMIUM, login, shot
from vitals.models import VitalSign

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

CART = {"width": 1024, "height": 768}


def _take_resident_for_the_shift(page, resident) -> None:
    """From the board: "change" → my residents → tick the resident → save (the board then
    passes "my residents")."""
    page.get_by_role("link", name="change").click()
    page.get_by_role("link", name="Take residents for a shift (my residents)").click()
    page.check(f"#as-r-{resident.pk}")
    page.get_by_role("button", name="Save my residents").click()
    page.wait_for_url("**/medpass/")


def test_med_tech_passes_my_residents_on_the_cart_screen(live_server, cart_page, demo):
    page = cart_page
    resident, (held_dose, refused_dose) = demo["resident"], demo["doses"]
    # The first dose is held by its vitals: the card asks for the pulse.
    HoldParameter.objects.create(
        prescription=held_dose.prescription,
        vital=VitalSign.PULSE,
        comparator=Comparator.LT,
        threshold=60,
    )
    # The demo gives Maple Grove its carts and `medtech` a cart's residents for this shift.
    maple = resident.facility
    assert sorted(Cart.objects.filter(facility=maple).values_list("name", flat=True)) == [
        "North Wing cart 1",
        "North Wing cart 2",
        "South Wing cart",
    ]
    assert ShiftAssignment.objects.filter(facility=maple, med_tech__username="medtech").exists()
    login(page, live_server, "medtech")
    page.wait_for_url("**/medpass/")

    # The header is one row at 1024 px.
    header = page.locator("header.top").bounding_box()
    assert header["width"] <= 1024 and header["height"] <= 60, header
    tops = {
        round(box["y"])
        for box in (a.bounding_box() for a in page.locator("header.top nav a").all())
    }
    assert len(tops) == 1, tops

    # "My residents": the med tech takes the resident for this shift; the board says so.
    _take_resident_for_the_shift(page, resident)
    passing = page.locator("p.passing").first.inner_text()
    assert passing.startswith("Passing: My residents, ") and "shift" in passing
    row = page.locator(f"a.board-row[href='/medpass/residents/{resident.pk}/']")
    assert f"{resident.last_name}, {resident.first_name}" in row.inner_text()
    shot(page, "cart-01-board-my-residents")

    # The resident: the first due dose is whole on screen without scrolling.
    row.click()
    page.wait_for_url(f"**/medpass/residents/{resident.pk}/")
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("p.passing").inner_text().startswith("Passing: My residents, ")
    first = page.locator("h2#open ~ article.dose").first
    box = first.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= CART["height"], box
    band = page.locator("section.resident-band").inner_text()
    assert resident.room in band and "Code status" in band
    shot(page, "cart-02-resident")

    # A refused submit: "Other" without a code. The card says so beside the code, keeps the
    # reason typed, and the address stays the page's.
    url = page.url
    card = page.locator(f"#dose-{refused_dose.pk}")
    page.fill(f"#r-{refused_dose.pk}", "Resident at the hairdresser")
    card.get_by_role("button", name="Other", exact=True).click()
    error = page.locator(f"#dose-{refused_dose.pk} p.errorlist")
    error.wait_for()
    assert error.inner_text() == "Choose a code for “other”."
    assert page.input_value(f"#r-{refused_dose.pk}") == "Resident at the hairdresser"
    assert page.url == url
    assert not Administration.objects.filter(dose=refused_dose).exists()
    shot(page, "cart-03-refused-in-place")

    # Then refused with that reason: recorded, the message on top, the address the page's.
    page.locator(f"#dose-{refused_dose.pk}").get_by_role("button", name="Refused").click()
    message = page.locator("ul.messages li.success")
    message.wait_for()
    assert "Refused: Quorvanex 5 mg" in message.inner_text()
    assert page.url == url
    assert Administration.objects.get(dose=refused_dose).status == AdminStatus.REFUSED

    # The dose held by its vitals: pulse 52, "Given" is recorded as held, with the reading.
    page.fill(f"#v-{held_dose.pk}-pulse", "52")
    page.locator(f"#dose-{held_dose.pk}").get_by_role("button", name="Given").click()
    page.locator("ul.messages li.warning").wait_for()
    assert Administration.objects.get(dose=held_dose).status == AdminStatus.HELD

    # Documented in the last 12 hours: which scheduled time each filled; the hold said once.
    documented = page.locator("h2#documented + table")
    due = held_dose.due_at.astimezone(resident.facility.tz).strftime("%H:%M")
    held_row = documented.locator("tr", has_text="Zentrafil").inner_text()
    assert f"for the {due} dose" in held_row
    assert held_row.count("Hold if Pulse") == 1
    refused_row = documented.locator("tr", has_text="Quorvanex").inner_text()
    assert "Refused: Resident at the hairdresser" in refused_row
    shot(page, "cart-04-documented")


def test_without_javascript_a_refused_submit_lands_at_its_card(live_server, cart_page, demo):
    resident, (dose, _) = demo["resident"], demo["doses"]
    context = cart_page.context.browser.new_context(java_script_enabled=False, viewport=CART)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, live_server, "medtech")
        page.goto(f"{live_server.url}/medpass/residents/{resident.pk}/")
        page.fill(f"#r-{dose.pk}", "Asleep after a bad night")
        page.locator(f"#dose-{dose.pk}").get_by_role("button", name="Other", exact=True).click()
        page.wait_for_load_state()

        # POST/redirect/GET: the page at the card, its message and the typed reason there.
        assert page.url.endswith(f"/medpass/residents/{resident.pk}/#dose-{dose.pk}")
        assert (
            page.locator(f"#dose-{dose.pk} p.errorlist").inner_text()
            == "Choose a code for “other”."
        )
        assert page.input_value(f"#r-{dose.pk}") == "Asleep after a bad night"
        shot(page, "cart-05-no-javascript-refused")

        # Reloading is a GET: nothing is sent again, and the refusal was for that GET only.
        page.reload()
        assert page.locator(f"#dose-{dose.pk} p.errorlist").count() == 0
        assert not Administration.objects.filter(dose=dose).exists()
    finally:
        context.close()
