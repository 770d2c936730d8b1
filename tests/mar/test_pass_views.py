"""The med pass pages as a med tech and a nurse use them."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role, User
from mar import services
from mar.models import Administration, DoseState, PrnFollowUp, ScheduledDose
from meds.models import HoldParameter
from residents import services as resident_services
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
)

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _aide_certified(medtech_user):
    CertificationFactory(
        user=medtech_user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )


@pytest.fixture
def order(resident):
    order = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Lisinopril", strength="10 mg", barcode="0123456789"),
    )
    services.doses_generate(now=NOW - timedelta(hours=5))
    return order


@pytest.fixture
def dose(order):
    return ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )


def _post_record(client, dose, status="given", key=None, **fields):
    data = {"key": str(key or uuid.uuid4()), "status": status, **fields}
    return client.post(reverse("dose_record", args=[dose.pk]), data, follow=True)


def test_med_tech_home_is_the_board_with_overdue_first(medtech_client, facility, unit):
    late = ResidentFactory(facility=facility, unit=unit, last_name="Late")
    PrescriptionFactory(resident=late, times=[datetime(2026, 1, 1, 6, 0).time()])
    ontime = ResidentFactory(facility=facility, unit=unit, last_name="Aardvark")
    PrescriptionFactory(resident=ontime)
    services.doses_generate(now=NOW - timedelta(hours=5))
    services.doses_mark_overdue(now=NOW)
    response = medtech_client.get(reverse("home"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("board")
    assert page.index("Late") < page.index("Aardvark")  # overdue first, whatever the name
    assert "OVERDUE 06:00" in page and "DUE 08:00" in page
    assert 'hx-trigger="every 30s"' in page


def test_board_htmx_refresh_returns_only_the_board(medtech_client, order):
    response = medtech_client.get(reverse("board"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'id="board-inner"' in page
    assert "<html" not in page
    assert "HX-Request" in response["Vary"]


def test_resident_page_shows_the_open_dose_and_allergy_state(
    medtech_client, resident, dose, admin_user
):
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "Allergies not recorded" in page
    assert "Lisinopril 10 mg" in page and "window 07:00–09:00" in page
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "NKDA" in page


def test_given_in_one_tap(medtech_client, dose):
    response = _post_record(medtech_client, dose)
    page = response.content.decode()
    assert "Given: Lisinopril 10 mg tablet at 08:05." in page
    dose.refresh_from_db()
    assert dose.state == DoseState.DOCUMENTED
    assert Administration.objects.get().recorded_by.username == "medtech1"


def test_refused_without_reason_is_explained_beside_the_dose(medtech_client, dose):
    response = _post_record(medtech_client, dose, status="refused")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the reason the dose was refused." in page
    assert 'class="dose card state-due has-error"' in page
    assert not Administration.objects.exists()
    _post_record(medtech_client, dose, status="refused", reason="Said she feels sick")
    assert Administration.objects.get().reason == "Said she feels sick"


def test_double_submit_makes_one_record(medtech_client, dose):
    key = uuid.uuid4()
    _post_record(medtech_client, dose, key=key)
    response = _post_record(medtech_client, dose, key=key)
    assert "sent twice" in response.content.decode()
    assert Administration.objects.count() == 1


def test_second_tab_is_told_who_documented(medtech_client, nurse_client, dose):
    _post_record(nurse_client, dose)
    response = _post_record(medtech_client, dose)
    assert "Already documented (given) by" in response.content.decode()
    assert Administration.objects.count() == 1


def test_hold_parameter_shows_vitals_and_records_held(medtech_client, order, dose):
    HoldParameter.objects.create(
        prescription=order, vital="systolic_bp", comparator="lt", threshold=100
    )
    page = medtech_client.get(reverse("resident_pass", args=[order.resident_id])).content.decode()
    assert 'name="vital_systolic_bp"' in page
    response = _post_record(medtech_client, dose, vital_systolic_bp="92")
    page = response.content.decode()
    assert "Not given: Hold if Systolic BP below 100 mmHg — reading 92 mmHg" in page
    assert Administration.objects.get().status == "held"


def test_prn_blocked_message_names_last_dose_and_next_time(medtech_client, resident):
    prn = PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        indication="Pain",
    )
    url = reverse("prn_give", args=[prn.pk])
    first = medtech_client.post(
        url, {"key": str(uuid.uuid4()), "prn_reason": "Back pain"}, follow=True
    )
    assert "Follow up on its effect in 60 minutes" in first.content.decode()
    second = medtech_client.post(
        url, {"key": str(uuid.uuid4()), "prn_reason": "Still hurts"}, follow=True
    )
    page = second.content.decode()
    assert "Not yet: last given at Wed 2026-06-10 08:05" in page
    assert "Next allowed at Wed 2026-06-10 12:05" in page
    assert Administration.objects.filter(prescription=prn).count() == 1


def test_prn_followup_from_the_page(medtech_client, resident):
    # The cart stays signed in while the effect is awaited.
    resident.facility.__class__.objects.filter(pk=resident.facility_id).update(
        idle_logout_minutes=60
    )
    prn = PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        indication="Pain",
    )
    medtech_client.post(
        reverse("prn_give", args=[prn.pk]), {"key": str(uuid.uuid4()), "prn_reason": "Pain"}
    )
    administration = Administration.objects.get()
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "PRN follow-ups" in page
    # One minute after the dose its effect cannot be judged yet (facility default: 30 minutes).
    assert "the follow-up opens at 08:35" in page
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response = medtech_client.post(
            reverse("prn_followup", args=[administration.pk]), {"result": "effective"}, follow=True
        )
    assert "the follow-up opens at 08:35 (30 minutes after the dose)" in response.content.decode()
    assert not PrnFollowUp.objects.exists()
    with time_machine.travel(NOW + timedelta(minutes=45), tick=False):
        response = medtech_client.post(
            reverse("prn_followup", args=[administration.pk]),
            {"result": "effective", "note": "Resting"},
            follow=True,
        )
    assert "Follow-up documented." in response.content.decode()


def test_scan_wristband_opens_the_resident(medtech_client, resident):
    response = medtech_client.post(reverse("scan"), {"code": resident.wristband_code.lower()})
    assert response.url == reverse("resident_pass", args=[resident.pk])


def test_scan_medication_selects_the_matching_dose(medtech_client, resident, dose):
    response = medtech_client.post(reverse("scan"), {"code": "0123456789", "resident": resident.pk})
    assert (
        response.url
        == f"{reverse('resident_pass', args=[resident.pk])}?dose={dose.pk}#dose-{dose.pk}"
    )


def test_scan_wrong_medication_stops_with_a_clear_message(medtech_client, resident, dose):
    response = medtech_client.post(
        reverse("scan"), {"code": "999999", "resident": resident.pk}, follow=True
    )
    assert "WRONG MEDICATION OR WRONG RESIDENT" in response.content.decode()


def test_scan_another_facilitys_wristband_finds_nothing(medtech_client, other_facility):
    stranger = ResidentFactory(facility=other_facility)
    response = medtech_client.post(reverse("scan"), {"code": stranger.wristband_code}, follow=True)
    assert "No resident of" in response.content.decode()


def test_nurse_amends_and_both_versions_show(nurse_client, medtech_client, dose, resident):
    _post_record(medtech_client, dose)
    administration = Administration.objects.get()
    assert (
        medtech_client.get(reverse("administration_amend", args=[administration.pk])).status_code
        == 403
    )
    response = nurse_client.post(
        reverse("administration_amend", args=[administration.pk]),
        {"kind": "entered_in_error", "reason": "Charted on the wrong resident"},
        follow=True,
    )
    page = response.content.decode()
    assert "Amendment recorded: Entered in error." in page
    assert "<del>Given</del>" in page
    assert "Entered in error: Charted on the wrong resident" in page
    dose.refresh_from_db()
    assert dose.state == DoseState.DUE


def test_expired_certification_is_told_why(facility, dose):
    from django.test import Client

    tech = member(facility, Role.MED_TECH)
    client = Client()
    client.force_login(tech, backend="accounts.backends.StaffBackend")
    response = _post_record(client, dose)
    assert "medication aide certification is expired or missing" in response.content.decode()
    assert not Administration.objects.exists()


def _client_of(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


def test_uncertified_med_tech_is_told_at_the_top_and_offered_no_recording_controls(
    facility, dose, resident
):
    PrescriptionFactory(
        resident=resident, is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    client = _client_of(member(facility, Role.MED_TECH))
    page = client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    top = page.index('class="banner warn aide-notice"')
    assert top < page.index('id="open"')
    assert "you cannot record medications" in page
    assert reverse("dose_record", args=[dose.pk]) not in page
    assert 'value="given"' not in page
    assert "Give PRN" not in page
    # The same med tech with a current certification gets the controls.
    CertificationFactory(
        user=User.objects.get(pk=client.session["_auth_user_id"]),
        issued=datetime(2025, 1, 1).date(),
        expires=datetime(2027, 1, 1).date(),
    )
    page = client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert 'value="given"' in page and "Give PRN" in page
    assert "aide-notice" not in page


@pytest.mark.parametrize(
    ("days_left", "notice"),
    [(10, "expires in 10 days (Sat 2026-06-20)"), (0, "expires today"), (30, None)],
)
def test_certification_expiring_within_30_days_is_noticed_on_every_page(
    facility, days_left, notice
):
    tech = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=tech,
        issued=datetime(2025, 1, 1).date(),
        expires=datetime(2026, 6, 10).date() + timedelta(days=days_left),
    )
    client = _client_of(tech)
    for name in ("board", "resident_list", "my_pin"):
        page = client.get(reverse(name)).content.decode()
        if notice is None:
            assert "aide-notice" not in page
        else:
            assert notice in page, name


def test_documented_rows_say_which_dose_they_filled_and_amendments_read_in_local_time(
    medtech_client, facility, resident, dose
):
    _post_record(medtech_client, dose)
    record = Administration.objects.get()
    nurse = member(facility, Role.NURSE)
    services.amendment_create(
        actor=nurse,
        administration=record,
        kind="correction",
        reason="Given at 09:15",
        changes={"administered_at": "2026-06-10T13:15:00+00:00", "status": "given"},
        now=NOW,
    )
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    documented = page[page.index('id="documented"') :]
    assert "for the 08:00 dose" in documented
    assert "Time 2026-06-10 08:05 → 2026-06-10 09:15" in documented
    assert "Status Given → Given" in documented
    assert "+00:00" not in documented and "administered_at" not in documented


def test_a_dose_held_by_its_vitals_says_why_once(medtech_client, resident, dose, order):
    HoldParameter.objects.create(prescription=order, vital="pulse", comparator="lt", threshold=60)
    _post_record(medtech_client, dose, vital_pulse="52")
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    documented = page[page.index('id="documented"') :]
    assert documented.count("Hold if Pulse") == 1
