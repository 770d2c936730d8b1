"""The signed-in request's membership, read in one plain statement, is the ORM's own."""

import pytest
from django.db.models import DateTimeField

from accounts.models import Facility, Membership, Role, User
from accounts.selectors import (
    medication_aide_certification,
    medication_aide_on,
    membership_for_request,
)
from tests.factories import CertificationFactory, FacilityFactory, MembershipFactory, member

PLAIN = {
    "AutoField",
    "BigAutoField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "DateField",
    "ForeignKey",
    "IntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "EmailField",
    "TextField",
    "TimeField",  # the driver reads a time column as datetime.time, what the ORM gives
}


@pytest.mark.parametrize("model", [Membership, User, Facility])
def test_the_models_read_this_way_hold_only_plain_values(model):
    """Rows become instances without the fields' converters: a field that needs one (JSON,
    a custom type) must be read another way, and this test says so."""
    kinds = {field.get_internal_type() for field in model._meta.concrete_fields}
    assert kinds <= PLAIN, f"{model.__name__} has {kinds - PLAIN}: adapt membership_for_request"


@pytest.mark.django_db
def test_it_is_the_same_membership_user_and_facility_as_the_orm_reads(django_assert_num_queries):
    facility = FacilityFactory()
    other = FacilityFactory(name="Elsewhere")
    user = member(facility, Role.MED_TECH)
    MembershipFactory(user=user, facility=other, role=Role.MED_TECH)
    CertificationFactory(user=user)
    membership = Membership.objects.get(user=user, facility=facility)

    with django_assert_num_queries(1):
        read = membership_for_request(user_id=membership.user_id, facility_id=facility.pk)

    orm = Membership.objects.select_related("user", "facility").get(pk=membership.pk)
    for model_name in ("", "user", "facility"):
        ours = getattr(read, model_name) if model_name else read
        theirs = getattr(orm, model_name) if model_name else orm
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(ours, field.attname) == getattr(theirs, field.attname), field.name
            if isinstance(field, DateTimeField) and getattr(ours, field.attname):
                assert getattr(ours, field.attname).utcoffset() is not None
    assert read.facility_count == 2
    today = facility.local_today()
    assert medication_aide_on(read.aide_terms, today) == medication_aide_certification(
        user=membership.user, today=today
    )


@pytest.mark.django_db
def test_an_inactive_membership_or_another_facility_is_none():
    facility = FacilityFactory()
    membership = Membership.objects.get(user=member(facility, Role.NURSE))
    assert membership_for_request(user_id=membership.user_id, facility_id=facility.pk + 99) is None
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    assert membership_for_request(user_id=membership.user_id, facility_id=facility.pk) is None


@pytest.mark.django_db
def test_a_signed_in_request_reads_one_query_before_its_view_and_writes_nothing(
    facility, medtech_user
):
    """The floor of every signed-in page: the session with the membership (its user, facility,
    facility count and certification) in one statement; the session written only at sign-in
    and at most once a minute after."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tests.factories import PASSWORD

    client = Client()
    client.post(reverse("login"), {"username": medtech_user.username, "password": PASSWORD})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("healthz"))  # its view reads one "SELECT 1"
    assert response.wsgi_request.membership.facility_id == facility.pk
    assert response.wsgi_request.user == medtech_user
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]


@pytest.mark.django_db
def test_choosing_another_facility_is_read_with_the_session_from_the_next_request(
    facility, other_facility
):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import StaffSession
    from tests.factories import PASSWORD

    user = member(facility, Role.NURSE)
    MembershipFactory(user=user, facility=other_facility, role=Role.MED_TECH)
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    client.post(reverse("facility_select"), {"facility": other_facility.pk})
    row = StaffSession.objects.get(session_key=client.session.session_key)
    assert (row.user_id, row.facility_id) == (user.pk, other_facility.pk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("healthz"))
    assert response.wsgi_request.membership.facility_id == other_facility.pk
    assert response.wsgi_request.role == Role.MED_TECH
    assert len(queries.captured_queries) == 2


@pytest.mark.django_db
def test_a_membership_ended_after_sign_in_is_no_longer_read(facility, medtech_user):
    from django.test import Client
    from django.urls import reverse

    from tests.factories import PASSWORD

    client = Client()
    client.post(reverse("login"), {"username": medtech_user.username, "password": PASSWORD})
    Membership.objects.filter(user=medtech_user).update(is_active=False)
    response = client.get(reverse("healthz"))
    assert response.wsgi_request.membership is None
    response = client.get(reverse("board"))
    assert response.status_code == 403
    assert b"not a member of any facility" in response.content


@pytest.mark.django_db
def test_a_session_row_that_disagrees_with_its_data_is_read_the_slower_way(
    facility, other_facility, medtech_user
):
    """The columns only speed reading up: the session's signed data decides."""
    from django.test import Client
    from django.urls import reverse

    from accounts.models import StaffSession
    from tests.factories import PASSWORD

    client = Client()
    client.post(reverse("login"), {"username": medtech_user.username, "password": PASSWORD})
    MembershipFactory(user=medtech_user, facility=other_facility, role=Role.NURSE)
    StaffSession.objects.filter(session_key=client.session.session_key).update(
        facility_id=other_facility.pk
    )
    response = client.get(reverse("healthz"))
    assert response.wsgi_request.membership.facility_id == facility.pk
    assert response.wsgi_request.role == Role.MED_TECH


@pytest.mark.django_db
def test_the_beat_clears_expired_sessions_and_keeps_the_others(facility, medtech_user):
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import StaffSession
    from accounts.tasks import clear_expired_sessions
    from tests.factories import PASSWORD

    signed_in, expired = Client(), Client()
    for client in (signed_in, expired):
        client.post(reverse("login"), {"username": medtech_user.username, "password": PASSWORD})
    StaffSession.objects.filter(session_key=expired.session.session_key).update(
        expire_date=timezone.now()
    )
    clear_expired_sessions()
    assert list(StaffSession.objects.values_list("session_key", flat=True)) == [
        signed_in.session.session_key
    ]
    assert signed_in.get(reverse("board")).status_code == 200
