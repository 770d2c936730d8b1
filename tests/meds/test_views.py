"""Order pages as nurses and med techs use them."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from mar.models import DoseState, ScheduledDose
from mar.services import doses_generate
from meds.models import OrderStatus, Prescription
from residents import services as resident_services
from tests.factories import MedicationFactory, PrescriptionFactory, member


def _client(user):
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


def _order_form(medication, **overrides):
    data = {
        "medication": medication.pk,
        "dose_amount": "1",
        "dose_unit": "tablet",
        "route": "oral",
        "prescriber": "Dr. Hayes",
        "start_date": "2026-01-01",
        "is_prn": "false",
        "times": "8:00 and 20:00".replace(" and ", ", "),
        "recurrence": "daily",
    }
    data.update(overrides)
    return data


def test_nurse_enters_another_verifies_and_doses_appear(resident, admin_user, facility):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    med = MedicationFactory(name="Metoprolol", strength="25 mg")
    first, second = member(facility, Role.NURSE), member(facility, Role.NURSE)

    response = _client(first).post(
        reverse("order_create", args=[resident.pk]),
        _order_form(med, hold_0_vital="pulse", hold_0_comparator="lt", hold_0_threshold="60"),
    )
    order = Prescription.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("order_detail", args=[order.pk])
    assert order.status == OrderStatus.PENDING
    assert str(order.hold_parameters.get()) == "Hold if Pulse below 60 /min"

    queue = _client(second).get(reverse("verification_queue"))
    assert "Metoprolol" in queue.content.decode()
    response = _client(second).post(reverse("order_verify", args=[order.pk]), follow=True)
    assert response.redirect_chain
    # The message names the medication and the resident, never an id.
    assert "Metoprolol 25 mg" in response.content.decode()
    assert f"Order #{order.pk}" not in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE

    doses_generate()  # what the beat does within 15 minutes
    page = _client(first).get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "08:00 and 20:00, every day" in page
    assert page.count('badge info">Due<') >= 3


def test_allergy_warning_asks_for_an_override_on_the_form(resident, admin_user, nurse_client):
    resident_services.allergy_add(actor=admin_user, resident=resident, substance="Sulfa")
    med = MedicationFactory(name="Sulfamethoxazole", generic_name="sulfamethoxazole")
    response = nurse_client.post(reverse("order_create", args=[resident.pk]), _order_form(med))
    assert response.status_code == 200
    assert "ALLERGY" in response.content.decode()
    assert not Prescription.objects.exists()
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]),
        _order_form(med, allergy_override_reason="Physician confirmed: tolerated before"),
    )
    assert response.status_code == 302
    assert Prescription.objects.get().allergy_override_reason.startswith("Physician confirmed")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"times": "25:00"}, "is not a time of day"),
        ({"times": "soon"}, "is not a time"),
        ({"times": ""}, "at least one dose time"),
        ({"recurrence": "month_days", "month_days": "0, 40"}, "not a day of the month"),
        ({"dose_amount": "-1"}, "greater than or equal to"),
        ({"hold_0_vital": "pulse"}, "Fill in the vital sign"),
    ],
)
def test_bad_order_input_is_explained_and_nothing_saved(
    resident, admin_user, nurse_client, overrides, message
):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]), _order_form(MedicationFactory(), **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Prescription.objects.exists()


def test_schedule_builder_reads_naturally(resident, admin_user, nurse_client):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    nurse_client.post(
        reverse("order_create", args=[resident.pk]),
        _order_form(
            MedicationFactory(), times="9am", recurrence="weekdays", weekdays=["1", "3", "5"]
        ),
    )
    nurse_client.post(
        reverse("order_create", args=[resident.pk]),
        _order_form(
            MedicationFactory(),
            is_prn="true",
            times="",
            indication="Pain",
            prn_min_hours="4",
            prn_max_per_24h="4",
        ),
    )
    texts = {order.schedule_text for order in Prescription.objects.all()}
    assert texts == {"09:00 on Mon, Wed, Fri", "PRN every 4 h, max 4 in 24 h"}


# 16:00 in New York: more than the generator's 6-hour look-back after the 08:00 dose, so no
# earlier dose is still open (one would stay "due" until the sweep, whatever the order says).
@time_machine.travel(datetime(2026, 6, 10, 20, 0, tzinfo=UTC), tick=False)
def test_discontinue_from_the_page_removes_future_doses(resident, nurse_client):
    order = PrescriptionFactory(resident=resident)
    doses_generate()
    response = nurse_client.post(
        reverse("order_discontinue", args=[order.pk]), {"reason": "Physician stopped it"}
    )
    assert response.status_code == 302
    page = nurse_client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'badge info">Due<' not in page
    assert not ScheduledDose.objects.filter(prescription=order, state=DoseState.DUE).exists()


def test_change_prefills_and_replaces_in_one_step(resident, admin_user, nurse_client):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    order = PrescriptionFactory(resident=resident)
    form = nurse_client.get(reverse("order_change", args=[order.pk])).content.decode()
    assert 'value="08:00, 20:00"' in form
    response = nurse_client.post(
        reverse("order_change", args=[order.pk]),
        _order_form(order.medication, times="08:00", change_reason="Evening dose stopped"),
        follow=True,
    )
    assert f"The {order.medication} order for {resident.display_name} is discontinued" in (
        response.content.decode()
    )
    new = Prescription.objects.get(replaces=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.DISCONTINUED
    assert new.times[0].hour == 8 and len(new.times) == 1


def test_med_tech_reads_orders_but_cannot_write(resident, medtech_client):
    order = PrescriptionFactory(resident=resident)
    assert medtech_client.get(reverse("resident_orders", args=[resident.pk])).status_code == 200
    page = medtech_client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "Discontinue" not in page
    response = medtech_client.post(reverse("order_discontinue", args=[order.pk]), {"reason": "x"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
