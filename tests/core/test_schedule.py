"""Behaviour of core.schedule: which instants a dose schedule produces, and how it reads.

Pure-function tests: no database, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.schedule import DoseSchedule, describe, first_day_read, occurrences, shared_start

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")


def t(hhmm: str) -> dt.time:
    return dt.time.fromisoformat(hhmm)


def d(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def utc(iso: str) -> dt.datetime:
    """'2026-03-08 07:30' -> aware UTC datetime."""
    return dt.datetime.fromisoformat(iso).replace(tzinfo=UTC)


def local_days(tz: ZoneInfo, first: str, days: int) -> tuple[dt.datetime, dt.datetime]:
    """Window from local midnight of `first` for `days` local days (DST-correct)."""
    start = dt.datetime.combine(d(first), dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(d(first) + dt.timedelta(days=days), dt.time(0), tzinfo=tz)
    return start, end


def daily(*times: str, start: str = "2026-01-01", end: str | None = None) -> DoseSchedule:
    return DoseSchedule(
        times=tuple(t(x) for x in times), start=d(start), end=d(end) if end else None
    )


# --- basic recurrences -------------------------------------------------------------------


def test_daily_two_times_over_48_hours_gives_four_doses():
    schedule = daily("08:00", "20:00")
    start, end = local_days(NEW_YORK, "2026-01-10", 2)

    assert occurrences(schedule, NEW_YORK, start, end) == [
        utc("2026-01-10 13:00"),
        utc("2026-01-11 01:00"),
        utc("2026-01-11 13:00"),
        utc("2026-01-12 01:00"),
    ]


def test_weekdays_only_dose_on_chosen_iso_weekdays():
    # 2026-01-05 is a Monday.
    schedule = DoseSchedule(
        times=(t("09:00"),), start=d("2026-01-01"), weekdays=frozenset({1, 3, 5})
    )
    start, end = local_days(UTC_ZONE, "2026-01-05", 7)

    result = occurrences(schedule, UTC_ZONE, start, end)

    assert result == [utc("2026-01-05 09:00"), utc("2026-01-07 09:00"), utc("2026-01-09 09:00")]
    assert [r.isoweekday() for r in result] == [1, 3, 5]


def test_sunday_is_iso_weekday_seven():
    schedule = DoseSchedule(times=(t("09:00"),), start=d("2026-01-01"), weekdays=frozenset({7}))
    start, end = local_days(UTC_ZONE, "2026-01-05", 7)

    assert occurrences(schedule, UTC_ZONE, start, end) == [utc("2026-01-11 09:00")]


def test_every_two_days_counts_from_schedule_start_not_from_window():
    schedule = DoseSchedule(times=(t("09:00"),), start=d("2026-01-10"), every_n_days=2)
    # The window opens three days before the order starts and runs a week.
    start, end = local_days(UTC_ZONE, "2026-01-07", 7)

    assert occurrences(schedule, UTC_ZONE, start, end) == [
        utc("2026-01-10 09:00"),
        utc("2026-01-12 09:00"),
    ]


@pytest.mark.parametrize("first", ["2026-01-10", "2026-01-11", "2026-01-12"])
def test_every_n_days_phase_follows_whichever_day_the_order_starts(first):
    schedule = DoseSchedule(times=(t("09:00"),), start=d(first), every_n_days=3)
    start, end = local_days(UTC_ZONE, "2026-01-01", 31)

    result = occurrences(schedule, UTC_ZONE, start, end)

    assert result[0].date() == d(first)
    assert [(r.date() - d(first)).days for r in result[:3]] == [0, 3, 6]


def test_every_three_days_window_starting_after_schedule_start_keeps_the_phase():
    schedule = DoseSchedule(times=(t("09:00"),), start=d("2026-01-01"), every_n_days=3)
    start, end = local_days(UTC_ZONE, "2026-01-05", 6)

    # Dose days are Jan 1, 4, 7, 10, ...
    assert occurrences(schedule, UTC_ZONE, start, end) == [
        utc("2026-01-07 09:00"),
        utc("2026-01-10 09:00"),
    ]


# --- month days --------------------------------------------------------------------------


def month_schedule(*days: int) -> DoseSchedule:
    return DoseSchedule(times=(t("09:00"),), start=d("2020-01-01"), month_days=frozenset(days))


def test_month_day_31_falls_on_april_30():
    start, end = local_days(UTC_ZONE, "2026-04-01", 31)  # all of April, plus May 1

    assert occurrences(month_schedule(31), UTC_ZONE, start, end) == [utc("2026-04-30 09:00")]


def test_month_day_31_in_a_31_day_month_is_the_31st_only():
    start, end = local_days(UTC_ZONE, "2026-01-01", 31)

    assert occurrences(month_schedule(31), UTC_ZONE, start, end) == [utc("2026-01-31 09:00")]


@pytest.mark.parametrize("day", [29, 30, 31])
def test_month_days_past_february_end_fall_on_the_28th_in_a_common_year(day):
    start, end = local_days(UTC_ZONE, "2026-02-01", 28)

    assert occurrences(month_schedule(day), UTC_ZONE, start, end) == [utc("2026-02-28 09:00")]


@pytest.mark.parametrize("day", [29, 30, 31])
def test_month_days_past_february_end_fall_on_the_29th_in_a_leap_year(day):
    start, end = local_days(UTC_ZONE, "2028-02-01", 29)

    assert occurrences(month_schedule(day), UTC_ZONE, start, end) == [utc("2028-02-29 09:00")]


def test_month_days_28_through_31_in_a_common_february_give_one_dose_on_the_28th():
    start, end = local_days(UTC_ZONE, "2026-02-01", 28)

    assert occurrences(month_schedule(28, 29, 30, 31), UTC_ZONE, start, end) == [
        utc("2026-02-28 09:00")
    ]


def test_month_days_30_and_31_in_april_give_one_dose():
    start, end = local_days(UTC_ZONE, "2026-04-01", 30)

    assert occurrences(month_schedule(30, 31), UTC_ZONE, start, end) == [utc("2026-04-30 09:00")]


def test_month_days_1_and_15_across_two_months():
    start, end = local_days(UTC_ZONE, "2026-01-01", 59)

    assert occurrences(month_schedule(1, 15), UTC_ZONE, start, end) == [
        utc("2026-01-01 09:00"),
        utc("2026-01-15 09:00"),
        utc("2026-02-01 09:00"),
        utc("2026-02-15 09:00"),
    ]


# --- schedule start/end and window boundaries --------------------------------------------


def test_schedule_start_and_end_days_are_inclusive():
    schedule = daily("08:00", "20:00", start="2026-01-10", end="2026-01-11")
    start, end = local_days(NEW_YORK, "2026-01-08", 6)

    assert occurrences(schedule, NEW_YORK, start, end) == [
        utc("2026-01-10 13:00"),
        utc("2026-01-11 01:00"),
        utc("2026-01-11 13:00"),
        utc("2026-01-12 01:00"),  # 20:00 local on the last day, which is the next UTC day
    ]


def test_single_day_schedule_gives_that_days_doses():
    schedule = daily("09:00", start="2026-01-10", end="2026-01-10")
    start, end = local_days(UTC_ZONE, "2026-01-01", 30)

    assert occurrences(schedule, UTC_ZONE, start, end) == [utc("2026-01-10 09:00")]


def test_schedule_ending_before_it_starts_gives_nothing():
    schedule = daily("09:00", start="2026-01-10", end="2026-01-09")
    start, end = local_days(UTC_ZONE, "2026-01-01", 30)

    assert occurrences(schedule, UTC_ZONE, start, end) == []


def test_dose_exactly_at_window_start_is_included():
    schedule = daily("09:00")

    result = occurrences(schedule, UTC_ZONE, utc("2026-01-10 09:00"), utc("2026-01-10 09:01"))

    assert result == [utc("2026-01-10 09:00")]


def test_dose_exactly_at_window_end_is_excluded():
    schedule = daily("09:00")

    result = occurrences(schedule, UTC_ZONE, utc("2026-01-10 08:00"), utc("2026-01-10 09:00"))

    assert result == []


def test_adjacent_windows_never_share_or_lose_a_dose():
    schedule = daily("00:00", "09:00", "23:59")
    edges = [utc("2026-01-10 00:00") + dt.timedelta(minutes=15 * i) for i in range(4 * 24 * 3)]

    pieces = [
        dose
        for lo, hi in zip(edges, edges[1:], strict=False)
        for dose in occurrences(schedule, NEW_YORK, lo, hi)
    ]

    assert pieces == occurrences(schedule, NEW_YORK, edges[0], edges[-1])
    assert len(pieces) == len(set(pieces))


def test_empty_or_reversed_window_gives_nothing():
    schedule = daily("09:00")
    at = utc("2026-01-10 09:00")

    assert occurrences(schedule, UTC_ZONE, at, at) == []
    assert occurrences(schedule, UTC_ZONE, at, at - dt.timedelta(days=1)) == []


def test_window_in_a_non_utc_zone_is_read_as_its_instant():
    schedule = daily("09:00")
    # 2026-01-10 00:00 in Tokyo (UTC+9) is 2026-01-09 15:00 UTC: the window is Jan 9 15:00 UTC
    # to Jan 10 15:00 UTC, which holds London's Jan 10 09:00 dose (GMT == UTC in January).
    tokyo = ZoneInfo("Asia/Tokyo")
    start, end = local_days(tokyo, "2026-01-10", 1)

    result = occurrences(schedule, LONDON, start, end)

    assert result == [utc("2026-01-10 09:00")]
    assert result[0].tzinfo is UTC


def test_window_with_fixed_offset_tzinfo_works():
    schedule = daily("09:00")
    minus_five = dt.timezone(dt.timedelta(hours=-5))
    start = dt.datetime(2026, 1, 10, 0, 0, tzinfo=minus_five)

    result = occurrences(schedule, NEW_YORK, start, start + dt.timedelta(days=1))

    assert result == [utc("2026-01-10 14:00")]


def test_results_are_utc_aware_and_ascending():
    # Times given out of order on purpose.
    schedule = daily("20:00", "08:00", "13:30")
    start, end = local_days(LONDON, "2026-06-01", 3)

    result = occurrences(schedule, LONDON, start, end)

    assert len(result) == 9
    assert all(r.tzinfo is UTC for r in result)
    assert result == sorted(result)
    assert len(set(result)) == len(result)


def test_duplicate_times_give_one_dose():
    schedule = daily("09:00", "09:00")
    start, end = local_days(UTC_ZONE, "2026-01-10", 1)

    assert occurrences(schedule, UTC_ZONE, start, end) == [utc("2026-01-10 09:00")]


# --- validation --------------------------------------------------------------------------


def test_naive_window_start_raises():
    with pytest.raises(ValueError, match="aware"):
        occurrences(daily("09:00"), UTC_ZONE, dt.datetime(2026, 1, 10), utc("2026-01-11 00:00"))


def test_naive_window_end_raises():
    with pytest.raises(ValueError, match="aware"):
        occurrences(daily("09:00"), UTC_ZONE, utc("2026-01-10 00:00"), dt.datetime(2026, 1, 11))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"times": ()}, "at least one dose time"),
        ({"every_n_days": 0}, "every_n_days"),
        ({"every_n_days": -2}, "every_n_days"),
        ({"weekdays": frozenset({1}), "every_n_days": 2}, "at most one"),
        ({"weekdays": frozenset({1}), "month_days": frozenset({1})}, "at most one"),
        ({"every_n_days": 2, "month_days": frozenset({1})}, "at most one"),
        ({"weekdays": frozenset({0, 1})}, r"1 \(Monday\) \.\. 7 \(Sunday\); got \[0\]"),
        ({"weekdays": frozenset({8})}, "got \\[8\\]"),
        ({"weekdays": frozenset()}, "at least one day"),
        ({"month_days": frozenset({0})}, "1..31; got \\[0\\]"),
        ({"month_days": frozenset({32})}, "1..31; got \\[32\\]"),
        ({"month_days": frozenset()}, "at least one day"),
        ({"times": (dt.time(9, tzinfo=UTC),)}, "naive"),
    ],
)
def test_invalid_schedule_cannot_be_built(kwargs, message):
    fields = {"times": (t("09:00"),), "start": d("2026-01-01")} | kwargs

    with pytest.raises(ValueError, match=message):
        DoseSchedule(**fields)


def test_weekdays_with_every_n_days_one_is_allowed():
    # every_n_days=1 is the default "daily", so it does not count as a second recurrence kind.
    schedule = DoseSchedule(
        times=(t("09:00"),), start=d("2026-01-01"), weekdays=frozenset({1}), every_n_days=1
    )

    assert describe(schedule) == "09:00 on Mon"


def test_occurrences_revalidates_a_schedule_tampered_with_after_construction():
    schedule = daily("09:00")
    object.__setattr__(schedule, "every_n_days", 0)
    start, end = local_days(UTC_ZONE, "2026-01-10", 1)

    with pytest.raises(ValueError, match="every_n_days"):
        occurrences(schedule, UTC_ZONE, start, end)


def test_lists_are_normalised_so_the_schedule_stays_hashable():
    schedule = DoseSchedule(times=[t("09:00")], start=d("2026-01-01"), weekdays=[1, 3])

    assert schedule.times == (t("09:00"),)
    assert schedule.weekdays == frozenset({1, 3})
    assert hash(schedule) == hash(dataclasses.replace(schedule))


# --- daylight saving time ----------------------------------------------------------------


def test_new_york_spring_forward_gap_time_is_given_an_hour_later_on_the_clock():
    schedule = daily("02:30")
    start, end = local_days(NEW_YORK, "2026-03-08", 1)

    result = occurrences(schedule, NEW_YORK, start, end)

    assert result == [utc("2026-03-08 07:30")]
    assert result[0].astimezone(NEW_YORK).time() == t("03:30")


def test_times_landing_on_the_same_instant_give_one_dose():
    # On New York's spring-forward day 02:30 does not exist and reads as 03:30 EDT.
    schedule = daily("02:30", "03:30")
    start, end = local_days(NEW_YORK, "2026-03-08", 1)

    assert occurrences(schedule, NEW_YORK, start, end) == [utc("2026-03-08 07:30")]


def test_new_york_spring_forward_day_keeps_other_times():
    schedule = daily("01:30", "02:30", "08:00")
    start, end = local_days(NEW_YORK, "2026-03-07", 3)

    assert occurrences(schedule, NEW_YORK, start, end) == [
        utc("2026-03-07 06:30"),  # EST
        utc("2026-03-07 07:30"),
        utc("2026-03-07 13:00"),
        utc("2026-03-08 06:30"),  # 01:30 EST, before the jump
        utc("2026-03-08 07:30"),  # 02:30 -> 03:30 EDT
        utc("2026-03-08 12:00"),  # 08:00 EDT
        utc("2026-03-09 05:30"),
        utc("2026-03-09 06:30"),
        utc("2026-03-09 12:00"),
    ]


def test_new_york_fall_back_repeated_time_is_given_once_at_first_occurrence():
    schedule = daily("01:30")
    start, end = local_days(NEW_YORK, "2026-11-01", 1)

    result = occurrences(schedule, NEW_YORK, start, end)

    # 01:30 EDT (UTC-4), not 01:30 EST (06:30 UTC).
    assert result == [utc("2026-11-01 05:30")]


def test_daily_schedule_over_fall_back_day_gives_one_dose_per_time_per_day():
    schedule = daily("00:30", "01:00", "01:30", "02:00", "08:00", "20:00")
    start, end = local_days(NEW_YORK, "2026-10-31", 3)

    result = occurrences(schedule, NEW_YORK, start, end)

    assert len(result) == 6 * 3
    per_day = {}
    for r in result:
        local = r.astimezone(NEW_YORK)
        per_day.setdefault(local.date(), []).append(local.time())
    assert sorted(per_day) == [d("2026-10-31"), d("2026-11-01"), d("2026-11-02")]
    for times in per_day.values():
        assert times == [t(x) for x in ("00:30", "01:00", "01:30", "02:00", "08:00", "20:00")]


def test_london_spring_forward_gap_time_is_given_at_0230_bst():
    schedule = daily("01:30")
    start, end = local_days(LONDON, "2026-03-29", 1)

    result = occurrences(schedule, LONDON, start, end)

    assert result == [utc("2026-03-29 01:30")]
    local = result[0].astimezone(LONDON)
    assert (local.time(), local.utcoffset()) == (t("02:30"), dt.timedelta(hours=1))


def test_london_fall_back_repeated_time_is_given_once_at_0030_utc():
    schedule = daily("01:30")
    start, end = local_days(LONDON, "2026-10-25", 1)

    assert occurrences(schedule, LONDON, start, end) == [utc("2026-10-25 00:30")]


def test_lord_howe_half_hour_gap_time_is_given_half_an_hour_later():
    # Lord Howe Island moves from UTC+10:30 to UTC+11 at 02:00 -> 02:30 local.
    schedule = daily("02:15")
    start, end = local_days(LORD_HOWE, "2026-10-04", 1)

    result = occurrences(schedule, LORD_HOWE, start, end)

    assert result == [utc("2026-10-03 15:45")]
    assert result[0].astimezone(LORD_HOWE).time() == t("02:45")


def test_lord_howe_half_hour_fall_back_gives_repeated_time_once():
    # Lord Howe goes back from 02:00 to 01:30: 01:45 happens twice; the first is at UTC+11.
    schedule = daily("01:45")
    start, end = local_days(LORD_HOWE, "2026-04-05", 1)

    assert occurrences(schedule, LORD_HOWE, start, end) == [utc("2026-04-04 14:45")]


def test_time_with_fold_one_is_still_given_at_first_occurrence():
    schedule = daily("09:00")
    schedule = dataclasses.replace(schedule, times=(dt.time(1, 30, fold=1),))
    start, end = local_days(NEW_YORK, "2026-11-01", 1)

    assert occurrences(schedule, NEW_YORK, start, end) == [utc("2026-11-01 05:30")]


# --- describe ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (daily("20:00", "08:00"), "08:00 and 20:00, every day"),
        (daily("09:00"), "09:00, every day"),
        (daily("22:00", "08:00", "14:00"), "08:00, 14:00 and 22:00, every day"),
        (
            DoseSchedule((t("09:00"),), d("2026-01-01"), weekdays=frozenset({5, 1, 3})),
            "09:00 on Mon, Wed, Fri",
        ),
        (
            DoseSchedule((t("09:00"),), d("2026-01-01"), weekdays=frozenset({6, 7})),
            "09:00 on Sat, Sun",
        ),
        (DoseSchedule((t("09:00"),), d("2026-01-01"), every_n_days=2), "09:00 every 2 days"),
        (
            DoseSchedule((t("09:00"),), d("2026-01-01"), month_days=frozenset({1})),
            "09:00 on day 1 of the month",
        ),
        (
            DoseSchedule((t("09:00"),), d("2026-01-01"), month_days=frozenset({15, 1})),
            "09:00 on days 1 and 15 of the month",
        ),
        (
            DoseSchedule(
                (t("21:00"), t("07:05")), d("2026-01-01"), month_days=frozenset({1, 10, 20})
            ),
            "07:05 and 21:00 on days 1, 10 and 20 of the month",
        ),
    ],
)
def test_describe_reads_naturally(schedule, expected):
    assert describe(schedule) == expected


# --- property ----------------------------------------------------------------------------

PROPERTY_ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # transitions at local midnight
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "America/St_Johns",  # UTC-3:30
    "Asia/Kolkata",
]
# (zone, UTC instant) of each 2026 DST change of the zones above. Windows are drawn around
# these so the property exercises gaps and repeated hours, not only ordinary days.
TRANSITIONS = [
    ("America/New_York", "2026-03-08 07:00"),
    ("America/New_York", "2026-11-01 06:00"),
    ("Europe/London", "2026-03-29 01:00"),
    ("Europe/London", "2026-10-25 01:00"),
    ("Australia/Lord_Howe", "2026-04-04 15:00"),
    ("Australia/Lord_Howe", "2026-10-03 15:30"),
    ("America/Santiago", "2026-04-05 03:00"),
    ("America/Santiago", "2026-09-06 04:00"),
    ("Pacific/Chatham", "2026-04-04 14:00"),
    ("Pacific/Chatham", "2026-09-26 14:00"),
    ("America/St_Johns", "2026-03-08 05:30"),
    ("America/St_Johns", "2026-11-01 04:30"),
]

minutes = st.sampled_from([0, 1, 15, 29, 30, 44, 45, 59])
dose_times = st.one_of(
    # Hours around local midnight and the usual 01:00-03:00 changes, where DST bites.
    st.builds(dt.time, st.sampled_from([23, 0, 1, 2, 3]), minutes),
    st.builds(dt.time, st.integers(0, 23), minutes),
)
zone_and_start = st.one_of(
    st.tuples(
        st.sampled_from(PROPERTY_ZONES),
        st.datetimes(
            min_value=dt.datetime(2024, 1, 1),
            max_value=dt.datetime(2028, 12, 31),
            timezones=st.just(UTC),
        ),
    ),
    st.builds(
        lambda change, offset: (change[0], utc(change[1]) + dt.timedelta(minutes=offset)),
        st.sampled_from(TRANSITIONS),
        st.integers(-2 * 24 * 60, 24 * 60),
    ),
)


@settings(max_examples=300, database=None, deadline=None)
@given(
    times=st.lists(dose_times, min_size=1, max_size=5, unique=True),
    zone_and_start=zone_and_start,
    window_minutes=st.integers(0, 4 * 24 * 60),
    start_offset_days=st.integers(-3, 3),
    length_days=st.one_of(st.none(), st.integers(0, 5)),
)
def test_daily_schedule_property(
    times, zone_and_start, window_minutes, start_offset_days, length_days
):
    zone_name, start = zone_and_start
    tz = ZoneInfo(zone_name)
    end = start + dt.timedelta(minutes=window_minutes)
    first_day = start.date() + dt.timedelta(days=start_offset_days)
    last_day = None if length_days is None else first_day + dt.timedelta(days=length_days)
    schedule = DoseSchedule(times=tuple(times), start=first_day, end=last_day)

    result = occurrences(schedule, tz, start, end)

    assert result == sorted(set(result))
    assert all(r.tzinfo is UTC for r in result)
    assert all(start <= r < end for r in result)

    def exists(day: dt.date, time: dt.time) -> bool:
        # Round-trip through UTC: astimezone(tz) on a datetime already in tz is a no-op.
        aware = dt.datetime.combine(day, time, tzinfo=tz)
        return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == aware.replace(
            tzinfo=None
        )

    def active(day: dt.date) -> bool:
        return day >= first_day and (last_day is None or day <= last_day)

    for r in result:
        local = r.astimezone(tz)
        if local.time() in times and exists(local.date(), local.time()):
            # A time that happens twice is given at its first occurrence only.
            assert local.fold == 0
            assert active(local.date())
            continue
        # Otherwise it must be a gap time of an active day, pushed forward by the gap's length.
        assert any(
            active(day)
            and not exists(day, time)
            and dt.datetime.combine(day, time, tzinfo=tz).astimezone(UTC) == r
            for day in (local.date(), local.date() - dt.timedelta(days=1))
            for time in times
        ), f"{r} ({local}) is neither a schedule time nor a shifted gap time"

    # Completeness: every time of every active day whose instant (a gap time's being after
    # the gap) falls in the window is present.
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    while day <= end.astimezone(tz).date() + dt.timedelta(days=1):
        if active(day):
            for time in times:
                instant = dt.datetime.combine(day, time, tzinfo=tz).astimezone(UTC)
                if start <= instant < end:
                    assert instant in result
        day += dt.timedelta(days=1)


# --- shared start: orders that began on different days share one expansion ----------------

recurrences = st.one_of(
    st.just({}),
    st.builds(lambda days: {"weekdays": frozenset(days)}, st.sets(st.integers(1, 7), min_size=1)),
    st.builds(lambda n: {"every_n_days": n}, st.integers(2, 9)),
    st.builds(
        lambda days: {"month_days": frozenset(days)}, st.sets(st.integers(1, 31), min_size=1)
    ),
)


@settings(max_examples=300, database=None, deadline=None)
@given(
    times=st.lists(dose_times, min_size=1, max_size=4, unique=True),
    recurrence=recurrences,
    zone_and_start=zone_and_start,
    began_days_before=st.integers(-3, 800),
    later_minutes=st.integers(0, 3 * 24 * 60),
    window_minutes=st.integers(0, 3 * 24 * 60),
    stored_period=st.integers(0, 9),
)
def test_a_shared_start_gives_the_same_doses_in_every_later_window(
    times,
    recurrence,
    zone_and_start,
    began_days_before,
    later_minutes,
    window_minutes,
    stored_period,
):
    zone_name, since = zone_and_start
    tz = ZoneInfo(zone_name)
    began = since.date() - dt.timedelta(days=began_days_before)
    schedule = DoseSchedule(times=tuple(times), start=began, **recurrence)
    first_day = first_day_read(tz, since)
    # The engine passes the stored period whatever the recurrence; only every-n-days reads it.
    period = recurrence.get("every_n_days", stored_period)
    moved = dataclasses.replace(schedule, start=shared_start(began, period, first_day))

    assert moved.start <= max(began, first_day)
    start = since + dt.timedelta(minutes=later_minutes)
    end = start + dt.timedelta(minutes=window_minutes)
    assert occurrences(moved, tz, start, end) == occurrences(schedule, tz, start, end)


def test_shared_start_keeps_the_every_n_days_phase():
    first_day = d("2026-06-09")
    assert shared_start(d("2026-06-01"), 3, first_day) == d("2026-06-07")
    assert shared_start(d("2026-06-01"), 1, first_day) == first_day
    assert shared_start(d("2026-05-20"), 0, first_day) == first_day  # stored 0 reads as daily
    assert shared_start(d("2026-06-12"), 3, first_day) == d("2026-06-12")  # not yet begun
