"""Sign-in, lockout, idle logout, production settings and the audit context."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from residents import services as resident_services
from tests.factories import PASSWORD, member

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.5"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_with_right_password_reaches_home(medtech_user):
    client = Client()
    response = _login(client, medtech_user.username, PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("resident_list")).status_code == 200


def test_five_failed_logins_lock_the_account_for_fifteen_minutes(medtech_user):
    client = Client()
    for _ in range(4):
        response = _login(client, medtech_user.username, "wrong-password")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    locked = _login(client, medtech_user.username, "wrong-password")
    assert locked.status_code == 429
    assert b"locked for 15 minutes" in locked.content
    # Even the right password is refused while locked.
    again = _login(client, medtech_user.username, PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        after = _login(Client(), medtech_user.username, PASSWORD)
        assert after.status_code == 302


def test_lockout_is_per_username_and_address(medtech_user, nurse_user):
    client = Client()
    for _ in range(5):
        _login(client, medtech_user.username, "wrong-password", ip="10.0.0.9")
    # Another user at the same workstation still signs in, and so does the same user elsewhere.
    assert _login(Client(), nurse_user.username, PASSWORD, ip="10.0.0.9").status_code == 302
    assert _login(Client(), medtech_user.username, PASSWORD, ip="10.0.0.10").status_code == 302


def test_session_ends_after_the_facilitys_idle_minutes(facility, medtech_user):
    facility.idle_logout_minutes = 15
    facility.save()
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _login(client, medtech_user.username, PASSWORD).status_code == 302
        assert client.get(reverse("resident_list")).status_code == 200
    # Activity keeps the session alive: each request restarts the clock.
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert client.get(reverse("resident_list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=28), tick=False):
        assert client.get(reverse("resident_list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=44), tick=False):
        response = client.get(reverse("resident_list"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_idle_minutes_follow_facility_policy(facility, medtech_user):
    facility.idle_logout_minutes = 5
    facility.save()
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _login(client, medtech_user.username, PASSWORD)
        client.get(reverse("resident_list"))
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get(reverse("resident_list")).status_code == 302


def _poll(client):
    """The board's own 30-second refresh, as htmx sends it (templates/mar/board.html)."""
    return client.get(
        reverse("board") + "?poll=1",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver" + reverse("board"),
    )


def test_the_boards_own_refresh_does_not_keep_a_cart_signed_in(facility, medtech_user):
    facility.idle_logout_minutes = 15
    facility.save()
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _login(client, medtech_user.username, PASSWORD)
        assert client.get(reverse("board")).status_code == 200
    signed_out = None
    for step in range(1, 40):  # a poll every 30 s for 19.5 minutes, nobody touching the cart
        with time_machine.travel(start + timedelta(seconds=30 * step), tick=False):
            response = _poll(client)
            if "HX-Redirect" in response:
                signed_out = step
                break
            assert response.status_code == 200
    assert signed_out is not None and 15 * 60 < 30 * signed_out <= 15 * 60 + 30
    # htmx takes the whole page to the login page, and back to the board afterwards.
    assert response["HX-Redirect"] == reverse("login") + "?next=%2Fmedpass%2F"
    with time_machine.travel(start + timedelta(seconds=30 * signed_out + 1), tick=False):
        page = client.get(reverse("board"))
        assert page.status_code == 302 and page.url.startswith(reverse("login"))
        login_page = client.get(page.url).content.decode()
        assert "signed out after 15 minutes without activity" in login_page


def test_real_clicks_keep_the_session_between_polls(facility, medtech_user):
    facility.idle_logout_minutes = 15
    facility.save()
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _login(client, medtech_user.username, PASSWORD)
    for minute in range(1, 61):  # an hour: a click every 10 minutes, polls in between
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            if minute % 10 == 0:
                assert client.get(reverse("resident_list")).status_code == 200
            else:
                response = _poll(client)
                assert response.status_code == 200 and "HX-Redirect" not in response


def test_polls_do_not_write_the_session(facility, medtech_user, django_assert_num_queries):
    """Saving the session on every request was what let polls count as activity."""
    client = Client()
    _login(client, medtech_user.username, PASSWORD)
    client.get(reverse("board"))
    key = client.session.session_key
    from accounts.models import StaffSession as Session

    before = Session.objects.get(session_key=key).expire_date
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert _poll(client).status_code == 200
    assert Session.objects.get(session_key=key).expire_date == before


def test_idle_minutes_before_a_facility_is_chosen_come_from_settings(
    facility, other_facility, settings
):
    settings.IDLE_LOGOUT_MINUTES = 5
    user = member(facility, Role.NURSE)
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, facility=other_facility, role=Role.NURSE)
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _login(client, user.username, PASSWORD)
        assert client.get(reverse("resident_list")).url == reverse("facility_select")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.get(reverse("resident_list"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_logout_is_a_post_and_ends_the_session(medtech_client):
    response = medtech_client.post(reverse("logout"))
    assert response.status_code == 302
    assert medtech_client.get(reverse("resident_list")).status_code == 302


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "medtech.settings.production"
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-1234567890",
            "ALLOWED_HOSTS": "emar.example.org",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_secret_key_or_hosts(missing):
    env = {"DEBUG": "false", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "emar.example.org"}
    del env[missing]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS must be set" in result.stderr


def test_audit_events_carry_the_acting_user_and_url(admin_client, admin_user, resident):
    response = admin_client.post(
        reverse("resident_status", args=[resident.pk]),
        {"to_status": "hospital", "reason": "Fall, sent to ER"},
    )
    assert response.status_code == 302
    from pghistory.models import Events

    event = (
        Events.objects.references(resident)
        .filter(pgh_model="residents.ResidentEvent", pgh_label="update")
        .order_by("-pgh_created_at")
        .first()
    )
    assert event is not None
    assert event.pgh_diff["status"] == ["active", "hospital"]
    assert event.pgh_context["user"] == admin_user.pk
    assert event.pgh_context["url"] == reverse("resident_status", args=[resident.pk])


def test_bulk_update_outside_a_request_is_audited(resident):
    from residents.models import Resident

    Resident.objects.filter(pk=resident.pk).update(room="999")
    from pghistory.models import Events

    diffs = [e.pgh_diff for e in Events.objects.tracks(resident) if e.pgh_label == "update"]
    assert {"room": [resident.room, "999"]} in diffs


def test_audit_events_cannot_be_rewritten(resident, admin_user):
    from django.db import connection, transaction
    from django.db.utils import ProgrammingError

    resident_services.resident_update(actor=admin_user, resident=resident, room="12B")
    with (
        pytest.raises(ProgrammingError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM residents_residentevent")


def test_member_of_no_facility_gets_a_plain_403(db):
    from tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    response = client.get(reverse("resident_list"))
    assert response.status_code == 403
    assert b"not a member of any facility" in response.content


def test_inactive_membership_loses_access(facility):
    user = member(facility, Role.NURSE)
    user.memberships.update(is_active=False)
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    assert client.get(reverse("resident_list")).status_code == 403


def test_healthz_is_503_when_the_broker_is_down(client, db, monkeypatch):
    from celery import current_app

    # A port nothing listens on: the real connection attempt fails, as with a stopped Redis.
    # Celery prefers the CELERY_BROKER_URL variable (the embedded launcher sets it) to its
    # configuration, so both point there: the test holds whichever Redis the suite runs on.
    # The configuration first: monkeypatch remembers the value it replaces, and once the variable
    # is set Celery would read (and later restore) the dead URL as the configured one.
    dead = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(current_app.conf, "broker_url", dead)
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
    assert body["status"] == "unavailable"
