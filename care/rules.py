"""The care rules: pure functions and their numbers (no ORM, no clock).

Levels of help follow CMS section GG's six-level scale, and its codes for an activity not
attempted. A lower performance code means more help: "worse than planned" compares codes only
when both are performance codes.
"""

import datetime
from collections.abc import Iterable

# (code, the person's words), best performance first, then the not-attempted codes.
GG_PERFORMANCE = (
    ("06", "06 Independent"),
    ("05", "05 Setup or clean-up assistance"),
    ("04", "04 Supervision or touching assistance"),
    ("03", "03 Partial/moderate assistance"),
    ("02", "02 Substantial/maximal assistance"),
    ("01", "01 Dependent"),
)
GG_NOT_ATTEMPTED = (
    ("07", "07 Resident refused"),
    ("09", "09 Not applicable"),
    ("10", "10 Not attempted due to environmental limitations"),
    ("88", "88 Not attempted due to medical condition or safety concerns"),
)
GG_CODES = GG_PERFORMANCE + GG_NOT_ATTEMPTED
PERFORMANCE_CODES = frozenset(code for code, _ in GG_PERFORMANCE)

# How often performance worse than planned, within how many days, raises "consider reassessment".
WORSE_THAN_PLANNED_TIMES = 3
WORSE_THAN_PLANNED_DAYS = 7

# When an assessment is next due: routinely, and after a return from hospital.
REASSESS_AFTER_DAYS = 182  # six months
REASSESS_AFTER_HOSPITAL = datetime.timedelta(hours=48)

# A care task turns overdue this long before its shift ends (the nurse still has time to see
# it done), and missed when the shift ends.
OVERDUE_BEFORE_SHIFT_END = datetime.timedelta(hours=1)


# ISO weekdays 1..7 as a person reads them.
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def days_words(weekdays) -> str:
    """ "Tue, Fri", or "Every day" for none."""
    return ", ".join(WEEKDAY_NAMES[d - 1] for d in sorted(weekdays)) or "Every day"


def worse_than_planned(observed: str, planned: str) -> bool:
    """More help was needed than the plan expects (both are performance codes)."""
    if observed not in PERFORMANCE_CODES or planned not in PERFORMANCE_CODES:
        return False
    return int(observed) < int(planned)


def care_level(score: int, bands: Iterable[tuple[int, str]]) -> str:
    """The level whose band the score falls in: bands are (lowest score, level name); the
    highest lowest-score not above the score wins. "" when no band starts low enough."""
    chosen, chosen_from = "", None
    for lowest, name in bands:
        if lowest <= score and (chosen_from is None or lowest > chosen_from):
            chosen, chosen_from = name, lowest
    return chosen


def next_assessment_day(signed_on: datetime.date) -> datetime.date:
    """The routine next assessment day (six months after signing)."""
    return signed_on + datetime.timedelta(days=REASSESS_AFTER_DAYS)


def worse_count_reached(dates: Iterable[datetime.datetime], now: datetime.datetime) -> bool:
    """Performance worse than planned `WORSE_THAN_PLANNED_TIMES` times in the last
    `WORSE_THAN_PLANNED_DAYS` days (the instants of those records)."""
    since = now - datetime.timedelta(days=WORSE_THAN_PLANNED_DAYS)
    return sum(1 for at in dates if since < at <= now) >= WORSE_THAN_PLANNED_TIMES
