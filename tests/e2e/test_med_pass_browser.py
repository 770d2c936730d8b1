"""The med pass in a real browser: the demo med tech logs in and documents a resident's doses.

Runs Debian's Chromium through Playwright against pytest-django's live server. Screenshots of
every step are saved under artifacts/e2e/ (git-ignored) for the README and for debugging.
"""

import pytest

from mar.models import Administration, AdminStatus
from residents.models import AllergyStatus
from tests.e2e.conftest import CHROMIUM, DEMO_PASSWORD
from tests.e2e.conftest import shot as _shot

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def test_medtech_documents_a_med_pass_in_the_browser(live_server, browser_page, demo):
    page = browser_page
    resident, (given_dose, refused_dose), prn = demo["resident"], demo["doses"], demo["prn"]
    records = Administration.objects.filter(resident=resident)
    before = records.count()

    # Log in as the demo med tech: the med pass board is the home page.
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "medtech")
    page.fill("input[name=password]", DEMO_PASSWORD)
    _shot(page, "01-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/medpass/")
    board_name = f"{resident.last_name}, {resident.first_name}"
    assert page.get_by_role("heading", name="Med pass", exact=True).is_visible()
    row = page.locator(f"a.board-row[href='/medpass/residents/{resident.pk}/']")
    assert board_name in row.inner_text()
    assert "DUE" in row.inner_text() and "Zentrafil" in row.inner_text()
    _shot(page, "02-board")

    # The resident's page: allergy banner and the two doses due now.
    row.click()
    page.wait_for_url(f"**/medpass/residents/{resident.pk}/")
    banner = page.locator("div.banner[role=note]").first.inner_text()
    if resident.allergy_status == AllergyStatus.NKDA:
        assert "NKDA" in banner
    else:
        assert banner.startswith("Allergies:")
        assert resident.allergies.first().substance in banner
    given_card = page.locator(f"#dose-{given_dose.pk}")
    refused_card = page.locator(f"#dose-{refused_dose.pk}")
    assert "Zentrafil 5 mg" in given_card.inner_text()
    assert "Quorvanex 5 mg" in refused_card.inner_text()
    _shot(page, "03-resident")

    # "Given": recorded, confirmed, and listed as documented.
    # htmx swaps the page's content in place: the address stays the resident's page.
    given_card.get_by_role("button", name="Given", exact=True).click()
    page.locator("ul.messages li.success", has_text="Given: Zentrafil 5 mg").wait_for()
    assert page.url.endswith(f"/medpass/residents/{resident.pk}/")
    documented = page.locator("h2#documented + table")
    assert "Zentrafil" in documented.inner_text()
    assert page.locator(f"#dose-{given_dose.pk}").count() == 0
    assert records.count() == before + 1
    assert records.get(dose=given_dose).status == AdminStatus.GIVEN
    _shot(page, "04-given")

    # "Refused" without a reason: the card says what is missing and nothing is recorded.
    refused_card.get_by_role("button", name="Refused", exact=True).click()
    error = page.locator(f"#dose-{refused_dose.pk} p.errorlist")
    error.wait_for()
    assert error.inner_text() == "Enter the reason the dose was refused."
    assert records.count() == before + 1
    _shot(page, "05-refused-without-reason")

    # With a reason: recorded as refused and listed with the reason.
    page.fill(f"#r-{refused_dose.pk}", "Resident declined, said it upsets her stomach")
    page.locator(f"#dose-{refused_dose.pk}").get_by_role("button", name="Refused").click()
    page.locator("ul.messages li.success", has_text="Refused: Quorvanex 5 mg").wait_for()
    refused_row = documented.locator("tr", has_text="Quorvanex")
    assert "Refused: Resident declined, said it upsets her stomach" in refused_row.inner_text()
    refusal = records.get(dose=refused_dose)
    assert refusal.status == AdminStatus.REFUSED
    assert refusal.reason == "Resident declined, said it upsets her stomach"
    assert records.count() == before + 2
    _shot(page, "06-refused")

    # The PRN, given with its reason.
    prn_card = page.locator(f"#prn-{prn.pk}")
    assert "May be given now" in prn_card.inner_text()
    page.fill(f"#prn-reason-{prn.pk}", "Headache, pain 5/10")
    prn_card.get_by_role("button", name="Give PRN").click()
    page.locator("ul.messages li.success", has_text="Painaway").wait_for()
    message = page.locator("ul.messages li.success").inner_text()
    assert "Given: Painaway 500 mg" in message and "Follow up on its effect" in message
    assert "Next allowed at" in prn_card.inner_text()
    assert records.filter(prescription=prn, status=AdminStatus.GIVEN).count() == 1
    _shot(page, "07-prn-given")

    # At once again: blocked by the 4-hour minimum interval, nothing recorded. The button is
    # only aria-disabled (the server is the guard), so the click is forced as a user's would be.
    page.fill(f"#prn-reason-{prn.pk}", "Still hurts")
    prn_card.get_by_role("button", name="Give PRN").click(force=True)
    blocked = page.locator(f"#prn-{prn.pk} p.errorlist")
    blocked.wait_for()
    assert "Not yet" in blocked.inner_text() and "Next allowed at" in blocked.inner_text()
    assert records.filter(prescription=prn).count() == 1
    assert records.count() == before + 3
    _shot(page, "08-prn-blocked")
