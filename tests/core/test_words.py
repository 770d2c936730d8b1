"""Counts in words."""

from decimal import Decimal

import pytest

from core.words import count_of


@pytest.mark.parametrize(
    ("quantity", "unit", "text"),
    [
        (1, "tablet", "1 tablet"),
        (Decimal("1.000"), "tablet", "1 tablet"),
        (Decimal("30.00"), "tablet", "30 tablets"),
        (Decimal("0.5"), "tablet", "0.5 tablets"),
        (Decimal("2.50"), "mL", "2.5 mL"),
        (3, "patches", "3 patches"),
        (0, "", "0"),
    ],
)
def test_a_count_reads_with_its_unit_in_the_right_number(quantity, unit, text):
    assert count_of(quantity, unit) == text
