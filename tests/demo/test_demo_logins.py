"""The demo as the README tells it: its logins listed in the README, on the login page and on
every page in demo mode (never with the production settings), the orders waiting where the
nurse works, and the seed saying how far it got while it builds the history."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from demo.people import demo_logins
from meds.models import Prescription
from tests.databases import DEMO_HISTORY_DAYS, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "demo-logins-test-password"


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True
    settings.DEMO_PASSWORD = PASSWORD


def test_the_readme_lists_every_demo_login_with_its_role_and_facility():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Demo logins") : readme.index("The demo opens")]
    for login in demo_logins():
        row = re.search(rf"^\| `{login.username}` \| ([^|]+) \| ([^|]+) \|$", section, re.M)
        assert row, f"{login.username} is not in the README's demo logins"
        assert row[1].strip().lower().startswith(login.role.lower()), row[0]
        assert row[2].strip().startswith(login.facility), row[0]


def test_the_login_page_lists_every_demo_login_and_the_password(demo_mode, db):
    page = Client().get(reverse("login")).content.decode()

    assert PASSWORD in page
    for login in demo_logins():
        assert f"<code>{login.username}</code>" in page
    assert "Cedar House Group Home" in page
    assert "medication aide certification expires in 10 days" in page


def test_every_page_folds_the_demo_logins_away_at_its_foot(demo_mode, nurse_client):
    page = nurse_client.get(reverse("resident_list")).content.decode()

    banner = page[page.index('<footer class="demo-banner">') :]
    assert f"Demo mode: {len(demo_logins())} logins, password <code>{PASSWORD}</code>" in banner
    assert "<code>cedarnurse</code>" in banner


def test_outside_demo_mode_no_page_shows_a_demo_login(db, nurse_client):
    for page in (Client().get(reverse("login")), nurse_client.get(reverse("resident_list"))):
        text = page.content.decode()
        assert "Demo logins" not in text
        assert "demo-banner" not in text


def test_with_the_production_settings_the_login_page_shows_no_demo_login():
    # Even when the environment asks for demo mode.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "medtech.settings.production",
        "DEBUG": "false",
        "SECRET_KEY": "p" * 60,
        "ALLOWED_HOSTS": "emar.example.org",
        "DEMO_MODE": "true",
        "DEMO_PASSWORD": "leaked-demo-password",
    }
    # The static files' manifest exists only after collectstatic: plain storage here.
    script = (
        "from django.conf import settings\n"
        "from django.test import Client, override_settings\n"
        "plain = {'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}\n"
        "with override_settings(STORAGES={**settings.STORAGES, 'staticfiles': plain}):\n"
        "    r = Client().get('/login/', secure=True, HTTP_HOST='emar.example.org')\n"
        "print(r.status_code)\n"
        "print(r.content.decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\n200\n" in f"\n{result.stdout}", result.stdout[:500]
    assert "Sign in to MedTech eMAR" in result.stdout
    assert "leaked-demo-password" not in result.stdout
    assert "Demo logins" not in result.stdout
    assert "<code>medtech</code>" not in result.stdout


# The demo's copy is committed data: a transactional test.
@pytest.mark.django_db(transaction=True)
def test_the_seed_reports_each_day_of_history_and_ends_with_the_logins(demo_database):
    # The tests' demo is seeded once per run (tests/conftest.py); what the seed printed is kept.
    days = DEMO_HISTORY_DAYS
    assert days >= 2, "a day reported after another"
    lines = demo_database.output.splitlines()

    progress = [line for line in lines if line.startswith("history: day")]
    assert progress == [f"history: day {day} of {days}" for day in range(1, days + 1)]
    planning = f"history: planning the doses of the last {days} days"
    assert lines.index(planning) < lines.index(progress[0])
    end = lines[lines.index(f"Demo logins (password for all: {DEMO_PASSWORD}):") :]
    assert [line.split()[0] for line in end[1:]] == [login.username for login in demo_logins()]
    # The verification queues: two orders where `nurse` works, one at Cedar House.
    pending = Prescription.objects.filter(status="pending")
    assert pending.filter(facility__name="Maple Grove Assisted Living").count() == 2
    assert pending.filter(facility__name="Cedar House Group Home").count() == 1
