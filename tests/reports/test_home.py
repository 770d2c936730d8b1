"""The supervisor's start of the shift: what needs a nurse or an administrator now."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CertificationKind, Role
from inventory import services as stock_services
from mar.models import Alert, AlertKind, AlertSeverity, DoseState
from meds.models import OrderStatus
from reports.home import age_in_words
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    UnitFactory,
    member,
    scheduled_dose,
)


@pytest.fixture
def shift(facility, unit, resident, admin_user, nurse_user):
    now = timezone.now()
    for severity, n in ((AlertSeverity.URGENT, 2), (AlertSeverity.INFO, 3)):
        for i in range(n):
            Alert.objects.create(
                facility=facility,
                resident=resident,
                kind=AlertKind.LOW_SUPPLY,
                subject=f"home:{severity}:{i}",
                severity=severity,
                message="Alert",
                created_at=now,
            )
    order = PrescriptionFactory(resident=resident, medication=MedicationFactory(name="Warfarin"))
    for hours in (3, 4):
        due = now - timedelta(hours=hours)
        scheduled_dose(order, due, state=DoseState.OVERDUE, window_minutes=0)
    pending = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Metoprolol", strength="25 mg"),
        status=OrderStatus.PENDING,
        entered_by=admin_user,
        verified_by=None,
        verified_at=None,
        active_since=None,
    )
    pending.__class__.objects.filter(pk=pending.pk).update(entered_at=now - timedelta(hours=3))
    stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(name="Lorazepam", controlled_schedule="IV"),
        quantity="20",
        lot="LZ1",
    )
    aide = member(facility, Role.MED_TECH, first_name="Mary", last_name="Aide")
    CertificationFactory(
        user=aide, kind=CertificationKind.MEDICATION_AIDE, expires=now.date() + timedelta(days=9)
    )
    return {"pending": pending}


def test_the_nurses_home_shows_what_needs_her_now(nurse_client, shift, unit, resident):
    page = nurse_client.get(reverse("home")).content.decode()

    assert "5 open alerts" in page
    assert f'href="{reverse("alert_list")}?severity=3"' in page and "2 alerts" in page
    assert "2 doses overdue" in page
    assert f"{unit.name}: 2 doses" in page
    assert f'href="{reverse("alert_list")}?kind=overdue_dose&amp;unit={unit.pk}"' in page
    assert "1 order waits" in page
    assert f"Metoprolol 25 mg tablet for {resident.display_name}" in page
    assert "entered 3 h ago by" in page
    assert f'href="{reverse("order_verify", args=[shift["pending"].pk])}"' in page
    assert "1 unit to count" in page and "never counted" in page
    assert f'href="{reverse("count_unit", args=[unit.pk])}"' in page
    assert "Mary Aide: Medication aide" in page
    assert f'href="{reverse("certification_expiring")}"' in page


def test_every_link_on_the_home_opens(nurse_client, shift):
    import re

    page = nurse_client.get(reverse("home")).content.decode()
    section = page[page.index('class="home-sections"') :]
    links = set(re.findall(r'href="([^"#]+)"', section))
    assert len(links) >= 8
    for link in links:
        assert nurse_client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_an_administrator_sees_the_order_itself_not_the_verify_step(admin_client, shift):
    page = admin_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("order_detail", args=[shift["pending"].pk])}"' in page


def test_a_med_tech_lands_on_the_med_pass(medtech_client):
    response = medtech_client.get(reverse("home"))
    assert response["Location"] == reverse("board")


def test_a_quiet_shift_says_so(nurse_client, facility):
    UnitFactory(facility=facility, name="Empty Wing")
    page = nurse_client.get(reverse("home")).content.decode()
    assert "No open alert" in page and "No dose overdue" in page and "Nothing waits" in page
    assert "Every unit counted in the last 12 hours" in page


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "0 min ago"),
        (59, "59 min ago"),
        (60, "1 h ago"),
        (47 * 60, "47 h ago"),
        (3 * 1440, "3 days ago"),
    ],
)
def test_age_in_words(minutes, words):
    now = timezone.now()
    assert age_in_words(now - timedelta(minutes=minutes), now) == words
