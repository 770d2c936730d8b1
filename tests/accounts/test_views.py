"""The staff, certification, facility and sign-in pages as people use them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Certification, Facility, Membership, Role, Unit, User
from tests.factories import CertificationFactory, MembershipFactory, member

STRONG = "violet-Harbor-lantern-58"


def staff_form(**overrides) -> dict:
    data = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "CMA",
        "username": "ghopper",
        "email": "grace@example.com",
        "role": "nurse",
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


def facility_today(facility: Facility):
    return timezone.now().astimezone(facility.tz).date()


def sign_in(username: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


# --- staff ----------------------------------------------------------------------------------


def test_admin_creates_a_staff_member_who_can_then_sign_in(admin_client, facility):
    response = admin_client.post(reverse("staff_create"), staff_form(), follow=True)

    membership = Membership.objects.get(user__username="ghopper")
    assert response.redirect_chain == [(reverse("staff_detail", args=[membership.pk]), 302)]
    assert "Grace Hopper can now sign in." in response.content.decode()
    assert membership.facility == facility
    assert membership.role == Role.NURSE
    assert membership.is_active
    assert membership.user.title == "CMA"

    _, signed_in = sign_in("ghopper", STRONG)
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("4815162342108", "This password is entirely numeric."),
    ],
    ids=["too-short", "too-common", "numeric"],
)
def test_a_weak_password_is_refused_with_the_validators_message(
    admin_client, facility, password, message
):
    response = admin_client.post(
        reverse("staff_create"), staff_form(password1=password, password2=password)
    )

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["password1"])
    assert message in response.content.decode()
    assert not User.objects.filter(username="ghopper").exists()


def test_mismatched_passwords_are_refused(admin_client, facility):
    response = admin_client.post(reverse("staff_create"), staff_form(password2=STRONG + "x"))

    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert not User.objects.filter(username="ghopper").exists()


def test_a_duplicate_username_is_refused_whatever_its_case(admin_client, nurse_user):
    users_before = User.objects.count()

    response = admin_client.post(reverse("staff_create"), staff_form(username="NURSE1"))

    assert response.context["form"].errors["username"] == [
        "That username is taken; choose another."
    ]
    assert User.objects.count() == users_before


def test_admin_changes_a_staff_members_role_and_title(admin_client, medtech_user, facility):
    membership = Membership.objects.get(user=medtech_user, facility=facility)

    response = admin_client.post(
        reverse("staff_detail", args=[membership.pk]),
        {"role": "nurse", "title": "LPN", "is_active": "on"},
        follow=True,
    )

    assert "Saved." in response.content.decode()
    membership.refresh_from_db()
    medtech_user.refresh_from_db()
    assert membership.role == Role.NURSE
    assert membership.is_active
    assert medtech_user.title == "LPN"


def test_admin_deactivates_a_staff_member_who_then_cannot_work_here(
    admin_client, medtech_user, medtech_client, facility
):
    membership = Membership.objects.get(user=medtech_user, facility=facility)

    admin_client.post(
        reverse("staff_detail", args=[membership.pk]), {"role": "med_tech", "title": ""}
    )

    membership.refresh_from_db()
    assert not membership.is_active
    response = medtech_client.get(reverse("resident_list"))
    assert response.status_code == 403
    assert "not a member of any facility" in response.content.decode()


@pytest.mark.parametrize(
    "change",
    [{"role": "nurse", "is_active": "on"}, {"role": "admin"}],
    ids=["demote", "deactivate"],
)
def test_the_last_administrator_cannot_be_demoted_or_deactivated(
    admin_client, admin_user, facility, change
):
    membership = Membership.objects.get(user=admin_user, facility=facility)

    response = admin_client.post(
        reverse("staff_detail", args=[membership.pk]), {"title": "", **change}
    )

    assert response.status_code == 200
    assert "The facility must keep at least one active administrator." in (
        response.content.decode()
    )
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.ADMIN, True)


def test_an_administrator_can_step_down_when_another_remains(admin_client, admin_user, facility):
    member(facility, Role.ADMIN, username="admin2")
    membership = Membership.objects.get(user=admin_user, facility=facility)

    admin_client.post(
        reverse("staff_detail", args=[membership.pk]),
        {"role": "nurse", "title": "", "is_active": "on"},
    )

    membership.refresh_from_db()
    assert membership.role == Role.NURSE


def test_admin_sets_a_new_password_and_a_weak_one_is_refused(admin_client, nurse_user, facility):
    membership = Membership.objects.get(user=nurse_user, facility=facility)
    url = reverse("staff_password", args=[membership.pk])

    weak = admin_client.post(url, {"password1": "nurse1", "password2": "nurse1"})
    assert "too short" in " ".join(weak.context["form"].errors["password1"])

    done = admin_client.post(url, {"password1": STRONG, "password2": STRONG}, follow=True)
    assert f"New password set for {escape(str(nurse_user))}." in done.content.decode()
    _, signed_in = sign_in("nurse1", STRONG)
    assert signed_in.status_code == 302


def test_the_staff_list_shows_staff_with_their_certifications(
    admin_client, medtech_user, nurse_user, facility
):
    today = facility_today(facility)
    CertificationFactory(user=medtech_user, kind="cpr", expires=today - timedelta(days=3))

    response = admin_client.get(reverse("staff_list"))
    filtered = admin_client.get(reverse("staff_list"), {"role": "med_tech"})

    content = response.content.decode()
    assert escape(medtech_user.get_full_name()) in content
    assert escape(nurse_user.get_full_name()) in content
    assert f"CPR: expired {(today - timedelta(days=3)).isoformat()}" in content
    assert [m.user for m in filtered.context["page"]] == [medtech_user]


# --- certifications -------------------------------------------------------------------------


@pytest.fixture
def medtech_membership(medtech_user, facility):
    return Membership.objects.get(user=medtech_user, facility=facility)


def test_admin_adds_edits_and_removes_a_certification(admin_client, medtech_membership):
    user = medtech_membership.user
    detail = reverse("staff_detail", args=[medtech_membership.pk])

    added = admin_client.post(
        reverse("certification_create", args=[medtech_membership.pk]),
        {"kind": "cpr", "number": " CPR-77 ", "issued": "2024-03-01", "expires": "2026-03-01"},
        follow=True,
    )
    assert added.redirect_chain == [(detail, 302)]
    assert "CPR recorded." in added.content.decode()
    assert "CPR-77" in added.content.decode()
    certification = Certification.objects.get(user=user)
    assert certification.number == "CPR-77"

    edited = admin_client.post(
        reverse("certification_edit", args=[medtech_membership.pk, certification.pk]),
        {"kind": "first_aid", "number": "FA-1", "issued": "2024-03-01", "expires": "2027-03-01"},
        follow=True,
    )
    assert "First aid saved." in edited.content.decode()
    certification.refresh_from_db()
    assert (certification.kind, certification.number) == ("first_aid", "FA-1")
    assert certification.expires.isoformat() == "2027-03-01"

    removed = admin_client.post(
        reverse("certification_delete", args=[medtech_membership.pk, certification.pk]),
        follow=True,
    )
    assert "First aid removed." in removed.content.decode()
    assert "No certifications recorded." in removed.content.decode()
    assert not Certification.objects.filter(user=user).exists()


@pytest.mark.parametrize("page", ["certification_create", "certification_edit"])
def test_an_expiry_before_the_issue_date_is_refused(admin_client, medtech_membership, page):
    existing = CertificationFactory(user=medtech_membership.user)
    args = [medtech_membership.pk] + ([existing.pk] if page == "certification_edit" else [])

    response = admin_client.post(
        reverse(page, args=args),
        {"kind": "cpr", "number": "", "issued": "2025-05-01", "expires": "2025-04-30"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["expires"] == [
        "The expiry date is before the issue date."
    ]
    existing.refresh_from_db()
    assert existing.kind == "medication_aide"
    assert Certification.objects.filter(user=medtech_membership.user).count() == 1


def test_a_certification_of_another_facilitys_staff_cannot_be_edited(
    admin_client, medtech_membership, outsider_user
):
    foreign = CertificationFactory(user=outsider_user)

    response = admin_client.get(
        reverse("certification_edit", args=[medtech_membership.pk, foreign.pk])
    )

    assert response.status_code == 404


def test_the_expiring_page_lists_soon_and_expired_but_not_later(nurse_client, facility):
    today = facility_today(facility)
    soon = member(facility, Role.MED_TECH, first_name="Sunny", last_name="Soon")
    later = member(facility, Role.MED_TECH, first_name="Larry", last_name="Later")
    lapsed = member(facility, Role.MED_TECH, first_name="Lapsed", last_name="Lee")
    CertificationFactory(user=soon, expires=today + timedelta(days=10))
    CertificationFactory(user=later, expires=today + timedelta(days=90))
    CertificationFactory(user=lapsed, expires=today - timedelta(days=2))

    response = nurse_client.get(reverse("certification_expiring"))

    content = response.content.decode().replace("\xa0", " ")
    assert "Sunny Soon" in content
    assert "Expires in 1 week, 3 days" in content
    assert "Lapsed Lee" in content
    assert "Expired" in content
    assert "Larry Later" not in content
    assert [c.user for c in response.context["certifications"]] == [lapsed, soon]


def test_the_expiring_page_leaves_out_former_and_other_facilities_staff(
    nurse_client, facility, other_facility
):
    today = facility_today(facility)
    former = member(facility, Role.MED_TECH, first_name="Former", last_name="Staff")
    Membership.objects.filter(user=former).update(is_active=False)
    elsewhere = member(other_facility, Role.MED_TECH, first_name="Else", last_name="Where")
    for user in (former, elsewhere):
        CertificationFactory(user=user, expires=today + timedelta(days=5))

    content = nurse_client.get(reverse("certification_expiring")).content.decode()

    assert "Former Staff" not in content
    assert "Else Where" not in content
    assert "Nothing expires in the next 30 days." in content


# --- facility policy and units ----------------------------------------------------------------


def policy_form(facility: Facility, **overrides) -> dict:
    data = {
        "name": facility.name,
        "timezone": facility.timezone,
        "dose_window_minutes": facility.dose_window_minutes,
        "time_critical_window_minutes": facility.time_critical_window_minutes,
        "missed_after_hours": facility.missed_after_hours,
        "missed_dose_review_hours": facility.missed_dose_review_hours,
        "prn_followup_minutes": facility.prn_followup_minutes,
        "prn_followup_earliest_minutes": facility.prn_followup_earliest_minutes,
        "reorder_days": facility.reorder_days,
        "idle_logout_minutes": facility.idle_logout_minutes,
        "offline_max_hours": facility.offline_max_hours,
        "day_shift_starts": f"{facility.day_shift_starts:%H:%M}",
        "evening_shift_starts": f"{facility.evening_shift_starts:%H:%M}",
        "night_shift_starts": f"{facility.night_shift_starts:%H:%M}",
    }
    for flag in (
        "prn_requires_nurse_approval",
        "medtechs_may_give_schedule_ii",
        "nurses_may_verify_own_orders",
    ):
        if getattr(facility, flag, False):
            data[flag] = "on"
    data.update(overrides)
    return data


def test_admin_saves_the_facility_policy(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"),
        policy_form(facility, timezone="America/Denver", dose_window_minutes=90),
        follow=True,
    )

    assert "Facility policy saved." in response.content.decode()
    facility.refresh_from_db()
    assert (facility.timezone, facility.dose_window_minutes) == ("America/Denver", 90)


def test_an_unknown_time_zone_is_refused(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"), policy_form(facility, timezone="Mars/Olympus_Mons")
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["timezone"][0]
    facility.refresh_from_db()
    assert facility.timezone == "America/New_York"


def test_a_time_critical_window_longer_than_the_normal_window_is_refused(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"),
        policy_form(facility, dose_window_minutes=30, time_critical_window_minutes=45),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["time_critical_window_minutes"] == [
        "The time-critical window cannot be longer than the normal window."
    ]
    assert not form.non_field_errors()
    facility.refresh_from_db()
    assert (facility.dose_window_minutes, facility.time_critical_window_minutes) == (60, 30)


def test_admin_sets_the_shift_times(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"),
        policy_form(
            facility,
            day_shift_starts="06:00",
            evening_shift_starts="14:00",
            night_shift_starts="22:00",
        ),
        follow=True,
    )

    assert "Facility policy saved." in response.content.decode()
    facility.refresh_from_db()
    assert str(facility.shifts.starts[2]) == "22:00:00"


def test_shift_times_out_of_order_are_refused_beside_the_field(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"),
        policy_form(facility, evening_shift_starts="06:00"),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["evening_shift_starts"] == [
        "The evening shift must start after the day shift (07:00)."
    ]
    assert 'value="06:00"' in response.content.decode()
    facility.refresh_from_db()
    assert str(facility.evening_shift_starts) == "15:00:00"


def test_a_refused_policy_does_not_show_the_unsaved_name_in_the_header(admin_client, facility):
    response = admin_client.post(
        reverse("facility_settings"),
        policy_form(facility, name="Renamed", timezone="Mars/Olympus_Mons"),
    )

    assert response.status_code == 200
    assert "<h1>Maple Grove: policy</h1>" in response.content.decode()


def test_admin_adds_a_unit_and_a_duplicate_is_refused(admin_client, facility, unit):
    added = admin_client.post(reverse("unit_create"), {"name": "South Wing"}, follow=True)
    duplicate = admin_client.post(reverse("unit_create"), {"name": "north wing"}, follow=True)

    assert "Unit South Wing added." in added.content.decode()
    assert "There is already a unit called north wing." in duplicate.content.decode()
    assert sorted(Unit.objects.filter(facility=facility).values_list("name", flat=True)) == [
        "North Wing",
        "South Wing",
    ]


# --- choosing a facility --------------------------------------------------------------------


@pytest.fixture
def two_facility_user(facility, other_facility):
    user = member(facility, Role.NURSE, username="floater")
    MembershipFactory(user=user, facility=other_facility, role=Role.MED_TECH)
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


def test_a_user_with_two_facilities_is_sent_to_the_picker_and_can_switch(two_facility_user):
    client = two_facility_user

    start = client.get(reverse("home"))
    assert start.status_code == 302
    assert start["Location"] == reverse("facility_select")

    picker = client.get(reverse("facility_select")).content.decode()
    assert "Where are you working today?" in picker
    assert "Maple Grove" in picker
    assert "Cedar House" in picker

    cedar = Facility.objects.get(name="Cedar House")
    home = client.post(reverse("facility_select"), {"facility": cedar.pk}, follow=True)
    content = home.content.decode()
    # A med tech's home is the med pass board of the chosen facility.
    assert home.redirect_chain == [(reverse("home"), 302), (reverse("board"), 302)]
    assert 'title="Current facility">Cedar House<' in content
    assert "Med tech" in content
    assert "Switch facility" in content

    maple = Facility.objects.get(name="Maple Grove")
    switched = client.post(reverse("facility_select"), {"facility": maple.pk}, follow=True)
    assert 'title="Current facility">Maple Grove<' in switched.content.decode()
    assert "Nurse" in switched.content.decode()


def test_the_picker_refuses_a_facility_the_user_does_not_belong_to(two_facility_user):
    stranger = Facility.objects.create(name="Elsewhere Manor")

    response = two_facility_user.post(
        reverse("facility_select"), {"facility": stranger.pk}, follow=True
    )

    assert "Choose one of your facilities." in response.content.decode()
    assert two_facility_user.get(reverse("home")).status_code == 302  # still no facility


def test_a_user_with_one_facility_goes_straight_to_the_home_page(medtech_client):
    response = medtech_client.get(reverse("home"), follow=True)

    content = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("board"), 302)]
    assert 'title="Current facility">Maple Grove<' in content
    assert "Where are you working today?" not in content
    assert "Switch facility" not in content


def test_signing_in_with_one_facility_lands_on_the_home_page(medtech_user):
    client, response = sign_in("medtech1", "correct-horse-battery")

    assert response["Location"] == reverse("home")
    page = client.get(reverse("home"), follow=True).content.decode()
    assert 'title="Current facility">Maple Grove<' in page


def test_an_inactive_second_membership_offers_no_switch(
    medtech_user, medtech_client, other_facility
):
    MembershipFactory(user=medtech_user, facility=other_facility, is_active=False)

    content = medtech_client.get(reverse("home"), follow=True).content.decode()

    assert 'title="Current facility">Maple Grove<' in content
    assert "Switch facility" not in content


def test_healthz_reports_database_and_broker_ok_as_json(client, db):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["status"] == "ok"


def test_staff_list_warns_of_a_certification_expiring_within_30_days(admin_client, medtech_user):
    today = timezone.now().date()
    CertificationFactory(
        user=medtech_user, issued=today - timedelta(days=300), expires=today + timedelta(days=10)
    )
    page = admin_client.get(reverse("staff_list")).content.decode()
    assert '<span class="badge warn">Medication aide: expires' in page
