"""factory-boy factories shared by every test module."""

from datetime import UTC, date, datetime, time, timedelta

import factory
from django.utils import timezone

from accounts.models import Certification, CertificationKind, Facility, Membership, Role, Unit, User
from residents.models import Allergy, Resident

PASSWORD = "correct-horse-battery"


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"Facility {n}")
    timezone = "America/New_York"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    facility = factory.SubFactory(FacilityFactory)
    name = factory.Sequence(lambda n: f"Unit {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    facility = factory.SubFactory(FacilityFactory)
    role = Role.MED_TECH


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    user = factory.SubFactory(UserFactory)
    kind = CertificationKind.MEDICATION_AIDE
    number = factory.Sequence(lambda n: f"MA-{n:05d}")
    issued = factory.LazyFunction(lambda: timezone.now().date() - timedelta(days=365))
    expires = factory.LazyFunction(lambda: timezone.now().date() + timedelta(days=365))


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    facility = factory.SubFactory(FacilityFactory)
    unit = factory.LazyAttribute(lambda o: UnitFactory(facility=o.facility))
    room = factory.Sequence(lambda n: f"{100 + n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1940, 5, 17)
    admission_date = date(2024, 1, 2)
    present_since = factory.LazyFunction(lambda: datetime(2024, 1, 2, tzinfo=UTC))


class AllergyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allergy

    resident = factory.SubFactory(ResidentFactory)
    substance = "Penicillin"
    reaction = "hives"
    recorded_by = factory.SubFactory(UserFactory)


def member(facility: Facility, role: str = Role.MED_TECH, **user_fields) -> User:
    """A user with one active membership of `facility` in `role`."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, facility=facility, role=role)
    return user


class MedicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "meds.Medication"

    name = factory.Sequence(lambda n: f"Medication{n}")
    generic_name = factory.LazyAttribute(lambda o: f"{o.name.lower()}-generic")
    strength = "10 mg"
    form = "tablet"
    default_route = "oral"


class PrescriptionFactory(factory.django.DjangoModelFactory):
    """An active, verified order "08:00 and 20:00 every day" unless told otherwise."""

    class Meta:
        model = "meds.Prescription"

    resident = factory.SubFactory(ResidentFactory)
    facility = factory.LazyAttribute(lambda o: o.resident.facility)
    medication = factory.SubFactory(MedicationFactory)
    dose_amount = 1
    dose_unit = "tablet"
    route = "oral"
    prescriber = "Dr. Hayes"
    start_date = date(2026, 1, 1)
    times = factory.LazyFunction(lambda: [time(8, 0), time(20, 0)])
    window_minutes = 60
    status = "active"
    entered_by = factory.SubFactory(UserFactory)
    verified_by = factory.SubFactory(UserFactory)
    verified_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    active_since = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))

    class Params:
        # PrescriptionFactory(pending=True): entered, waiting in the verification queue.
        pending = factory.Trait(
            status="pending", verified_by=None, verified_at=None, active_since=None
        )


def scheduled_dose(order, due: datetime, *, state="due", cancel_reason="", window_minutes=60):
    """A ScheduledDose of `order` at `due` (aware, or naive facility-local wall time)."""
    from mar.models import ScheduledDose

    if due.tzinfo is None:
        due = due.replace(tzinfo=order.facility.tz).astimezone(UTC)
    return ScheduledDose.objects.create(
        facility=order.facility,
        prescription=order,
        resident=order.resident,
        due_at=due,
        window_opens_at=due - timedelta(minutes=window_minutes),
        window_closes_at=due + timedelta(minutes=window_minutes),
        state=state,
        cancel_reason=cancel_reason,
    )


def record_dose(actor, dose, status="given", *, after=timedelta(minutes=5), **fields):
    """Document `dose` through the service, `after` its due time; returns the Administration."""
    import uuid

    from mar import services

    return services.administration_record(
        actor=actor,
        dose=dose,
        status=status,
        idempotency_key=uuid.uuid4(),
        now=dose.due_at + after,
        **fields,
    ).administration
