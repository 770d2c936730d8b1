"""The demo seed with its 35 days of history. THE SLOW ONE: it builds the whole demo (about
11,000 records through the services), a minute or more; keep it to this one test."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from accounts.models import Facility
from appointments.models import Appointment
from care.models import CareRecord, CareTask, PlanStatus, ServicePlan
from clinical.models import ConditionEvaluation, ConditionReport
from handoff.models import HandoffNote, ShiftReport
from incidents.models import Incident, IncidentFollowUp
from inventory.models import StockItem, StockMovement
from inventory.selectors import count_overview, reorder_list
from mar.models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    Amendment,
    DoseState,
    PrnFollowUp,
    ScheduledDose,
)
from meds.models import Prescription
from residents.models import Resident, ResidentStatus

DEMO_PASSWORD = "demo-pass-for-tests"


def _totals() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Resident,
            Prescription,
            Administration,
            Amendment,
            PrnFollowUp,
            StockMovement,
            StockItem,
            CareRecord,
            ConditionReport,
            Incident,
            IncidentFollowUp,
            ServicePlan,
            ShiftReport,
            HandoffNote,
            Appointment,
        )
    }


# The seed records the history from worker processes, each with its own connection: the data
# must be committed for them to see it, hence a transactional test.
@pytest.mark.django_db(transaction=True)
def test_seed_demo_slow_builds_35_days_of_history_once(monkeypatch, settings):
    settings.DEMO_PASSWORD = None
    monkeypatch.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.delenv("DEMO_HISTORY_DAYS", raising=False)
    began = time.monotonic()

    call_command("seed_demo", "--force", stdout=io.StringIO(), stderr=io.StringIO())

    elapsed = time.monotonic() - began
    now = timezone.now()
    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    cedar = Facility.objects.get(name="Cedar House Group Home")
    assert Facility.objects.count() == 2
    assert Resident.objects.filter(facility=maple).count() == 40
    assert Resident.objects.filter(facility=cedar).count() == 6
    assert Resident.objects.filter(status=ResidentStatus.LOA).count() == 1
    per_resident = Resident.objects.annotate(n=Count("orders")).values_list("n", flat=True)
    assert all(3 <= n <= 12 for n in per_resident), sorted(per_resident)

    # About 35 days of records, by several people, mostly given.
    records = Administration.objects.all()
    span = records.aggregate(first=Min("administered_at"), last=Max("administered_at"))
    assert span["first"] <= now - timedelta(days=34)
    assert span["last"] >= now - timedelta(days=1)
    assert records.values("recorded_by").distinct().count() >= 3
    by_status = dict(records.values_list("status").annotate(n=Count("id")))
    assert by_status[AdminStatus.GIVEN] > 0.9 * records.count()
    assert by_status[AdminStatus.REFUSED] >= 3
    assert by_status[AdminStatus.HELD] >= 1
    assert records.filter(status=AdminStatus.HELD).exclude(hold_triggered="").exists()
    assert records.exclude(late_reason="").exists()
    assert records.filter(dose__isnull=False).values("facility").distinct().count() == 2
    # Controlled doses given with a witness; Cedar House's PRNs approved by its nurse.
    controlled = records.filter(
        status=AdminStatus.GIVEN, prescription__medication__controlled_schedule__gt=""
    )
    assert controlled.exists()
    assert not controlled.filter(witness__isnull=True).exists()
    assert not records.filter(
        facility=cedar, dose__isnull=True, recorded_by__username="medtech2", approved_by=None
    ).exists()

    # The exceptions a supervisor works through.
    assert Alert.objects.filter(kind=AlertKind.REFUSALS).exists()
    (amendment,) = Amendment.objects.all()
    assert amendment.kind == "entered_in_error"
    assert amendment.administration.voided
    missed = ScheduledDose.objects.filter(
        state=DoseState.MISSED, due_at__lt=now - timedelta(hours=6)
    )
    assert missed.exists()
    assert (
        Alert.objects.filter(kind=AlertKind.MISSED_DOSE, dose__in=missed).count() == missed.count()
    )
    assert not ScheduledDose.objects.filter(
        state__in=[DoseState.DUE, DoseState.OVERDUE], window_closes_at__lt=now - timedelta(hours=6)
    ).exists()
    prn = records.filter(dose__isnull=True, status=AdminStatus.GIVEN)
    assert prn.exclude(prn_reason="").count() == prn.count() > 0
    assert PrnFollowUp.objects.exists()
    assert prn.filter(followup__isnull=True).exists()
    assert Alert.objects.filter(kind=AlertKind.PRN_FOLLOWUP).exists()
    assert reorder_list(facility=maple, now=now)
    assert any(state.overdue for state in count_overview(facility=maple, now=now))

    # The ledger covers what was given and adds up, item by item.
    for item in StockItem.objects.annotate(total=Sum("movements__quantity")):
        assert item.on_hand == item.total >= 0, item
    given = records.filter(status=AdminStatus.GIVEN, voided=False).count()
    assert StockMovement.objects.filter(kind="administered").count() >= given

    # Care: every present resident assessed and on an active plan; 35 days documented, some
    # refused, the last days' undocumented tasks missed with one alert each; one declining
    # resident's performance suggests reassessment.
    present = Resident.objects.filter(status=ResidentStatus.ACTIVE)
    assert not present.exclude(assessments__isnull=False).exists()
    assert set(
        ServicePlan.objects.filter(status=PlanStatus.ACTIVE).values_list("resident", flat=True)
    ) >= set(present.values_list("pk", flat=True))
    care = CareRecord.objects.aggregate(first=Min("performed_at"), last=Max("performed_at"))
    assert care["first"] <= now - timedelta(days=34) and care["last"] >= now - timedelta(days=1)
    assert CareRecord.objects.filter(status="refused").exists()
    missed_care = CareTask.objects.filter(state="missed")
    assert missed_care.exists()
    assert Alert.objects.filter(kind=AlertKind.MISSED_CARE).count() == missed_care.count()
    suggested = Alert.objects.filter(kind=AlertKind.REASSESS_SUGGESTED)
    assert suggested.values("resident").distinct().count() == 1
    # A change of condition reported a few minutes ago waits for the nurse; one evaluated
    # yesterday is in monitoring (its alert acknowledged); one from last week is closed.
    conditions = Alert.objects.filter(kind=AlertKind.CHANGE_OF_CONDITION).order_by("-created_at")
    assert [alert.state for alert in conditions] == ["open", "acknowledged", "resolved"]
    assert "eats less, tired or weak" in conditions[0].message
    monitored = ConditionEvaluation.objects.get(closed_at__isnull=True)
    assert monitored.monitoring.ends_at - monitored.monitoring.started_at == timedelta(hours=72)
    assert monitored.monitoring.checks.filter(state="done").exists()
    assert not Alert.objects.filter(kind=AlertKind.MISSED_MONITORING).exists()
    closed = ConditionEvaluation.objects.get(closed_at__isnull=False)
    assert sorted(closed.notifications.values_list("party", flat=True)) == [
        "physician",
        "representative",
    ]
    # Two falls: one closed with every follow-up done, one sent to hospital with its
    # notifications made and its reviews open; each monitored, no check left missed.
    closed_fall, transferred = Incident.objects.filter(kind="fall").order_by("occurred_at")
    assert closed_fall.state == "closed" and not closed_fall.followups.filter(state="open").exists()
    assert transferred.hospital_transfer and transferred.state == "open"
    assert set(transferred.followups.filter(state="open").values_list("kind", flat=True)) == {
        "neuro_checks",
        "post_fall_review",
        "care_plan_review",
    }
    assert closed_fall.monitoring_episode_id and transferred.monitoring_episode_id
    assert Alert.objects.get(subject=f"incident:{transferred.pk}").state == "open"
    assert Alert.objects.get(subject=f"incident:{closed_fall.pk}").state == "resolved"
    assert not Alert.objects.filter(kind=AlertKind.MISSED_MONITORING).exists()
    # The last day's shift reports, both units: submitted, acknowledged by the next shift's
    # staff member, each frozen with its lines; three notes wait on each unit's running shift.
    handed = ShiftReport.objects.filter(facility=maple, state="acknowledged")
    assert handed.count() == 6
    assert all(r.acknowledged_by_id != r.submitted_by_id for r in handed)
    assert all(len(r.snapshot["sections"]) == 10 for r in handed)
    assert any(line for r in handed for s in r.snapshot["sections"] for line in s["lines"])
    assert HandoffNote.objects.filter(facility=maple, acknowledged_in__isnull=True).count() == 6
    assert not Alert.objects.filter(kind=AlertKind.HANDOFF_UNACKNOWLEDGED).exists()
    # Three appointments: tomorrow's cardiology by van, transport not booked, with a hold
    # waiting for a nurse; a resident out at the dentist now; yesterday's eye visit, back, its
    # outcome not recorded and alerted.
    cardiology, out, back = Appointment.objects.order_by("-state", "starts_at")
    assert cardiology.provider_specialty == "Cardiology" and not cardiology.transport_booked
    assert cardiology.holds.get().hold.state == "pending"
    assert out.state == "out" and back.state == "back"
    assert Alert.objects.get(kind=AlertKind.APPOINTMENT_OUTCOME).subject == (
        f"appointment:{back.pk}"
    )

    # A second run adds nothing.
    before = _totals()
    call_command("seed_demo", "--force", stdout=io.StringIO(), stderr=io.StringIO())
    assert _totals() == before
    print(f"seed_demo with history: {elapsed:.1f} s")
