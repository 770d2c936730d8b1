"""Reads of clinical's pages: the SBAR background drawn from the record, and a report with its
evaluation and notifications (a fixed number of queries each)."""

import datetime

from django.db.models import Prefetch

from core.time import local_stamp
from mar.models import Administration, AdminStatus
from meds.models import OrderStatus, Prescription
from residents.models import Resident
from vitals.models import VITAL_UNITS, VitalReading, VitalSign

from . import rules
from .models import ConditionEvaluation, ConditionNotification, ConditionReport


def background_words(*, resident: Resident, now: datetime.datetime) -> str:
    """The "B" of SBAR as the record says it, for the nurse to read and amend: allergies,
    active orders, vitals of the last 72 hours, PRNs given in the last 72 hours, refusals of
    the last 7 days. Five queries."""
    tz = resident.facility.tz
    allergies = [
        f"{a.substance}{f' ({a.reaction})' if a.reaction else ''}" for a in resident.allergies.all()
    ]
    lines = [
        "Allergies: "
        + (", ".join(allergies) or resident.get_allergy_status_display() or "none recorded")
        + "."
    ]
    orders = (
        Prescription.objects.filter(resident=resident, status=OrderStatus.ACTIVE)
        .select_related("medication")
        .order_by("is_prn", "medication__name")
    )
    lines.append(
        "Active orders: "
        + ("; ".join(f"{o.medication} {o.dose_text}, {o.schedule_text}" for o in orders) or "none")
        + "."
    )
    readings = VitalReading.objects.filter(
        resident=resident, taken_at__gte=now - rules.BACKGROUND_VITALS
    ).order_by("kind", "-taken_at")
    latest: dict[str, list[str]] = {}
    for reading in readings:
        values = latest.setdefault(reading.kind, [])
        if len(values) < 3:
            values.append(
                f"{reading.value.normalize():f} {VITAL_UNITS[reading.kind]} "
                f"({local_stamp(reading.taken_at, tz)})"
            )
    lines.append(
        "Vitals, last 72 hours: "
        + (
            "; ".join(f"{VitalSign(kind).label} {', '.join(v)}" for kind, v in latest.items())
            or "none taken"
        )
        + "."
    )
    records = (
        Administration.objects.filter(resident=resident, voided=False)
        .filter(administered_at__gte=now - rules.BACKGROUND_REFUSALS)
        .select_related("prescription__medication")
        .order_by("-administered_at")
    )
    prn, refusals = [], []
    for record in records:
        stamp = local_stamp(record.administered_at, tz)
        if (
            record.dose_id is None
            and record.status == AdminStatus.GIVEN
            and record.administered_at >= now - rules.BACKGROUND_PRN
        ):
            reason = f" for {record.prn_reason}" if record.prn_reason else ""
            prn.append(f"{record.prescription.medication}{reason} ({stamp})")
        elif record.status == AdminStatus.REFUSED:
            refusals.append(f"{record.prescription.medication} ({stamp})")
    lines.append("PRNs given, last 72 hours: " + ("; ".join(prn) or "none") + ".")
    lines.append("Refused, last 7 days: " + ("; ".join(refusals) or "none") + ".")
    return "\n".join(lines)


def report_with_evaluation(queryset, pk: int) -> ConditionReport | None:
    """The report, its resident, reporter, evaluation and notifications: two queries."""
    return (
        queryset.select_related(
            "facility",
            "resident__unit",
            "resident__facility",
            "reported_by",
            "evaluation__evaluated_by",
            "evaluation__closed_by",
            "evaluation__monitoring",
        )
        .prefetch_related(
            Prefetch(
                "evaluation__notifications",
                queryset=ConditionNotification.objects.select_related("recorded_by"),
            ),
            "evaluation__readings",
        )
        .filter(pk=pk)
        .first()
    )


def evaluation_of(report: ConditionReport) -> ConditionEvaluation | None:
    try:
        return report.evaluation
    except ConditionEvaluation.DoesNotExist:
        return None


def parties_missing(evaluation: ConditionEvaluation) -> list[str]:
    """The required parties not yet reached nor declined, in words (from the prefetch)."""
    return rules.parties_missing({n.party for n in evaluation.notifications.all()})
