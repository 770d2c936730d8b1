"""A resident's records as a FHIR R4 Bundle, for a hospital, a pharmacy or a new facility."""

import datetime
import json

from django.http import HttpResponse
from django.utils import timezone

from accounts.permissions import WRITERS_CLINICAL, facility_view, scoped_get
from core.time import local_day_bounds
from residents.models import Resident

from .fhir import resident_bundle

DEFAULT_DAYS = 30
# Years an export may name; anything else in the address is a typo, not a request.
_YEARS = range(2000, 2101)


def _day(raw: str | None) -> datetime.date | None:
    try:
        day = datetime.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if day.year in _YEARS else None


@facility_view(WRITERS_CLINICAL, action="export records")
def resident_fhir(request, pk: int):
    """?start=YYYY-MM-DD&end=YYYY-MM-DD: facility-local days, both included; by default the
    last 30 days. A date that cannot be read falls back to the default."""
    resident = scoped_get(Resident.objects.select_related("facility"), request, pk=pk)
    tz = request.facility.tz
    today = timezone.now().astimezone(tz).date()
    end = _day(request.GET.get("end")) or today
    start = _day(request.GET.get("start")) or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        start, end = end, start
    bundle = resident_bundle(
        resident=resident,
        start=local_day_bounds(start, tz)[0],
        end=local_day_bounds(end, tz)[1],
    )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type="application/fhir+json; charset=utf-8",
    )
    filename = f"resident-{resident.pk}-fhir-{start:%Y%m%d}-{end:%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
