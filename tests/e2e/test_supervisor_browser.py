"""The supervisor's day in a real browser: the nurse's home, the triaged inbox with one note for
several alerts, the allergy removal that asks first, and the verify step that shows the order.

Screenshots under artifacts/e2e/ (git-ignored).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from mar import services
from mar.models import Alert, AlertKind, AlertSeverity, AlertState
from meds.models import Medication, OrderStatus, Prescription
from residents.models import Allergy, AllergyStatus, Resident
from tests.e2e.conftest import CHROMIUM, login, shot
from tests.factories import PrescriptionFactory, scheduled_dose

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _overdue_warfarin(resident) -> Alert:
    """A warfarin dose of the demo resident whose window closed an hour ago, swept."""
    now = timezone.now()
    order = PrescriptionFactory(
        resident=resident,
        medication=Medication.objects.get(name="Warfarin"),
        times=[timezone.localtime(now, resident.facility.tz).time().replace(second=0)],
        start_date=(now - timedelta(days=2)).date(),
        active_since=now - timedelta(days=1),
    )
    due = now - timedelta(hours=2)
    dose = scheduled_dose(order, due)
    services.doses_mark_overdue(now=now)
    return Alert.objects.get(dose=dose)


def test_the_nurses_home_shows_each_section_with_links_that_work(live_server, browser_page, demo):
    page = browser_page
    login(page, live_server, "nurse")
    assert page.url == f"{live_server.url}/"
    for title in (
        "Open alerts",
        "Doses overdue now",
        "Orders waiting for verification",
        "Controlled counts due",
        "Certifications expiring",
    ):
        assert page.get_by_role("heading", name=title).is_visible(), title
    shot(page, "supervisor-01-home")
    links = page.locator(".home-sections a").evaluate_all("els => els.map(e => e.href)")
    assert len(links) >= 8
    for href in sorted(set(links)):
        response = page.goto(href)
        assert response.ok, href
        assert "Server Error" not in page.content()


def test_the_inbox_ranks_warfarin_first_groups_by_resident_and_acknowledges_with_one_note(
    live_server, browser_page, demo
):
    page = browser_page
    resident = demo["resident"]
    warfarin = _overdue_warfarin(resident)
    assert warfarin.severity == AlertSeverity.URGENT
    assert Alert.objects.filter(
        facility=resident.facility, kind=AlertKind.LOW_SUPPLY, state=AlertState.OPEN
    ).exists()

    login(page, live_server, "nurse")
    # One list: the overdue high-alert dose ranks above every low supply.
    page.goto(f"{live_server.url}/alerts/?group=none")
    rows = page.locator("table.alert-rows tbody tr").all_inner_texts()
    first_warfarin = next(i for i, text in enumerate(rows) if "Warfarin" in text)
    # Later in the morning the demo's overdue doses fill the first page: a low supply past it
    # ranks below every row on it.
    first_supply = next((i for i, text in enumerate(rows) if "Low supply" in text), len(rows))
    assert first_warfarin < first_supply
    assert "Anticoagulant — high-alert medication" in rows[first_warfarin]
    assert "Urgent" in rows[first_warfarin]
    shot(page, "supervisor-02-inbox-list")

    # By resident: the resident's group names its counts, and the whole group is ticked at once.
    page.get_by_role("link", name="By resident").click()
    group = page.locator("section.alert-group", has_text=resident.display_name).first
    # The demo's own doses may be overdue too, by the hour the test runs: the group counts
    # every open overdue-dose alert of the resident, the warfarin among them.
    overdue = Alert.objects.filter(
        resident=resident, kind=AlertKind.OVERDUE_DOSE, state=AlertState.OPEN
    ).count()
    assert overdue >= 1
    words = f"{overdue} overdue dose{'s' if overdue != 1 else ''}"
    assert words in group.locator(".group-summary").inner_text()
    open_ids = [
        int(pk) for pk in group.locator(".tick-group input").get_attribute("value").split(",")
    ]
    assert warfarin.pk in open_ids
    group.locator("summary").click()
    assert "Warfarin" in group.locator("table.alert-rows").inner_text()
    shot(page, "supervisor-03-inbox-grouped")

    # Without a note: refused beside the note, nothing changes.
    group.locator(".tick-group input").check()
    page.get_by_role("button", name="Acknowledge the ticked alerts").click()
    page.wait_for_load_state()
    assert "Write one note" in page.locator("#note-errors").inner_text()
    assert Alert.objects.filter(pk__in=open_ids, state=AlertState.OPEN).count() == len(open_ids)

    # With one note: every alert of the group acknowledged with it, by the nurse.
    page.locator("section.alert-group", has_text=resident.display_name).first.locator(
        ".tick-group input"
    ).check()
    page.fill("#id_note", "Called the pharmacy and the resident's physician")
    page.get_by_role("button", name="Acknowledge the ticked alerts").click()
    page.wait_for_load_state()
    assert f"{len(open_ids)} alert" in page.locator("ul.messages li.success").inner_text()
    nurse = User.objects.get(username="nurse")
    acknowledged = Alert.objects.filter(pk__in=open_ids)
    assert {(a.state, a.acknowledged_by_id, a.acknowledgement_note) for a in acknowledged} == {
        (AlertState.ACKNOWLEDGED, nurse.pk, "Called the pharmacy and the resident's physician")
    }
    shot(page, "supervisor-04-inbox-acknowledged")


def test_removing_an_allergy_asks_first(live_server, browser_page, demo):
    page = browser_page
    allergy = Allergy.objects.filter(
        resident__facility__name="Maple Grove Assisted Living",
        resident__allergy_status=AllergyStatus.RECORDED,
    ).first()
    resident = allergy.resident
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/residents/{resident.pk}/")
    page.get_by_role("link", name="Remove (entered in error)…").first.click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1).inner_text()
    first = resident.allergies.order_by("substance").first()
    assert heading == f"Remove the allergy to {first.substance} from {resident.display_name}?"
    assert Allergy.objects.filter(pk=first.pk).exists()  # nothing changed yet
    shot(page, "supervisor-05-allergy-confirm")

    page.get_by_role("button", name=f"Remove the allergy to {first.substance}").click()
    page.wait_for_load_state()
    assert f"Allergy to {first.substance} removed" in page.locator("ul.messages").inner_text()
    assert not Allergy.objects.filter(pk=first.pk).exists()


def test_the_verify_step_shows_the_order_with_allergies_and_next_doses(
    live_server, browser_page, demo
):
    page = browser_page
    resident = Resident.objects.filter(
        facility__name="Maple Grove Assisted Living", allergy_status=AllergyStatus.RECORDED
    ).first()
    allergy = resident.allergies.first()
    order = PrescriptionFactory(
        resident=resident,
        medication=Medication.objects.get(name="Metformin"),
        status=OrderStatus.PENDING,
        entered_by=User.objects.get(username="admin"),
        verified_by=None,
        verified_at=None,
        active_since=None,
        start_date=timezone.now().date(),
    )
    login(page, live_server, "nurse")
    assert page.locator("header nav").get_by_role("link", name="Verify").is_visible()
    page.goto(f"{live_server.url}/orders/verify/")
    page.locator("tr", has_text=resident.display_name).get_by_role(
        "link", name="Review and verify"
    ).first.click()
    page.wait_for_url(f"**/orders/{order.pk}/verify/")
    content = page.locator("main").inner_text()
    assert f"Verify: {order.medication} for {resident.display_name}" in content
    assert "08:00 and 20:00, every day" in content
    assert "Dr. Hayes" in content
    assert allergy.substance in page.locator("#verify-allergies + *").inner_text()
    doses = page.locator("ul[aria-labelledby=verify-doses] li").all_inner_texts()
    assert len(doses) == 5 and all(d.endswith(("08:00", "20:00")) for d in doses)
    assert Prescription.objects.get(pk=order.pk).status == OrderStatus.PENDING
    shot(page, "supervisor-06-verify")

    page.get_by_role("button", name="Verify this order").click()
    page.wait_for_url("**/orders/verify/")
    assert f"{order.medication} for {resident.display_name} verified" in page.content()
    assert Prescription.objects.get(pk=order.pk).status == OrderStatus.ACTIVE
