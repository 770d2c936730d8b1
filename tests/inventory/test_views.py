"""The stock pages as nurses and med techs use them."""

from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from inventory import services
from inventory.models import MovementKind, StockItem, StockMovement
from mar import services as mar_services
from mar.models import Alert, AlertKind
from tests.factories import PASSWORD, MedicationFactory, PrescriptionFactory, member


def test_receive_page_flags_a_soon_expiring_lot(nurse_client, resident):
    med = MedicationFactory(name="Metformin")
    soon = (timezone.now() + timedelta(days=10)).date().isoformat()
    response = nurse_client.post(
        reverse("stock_receive"),
        {"resident": resident.pk, "medication": med.pk, "quantity": "60", "expiry": soon},
        follow=True,
    )
    page = response.content.decode()
    assert "Received 60 tablets of Metformin" in page and "on hand now 60 tablets." in page
    assert "This lot expires soon" in page
    assert StockItem.objects.get().on_hand == Decimal("60")


def test_receive_page_refuses_an_expired_lot_beside_the_field(nurse_client, resident):
    med = MedicationFactory()
    response = nurse_client.post(
        reverse("stock_receive"),
        {"resident": resident.pk, "medication": med.pk, "quantity": "5", "expiry": "2020-01-01"},
    )
    assert response.status_code == 200
    assert "expired on 2020-01-01" in response.content.decode()
    assert not StockMovement.objects.exists()


def test_shift_count_finding_one_missing_alerts_the_nurse_with_movements(
    medtech_client, nurse_client, nurse_user, facility, unit, resident
):
    oxy = MedicationFactory(name="Oxycodone", controlled_schedule="II")
    item = services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=oxy,
        quantity="20",
        lot="OX7",
    ).movement.item
    page = medtech_client.get(reverse("count_unit", args=[unit.pk])).content.decode()
    assert "Oxycodone" in page and "20 tablets" in page
    response = medtech_client.post(
        reverse("count_unit", args=[unit.pk]),
        {f"item_{item.pk}": "19", "incoming_username": "nurse1", "incoming_secret": PASSWORD},
        follow=True,
    )
    page = response.content.decode()
    assert "The count differs from the ledger" in page
    assert "Movements since the last count that matched" in page
    assert "Received" in page
    alerts = nurse_client.get(reverse("alert_list")).content.decode()
    assert "Count discrepancy" in alerts and "ledger 20, counted 19" in alerts
    alert = Alert.objects.get(kind=AlertKind.COUNT_DISCREPANCY)
    assert alert.subject_url in alerts


def test_count_without_the_incoming_signature_changes_nothing(
    medtech_client, nurse_user, facility, unit, resident
):
    item = services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(controlled_schedule="IV"),
        quantity="10",
        lot="L",
    ).movement.item
    response = medtech_client.post(
        reverse("count_unit", args=[unit.pk]),
        {f"item_{item.pk}": "10", "incoming_username": "", "incoming_secret": ""},
    )
    assert "must enter their username" in response.content.decode()
    assert not item.count_lines.exists()


def test_no_stock_on_hand_is_said_before_the_med_tech_tries(
    medtech_user, medtech_client, nurse_user, facility, resident
):
    from tests.factories import CertificationFactory

    CertificationFactory(user=medtech_user)
    now = timezone.now()
    order = PrescriptionFactory(
        resident=resident,
        times=[timezone.localtime(now, facility.tz).time().replace(second=0, microsecond=0)],
        start_date=date(2026, 1, 1),
    )
    StockItem.objects.create(
        facility=facility, resident=resident, medication=order.medication, reorder_days=7
    )
    mar_services.doses_generate(now=now)
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "No stock on hand" in page
    assert 'value="given"' not in page
    assert 'value="not_available"' in page


def test_reorder_list_marks_ordered(nurse_client, nurse_user, facility, resident):
    order = PrescriptionFactory(resident=resident)  # 2 tablets a day
    item = services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=order.medication,
        quantity="6",
    ).movement.item
    page = nurse_client.get(reverse("reorder_list")).content.decode()
    assert "3</strong> days" in page and "Not ordered" in page
    nurse_client.post(reverse("stock_mark_ordered", args=[item.pk]))
    page = nurse_client.get(reverse("reorder_list")).content.decode()
    assert "Ordered " in page


def test_waste_page_needs_a_witness(medtech_client, nurse_user, facility, resident):
    item = services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(controlled_schedule="II"),
        quantity="10",
        lot="L2",
    ).movement.item
    url = reverse("stock_waste", args=[item.pk])
    bad = medtech_client.post(
        url,
        {"quantity": "1", "reason": "Dropped", "witness_username": "nurse1", "witness_secret": "x"},
    )
    assert "not right for this facility" in bad.content.decode()
    good = medtech_client.post(
        url,
        {
            "quantity": "1",
            "reason": "Dropped",
            "witness_username": "nurse1",
            "witness_secret": PASSWORD,
        },
        follow=True,
    )
    assert "Waste recorded." in good.content.decode()
    movement = item.movements.get(kind=MovementKind.WASTED)
    assert movement.witness.username == "nurse1" and movement.balance_after == Decimal("9")


def test_controlled_log_is_the_ledger_with_signatures(
    medtech_client, nurse_user, facility, resident
):
    witness = member(facility, Role.MED_TECH, first_name="Wendy", last_name="Witness")
    item = services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(controlled_schedule="II"),
        quantity="10",
        lot="LOT9",
    ).movement.item
    services.stock_waste(
        actor=nurse_user,
        item=item,
        quantity="0.5",
        reason="Half tablet",
        witness_username=witness.username,
        witness_secret=PASSWORD,
    )
    page = medtech_client.get(reverse("stock_item", args=[item.pk])).content.decode()
    assert "LOT9" in page and "Wendy Witness" in page and "<strong>9.5</strong>" in page


def test_stock_list_pages_and_finds_by_resident_or_medication(nurse_client, facility, nurse_user):
    from tests.factories import ResidentFactory

    ann = ResidentFactory(facility=facility, first_name="Ann", last_name="Zeller")
    for i in range(55):
        services.stock_receive(
            actor=nurse_user,
            facility=facility,
            resident=ann,
            medication=MedicationFactory(name=f"Med{i:02d}"),
            quantity="10",
        )
    services.stock_receive(
        actor=nurse_user,
        facility=facility,
        medication=MedicationFactory(name="Warfarin"),
        quantity="10",
    )

    first = nurse_client.get(reverse("stock_list")).content.decode()
    assert "Page 1 of 2 (56 in all)" in first
    assert "Med00" in first and "Med54" not in first
    second = nurse_client.get(reverse("stock_list"), {"page": 2}).content.decode()
    assert "Med54" in second and "House stock" in second  # house stock comes last

    found = nurse_client.get(reverse("stock_list"), {"q": "warf"}).content.decode()
    assert "Warfarin" in found and "Med00" not in found and "Page 1 of" not in found
    by_name = nurse_client.get(reverse("stock_list"), {"q": "zell med5"}).content.decode()
    assert "Med50" in by_name and "Med49" not in by_name
    none = nurse_client.get(reverse("stock_list"), {"q": "nothing-like-it"}).content.decode()
    assert "No stock matches “nothing-like-it”." in none
