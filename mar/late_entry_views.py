"""The downtime MAR typed in afterwards, one screen per unit (mar/services/late_entry.py)."""

import datetime
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Unit
from accounts.permissions import facility_view, scoped_get
from core.validators import parse_id
from core.views import run_service
from core.words import counted
from meds.models import Prescription

from . import selectors
from .late_entry_forms import LateEntriesForm, PeriodForm
from .models import ScheduledDose
from .services import late_entry
from .services.late_entry import PASSERS, LateEntriesRefused

_POSTED_DOSE = re.compile(r"^dose-(\d{1,19})-")
_POSTED_PRN = re.compile(r"^prn-(\d{1,19})-\d+-")


@dataclass
class DoseLine:
    dose: ScheduledDose
    fields: dict


@dataclass
class PrnLine:
    order: Prescription
    lines: list[dict]


@dataclass
class ResidentLines:
    resident: object
    doses: list[DoseLine] = field(default_factory=list)
    prn: list[PrnLine] = field(default_factory=list)


def _posted_rows(data) -> tuple[set[int], set[int]]:
    """The doses and PRN orders whose lines a submit sent (looked up in the unit only)."""
    doses, orders = set(), set()
    for name in data:
        if (match := _POSTED_DOSE.match(name)) and (pk := parse_id(match[1])):
            doses.add(pk)
        elif (match := _POSTED_PRN.match(name)) and (pk := parse_id(match[1])):
            orders.add(pk)
    return doses, orders


def _lines(sheet, form: LateEntriesForm) -> list[ResidentLines]:
    return [
        ResidentLines(
            resident=s.resident,
            doses=[DoseLine(dose, form.row_fields(f"dose-{dose.pk}")) for dose in s.doses],
            prn=[
                PrnLine(
                    order,
                    [
                        form.row_fields(f"prn-{order.pk}-{n}")
                        for n in range(1, selectors.PRN_PAPER_LINES + 1)
                    ],
                )
                for order in s.prn
            ],
        )
        for s in sheet
    ]


def _period_query(start: datetime.datetime, hours: int, tz) -> str:
    return urlencode({"start": start.astimezone(tz).isoformat(timespec="minutes"), "hours": hours})


@facility_view(PASSERS, action="type in downtime entries")
def late_entries(request, pk: int):
    """The unit's downtime MAR typed in: every dose of the period still undocumented, with a
    line of inputs each, and empty lines for PRNs given on paper; one submit saves them all
    (or none, each refusal beside its line)."""
    unit = scoped_get(Unit, request, pk=pk)
    facility, now = request.facility, timezone.now()
    tz = facility.tz
    posted = request.method == "POST"
    params = request.POST if posted else request.GET
    period_form = PeriodForm(
        params if "start" in params or "hours" in params else None, tz=tz, now=now
    )
    period_ok = not period_form.is_bound or period_form.is_valid()
    start, hours = period_form.period()
    end = start + datetime.timedelta(hours=hours)
    dose_ids, prn_ids = _posted_rows(request.POST) if posted else (set(), set())
    sheet = selectors.late_entry_sheet(
        facility=facility,
        unit_id=unit.pk,
        start=start,
        end=end,
        dose_ids=dose_ids,
        prn_ids=prn_ids,
    )
    staff = late_entry.staff_who_pass(facility=facility)
    form = LateEntriesForm(
        request.POST if posted else None,
        sheet=sheet,
        staff=staff,
        lines=selectors.PRN_PAPER_LINES,
    )
    status = 200 if period_ok else 400
    if posted:
        status = 400
        if period_ok and form.is_valid():
            result = run_service(
                form,
                lambda: late_entry.late_entries_record(
                    actor=request.user,
                    unit=unit,
                    entries=form.entries(),
                    start=start,
                    hours=hours,
                    now=now,
                ),
            )
            if result is not None:
                if result.saved:
                    messages.success(
                        request,
                        f"Saved {counted(result.saved, 'entry', 'entries')} from the downtime "
                        "MAR."
                        + (f" {result.already} had already been saved." if result.already else ""),
                    )
                else:
                    messages.info(
                        request, "Already saved (the form was sent twice); nothing changed."
                    )
                url = reverse("late_entries", args=[unit.pk])
                return redirect(f"{url}?{_period_query(start, hours, tz)}")
            if isinstance(form.refusal, LateEntriesRefused):
                for name, message in form.refusal.errors:
                    form.add_error(name if name in form.fields else None, message)
    context = {
        "unit": unit,
        "period_form": period_form,
        "form": form,
        "residents": _lines(sheet, form),
        "start": start,
        "end": end,
        "hours": hours,
        "start_value": start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "start_exact": start.astimezone(tz).isoformat(timespec="minutes"),
        "staff": staff,
    }
    return render(request, "mar/late_entries.html", context, status=status)
