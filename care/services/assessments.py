"""Signing an assessment: its answers, score and care level are fixed by the signature."""

import datetime

from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from residents.models import Resident, ResidentStatus

from .. import rules
from ..models import (
    Assessment,
    AssessmentAnswer,
    AssessmentReason,
    AssessmentTemplate,
    CareLevel,
)
from ..signals import assessment_signed


def check_nurse(user: User, facility_id: int, doing: str) -> None:
    if membership_role(user=user, facility_id=facility_id) not in (Role.NURSE, Role.ADMIN):
        raise DomainError(f"Only a nurse {doing}.")


@transaction.atomic
def assessment_sign(
    *,
    resident: Resident,
    template: AssessmentTemplate,
    answers: dict[int, int],
    reason: str,
    signed_by: User,
    now: datetime.datetime,
    note: str = "",
) -> Assessment:
    """Score the answers (question id -> choice id; every question answered), set the care
    level from the facility's table and the next routine assessment, and sign as `signed_by`."""
    check_nurse(signed_by, resident.facility_id, "signs an assessment")
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident} has been discharged.")
    if reason not in AssessmentReason.values:
        raise DomainError("Choose why this assessment is done.", field="reason")
    questions = list(template.questions.prefetch_related("choices"))
    chosen = []
    for question in questions:
        choice_id = answers.get(question.pk)
        choice = next((c for c in question.choices.all() if c.pk == choice_id), None)
        if choice is None:
            raise DomainError("Answer this question.", field=f"q{question.pk}")
        chosen.append((question, choice))
    total = sum(choice.score for _, choice in chosen)
    bands = CareLevel.objects.filter(facility_id=resident.facility_id).values_list(
        "lowest_score", "name"
    )
    assessment = Assessment.objects.create(
        facility_id=resident.facility_id,
        resident=resident,
        template=template,
        reason=reason,
        total_score=total,
        care_level=rules.care_level(total, bands),
        note=note.strip(),
        signed_by=signed_by,
        signed_at=now,
        next_due=rules.next_assessment_day(now.astimezone(resident.facility.tz).date()),
    )
    AssessmentAnswer.objects.bulk_create(
        AssessmentAnswer(assessment=assessment, question=q, choice=c, score=c.score)
        for q, c in chosen
    )
    assessment_signed.send(sender=Assessment, assessment=assessment)
    return assessment
