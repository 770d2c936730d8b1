"""Monitoring as the floor sees it: the resident marked on the board, the resident page and the
shift list; the check documented in place from the med pass page; a nurse ends it early."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care import services
from care.models import MonitoringCheck, MonitoringEpisode, TaskState
from mar import services as mar_services
from tests.factories import PrescriptionFactory, ResidentFactory

from .conftest import NOW

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 1, 14)  # NOW's day in New York (10:00, the day shift)


@pytest.fixture
def episode(resident, medtech_user):
    return services.monitoring_start(
        actor=medtech_user, resident=resident, reason="Fell in the bathroom", now=NOW
    )


def _check(resident) -> MonitoringCheck:
    return MonitoringCheck.objects.get(resident=resident, shift_day=TODAY, shift_name="day")


def test_the_resident_page_marks_the_monitoring_and_the_check_is_documented_in_place(
    medtech_client, resident, episode
):
    url = reverse("resident_pass", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        page = medtech_client.get(url).content.decode()
    check = _check(resident)
    assert 'href="#monitoring">Under monitoring</a>' in page
    assert "Watch for: Fell in the bathroom" in page
    assert f'id="check-{check.pk}"' in page and "1 to document" in page
    with time_machine.travel(NOW, tick=False):
        response = medtech_client.post(
            reverse("care_check_record", args=[check.pk]),
            {"back": "pass", "status": "done", "note": "No pain, walked to lunch"},
            HTTP_HX_REQUEST="true",
        )
    block = response.content.decode()
    assert response.status_code == 200 and "<form" not in block
    assert "Done by" in block and "No pain, walked to lunch" in block
    assert '<span id="care-count" hx-swap-oob="true"></span>' in block  # nothing left
    check.refresh_from_db()
    assert check.state == TaskState.DONE and check.note == "No pain, walked to lunch"


def test_a_check_without_a_note_comes_back_with_the_message_beside_it(
    medtech_client, resident, episode
):
    check = _check(resident)
    with time_machine.travel(NOW, tick=False):
        response = medtech_client.post(
            reverse("care_check_record", args=[check.pk]),
            {"back": "pass", "status": "not_done", "note": ""},
            HTTP_HX_REQUEST="true",
        )
    block = response.content.decode()
    assert response.status_code == 200
    note_at = block.index(f'id="check-note-{check.pk}"')
    assert note_at < block.index("This field is required.") < block.index("<button")
    assert 'value="not_done" id="c' in block and "checked> Not done" in block
    check.refresh_from_db()
    assert check.state == TaskState.DUE and check.note == ""


def test_the_board_and_the_shift_list_mark_the_resident_under_monitoring(
    medtech_client, facility, unit, resident, episode
):
    other = ResidentFactory(facility=facility, unit=unit, last_name="Unwatched")
    for someone in (resident, other):
        PrescriptionFactory(resident=someone, times=[datetime.time(10, 30)])
    mar_services.doses_generate(now=NOW)
    with time_machine.travel(NOW, tick=False):
        board = medtech_client.get(reverse("board")).content.decode()
        shift = medtech_client.get(reverse("care_shift"), {"passing": "all"}).content.decode()
    rows = {
        name: next(row for row in board.split('class="board-row')[1:] if name in row)
        for name in (resident.last_name, "Unwatched")
    }
    assert ">Monitoring</small>" in rows[resident.last_name]
    assert "Monitoring" not in rows["Unwatched"]
    assert shift.count("Monitoring</span>") == 1


def test_a_nurse_ends_monitoring_early_with_a_note(nurse_client, medtech_client, resident, episode):
    url = reverse("care_monitoring_end", args=[episode.pk])
    assert medtech_client.get(url).status_code == 403
    with time_machine.travel(NOW, tick=False):
        refused = nurse_client.post(url, {"note": ""})
        assert refused.status_code == 200 and "This field is required." in refused.content.decode()
        ended = nurse_client.post(url, {"note": "Neuro checks normal; up and about"})
    assert ended.status_code == 302
    episode.refresh_from_db()
    assert episode.end_note == "Neuro checks normal; up and about"
    with time_machine.travel(NOW, tick=False):
        care = nurse_client.get(reverse("care_resident", args=[resident.pk])).content.decode()
        page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "ended early" in care and "Neuro checks normal" in care
    assert "Under monitoring" not in care and "Under monitoring" not in page
    # The day shift's check stays to document; the later shifts' are cancelled.
    assert MonitoringCheck.objects.exclude(state=TaskState.CANCELLED).count() == 1


def test_the_resident_page_reads_monitoring_in_the_same_queries(
    medtech_client, facility, unit, medtech_user
):
    quiet = ResidentFactory(facility=facility, unit=unit)
    watched = ResidentFactory(facility=facility, unit=unit)
    for reason in ("Fell", "Eats less"):
        services.monitoring_start(actor=medtech_user, resident=watched, reason=reason, now=NOW)
    assert MonitoringEpisode.objects.count() == 2

    def queries(resident) -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as seen:
            assert (
                medtech_client.get(reverse("resident_pass", args=[resident.pk])).status_code == 200
            )
        return len(seen)

    assert queries(watched) == queries(quiet)
