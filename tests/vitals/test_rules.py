"""The weight-loss rule and its reference weight, at the edges of its windows."""

import datetime
from decimal import Decimal

from vitals import rules

AT = datetime.datetime(2026, 6, 30, 14, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)


def _loss(weights, weight):
    return rules.weight_loss([(at, Decimal(v)) for at, v in weights], at=AT, weight=Decimal(weight))


def test_exactly_five_percent_against_the_weight_exactly_30_days_before_is_a_loss():
    loss = _loss([(AT - 30 * DAY, "200")], "190")
    assert loss is not None and loss.days == 30 and loss.percent == Decimal("5.0")
    assert loss.words() == "5.0% weight loss in 30 days: 200 → 190 lb"


def test_just_under_five_percent_is_not_a_loss():
    assert _loss([(AT - 30 * DAY, "200")], "190.1") is None


def test_a_weight_less_than_30_days_before_is_not_the_reference():
    # 29 days 23 h 59 min before: inside the window, so not "30 days before".
    assert _loss([(AT - 30 * DAY + MINUTE, "200")], "180") is None


def test_the_latest_weight_at_or_before_the_point_is_the_reference():
    weights = [(AT - 36 * DAY, "220"), (AT - 31 * DAY, "200"), (AT - 20 * DAY, "230")]
    reference = rules.reference_weight(
        [(at, Decimal(v)) for at, v in weights], at=AT, days=30, tolerance=7 * DAY
    )
    assert reference == (AT - 31 * DAY, Decimal("200"))
    assert _loss(weights, "191") is None  # 4.5% of 200 (not 13% of 220)


def test_a_weight_older_than_the_tolerance_says_nothing_about_the_30_days():
    assert _loss([(AT - 37 * DAY - MINUTE, "200")], "150") is None
    assert _loss([(AT - 37 * DAY, "200")], "150").days == 30


def test_ten_percent_in_180_days_is_a_loss_when_the_last_30_days_are_not():
    weights = [(AT - 180 * DAY, "200"), (AT - 30 * DAY, "185")]
    loss = _loss(weights, "180")
    assert loss.days == 180 and loss.percent == Decimal("10.0")
    assert _loss([(AT - 180 * DAY, "200")], "180.5") is None
    assert _loss([(AT - 211 * DAY, "200")], "150") is None  # beyond the 30-day tolerance


def test_no_earlier_weight_no_loss():
    assert _loss([], "100") is None


def test_a_gain_is_not_a_loss():
    assert _loss([(AT - 30 * DAY, "150")], "170") is None


def test_out_of_range_with_open_ends():
    assert rules.out_of_range(Decimal("89"), Decimal("90"), None)
    assert not rules.out_of_range(Decimal("90"), Decimal("90"), Decimal("100"))
    assert not rules.out_of_range(Decimal("100"), Decimal("90"), Decimal("100"))
    assert rules.out_of_range(Decimal("100.1"), None, Decimal("100"))
    assert not rules.out_of_range(Decimal("5"), None, None)
