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
    url = reverse("resident_audit", args=[resident.pk])

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
