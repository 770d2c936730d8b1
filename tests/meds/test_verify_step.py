"""Verifying an order is a step that shows the order in full before the nurse confirms it."""

from datetime import UTC, date, datetime, time, timedelta

from django.urls import reverse

from meds.models import HoldParameter, OrderStatus
from residents.models import AllergyStatus
from tests.factories import AllergyFactory, MedicationFactory, PrescriptionFactory


def _pending(resident, entered_by, **fields):
    return PrescriptionFactory(
        resident=resident,
        status=OrderStatus.PENDING,
        entered_by=entered_by,
        verified_by=None,
        verified_at=None,
        active_since=None,
        **fields,
    )


def test_the_verify_step_shows_the_order_allergies_and_next_doses(
    nurse_client, admin_user, resident
):
    tomorrow = resident.facility.local_today() + timedelta(days=1)
    AllergyFactory(resident=resident, recorded_by=admin_user, substance="Sulfa", reaction="rash")
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save(update_fields=["allergy_status"])
    order = _pending(
        resident,
        admin_user,
        medication=MedicationFactory(name="Warfarin", strength="5 mg", high_alert="anticoagulant"),
        times=[time(8), time(20)],
        start_date=tomorrow,
        prescriber="Dr. Hayes",
        instructions="Check INR weekly",
        allergy_override_reason="Reaction was to sulfonamide antibiotics only",
    )
    HoldParameter.objects.create(prescription=order, vital="pulse", comparator="lt", threshold=50)
    order.__class__.objects.filter(pk=order.pk).update(
        entered_at=datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    )

    response = nurse_client.get(reverse("order_verify", args=[order.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Warfarin 5 mg tablet" in page
    assert "1 tablet by mouth" in page
    assert "08:00 and 20:00, every day" in page
    assert "Hold if Pulse below 50 /min" in page
    assert "Dr. Hayes" in page and "Check INR weekly" in page
    assert f"by {admin_user} at 2026-12-02 11:00" in page  # entered, in the facility's time
    assert "High-alert medication: anticoagulant." in page
    assert "Sulfa (rash)" in page
    assert "Reaction was to sulfonamide antibiotics only" in page
    # The next doses from the schedule, from its first day on, in the facility's time.
    first_day = tomorrow.strftime("%a %Y-%m-%d")
    assert f"{first_day} 08:00" in page and f"{first_day} 20:00" in page
    assert "Verify this order" in page
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # nothing changes on GET


def test_confirming_verifies_and_returns_to_the_queue(nurse_client, admin_user, resident):
    order = _pending(resident, admin_user, medication=MedicationFactory(name="Metoprolol"))
    response = nurse_client.post(reverse("order_verify", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("verification_queue")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE


def test_a_refused_verify_says_why_on_the_step(nurse_client, nurse_user, resident):
    order = _pending(resident, nurse_user)  # her own order: another nurse must verify
    response = nurse_client.post(reverse("order_verify", args=[order.pk]))
    assert response.status_code == 200
    assert "another nurse must verify it" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_the_queue_links_to_the_step_and_the_menu_counts_the_waiting(
    nurse_client, admin_user, resident
):
    orders = [_pending(resident, admin_user) for _ in range(2)]
    page = nurse_client.get(reverse("verification_queue")).content.decode()
    assert f'href="{reverse("order_verify", args=[orders[0].pk])}"' in page
    assert 'aria-label="2 waiting">2<' in page


def test_a_prn_order_shows_its_limits_and_no_scheduled_doses(nurse_client, admin_user, resident):
    order = _pending(
        resident,
        admin_user,
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=3,
        indication="Pain",
        start_date=date.today() - timedelta(days=1),
    )
    page = nurse_client.get(reverse("order_verify", args=[order.pk])).content.decode()
    assert "PRN every 4 h, max 3 in 24 h" in page
    assert "As needed (PRN): no scheduled doses." in page
