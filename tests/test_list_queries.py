"""List pages cost the same number of queries with 5 rows as with 25.

Each test opens a page at size N, grows the data to 5N and opens it again: the counts must be
equal. A page whose count grows has an N+1 (a missing select_related / prefetch_related).
"""

from datetime import timedelta

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import CertificationKind, Role, User
from residents import services
from residents.models import AllergyStatus, ResidentStatus
from tests.factories import (
    AllergyFactory,
    CertificationFactory,
    ResidentFactory,
    UnitFactory,
    member,
)

N = 5


def _queries(client, url: str) -> tuple[int, list[str]]:
    client.get(url)  # warm per-process caches (content types, sessions) before measuring
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured), [query["sql"] for query in captured.captured_queries]


def _assert_constant(small: tuple[int, list[str]], large: tuple[int, list[str]], what: str):
    if small[0] != large[0]:
        extra = "\n".join(large[1][small[0] :])
        pytest.fail(f"{what}: {small[0]} queries at size {N}, {large[0]} at {5 * N}.\n{extra}")


@pytest.fixture
def second_unit(facility):
    return UnitFactory(facility=facility, name="South Wing")


def _add_residents(facility, units, count, start, recorder):
    for i in range(start, start + count):
        resident = ResidentFactory(
            facility=facility,
            unit=units[i % len(units)],
            first_name=f"Pat{i}",
            last_name=f"Smith{i:03d}",
            room=f"{200 + i}",
            status=ResidentStatus.LOA if i % 2 else ResidentStatus.ACTIVE,
        )
        if i % 3 == 0:
            AllergyFactory(resident=resident, recorded_by=recorder, substance=f"Drug {i}")
            resident.allergy_status = AllergyStatus.RECORDED
            resident.save(update_fields=["allergy_status"])


@pytest.mark.parametrize(
    "query",
    ["", "?q=Smith", "?q=pat", "?unit={unit}", "?status=loa", "?q=smith&unit={unit}&status=active"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-rows"])
def test_resident_list_queries_do_not_grow_with_residents(
    admin_client, admin_user, facility, unit, second_unit, query, htmx
):
    client_get_kwargs = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    url = reverse("resident_list") + query.format(unit=unit.pk)
    units = [unit, second_unit]

    def measure():
        admin_client.get(url, **client_get_kwargs)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url, **client_get_kwargs)
        assert response.status_code == 200
        assert b"Smith" in response.content  # the measured page lists rows
        return len(captured), [q["sql"] for q in captured.captured_queries]

    _add_residents(facility, units, N, 0, admin_user)
    small = measure()
    _add_residents(facility, units, 4 * N, N, admin_user)
    large = measure()

    _assert_constant(small, large, f"resident list {query or '(all)'}")


def _add_staff(facility, count, start):
    today = timezone.now().date()
    for i in range(start, start + count):
        user = member(facility, Role.MED_TECH if i % 2 else Role.NURSE, username=f"staff{i}")
        CertificationFactory(user=user, kind=CertificationKind.MEDICATION_AIDE)
        CertificationFactory(
            user=user, kind=CertificationKind.CPR, expires=today - timedelta(days=i + 1)
        )


@pytest.mark.parametrize("query", ["", "?q=staff", "?role=med_tech"])
def test_staff_list_queries_do_not_grow_with_staff(admin_client, facility, query):
    url = reverse("staff_list") + query

    _add_staff(facility, N, 0)
    small = _queries(admin_client, url)
    _add_staff(facility, 4 * N, N)
    large = _queries(admin_client, url)

    _assert_constant(small, large, f"staff list {query or '(all)'}")


def _add_expiring(facility, count, start):
    today = timezone.now().date()
    for i in range(start, start + count):
        user = member(facility, Role.MED_TECH, username=f"expiring{i}")
        CertificationFactory(user=user, expires=today + timedelta(days=i % 30))


def test_expiring_certifications_queries_do_not_grow(nurse_client, facility):
    url = reverse("certification_expiring")

    _add_expiring(facility, N, 0)
    small = _queries(nurse_client, url)
    _add_expiring(facility, 4 * N, N)
    large = _queries(nurse_client, url)

    _assert_constant(small, large, "expiring certifications")
    last = User.objects.get(username=f"expiring{5 * N - 1}")
    assert str(last) in nurse_client.get(url).content.decode()


def _grow_profile(resident, count, start, users):
    for i in range(start, start + count):
        AllergyFactory(resident=resident, recorded_by=users[i % len(users)], substance=f"Drug {i}")
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save(update_fields=["allergy_status"])
    for i in range(count):
        # Alternate LOA and back, each change recorded by a different user.
        to_status = ResidentStatus.ACTIVE if resident.status == ResidentStatus.LOA else "loa"
        services.resident_change_status(
            actor=users[(start + i) % len(users)],
            resident=resident,
            to_status=to_status,
            reason=f"Change {start + i}",
        )
        resident.refresh_from_db()


@pytest.mark.parametrize("persona", ["admin_client", "medtech_client"])
def test_resident_profile_queries_do_not_grow_with_allergies_and_history(
    request, facility, resident, admin_user, nurse_user, medtech_user, persona
):
    client = request.getfixturevalue(persona)
    users = [admin_user, nurse_user, medtech_user]
    url = reverse("resident_detail", args=[resident.pk])

    _grow_profile(resident, 1, 0, users)
    small = _queries(client, url)
    _grow_profile(resident, 9, 1, users)
    large = _queries(client, url)

    content = client.get(url).content.decode()
    assert "Drug 9" in content
    assert "Change 9" in content
    if small[0] != large[0]:
        extra = "\n".join(large[1][small[0] :])
        pytest.fail(
            f"resident profile: {small[0]} queries with 1 allergy, {large[0]} with 10.\n{extra}"
        )


def _grow_audit(resident, count, start, users):
    for i in range(start, start + count):
        user = users[i % len(users)]
        with pghistory.context(user=user.pk, url="/test/"):
            services.resident_update(actor=user, resident=resident, notes=f"Note {i}")
            AllergyFactory(resident=resident, recorded_by=user, substance=f"Audit drug {i}")


def test_audit_trail_queries_do_not_grow_with_events(
    nurse_client, facility, resident, admin_user, nurse_user, medtech_user
):
    users = [admin_user, nurse_user, medtech_user]
    url = reverse("report_audit_resident", args=[resident.pk])

    _grow_audit(resident, 2, 0, users)
    small = _queries(nurse_client, url)
    _grow_audit(resident, 8, 2, users)
    large = _queries(nurse_client, url)

    content = nurse_client.get(url).content.decode()
    assert "Note 9" in content
    assert "Audit drug 9" in content
    assert str(medtech_user) in content
    if small[0] != large[0]:
        extra = "\n".join(large[1][small[0] :])
        pytest.fail(
            f"audit trail: {small[0]} queries with few events, {large[0]} with many.\n{extra}"
        )


def _add_carted_residents(facility, units, count, start, nurse, med_tech):
    """Residents on carts, half of them given to `med_tech` for the shift running now."""
    from core.shifts import shift_at
    from residents.models import Cart

    shift = shift_at(timezone.now(), facility.shifts)
    added = []
    for i in range(start, start + count):
        cart = Cart.objects.get_or_create(facility=facility, name=f"Cart {i % 3}")[0]
        resident = ResidentFactory(
            facility=facility, unit=units[i % len(units)], last_name=f"Smith{i:03d}", cart=cart
        )
        added.append(resident)
    mine = [r.pk for r in added if r.pk % 2 == 0]
    current = list(
        facility.residents.filter(
            shift_assignments__med_tech=med_tech,
            shift_assignments__shift_day=shift.day,
            shift_assignments__shift_name=shift.name,
        )
    )
    services.shift_assignment_set(
        actor=nurse,
        facility=facility,
        med_tech=med_tech,
        shift=shift,
        residents=current + [r for r in added if r.pk in mine],
    )


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("medtech_client", "shift_assignments"),
        ("nurse_client", "shift_assignments"),
        ("medtech_client", "passing_choose"),
        ("nurse_client", "cart_list"),
        ("nurse_client", "cart_edit"),
    ],
)
def test_med_pass_setup_pages_do_not_grow_with_residents_and_carts(
    request, facility, unit, second_unit, nurse_user, medtech_user, persona, page
):
    from residents.models import Cart

    client = request.getfixturevalue(persona)
    units = [unit, second_unit]
    _add_carted_residents(facility, units, N, 0, nurse_user, medtech_user)
    url = reverse(page, args=[Cart.objects.get(name="Cart 0").pk] if page == "cart_edit" else [])
    small = _queries(client, url)
    _add_carted_residents(facility, units, 4 * N, N, nurse_user, medtech_user)
    large = _queries(client, url)

    _assert_constant(small, large, page)
    content = client.get(url).content.decode()
    if page in ("shift_assignments", "cart_edit"):
        assert f"Smith{5 * N - 1:03d}" in content


def _grow_inbox(facility, units, count, start):
    """Residents with dose alerts (a high-alert drug among them), low supply, a rolled-up
    missed dose, and a facility-wide alert."""
    from mar.models import Alert, AlertKind, AlertSeverity, DoseState
    from tests.factories import MedicationFactory, PrescriptionFactory, scheduled_dose

    now = timezone.now()
    for i in range(start, start + count):
        resident = ResidentFactory(
            facility=facility, unit=units[i % len(units)], first_name=f"Inbox{i}"
        )
        order = PrescriptionFactory(
            resident=resident,
            medication=MedicationFactory(high_alert="anticoagulant" if i % 2 else ""),
        )
        due = now - timedelta(hours=2, minutes=i)
        dose = scheduled_dose(order, due, state=DoseState.OVERDUE, window_minutes=0)
        rollup = Alert.objects.create(
            facility=facility,
            resident=resident,
            kind=AlertKind.MISSED_ROLLUP,
            subject=f"missed-review:{resident.pk}:0",
            message="1 missed dose not reviewed",
            created_at=now,
        )
        for kind, subject, extra in (
            (AlertKind.OVERDUE_DOSE, f"dose:{dose.pk}", {"dose": dose}),
            (AlertKind.LOW_SUPPLY, f"stock:{i}:0", {"severity": AlertSeverity.INFO}),
            (AlertKind.MISSED_DOSE, f"old:{i}", {"rolled_into": rollup}),
            (AlertKind.CERTIFICATION, f"cert:{i}", {"resident": None}),
        ):
            Alert.objects.create(
                **{
                    "facility": facility,
                    "resident": resident,
                    "kind": kind,
                    "subject": subject,
                    "message": "Alert",
                    "created_at": now - timedelta(minutes=i),
                    **extra,
                }
            )


@pytest.mark.parametrize(
    "query", ["", "?group=kind", "?group=none", "?group=resident&severity=3&unit={unit}"]
)
def test_alert_inbox_queries_do_not_grow_with_alerts(
    nurse_client, facility, unit, second_unit, query
):
    url = reverse("alert_list") + query.format(unit=unit.pk)

    _grow_inbox(facility, [unit, second_unit], N, 0)
    small = _queries(nurse_client, url)
    _grow_inbox(facility, [unit, second_unit], 4 * N, N)
    large = _queries(nurse_client, url)

    _assert_constant(small, large, f"alert inbox {query or '(by resident)'}")


def test_supervisor_home_queries_do_not_grow(nurse_client, facility, unit, second_unit):
    from tests.factories import PrescriptionFactory

    def grow(count, start):
        _grow_inbox(facility, [unit, second_unit], count, start)
        _add_expiring(facility, count, start)
        for _ in range(count):
            PrescriptionFactory(
                resident=ResidentFactory(facility=facility, unit=unit),
                pending=True,
            )

    grow(N, 0)
    small = _queries(nurse_client, reverse("home"))
    grow(4 * N, N)
    large = _queries(nurse_client, reverse("home"))

    _assert_constant(small, large, "supervisor home")


def test_verification_queue_queries_do_not_grow(nurse_client, facility, unit):
    from tests.factories import PrescriptionFactory

    def grow(count):
        for _ in range(count):
            old = PrescriptionFactory(resident=ResidentFactory(facility=facility, unit=unit))
            PrescriptionFactory(
                resident=old.resident,
                replaces=old,
                pending=True,
            )

    grow(N)
    small = _queries(nurse_client, reverse("verification_queue"))
    grow(4 * N)
    large = _queries(nurse_client, reverse("verification_queue"))

    _assert_constant(small, large, "verification queue")


def test_staff_audit_trail_pages_cost_the_same_with_more_events(
    nurse_client, facility, resident, nurse_user
):
    url = reverse("report_audit_staff", args=[nurse_user.pk])

    _grow_audit(resident, 3, 0, [nurse_user])
    small = _queries(nurse_client, url)
    _grow_audit(resident, 40, 3, [nurse_user])
    large = _queries(nurse_client, url)

    _assert_constant(small, large, "staff audit trail")
    content = nurse_client.get(url).content.decode()
    assert "Page 1 of 2 (86 in all)" in content
    assert "Audit drug 42" in content and "Audit drug 3<" not in content
    second = nurse_client.get(url, {"page": 2}).content.decode()
    assert "Audit drug 3<" in second


def _add_stock(facility, nurse, count, start):
    from inventory.services import stock_receive
    from tests.factories import MedicationFactory

    for i in range(start, start + count):
        resident = ResidentFactory(facility=facility, first_name=f"Stocky{i}", last_name="Lane")
        stock_receive(
            actor=nurse,
            facility=facility,
            resident=resident,
            medication=MedicationFactory(name=f"Stockmed{i:03d}"),
            quantity="30",
        )


@pytest.mark.parametrize("query", ["", "?q=lane", "?controlled=1", "?q=stockmed&page=2"])
def test_stock_list_queries_do_not_grow_with_items(nurse_client, facility, nurse_user, query):
    url = reverse("stock_list") + query

    _add_stock(facility, nurse_user, 12, 0)
    small = _queries(nurse_client, url)
    _add_stock(facility, nurse_user, 48, 12)
    large = _queries(nurse_client, url)

    _assert_constant(small, large, f"stock list {query or '(all)'}")


def _add_pdf_jobs(facility, units, count, start):
    from reports.models import JobState, MarPdfJob

    now = timezone.now()
    for i in range(start, start + count):
        requester = member(facility, Role.NURSE, username=f"asker{i}")
        MarPdfJob.objects.create(
            facility=facility,
            unit=units[i % len(units)],
            year=2000 + i,
            month=1 + i % 12,
            state=[JobState.DONE, JobState.QUEUED, JobState.FAILED][i % 3],
            requested_by=requester,
            requested_at=now - timedelta(minutes=i),
            updated_at=now,
            pdf=b"%PDF-1.7" if i % 3 == 0 else None,
            pdf_bytes=8 if i % 3 == 0 else 0,
        )


def test_unit_mar_pdf_list_queries_do_not_grow_with_jobs(nurse_client, facility, unit, second_unit):
    url = reverse("mar_pdf_jobs")

    _add_pdf_jobs(facility, [unit, second_unit], N, 0)
    small = _queries(nurse_client, url)
    _add_pdf_jobs(facility, [unit, second_unit], 4 * N, N)
    large = _queries(nurse_client, url)

    _assert_constant(small, large, "unit MAR PDF list")


def _grow_shift(facility, unit, count, start, nurse, now):
    """Residents of the unit, each with a dose refused and one missed in the shift, and a
    handoff note; half of them sent on leave during the shift."""
    import uuid

    from handoff import services as handoff_services
    from residents.services import resident_change_status
    from tests.factories import PrescriptionFactory, record_dose, scheduled_dose

    for i in range(start, start + count):
        resident = ResidentFactory(facility=facility, unit=unit, last_name=f"Shift{i:03d}")
        due = now - timedelta(hours=2)
        record_dose(
            nurse,
            scheduled_dose(PrescriptionFactory(resident=resident), due),
            "refused",
            reason="Asleep",
        )
        scheduled_dose(
            PrescriptionFactory(resident=resident), due - timedelta(hours=1), state="missed"
        )
        handoff_services.handoff_note_add(
            actor=nurse,
            resident=resident,
            category="care",
            text=f"Note {i}",
            key=uuid.uuid4(),
            now=now - timedelta(minutes=10),
        )
        if i % 2:
            resident_change_status(
                actor=nurse,
                resident=resident,
                to_status=ResidentStatus.LOA,
                reason="With family",
                effective_at=now - timedelta(minutes=30),
            )


def test_shift_report_queries_do_not_grow_with_residents(
    medtech_client, nurse_client, facility, unit, nurse_user
):
    from core.shifts import shift_at, shift_before

    # The shift before this one: over, every record of it in the past.
    shift = shift_before(shift_at(timezone.now(), facility.shifts), facility.shifts)
    at = shift.starts_at + timedelta(hours=3, minutes=30)
    url = f"{reverse('shift_report')}?unit={unit.pk}&shift={shift.key}"
    _grow_shift(facility, unit, N, 0, nurse_user, at)
    # A second unit whose previous shift was submitted: the last 24 hours show it in full.
    other = UnitFactory(facility=facility, name="West Wing")
    ResidentFactory(facility=facility, unit=other)
    from handoff import services as handoff_services

    handoff_services.shift_report_submit(actor=nurse_user, unit=other, shift=shift, now=at)
    small = _queries(medtech_client, url)
    small_day = _queries(nurse_client, reverse("shift_reports_last_day"))
    _grow_shift(facility, unit, 4 * N, N, nurse_user, at)
    for name in ("East Wing", "Garden Wing"):  # more units, each with a submitted report
        more = UnitFactory(facility=facility, name=name)
        ResidentFactory(facility=facility, unit=more)
        handoff_services.shift_report_submit(actor=nurse_user, unit=more, shift=shift, now=at)
    large = _queries(medtech_client, url)
    large_day = _queries(nurse_client, reverse("shift_reports_last_day"))
    body = medtech_client.get(url).content.decode()
    _assert_constant(small, large, "shift report")
    _assert_constant(small_day, large_day, "shift reports, last 24 hours")
    assert body.count("Asleep") == 5 * N  # every refusal is on it
    assert body.count("With family") == 5 * N // 2  # every leave too (the odd ones)


def test_appointment_calendar_and_lists_do_not_grow_with_appointments(
    medtech_client, nurse_client, facility, unit, medtech_user
):
    from appointments import services as appointment_services

    resident = ResidentFactory(facility=facility, unit=unit)

    def book(n: int) -> None:
        start = timezone.now() + timedelta(days=1)
        for i in range(n):
            other = ResidentFactory(facility=facility, unit=unit)
            for who in (other, resident):
                appointment = appointment_services.appointment_create(
                    actor=medtech_user,
                    resident=who,
                    provider_name=f"Dr. {i}",
                    starts_at=start + timedelta(minutes=10 * i),
                    expected_return_at=start + timedelta(minutes=10 * i, hours=1),
                    purpose="Check-up",
                    transport="van",
                )
            if i % 2:
                appointment_services.appointment_book_transport(
                    actor=medtech_user,
                    appointment=appointment,
                    version=1,
                    pickup_at=appointment.starts_at,
                )

    day = (timezone.now() + timedelta(days=1)).astimezone(facility.tz).date().isoformat()
    pages = [
        (medtech_client, reverse("appointment_calendar") + f"?date={day}"),
        (medtech_client, reverse("appointment_calendar") + f"?date={day}&view=week&unit={unit.pk}"),
        (medtech_client, reverse("resident_appointments", args=[resident.pk])),
        (nurse_client, reverse("home")),
    ]
    book(N)
    small = [_queries(client, url) for client, url in pages]
    book(4 * N)
    for (client, url), before in zip(pages, small, strict=True):
        _assert_constant(before, _queries(client, url), url)


@pytest.mark.parametrize(
    "query", ["?medication_query=searchmed", "?medication_query=searchmed+10mg"]
)
def test_medication_search_queries_do_not_grow_with_the_catalog(nurse_client, query):
    """The order form's medication search (the page; the htmx fragment reads the same)."""
    from meds.models import MedicationPackage
    from tests.factories import MedicationFactory

    def add(start: int, count: int) -> None:
        for i in range(start, start + count):
            medication = MedicationFactory(name=f"Searchmed{i:03d}", strength=f"{i} mg")
            MedicationPackage.objects.create(
                medication=medication, ndc=f"12345-{i:03d}-01", ndc11=f"123450{i:03d}01"
            )

    url = reverse("medication_search") + query
    add(0, N)
    small = _queries(nurse_client, url)
    add(N, 4 * N)
    _assert_constant(small, _queries(nurse_client, url), "medication search")
