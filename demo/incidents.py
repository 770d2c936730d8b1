"""The demo's incidents: two falls in Maple Grove, made through the services. One this morning,
unwitnessed, sent to the hospital, its notifications made and its reviews still open; one
yesterday, witnessed, every follow-up done and closed. Each fall started its monitoring; the
checks whose shift has begun are documented, so nothing reads as missed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from care import services as care_services
from care.models import MonitoringCheck, TaskState
from incidents import services as incident_services
from incidents.models import Incident
from residents.models import Resident, ResidentStatus

from .build import MAPLE


def seed_incidents(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """Report the two falls (skipped where the home has incidents); returns how many."""
    maple = facilities.get(MAPLE)
    if maple is None or Incident.objects.filter(facility=maple).exists():
        return 0
    # Residents the changes of condition (demo.conditions: the first three) leave alone.
    residents = list(
        Resident.objects.filter(facility=maple, status=ResidentStatus.ACTIVE).order_by(
            "last_name", "pk"
        )[3:5]
    )
    if len(residents) < 2 or not {"medtech", "caregiver", "nurse"} <= set(staff):
        return 0
    now = timezone.now()
    with transaction.atomic():
        _transferred(residents[0], staff, now=now)
        _closed(residents[1], staff, now=now)
    return 2


def _call(nurse, followup, *, reached, method, response, at):
    incident_services.followup_complete(
        actor=nurse,
        followup=followup,
        method=method,
        reached=reached,
        reached_at=at,
        response=response,
        now=at + timedelta(minutes=5),
    )


def _transferred(resident: Resident, staff: dict[str, User], *, now) -> None:
    """This morning: found on the floor, hip painful, sent to the emergency room. The physician
    and the daughter were called; the neuro checks and the reviews are still open."""
    reported = now - timedelta(hours=3)
    incident = incident_services.incident_report(
        actor=staff["medtech"],
        resident=resident,
        kind="fall",
        occurred_at=reported - timedelta(minutes=10),
        description=(
            "Found on the floor beside the bed at the start of the pass; said she tried to reach "
            "the bathroom alone. Left hip painful on moving; bruise on the left forearm."
        ),
        discovered_by="Maria Lopez, CMA",
        facts={
            "witnessed": False,
            "location": "room",
            "pain_score": 7,
            "head_strike": False,
            "hospital_transfer": True,
        },
        injuries={"hip": "pain", "arms": "bruise"},
        now=reported,
    )
    nurse = staff["nurse"]
    followups = {f.kind: f for f in incident.followups.all()}
    _call(
        nurse,
        followups["notify_physician"],
        reached=resident.physician_name or "The attending physician",
        method="phone",
        response="Send to the emergency room for a hip x-ray.",
        at=reported + timedelta(minutes=15),
    )
    _call(
        nurse,
        followups["notify_representative"],
        reached="Her daughter",
        method="phone",
        response="Will meet her at the hospital.",
        at=reported + timedelta(minutes=25),
    )
    _document_checks(incident, staff["caregiver"], now=now)


def _closed(resident: Resident, staff: dict[str, User], *, now) -> None:
    """Yesterday: slipped in the dining room in front of staff, no injury; every follow-up done
    and the incident closed by the nurse."""
    reported = now - timedelta(hours=20)
    incident = incident_services.incident_report(
        actor=staff["caregiver"],
        resident=resident,
        kind="fall",
        occurred_at=reported - timedelta(minutes=5),
        description=(
            "Slid from the chair to the floor while reaching for a napkin; lowered by staff, "
            "did not hit the head. No pain, walked back to the room with the walker."
        ),
        facts={
            "witnessed": True,
            "location": "dining",
            "pain_score": 0,
            "head_strike": False,
            "hospital_transfer": False,
        },
        now=reported,
    )
    nurse = staff["nurse"]
    at = reported + timedelta(minutes=30)
    for followup in incident.followups.order_by("pk"):
        if followup.is_notification:
            _call(
                nurse,
                followup,
                reached="The physician's office" if followup.kind == "notify_physician" else "Son",
                method="fax" if followup.kind == "notify_physician" else "phone",
                response="Noted; no new orders." if followup.kind == "notify_physician" else "Ok",
                at=at,
            )
        else:
            incident_services.followup_complete(
                actor=nurse,
                followup=followup,
                note="Chair with arms at meals; walker within reach. Care plan updated.",
                now=at + timedelta(minutes=10),
            )
        at += timedelta(minutes=20)
    incident_services.incident_close(
        actor=nurse, incident=incident, note="Reviewed with the team.", now=at
    )
    _document_checks(incident, staff["caregiver"], now=now)


def _document_checks(incident: Incident, caregiver: User, *, now) -> None:
    """The episode's checks whose shift has begun, documented an hour into the shift."""
    checks = MonitoringCheck.objects.filter(
        episode_id=incident.monitoring_episode_id,
        state__in=[TaskState.DUE, TaskState.OVERDUE],
        window_opens_at__lt=now - timedelta(hours=1),
    ).order_by("window_opens_at")
    for check in checks:
        care_services.monitoring_check_record(
            actor=caregiver,
            check_id=check.pk,
            status="done",
            note="Resting comfortably; no new bruising, walks with the walker.",
            now=max(check.window_opens_at, incident.reported_at) + timedelta(hours=1),
        )
