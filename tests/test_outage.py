"""Documenting care with Redis (cache and Celery broker) down: nothing is lost, nothing is a 500.

Both point at a port nothing listens on, as with a stopped Redis; the real sender of "fill in
the doses now" (`mar.tasks.generation_send`) is used, so a dead broker is really reached.
"""

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role, SignoffFailure
from inventory import services as stock_services
from inventory.models import ControlledCount, MovementKind
from mar import services as mar_services
from mar.models import Administration, ScheduledDose
from meds.models import OrderStatus
from tests.factories import (
    PASSWORD,
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    member,
)

DEAD = "redis://127.0.0.1:1/0"
NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York: the 08:00 window is open


@pytest.fixture(autouse=True)
def redis_down(settings, monkeypatch):
    from medtech.celery import app

    # Celery's configuration first, before any setting or variable changes (it may load them
    # lazily right here, and monkeypatch restores what it read), then the variable Celery
    # prefers (see test_security); and no producer pool left from a test that reached Redis.
    monkeypatch.setattr(app.conf, "broker_url", DEAD)
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD}
    }
    settings.DOSE_GENERATION_QUEUE = "mar.tasks.generation_send"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def aide(facility, medtech_user):
    CertificationFactory(
        user=medtech_user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return medtech_user


def test_the_outage_is_real():
    from mar.tasks import generation_send

    with pytest.raises(Exception, match="onnect"):
        cache.set("anything", 1)
    with pytest.raises(Exception, match="onnect"):
        generation_send(1)


def _resident_page(client, resident):
    return client.get(reverse("resident_pass", args=[resident.pk]))


def test_controlled_dose_with_a_witness_is_recorded(
    aide, medtech_client, nurse_user, resident, facility
):
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Oxycodone", controlled_schedule="II")
    )
    stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=order.medication,
        quantity="10",
        lot="OX1",
    )
    mar_services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )
    assert medtech_client.get(reverse("board")).status_code == 200
    assert _resident_page(medtech_client, resident).status_code == 200
    url = reverse("dose_record", args=[dose.pk])
    form = {"status": "given", "witness_username": nurse_user.username}
    # Refused: POST/redirect/GET to the dose's card, which says why.
    wrong = medtech_client.post(
        url, {**form, "key": str(uuid.uuid4()), "witness_secret": "x"}, follow=True
    )
    assert wrong.status_code == 200
    assert "not right for this facility" in wrong.content.decode()
    assert SignoffFailure.objects.filter(typist=aide).count() == 1
    right = medtech_client.post(
        url, {**form, "key": str(uuid.uuid4()), "witness_secret": PASSWORD}, follow=True
    )
    assert right.status_code == 200
    administration = Administration.objects.get(dose=dose)
    assert administration.witness == nurse_user


def test_prn_with_nurse_approval_is_recorded(aide, medtech_client, nurse_user, resident, facility):
    facility.prn_requires_nurse_approval = True
    facility.save()
    prn = PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        indication="Pain",
    )
    url = reverse("prn_give", args=[prn.pk])
    form = {"prn_reason": "Knee pain", "approver_username": nurse_user.username}
    wrong = medtech_client.post(
        url, {**form, "key": str(uuid.uuid4()), "approver_secret": "x"}, follow=True
    )
    assert "not right for this facility" in wrong.content.decode()
    right = medtech_client.post(
        url, {**form, "key": str(uuid.uuid4()), "approver_secret": PASSWORD}, follow=True
    )
    assert "Follow up on its effect" in right.content.decode()
    assert Administration.objects.get(prescription=prn).approved_by == nurse_user


def _controlled_item(nurse_user, facility, resident):
    return stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(name="Lorazepam", controlled_schedule="IV"),
        quantity="10",
        lot="LZ1",
    ).movement.item


def test_controlled_shift_count_is_signed(
    medtech_client, medtech_user, nurse_user, facility, unit, resident
):
    item = _controlled_item(nurse_user, facility, resident)
    url = reverse("count_unit", args=[unit.pk])
    form = {f"item_{item.pk}": "10", "incoming_username": nurse_user.username}
    wrong = medtech_client.post(url, {**form, "incoming_secret": "x"})
    assert "not right for this facility" in wrong.content.decode()
    assert SignoffFailure.objects.filter(typist=medtech_user, purpose__contains="incoming").exists()
    right = medtech_client.post(url, {**form, "incoming_secret": PASSWORD}, follow=True)
    assert "everything matches the ledger" in right.content.decode()
    assert ControlledCount.objects.get().incoming_by == nurse_user


def test_waste_is_witnessed(medtech_client, nurse_user, facility, resident):
    item = _controlled_item(nurse_user, facility, resident)
    url = reverse("stock_waste", args=[item.pk])
    form = {"quantity": "1", "reason": "Dropped", "witness_username": nurse_user.username}
    wrong = medtech_client.post(url, {**form, "witness_secret": "x"})
    assert "not right for this facility" in wrong.content.decode()
    right = medtech_client.post(url, {**form, "witness_secret": PASSWORD}, follow=True)
    assert "Waste recorded." in right.content.decode()
    wasted = item.movements.get(kind=MovementKind.WASTED)
    assert wasted.balance_after == Decimal("9")


def test_verifying_an_order_with_the_broker_down_still_verifies(
    resident, facility, admin_user, django_capture_on_commit_callbacks, caplog
):
    from django.test import Client

    entered_by = member(facility, Role.NURSE)
    order = PrescriptionFactory(
        resident=resident,
        entered_by=entered_by,
        status=OrderStatus.PENDING,
        verified_by=None,
        verified_at=None,
        active_since=None,
    )
    verifier = member(facility, Role.NURSE)
    client = Client()
    client.force_login(verifier, backend="accounts.backends.StaffBackend")
    assert client.get(reverse("verification_queue")).status_code == 200
    with (
        caplog.at_level(logging.WARNING, logger="core.queueing"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post(reverse("order_verify", args=[order.pk]))
    assert response.status_code == 302
    assert callbacks, "verifying asks for the doses at once (after the commit)"
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    assert "Could not queue DOSE_GENERATION_QUEUE" in caplog.text
    assert client.get(reverse("order_detail", args=[order.pk])).status_code == 200
    assert client.get(reverse("resident_orders", args=[resident.pk])).status_code == 200
