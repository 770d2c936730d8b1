"""The ADL assessment every facility starts with, and its care level table.

Each question's answers run from independent (score 0) to dependent; each answer names the level
of help a plan made from it expects (CMS section GG codes, see rules.py).
"""

from django.db import transaction

from .models import (
    AdlCategory,
    AssessmentChoice,
    AssessmentQuestion,
    AssessmentTemplate,
    CareLevel,
)

ADL_TEMPLATE_NAME = "ADL assessment"

_HELP = [
    # (answer words template, score, planned GG code)
    ("Independent", 0, "06"),
    ("Needs setup or reminders", 1, "05"),
    ("Needs supervision or touching assistance", 2, "04"),
    ("Needs hands-on help with part of it", 3, "03"),
    ("Needs hands-on help with most of it", 4, "02"),
    ("Dependent on staff", 5, "01"),
]
QUESTIONS = [
    (AdlCategory.BATHING, "How much help does the resident need to bathe or shower?", _HELP),
    (AdlCategory.DRESSING, "How much help does the resident need to dress?", _HELP),
    (AdlCategory.GROOMING, "How much help with grooming (hair, teeth, shaving)?", _HELP),
    (AdlCategory.EATING, "How much help does the resident need to eat?", _HELP[:4] + _HELP[5:]),
    (AdlCategory.TOILETING, "How much help with toileting and hygiene after it?", _HELP),
    (AdlCategory.TRANSFERS, "How much help to move from bed to chair and back?", _HELP),
    (AdlCategory.AMBULATION, "How much help to walk 50 feet?", _HELP),
    (
        AdlCategory.CONTINENCE,
        "How continent is the resident?",
        [
            ("Continent", 0, "06"),
            ("Occasional accidents; reminders to use the toilet", 2, "04"),
            ("Frequent accidents; scheduled toileting and briefs", 3, "03"),
            ("Incontinent; staff change briefs", 5, "01"),
        ],
    ),
    (
        AdlCategory.COGNITION,
        "How oriented is the resident (person, place, time)?",
        [
            ("Fully oriented", 0, "06"),
            ("Sometimes confused; cueing helps", 2, "05"),
            ("Often confused; needs redirection", 4, "04"),
            ("Not oriented; needs supervision at all times", 6, "03"),
        ],
    ),
    (
        AdlCategory.MOBILITY_AIDS,
        "Which mobility aid does the resident use?",
        [
            ("No mobility aid", 0, ""),
            ("Cane", 1, "05"),
            ("Walker", 2, "04"),
            ("Wheelchair", 3, "03"),
        ],
    ),
]
# The care level table a facility starts with (lowest score, level); its administrator edits it.
CARE_LEVELS = [(0, "Level 1 — independent"), (8, "Level 2 — some help"), (18, "Level 3 — high")]


@transaction.atomic
def adl_template() -> AssessmentTemplate:
    """The standard ADL assessment (made once; the same row afterwards)."""
    template, created = AssessmentTemplate.objects.get_or_create(name=ADL_TEMPLATE_NAME, version=1)
    if not created:
        return template
    for position, (category, text, answers) in enumerate(QUESTIONS, start=1):
        question = AssessmentQuestion.objects.create(
            template=template, position=position, category=category, text=text
        )
        AssessmentChoice.objects.bulk_create(
            AssessmentChoice(
                question=question, position=i, label=label, score=score, planned_code=code
            )
            for i, (label, score, code) in enumerate(answers, start=1)
        )
    return template


def care_levels_create(facility) -> None:
    """The starting care level table for a facility (skipped where it has one)."""
    if facility.care_levels.exists():
        return
    CareLevel.objects.bulk_create(
        CareLevel(facility=facility, lowest_score=lowest, name=name) for lowest, name in CARE_LEVELS
    )
