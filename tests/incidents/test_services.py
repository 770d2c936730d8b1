"""Incidents: what each type requires, the follow-ups it opens, the close, amendments, the
anticoagulant read from the MAR, and the fall's monitoring."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role
from care.models import MonitoringEpisode
from core.errors import DomainError
from incidents import rules, services
from incidents.models import Incident, IncidentAmendment, IncidentFollowUp
from incidents.rules import FollowUpKind, FollowUpState, IncidentKind
from mar.models import Alert, AlertKind, AlertSeverity, AlertState
from residents.models import ResidentStatus
from tests.factories import MedicationFactory, PrescriptionFactory, member

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
HOUR = datetime.timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")
FALL = {
    "witnessed": True,
    "location": "bathroom",
    "pain_score": 3,
    "head_strike": False,
    "hospital_transfer": False,
}


@pytest.fixture
def med_tech(facility):
    return member(facility, Role.MED_TECH)


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE)


def report(resident, actor, kind=IncidentKind.FALL, **kwargs):
    kwargs.setdefault("facts", dict(FALL) if kind == IncidentKind.FALL else {})
    kwargs.setdefault("occurred_at", NOW - HOUR)
    kwargs.setdefault("description", "Found sitting on the bathroom floor.")
    return services.incident_report(actor=actor, resident=resident, kind=kind, now=NOW, **kwargs)


def kinds(incident) -> list[str]:
    return list(incident.followups.order_by("pk").values_list("kind", flat=True))


def finish(incident, nurse):
    for followup in incident.followups.filter(state=FollowUpState.OPEN):
        if followup.is_notification:
            services.followup_decline(
                actor=nurse, followup=followup, reason="Resident asked us not to", now=NOW
            )
        else:
            services.followup_complete(actor=nurse, followup=followup, note="Reviewed", now=NOW)


# --- what each type requires ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "missing", "message"),
    [
        (IncidentKind.FALL, "witnessed", "Choose yes or no."),
        (IncidentKind.FALL, "location", "Choose one."),
        (IncidentKind.FALL, "pain_score", "Enter the pain score, 0 to 10"),
        (IncidentKind.FALL, "head_strike", "Choose yes or no."),
        (IncidentKind.FALL, "hospital_transfer", "Choose yes or no."),
        (IncidentKind.SKIN, "body_site", "Choose one."),
        (IncidentKind.SKIN, "size_cm", "Enter the size in centimetres."),
        (IncidentKind.ELOPEMENT, "found_location", "Fill this in."),
        (IncidentKind.ELOPEMENT, "found_at", "Enter the date and time."),
        (IncidentKind.BEHAVIOUR, "toward", "Choose one."),
        (IncidentKind.MEDICATION_ERROR, "error_kind", "Choose one."),
        (IncidentKind.MEDICATION_ERROR, "harm_reached", "Choose yes or no."),
    ],
)
def test_each_type_requires_its_own_facts(resident, med_tech, kind, missing, message):
    complete = {
        IncidentKind.FALL: dict(FALL),
        IncidentKind.SKIN: {"body_site": "arms", "size_cm": "2.5"},
        IncidentKind.ELOPEMENT: {"found_location": "Bus stop", "found_at": NOW - HOUR / 2},
        IncidentKind.BEHAVIOUR: {"toward": "staff"},
        IncidentKind.MEDICATION_ERROR: {"error_kind": "wrong_time", "harm_reached": False},
    }[kind]
    order = PrescriptionFactory(resident=resident)
    extra = {"prescription": order} if kind == IncidentKind.MEDICATION_ERROR else {}
    facts = {name: value for name, value in complete.items() if name != missing}
    with pytest.raises(DomainError, match=message) as refused:
        report(resident, med_tech, kind, facts=facts, **extra)
    assert refused.value.field == missing
    assert not Incident.objects.exists() and not Alert.objects.exists()
    assert report(resident, med_tech, kind, facts=complete, **extra).kind == kind


def test_other_asks_only_what_happened_and_when(resident, med_tech):
    with pytest.raises(DomainError, match="Fill this in") as refused:
        report(resident, med_tech, IncidentKind.OTHER, description="  ")
    assert refused.value.field == "description"
    incident = report(resident, med_tech, IncidentKind.OTHER, facts={"location": "hallway"})
    assert incident.location == ""  # a fall's fact is not kept on another type


def test_bad_values_are_refused_beside_their_field(resident, med_tech):
    cases = [
        ({**FALL, "pain_score": 11}, "pain_score"),
        ({**FALL, "location": "moon"}, "location"),
    ]
    for facts, field in cases:
        with pytest.raises(DomainError) as refused:
            report(resident, med_tech, facts=facts)
        assert refused.value.field == field
    with pytest.raises(DomainError, match="in the future") as refused:
        report(resident, med_tech, occurred_at=NOW + HOUR)
    assert refused.value.field == "occurred_at"
    with pytest.raises(DomainError, match="last 31 days"):
        report(resident, med_tech, occurred_at=NOW - datetime.timedelta(days=40))
    with pytest.raises(DomainError, match="above 0"):
        report(resident, med_tech, IncidentKind.SKIN, facts={"body_site": "arms", "size_cm": 0})
    with pytest.raises(DomainError, match="cannot be before it happened"):
        report(
            resident,
            med_tech,
            IncidentKind.ELOPEMENT,
            facts={"found_location": "Garden", "found_at": NOW - 2 * HOUR},
        )
    with pytest.raises(DomainError, match="Choose the injuries"):
        report(resident, med_tech, injuries={"tail": "bruise"})
    assert not Incident.objects.exists()


def test_who_reports_and_about_whom(resident, facility, med_tech):
    with pytest.raises(DomainError, match="Med techs, caregivers and nurses report"):
        report(resident, member(facility, Role.ADMIN))
    assert report(resident, member(facility, Role.CAREGIVER)).reported_by.pk
    assert report(resident, member(facility, Role.NURSE)).pk
    resident.status = ResidentStatus.DISCHARGED
    resident.save(update_fields=["status"])
    with pytest.raises(DomainError, match="is discharged"):
        report(resident, med_tech)


# --- follow-ups per type ---------------------------------------------------------------------


def test_a_witnessed_fall_without_head_strike_has_no_neuro_checks(resident, med_tech):
    assert kinds(report(resident, med_tech)) == [
        FollowUpKind.NOTIFY_PHYSICIAN,
        FollowUpKind.NOTIFY_REPRESENTATIVE,
        FollowUpKind.POST_FALL_REVIEW,
        FollowUpKind.CARE_PLAN_REVIEW,
    ]


@pytest.mark.parametrize(
    "facts", [{"witnessed": False}, {"head_strike": True}], ids=["unwitnessed", "head-strike"]
)
def test_an_unwitnessed_fall_or_a_head_strike_adds_neuro_checks(resident, med_tech, facts):
    incident = report(resident, med_tech, facts={**FALL, **facts})
    assert FollowUpKind.NEURO_CHECKS in kinds(incident)
    assert len(kinds(incident)) == 5


def test_the_other_types_follow_ups(resident, med_tech):
    order = PrescriptionFactory(resident=resident)
    error = report(
        resident,
        med_tech,
        IncidentKind.MEDICATION_ERROR,
        facts={"error_kind": "omission", "harm_reached": False},
        prescription=order,
    )
    assert kinds(error) == [
        FollowUpKind.NOTIFY_PHYSICIAN,
        FollowUpKind.NOTIFY_REPRESENTATIVE,
        FollowUpKind.NURSE_REVIEW,
    ]
    behaviour = report(resident, med_tech, IncidentKind.BEHAVIOUR, facts={"toward": "resident"})
    assert kinds(behaviour) == [FollowUpKind.NOTIFY_REPRESENTATIVE, FollowUpKind.NURSE_REVIEW]


def test_a_notification_records_how_whom_when_and_their_answer(resident, med_tech, nurse):
    incident = report(resident, med_tech)
    call = incident.followups.get(kind=FollowUpKind.NOTIFY_REPRESENTATIVE)
    with pytest.raises(DomainError, match="how they were told") as refused:
        services.followup_complete(actor=nurse, followup=call, reached="Daughter", now=NOW)
    assert refused.value.field == "method"
    with pytest.raises(DomainError, match="what they said") as refused:
        services.followup_complete(
            actor=nurse, followup=call, method="phone", reached="Daughter", reached_at=NOW
        )
    assert refused.value.field == "response"
    with pytest.raises(DomainError, match="before it happened"):
        services.followup_complete(
            actor=nurse,
            followup=call,
            method="phone",
            reached="Daughter",
            reached_at=NOW - 3 * HOUR,
            response="Will visit",
        )
    done = services.followup_complete(
        actor=nurse,
        followup=call,
        method="phone",
        reached="Jane Byron (daughter)",
        reached_at=NOW - HOUR / 2,
        response="Will visit tonight",
        now=NOW,
    )
    assert (done.state, done.completed_by, done.completed_at) == ("done", nurse, NOW)
    assert done.reached == "Jane Byron (daughter)" and done.method == "phone"
    with pytest.raises(DomainError, match="already done by"):
        services.followup_decline(actor=nurse, followup=call, reason="x", now=NOW)


def test_only_notifications_may_be_declined_and_only_nurses_work_follow_ups(
    resident, med_tech, nurse
):
    incident = report(resident, med_tech)
    review = incident.followups.get(kind=FollowUpKind.POST_FALL_REVIEW)
    with pytest.raises(DomainError, match="cannot be declined"):
        services.followup_decline(actor=nurse, followup=review, reason="Busy", now=NOW)
    with pytest.raises(DomainError, match="Say what was done") as refused:
        services.followup_complete(actor=nurse, followup=review, note=" ", now=NOW)
    assert refused.value.field == "note"
    with pytest.raises(DomainError, match="Nurses complete follow-ups"):
        services.followup_complete(actor=med_tech, followup=review, note="Done", now=NOW)
    physician = incident.followups.get(kind=FollowUpKind.NOTIFY_PHYSICIAN)
    with pytest.raises(DomainError, match="Say why") as refused:
        services.followup_decline(actor=nurse, followup=physician, reason="", now=NOW)
    declined = services.followup_decline(
        actor=nurse, followup=physician, reason="Physician on site saw her", now=NOW
    )
    assert declined.state == FollowUpState.DECLINED and declined.completed_by == nurse


# --- the close and the alert -------------------------------------------------------------------


def test_the_report_alerts_the_nurses_and_the_close_resolves_it(resident, med_tech, nurse):
    incident = report(resident, med_tech, facts={**FALL, "hospital_transfer": True})
    alert = Alert.objects.get(kind=AlertKind.INCIDENT)
    assert alert.subject == f"incident:{incident.pk}" and alert.state == AlertState.OPEN
    assert alert.severity == AlertSeverity.URGENT  # sent to hospital
    assert "fall at 2026-03-04 09:00 (sent to hospital)" in alert.message
    with pytest.raises(DomainError, match="cannot close while follow-ups are open") as refused:
        services.incident_close(actor=nurse, incident=incident, now=NOW)
    assert "notify the physician" in refused.value.message
    assert "care plan review" in refused.value.message
    finish(incident, nurse)
    with pytest.raises(DomainError, match="Nurses close incidents"):
        services.incident_close(actor=med_tech, incident=incident, now=NOW)
    closed = services.incident_close(actor=nurse, incident=incident, note="All done", now=NOW)
    assert (closed.state, closed.closed_by, closed.closed_at) == ("closed", nurse, NOW)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == nurse
    with pytest.raises(DomainError, match="already closed"):
        services.incident_close(actor=nurse, incident=incident, now=NOW)
    review = incident.followups.first()
    with pytest.raises(DomainError):
        services.followup_complete(actor=nurse, followup=review, note="late", now=NOW)


# --- amendments ----------------------------------------------------------------------------------


def test_a_correction_is_an_amendment_and_the_report_never_changes(resident, med_tech, nurse):
    incident = report(resident, med_tech)
    amendment = services.incident_amend(
        actor=nurse,
        incident=incident,
        field="location",
        value="hallway",
        reason="She fell in the hallway; found in the bathroom",
        now=NOW,
    )
    assert (amendment.before, amendment.after) == ("bathroom", "hallway")
    incident.refresh_from_db()
    assert incident.location == "bathroom"  # the report as it was made
    current = services.facts_as_amended(incident, incident.amendments.all())
    assert current["location"] == "hallway"
    with pytest.raises(DomainError, match="what it says already"):
        services.incident_amend(
            actor=nurse, incident=incident, field="location", value="hallway", reason="again"
        )
    with pytest.raises(DomainError, match="Say why"):
        services.incident_amend(
            actor=nurse, incident=incident, field="pain_score", value=5, reason=""
        )
    with pytest.raises(DomainError, match="Choose a fact of this incident"):
        services.incident_amend(
            actor=nurse, incident=incident, field="toward", value="staff", reason="x"
        )
    with pytest.raises(DomainError, match="Nurses amend"):
        services.incident_amend(
            actor=med_tech, incident=incident, field="pain_score", value=5, reason="x"
        )


def test_the_database_refuses_to_edit_the_report_or_an_amendment(resident, med_tech, nurse):
    incident = report(resident, med_tech)
    amendment = services.incident_amend(
        actor=nurse, incident=incident, field="pain_score", value=6, reason="Asked again", now=NOW
    )
    for statement in (
        lambda: Incident.objects.filter(pk=incident.pk).update(location="hallway"),
        lambda: Incident.objects.filter(pk=incident.pk).delete(),
        lambda: IncidentAmendment.objects.filter(pk=amendment.pk).update(reason="x"),
        lambda: IncidentAmendment.objects.filter(pk=amendment.pk).delete(),
        lambda: IncidentFollowUp.objects.filter(incident=incident).update(kind="nurse_review"),
    ):
        with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - the trigger's error
            statement()
    assert Incident.objects.get(pk=incident.pk).location == "bathroom"


def test_amended_to_a_head_strike_a_fall_gets_its_neuro_checks(resident, med_tech, nurse):
    incident = report(resident, med_tech)
    assert FollowUpKind.NEURO_CHECKS not in kinds(incident)
    services.incident_amend(
        actor=nurse,
        incident=incident,
        field="head_strike",
        value=True,
        reason="Bump on the back of the head found",
        now=NOW,
    )
    assert FollowUpKind.NEURO_CHECKS in kinds(incident)


# --- the anticoagulant and the monitoring --------------------------------------------------------


def test_the_anticoagulant_is_read_from_the_active_orders(resident, med_tech):
    assert report(resident, med_tech).anticoagulant is False
    # By the catalog's class ...
    PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Eliquis", high_alert="anticoagulant")
    )
    # ... and by the generic name where the class was left empty.
    PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Coumadin", generic_name="warfarin sodium"),
    )
    # A discontinued or stopped order is not on the MAR any more.
    PrescriptionFactory(
        resident=resident,
        status="discontinued",
        medication=MedicationFactory(name="Xarelto", generic_name="rivaroxaban"),
    )
    PrescriptionFactory(
        resident=resident,
        stop_date=datetime.date(2026, 3, 1),
        medication=MedicationFactory(name="Lovenox", generic_name="enoxaparin"),
    )
    PrescriptionFactory(resident=resident, medication=MedicationFactory(name="Tylenol"))
    incident = report(resident, med_tech)
    assert incident.anticoagulant is True
    assert incident.anticoagulant_drugs == "Coumadin 10 mg tablet, Eliquis 10 mg tablet"
    assert (
        "on an anticoagulant (Coumadin"
        in Alert.objects.get(subject=services.incident_subject(incident.pk)).message
    )


def test_anticoagulant_names():
    assert rules.is_anticoagulant(name="Eliquis", generic_name="apixaban", high_alert="")
    assert rules.is_anticoagulant(name="X", generic_name="", high_alert="anticoagulant")
    assert rules.is_anticoagulant(name="Heparin sodium", generic_name="", high_alert="")
    assert not rules.is_anticoagulant(name="Aspirin", generic_name="aspirin", high_alert="")


def test_a_fall_starts_a_monitoring_episode_in_the_same_transaction(resident, med_tech):
    incident = report(resident, med_tech)
    episode = MonitoringEpisode.objects.get(resident=resident)
    assert incident.monitoring_episode == episode and episode.started_at == NOW
    assert "After a fall at 2026-03-04 09:00" in episode.reason
    # Another type starts none; a refused fall leaves no episode behind.
    report(resident, med_tech, IncidentKind.BEHAVIOUR, facts={"toward": "staff"})
    with pytest.raises(DomainError):
        report(resident, med_tech, facts={**FALL, "location": ""})
    assert MonitoringEpisode.objects.count() == 1


# --- local time --------------------------------------------------------------------------------


def test_a_local_time_across_daylight_saving_is_stored_as_the_right_instant():
    # 2026-03-08: 02:30 does not exist in New York; it is read after the gap (03:30 EDT).
    gap = rules.local_instant(datetime.datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert gap == datetime.datetime(2026, 3, 8, 7, 30, tzinfo=datetime.UTC)
    assert gap.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    # 2026-11-01: 01:30 happens twice; the first (EDT) is meant.
    twice = rules.local_instant(datetime.datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert twice == datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC)
    after = rules.local_instant(datetime.datetime(2026, 11, 1, 3, 0), NEW_YORK)
    assert after - twice == datetime.timedelta(hours=2, minutes=30)
    assert rules.fact_text("occurred_at", twice, NEW_YORK) == "2026-11-01 01:30"


def test_the_pain_score_is_checked_by_the_database_too(resident, med_tech):
    incident = report(resident, med_tech)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            facility=incident.facility,
            unit=incident.unit,
            resident=resident,
            kind="fall",
            occurred_at=NOW,
            reported_by=med_tech,
            reported_at=NOW,
            description="x",
            pain_score=12,
        )


# --- a follow-up left open -------------------------------------------------------------------


def test_a_follow_up_open_24_hours_alerts_once_and_the_close_resolves_it(resident, med_tech, nurse):
    incident = report(resident, med_tech)
    finish_early = report(resident, med_tech, IncidentKind.BEHAVIOUR, facts={"toward": "staff"})
    finish(finish_early, nurse)
    day = datetime.timedelta(hours=24)
    assert services.followups_raise_due(now=NOW + day - HOUR) == 0
    assert services.followups_raise_due(now=NOW + day) == 1
    assert services.followups_raise_due(now=NOW + day + HOUR) == 0  # once
    alert = Alert.objects.get(kind=AlertKind.INCIDENT_FOLLOWUP)
    assert alert.subject == services.incident_subject(incident.pk)
    assert "still has notify the physician, notify the representative" in alert.message
    assert "open 24 hours after the report" in alert.message
    finish(incident, nurse)
    services.incident_close(actor=nurse, incident=incident, now=NOW + day)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_the_beat_sweeps_follow_ups_every_5_minutes():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["raise-incident-followup-alerts"]
    assert entry["task"] == "incidents.tasks.raise_followup_alerts" and entry["schedule"] == 300.0
