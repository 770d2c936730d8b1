"""The demo as the README tells it: its logins listed in the README, on the login page and on
every page in demo mode (never with the production settings), the orders waiting where the
nurse works, and the seed saying how far it got while it builds the history."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo.people import demo_logins
from meds.models import Prescription

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


def test_the_seed_reports_each_day_of_history_and_ends_with_the_logins(db, monkeypatch, settings):
    settings.DEMO_PASSWORD = None
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    monkeypatch.setenv("DEMO_HISTORY_DAYS", "2")
    out = io.StringIO()

    call_command("seed_demo", "--force", stdout=out, stderr=io.StringIO())

    lines = out.getvalue().splitlines()
    progress = [line for line in lines if line.startswith("history: day")]
    assert progress == ["history: day 1 of 2", "history: day 2 of 2"]
    assert lines.index("history: planning the doses of the last 2 days") < lines.index(progress[0])
    end = lines[lines.index(f"Demo logins (password for all: {PASSWORD}):") :]
    assert [line.split()[0] for line in end[1:]] == [login.username for login in demo_logins()]
    # The verification queues: two orders where `nurse` works, one at Cedar House.
    pending = Prescription.objects.filter(status="pending")
    assert pending.filter(facility__name="Maple Grove Assisted Living").count() == 2
    assert pending.filter(facility__name="Cedar House Group Home").count() == 1
