"""PRN use per resident and order: doses, reasons, follow-up results and missing follow-ups,
with the "consider a scheduled order" and "needs prescriber review" flags."""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Facility, User
from mar.models import (
    Administration,
    AdminStatus,
)
from meds.models import OrderStatus, Prescription
from residents.models import Resident

from .common import local_bounds, resident_filter

PRN_PATTERN_DAYS = 14  # the look-back of the "consider a scheduled order" flag
PRN_PATTERN_MIN_DAYS = 10  # days of those 14 ...
PRN_PATTERN_PER_DAY = 2  # ... with at least this many doses
PSYCHOTROPIC_PRN_DAYS = 14  # a psychotropic PRN order older than this needs a prescriber review


CONSIDER_SCHEDULED = "consider a scheduled order"
NEEDS_REVIEW = "needs prescriber review"


@dataclass
class PrnDose:
    pk: int
    at: datetime.datetime  # facility-local
    by: User
    reason: str
    followup: str  # "" when missing
    followup_result: str


@dataclass
class PrnRow:
    resident: Resident
    order: Prescription
    medication: str
    doses: list[PrnDose]
    reasons: list[tuple[str, int]]
    results: list[tuple[str, int]]
    missing: list[PrnDose]
    flags: list[str]
    busy_days: int  # days of the last 14 with 2 or more doses


@dataclass
class PrnReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    orders: QuerySet  # the rows' orders, in the report's order: a page is a slice of it
    dose_count: int
    missing_count: int
    today: datetime.date

    @cached_property
    def rows(self) -> list[PrnRow]:
        """Every row (the CSV)."""
        return self.rows_for(list(self.orders))

    def rows_for(self, orders: list[Prescription]) -> list[PrnRow]:
        """The rows of these orders (a page), in their order (1 query)."""
        return _rows(self, orders)


def prn_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
    today: datetime.date | None = None,
) -> PrnReport:
    """Per resident and PRN order: doses of the period, reasons, follow-up results and the
    follow-ups missing; flags a PRN used twice a day on 10 of the last 14 days (ending `end`)
    and a psychotropic PRN order older than 14 days. The orders are a queryset to page; the
    totals are counted in SQL (1 query); `rows_for` reads a page of orders' doses (1 query)."""
    tz = facility.tz
    today = today or datetime.datetime.now(datetime.UTC).astimezone(tz).date()
    since, until = local_bounds(facility, start, end)
    who = resident_filter(unit_id, resident_id)
    given = Administration.objects.filter(
        who,
        facility=facility,
        dose__isnull=True,
        status=AdminStatus.GIVEN,
        voided=False,
        administered_at__gte=since,
        administered_at__lt=until,
    )
    used = given.filter(prescription=OuterRef("pk"))
    orders = (
        Prescription.objects.filter(who, facility=facility, is_prn=True)
        .filter(Q(status__in=[OrderStatus.ACTIVE, OrderStatus.ON_HOLD]) | Exists(used))
        .select_related("resident__unit", "medication")
        .order_by(
            "resident__last_name", "resident__first_name", "resident_id", "medication__name", "pk"
        )
    )
    totals = given.filter(prescription__is_prn=True).aggregate(
        doses=Count("pk"), missing=Count("pk", filter=Q(followup__isnull=True))
    )
    return PrnReport(facility, start, end, orders, totals["doses"], totals["missing"], today)


def _rows(report: PrnReport, orders: list[Prescription]) -> list[PrnRow]:
    tz = report.facility.tz
    since, until = local_bounds(report.facility, report.start, report.end)
    pattern_first = report.end - datetime.timedelta(days=PRN_PATTERN_DAYS - 1)
    lookback = local_bounds(report.facility, pattern_first, report.end)[0]
    given = (
        Administration.objects.filter(
            prescription_id__in=[order.pk for order in orders] or [0],
            facility=report.facility,
            dose__isnull=True,
            status=AdminStatus.GIVEN,
            voided=False,
            administered_at__gte=min(since, lookback),
            administered_at__lt=until,
        )
        .select_related("recorded_by", "followup")
        .order_by("administered_at", "pk")
    )
    in_period: dict[int, list[Administration]] = defaultdict(list)
    per_day: dict[int, Counter] = defaultdict(Counter)
    for administration in given:
        local = administration.administered_at.astimezone(tz)
        if administration.administered_at >= since:
            in_period[administration.prescription_id].append(administration)
        if pattern_first <= local.date() <= report.end:
            per_day[administration.prescription_id][local.date()] += 1

    rows = []
    for order in orders:
        doses = [_prn_dose(a, tz) for a in in_period.get(order.pk, [])]
        busy = sum(1 for n in per_day[order.pk].values() if n >= PRN_PATTERN_PER_DAY)
        flags = []
        if busy >= PRN_PATTERN_MIN_DAYS:
            flags.append(CONSIDER_SCHEDULED)
        if _needs_review(order, min(report.end, report.today), tz):
            flags.append(NEEDS_REVIEW)
        rows.append(
            PrnRow(
                resident=order.resident,
                order=order,
                medication=str(order.medication),
                doses=doses,
                reasons=Counter(d.reason for d in doses).most_common(),
                results=Counter(d.followup_result for d in doses if d.followup).most_common(),
                missing=[d for d in doses if not d.followup],
                flags=flags,
                busy_days=busy,
            )
        )
    return rows


def _prn_dose(administration: Administration, tz) -> PrnDose:
    followup = getattr(administration, "followup", None)
    text = ""
    if followup is not None:
        text = followup.get_result_display() + (f": {followup.note}" if followup.note else "")
    return PrnDose(
        pk=administration.pk,
        at=administration.administered_at.astimezone(tz),
        by=administration.recorded_by,
        reason=administration.prn_reason,
        followup=text,
        followup_result=followup.get_result_display() if followup is not None else "",
    )


def _needs_review(order: Prescription, on: datetime.date, tz) -> bool:
    """A psychotropic PRN order running past 14 days from when it was written (CMS F758)."""
    if not order.medication.is_psychotropic or order.status == OrderStatus.DISCONTINUED:
        return False
    written = min(order.entered_at.astimezone(tz).date(), order.start_date)
    limit = datetime.timedelta(days=PSYCHOTROPIC_PRN_DAYS)
    if order.stop_date is not None and order.stop_date - written <= limit:
        return False
    return on - written > limit
