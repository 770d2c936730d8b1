"""The clinical rules on their own: values in, decision out (no database, no clock)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from mar import rules

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# PRN limits ---------------------------------------------------------------------------------


def test_prn_first_dose_is_allowed():
    check = rules.prn_check(given=[], at=T0, min_hours=Decimal(4), max_per_24h=4)
    assert check.allowed and check.next_allowed_at is None and check.given_in_24h == 0


def test_prn_refused_before_the_minimum_interval_and_says_when():
    check = rules.prn_check(given=[_h(0)], at=_h(3), min_hours=Decimal(4), max_per_24h=4)
    assert check.too_soon and not check.too_many and not check.allowed
    assert check.next_allowed_at == _h(4)


def test_prn_allowed_exactly_at_the_minimum_interval():
    assert rules.prn_check(given=[_h(0)], at=_h(4), min_hours=Decimal(4), max_per_24h=4).allowed


def test_prn_refused_when_max_per_24h_reached_until_the_oldest_dose_leaves_the_day():
    given = [_h(0), _h(5), _h(10)]
    check = rules.prn_check(given=given, at=_h(16), min_hours=Decimal(4), max_per_24h=3)
    assert check.too_many and check.given_in_24h == 3
    assert check.next_allowed_at == _h(24)  # the dose at 0 h leaves the rolling 24 hours
    assert rules.prn_check(given=given, at=_h(24), min_hours=Decimal(4), max_per_24h=3).allowed


def test_prn_limit_of_zero_or_none_is_no_limit():
    given = [_h(0), _h(0.5)]
    assert rules.prn_check(given=given, at=_h(1), min_hours=None, max_per_24h=None).allowed


# Refusals -----------------------------------------------------------------------------------


def test_three_refusals_within_7_days_complete_a_pattern_at_the_third():
    times = [_h(0), _h(24 * 3), _h(24 * 6)]
    assert rules.refusal_pattern_completed_at(times) == 2
    assert all(rules.in_refusal_pattern(times, i) for i in range(3))


def test_three_refusals_spread_over_more_than_7_days_are_no_pattern():
    times = [_h(0), _h(24 * 4), _h(24 * 8)]
    assert rules.refusal_pattern_completed_at(times) is None
    assert not any(rules.in_refusal_pattern(times, i) for i in range(3))


def test_a_refusal_outside_the_pattern_is_not_in_it():
    times = [_h(0), _h(24 * 10), _h(24 * 11), _h(24 * 12)]
    assert rules.refusal_pattern_completed_at(times) == 3
    assert not rules.in_refusal_pattern(times, 0)
    assert rules.in_refusal_pattern(times, 1)


# Hold parameters ----------------------------------------------------------------------------


@dataclass
class Hold:
    vital: str
    comparator: str
    threshold: Decimal


def test_hold_triggers_below_and_not_at_the_threshold():
    rule = Hold("systolic_bp", "lt", Decimal(100))
    assert rules.triggered_hold([rule], {"systolic_bp": "99"}).reading == Decimal(99)
    assert rules.triggered_hold([rule], {"systolic_bp": "100"}) is None


def test_hold_comparators_le_gt_ge():
    assert rules.hold_triggers(Hold("pulse", "le", Decimal(60)), Decimal(60))
    assert rules.hold_triggers(Hold("pulse", "gt", Decimal(100)), Decimal(101))
    assert not rules.hold_triggers(Hold("pulse", "ge", Decimal(100)), Decimal(99))


def test_missing_vitals_are_named_once_and_text_readings_trigger_nothing():
    holds = [Hold("pulse", "lt", Decimal(60)), Hold("pulse", "gt", Decimal(120))]
    assert rules.missing_vitals(holds, {}) == ["pulse"]
    assert rules.missing_vitals(holds, {"pulse": "72"}) == []
    assert rules.triggered_hold(holds, {"pulse": "n/a"}) is None


# Amendments and errors ----------------------------------------------------------------------

STATUSES = ["given", "refused", "held"]


def test_correction_changes_status_and_reads_a_naive_time_on_the_facility_clock():
    effective = rules.effective_record(
        status="held",
        at=T0,
        amendments=[("correction", {"status": "given", "administered_at": "2026-03-03T09:15"})],
        tz=NY,
        statuses=STATUSES,
    )
    assert effective.status == "given" and effective.changed_to_given
    assert effective.at == datetime(2026, 3, 3, 9, 15, tzinfo=NY)


def test_entered_in_error_and_unreadable_changes_correct_nothing():
    effective = rules.effective_record(
        status="refused",
        at=T0,
        amendments=[
            ("entered_in_error", {"status": "given"}),
            ("correction", {"status": "teleported", "administered_at": "yesterday"}),
        ],
        tz=NY,
        statuses=STATUSES,
    )
    assert (effective.status, effective.at, effective.changed_to_given) == ("refused", T0, False)


def test_error_rate_is_errors_over_opportunities_to_two_places():
    assert rules.error_rate(1, 3) == Decimal("33.33")
    assert rules.error_rate(0, 0) is None


def test_outside_window_counts_both_edges_as_inside():
    assert not rules.outside_window(_h(1), _h(0), _h(1))
    assert rules.outside_window(_h(1.01), _h(0), _h(1))
