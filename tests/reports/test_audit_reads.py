"""The audit trail as a surveyor reads it: who by name (or the automatic work), when in the
facility's time, what in words, before → after with names, not ids, codes or UTC."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pghistory
import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from mar import services as mar_services
from mar import tasks
from residents import services as resident_services
from tests.factories import (
    AllergyFactory,
    MedicationFactory,
    PrescriptionFactory,
    record_dose,
    scheduled_dose,
)

DUE = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York (EDT)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00")


def _given(resident, nurse):
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Lisinopril", strength="10 mg")
    )
    with pghistory.context(user=nurse.pk, url="/medpass/"):
        return record_dose(nurse, scheduled_dose(order, DUE))


def _body(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_an_administration_reads_with_names_labels_and_local_times(
    nurse_client, resident, nurse_user
):
    _given(resident, nurse_user)

    body = _body(nurse_client.get(reverse("report_audit_resident", args=[resident.pk])).text)

    assert str(nurse_user) in body
    assert "<strong>Administration</strong> added" in body
    assert "Status:</span> <ins>Given</ins>" in body
    assert "Administered at:</span> <ins>2026-06-10 08:05</ins>" in body  # New York, not UTC
    assert f"Recorded by:</span> <ins>{nurse_user}</ins>" in body
    assert "Prescription:</span> <ins>Lisinopril 10 mg tablet — 1 tablet by mouth</ins>" in body
    assert not ISO.search(body)
    assert "administered_at" not in body and "Idempotency" not in body


def test_an_amendment_shows_its_changes_in_words_and_local_time(nurse_client, resident, nurse_user):
    record = _given(resident, nurse_user)
    with pghistory.context(user=nurse_user.pk, url="/amend/"):
        mar_services.amendment_create(
            actor=nurse_user,
            administration=record,
            kind="correction",
            reason="Wrong time typed",
            changes={"administered_at": (DUE + timedelta(hours=1)).isoformat(), "notes": ""},
        )

    body = _body(nurse_client.get(reverse("report_audit_resident", args=[resident.pk])).text)

    assert "<strong>Amendment</strong> added" in body
    assert "Kind:</span> <ins>Correction</ins>" in body
    assert "Changes:</span> <ins>Administered at: 2026-06-10 09:00</ins>" in body
    assert not ISO.search(body)


def test_automatic_work_is_named_where_a_person_would_be(nurse_client, resident):
    order = PrescriptionFactory(resident=resident)
    scheduled_dose(order, timezone.now() - timedelta(hours=3))

    tasks.mark_overdue_doses()

    body = _body(nurse_client.get(reverse("report_audit_resident", args=[resident.pk])).text)
    dose_rows = [row for row in body.split("<tr>") if "Scheduled dose</strong> changed" in row]
    assert dose_rows and all("<td>dose engine</td>" in row for row in dose_rows)
    # The dose's creation is not recorded (derived state), so its first change shows its state.
    assert "State:</span> <ins>Overdue</ins>" in body


def test_the_trail_filters_by_kind_and_keeps_it_in_its_links(nurse_client, resident, nurse_user):
    _given(resident, nurse_user)
    with pghistory.context(user=nurse_user.pk, url="/allergies/"):
        AllergyFactory(resident=resident, recorded_by=nurse_user, substance="Penicillin")
    url = reverse("report_audit_resident", args=[resident.pk])

    only_residents = nurse_client.get(url, {"kind": "residents"}).text

    assert "Penicillin" in _body(only_residents)
    assert "Administration" not in _body(only_residents)
    assert '<option value="residents" selected>Residents</option>' in only_residents
    assert "kind=residents" in only_residents  # the CSV link keeps the filter
    every = nurse_client.get(url, {"kind": "nonsense"}).text
    assert "Penicillin" in _body(every) and "Administration" in _body(every)


def test_the_csv_is_complete_and_reads_the_same_words(nurse_client, resident, nurse_user):
    _given(resident, nurse_user)
    url = reverse("report_audit_resident", args=[resident.pk])

    response = nurse_client.get(url, {"format": "csv"})

    assert response.streaming  # a trail of any length starts at once
    text = response.getvalue().decode()

    assert "Administered at,,2026-06-10 08:05" in text
    assert str(nurse_user) in text and not ISO.search(text)


def test_a_status_change_reads_in_plain_english(admin_client, admin_user, resident):
    response = admin_client.post(
        reverse("resident_status", args=[resident.pk]),
        {"to_status": "loa", "reason": "Family visit"},
        follow=True,
    )
    assert f"{resident.display_name} is now on leave of absence." in response.text
    resident.refresh_from_db()
    with pytest.raises(DomainError, match=r"is already on leave of absence\.$"):
        resident_services.resident_change_status(
            actor=admin_user, resident=resident, to_status="loa", reason="Again"
        )


def test_an_uuid_key_is_never_shown(nurse_client, resident, nurse_user):
    record = _given(resident, nurse_user)
    assert isinstance(record.idempotency_key, uuid.UUID)
    body = _body(nurse_client.get(reverse("report_audit_resident", args=[resident.pk])).text)
    assert str(record.idempotency_key) not in body


# How the trail is read: the same events as pghistory's, the same rows as the ORM's --------------


def _history(resident, nurse):
    """Events of many kinds about the resident: an update with a diff, an administration and
    its amendment and follow-up, a hold parameter, an order's status change, stock received."""
    from decimal import Decimal

    from inventory import services as stock_services
    from meds import services as order_services
    from meds.models import HoldParameter

    with pghistory.context(user=nurse.pk, url="/history/"):
        record = _given(resident, nurse)
        resident_services.resident_update(actor=nurse, resident=resident, notes="Likes tea")
        resident_services.resident_update(actor=nurse, resident=resident, notes="Likes coffee")
        AllergyFactory(resident=resident, recorded_by=nurse, substance="Penicillin")
        HoldParameter.objects.create(
            prescription=record.prescription, vital="pulse", comparator="lt", threshold=60
        )
        mar_services.amendment_create(
            actor=nurse,
            administration=record,
            kind="correction",
            reason="Wrong time typed",
            changes={"administered_at": (DUE + timedelta(hours=1)).isoformat()},
        )
        order_services.prescription_discontinue(
            actor=nurse, prescription=record.prescription, reason="Finished"
        )
        stock_services.stock_receive(
            actor=nurse,
            facility=resident.facility,
            resident=resident,
            medication=MedicationFactory(name="Lorazepam", controlled_schedule="IV"),
            quantity=Decimal("20.50"),
            lot="LZ1",
        )
    return record


def _as_pghistory_reads(event) -> tuple:
    return (
        event.pgh_slug,
        event.pgh_created_at,
        event.pgh_label,
        event.pgh_obj_model,
        event.pgh_obj_id,
        list((event.pgh_data or {}).items()),
        list((event.pgh_diff or {}).items()),
        event.pgh_context,
    )


def test_a_trail_reads_each_event_as_pghistory_does(resident, nurse_user):
    from pghistory.models import Events

    from core.audit_events import Trail, event_models, pointing_at

    _history(resident, nurse_user)
    trail = Trail(pointing_at(type(resident), "%s", [resident.pk], event_models()))
    theirs = Events.objects.references(resident).order_by("-pgh_created_at", "-pgh_id")

    ours = sorted(map(_as_pghistory_reads, trail), key=lambda e: e[0])
    expected = sorted(map(_as_pghistory_reads, theirs), key=lambda e: e[0])
    assert ours == expected
    assert any(e[6] for e in ours), "some event has a diff"
    assert trail.count() == len(expected) > 5
    assert [e.pgh_slug for e in trail[2:4]] == [e.pgh_slug for e in list(trail)[2:4]]


def test_the_resident_trail_holds_the_rows_pointing_at_theirs(resident, nurse_user):
    from pghistory.models import Events

    from inventory.models import StockItem
    from mar.models import Administration
    from meds.models import Prescription
    from reports.audit import _THROUGH, resident_audit_events

    _history(resident, nurse_user)
    today = timezone.now().astimezone(resident.facility.tz).date()
    expected = {e.pgh_slug for e in Events.objects.references(resident)}
    for model, event_labels in _THROUGH:
        rows = list(model.objects.filter(resident=resident))
        expected |= {e.pgh_slug for e in Events.objects.references(rows).across(*event_labels)}
    assert {Prescription, Administration, StockItem} == {m for m, _ in _THROUGH}

    trail = resident_audit_events(resident=resident, start=today, end=today)

    assert {e.pgh_slug for e in trail} == expected
    assert {e.pgh_obj_model for e in trail} >= {
        "mar.Amendment",
        "meds.HoldParameter",
        "meds.PrescriptionStatusChange",
        "inventory.StockMovement",
    }


def test_the_rows_an_event_names_read_as_the_orm_reads_them(
    resident, nurse_user, django_assert_num_queries
):
    from django.forms.models import model_to_dict

    from core import audit

    _history(resident, nurse_user)
    today = timezone.now().astimezone(resident.facility.tz).date()
    from reports.audit import resident_audit_events

    events = list(resident_audit_events(resident=resident, start=today, end=today))
    with django_assert_num_queries(1):
        reader = audit._Reader(events, resident.facility.tz)
    assert len(reader.rows) >= 8
    for model, rows in reader.rows.items():
        for pk, row in rows.items():
            fresh = model._default_manager.get(pk=pk)
            assert model_to_dict(row) == model_to_dict(fresh), model
            assert {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields} == {
                f.attname: getattr(fresh, f.attname) for f in model._meta.concrete_fields
            }, model
    # Names that read two rows deep come from what was read, without asking again.
    with django_assert_num_queries(0):
        names = [str(row) for rows in reader.rows.values() for row in rows.values()]
    assert any("Lisinopril" in name and resident.display_name in name for name in names)


def test_a_long_trails_csv_is_read_a_part_at_a_time_and_reads_the_same(
    nurse_client, resident, nurse_user, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.views import supervisor

    _history(resident, nurse_user)
    url = reverse("report_audit_resident", args=[resident.pk])
    whole = nurse_client.get(url, {"format": "csv"}).getvalue()

    monkeypatch.setattr(supervisor, "AUDIT_CSV_CHUNK", 3)
    with CaptureQueriesContext(connection) as by_threes:
        parts = nurse_client.get(url, {"format": "csv"}).getvalue()
    monkeypatch.setattr(supervisor, "AUDIT_CSV_CHUNK", 1000)
    with CaptureQueriesContext(connection) as at_once:
        nurse_client.get(url, {"format": "csv"}).getvalue()

    assert parts == whole and whole.count(b"\n") > 10
    events = len(
        list(
            supervisor.audit.resident_audit_events(
                resident=resident, start=DUE.date(), end=timezone.now().date()
            )
        )
    )
    chunks = -(-events // 3)
    assert len(by_threes) - len(at_once) == 2 * (chunks - 1)
