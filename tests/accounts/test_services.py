import datetime
from datetime import date

import pytest

from accounts import services
from accounts.models import Membership, Role, User
from core.errors import DomainError
from tests.factories import CertificationFactory, member


def test_staff_create_makes_a_user_who_can_sign_in(facility, admin_user):
    membership = services.staff_create(
        actor=admin_user,
        facility=facility,
        username="jdoe",
        password="a-long-enough-secret-9",
        role=Role.MED_TECH,
        first_name="Jane",
        last_name="Doe",
        title="CMA",
    )
    assert membership.facility == facility
    assert membership.user.check_password("a-long-enough-secret-9")
    assert membership.user.title == "CMA"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("newuser", "short", "too short"),
        ("newuser", "password123", "too common"),
        ("admin1", "a-long-enough-secret-9", "taken"),
        ("ADMIN1", "a-long-enough-secret-9", "taken"),
    ],
)
def test_staff_create_refuses_bad_input(facility, admin_user, username, password, message):
    before = User.objects.count()
    with pytest.raises(DomainError, match=message):
        services.staff_create(
            actor=admin_user,
            facility=facility,
            username=username,
            password=password,
            role=Role.NURSE,
            first_name="A",
            last_name="B",
        )
    assert User.objects.count() == before


def test_last_administrator_cannot_be_demoted_or_deactivated(facility, admin_user):
    membership = Membership.objects.get(user=admin_user)
    with pytest.raises(DomainError, match="at least one active administrator"):
        services.membership_update(
            actor=admin_user, membership=membership, role=Role.NURSE, is_active=True, title=""
        )
    with pytest.raises(DomainError, match="at least one active administrator"):
        services.membership_update(
            actor=admin_user, membership=membership, role=Role.ADMIN, is_active=False, title=""
        )
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.ADMIN, True)


def test_an_administrator_can_be_demoted_when_another_remains(facility, admin_user):
    member(facility, Role.ADMIN)
    membership = Membership.objects.get(user=admin_user)
    services.membership_update(
        actor=admin_user, membership=membership, role=Role.NURSE, is_active=True, title="RN"
    )
    membership.refresh_from_db()
    assert membership.role == Role.NURSE
    assert membership.user.title == "RN"


def test_certification_expiry_before_issue_is_refused(medtech_user, admin_user):
    with pytest.raises(DomainError, match="before the issue date"):
        services.certification_create(
            actor=admin_user,
            user=medtech_user,
            kind="cpr",
            number="1",
            issued=date(2026, 5, 1),
            expires=date(2026, 4, 1),
        )
    assert not medtech_user.certifications.exists()


def test_certification_update_and_delete(medtech_user, admin_user):
    cert = CertificationFactory(user=medtech_user)
    services.certification_update(
        actor=admin_user,
        certification=cert,
        kind=cert.kind,
        number="NEW-1",
        issued=date(2025, 1, 1),
        expires=date(2027, 1, 1),
    )
    cert.refresh_from_db()
    assert (cert.number, cert.expires) == ("NEW-1", date(2027, 1, 1))
    services.certification_delete(actor=admin_user, certification=cert)
    assert not medtech_user.certifications.exists()


def test_policy_refuses_time_critical_window_longer_than_normal(facility, admin_user):
    with pytest.raises(DomainError, match="time-critical window"):
        services.facility_update_policy(
            actor=admin_user,
            facility=facility,
            dose_window_minutes=30,
            time_critical_window_minutes=45,
        )
    facility.refresh_from_db()
    assert facility.dose_window_minutes == 60


def test_policy_refuses_shifts_out_of_order(facility, admin_user):
    with pytest.raises(DomainError, match="night shift must start after the evening") as error:
        services.facility_update_policy(
            actor=admin_user, facility=facility, night_shift_starts=datetime.time(14, 0)
        )
    assert error.value.field == "night_shift_starts"
    facility.refresh_from_db()
    assert facility.night_shift_starts == datetime.time(23, 0)


def test_policy_refuses_unknown_time_zone(facility, admin_user):
    with pytest.raises(DomainError, match="not a known time zone"):
        services.facility_update_policy(actor=admin_user, facility=facility, timezone="Mars/Base")
    facility.refresh_from_db()
    assert facility.timezone == "America/New_York"


def test_unit_names_are_unique_per_facility(facility, admin_user):
    services.unit_create(actor=admin_user, facility=facility, name="East")
    with pytest.raises(DomainError, match="already a unit"):
        services.unit_create(actor=admin_user, facility=facility, name="east")


def test_staff_set_a_pin_that_witnesses(medtech_user, nurse_user, facility):
    from tests.factories import PASSWORD

    with pytest.raises(DomainError, match="current password"):
        services.user_set_pin(actor=medtech_user, current_password="wrong", pin="2580")
    with pytest.raises(DomainError, match="4 to 8 digits"):
        services.user_set_pin(actor=medtech_user, current_password=PASSWORD, pin="12a4")
    with pytest.raises(DomainError, match="run or a repeat"):
        services.user_set_pin(actor=medtech_user, current_password=PASSWORD, pin="1234")
    services.user_set_pin(actor=medtech_user, current_password=PASSWORD, pin="2580")
    medtech_user.refresh_from_db()
    assert medtech_user.pin and "2580" not in medtech_user.pin  # stored hashed
    witness = services.staff_authenticate(
        actor=nurse_user,
        facility=facility,
        username=medtech_user.username,
        secret="2580",
        field="witness",
    )
    assert witness == medtech_user


def _sign(typist, named, secret, facility, address="10.0.0.7"):
    return services.staff_authenticate(
        actor=typist,
        facility=facility,
        username=named.username,
        secret=secret,
        field="witness",
        client_address=address,
    )


def test_five_wrong_signoffs_pause_the_typist_not_the_colleague_named(
    facility, medtech_user, nurse_user, admin_user, caplog
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accounts.models import SignoffFailure
    from tests.factories import PASSWORD

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            with pytest.raises(DomainError, match="not right") as refused:
                _sign(medtech_user, nurse_user, "guess", facility)
            assert refused.value.field == "witness"
        warning = caplog.records[-1]
        assert warning.levelname == "WARNING"
        assert all(
            part in warning.getMessage()
            for part in (medtech_user.username, repr(nurse_user.username), "10.0.0.7")
        )
        failure = SignoffFailure.objects.first()
        assert (failure.typist, failure.named_username, failure.address) == (
            medtech_user,
            nurse_user.username,
            "10.0.0.7",
        )
        # The typist is paused at that workstation, even with the right password...
        with pytest.raises(DomainError, match="paused until") as paused:
            _sign(medtech_user, nurse_user, PASSWORD, facility)
        assert paused.value.field == "witness"
        # ...while the colleague named still signs off for someone else at the same cart.
        assert _sign(admin_user, nurse_user, PASSWORD, facility) == nurse_user
        assert _sign(nurse_user, admin_user, PASSWORD, facility) == admin_user
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _sign(medtech_user, nurse_user, PASSWORD, facility) == nurse_user


def test_a_right_signoff_does_not_wipe_the_typists_wrong_ones(
    facility, medtech_user, nurse_user, admin_user
):
    """Otherwise a guesser would reset the count with a colleague's sign-off they know."""
    from tests.factories import PASSWORD

    for _ in range(4):
        with pytest.raises(DomainError, match="not right"):
            _sign(medtech_user, nurse_user, "guess", facility)
    _sign(medtech_user, admin_user, PASSWORD, facility)
    with pytest.raises(DomainError, match="not right"):
        _sign(medtech_user, nurse_user, "guess", facility)
    with pytest.raises(DomainError, match="paused until"):
        _sign(medtech_user, admin_user, PASSWORD, facility)
