"""The order form's medication search in a real browser: a nurse types part of a name, the
matches appear as she types (htmx), she picks one with the keyboard, the dose unit and route
follow the medication, and the order is entered. Screenshots under artifacts/e2e/.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from meds.models import Medication, Prescription
from tests.e2e.conftest import CHROMIUM, login, shot

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

DATA = Path(settings.BASE_DIR) / "tests" / "data" / "ndc"


def test_a_nurse_finds_a_medication_by_part_of_its_name_and_orders_it(
    live_server, browser_page, demo
):
    call_command(
        "import_ndc", str(DATA / "product.txt"), str(DATA / "package.txt"), stdout=io.StringIO()
    )
    page = browser_page
    resident = demo["resident"]
    login(page, live_server, "nurse")
    page.goto(f"{live_server.url}/residents/{resident.pk}/orders/new/")

    search = page.get_by_role("searchbox", name="Medication")
    search.press_sequentially("clima", delay=40)
    choice = page.get_by_role("radio", name="Climara 0.05 mg/day")
    choice.wait_for()
    assert page.get_by_label("Dose unit").input_value() == ""
    shot(page, "order-form-01-matches")

    # The keyboard reaches the matches from the search box and picks one.
    choice.focus()
    page.keyboard.press("Space")
    assert choice.is_checked()
    assert page.get_by_label("Dose unit").input_value() == "patch"
    assert page.get_by_label("Route").input_value() == "transdermal"

    # Typing on narrows the list; what was chosen stays chosen.
    search.focus()
    page.keyboard.press("End")
    search.press_sequentially(" xyz", delay=40)
    page.get_by_text("Nothing matches “clima xyz”; the medication chosen").wait_for()
    assert page.get_by_role("radio", name="Climara 0.05 mg/day").is_checked()

    page.get_by_label("Dose amount").fill("1")
    page.get_by_label("Prescriber").fill("Dr. Hayes")
    page.get_by_label("Dose times").fill("09:00")
    shot(page, "order-form-02-chosen")
    page.get_by_role("button", name="Enter order").last.click()
    page.wait_for_load_state()
    order = Prescription.objects.filter(resident=resident).order_by("-pk").first()
    assert order.medication == Medication.objects.get(product_ndc="50419-451")
    assert (order.dose_unit, order.route) == ("patch", "transdermal")
    shot(page, "order-form-03-entered")
