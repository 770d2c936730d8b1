"""Every write about facilities, staff and certifications. One transaction each."""

import logging
import uuid
from datetime import date, datetime, timedelta
from functools import partial

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError
from core.shifts import starts_problem
from core.time import local_time
from core.validators import check_inputs

from .models import Certification, Facility, Membership, Role, SignoffFailure, Unit, User
from .selectors import membership_role

log = logging.getLogger(__name__)

POLICY_FIELDS = (
    "name",
    "timezone",
    "dose_window_minutes",
    "time_critical_window_minutes",
    "missed_after_hours",
    "missed_dose_review_hours",
    "prn_followup_minutes",
    "prn_followup_earliest_minutes",
    "reorder_days",
    "prn_requires_nurse_approval",
    "medtechs_may_give_schedule_ii",
    "idle_logout_minutes",
    "offline_max_hours",
    "nurses_may_verify_own_orders",
    "controlled_requires_witness",
    "medtechs_may_give_injections",
    "day_shift_starts",
    "evening_shift_starts",
    "night_shift_starts",
)
SHIFT_FIELDS = ("day_shift_starts", "evening_shift_starts", "night_shift_starts")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password1") from None


@transaction.atomic
def staff_create(
    *,
    actor: User,
    facility: Facility,
    username: str,
    password: str,
    role: str,
    first_name: str,
    last_name: str,
    email: str = "",
    title: str = "",
) -> Membership:
    """Create a staff account and its membership of `facility`."""
    check_inputs(
        username=username, first_name=first_name, last_name=last_name, email=email, title=title
    )
    username = username.strip()
    if not username:
        raise DomainError("Enter a username.", field="username")
    if not first_name.strip() or not last_name.strip():
        raise DomainError("Enter the first and last name.", field="first_name")
    if role not in Role.values:
        raise DomainError("Choose a role.", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("That username is taken; choose another.", field="username")
    user = User(
        username=username,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        title=title.strip(),
    )
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise DomainError("That username is taken; choose another.", field="username") from None
    return Membership.objects.create(user=user, facility=facility, role=role)


def _active_admins(facility: Facility):
    return Membership.objects.filter(facility=facility, role=Role.ADMIN, is_active=True)


@transaction.atomic
def membership_update(
    *, actor: User, membership: Membership, role: str, is_active: bool, title: str
) -> Membership:
    """Change a staff member's role, title or access. A facility always keeps one administrator."""
    check_inputs(title=title)
    locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if role not in Role.values:
        raise DomainError("Choose a role.", field="role")
    # Lock the facility's administrators so two demotions at once cannot leave none.
    admins = list(_active_admins(locked.facility).select_for_update())
    losing_admin = (
        locked.role == Role.ADMIN and locked.is_active and (role != Role.ADMIN or not is_active)
    )
    if losing_admin and len(admins) <= 1:
        raise DomainError("The facility must keep at least one active administrator.")
    locked.role = role
    locked.is_active = is_active
    locked.save(update_fields=["role", "is_active"])
    if locked.user.title != title.strip():
        locked.user.title = title.strip()
        locked.user.save(update_fields=["title"])
    return locked


@transaction.atomic
def staff_set_password(*, actor: User, user: User, password: str) -> None:
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def _validate_certification(issued: date, expires: date) -> None:
    if expires < issued:
        raise DomainError("The expiry date is before the issue date.", field="expires")


@transaction.atomic
def certification_create(
    *, actor: User, user: User, kind: str, number: str, issued: date, expires: date
) -> Certification:
    check_inputs(number=number, issued=issued, expires=expires)
    _validate_certification(issued, expires)
    return Certification.objects.create(
        user=user, kind=kind, number=number.strip(), issued=issued, expires=expires
    )


@transaction.atomic
def certification_update(
    *,
    actor: User,
    certification: Certification,
    kind: str,
    number: str,
    issued: date,
    expires: date,
) -> Certification:
    check_inputs(number=number, issued=issued, expires=expires)
    _validate_certification(issued, expires)
    locked = Certification.objects.select_for_update().get(pk=certification.pk)
    locked.kind, locked.number, locked.issued, locked.expires = (
        kind,
        number.strip(),
        issued,
        expires,
    )
    locked.save()
    return locked


@transaction.atomic
def certification_delete(*, actor: User, certification: Certification) -> None:
    certification.delete()


@transaction.atomic
def facility_update_policy(*, actor: User, facility: Facility, **policy) -> Facility:
    check_inputs(**policy)
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"Not policy fields: {sorted(unknown)}")
    locked = Facility.objects.select_for_update().get(pk=facility.pk)
    for name, value in policy.items():
        setattr(locked, name, value)
    if locked.time_critical_window_minutes > locked.dose_window_minutes:
        raise DomainError(
            "The time-critical window cannot be longer than the normal window.",
            field="time_critical_window_minutes",
        )
    if locked.prn_followup_earliest_minutes > locked.prn_followup_minutes:
        raise DomainError(
            "The earliest follow-up cannot come after the follow-up is due.",
            field="prn_followup_earliest_minutes",
        )
    problem = starts_problem(locked.shift_starts)
    if problem is not None:
        raise DomainError(problem[1], field=SHIFT_FIELDS[problem[0]])
    try:
        locked.full_clean()
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise DomainError(" ".join(problems), field=field) from None
    locked.save()
    return locked


@transaction.atomic
def unit_create(*, actor: User, facility: Facility, name: str) -> Unit:
    check_inputs(name=name)
    name = name.strip()
    if not name:
        raise DomainError("Enter the unit's name.", field="name")
    if Unit.objects.filter(facility=facility, name__iexact=name).exists():
        raise DomainError(f"There is already a unit called {name}.", field="name")
    return Unit.objects.create(facility=facility, name=name)


# A second person's sign-off (witness, approving nurse, incoming count) is typed at the signed-in
# user's workstation. 5 wrong passwords or PINs typed by one user from one address within 15
# minutes pause the sign-offs *that user* enters there for 15 minutes (sliding window). The
# colleague named is never locked: anyone could otherwise lock a colleague by typing their name.
# A correct sign-off does not reset the count: the typist could reset it with their own PIN.
SIGNOFF_FAILURE_LIMIT = 5
SIGNOFF_WINDOW = timedelta(minutes=15)


def signoff_locked_until(
    *, typist: User, client_address: str | None, now: datetime
) -> datetime | None:
    """When the sign-offs `typist` enters from `client_address` open again, or None if they are
    open now."""
    recent = list(
        SignoffFailure.objects.filter(
            typist=typist, address=client_address or None, at__gt=now - SIGNOFF_WINDOW
        )
        .order_by("-at")
        .values_list("at", flat=True)[:SIGNOFF_FAILURE_LIMIT]
    )
    if len(recent) < SIGNOFF_FAILURE_LIMIT:
        return None
    return recent[-1] + SIGNOFF_WINDOW


def _signoff_failure_save(failure: SignoffFailure) -> None:
    # ON CONFLICT (key) DO NOTHING: written again after a rollback, kept once either way.
    SignoffFailure.objects.bulk_create([failure], ignore_conflicts=True)


def staff_authenticate(
    *,
    actor: User,
    facility: Facility,
    username: str,
    secret: str,
    field: str,
    who: str = "witness",
    client_address: str | None = None,
) -> User:
    """A second person at the cart (never `actor`) confirms with username + password or PIN.

    `actor` is the signed-in user at whose workstation (`client_address`) the sign-off is typed:
    wrong attempts count against them, not against the colleague named. A refusal for a wrong
    password or PIN carries the failure to record after the caller's transaction is rolled
    back: callers outside a transaction call `DomainError.settle()` (run_service does). No
    cache and no broker is involved: this runs in the middle of documenting care.
    """
    username, secret = (username or "").strip(), secret or ""
    if not username or not secret:
        raise DomainError(f"The {who} must enter their username and password or PIN.", field=field)
    now = timezone.now()
    address = client_address or None
    locked_until = signoff_locked_until(typist=actor, client_address=address, now=now)
    if locked_until is not None:
        log.warning(
            "Sign-off refused, locked: %s typed the username %r as %s from %s",
            actor.username,
            username,
            who,
            address or "an unknown address",
        )
        raise DomainError(
            f"{SIGNOFF_FAILURE_LIMIT} wrong passwords or PINs were typed at this workstation "
            f"under your sign-in: sign-offs you enter here are paused until "
            f"{local_time(locked_until, facility.tz)}. Ask the nurse in charge if a dose cannot "
            "wait.",
            field=field,
        )
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if (
        user is None
        or not (user.check_password(secret) or user.check_pin(secret))
        or membership_role(user=user, facility_id=facility.pk) is None
    ):
        failure = SignoffFailure(
            key=uuid.uuid4(),
            facility=facility,
            typist=actor,
            address=address,
            named_username=username[:150],
            purpose=who[:40],
            at=now,
        )
        # Written now (kept when the caller does not roll back, e.g. outside a transaction) and
        # again by settle() after the caller's rollback; the key keeps it to one row.
        _signoff_failure_save(failure)
        log.warning(
            "Sign-off refused: %s typed a wrong password or PIN for the username %r as %s from %s",
            actor.username,
            username,
            who,
            address or "an unknown address",
        )
        raise DomainError(
            f"The {who}'s username or password/PIN is not right for this facility.",
            field=field,
            after_rollback=partial(_signoff_failure_save, failure),
        )
    if user.pk == actor.pk:
        # A second person's sign-off is worth something only when it is a second person.
        raise DomainError(
            f"The {who} must be another staff member: a sign-off must be someone else's.",
            field=field,
        )
    return user


@transaction.atomic
def user_set_pin(*, actor: User, current_password: str, pin: str) -> None:
    """A staff member sets their own PIN for witnessing and approving at the med cart."""
    if not actor.check_password(current_password or ""):
        raise DomainError("Your current password is not right.", field="current_password")
    pin = (pin or "").strip()
    if not pin.isdigit() or not 4 <= len(pin) <= 8:
        raise DomainError("A PIN is 4 to 8 digits.", field="pin")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise DomainError("Choose a PIN that is not a run or a repeat.", field="pin")
    actor.set_pin(pin)
    actor.save(update_fields=["pin"])
