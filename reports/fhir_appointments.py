"""A resident's appointments as FHIR R4 Appointments, for the bundle of reports/fhir.py: the
provider (a display participant), the times, the purpose, the transport and instructions in
the comment, the outcome or the cancel reason. One query whatever the number of appointments."""

from appointments.models import Appointment, AppointmentState, Seen
from residents.models import Resident

# Our states in FHIR's Appointment.status words.
_STATUS = {
    AppointmentState.SCHEDULED: "booked",
    AppointmentState.OUT: "arrived",
    AppointmentState.BACK: "arrived",
    AppointmentState.CANCELLED: "cancelled",
}


def _status(appointment: Appointment) -> str:
    if appointment.state == AppointmentState.CLOSED:
        return "fulfilled" if appointment.seen == Seen.SEEN else "noshow"
    return _STATUS[AppointmentState(appointment.state)]


def _comment(appointment: Appointment) -> str:
    parts = [f"Transport: {appointment.get_transport_display()}"]
    if appointment.escort:
        parts.append(f"escort: {appointment.escort}")
    if appointment.bring_list:
        parts.append("bring: " + ", ".join(appointment.bring_list))
    if appointment.fasting:
        parts.append("fasting")
    if appointment.instructions:
        parts.append(appointment.instructions)
    if appointment.outcome_notes:
        parts.append(
            f"Outcome ({appointment.get_seen_display().lower()}): {appointment.outcome_notes}"
        )
    return "; ".join(parts)


def appointment_entries(
    *, resident: Resident, start, end, patient_ref: dict, full_url, instant
) -> list[dict]:
    """The appointments starting in [start, end)."""
    entries = []
    for appointment in Appointment.objects.filter(
        resident=resident, starts_at__gte=start, starts_at__lt=end
    ).order_by("starts_at", "pk"):
        resource = {
            "resourceType": "Appointment",
            "status": _status(appointment),
            "description": appointment.purpose,
            "start": instant(appointment.starts_at),
            "end": instant(appointment.expected_return_at),
            "created": instant(appointment.created_at)[:10],
            "comment": _comment(appointment),
            "participant": [
                {"actor": patient_ref, "status": "accepted"},
                {
                    "actor": {"display": str(appointment)},
                    "status": "accepted",
                },
            ],
        }
        if appointment.provider_specialty:
            resource["specialty"] = [{"text": appointment.provider_specialty}]
        if appointment.state == AppointmentState.CANCELLED:
            resource["cancelationReason"] = {"text": appointment.cancel_reason}
        entries.append({"fullUrl": full_url("appointment", appointment.pk), "resource": resource})
    return entries
