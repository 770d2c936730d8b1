"""Every URL of the project, opened by every kind of visitor.

The walk covers each pattern of the URL configuration, so a new page joins automatically: it
fails here until its row is added to EXPECTED (and, for pages that write, to POST_DATA).
"""

import copy
import io
import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Membership, Role
from accounts.permissions import roles_phrase
from appointments import services as appointment_services
from appointments.models import Appointment
from care import services as care_services
from care.catalog import adl_template
from care.models import CareLevel, CareTask
from clinical import services as clinical_services
from core.shifts import shift_at, shift_before
from handoff import services as handoff_services
from incidents import services as incident_services
from inventory import services as stock_services
from mar import services as mar_services
from mar.models import Alert, AlertKind, OtherCode, ScheduledDose
from mar.services.offline import OfflineRecord, offline_replay
from pharmacy import services as pharmacy_services
from pharmacy.models import DispenseReceipt, InboundMessage, PendingOrder, PharmacyInterface
from pharmacy.receiving import frame_receive
from reports.models import JobState, MarPdfJob
from residents.models import AllergyStatus, Cart
from tests.factories import (
    PASSWORD,
    AllergyFactory,
    CertificationFactory,
    FacilityFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)
from tests.pharmacy_support import rde as pharmacy_rde
from tests.pharmacy_support import rds as pharmacy_rds
from vitals import services as vitals_services
from vitals.models import ReadingSource, VitalRange

PERSONAS = ["anon", "med_tech", "caregiver", "nurse", "admin", "outsider"]
PERSONA_CLIENTS = {
    "med_tech": "medtech_client",
    "caregiver": "caregiver_client",
    "nurse": "nurse_client",
    "admin": "admin_client",
    "outsider": "outsider_client",
}

# Status of a GET, per URL name and persona, written out row by row. The outsider is an
# administrator of another facility: pages without an object show them their own facility (200
# or 403 by role); this facility's objects are 404. POST-only pages answer GET with 405 before
# anything else; anonymous visitors are sent to the login page.
POST_ONLY = dict.fromkeys(PERSONAS, 405)
EXPECTED: dict[str, dict[str, int]] = {
    # A med tech's home is the med pass board.
    "home": {
        "anon": 302,
        "med_tech": 302,
        "caregiver": 302,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "healthz": {
        "anon": 200,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "favicon": {
        "anon": 301,
        "med_tech": 301,
        "caregiver": 301,
        "nurse": 301,
        "admin": 301,
        "outsider": 301,
    },
    "login": {
        "anon": 200,
        "med_tech": 302,
        "caregiver": 302,
        "nurse": 302,
        "admin": 302,
        "outsider": 302,
    },
    "logout": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "facility_select": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "pharmacy_inbox": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "pharmacy_order": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "pharmacy_match": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "pharmacy_receipt": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "pharmacy_deliveries": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "refill_request": POST_ONLY,
    "pharmacy_interface": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "facility_settings": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "unit_create": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "staff_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "staff_create": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "staff_detail": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "staff_password": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "certification_create": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "certification_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "certification_delete": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "certification_expiring": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "resident_list": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "resident_admit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "resident_detail": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "resident_status": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "resident_discharge": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "allergy_add": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    # A confirmation page (GET) names the allergy and the resident; only its POST removes.
    "allergy_remove": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "resident_nkda": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "resident_audit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 302,
        "admin": 302,
        "outsider": 404,
    },
    "resident_photo": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_orders": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "order_create": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "verification_queue": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # The verify step shows the order in full; only its POST verifies.
    "order_verify": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "order_change": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "order_hold": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "order_resume": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "order_discontinue": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "order_detail": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "alert_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "alerts_acknowledge": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "alert_acknowledge": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "alert_resolve": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "resident_mar_day": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_mar_month": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "my_pin": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "care_shift": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "care_resident": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "care_assess": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "care_plan_draft": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "care_plan": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "care_plan_item": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "care_plan_publish": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "care_record_amend": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "care_levels": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "care_level_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "care_level_delete": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "flowsheet": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_vital_ranges": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,  # an administrator: refused by role before the resident is looked up
    },
    "resident_vital_range_remove": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "vital_exceptions": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "vital_exception_acknowledge": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "vital_ranges": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "vital_range_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "condition_report_new": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,  # an administrator: refused by role before the resident is looked up
    },
    "incident_report_new": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,  # an administrator: refused by role before the resident is looked up
    },
    "incident_detail": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "incident_list": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # Appointments: med techs, nurses and administrators (caregivers do not book or read them);
    # another facility's appointment or resident is a 404, the outsider's own calendar a 200.
    "appointment_calendar": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "resident_appointments": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "appointment_new": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "appointment_detail": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "appointment_edit": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "appointment_packet": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # Built in the request: it is for when the workers (or the network) are down.
    "downtime_mar": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # The offline med pass: its service worker and manifest are the site's, for anyone.
    "service_worker": dict.fromkeys(PERSONAS, 200),
    "manifest": dict.fromkeys(PERSONAS, 200),
    "offline_records": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "offline_snapshot": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # GET: who is signed in and a CSRF token; the records come as JSON POSTs (JSON_WRITES).
    "offline_sync": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # Nurses reconcile; the outsider (an administrator elsewhere) is refused by role first.
    "reconciliation_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "reconciliation_resolve": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 302,
        "admin": 403,
        "outsider": 403,
    },
    # The downtime MAR typed in: med techs and nurses, who pass medications (not administrators;
    # the outsider, an administrator elsewhere, is refused by role before the unit is looked at).
    "late_entries": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "appointment_transport": POST_ONLY,
    "appointment_hold": POST_ONLY,
    "appointment_hold_verify": POST_ONLY,
    "appointment_hold_cancel": POST_ONLY,
    "appointment_leave": POST_ONLY,
    "appointment_back": POST_ONLY,
    "appointment_outcome": POST_ONLY,
    "appointment_cancel": POST_ONLY,
    "dose_record_away": POST_ONLY,
    "incident_amend": POST_ONLY,
    "incident_close": POST_ONLY,
    "incident_followup_complete": POST_ONLY,
    "incident_followup_decline": POST_ONLY,
    "report_incidents": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "condition_report": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "condition_evaluate": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "condition_notify": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "condition_close": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "care_check_record": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "care_monitoring_end": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "care_task_record": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "board": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # What the board passes (the session's choice), "my residents" and the med carts.
    "passing_choose": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "shift_assignments": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "cart_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "cart_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "scan": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "resident_pass": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "dose_record": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "prn_give": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "prn_followup": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    # Only nurses amend; the outsider (an administrator elsewhere) is refused by role first.
    "administration_amend": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "stock_list": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "stock_receive": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "reorder_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "stock_item": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "stock_mark_ordered": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "stock_waste": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "stock_destroy": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "stock_adjust": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 403,
        "outsider": 403,
    },
    "count_overview": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "count_unit": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "count_detail": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_fhir": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # Django's admin: only its login page is walked; it answers everyone (non-staff included).
    "admin:login": {
        "anon": 200,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_care": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "resident_adl_month": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "resident_mar_pdf": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # The unit's PDF is built by a worker: its old address opens the form that asks for it.
    "unit_mar_pdf": {
        "anon": 302,
        "med_tech": 302,
        "caregiver": 403,
        "nurse": 302,
        "admin": 302,
        "outsider": 404,
    },
    "mar_pdf_jobs": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "mar_pdf_job": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "mar_pdf_job_download": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # Reports: nurses and administrators; the outsider sees their own facility's reports, and
    # this facility's resident or staff member is a 404 to them.
    "report_index": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_exceptions": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_prn": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_error_rate": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_controlled": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "report_audit_resident": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "report_audit_staff": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    # The medication catalog is one table shared by every facility: nurses read it,
    # administrators (the outsider too: an administrator elsewhere) add and correct entries.
    "medication_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    # The order form's medication search (a list of choices for htmx, a page without it).
    "medication_search": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "medication_create": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "medication_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    # A facility's "other" codes: its administrators only; another facility's code is a 404.
    "other_code_list": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 200,
    },
    "other_code_edit": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 403,
        "admin": 200,
        "outsider": 404,
    },
    "other_code_delete": {
        "anon": 405,
        "med_tech": 405,
        "caregiver": 405,
        "nurse": 405,
        "admin": 405,
        "outsider": 405,
    },
    "shift_report": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "shift_report_detail": {
        "anon": 302,
        "med_tech": 302,
        "caregiver": 302,
        "nurse": 302,
        "admin": 302,
        "outsider": 404,
    },
    "shift_report_submit": POST_ONLY,
    "shift_report_acknowledge": POST_ONLY,
    "handoff_note_add": POST_ONLY,
    "handoff_note_amend": {
        "anon": 302,
        "med_tech": 200,
        "caregiver": 200,
        "nurse": 200,
        "admin": 200,
        "outsider": 404,
    },
    "shift_reports_last_day": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
    "shift_reports_last_day_pdf": {
        "anon": 302,
        "med_tech": 403,
        "caregiver": 403,
        "nurse": 200,
        "admin": 200,
        "outsider": 200,
    },
}

# Which object of the facility fills each path parameter, by the section of the site (the
# route's first segment): staff pages take a Membership pk, resident pages a Resident pk.
PARAMETERS: dict[str, dict[str, str]] = {
    "pk": {
        "pharmacy/orders/": "pending_order",
        "pharmacy/match/": "waiting_message",
        "pharmacy/deliveries/": "dispense_receipt",
        "pharmacy/refills/": "stock_item",
        "medpass/doses/": "dose",
        "medpass/prn-doses/": "prn_administration",
        "medpass/prn/": "prn_order",
        "medpass/residents/": "resident",
        "medpass/carts/": "cart",
        "medpass/reconciliation/": "reconciliation_item",
        "records/": "administration",
        "stock/counts/": "count",
        "stock/": "stock_item",
        "residents/": "resident",
        "care/residents/": "resident",
        "care/plans/": "care_plan",
        "care/tasks/": "care_task",
        "care/checks/": "monitoring_check",
        "care/monitoring/": "monitoring_episode",
        "care/records/": "care_record",
        "care/levels/": "care_level",
        "clinical/residents/": "resident",
        "clinical/conditions/": "condition_report",
        "incidents/residents/": "resident",
        "incidents/followups/": "incident_followup",
        "incidents/": "incident",
        "handoff/reports/": "shift_report",
        "handoff/notes/": "handoff_note",
        "appointments/residents/": "resident",
        "appointments/": "appointment",
        "vitals/residents/": "resident",
        "vitals/resident-ranges/": "resident_vital_range",
        "vitals/exceptions/": "vital_exception",
        "vitals/ranges/": "vital_range",
        "staff/": "membership",
        "orders/": "prescription",
        "alerts/": "alert",
        "units/": "unit",
        "reports/mar-pdfs/": "pdf_job",
        "reports/audit/resident/": "resident",
        "reports/audit/staff/": "staff_user",
        "medications/": "medication",
        "facility/settings/other-codes/": "other_code",
    },
    "allergy_pk": {"residents/": "allergy"},
    "cert_pk": {"staff/": "certification"},
    "unit_pk": {"stock/": "unit"},
    "hold_pk": {"appointments/": "dated_hold"},
}

ADMITTED = "2025-01-15"

# A valid form for every page that writes, so a refusal is about who asks, never bad input.
POST_DATA: dict[str, dict] = {
    "staff_create": {
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "CMA",
        "username": "ghopper",
        "email": "",
        "role": "med_tech",
        "password1": "a-Long-unusual-passphrase-42",
        "password2": "a-Long-unusual-passphrase-42",
    },
    "staff_detail": {"role": "admin", "title": "RN", "is_active": "on"},
    "staff_password": {
        "password1": "a-Long-unusual-passphrase-42",
        "password2": "a-Long-unusual-passphrase-42",
    },
    "certification_create": {
        "kind": "cpr",
        "number": "CPR-1",
        "issued": "2024-01-01",
        "expires": "2026-01-01",
    },
    "certification_edit": {
        "kind": "first_aid",
        "number": "FA-9",
        "issued": "2024-02-01",
        "expires": "2027-02-01",
    },
    "certification_delete": {},
    "facility_settings": {
        "name": "Renamed Facility",
        "timezone": "America/Denver",
        "dose_window_minutes": 90,
        "time_critical_window_minutes": 20,
        "missed_after_hours": 3,
        "missed_dose_review_hours": 36,
        "prn_followup_minutes": 45,
        "prn_followup_earliest_minutes": 20,
        "reorder_days": 5,
        "prn_requires_nurse_approval": "on",
        "medtechs_may_give_schedule_ii": "",
        "idle_logout_minutes": 20,
        "offline_max_hours": 8,
        "day_shift_starts": "06:00",
        "evening_shift_starts": "14:00",
        "night_shift_starts": "22:00",
    },
    "unit_create": {"name": "South Wing"},
    "resident_admit": {
        "first_name": "Alan",
        "last_name": "Turing",
        "date_of_birth": "1935-06-23",
        "unit": "<unit>",
        "room": "12B",
        "code_status": "full_code",
        "admission_date": ADMITTED,
    },
    "resident_edit": {
        "first_name": "Augusta",
        "last_name": "King",
        "date_of_birth": "1940-05-17",
        "unit": "<unit>",
        "room": "999",
        "code_status": "dnr",
        "admission_date": "2024-01-02",
    },
    "resident_status": {"to_status": "loa", "reason": "Family visit"},
    "resident_discharge": {"reason": "Moved away", "confirm": "on"},
    "allergy_add": {"substance": "Sulfa", "reaction": "rash", "severity": "mild"},
    "allergy_remove": {},
    "resident_nkda": {},
    "order_create": {
        "medication": "<medication>",
        "dose_amount": "1",
        "dose_unit": "tablet",
        "route": "oral",
        "prescriber": "Dr. Hayes",
        "start_date": "<today>",
        "is_prn": "false",
        "times": "08:00, 20:00",
        "recurrence": "daily",
    },
    "order_change": {
        "medication": "<medication>",
        "dose_amount": "2",
        "dose_unit": "tablet",
        "route": "oral",
        "prescriber": "Dr. Hayes",
        "start_date": "<today>",
        "is_prn": "false",
        "times": "09:00",
        "recurrence": "daily",
        "change_reason": "New dose from the physician",
    },
    "order_hold": {"reason": "Physician asked to hold"},
    "order_resume": {"reason": "Physician asked to resume"},
    "order_discontinue": {"reason": "Course finished"},
    "order_verify": {},
    "alert_acknowledge": {},
    "alerts_acknowledge": lambda objects: {"alerts": [str(objects.alert.pk)], "note": "Seen"},
    "alert_resolve": {"note": "Called the pharmacy"},
    "dose_record": {"key": "0b6f4c52-52a4-4b8c-9d0e-6a0f1c2d3e4f", "status": "given"},
    "reconciliation_resolve": {"action": "void", "reason": "Entered twice on two carts"},
    "prn_give": {"key": "5d1e9a8b-7c6d-4e5f-8a9b-0c1d2e3f4a5b", "prn_reason": "Knee pain"},
    "prn_followup": {"result": "effective", "note": "Comfortable"},
    "administration_amend": {"kind": "correction", "reason": "Was refused", "status": "refused"},
    "stock_receive": {"medication": "<medication>", "quantity": "10"},
    "stock_mark_ordered": {},
    "stock_waste": {
        "quantity": "1",
        "reason": "Dropped",
        "witness_username": "nurse1",
        "witness_secret": PASSWORD,
    },
    "stock_destroy": {
        "quantity": "1",
        "reason": "Expired",
        "witness_username": "medtech1",
        "witness_secret": PASSWORD,
    },
    "stock_adjust": {
        "counted": "3",
        "reason": "Recount",
        "witness_username": "medtech1",
        "witness_secret": PASSWORD,
    },
    "medication_create": {
        "name": "Atorvastatin",
        "strength": "20 mg",
        "form": "tablet",
        "default_route": "oral",
    },
    # The entry has active orders: its identity stays, a flag and the NDC are corrected.
    "medication_edit": lambda objects: {
        "name": objects.medication.name,
        "strength": objects.medication.strength,
        "form": objects.medication.form,
        "default_route": objects.medication.default_route,
        "controlled_schedule": "",
        "ndc": "68180-0513-01",
        "is_time_critical": "on",
    },
    "shift_assignments": lambda objects: {
        "shift": shift_at(timezone.now(), objects.facility.shifts).key,
        "residents": [objects.resident.pk],
    },
    "cart_list": {"name": "East cart"},
    "cart_edit": lambda objects: {"name": "West cart", "residents": [objects.resident.pk]},
    "care_assess": lambda objects: {
        **{f"q{question}": choice for question, choice in objects.care_answers.items()},
        "reason": "routine",
        "note": "",
    },
    "care_plan_draft": {},
    "care_plan_item": {
        "prefix": "new",
        "new-category": "grooming",
        "new-instructions": "Comb hair and brush teeth",
        "new-planned_code": "04",
        "new-staff_count": "1",
        "new-shifts": ["day"],
        "new-minutes": "10",
    },
    "care_plan_publish": {},
    "care_task_record": {"status": "done", "performance_code": "04"},
    "condition_report_new": {"changes": ["eats_less", "tired"], "note": "Left her breakfast"},
    "incident_report_new": lambda o: {
        "kind": "other",
        "occurred_at": _local_input(o, timedelta(hours=-1)),
        "description": "Shouted at the nurse in the dining room",
    },
    "appointment_new": lambda o: {
        "provider_name": "Dr. Patel",
        "provider_specialty": "Cardiology",
        "starts_at": _local_input(o, timedelta(days=1)),
        "expected_return_at": _local_input(o, timedelta(days=1, hours=2)),
        "purpose": "Echocardiogram",
        "transport": "van",
        "bring_medication_list": "on",
    },
    "appointment_edit": lambda o: {
        "version": "1",
        "provider_name": "Dr. Patel",
        "starts_at": _local_input(o, timedelta(hours=2)),
        "expected_return_at": _local_input(o, timedelta(hours=4)),
        "purpose": "Echocardiogram and labs",
        "transport": "family",
    },
    "appointment_transport": lambda o: {
        "version": "1",
        "pickup_at": _local_input(o, timedelta(hours=1)),
        "note": "Van 2",
    },
    "appointment_hold": lambda o: {
        "prescription": o.prescription.pk,
        "starts_at": _local_input(o, timedelta(hours=1)),
        "ends_at": _local_input(o, timedelta(hours=4)),
        "reason": "Fasting for labs",
    },
    "appointment_hold_verify": {},
    "appointment_hold_cancel": {"reason": "Not needed after all"},
    "appointment_leave": {"version": "1"},
    "appointment_back": {"version": "2"},
    "appointment_outcome": {"version": "1", "seen": "not_seen", "notes": "Clinic closed"},
    "appointment_cancel": {"version": "1", "reason": "Clinic closed"},
    "pharmacy_order": {"decision": "reject", "reason": "Not for this resident"},
    "pharmacy_match": {"resident": "<bare_resident>"},
    "pharmacy_receipt": {"decision": "reject", "reason": "Damaged in transit"},
    "refill_request": {},
    "pharmacy_interface": {
        "sending_application": "NEW_RX",
        "sending_facility": "NEW_PLACE",
        "enabled": "on",
    },
    "dose_record_away": {"key": "7c1e9a8b-7c6d-4e5f-8a9b-0c1d2e3f4a5b", "choice": "sent"},
    "incident_amend": {"field": "discovered_by", "value": "Sam", "reason": "Sam found her"},
    "handoff_note_add": lambda o: {
        "unit": o.unit.pk,
        "shift": shift_at(timezone.now(), o.facility.shifts).key,
        "key": str(uuid.uuid4()),
        "resident": o.resident.pk,
        "category": "family",
        "text": "Her son visits at 4",
    },
    "handoff_note_amend": {"kind": "correction", "text": "Son at 5", "reason": "Wrong time"},
    "shift_report_submit": lambda o: {
        "unit": o.unit.pk,
        "shift": shift_at(timezone.now(), o.facility.shifts).key,
    },
    "shift_report_acknowledge": lambda o: {
        "incoming_username": o.incoming_user.username,
        "incoming_secret": PASSWORD,
    },
    "incident_close": {"note": "Family and nurse review done"},
    "incident_followup_complete": lambda o: {
        f"done{o.incident_followup.pk}-method": "phone",
        f"done{o.incident_followup.pk}-reached": "Jane (daughter)",
        f"done{o.incident_followup.pk}-reached_at": _local_input(o, timedelta(0)),
        f"done{o.incident_followup.pk}-response": "Will visit",
    },
    "incident_followup_decline": lambda o: {
        f"decline{o.incident_followup.pk}-reason": "The resident asked us not to call"
    },
    "condition_evaluate": {
        "situation": "Eats less since Monday",
        "background": "Lisinopril daily",
        "assessment": "Alert, no fever",
        "recommendation": "Monitor intake",
        "monitor": "on",
        "monitor_hours": "72",
    },
    "condition_notify": lambda objects: {
        "party": "physician",
        "method": "phone",
        "person_reached": "Dr. Ames",
        "reached_at": timezone.now().astimezone(objects.facility.tz).strftime("%Y-%m-%dT%H:%M"),
        "response": "monitor",
    },
    "condition_close": {},
    "care_check_record": {"status": "done", "note": "Ate half her lunch"},
    "care_monitoring_end": {"note": "Eating well again"},
    "care_record_amend": {"kind": "correction", "performance_code": "02", "reason": "Wrong level"},
    "care_levels": {"name": "Level 4 — memory care", "lowest_score": "30"},
    "flowsheet": {"pulse": "72", "temperature": "98.6"},
    "resident_vital_ranges": {"kind": "spo2", "low": "88", "high": "", "note": "COPD"},
    "resident_vital_range_remove": {},
    "vital_exception_acknowledge": {"note": "Rechecked: 88", "back": "list"},
    "vital_range_edit": {"low": "45", "high": "110"},
    "care_level_edit": {"name": "Level 3 — high", "lowest_score": "20"},
    "care_level_delete": {},
    "other_code_list": {"code": "dialysis", "label": "At dialysis"},
    "other_code_edit": {"code": "asleep", "label": "Sound asleep"},
    "other_code_delete": {},
    "mar_pdf_jobs": {"unit": "<unit>", "month": "2026-01"},
    # The open dose, initialled on paper by the med tech a moment ago (its window is open).
    "late_entries": lambda o: {
        f"dose-{o.dose.pk}-status": "given",
        f"dose-{o.dose.pk}-time": timezone.now().astimezone(o.facility.tz).strftime("%H:%M"),
        f"dose-{o.dose.pk}-by": o.staff_user.pk,
        f"dose-{o.dose.pk}-key": str(uuid.uuid4()),
    },
    "count_unit": lambda objects: {
        f"item_{objects.stock_item.pk}": "20",
        "incoming_username": "nurse1",
        "incoming_secret": PASSWORD,
    },
}


# Path parameters a write test fills differently from the walk (NKDA needs no allergies).
def _local_input(objects, delta) -> str:
    """A datetime-local input's value: the facility's wall clock now, moved by `delta`."""
    return (timezone.now() + delta).astimezone(objects.facility.tz).strftime("%Y-%m-%dT%H:%M")


POST_OBJECTS: dict[str, dict[str, str]] = {
    "incident_close": {"pk": "closable_incident"},
    "resident_nkda": {"pk": "bare_resident"},
    "care_plan_draft": {"pk": "bare_resident"},
    "order_verify": {"pk": "pending_prescription"},
    "order_resume": {"pk": "held_prescription"},
    "condition_notify": {"pk": "evaluated_report"},
    "condition_close": {"pk": "notified_report"},
    "appointment_back": {"pk": "out_appointment"},
}
# Pages that accept POST but write nothing of a facility: the session's own pages.
# (`my_pin` changes only the signed-in user's own PIN.)
NOT_FACILITY_WRITES = {
    "login",
    "logout",
    "facility_select",
    "admin:login",
    "scan",
    "my_pin",
    "passing_choose",  # the session's choice of what the board shows
}
# Writes every role of the facility may make (the med pass, waste, the shift count).
OPEN_TO_ALL_WRITES = {
    "dose_record",
    "prn_give",
    "prn_followup",
    "stock_waste",
    "count_unit",
    "shift_assignments",  # a med tech takes their own residents
    "care_task_record",  # everyone on the floor documents care
    "care_check_record",  # and monitoring checks
    "condition_report_new",  # and reports a change of condition (administrators do not)
    "incident_report_new",  # and an incident
    "handoff_note_add",  # and leaves handoff notes, amends their own
    "handoff_note_amend",
    "shift_report_submit",  # a med tech hands the shift over
    "shift_report_acknowledge",  # and signs for it
    "flowsheet",  # and records vitals
    "pharmacy_receipt",  # and receives the delivery the pharmacy announced
    "mar_pdf_jobs",
    # Appointments: med techs book and work them (holds wait for a nurse's verification).
    "appointment_new",
    "appointment_edit",
    "appointment_transport",
    "appointment_hold",
    "appointment_hold_cancel",
    "appointment_leave",
    "appointment_back",
    "appointment_outcome",
    "appointment_cancel",
    "dose_record_away",
    "late_entries",  # med techs and nurses type in the downtime MAR (administrators do not)
}
# Pages that only read.
READ_ONLY = {
    "home",
    "report_care",
    "resident_adl_month",
    "care_shift",
    "care_resident",
    "care_plan",
    "condition_report",
    "incident_detail",
    "incident_list",
    "report_incidents",
    "shift_report",
    "shift_report_detail",
    "shift_reports_last_day",
    "shift_reports_last_day_pdf",
    "vital_exceptions",
    "vital_ranges",
    "healthz",
    "favicon",
    "staff_list",
    "certification_expiring",
    "resident_list",
    "resident_detail",
    "resident_audit",
    "resident_photo",
    "resident_orders",
    "verification_queue",
    "order_detail",
    "alert_list",
    "resident_mar_day",
    "resident_mar_month",
    "resident_mar_pdf",
    "unit_mar_pdf",
    "mar_pdf_job",
    "mar_pdf_job_download",
    "board",
    "resident_pass",
    "stock_list",
    "reorder_list",
    "stock_item",
    "count_overview",
    "count_detail",
    "resident_fhir",
    "report_index",
    "report_exceptions",
    "report_prn",
    "report_error_rate",
    "report_controlled",
    "report_audit_resident",
    "report_audit_staff",
    "medication_list",
    "pharmacy_inbox",
    "medication_search",
    "pharmacy_deliveries",
    "appointment_calendar",
    "resident_appointments",
    "appointment_detail",
    "appointment_packet",
    "downtime_mar",
    "service_worker",
    "manifest",
    "offline_records",
    "offline_snapshot",
    "reconciliation_list",
}
# Writes whose body is JSON, not a form (a cart's offline records): tests/mar/test_offline_views.py.
JSON_WRITES = {"offline_sync"}
WRITE_KINDS = {
    "POST_DATA": set(POST_DATA),
    "JSON_WRITES": JSON_WRITES,
    "NOT_FACILITY_WRITES": NOT_FACILITY_WRITES,
    "READ_ONLY": READ_ONLY,
}

# Every row of the project's own apps (their audit event tables included) is compared.
PROJECT_APPS = [
    "accounts",
    "residents",
    "vitals",
    "meds",
    "care",
    "inventory",
    "mar",
    "clinical",
    "pharmacy",
    "incidents",
    "handoff",
    "appointments",
    "reports",
]


def _walk(patterns, prefix: str = "", namespace: str = "", params: tuple = ()):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        names = params + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, route, inner, names)
        elif isinstance(pattern, URLPattern):
            yield route, f"{namespace}{pattern.name}" if pattern.name else None, names


def _project_urls() -> dict[str, tuple[str, tuple[str, ...]]]:
    """{url name: (full route, path parameter names)} of every page a person can open."""
    urls = {}
    for route, name, params in _walk(get_resolver().url_patterns):
        if route.startswith("django-admin/") and route != "django-admin/login/":
            continue
        if route.startswith(("static/", "media/")):
            continue
        assert name, f"The URL pattern {route!r} has no name; name it so it can be checked."
        assert name not in urls, f"Two URL patterns are named {name!r}."
        urls[name] = (route, params)
    return urls


URLS = _project_urls()


def png_bytes(size=(8, 8), color=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


# Building the objects below is most of the time of a test here, and there are a thousand tests:
# they are built once per module run in each process, in a transaction that stays open until
# the module is done. Each test runs in a savepoint inside it (pytest-django's `db`), rolled back
# after the test, on its own deep copy of the objects, as Django's setUpTestData gives a test
# class's rows to each of its tests: nothing a test writes, in the database or on an object, is
# seen by another.
@pytest.fixture(scope="module")
def access_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """(media folder, {fixture name: object}): the people of tests/conftest.py's fixtures (same
    names, same usernames) and `objects`."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
            facility = FacilityFactory(name="Maple Grove", timezone="America/New_York")
            other_facility = FacilityFactory(name="Cedar House", timezone="America/Chicago")
            unit = UnitFactory(facility=facility, name="North Wing")
            people = {
                "facility": facility,
                "other_facility": other_facility,
                "unit": unit,
                "resident": ResidentFactory(
                    facility=facility, unit=unit, first_name="Ada", last_name="Byron"
                ),
                "admin_user": member(facility, Role.ADMIN, username="admin1"),
                "nurse_user": member(facility, Role.NURSE, username="nurse1"),
                "medtech_user": member(facility, Role.MED_TECH, username="medtech1"),
                "outsider_user": member(other_facility, Role.ADMIN, username="outsider1"),
            }
            people["objects"] = _objects(
                **{k: v for k, v in people.items() if k != "other_facility"}
            )
        yield media, people
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def _world(db, settings, access_world) -> dict:
    """This test's copy of the module's objects (`access_world`)."""
    media, world = access_world
    settings.MEDIA_ROOT = media
    return copy.deepcopy(world)


@pytest.fixture
def facility(_world):
    return _world["facility"]


@pytest.fixture
def other_facility(_world):
    return _world["other_facility"]


@pytest.fixture
def unit(_world):
    return _world["unit"]


@pytest.fixture
def resident(_world):
    return _world["resident"]


@pytest.fixture
def admin_user(_world):
    return _world["admin_user"]


@pytest.fixture
def nurse_user(_world):
    return _world["nurse_user"]


@pytest.fixture
def medtech_user(_world):
    return _world["medtech_user"]


@pytest.fixture
def outsider_user(_world):
    return _world["outsider_user"]


@pytest.fixture
def objects(_world):
    return _world["objects"]


def _objects(
    *, facility, unit, resident, admin_user, nurse_user, medtech_user, outsider_user
) -> SimpleNamespace:
    medication = MedicationFactory(name="Lisinopril")
    resident.photo.save("face.png", ContentFile(png_bytes()), save=True)
    allergy = AllergyFactory(resident=resident, recorded_by=admin_user, substance="Penicillin")
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save(update_fields=["allergy_status"])
    now = timezone.now()
    prescription = PrescriptionFactory(
        resident=resident, medication=medication, entered_by=nurse_user
    )
    # The recorded dose is another order's: two doses of one order given a minute apart would
    # be refused by its minimum spacing.
    other_prescription = PrescriptionFactory(
        resident=resident, medication=medication, entered_by=nurse_user
    )
    dose, recorded_dose = (
        ScheduledDose.objects.create(
            facility=facility,
            prescription=order,
            resident=resident,
            due_at=now + timedelta(minutes=offset),
            window_opens_at=now - timedelta(hours=1),
            window_closes_at=now + timedelta(hours=1),
        )
        for offset, order in ((0, prescription), (1, other_prescription))
    )
    administration = mar_services.administration_record(
        actor=nurse_user, dose=recorded_dose, status="given", idempotency_key=uuid.uuid4()
    ).administration
    prn_order = PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Acetaminophen"),
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("0.25"),
        prn_max_per_24h=24,
        indication="Pain",
    )
    prn_administration = mar_services.prn_give(
        actor=nurse_user,
        prescription=prn_order,
        idempotency_key=uuid.uuid4(),
        prn_reason="Headache",
        now=now - timedelta(hours=1),
    ).administration
    stock_item = stock_services.stock_receive(
        actor=nurse_user,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(name="Lorazepam", controlled_schedule="IV"),
        quantity="20",
        lot="LZ1",
    ).movement.item
    count = stock_services.controlled_count_record(
        actor=nurse_user,
        unit=unit,
        incoming_username=medtech_user.username,
        incoming_secret=PASSWORD,
        counted={stock_item.pk: "20"},
    )
    bare_resident = ResidentFactory(facility=facility, unit=unit)
    template = adl_template()
    care_answers = {
        question.pk: question.choices.order_by("position")[3].pk
        for question in template.questions.all()
    }
    for assessed in (resident, bare_resident):
        care_services.assessment_sign(
            resident=assessed,
            template=template,
            answers=care_answers,
            reason="admission",
            signed_by=nurse_user,
            now=now,
        )
    care_plan = care_services.plan_draft_from_assessment(
        assessment=resident.assessments.first(), created_by=nurse_user, now=now
    )
    care_task = CareTask.objects.create(
        facility=facility,
        resident=resident,
        item=care_plan.items.first(),
        shift_day=now.date(),
        shift_name="day",
        window_opens_at=now - timedelta(hours=1),
        window_closes_at=now + timedelta(hours=1),
    )
    documented_task = CareTask.objects.create(
        facility=facility,
        resident=resident,
        item=care_plan.items.last(),
        shift_day=now.date(),
        shift_name="evening",
        window_opens_at=now - timedelta(hours=2),
        window_closes_at=now + timedelta(hours=1),
    )
    care_record = care_services.care_task_record(
        task_id=documented_task.pk,
        status="done",
        performance_code="04",
        user=medtech_user,
        now=now - timedelta(minutes=30),
    )
    condition_report = clinical_services.condition_report(
        actor=medtech_user, resident=resident, changes=["confused"], note="", now=now
    )
    # Two incidents of another type (no fall: no monitoring); the second has its follow-ups
    # done, so it may close.
    incident, closable_incident = (
        incident_services.incident_report(
            actor=medtech_user,
            resident=resident,
            kind="behaviour",
            facts={"toward": "staff"},
            occurred_at=now - timedelta(hours=2),
            description="Pushed a caregiver away during the shower",
            now=now,
        )
        for _ in range(2)
    )
    for followup in closable_incident.followups.all():
        incident_services.followup_complete(
            actor=nurse_user,
            followup=followup,
            note="Done",
            method="phone",
            reached="Jane (daughter)",
            reached_at=now,
            response="Thanks",
            now=now,
        )
    vital_reading = vitals_services.readings_record(
        actor=medtech_user,
        resident=resident,
        values={"pulse": "130"},
        source=ReadingSource.FLOWSHEET,
        now=now - timedelta(minutes=20),
    )[0]
    own_range = vitals_services.resident_range_save(
        actor=nurse_user, resident=resident, kind="pulse", low="45", high="", note="Athlete"
    )
    evaluated_report, notified_report = (
        clinical_services.condition_report(
            actor=medtech_user, resident=resident, changes=["tired"], note="", now=now
        )
        for _ in range(2)
    )
    for evaluated in (evaluated_report, notified_report):
        clinical_services.condition_evaluate(
            actor=nurse_user,
            report_id=evaluated.pk,
            situation="Tired",
            background="—",
            assessment="Stable",
            recommendation="Monitor",
            now=now,
        )
    for party in ("physician", "representative"):
        clinical_services.condition_notify(
            actor=nurse_user,
            evaluation_id=notified_report.evaluation.pk,
            party=party,
            declined_reason="Asked not to be called at night",
            now=now,
        )
    monitoring_episode = evaluated_report.evaluation.monitoring
    # The previous shift's report, submitted by the nurse, waits for the incoming med tech.
    previous = shift_before(shift_at(now, facility.shifts), facility.shifts)
    shift_report = handoff_services.shift_report_submit(
        actor=nurse_user, unit=unit, shift=previous, now=now
    )
    handoff_note = handoff_services.handoff_note_add(
        actor=medtech_user,
        resident=resident,
        category="care",
        text="Offer fluids every hour",
        key=uuid.uuid4(),
        now=now,
    )
    # An appointment that takes the resident away across `dose`'s window (its pick-up, 2 hours
    # before which the resident is away, is in 90 minutes), a hold placed for it by the med
    # tech, and another resident out at one.
    appointment = appointment_services.appointment_create(
        actor=medtech_user,
        resident=resident,
        provider_name="Dr. Patel",
        provider_specialty="Cardiology",
        starts_at=now + timedelta(minutes=90),
        expected_return_at=now + timedelta(hours=3),
        purpose="Echocardiogram",
        transport="van",
    )
    dated_hold = appointment_services.appointment_hold_medication(
        actor=medtech_user,
        appointment=appointment,
        prescription=other_prescription,
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        reason="Fasting",
    ).hold
    out_appointment = appointment_services.appointment_create(
        actor=medtech_user,
        resident=bare_resident,
        provider_name="Dr. Lee",
        starts_at=now - timedelta(hours=1),
        expected_return_at=now + timedelta(hours=1),
        purpose="Dental",
        transport="family",
    )
    out_appointment = appointment_services.appointment_leave(
        actor=medtech_user, appointment=out_appointment, version=1
    )
    # The pharmacy interface: an order waiting for a nurse, a patient waiting to be matched and a
    # delivery to receive, each from a message the listener stored.
    interface = PharmacyInterface.objects.create(
        facility=facility,
        sending_application="MAPLE_RX",
        sending_facility="MAPLE_GROVE",
        pharmacy_host="127.0.0.1",
        pharmacy_port=2999,
    )
    pharmacy_services.patient_link_add(
        interface=interface, pharmacy_patient_id="RX1001", resident=resident
    )
    pharmacy_messages = {}
    for control_id, text in (
        ("ACC-ORDER", pharmacy_rde("ACC-ORDER")),
        ("ACC-WAIT", pharmacy_rde("ACC-WAIT", patient="RX-WAIT", name="Lovelace^Ada")),
        ("ACC-RDS", pharmacy_rds("ACC-RDS")),
    ):
        message_id = frame_receive(text.encode()).message_id
        pharmacy_services.message_process(message_id=message_id)
        pharmacy_messages[control_id] = message_id
    # A record made offline on a dose the nurse had documented meanwhile: it waits for a nurse.
    reconciliation_item = offline_replay(
        actor=medtech_user,
        record=OfflineRecord(
            key=uuid.uuid4(), kind="dose", target=recorded_dose.pk, device_at=now, snapshot_at=now
        ),
        now=now,
    ).item
    return SimpleNamespace(
        reconciliation_item=reconciliation_item,
        pending_order=PendingOrder.objects.get(message_id=pharmacy_messages["ACC-ORDER"]),
        waiting_message=InboundMessage.objects.get(pk=pharmacy_messages["ACC-WAIT"]),
        dispense_receipt=DispenseReceipt.objects.get(message_id=pharmacy_messages["ACC-RDS"]),
        shift_report=shift_report,
        handoff_note=handoff_note,
        incoming_user=member(facility, Role.MED_TECH, username="incoming_tech"),
        appointment=Appointment.objects.get(pk=appointment.pk),
        out_appointment=out_appointment,
        dated_hold=dated_hold,
        evaluated_report=evaluated_report,
        notified_report=notified_report,
        monitoring_episode=monitoring_episode,
        monitoring_check=monitoring_episode.checks.filter(window_opens_at__lte=now).first(),
        facility=facility,
        unit=unit,
        vital_exception=vital_reading.exception,
        resident_vital_range=own_range,
        vital_range=VitalRange.objects.get(facility=facility, kind="pulse"),
        care_record=care_record,
        condition_report=condition_report,
        incident=incident,
        closable_incident=closable_incident,
        incident_followup=incident.followups.get(kind="notify_representative"),
        care_level=CareLevel.objects.filter(facility=facility).order_by("lowest_score").last(),
        care_answers=care_answers,
        care_plan=care_plan,
        care_task=care_task,
        pdf_job=MarPdfJob.objects.create(
            facility=facility,
            unit=unit,
            year=2026,
            month=1,
            state=JobState.DONE,
            requested_by=nurse_user,
            requested_at=now,
            updated_at=now,
            pdf=b"%PDF-1.7 built by a worker",
            pdf_bytes=26,
        ),
        dose=dose,
        administration=administration,
        prn_order=prn_order,
        prn_administration=prn_administration,
        stock_item=stock_item,
        count=count,
        resident=resident,
        bare_resident=bare_resident,
        allergy=allergy,
        membership=Membership.objects.get(user=medtech_user, facility=facility),
        staff_user=medtech_user,
        certification=CertificationFactory(user=medtech_user),
        medication=medication,
        prescription=prescription,
        pending_prescription=PrescriptionFactory(
            resident=resident,
            medication=medication,
            status="pending",
            entered_by=admin_user,
            verified_by=None,
            verified_at=None,
            active_since=None,
        ),
        held_prescription=PrescriptionFactory(
            resident=resident, medication=medication, status="on_hold", entered_by=nurse_user
        ),
        other_code=OtherCode.objects.get(facility=facility, code="asleep"),
        cart=Cart.objects.create(facility=facility, name="Cart 1"),
        alert=Alert.objects.create(
            facility=facility,
            resident=resident,
            kind=AlertKind.LOW_SUPPLY,
            subject="test:1",
            message="Two days of supply left",
            created_at=timezone.now(),
        ),
    )


def _kwargs(name: str, objects, overrides: dict | None = None) -> dict:
    route, params = URLS[name]
    overrides = overrides or {}
    kwargs = {}
    for param in params:
        sections = PARAMETERS.get(param)
        if sections is None:
            pytest.fail(
                f"URL {name!r} ({route}) takes a parameter {param!r} this test cannot fill: "
                f"add it to PARAMETERS in tests/test_url_access.py (and an object to `objects`)."
            )
        attribute = overrides.get(param) or next(
            (attr for section, attr in sections.items() if route.startswith(section)), None
        )
        if attribute is None:
            pytest.fail(
                f"URL {name!r} ({route}) takes {param!r} in a section PARAMETERS does not "
                f"know: add {route.split('/')[0]!r}/ to PARAMETERS[{param!r}]."
            )
        kwargs[param] = getattr(objects, attribute).pk
    return kwargs


def _url(name: str, objects, overrides: dict | None = None) -> str:
    return reverse(name, kwargs=_kwargs(name, objects, overrides))


def _client(request, persona: str) -> Client:
    if persona == "anon":
        return Client()
    return request.getfixturevalue(PERSONA_CLIENTS[persona])


def _finish(response) -> None:
    """Read a streamed body (the photo) to its end, which closes the file it streams from."""
    if response.streaming:
        b"".join(response.streaming_content)


def _audited_writes() -> int:
    """Rows written to the audit's event tables so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname LIKE '%%event'"
        )
        return cursor.fetchone()[0]


def _snapshot() -> dict:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }


def _post_value(value, objects):
    """Placeholders: "<today>" is the facility's date, "<name>" the pk of objects.name."""
    if not (isinstance(value, str) and value.startswith("<")):
        return value
    if value == "<today>":
        return timezone.now().astimezone(objects.facility.tz).date().isoformat()
    return getattr(objects, value.strip("<>")).pk


def _post_data(name: str, objects) -> dict:
    data = POST_DATA[name]
    if callable(data):
        return data(objects)
    return {key: _post_value(value, objects) for key, value in data.items()}


def _writer_role(name: str) -> str:
    """The role of this facility that may use the page: administrator, else nurse."""
    roles = resolve(_route_path(name)).func.allowed_roles
    return Role.ADMIN if Role.ADMIN in roles else Role.NURSE


def _route_path(name: str) -> str:
    _, params = URLS[name]
    return reverse(name, kwargs=dict.fromkeys(params, 1))


def test_every_url_name_has_a_row_in_the_expected_table():
    missing = sorted(set(URLS) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(URLS))
    assert not missing, f"Add these URL names to EXPECTED in tests/test_url_access.py: {missing}"
    assert not stale, f"These EXPECTED rows name no URL any more; remove them: {stale}"


def test_every_url_is_classified_as_a_write_or_a_read():
    kinds = {name: [kind for kind, names in WRITE_KINDS.items() if name in names] for name in URLS}
    wrong = {name: found for name, found in kinds.items() if len(found) != 1}
    assert not wrong, (
        "Each URL name belongs to exactly one of POST_DATA, NOT_FACILITY_WRITES or READ_ONLY "
        f"in tests/test_url_access.py: {wrong}"
    )


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_post_to_a_read_only_page_changes_nothing(admin_client, objects, name):
    url = _url(name, objects)
    before = _snapshot()

    response = admin_client.post(url, {"name": "x", "role": "admin", "status": "discharged"})
    _finish(response)

    assert response.status_code < 500
    assert _snapshot() == before


@pytest.mark.parametrize("name", sorted(URLS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_get_answers_each_persona_as_expected(request, objects, persona, name):
    if name not in EXPECTED:
        pytest.fail(f"URL {name!r} has no row in EXPECTED in tests/test_url_access.py; add one.")
    url = _url(name, objects)
    client = _client(request, persona)
    audited_before = _audited_writes()
    response = client.get(url)
    _finish(response)

    assert response.status_code < 500, f"{persona} GET {url} crashed"
    # A GET writes nothing audited (the audit context is attached to the writing methods only).
    assert _audited_writes() == audited_before, f"{persona} GET {url} wrote audited rows"
    expected = EXPECTED[name][persona]
    assert response.status_code == expected, (
        f"{persona} GET {url} ({name}): {response.status_code}, expected {expected}"
    )
    if expected == 302 and persona == "anon":
        location = urlsplit(response["Location"])
        assert location.path == reverse("login")
        assert parse_qs(location.query)["next"] == [url]
    if expected == 403:
        roles = resolve(url).func.allowed_roles
        body = response.content.decode()
        assert f"Only {roles_phrase(roles)} can " in body, body


def test_a_forbidden_page_says_who_may_open_it(medtech_client, facility):
    response = medtech_client.get(reverse("staff_list"))

    assert response.status_code == 403
    assert "Only administrators can manage staff." in response.content.decode()
    assert "You are signed in as a med tech." in response.content.decode()


# Writes to an object every facility shares (the medication catalog): no facility's object, so
# an administrator of another facility may make them too.
SHARED_OBJECT_WRITES = {"medication_edit"}
WRITE_NAMES = sorted(set(POST_DATA) - OPEN_TO_ALL_WRITES)
OBJECT_WRITE_NAMES = sorted(
    name for name in POST_DATA if URLS.get(name, ("", ()))[1] and name not in SHARED_OBJECT_WRITES
)


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


@pytest.mark.parametrize("name", OBJECT_WRITE_NAMES)
def test_outsider_post_to_another_facilitys_object_is_404_and_changes_nothing(
    other_facility, objects, name
):
    # An outsider who holds the page's role, in their own facility only.
    outsider = _logged_in(member(other_facility, _writer_role(name), username="outsider_writer"))
    url = _url(name, objects, POST_OBJECTS.get(name))
    before = _snapshot()

    response = outsider.post(url, _post_data(name, objects))

    assert response.status_code == 404, f"outsider POST {url}: {response.status_code}"
    assert _snapshot() == before


@pytest.mark.parametrize("name", WRITE_NAMES)
def test_med_tech_post_to_a_write_page_is_403_and_changes_nothing(medtech_client, objects, name):
    url = _url(name, objects, POST_OBJECTS.get(name))
    roles = resolve(url).func.allowed_roles
    before = _snapshot()

    response = medtech_client.post(url, _post_data(name, objects))

    assert response.status_code == 403, f"med tech POST {url}: {response.status_code}"
    assert f"Only {roles_phrase(roles)} can " in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize("name", sorted(POST_DATA))
def test_the_same_post_by_a_permitted_user_is_saved(request, objects, name):
    """The refusals above are about who asks: the same POST by the right role is saved."""
    if name in OPEN_TO_ALL_WRITES:
        persona = "medtech_client"
    else:
        persona = "admin_client" if _writer_role(name) == Role.ADMIN else "nurse_client"
    client = request.getfixturevalue(persona)
    url = _url(name, objects, POST_OBJECTS.get(name))
    before = _snapshot()

    response = client.post(url, _post_data(name, objects))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert _snapshot() != before


def test_the_audited_write_count_sees_a_write(objects):
    """The GET check above would see a write: an audited change moves the count."""
    before = _audited_writes()
    OtherCode.objects.create(facility=objects.facility, code="zz", label="Counted")
    assert _audited_writes() == before + 1
