"""The demo's changes of condition: one waiting for the nurse, one in monitoring, one closed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from care import services as care_services
from care.models import MonitoringCheck
from clinical import selectors as clinical_selectors
from clinical import services as clinical_services
from clinical.models import ConditionEvaluation, ConditionReport
from residents.models import Resident, ResidentStatus

MAPLE_GROVE = "Maple Grove Assisted Living"


def seed_conditions(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """Maple Grove's changes of condition (skipped where reports exist): one reported a few
    minutes ago, waiting for the nurse; one evaluated yesterday, the physician told, the
    resident under 72-hour monitoring (the representative not reached yet); one from last
    week, closed with both notifications. Returns how many reports were made."""
    maple = facilities.get(MAPLE_GROVE)
    if maple is None or ConditionReport.objects.filter(facility=maple).exists():
        return 0
    residents = list(
        Resident.objects.filter(facility=maple, status=ResidentStatus.ACTIVE).order_by(
            "last_name", "pk"
        )[:3]
    )
    if len(residents) < 3 or not {"medtech", "nurse", "caregiver"} <= set(staff):
        return 0
    now = timezone.now()
    with transaction.atomic():
        clinical_services.condition_report(
            actor=staff["medtech"],
            resident=residents[0],
            changes=["eats_less", "tired"],
            note="Ate a few bites of breakfast and has been dozing in the chair since.",
            now=now - timedelta(minutes=12),
        )
        _monitored(residents[1], staff, now - timedelta(hours=20))
        _closed(residents[2], staff, now - timedelta(days=6))
    return 3


def _evaluated(resident, staff, at, *, changes, note, sbar, monitor_hours):
    report = clinical_services.condition_report(
        actor=staff["caregiver"], resident=resident, changes=changes, note=note, now=at
    )
    clinical_services.condition_evaluate(
        actor=staff["nurse"],
        report_id=report.pk,
        background=clinical_selectors.background_words(resident=resident, now=at),
        monitor_hours=monitor_hours,
        now=at + timedelta(minutes=18),
        **sbar,
    )
    return ConditionEvaluation.objects.get(report=report)


def _monitored(resident, staff, at) -> None:
    evaluation = _evaluated(
        resident,
        staff,
        at,
        changes=["confused", "toileting"],
        note="Could not find the way back from the dining room; two wet briefs this evening.",
        sbar={
            "situation": "New confusion and incontinence since this afternoon.",
            "assessment": "Oriented to self only; temperature 99.8 °F; urine dark, strong odour.",
            "recommendation": "Urinalysis; push fluids; monitor every shift for 72 hours.",
        },
        monitor_hours=72,
    )
    clinical_services.condition_notify(
        actor=staff["nurse"],
        evaluation_id=evaluation.pk,
        party="physician",
        method="phone",
        person_reached="Dr. Patel (on call)",
        reached_at=at + timedelta(minutes=35),
        response="new_order",
        response_note="UA with culture in the morning; encourage 1.5 L of fluids a day.",
        now=at + timedelta(minutes=40),
    )
    # The shifts over since have their checks documented; the one running waits for its own.
    notes = {
        "day": "Knew the way to the dining room; drank 3 glasses of water; urine lighter.",
        "evening": "Oriented to self only; drank 2 glasses of water with encouragement.",
        "night": "Slept most of the night; one wet brief; calmer when woken.",
    }
    over = MonitoringCheck.objects.filter(
        episode=evaluation.monitoring, window_closes_at__lte=timezone.now()
    ).order_by("window_opens_at")
    for check in over:
        care_services.monitoring_check_record(
            actor=staff["caregiver"] if check.shift_name != "night" else staff["medtech"],
            check_id=check.pk,
            status="done",
            note=notes[check.shift_name],
            now=max(check.window_opens_at, at) + timedelta(hours=2),
        )


def _closed(resident, staff, at) -> None:
    evaluation = _evaluated(
        resident,
        staff,
        at,
        changes=["pain"],
        note="Says the left knee hurts more on the walk to lunch.",
        sbar={
            "situation": "Left knee pain, worse on walking, 6/10.",
            "assessment": "No swelling or redness; walks with the walker, slower than usual.",
            "recommendation": "Ask the physician about scheduled acetaminophen.",
        },
        monitor_hours=None,
    )
    for party, person, response, words in (
        ("physician", "Dr. Patel", "new_order", "Acetaminophen 650 mg twice a day for a week."),
        ("representative", "Anne Miller (daughter)", "acknowledged", "Will visit on Saturday."),
    ):
        clinical_services.condition_notify(
            actor=staff["nurse"],
            evaluation_id=evaluation.pk,
            party=party,
            method="phone",
            person_reached=person,
            reached_at=at + timedelta(minutes=50),
            response=response,
            response_note=words,
            now=at + timedelta(minutes=55),
        )
    clinical_services.condition_close(
        actor=staff["nurse"], evaluation_id=evaluation.pk, now=at + timedelta(hours=1)
    )
