"""The flowsheet's pure rules: which range applies, and when a weight is a loss to review."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# A loss of LOSS_PERCENT or more against the weight taken DAYS before raises "re-weigh and review"
# (the usual assisted living thresholds: 5% in 30 days, 10% in 180 days).
WEIGHT_LOSS_RULES = (
    # (days, percent, tolerance): the reference is the latest weight taken at or before `days`
    # days ago, and no earlier than `tolerance` before that point (weights are weekly or monthly;
    # an older one says nothing about this window).
    (30, Decimal("5"), datetime.timedelta(days=7)),
    (180, Decimal("10"), datetime.timedelta(days=30)),
)


@dataclass(frozen=True)
class WeightLoss:
    days: int
    percent: Decimal  # the loss, rounded to 0.1
    reference: Decimal
    reference_at: datetime.datetime
    weight: Decimal

    def words(self, unit: str = "lb") -> str:
        return (
            f"{self.percent:f}% weight loss in {self.days} days: {self.reference.normalize():f} "
            f"→ {self.weight.normalize():f} {unit}"
        )


def reference_weight(
    weights: Sequence[tuple[datetime.datetime, Decimal]],
    *,
    at: datetime.datetime,
    days: int,
    tolerance: datetime.timedelta,
) -> tuple[datetime.datetime, Decimal] | None:
    """The weight `days` before `at` compares with: the latest taken at or before that point and
    not before `tolerance` earlier. `weights` are (taken_at, value) in any order."""
    point = at - datetime.timedelta(days=days)
    candidates = [w for w in weights if point - tolerance <= w[0] <= point]
    return max(candidates, key=lambda w: w[0]) if candidates else None


def weight_loss(
    weights: Sequence[tuple[datetime.datetime, Decimal]],
    *,
    at: datetime.datetime,
    weight: Decimal,
) -> WeightLoss | None:
    """The first rule the weight taken at `at` breaks against the earlier `weights`, or None."""
    for days, percent, tolerance in WEIGHT_LOSS_RULES:
        reference = reference_weight(weights, at=at, days=days, tolerance=tolerance)
        if reference is None or reference[1] <= 0:
            continue
        loss = (reference[1] - weight) * 100 / reference[1]
        if loss >= percent:
            return WeightLoss(
                days=days,
                percent=loss.quantize(Decimal("0.1")),
                reference=reference[1],
                reference_at=reference[0],
                weight=weight,
            )
    return None


def out_of_range(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)
