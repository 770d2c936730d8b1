"""Reads about a facility's "other" codes that the settings page and the services share."""

from dataclasses import dataclass

from django.db.models import Count

from accounts.models import Facility

from .models import Administration, OtherCode


def other_code_use_count(*, code: OtherCode) -> int:
    """How many of the facility's administrations were recorded with this code."""
    return Administration.objects.filter(facility_id=code.facility_id, other_code=code.code).count()


@dataclass(frozen=True)
class OtherCodeRow:
    code: OtherCode
    uses: int

    @property
    def may_delete(self) -> bool:
        return self.uses == 0


def other_code_list(*, facility: Facility) -> list[OtherCodeRow]:
    """The facility's codes by label, each with how many recorded doses use it (two queries)."""
    uses = dict(
        Administration.objects.filter(facility=facility)
        .exclude(other_code="")
        .values_list("other_code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        OtherCodeRow(code=code, uses=uses.get(code.code, 0))
        for code in OtherCode.objects.filter(facility=facility).order_by("label", "code")
    ]
