"""Wrong sign-offs are counted in PostgreSQL, outlive the refused transaction, and pause only
the one who types them (at that workstation), never the colleague named."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role, SignoffFailure
from core.errors import DomainError
from mar import services as mar_services
from mar.models import Administration, ScheduledDose
from tests.factories import (
    PASSWORD,
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York: the 08:00 window is open


def _aide(facility, **fields):
    user = member(facility, Role.MED_TECH, **fields)
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return user


def _controlled_doses(facility, count):
    """`count` residents, each with an open 08:00 dose of a schedule IV drug (no stock kept)."""
    unit = UnitFactory(facility=facility)
    medication = MedicationFactory(name="Lorazepam", controlled_schedule="IV")
    orders = [
        PrescriptionFactory(
            resident=ResidentFactory(facility=facility, unit=unit), medication=medication
        )
        for _ in range(count)
    ]
    mar_services.doses_generate(now=NOW)
    return [
        ScheduledDose.objects.get(prescription=o, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
        for o in orders
    ]


def test_a_refused_dose_rolls_back_but_its_wrong_signoff_is_kept(facility):
    """The refusal carries the failure; settle() writes it after the med pass's rollback."""
    aide, nurse = _aide(facility), member(facility, Role.NURSE)
    (dose,) = _controlled_doses(facility, 1)
    with time_machine.travel(NOW, tick=False), pytest.raises(DomainError) as refused:
        mar_services.administration_record(
            actor=aide,
            dose=dose,
            status="given",
            idempotency_key=uuid.uuid4(),
            witness_username=nurse.username,
            witness_secret="guess",
            client_address="10.1.1.1",
        )
    # The service's transaction was rolled back, with the row it wrote inside it...
    assert not SignoffFailure.objects.exists()
    assert not Administration.objects.exists()
    refused.value.settle()
    refused.value.settle()  # idempotent: one refusal, one row
    failure = SignoffFailure.objects.get()
    assert (failure.typist, failure.named_username, failure.address, failure.purpose) == (
        aide,
        nurse.username,
        "10.1.1.1",
        "witness",
    )


def _give(client, dose, witness, secret, address):
    return client.post(
        reverse("dose_record", args=[dose.pk]),
        {
            "key": str(uuid.uuid4()),
            "status": "given",
            "witness_username": witness.username,
            "witness_secret": secret,
        },
        REMOTE_ADDR=address,
        follow=True,  # a refusal redirects to the dose's card (POST/redirect/GET)
    )


@pytest.mark.django_db(transaction=True)
def test_five_wrong_witness_pins_at_the_cart_pause_the_typist_only(facility, caplog):
    """Real commits and rollbacks: each refused POST is its own transaction."""
    typist = _aide(facility, username="typist")
    colleague = _aide(facility, username="colleague")
    nurse = member(facility, Role.NURSE, username="nurse")
    doses = _controlled_doses(facility, 3)
    cart, elsewhere = "10.2.2.2", "10.3.3.3"
    typist_client, colleague_client = Client(), Client()
    typist_client.force_login(typist, backend="accounts.backends.StaffBackend")
    colleague_client.force_login(colleague, backend="accounts.backends.StaffBackend")
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            page = _give(typist_client, doses[0], nurse, "0000", cart).content.decode()
            assert "not right for this facility" in page
        assert SignoffFailure.objects.filter(typist=typist, address=cart).count() == 5
        assert "'typist'" not in caplog.text and "typist" in caplog.text
        assert "'nurse'" in caplog.text and cart in caplog.text

        paused = _give(typist_client, doses[0], nurse, PASSWORD, cart).content.decode()
        assert "sign-offs you enter here are paused until 08:20" in paused
        assert not Administration.objects.exists()
        # The nurse named five times still witnesses for a colleague at the same cart...
        _give(colleague_client, doses[1], nurse, PASSWORD, cart)
        assert Administration.objects.get(dose=doses[1]).witness == nurse
        # ...and the typist is paused at that cart only.
        _give(typist_client, doses[2], nurse, PASSWORD, elsewhere)
        assert Administration.objects.get(dose=doses[2]).witness == nurse
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        _give(typist_client, doses[0], nurse, PASSWORD, cart)
        assert Administration.objects.get(dose=doses[0]).witness == nurse
