"""Every page each demo role can open passes axe-core with no critical or serious violation,
and no page asks the server for something that is not there (a 404 in the browser's console).

The pages are the URL patterns the access table (tests/test_url_access.py) says this role opens
with a 200, one sample object per pattern, from the demo; the login page too. axe-core comes from
the npm registry through `scripts/fetch_axe.py` (`make test` installs it into var/axe/).
"""

import importlib.util
import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Certification, Membership, Unit, User
from appointments.models import Appointment
from care.models import (
    CareLevel,
    CareRecord,
    MonitoringCheck,
    MonitoringEpisode,
    ServicePlan,
)
from clinical.models import ConditionReport
from handoff import services as handoff_services
from incidents.models import Incident, IncidentFollowUp
from inventory.models import ControlledCount, StockItem
from mar import services as mar_services
from mar.models import OtherCode
from mar.services.offline import OfflineRecord, offline_replay
from meds.models import OrderStatus
from pharmacy import services as pharmacy_services
from pharmacy.models import DispenseReceipt, InboundMessage, PendingOrder
from pharmacy.receiving import frame_receive
from reports.models import JobState, MarPdfJob
from residents import services as resident_services
from residents.models import Cart, Resident, ResidentStatus
from tests.e2e.conftest import CHROMIUM, DEMO_PASSWORD, login
from tests.pharmacy_support import rde as pharmacy_rde
from tests.pharmacy_support import rds as pharmacy_rds
from tests.test_url_access import EXPECTED, URLS, _url
from vitals import services as vitals_services
from vitals.models import VitalException, VitalRange

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

_spec = importlib.util.spec_from_file_location(
    "fetch_axe", Path(settings.BASE_DIR) / "scripts" / "fetch_axe.py"
)
fetch_axe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch_axe)
AXE = fetch_axe.axe_path()

PERSONAS = {"medtech": "med_tech", "nurse": "nurse", "admin": "admin"}
# Answers that are not pages a person reads in the browser (files, JSON, Django's own admin).
NOT_PAGES = {
    "healthz",
    "favicon",
    "admin:login",
    "resident_photo",
    "resident_fhir",
    "resident_mar_pdf",
    "mar_pdf_job_download",
    "appointment_packet",
    "shift_reports_last_day_pdf",
    "downtime_mar",
    "service_worker",
    "manifest",
    "offline_snapshot",
    "offline_sync",
}
BLOCKING = {"critical", "serious"}

# Violations found in pages whose templates belong to other parts of issue 11 (the med pass
# cards, the alerts inbox, the home page, …), as (URL name, axe rule): the lead empties this
# list when those parts are merged. Everything else must pass with no exception.
PENDING: dict[tuple[str, str], str] = {}


def _demo_objects(demo) -> SimpleNamespace:
    """One object of the demo's Maple Grove per path parameter the pages take: the resident
    is one with a controlled PRN order (its med pass card asks for a witness)."""
    facility = demo["resident"].facility
    resident = (
        Resident.objects.filter(
            facility=facility,
            status=ResidentStatus.ACTIVE,
            orders__is_prn=True,
            orders__status=OrderStatus.ACTIVE,
            orders__medication__controlled_schedule__in=["II", "III", "IV", "V"],
        )
        .order_by("pk")
        .first()
    )
    medtech = User.objects.get(username="medtech")
    dose = demo["doses"][0]
    administration = mar_services.administration_record(
        actor=medtech,
        dose=dose,
        status="refused",
        reason="Resident declined",
        idempotency_key=uuid.uuid4(),
    ).administration
    # The same dose recorded on a cart offline: it waits in the nurse's reconciliation queue.
    offline_replay(
        actor=medtech,
        record=OfflineRecord(
            key=uuid.uuid4(),
            kind="dose",
            target=dose.pk,
            device_at=timezone.now(),
            snapshot_at=None,
        ),
    )
    north = Unit.objects.get(facility=facility, name="North Wing")
    now = timezone.now()
    # Maple Grove's pharmacy (demo/pharmacy.py) sends an order, a dispense, and an order for a
    # patient it has not sent before.
    pharmacy = {}
    for control_id, text in (
        ("AXE-ORDER", pharmacy_rde("AXE-ORDER", patient="MG-RX-0001")),
        ("AXE-WAIT", pharmacy_rde("AXE-WAIT", patient="MG-RX-9999", name="Lovelace^Ada")),
        ("AXE-RDS", pharmacy_rds("AXE-RDS", patient="MG-RX-0001")),
    ):
        pharmacy[control_id] = frame_receive(text.encode()).message_id
        pharmacy_services.message_process(message_id=pharmacy[control_id])
    return SimpleNamespace(
        pending_order=PendingOrder.objects.get(message_id=pharmacy["AXE-ORDER"]),
        waiting_message=InboundMessage.objects.get(pk=pharmacy["AXE-WAIT"]),
        dispense_receipt=DispenseReceipt.objects.get(message_id=pharmacy["AXE-RDS"]),
        facility=facility,
        resident=resident,
        prescription=dose.prescription,
        administration=administration,
        staff_user=medtech,
        membership=Membership.objects.get(user=medtech, facility=facility),
        certification=Certification.objects.filter(user=medtech).order_by("pk").first(),
        stock_item=StockItem.objects.filter(facility=facility, resident__isnull=False)
        .order_by("pk")
        .first(),
        count=ControlledCount.objects.filter(unit__facility=facility).order_by("pk").first(),
        unit=north,
        other_code=OtherCode.objects.filter(facility=facility).order_by("pk").first(),
        medication=dose.prescription.medication,
        allergy=resident.allergies.order_by("pk").first()
        or resident_services.allergy_add(
            actor=User.objects.get(username="admin"), resident=resident, substance="Latex"
        ),
        cart=Cart.objects.filter(facility=facility).order_by("pk").first(),
        care_plan=ServicePlan.objects.filter(facility=facility, status="active")
        .order_by("pk")
        .first(),
        care_record=CareRecord.objects.filter(facility=facility, voided=False)
        .order_by("pk")
        .first(),
        care_level=CareLevel.objects.filter(facility=facility).order_by("pk").first(),
        condition_report=ConditionReport.objects.filter(facility=facility).order_by("pk").first(),
        # The fall sent to hospital: its follow-ups' forms are open.
        incident=Incident.objects.filter(facility=facility, state="open").order_by("pk").first(),
        incident_followup=IncidentFollowUp.objects.filter(incident__facility=facility)
        .order_by("pk")
        .first(),
        closable_incident=Incident.objects.filter(facility=facility).order_by("pk").last(),
        vital_exception=VitalException.objects.filter(
            facility=facility, acknowledgement__isnull=True
        )
        .order_by("pk")
        .first(),
        vital_range=VitalRange.objects.filter(facility=facility).order_by("pk").first(),
        resident_vital_range=vitals_services.resident_range_save(
            actor=User.objects.get(username="nurse"),
            resident=resident,
            kind="spo2",
            low="88",
            high="",
            note="Usual SpO2 90% (COPD)",
        ),
        monitoring_episode=MonitoringEpisode.objects.filter(facility=facility)
        .order_by("pk")
        .first(),
        monitoring_check=MonitoringCheck.objects.filter(facility=facility).order_by("pk").first(),
        # Tomorrow's cardiology visit: its transport, hold and outcome forms are open.
        appointment=Appointment.objects.filter(facility=facility, state="scheduled")
        .order_by("pk")
        .first(),
        # A handoff note on the running shift, written by the med tech: its amendment form.
        handoff_note=handoff_services.handoff_note_add(
            actor=medtech,
            resident=resident,
            category="care",
            text="Offer fluids every hour this evening.",
            key=uuid.uuid4(),
            now=now,
        ),
        pdf_job=MarPdfJob.objects.create(
            facility=facility,
            unit=north,
            year=now.year,
            month=now.month,
            state=JobState.DONE,
            requested_by=User.objects.get(username="nurse"),
            requested_at=now,
            updated_at=now,
            finished_at=now,
            residents_done=20,
            residents_total=20,
            pdf=b"%PDF-1.7",
            pdf_bytes=8,
        ),
    )


def _pages(persona: str) -> list[str]:
    return sorted(
        name
        for name, row in EXPECTED.items()
        if row[persona] == 200 and name not in NOT_PAGES and name in URLS
    )


class Watcher:
    """What the browser reports while a page loads: answers with 404, console errors."""

    def __init__(self, page):
        self.missing: list[str] = []
        page.on("response", self._response)
        page.on("console", self._console)

    def _response(self, response):
        if response.status == 404:
            self.missing.append(f"404 {response.url}")

    def _console(self, message):
        if message.type == "error" and "404" in message.text:
            self.missing.append(f"console: {message.text}")


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return {passes: r.passes.length, violations: r.violations.map(v => ({id: v.id,"
        " impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 6).map(n => n.target.join(' '))}))}; }"
    )
    assert result["passes"] > 0, f"axe-core checked nothing on {page.url}"
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _report(found: list[tuple]) -> str:
    lines = []
    for where, name, violation in found:
        lines.append(
            f"{where} [{name}] {violation['impact']} {violation['id']}: {violation['help']}"
        )
        lines.extend(f"    {target}" for target in violation["targets"])
    return "\n".join(lines)


@pytest.fixture
def axe_core():
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed: run `make axe` ({AXE.name} missing)")
    return AXE


def test_every_page_passes_axe_with_no_critical_or_serious_violation_and_no_404(
    live_server, browser_page, demo, axe_core, settings
):
    page = browser_page
    objects = _demo_objects(demo)
    # Demo mode, as `make run` shows it: the logins on the login page and at every page's foot.
    settings.DEMO_MODE = True
    settings.DEMO_PASSWORD = DEMO_PASSWORD
    watcher = Watcher(page)
    found: list[tuple] = []
    unopened: list[str] = []

    page.goto(f"{live_server.url}/login/")
    assert page.get_by_role("heading", name="Demo logins").is_visible()
    found += [("anonymous /login/", "login", v) for v in _axe(page)]
    for username, persona in PERSONAS.items():
        page.context.clear_cookies()
        login(page, live_server, username)
        for name in _pages(persona):
            try:
                path = _url(name, objects)
            except AttributeError as error:
                unopened.append(f"{name}: no sample object ({error})")
                continue
            response = page.goto(f"{live_server.url}{path}")
            if response is None or response.status != 200:
                unopened.append(f"{username} {path} ({name}): {response and response.status}")
                continue
            page.locator("footer.demo-banner summary").click()  # axe reads the open list too
            found += [(f"{username} {path}", name, v) for v in _axe(page)]

    pending = [f for f in found if (f[1], f[2]["id"]) in PENDING]
    blocking = [f for f in found if (f[1], f[2]["id"]) not in PENDING]
    seen = {(f[1], f[2]["id"]) for f in found}
    stale = sorted(key for key in PENDING if key not in seen)
    if pending:
        print("Pending (other parts' templates):\n" + _report(pending))
    assert not unopened, "pages the test could not open:\n" + "\n".join(unopened)
    assert not blocking, "axe-core: critical or serious violations\n" + _report(blocking)
    assert not stale, f"fixed, remove from PENDING: {json.dumps(stale)}"
    assert not watcher.missing, "the browser asked for what is not there:\n" + "\n".join(
        sorted(set(watcher.missing))
    )
