"""Care given and not given in a month, by unit and shift: what the supervisor reviews (missed
care first). Counted in SQL, one query whatever the number of tasks."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from accounts.models import Facility
from care.models import SHIFT_CHOICES, SHIFT_LABELS, SHIFT_ORDER, CareTask


@dataclass(frozen=True)
class CareCountRow:
    unit: str
    shift: str
    tasks: int
    done: int
    refused: int
    not_done: int
    missed: int

    @property
    def missed_share(self) -> str:
        return f"{self.missed / self.tasks:.1%}" if self.tasks else ""


def care_by_unit_and_shift(*, facility: Facility, year: int, month: int) -> list[CareCountRow]:
    first = datetime.date(year, month, 1)
    after = datetime.date(year + month // 12, month % 12 + 1, 1)
    rows = (
        CareTask.objects.filter(facility=facility, shift_day__gte=first, shift_day__lt=after)
        .exclude(state="cancelled")
        .values("resident__unit__name", "shift_name")
        .annotate(
            tasks=Count("id"),
            done=Count("id", filter=Q(state="done")),
            refused=Count("id", filter=Q(state="refused")),
            not_done=Count("id", filter=Q(state="not_done")),
            missed=Count("id", filter=Q(state="missed")),
        )
    )
    result = [
        CareCountRow(
            row["resident__unit__name"],
            SHIFT_LABELS.get(row["shift_name"], row["shift_name"]),
            row["tasks"],
            row["done"],
            row["refused"],
            row["not_done"],
            row["missed"],
        )
        for row in rows
    ]
    order = {label: SHIFT_ORDER[name] for name, label in SHIFT_CHOICES}
    return sorted(result, key=lambda r: (-r.missed, r.unit, order.get(r.shift, 9)))
