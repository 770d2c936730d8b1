"""The demo's changes of condition: one reported a few minutes ago, waiting for the nurse."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from clinical import services as clinical_services
from clinical.models import ConditionReport
from residents.models import Resident, ResidentStatus

MAPLE_GROVE = "Maple Grove Assisted Living"


def seed_conditions(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """Report one change of condition in Maple Grove (skipped where reports exist); returns how
    many were made."""
    maple = facilities.get(MAPLE_GROVE)
    if maple is None or ConditionReport.objects.filter(facility=maple).exists():
        return 0
    resident = (
        Resident.objects.filter(facility=maple, status=ResidentStatus.ACTIVE)
        .order_by("last_name", "pk")
        .first()
    )
    if resident is None or "medtech" not in staff:
        return 0
    with transaction.atomic():
        clinical_services.condition_report(
            actor=staff["medtech"],
            resident=resident,
            changes=["eats_less", "tired"],
            note="Ate a few bites of breakfast and has been dozing in the chair since.",
            now=timezone.now() - timedelta(minutes=12),
        )
    return 1
