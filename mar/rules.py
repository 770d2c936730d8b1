"""The clinical rules the med pass and the reports share: values in, decision out.

No ORM and no clock: every function takes the instants, readings and limits it decides on and
returns the decision. The med pass asks "may this be given now?"; the reports ask "was it
right when it was given?"; both get their answer here, so a rule is written once.
"""

import datetime
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol
from zoneinfo import ZoneInfo

DAY = datetime.timedelta(hours=24)


# PRN limits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrnCheck:
    """Where a PRN order stands at one moment, from the doses given before it."""

    given_in_24h: int  # doses in the rolling 24 hours before the moment
    last_at: datetime.datetime | None
    next_allowed_at: datetime.datetime | None  # None: nothing given, allowed
    too_soon: bool  # closer to the last dose than the minimum interval
    too_many: bool  # the maximum per rolling 24 hours is already reached

    @property
    def allowed(self) -> bool:
        return not (self.too_soon or self.too_many)


def prn_check(
    *,
    given: Sequence[datetime.datetime],
    at: datetime.datetime,
    min_hours: Decimal | None,
    max_per_24h: int | None,
) -> PrnCheck:
    """May a PRN dose be given at `at`, after the standing doses `given` (any order)?

    Minimum interval: `at` at least `min_hours` after the last dose. Maximum: fewer than
    `max_per_24h` doses in the rolling 24 hours before `at`; the day frees up when the oldest
    dose that counts leaves those 24 hours. A limit of None or 0 is no limit.
    """
    before = sorted(given, reverse=True)
    if not before:
        return PrnCheck(0, None, None, False, False)
    last = before[0]
    in_day = [t for t in before if t > at - DAY]
    candidates = [last + datetime.timedelta(hours=float(min_hours or 0))]
    too_many = bool(max_per_24h) and len(in_day) >= max_per_24h
    if too_many:
        candidates.append(in_day[max_per_24h - 1] + DAY)
    too_soon = bool(min_hours) and at - last < datetime.timedelta(hours=float(min_hours))
    return PrnCheck(len(in_day), last, max(candidates), too_soon, too_many)


def followup_opens_at(given_at: datetime.datetime, earliest_minutes: int) -> datetime.datetime:
    """A PRN dose's effect is judged no sooner than the facility's earliest follow-up minutes."""
    return given_at + datetime.timedelta(minutes=earliest_minutes)


# Dose spacing -------------------------------------------------------------------------------


def min_dose_spacing(times: Sequence[datetime.time], own_minutes: int | None) -> datetime.timedelta:
    """How far apart two given doses of a scheduled order must be: the order's own minimum, else
    half the shortest gap between its dose times (around midnight too; one time a day: 12 h)."""
    if own_minutes:
        return datetime.timedelta(minutes=own_minutes)
    minutes = sorted({t.hour * 60 + t.minute for t in times})
    if len(minutes) < 2:
        return datetime.timedelta(hours=12)
    gaps = [b - a for a, b in zip(minutes, minutes[1:], strict=False)]
    gaps.append(minutes[0] + 24 * 60 - minutes[-1])
    return datetime.timedelta(minutes=min(gaps) / 2)


def spacing_conflict(
    given: Sequence[datetime.datetime], at: datetime.datetime, spacing: datetime.timedelta
) -> datetime.datetime | None:
    """The given dose (of the same order) closest to `at` that is less than `spacing` away."""
    close = [t for t in given if abs(at - t) < spacing]
    return min(close, key=lambda t: abs(at - t)) if close else None


# Refusals -------------------------------------------------------------------------------------

REFUSAL_PATTERN = 3  # refusals of one order ...
REFUSAL_WINDOW = datetime.timedelta(days=7)  # ... within 7 days: notify the prescriber


def refusal_pattern_completed_at(times: Sequence[datetime.datetime]) -> int | None:
    """The index of the refusal that first completes a pattern (3 within 7 days), or None.

    `times`: one order's refusals, ascending.
    """
    for last in range(REFUSAL_PATTERN - 1, len(times)):
        if times[last] - times[last - REFUSAL_PATTERN + 1] <= REFUSAL_WINDOW:
            return last
    return None


def in_refusal_pattern(times: Sequence[datetime.datetime], index: int) -> bool:
    """Whether refusal `index` of `times` (ascending) belongs to 3 refusals within 7 days."""
    span = REFUSAL_PATTERN - 1
    return any(
        first >= 0
        and first + span < len(times)
        and times[first + span] - times[first] <= REFUSAL_WINDOW
        for first in range(index - span, index + 1)
    )


# Hold parameters ------------------------------------------------------------------------------


class HoldRule(Protocol):
    """A hold parameter: hold the dose if `vital` compares so with `threshold`."""

    vital: str
    comparator: str  # "lt", "le", "gt", "ge"
    threshold: Decimal


# How each comparator compares the reading with the threshold (the reports build their SQL
# from this table, so that the rule is written once).
HOLD_COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def hold_triggers(rule: HoldRule, reading: Decimal) -> bool:
    return HOLD_COMPARISONS[str(rule.comparator)](reading, rule.threshold)


def missing_vitals(rules: Sequence[HoldRule], readings: Mapping[str, object]) -> list[str]:
    """The vitals an order's hold parameters need that were not taken (sorted, no repeats)."""
    return sorted({r.vital for r in rules if readings.get(r.vital) in (None, "")})


@dataclass(frozen=True)
class HoldTrigger:
    rule: HoldRule
    reading: Decimal


def triggered_hold(rules: Sequence[HoldRule], readings: Mapping[str, object]) -> HoldTrigger | None:
    """The first hold parameter the readings trigger, or None. A reading that is not a number
    triggers nothing (the caller refuses it before, or it is an old free-text record)."""
    for rule in rules:
        raw = readings.get(rule.vital)
        if raw in (None, ""):
            continue
        try:
            reading = Decimal(str(raw))
        except InvalidOperation:
            continue
        if reading.is_nan():  # "NaN" reads as a Decimal, but compares with nothing
            continue
        if hold_triggers(rule, reading):
            return HoldTrigger(rule, reading)
    return None


# Amendments -----------------------------------------------------------------------------------

ENTERED_IN_ERROR = "entered_in_error"


def amended_time(value: object, tz: ZoneInfo) -> datetime.datetime | None:
    """An amendment's corrected time: ISO text, aware, or naive on the facility's wall clock."""
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@dataclass(frozen=True)
class Effective:
    """A record as its amendments leave it."""

    status: str
    at: datetime.datetime
    changed_to_given: bool  # an amendment turned a not-given record into "given"


def effective_record(
    *,
    status: str,
    at: datetime.datetime,
    amendments: Sequence[tuple[str, Mapping]],
    tz: ZoneInfo,
    statuses: Sequence[str],
) -> Effective:
    """Apply the corrections (`(kind, changes)`, oldest first) to a record's status and time.

    "Entered in error" voids the record and corrects nothing; a status that is not one of
    `statuses`, or a time that cannot be read, is ignored.
    """
    changed = False
    for kind, changes in amendments:
        if kind == ENTERED_IN_ERROR:
            continue
        changes = changes or {}
        if changes.get("status") in statuses:
            changed = changes["status"] == "given" and status != "given"
            status = changes["status"]
        if changes.get("administered_at"):
            at = amended_time(changes["administered_at"], tz) or at
    return Effective(status, at, changed)


# Medication errors (CMS F759 style) -----------------------------------------------------------

OMISSION = "omission"
WRONG_TIME = "wrong_time"
GIVEN_ON_HOLD = "given_on_hold"
PRN_LIMIT = "prn_limit"
ERROR_LABELS = {
    OMISSION: "Omission (missed dose)",
    WRONG_TIME: "Wrong time (given outside the window)",
    GIVEN_ON_HOLD: "Given while a hold parameter triggered",
    PRN_LIMIT: "PRN beyond its limits",
}
ERROR_RATE_TARGET = Decimal(5)


def outside_window(
    at: datetime.datetime, opens: datetime.datetime, closes: datetime.datetime
) -> bool:
    return at < opens or at > closes


def error_rate(errors: int, opportunities: int) -> Decimal | None:
    """errors / (doses given + doses ordered but not given) x 100, to two places."""
    if not opportunities:
        return None
    value = Decimal(errors * 100) / Decimal(opportunities)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
