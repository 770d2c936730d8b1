"""Counts in words: "1 tablet", "30 tablets", "2.5 mL" (a unit written as an abbreviation, with
a capital or a dot, keeps its form)."""

from decimal import Decimal


def count_of(quantity, unit: str) -> str:
    """A quantity and its unit as a person says it, the number without trailing zeros."""
    number = Decimal(str(quantity)).normalize()
    text = f"{number:f}"
    if not unit:
        return text
    plural = number != 1 and unit.isalpha() and unit.islower() and not unit.endswith("s")
    return f"{text} {unit}{'s' if plural else ''}"


def counted(n: int, one: str, several: str) -> str:
    """ "1 order waits", "3 orders wait": a count with the words it takes (irregular forms)."""
    return f"{n} {one if n == 1 else several}"
