"""The issue's appointment flow in a real browser, as a new user would: the med tech books
tomorrow's cardiology appointment with the facility van; the nurse's home flags it until the
transport is booked; on return the outcome adds a changed order that waits for verification.

Screenshots under artifacts/e2e/ (git-ignored).
"""

import pytest

from appointments.models import Appointment, AppointmentOrder
from meds.models import OrderStatus, Prescription
from tests.e2e.conftest import CHROMIUM, login, shot

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _home_line(page, provider: str):
    return page.locator(".home-section li", has_text=provider)


def test_book_flag_transport_and_an_outcome_with_a_changed_order(live_server, browser_page, demo):
    page = browser_page
    resident = demo["resident"]
    login(page, live_server, "medtech")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")
    page.get_by_role("link", name="Appointments").last.click()
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Provider (doctor or clinic)").fill("Dr. Vera Heart")
    page.get_by_label("Specialty").fill("Cardiology")
    page.get_by_label("Purpose").fill("Stress test review")
    page.locator("select[name=transport]").select_option("van")
    page.get_by_role("button", name="Book").click()
    assert page.get_by_text("Transport not booked").first.is_visible()
    shot(page, "appointments-01-booked")
    appointment = Appointment.objects.get(provider_name="Dr. Vera Heart")
    assert appointment.transport == "van" and not appointment.transport_booked
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "nurse")
    line = _home_line(page, "Dr. Vera Heart")
    assert "Transport not booked" in line.inner_text()
    shot(page, "appointments-02-home-flag")
    line.get_by_role("link").click()
    page.get_by_role("button", name="Transport booked").click()
    page.goto(f"{live_server.url}/")
    assert "Transport booked" in _home_line(page, "Dr. Vera Heart").inner_text()

    # The demo's eye visit is back, its outcome not recorded: the nurse records it with a
    # changed order.
    back = Appointment.objects.get(state="back")
    old = Prescription.objects.filter(
        resident=back.resident, status=OrderStatus.ACTIVE, is_prn=False
    ).first()
    page.goto(f"{live_server.url}/appointments/{back.pk}/")
    page.get_by_label("Was the resident seen?").select_option("seen")
    page.get_by_label("What the provider said (or why not seen)").fill(
        "Pressure up a little; twice a day from now on."
    )
    page.get_by_label("Orders from the appointment").select_option("change")
    page.get_by_label("The order it changes").select_option(str(old.pk))
    page.locator("select[name=medication]").select_option(str(old.medication_id))
    page.get_by_label("Dose amount").fill("1")
    page.get_by_label("Route").select_option("oral")
    page.get_by_label("Dose times").fill("08:00, 20:00")
    page.get_by_label("Allergy override reason (only if warned)").fill("Checked with Dr. Park")
    page.get_by_role("button", name="Record the outcome and close").click()
    assert page.get_by_text("Outcome recorded").is_visible()
    shot(page, "appointments-03-outcome")
    new = AppointmentOrder.objects.get(appointment=back).prescription
    assert new.status == OrderStatus.PENDING and new.replaces_id == old.pk
    page.goto(f"{live_server.url}/orders/verify/")
    assert str(new.medication.name) in page.content()
