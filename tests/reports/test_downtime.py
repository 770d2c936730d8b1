"""The downtime MAR: a unit's doses of the next 8 hours on paper, one click from the board."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from meds.models import HoldParameter
from reports.downtime import downtime_mar
from residents.models import AllergyStatus, ResidentStatus
from tests.factories import (
    AllergyFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
    record_dose,
    scheduled_dose,
)

# 09:00 in New York (EST) on a Tuesday.
NOW = datetime(2026, 1, 6, 14, 0, tzinfo=UTC)


def _order(resident, name, **fields):
    return PrescriptionFactory(resident=resident, medication=MedicationFactory(name=name), **fields)


@pytest.fixture
def ward(facility, unit, resident):
    """Ada (room 101) with a dose overdue, one due within the 8 hours, one after them, one
    documented, a hold parameter and a PRN; Ben (room 100) with one dose; Cleo on leave; and
    a resident of another unit."""
    resident.room = "101"
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save()
    AllergyFactory(resident=resident, substance="Penicillin", reaction="hives")
    lisinopril = _order(resident, "Lisinopril", instructions="Take with water")
    HoldParameter.objects.create(
        prescription=lisinopril, vital="systolic_bp", comparator="lt", threshold=100
    )
    overdue = scheduled_dose(lisinopril, datetime(2026, 1, 6, 7, 0), state="overdue")
    due = scheduled_dose(lisinopril, datetime(2026, 1, 6, 13, 0))
    scheduled_dose(lisinopril, datetime(2026, 1, 6, 20, 0))  # after the 8 hours
    metformin = _order(resident, "Metformin")
    nurse = member(facility, Role.NURSE, username="paper-nurse")
    with time_machine.travel(datetime(2026, 1, 6, 13, 10, tzinfo=UTC), tick=False):
        record_dose(nurse, scheduled_dose(metformin, datetime(2026, 1, 6, 8, 0)))
    tylenol = _order(
        resident, "Acetaminophen", is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    ben = ResidentFactory(facility=facility, unit=unit, room="100", first_name="Ben")
    scheduled_dose(_order(ben, "Aspirin"), datetime(2026, 1, 6, 12, 0))
    cleo = ResidentFactory(facility=facility, unit=unit, room="102", first_name="Cleo")
    cleo.status = ResidentStatus.LOA
    cleo.save()
    other = ResidentFactory(facility=facility, unit=UnitFactory(facility=facility), room="200")
    scheduled_dose(_order(other, "Warfarin"), datetime(2026, 1, 6, 12, 0))
    return {"overdue": overdue, "due": due, "tylenol": tylenol, "ben": ben}


def test_the_sheet_holds_the_units_present_residents_by_room_with_their_next_doses(
    facility, unit, resident, ward
):
    sheets, until = downtime_mar(facility=facility, unit=unit, now=NOW)

    assert until == NOW + timedelta(hours=8)
    assert [s.resident.first_name for s in sheets] == ["Ben", "Ada"]  # rooms 100, 101
    ada = sheets[1]
    assert [(d.order.medication.name, d.due_at, d.overdue) for d in ada.doses] == [
        ("Lisinopril", ward["overdue"].due_at, True),
        ("Lisinopril", ward["due"].due_at, False),
    ]
    assert ada.doses[0].holds == ["Hold if Systolic BP below 100 mmHg"]
    assert "Penicillin (hives)" in ada.allergies
    [prn] = ada.prn
    assert prn.order == ward["tylenol"]
    assert prn.limits == "at least 4 h apart; at most 4 in 24 h"
    assert prn.last_given is None
    assert [d.order.medication.name for d in sheets[0].doses] == ["Aspirin"]


def test_its_query_count_does_not_grow_with_the_unit(facility, unit, resident, ward):
    with CaptureQueriesContext(connection) as few:
        downtime_mar(facility=facility, unit=unit, now=NOW)
    for n in range(6):
        someone = ResidentFactory(facility=facility, unit=unit, room=f"3{n:02d}")
        if n % 2:
            scheduled_dose(_order(someone, f"Drug{n}"), datetime(2026, 1, 6, 11, 0))
        else:
            _order(someone, f"Drug{n}", is_prn=True, times=[])
    with CaptureQueriesContext(connection) as many:
        sheets, _ = downtime_mar(facility=facility, unit=unit, now=NOW)
    assert len(sheets) == 8
    assert len(many) == len(few) == 5


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_the_board_links_the_pdf_which_reads_in_local_time(medtech_client, unit, ward):
    with time_machine.travel(NOW, tick=False):
        board = medtech_client.get(reverse("board"))
        url = reverse("downtime_mar", args=[unit.pk])
        assert url in board.content.decode()
        response = medtech_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'inline; filename="Downtime-MAR-North-Wing-2026-01-06-0900.pdf"'
    )
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Downtime MAR — North Wing, 2026-01-06 09:00 to 17:00" in text
    assert "06:00–08:00" in text and "OVERDUE" in text  # the 07:00 dose, in local time
    assert "Hold if Systolic BP below 100 mmHg" in text
    assert "Penicillin (hives)" in text
    assert "Warfarin" not in text  # another unit's
    assert "Cleo" not in text  # on leave


def test_across_the_spring_forward_the_hours_are_the_facilitys(facility, unit, resident):
    # 2026-03-08: New York skips 02:00-03:00; a dose at 04:00 local is 08:00 UTC.
    order = _order(resident, "Levothyroxine")
    dose = scheduled_dose(order, datetime(2026, 3, 8, 4, 0))
    now = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # 01:30 EST
    sheets, until = downtime_mar(facility=facility, unit=unit, now=now)
    assert [d.due_at for d in sheets[0].doses] == [dose.due_at]
    assert until.astimezone(facility.tz).strftime("%H:%M") == "10:30"  # 8 hours, EDT after 03:00


def test_another_facilitys_unit_is_not_found(nurse_client, other_facility):
    foreign = UnitFactory(facility=other_facility)
    assert nurse_client.get(reverse("downtime_mar", args=[foreign.pk])).status_code == 404
