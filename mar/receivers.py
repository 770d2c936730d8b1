"""Receivers that keep mar's rows in step with the lower apps.

Each runs inside the transaction of the change that sent the signal, so the change and its
consequences commit together (or neither does).
"""

from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Facility
from appointments.signals import appointment_outcomes_overdue, appointment_settled
from care.signals import (
    assessment_signed,
    care_reassessment_suggested,
    care_tasks_missed,
    monitoring_checks_missed,
)
from inventory.signals import controlled_count_discrepancy
from meds.models import DatedHoldState, OrderStatus
from meds.signals import dated_hold_changed, prescription_status_changed
from residents.models import ResidentStatus
from residents.signals import resident_status_changed
from vitals.signals import vital_exception_acknowledged, vital_exceptions_raised, weight_loss_found

from .models import DEFAULT_OTHER_CODES, OtherCode
from .services.alerts import (
    alert_raise_count_discrepancy,
    alert_raise_reassess_suggested,
    alert_raise_reassessment_due,
    alert_raise_weight_loss,
    alerts_raise_appointment_outcomes,
    alerts_raise_missed_care,
    alerts_raise_vital_exceptions,
    alerts_settle_appointment,
    alerts_settle_reassessment,
    alerts_settle_vital_exception,
)
from .services.dose_engine import doses_cancel_open, generation_queue


@receiver(prescription_status_changed, dispatch_uid="mar.cancel_doses_of_order")
def _on_prescription_status_changed(*, prescription, to_status, at, **kwargs) -> None:
    """Hold and discontinue cancel the order's future doses; activating fills them in."""
    reasons = {OrderStatus.ON_HOLD: "hold", OrderStatus.DISCONTINUED: "discontinued"}
    if to_status in reasons:
        doses_cancel_open(
            filters=Q(prescription_id=prescription.pk), reason=reasons[to_status], since=at, now=at
        )
    elif to_status == OrderStatus.ACTIVE:
        generation_queue(prescription.facility_id)


@receiver(dated_hold_changed, dispatch_uid="mar.dated_hold_doses")
def _on_dated_hold_changed(*, hold, to_state, at, **kwargs) -> None:
    """A verified dated hold cancels the order's open doses in its time (from now on: a dose
    already past stays as it is); a cancelled one lets the engine make and revive them."""
    order = hold.prescription
    if to_state == DatedHoldState.VERIFIED:
        doses_cancel_open(
            filters=Q(prescription_id=order.pk, due_at__lt=hold.ends_at),
            reason="hold",
            since=max(hold.starts_at, at),
            now=at,
        )
    else:
        generation_queue(order.facility_id)


@receiver(appointment_outcomes_overdue, dispatch_uid="mar.appointment_outcome_alerts")
def _on_appointment_outcomes_overdue(*, facility_id, appointments, at, **kwargs) -> None:
    alerts_raise_appointment_outcomes(facility_id=facility_id, appointments=appointments, at=at)


@receiver(appointment_settled, dispatch_uid="mar.settle_appointment_alert")
def _on_appointment_settled(*, appointment, by, at, **kwargs) -> None:
    alerts_settle_appointment(appointment=appointment, by=by, at=at)


@receiver(resident_status_changed, dispatch_uid="mar.cancel_doses_of_resident")
def _on_resident_status_changed(
    *, resident, to_status, effective_at, from_status="", change=None, **kwargs
) -> None:
    """An absence cancels the resident's doses from its start; a return fills them in, and a
    return from hospital asks for a reassessment within 48 hours."""
    if to_status == ResidentStatus.ACTIVE:
        generation_queue(resident.facility_id)
        if from_status == ResidentStatus.HOSPITAL and change is not None:
            alert_raise_reassessment_due(
                resident=resident, status_change_id=change.pk, at=effective_at
            )
        return
    doses_cancel_open(
        filters=Q(resident_id=resident.pk),
        reason=str(to_status),
        since=effective_at,
        now=timezone.now(),
    )


@receiver(post_save, sender=Facility, dispatch_uid="mar.default_other_codes")
def _default_other_codes(sender, instance: Facility, created: bool, **kwargs) -> None:
    """A new facility starts with the usual "other" codes; administrators extend the list."""
    if created:
        OtherCode.objects.bulk_create(
            [
                OtherCode(facility=instance, code=code, label=label)
                for code, label in DEFAULT_OTHER_CODES
            ],
            ignore_conflicts=True,
        )


@receiver(controlled_count_discrepancy, dispatch_uid="mar.count_discrepancy_alert")
def _count_discrepancy_alert(sender, count, discrepancies, **kwargs) -> None:
    """A count that differs from the ledger raises one urgent alert (see the service)."""
    alert_raise_count_discrepancy(count=count, discrepancies=discrepancies)


@receiver(care_tasks_missed, dispatch_uid="mar.missed_care_alerts")
def _on_care_tasks_missed(*, facility_id, tasks, at, **kwargs) -> None:
    alerts_raise_missed_care(facility_id=facility_id, tasks=tasks, at=at)


@receiver(monitoring_checks_missed, dispatch_uid="mar.missed_monitoring_alerts")
def _on_monitoring_checks_missed(*, facility_id, tasks, at, **kwargs) -> None:
    alerts_raise_missed_care(facility_id=facility_id, tasks=tasks, at=at, monitoring=True)


@receiver(care_reassessment_suggested, dispatch_uid="mar.reassess_suggested_alert")
def _on_reassessment_suggested(*, resident, category, at, **kwargs) -> None:
    alert_raise_reassess_suggested(resident=resident, category=category, at=at)


@receiver(assessment_signed, dispatch_uid="mar.settle_reassessment_alerts")
def _on_assessment_signed(*, assessment, **kwargs) -> None:
    alerts_settle_reassessment(
        resident_id=assessment.resident_id, by=assessment.signed_by, at=assessment.signed_at
    )


@receiver(vital_exceptions_raised, dispatch_uid="mar.vital_exception_alerts")
def _on_vital_exceptions(*, exceptions, at, **kwargs) -> None:
    alerts_raise_vital_exceptions(exceptions=exceptions, at=at)


@receiver(vital_exception_acknowledged, dispatch_uid="mar.settle_vital_exception_alert")
def _on_vital_exception_acknowledged(*, exception, acknowledgement, **kwargs) -> None:
    alerts_settle_vital_exception(exception=exception, acknowledgement=acknowledgement)


@receiver(weight_loss_found, dispatch_uid="mar.weight_loss_alert")
def _on_weight_loss(*, resident, reading, loss, at, **kwargs) -> None:
    alert_raise_weight_loss(resident=resident, reading=reading, loss=loss, at=at)
