"""The last 24 hours of shift reports as a PDF, in the MAR PDF's family (US Letter, Liberation
fonts, tables and @page rules only: WeasyPrint's layout), read from the reports' snapshots."""

import datetime

from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Facility


def last_day_pdf_bytes(*, facility: Facility, rows, now: datetime.datetime) -> bytes:
    from weasyprint import HTML

    context = {"facility": facility, "rows": rows, "printed": now}
    with timezone.override(facility.tz):
        html = render_to_string("handoff/pdf/last_day.html", context)
    return HTML(string=html).write_pdf()
