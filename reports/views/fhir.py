"""A resident's records as a FHIR R4 Bundle, for a hospital, a pharmacy or a new facility."""

import json

from django.http import HttpResponse

from accounts.permissions import WRITERS_CLINICAL, facility_view, scoped_get
from core.time import local_days_bounds
from residents.models import Resident

from .. import params
from ..fhir import resident_bundle


@facility_view(WRITERS_CLINICAL, action="export records")
def resident_fhir(request, pk: int):
    """?start=YYYY-MM-DD&end=YYYY-MM-DD: facility-local days, both included; by default the
    last 30 days. A date that cannot be read falls back to the default."""
    resident = scoped_get(Resident.objects.select_related("facility"), request, pk=pk)
    start, end = params.date_range(request, warn=False)
    since, until = local_days_bounds(start, end, request.facility.tz)
    bundle = resident_bundle(resident=resident, start=since, end=until)
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type="application/fhir+json; charset=utf-8",
    )
    filename = f"resident-{resident.pk}-fhir-{start:%Y%m%d}-{end:%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
