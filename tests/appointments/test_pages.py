"""Appointment pages: booking from the resident, the steps on the appointment's page, the
calendar and the resident's list at constant queries, the supervisor's home flag, the board's
"out — appointment", the packet PDF and the FHIR Appointment."""

import datetime
import json
import subprocess
from datetime import UTC, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from appointments import services
from appointments.models import Appointment, AppointmentState
from mar.models import Administration, AdminStatus
from reports.fhir import resident_bundle
from tests.factories import (
    CertificationFactory,
    PrescriptionFactory,
    ResidentFactory,
    scheduled_dose,
)

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def local(day, hour, minute=0):
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=NEW_YORK)


def book(actor, resident, starts_at=None, **fields):
    starts_at = starts_at or local(11, 10)
    return services.appointment_create(
        actor=actor,
        resident=resident,
        provider_name="Dr. Patel",
        provider_specialty="Cardiology",
        starts_at=starts_at,
        expected_return_at=starts_at + timedelta(hours=2),
        purpose="Echocardiogram",
        transport="van",
        **fields,
    )


def test_a_med_tech_books_from_the_resident_and_lands_on_the_appointment(medtech_client, resident):
    response = medtech_client.post(
        reverse("appointment_new", args=[resident.pk]),
        {
            "provider_name": "Dr. Patel",
            "provider_specialty": "Cardiology",
            "starts_at": "2026-06-11T10:00",
            "expected_return_at": "2026-06-11T12:00",
            "purpose": "Echocardiogram",
            "transport": "van",
        },
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appointment_detail", args=[appointment.pk])
    assert appointment.starts_at == datetime.datetime(2026, 6, 11, 14, 0, tzinfo=UTC)
    page = medtech_client.get(response["Location"]).content.decode()
    assert "Transport not booked" in page and "Book the transport" in page


def test_a_refused_booking_keeps_what_was_typed_beside_the_field(medtech_client, resident):
    response = medtech_client.post(
        reverse("appointment_new", args=[resident.pk]),
        {
            "provider_name": "Dr. Patel",
            "starts_at": "2026-06-11T10:00",
            "expected_return_at": "2026-06-11T09:00",
            "purpose": "Echocardiogram",
            "transport": "van",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The expected return must be after the appointment." in body
    assert 'value="Dr. Patel"' in body
    assert not Appointment.objects.exists()


def test_a_stale_step_is_refused_on_the_page(medtech_client, medtech_user, resident):
    appointment = book(medtech_user, resident)
    services.appointment_book_transport(
        actor=medtech_user, appointment=appointment, version=1, pickup_at=local(11, 9)
    )
    response = medtech_client.post(
        reverse("appointment_cancel", args=[appointment.pk]), {"version": "1", "reason": "x"}
    )
    assert "Someone changed this appointment" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.SCHEDULED


def test_the_supervisors_home_flags_tomorrows_transport_until_booked(
    nurse_client, medtech_user, resident
):
    appointment = book(medtech_user, resident)
    body = nurse_client.get(reverse("home")).content.decode()
    assert "Tomorrow&#x27;s appointments" in body or "Tomorrow's appointments" in body
    assert "1 transport not booked" in body and "Transport not booked" in body
    services.appointment_book_transport(
        actor=medtech_user, appointment=appointment, version=1, pickup_at=local(11, 9)
    )
    body = nurse_client.get(reverse("home")).content.decode()
    assert "Transport not booked" not in body and "Transport booked" in body


def test_the_board_and_the_pass_show_out_appointment(
    medtech_client, nurse_client, medtech_user, resident
):
    CertificationFactory(user=medtech_user)
    order = PrescriptionFactory(resident=resident, times=[time(9, 0)])
    dose = scheduled_dose(order, datetime.datetime(2026, 6, 10, 9, 0))
    appointment = book(medtech_user, resident, starts_at=local(10, 8, 30))
    services.appointment_leave(actor=medtech_user, appointment=appointment, version=1)
    board = nurse_client.get(reverse("board")).content.decode()
    assert "Out — appointment" in board
    page = medtech_client.get(reverse("resident_pass", args=[resident.pk])).content.decode()
    assert "Sent with the resident" in page and "Given before leaving" not in page
    response = medtech_client.post(
        reverse("dose_record_away", args=[dose.pk]),
        {"key": "7c1e9a8b-7c6d-4e5f-8a9b-0c1d2e3f4a5b", "choice": "sent"},
    )
    assert response.status_code == 302
    assert Administration.objects.get(dose=dose).status == AdminStatus.OTHER


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_calendar_week_and_the_residents_list_cost_the_same_at_any_size(
    medtech_client, medtech_user, facility, unit, resident
):
    def add(n):
        for day in range(n):
            other = ResidentFactory(facility=facility, unit=unit)
            a = book(medtech_user, other, starts_at=local(9 + day % 5, 9 + day % 7))
            services.appointment_book_transport(
                actor=medtech_user, appointment=a, version=1, pickup_at=a.starts_at
            )
            book(medtech_user, resident, starts_at=local(10 + day % 3, 13 + day % 5))

    week = reverse("appointment_calendar") + f"?date=2026-06-10&view=week&unit={unit.pk}"
    mine = reverse("resident_appointments", args=[resident.pk])
    add(2)
    small = (_queries(medtech_client, week), _queries(medtech_client, mine))
    add(8)
    assert (_queries(medtech_client, week), _queries(medtech_client, mine)) == small


def test_the_packet_is_one_pdf_page_with_the_medications(medtech_client, medtech_user, resident):
    order = PrescriptionFactory(resident=resident)
    appointment = book(medtech_user, resident)
    response = medtech_client.get(reverse("appointment_packet", args=[appointment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    info = subprocess.run(
        ["pdfinfo", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Pages:           1" in info and "612 x 792" in info  # one Letter page, portrait
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Dr. Patel (Cardiology)" in text and order.medication.name in text
    assert "CODE STATUS" in text


def test_fhir_carries_valid_appointments(medtech_user, resident):
    booked = book(medtech_user, resident)
    gone = book(medtech_user, resident, starts_at=local(12, 10))
    services.appointment_cancel(actor=medtech_user, appointment=gone, version=1, reason="Moved")
    bundle = resident_bundle(resident=resident, start=local(10, 0), end=local(13, 0))
    data = json.loads(json.dumps(bundle))
    Bundle.model_validate(data)
    found = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Appointment"]
    for resource in found:
        get_fhir_model_class("Appointment").model_validate(resource)
    assert [a["status"] for a in found] == ["booked", "cancelled"]
    assert found[0]["start"].startswith("2026-06-11T14:00")
    assert found[1]["cancelationReason"]["text"] == "Moved"
    assert booked.pk


def test_an_edit_without_the_version_read_is_refused(medtech_client, medtech_user, resident):
    appointment = book(medtech_user, resident)
    response = medtech_client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        {
            "provider_name": "Dr. Other",
            "starts_at": "2026-06-11T10:00",
            "expected_return_at": "2026-06-11T12:00",
            "purpose": "Echocardiogram",
            "transport": "van",
        },
    )
    assert "This form is out of date" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.provider_name == "Dr. Patel"
