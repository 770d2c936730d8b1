"""The offline med pass's pages: the snapshot, the records a cart sends (JSON) and the queue."""

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from mar.models import (
    Administration,
    Entry,
    ReconciliationItem,
    ReconciliationState,
    ScheduledDose,
)
from mar.services.offline import OfflineRecord, offline_replay
from tests.factories import CertificationFactory, PrescriptionFactory, ResidentFactory, member


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2030, 1, 1).date()
    )
    return user


@pytest.fixture
def aide_client(aide):
    client = Client(enforce_csrf_checks=True)
    client.force_login(aide, backend="accounts.backends.StaffBackend")
    return client


@pytest.fixture
def open_dose(resident):
    now = timezone.now()
    order = PrescriptionFactory(resident=resident)
    return ScheduledDose.objects.create(
        facility=resident.facility,
        prescription=order,
        resident=resident,
        due_at=now,
        window_opens_at=now - timedelta(hours=1),
        window_closes_at=now + timedelta(hours=1),
    )


def _post(client, body, csrf):
    return client.post(
        reverse("offline_sync"),
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
        HTTP_ACCEPT="application/json",
    )


def _csrf(client) -> str:
    hello = client.get(reverse("offline_sync"))
    assert hello.status_code == 200
    return hello.json()["csrf"]


def _body(dose, user, **fields):
    return {
        "key": str(uuid.uuid4()),
        "kind": "dose",
        "target": dose.pk,
        "user": user.pk,
        "device_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "snapshot_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "status": "given",
        "vitals": {},
        **fields,
    }


def test_a_record_sent_twice_is_recorded_once_with_the_offline_mark(aide, aide_client, open_dose):
    csrf = _csrf(aide_client)
    body = _body(open_dose, aide)

    first = _post(aide_client, body, csrf)
    again = _post(aide_client, body, csrf)

    assert first.status_code == again.status_code == 200
    assert (first.json()["outcome"], again.json()["outcome"]) == ("recorded", "duplicate")
    saved = Administration.objects.get(dose=open_dose)
    assert saved.entry == Entry.OFFLINE
    assert (
        saved.administered_at.isoformat() == datetime.fromisoformat(body["device_at"]).isoformat()
    )
    assert saved.recorded_at > saved.administered_at
    page = aide_client.get(reverse("resident_pass", args=[open_dose.resident_id])).content.decode()
    assert "recorded on the cart without a connection, reached the server" in page


def test_without_the_csrf_token_nothing_is_recorded(aide_client, aide, open_dose):
    _csrf(aide_client)
    response = _post(aide_client, _body(open_dose, aide), "wrong")
    assert response.status_code == 403
    assert not Administration.objects.exists()


def test_a_record_made_by_someone_else_waits_for_them(aide_client, open_dose, facility):
    other = member(facility, Role.MED_TECH)
    response = _post(aide_client, _body(open_dose, other), _csrf(aide_client))
    assert response.status_code == 409
    assert "sign in" in response.json()["error"]
    assert not Administration.objects.exists()


@pytest.mark.parametrize(
    "broken",
    [
        {"key": "not-a-uuid"},
        {"device_at": "yesterday"},
        {"device_at": "2026-06-10T12:00:00"},  # no offset
        {"kind": "vitals"},
        {"target": 10**30},
        {"vitals": {"pulse": "NaN"}},
        {"vitals": {"mood": "5"}},
    ],
)
def test_what_is_not_a_record_is_refused_and_changes_nothing(aide, aide_client, open_dose, broken):
    response = _post(aide_client, _body(open_dose, aide, **broken), _csrf(aide_client))
    assert response.status_code == 400
    assert not Administration.objects.exists()
    assert not ReconciliationItem.objects.exists()


def test_another_facilitys_dose_is_refused(aide, aide_client, other_facility):
    outsider_resident = ResidentFactory(facility=other_facility)
    order = PrescriptionFactory(resident=outsider_resident)
    now = timezone.now()
    dose = ScheduledDose.objects.create(
        facility=other_facility,
        prescription=order,
        resident=outsider_resident,
        due_at=now,
        window_opens_at=now - timedelta(hours=1),
        window_closes_at=now + timedelta(hours=1),
    )
    response = _post(aide_client, _body(dose, aide), _csrf(aide_client))
    assert response.status_code == 400
    assert not Administration.objects.exists()


def test_the_snapshot_lists_the_pages_of_the_residents_passed(medtech_client, resident, unit):
    absent = ResidentFactory(facility=resident.facility, unit=unit, status="discharged")
    snapshot = medtech_client.get(reverse("offline_snapshot")).json()

    assert reverse("resident_pass", args=[resident.pk]) in snapshot["urls"]
    assert reverse("resident_pass", args=[absent.pk]) not in snapshot["urls"]
    assert reverse("board") in snapshot["urls"]
    assert snapshot["max_hours"] == 8
    assert snapshot["residents"] == 1


def test_the_pass_page_carries_the_rules_a_cart_checks_offline(medtech_client, open_dose):
    page = medtech_client.get(reverse("resident_pass", args=[open_dose.resident_id]))
    html = page.content.decode()
    marker = f'id="dose-{open_dose.pk}" data-offline="'
    assert marker in html
    start = html.index(marker) + len(marker)
    raw = html[start : html.index('"', start)].replace("&quot;", '"').replace("&#34;", '"')
    rules = json.loads(raw)
    assert rules["kind"] == "dose" and rules["id"] == open_dose.pk
    assert rules["opens"] == open_dose.window_opens_at.isoformat()
    assert rules["give"] is True


def test_a_dose_not_yet_due_carries_its_form_hidden_until_its_window_opens(
    medtech_client, medtech_user, resident
):
    CertificationFactory(
        user=medtech_user, issued=datetime(2025, 1, 1).date(), expires=datetime(2030, 1, 1).date()
    )
    now = timezone.now()
    dose = ScheduledDose.objects.create(
        facility=resident.facility,
        prescription=PrescriptionFactory(resident=resident),
        resident=resident,
        due_at=now + timedelta(minutes=90),
        window_opens_at=now + timedelta(minutes=30),
        window_closes_at=now + timedelta(minutes=150),
    )
    html = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    card = html[html.index(f'id="dose-{dose.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Not yet: the window opens at" in card
    assert 'class="record" hidden data-offline-later' in card


def test_the_nurse_resolves_an_item_and_the_med_tech_sees_the_decision(
    aide, open_dose, nurse_user, nurse_client, facility
):
    offline_replay(
        actor=nurse_user,
        record=OfflineRecord(
            key=uuid.uuid4(),
            kind="dose",
            target=open_dose.pk,
            device_at=timezone.now(),
            snapshot_at=None,
        ),
    )
    item = offline_replay(
        actor=aide,
        record=OfflineRecord(
            key=uuid.uuid4(),
            kind="dose",
            target=open_dose.pk,
            device_at=timezone.now(),
            snapshot_at=None,
            status="refused",
            reason="Asleep",
        ),
    ).item
    queue = nurse_client.get(reverse("reconciliation_list"))
    assert "Refused; reason: Asleep" in queue.content.decode()
    assert "Already documented (given)" in queue.content.decode()
    board = nurse_client.get(reverse("board")).content.decode()
    assert "1 offline record to reconcile" in board

    refused = nurse_client.post(
        reverse("reconciliation_resolve", args=[item.pk]), {"action": "keep", "reason": "Both"}
    )
    assert refused.status_code == 400
    assert "already has a record" in refused.content.decode()
    item.refresh_from_db()
    assert item.state == ReconciliationState.OPEN

    empty = nurse_client.post(reverse("reconciliation_resolve", args=[item.pk]), {"action": "void"})
    assert empty.status_code == 400
    assert "This field is required" in empty.content.decode()

    done = nurse_client.post(
        reverse("reconciliation_resolve", args=[item.pk]),
        {"action": "void", "reason": "Recorded on the wrong cart"},
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.resolution_reason) == (
        ReconciliationState.VOIDED,
        "Recorded on the wrong cart",
    )

    client = Client()
    client.force_login(aide, backend="accounts.backends.StaffBackend")
    mine = client.get(reverse("offline_records")).content.decode()
    assert "Voided" in mine and "Recorded on the wrong cart" in mine


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "key",
    "kind",
    "target",
    "user",
    "device_at",
    "snapshot_at",
    "status",
    "reason",
    "late_reason",
    "other_code",
    "prn_reason",
    "notes",
    "vitals",
]


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, JSON_VALUES)),
    ),
    raw=st.booleans(),
)
def test_hostile_json_never_errors_and_a_refusal_saves_nothing(
    aide, aide_client, open_dose, body, raw
):
    csrf = _csrf(aide_client)
    if isinstance(body, dict) and not raw:
        body = {**_body(open_dose, aide), **body}
    before = (Administration.objects.count(), ReconciliationItem.objects.count())
    response = aide_client.post(
        reverse("offline_sync"),
        data=json.dumps(body) if not raw else str(body).encode(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code in (200, 400, 409)
    if response.status_code != 200:
        assert (Administration.objects.count(), ReconciliationItem.objects.count()) == before
