"""Shift boundaries in the facility's zone, DST days included."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.shifts import (
    ShiftPolicy,
    parse_shift_key,
    shift_after,
    shift_at,
    shift_before,
    shift_on,
    starts_problem,
)

NEW_YORK = ShiftPolicy(ZoneInfo("America/New_York"))


def test_an_afternoon_instant_is_in_the_evening_shift_of_that_day():
    shift = shift_at(datetime(2026, 6, 10, 20, 0, tzinfo=UTC), NEW_YORK)  # 16:00 EDT
    assert (shift.name, shift.day) == ("evening", date(2026, 6, 10))
    assert shift.starts_at == datetime(2026, 6, 10, 19, 0, tzinfo=UTC)
    assert shift.ends_at == datetime(2026, 6, 11, 3, 0, tzinfo=UTC)
    assert str(shift) == "Evening shift Wed 2026-06-10, 15:00–23:00"


def test_after_midnight_is_still_the_night_shift_that_started_the_day_before():
    shift = shift_at(datetime(2026, 6, 11, 7, 30, tzinfo=UTC), NEW_YORK)  # 03:30 EDT
    assert (shift.name, shift.day) == ("night", date(2026, 6, 10))
    assert shift.starts_at == datetime(2026, 6, 11, 3, 0, tzinfo=UTC)
    assert shift.ends_at == datetime(2026, 6, 11, 11, 0, tzinfo=UTC)


def test_a_boundary_instant_belongs_to_the_shift_it_starts():
    assert shift_at(datetime(2026, 6, 10, 11, 0, tzinfo=UTC), NEW_YORK).name == "day"
    assert shift_at(datetime(2026, 6, 10, 10, 59, 59, tzinfo=UTC), NEW_YORK).name == "night"


def test_spring_forward_night_is_seven_hours_and_the_next_day_shift_starts_at_seven_local():
    night = shift_on(date(2026, 3, 7), "night", NEW_YORK)  # clocks go forward on the 8th
    assert night.starts_at == datetime(2026, 3, 8, 4, 0, tzinfo=UTC)  # 23:00 EST
    assert night.ends_at == datetime(2026, 3, 8, 11, 0, tzinfo=UTC)  # 07:00 EDT
    assert night.ends_at - night.starts_at == timedelta(hours=7)
    assert shift_at(datetime(2026, 3, 8, 7, 30, tzinfo=UTC), NEW_YORK) == night  # 03:30 EDT
    assert shift_after(night, NEW_YORK).starts_at == night.ends_at


def test_fall_back_night_is_nine_hours_and_the_repeated_hour_is_in_it_once_each_time():
    night = shift_on(date(2026, 10, 31), "night", NEW_YORK)  # clocks go back on 1 November
    assert night.ends_at - night.starts_at == timedelta(hours=9)
    first_one_thirty = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_one_thirty = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert shift_at(first_one_thirty, NEW_YORK) == night
    assert shift_at(second_one_thirty, NEW_YORK) == night
    assert shift_at(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), NEW_YORK).name == "day"


def test_shifts_follow_each_other_without_gaps_across_a_dst_week():
    shift = shift_on(date(2026, 3, 5), "day", NEW_YORK)
    for _ in range(3 * 7):
        following = shift_after(shift, NEW_YORK)
        assert following.starts_at == shift.ends_at
        shift = following


def test_keys_round_trip_and_nonsense_is_none():
    shift = shift_on(date(2026, 12, 2), "night", NEW_YORK)
    assert shift.key == "2026-12-02/night"
    assert parse_shift_key(shift.key, NEW_YORK) == shift
    for bad in (
        "",
        "2026-12-02",
        "2026-12-02/lunch",
        "2026-02-30/day",
        "x/y/z",
        "9999-12-31/night",
    ):
        assert parse_shift_key(bad, NEW_YORK) is None


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        shift_at(datetime(2026, 6, 10, 12, 0), NEW_YORK)


def test_a_facility_policy_moves_every_boundary():
    policy = ShiftPolicy(NEW_YORK.tz, (time(6, 30), time(14, 30), time(22, 30)))
    shift = shift_at(datetime(2026, 6, 10, 10, 29, tzinfo=UTC), policy)  # 06:29 EDT
    assert (shift.name, shift.day, str(shift)) == (
        "night",
        date(2026, 6, 9),
        "Night shift Tue 2026-06-09, 22:30–06:30",
    )
    assert shift_after(shift, policy).name == "day"
    assert shift_before(shift, policy).ends_at == shift.starts_at


def test_the_night_across_the_changes_is_seven_or_nine_real_hours():
    policy = ShiftPolicy(NEW_YORK.tz, (time(6, 0), time(14, 0), time(22, 0)))
    assert shift_on(date(2026, 3, 7), "night", policy).duration == timedelta(hours=7)
    assert shift_on(date(2026, 10, 31), "night", policy).duration == timedelta(hours=9)
    assert shift_on(date(2026, 3, 8), "day", policy).duration == timedelta(hours=8)


@pytest.mark.parametrize(
    "starts, index, words",
    [
        ((time(7), time(7), time(23)), 1, "evening shift must start after the day shift"),
        ((time(7), time(15), time(12)), 2, "night shift must start after the evening shift"),
        ((time(7), time(7, 30), time(23)), 1, "day shift would be shorter than an hour"),
        ((time(0, 30), time(12), time(23, 45)), 2, "night shift would be shorter than an hour"),
    ],
)
def test_shift_times_out_of_order_or_too_short_are_refused(starts, index, words):
    assert starts_problem(starts)[0] == index
    assert words in starts_problem(starts)[1]
    with pytest.raises(ValueError, match=words):
        ShiftPolicy(NEW_YORK.tz, starts)
