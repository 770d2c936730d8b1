"""The demo's shift reports: in Maple Grove, every unit's shifts of the last 24 hours submitted
by their outgoing staff member (with a note or two) and acknowledged by the incoming one, and a
few notes already on the shift running now. Made through the services; skipped where the home
has shift reports."""

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, Unit, User
from core.shifts import shift_at, shift_before
from handoff import services as handoff_services
from handoff.models import ShiftReport
from residents.models import Resident, ResidentStatus

from .build import MAPLE

# Who hands each shift over, and to whom (the next shift's staff member).
ON_SHIFT = {"day": "medtech", "evening": "medtech3", "night": "nurse2"}
NOTES = [
    ("behaviour", "Restless after supper; calmer with music in her room."),
    ("family", "Daughter calls around 18:00 about the podiatry visit."),
    ("care", "Skin on the left heel is red: keep off-loading, nurse told."),
    ("medication", "Asked twice for her evening pain medication early; offered tea instead."),
    ("condition", "Ate half of lunch; encourage fluids this evening."),
]


def seed_handoff(facilities: dict[str, Facility], staff: dict[str, User], password: str) -> int:
    """Submit and acknowledge the last day's reports and leave notes on the running shift;
    returns how many reports were submitted (0 when the home already has reports)."""
    maple = facilities.get(MAPLE)
    if maple is None or ShiftReport.objects.filter(facility=maple).exists():
        return 0
    if not {"medtech", "medtech3", "nurse2", "caregiver"} <= set(staff) or not password:
        return 0
    now = timezone.now()
    policy = maple.shifts
    running = shift_at(now, policy)
    shifts = [shift_before(running, policy)]
    while len(shifts) < 3:
        shifts.append(shift_before(shifts[-1], policy))
    units = [
        unit
        for unit in Unit.objects.filter(facility=maple).order_by("name")
        if Resident.objects.filter(unit=unit, status=ResidentStatus.ACTIVE).exists()
    ]
    submitted = 0
    with transaction.atomic():
        for unit in units:
            residents = list(
                Resident.objects.filter(unit=unit, status=ResidentStatus.ACTIVE).order_by(
                    "last_name", "pk"
                )
            )
            for index, shift in enumerate(reversed(shifts)):
                outgoing = staff[ON_SHIFT[shift.name]]
                following = ON_SHIFT[shift_at(shift.ends_at, policy).name]
                category, text = NOTES[(index + len(unit.name)) % len(NOTES)]
                _note(
                    residents[index % len(residents)],
                    outgoing,
                    category,
                    text,
                    at=shift.ends_at - timedelta(minutes=40),
                )
                report = handoff_services.shift_report_submit(
                    actor=outgoing,
                    unit=unit,
                    shift=shift,
                    now=shift.ends_at - timedelta(minutes=10),
                )
                handoff_services.shift_report_acknowledge(
                    actor=outgoing,
                    report=report,
                    incoming_username=following,
                    incoming_secret=password,
                    now=shift.ends_at + timedelta(minutes=5),
                )
                submitted += 1
            # The shift running now: a few notes for the next one.
            writers = [staff["medtech"], staff["caregiver"], staff[ON_SHIFT[running.name]]]
            for offset, (category, text) in enumerate(NOTES[2:5]):
                moment = max(running.starts_at, now - timedelta(minutes=50 - 15 * offset))
                _note(
                    residents[(offset * 3 + 1) % len(residents)],
                    writers[offset],
                    category,
                    text,
                    at=moment,
                )
    handoff_services.shift_reports_generate(now=now, facility_ids=[maple.pk])
    return submitted


def _note(resident: Resident, actor: User, category: str, text: str, *, at) -> None:
    handoff_services.handoff_note_add(
        actor=actor, resident=resident, category=category, text=text, key=uuid.uuid4(), now=at
    )
