"""The template filters every page reads instants through: the facility's zone, one style."""

import datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.utils import timezone

NEW_YORK = ZoneInfo("America/New_York")


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_instant_reads_in_the_active_facility_zone_across_dst():
    # 2026-11-01 06:30 UTC is 01:30 EST (after the fall-back), 05:30 UTC is 01:30 EDT.
    after = datetime.datetime(2026, 11, 1, 6, 30, tzinfo=datetime.UTC)
    before = datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC)
    with timezone.override(NEW_YORK):
        assert render("{{ a|instant }} / {{ b|instant }}", a=before, b=after) == (
            "2026-11-01 01:30 / 2026-11-01 01:30"
        )
        assert render("{{ a|clock }}", a=after) == "01:30"


def test_day_of_a_late_evening_instant_is_the_local_date():
    late = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)  # 21:00 on the 2nd in NY
    with timezone.override(NEW_YORK):
        assert render("{{ t|day }} {{ t|weekday }}", t=late) == "2026-12-02 Wed 2026-12-02"


def test_dates_times_and_none_render_plainly():
    assert (
        render(
            "{{ d|day }}|{{ t|clock }}|{{ n|instant }}",
            d=datetime.date(2026, 3, 8),
            t=datetime.time(8, 0),
            n=None,
        )
        == "2026-03-08|08:00|"
    )
