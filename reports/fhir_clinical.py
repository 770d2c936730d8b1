"""A resident's changes of condition as FHIR R4 Communications, for the bundle of
reports/fhir.py: the report (staff -> nurse), the nurse's SBAR evaluation, and each
notification of the physician or the representative (CMS F580) — reached ("completed", with
their response) or not notified ("not-done", with the reason).

Two queries whatever the number of reports."""

from django.db.models import Prefetch

from clinical.models import ConditionNotification, ConditionReport
from clinical.selectors import evaluation_of
from residents.models import Resident

CATEGORY_SYSTEM = "urn:medtech:communication-category"
_PARTY_TYPE = {"physician": "Practitioner", "representative": "RelatedPerson"}


def _category(code: str, text: str) -> list[dict]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": code}], "text": text}]


def clinical_entries(
    *, resident: Resident, start, end, patient_ref: dict, full_url, instant
) -> list[dict]:
    """The period's reports (reported in [start, end)) with their evaluation and notifications."""
    reports = (
        ConditionReport.objects.filter(
            resident=resident, reported_at__gte=start, reported_at__lt=end
        )
        .select_related("reported_by", "evaluation__evaluated_by")
        .prefetch_related(
            Prefetch(
                "evaluation__notifications",
                queryset=ConditionNotification.objects.select_related("recorded_by").order_by(
                    "recorded_at", "pk"
                ),
            )
        )
        .order_by("reported_at", "pk")
    )
    entries = []
    for report in reports:
        report_url = full_url("condition-report", report.pk)
        text = report.changes_words + (f". {report.note}" if report.note else "")
        entries.append(
            {
                "fullUrl": report_url,
                "resource": {
                    "resourceType": "Communication",
                    "status": "completed",
                    "category": _category("change-of-condition", "Change of condition"),
                    "priority": "urgent" if report.escalated_at else "asap",
                    "subject": patient_ref,
                    "sent": instant(report.reported_at),
                    "sender": {"display": str(report.reported_by)},
                    "recipient": [{"display": "Nurse on duty"}],
                    "payload": [{"contentString": f"Change of condition: {text}"}],
                },
            }
        )
        evaluation = evaluation_of(report)
        if evaluation is None:
            continue
        evaluation_url = full_url("condition-evaluation", evaluation.pk)
        entries.append(
            {
                "fullUrl": evaluation_url,
                "resource": {
                    "resourceType": "Communication",
                    "status": "completed",
                    "category": _category("sbar", "Nurse evaluation (SBAR)"),
                    "subject": patient_ref,
                    "inResponseTo": [{"reference": report_url}],
                    "sent": instant(evaluation.evaluated_at),
                    "sender": {"display": str(evaluation.evaluated_by)},
                    "payload": [
                        {"contentString": f"Situation: {evaluation.situation}"},
                        {"contentString": f"Background: {evaluation.background}"},
                        {"contentString": f"Assessment: {evaluation.assessment}"},
                        {"contentString": f"Recommendation: {evaluation.recommendation}"},
                    ],
                },
            }
        )
        for notification in evaluation.notifications.all():
            entries.append(
                {
                    "fullUrl": full_url("condition-notification", notification.pk),
                    "resource": _notification(notification, evaluation_url, patient_ref, instant),
                }
            )
    return entries


def _notification(notification, evaluation_url: str, patient_ref: dict, instant) -> dict:
    party = notification.get_party_display()
    resource = {
        "resourceType": "Communication",
        "category": _category(f"notify-{notification.party}", f"{party} notified"),
        "subject": patient_ref,
        "partOf": [{"reference": evaluation_url}],
        "sender": {"display": str(notification.recorded_by)},
    }
    if notification.declined:
        resource["status"] = "not-done"
        resource["statusReason"] = {"text": notification.declined_reason}
        resource["recipient"] = [{"display": party}]
        return resource
    response = notification.get_response_display()
    note = f" — {notification.response_note}" if notification.response_note else ""
    resource.update(
        status="completed",
        sent=instant(notification.reached_at),
        medium=[{"text": notification.get_method_display()}],
        recipient=[
            {
                "display": f"{notification.person_reached} ({party.lower()})",
                "type": _PARTY_TYPE[notification.party],
            }
        ],
        payload=[{"contentString": f"Response: {response}{note}"}],
    )
    return resource
