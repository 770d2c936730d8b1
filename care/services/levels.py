"""The facility's care level table (assessment score -> care level), edited by its
administrator. Signed assessments keep the level they were given."""

from django.db import IntegrityError, transaction

from accounts.models import Facility, Role, User
from accounts.selectors import membership_role
from core.errors import DomainError

from ..models import CareLevel


def _check_admin(actor: User, facility_id: int) -> None:
    if membership_role(user=actor, facility_id=facility_id) != Role.ADMIN:
        raise DomainError("Only an administrator changes the care level table.")


@transaction.atomic
def care_level_save(
    *, actor: User, facility: Facility, name: str, lowest_score, level: CareLevel | None = None
) -> CareLevel:
    """Add a level (from `lowest_score` up to the next level's), or change one."""
    _check_admin(actor, facility.pk)
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the care level.", field="name")
    try:
        lowest = int(lowest_score)
    except (TypeError, ValueError):
        lowest = -1
    if not 0 <= lowest <= 200:
        raise DomainError("The lowest score is a whole number from 0 to 200.", field="lowest_score")
    if level is None:
        level = CareLevel(facility=facility)
    elif level.facility_id != facility.pk:
        raise DomainError("This care level belongs to another facility.")
    level.name, level.lowest_score = name, lowest
    try:
        with transaction.atomic():
            level.save()
    except IntegrityError:
        raise DomainError(
            "Another level already has this name or starts at this score.", field="lowest_score"
        ) from None
    return level


@transaction.atomic
def care_level_delete(*, actor: User, level: CareLevel) -> str:
    _check_admin(actor, level.facility_id)
    if CareLevel.objects.filter(facility_id=level.facility_id).count() <= 1:
        raise DomainError("Keep at least one care level: every assessment is given one.")
    name = level.name
    level.delete()
    return name
