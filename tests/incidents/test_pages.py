"""The incident pages: the report form per type, the med-error form filled from a dose, the
detail page's follow-ups and close, the list and the month's counts."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from incidents import services
from incidents.models import Incident, IncidentAmendment
from incidents.rules import FollowUpKind, FollowUpState
from mar.models import Alert, AlertKind, AlertState
from tests.factories import (
    CertificationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
    record_dose,
    scheduled_dose,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
HOUR = datetime.timedelta(hours=1)
FALL_POST = {
    "kind": "fall",
    "occurred_at": "2026-03-04T09:15",
    "description": "Found on the floor beside her bed",
    "witnessed": "no",
    "location": "room",
    "pain_score": "4",
    "head_strike": "no",
    "hospital_transfer": "yes",
    "injury_hip": "bruise",
    "injury_head": "",
}


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _fall(resident, actor, **facts):
    return services.incident_report(
        actor=actor,
        resident=resident,
        kind="fall",
        occurred_at=NOW - HOUR,
        description="Slid off the chair",
        facts={
            "witnessed": True,
            "location": "dining",
            "pain_score": 2,
            "head_strike": False,
            "hospital_transfer": False,
            **facts,
        },
        now=NOW,
    )


def test_a_med_tech_reports_a_fall_and_the_nurse_has_it(medtech_client, nurse_client, resident):
    url = reverse("incident_report_new", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        form = _text(medtech_client.get(url))
        assert "Injuries by body site" in form and "Pain score (0–10)" in form
        response = medtech_client.post(url, FALL_POST)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incident_detail", args=[incident.pk])
    # 09:15 typed in New York is 14:15 UTC.
    assert incident.occurred_at == datetime.datetime(2026, 3, 4, 14, 15, tzinfo=datetime.UTC)
    assert incident.injuries == {"hip": "bruise"} and incident.hospital_transfer is True
    assert incident.witnessed is False and incident.monitoring_episode_id
    assert FollowUpKind.NEURO_CHECKS in incident.followups.values_list("kind", flat=True)
    alert = Alert.objects.get(kind=AlertKind.INCIDENT)
    assert alert.subject_url == reverse("incident_detail", args=[incident.pk])
    with time_machine.travel(NOW + HOUR, tick=False):
        page = _text(nurse_client.get(alert.subject_url))
        inbox = _text(nurse_client.get(reverse("alert_list")))
    assert "fall at 2026-03-04 09:15 (sent to hospital)" in inbox
    assert "2026-03-04 09:15" in page and "Hip: bruise" in page
    assert "Still open: notify the physician" in page  # beside the close button


def test_a_form_missing_the_types_facts_keeps_what_was_typed_and_saves_nothing(
    medtech_client, resident
):
    url = reverse("incident_report_new", args=[resident.pk])
    data = {**FALL_POST, "witnessed": "", "pain_score": "12"}
    with time_machine.travel(NOW, tick=False):
        response = medtech_client.post(url, data)
    page = _text(response)
    assert response.status_code == 200
    assert page.index("Witnessed") < page.index("Choose yes or no.") < page.index("Where")
    assert "Ensure this value is less than or equal to 10." in page
    assert "Found on the floor beside her bed</textarea>" in page
    assert not Incident.objects.exists() and not Alert.objects.exists()


def test_the_type_links_switch_the_form(medtech_client, resident):
    url = reverse("incident_report_new", args=[resident.pk])
    skin = _text(medtech_client.get(url, {"kind": "skin"}))
    assert "Size (cm, longest side)" in skin and "Pain score" not in skin
    assert 'aria-current="page">Skin tear or injury' in skin
    behaviour = _text(medtech_client.get(url, {"kind": "behaviour"}))
    assert "Toward whom" in behaviour
    fallback = _text(medtech_client.get(url, {"kind": "nonsense"}))
    assert "Injuries by body site" in fallback


def test_a_medication_error_is_filled_in_from_the_record_it_is_raised_from(
    nurse_client, resident, medtech_user, facility
):
    CertificationFactory(user=medtech_user)
    order = PrescriptionFactory(resident=resident, medication__name="Metformin")
    dose = scheduled_dose(order, datetime.datetime(2026, 3, 4, 8, 0))
    administration = record_dose(medtech_user, dose, after=datetime.timedelta(minutes=50))
    url = reverse("incident_report_new", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        form = _text(nurse_client.get(url, {"administration": administration.pk}))
        assert "Raised on this dose" in form and "Metformin" in form
        assert "due 2026-03-04 08:00" in form and "Given at 2026-03-04 08:50" in form
        assert f'<option value="{order.pk}" selected>' in form
        assert 'value="2026-03-04T08:50"' in form
        response = nurse_client.post(
            url,
            {
                "kind": "medication_error",
                "administration": administration.pk,
                "occurred_at": "2026-03-04T08:50",
                "description": "Given 50 minutes late",
                "error_kind": "wrong_time",
                "harm_reached": "no",
            },
        )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.administration, incident.dose, incident.prescription) == (
        administration,
        dose,
        order,
    )
    # The MAR's day shows the incident on the record.
    with time_machine.travel(NOW, tick=False):
        mar = _text(
            nurse_client.get(
                reverse("resident_mar_day", args=[resident.pk]), {"date": "2026-03-04"}
            )
        )
    assert reverse("incident_detail", args=[incident.pk]) in mar
    assert "Incident reported on this dose" in mar


def test_a_missed_dose_links_to_a_medication_error_form(nurse_client, resident):
    order = PrescriptionFactory(resident=resident, medication__name="Warfarin")
    dose = scheduled_dose(order, datetime.datetime(2026, 3, 4, 8, 0), state="missed")
    with time_machine.travel(NOW, tick=False):
        mar = _text(
            nurse_client.get(
                reverse("resident_mar_day", args=[resident.pk]), {"date": "2026-03-04"}
            )
        )
        link = reverse("incident_report_new", args=[resident.pk]) + f"?dose={dose.pk}"
        assert link in mar
        form = _text(nurse_client.get(link))
    assert "Nothing recorded for this dose (missed)" in form
    assert 'value="2026-03-04T08:00"' in form


def test_the_prefill_is_scoped_to_the_facility_and_the_resident(
    nurse_client, resident, facility, other_facility, medtech_user
):
    elsewhere = ResidentFactory(facility=other_facility)
    foreign = scheduled_dose(
        PrescriptionFactory(resident=elsewhere), datetime.datetime(2026, 3, 4, 8, 0)
    )
    neighbour = ResidentFactory(facility=facility, unit=resident.unit)
    next_door = scheduled_dose(
        PrescriptionFactory(resident=neighbour), datetime.datetime(2026, 3, 4, 8, 0)
    )
    url = reverse("incident_report_new", args=[resident.pk])
    for query in (
        {"dose": foreign.pk},
        {"dose": next_door.pk},
        {"administration": 10**12},
        {"dose": "x"},
    ):
        assert nurse_client.get(url, query).status_code == 404, query
    post = {"kind": "medication_error", "dose": next_door.pk, "description": "x"}
    assert nurse_client.post(url, post).status_code == 404
    assert not Incident.objects.exists()


def test_follow_ups_are_worked_on_the_page_and_the_close_says_why_not(
    nurse_client, medtech_client, resident, nurse_user, medtech_user
):
    incident = _fall(resident, medtech_user)
    detail = reverse("incident_detail", args=[incident.pk])
    call = incident.followups.get(kind=FollowUpKind.NOTIFY_PHYSICIAN)
    prefix = f"done{call.pk}"
    with time_machine.travel(NOW, tick=False):
        refused = nurse_client.post(
            reverse("incident_followup_complete", args=[call.pk]),
            {f"{prefix}-method": "phone", f"{prefix}-reached": "Dr. Hayes"},
        )
        assert refused.status_code == 200
        assert "Enter when they were reached." in _text(refused)
        done = nurse_client.post(
            reverse("incident_followup_complete", args=[call.pk]),
            {
                f"{prefix}-method": "phone",
                f"{prefix}-reached": "Dr. Hayes",
                f"{prefix}-reached_at": "2026-03-04T09:45",
                f"{prefix}-response": "Monitor; x-ray if pain grows",
            },
        )
        assert done.status_code == 302
        closing = nurse_client.post(reverse("incident_close", args=[incident.pk]), {})
        assert closing.status_code == 200
        page = _text(closing)
    assert "It cannot close while follow-ups are open: notify the representative" in page
    call.refresh_from_db()
    assert call.state == FollowUpState.DONE and call.reached == "Dr. Hayes"
    assert call.reached_at == datetime.datetime(2026, 3, 4, 14, 45, tzinfo=datetime.UTC)
    # A med tech reads the page but has no forms, and may not post them.
    mine = _text(medtech_client.get(detail))
    assert "Record done" not in mine and "Close the incident" not in mine
    review = incident.followups.get(kind=FollowUpKind.POST_FALL_REVIEW)
    response = medtech_client.post(
        reverse("incident_followup_complete", args=[review.pk]), {f"done{review.pk}-note": "ok"}
    )
    assert response.status_code == 403
    for followup in incident.followups.filter(state=FollowUpState.OPEN):
        if followup.is_notification:
            url = reverse("incident_followup_decline", args=[followup.pk])
            data = {f"decline{followup.pk}-reason": "Resident asked us not to call"}
        else:
            url = reverse("incident_followup_complete", args=[followup.pk])
            data = {f"done{followup.pk}-note": "Reviewed with the team"}
        with time_machine.travel(NOW, tick=False):
            assert nurse_client.post(url, data).status_code == 302
    with time_machine.travel(NOW, tick=False):
        assert (
            nurse_client.post(reverse("incident_close", args=[incident.pk]), {}).status_code == 302
        )
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert Alert.objects.get(kind=AlertKind.INCIDENT).state == AlertState.RESOLVED


def test_an_amendment_shows_the_incident_as_amended(nurse_client, resident, medtech_user):
    incident = _fall(resident, medtech_user)
    url = reverse("incident_amend", args=[incident.pk])
    with time_machine.travel(NOW, tick=False):
        refused = nurse_client.post(url, {"field": "location", "value": "moon", "reason": "x"})
        assert "Type one of: Resident&#x27;s room" in _text(refused)
        response = nurse_client.post(
            url, {"field": "location", "value": "Hallway", "reason": "She was in the hallway"}
        )
    assert response.status_code == 302
    amendment = IncidentAmendment.objects.get()
    assert (amendment.before, amendment.after) == ("dining", "hallway")
    page = _text(nurse_client.get(reverse("incident_detail", args=[incident.pk])))
    assert '<span class="badge info">Amended</span>' in page
    assert 'Hallway <span class="badge info">amended</span>' in page
    assert "(reported: Dining room)" in page
    assert "<del>Dining room</del> → Hallway — She was in the hallway" in page
    listing = _text(nurse_client.get(reverse("incident_list")))
    assert "amended" in listing


def test_an_occurred_at_in_the_fall_back_hour_reads_as_typed(medtech_client, resident):
    url = reverse("incident_report_new", args=[resident.pk])
    with time_machine.travel(datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)):
        response = medtech_client.post(
            url,
            {
                "kind": "other",
                "occurred_at": "2026-11-01T01:30",
                "description": "Found in the kitchen",
            },
        )
        assert response.status_code == 302
        incident = Incident.objects.get()
        # The first 01:30 (EDT), 05:30 UTC; the page reads 01:30 back.
        assert incident.occurred_at == datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC)
        page = _text(medtech_client.get(response.url))
    assert "2026-11-01 01:30" in page


def test_the_list_filters_by_unit_type_month_and_state(nurse_client, facility, unit, medtech_user):
    south = UnitFactory(facility=facility, name="South Wing")
    north_resident = ResidentFactory(facility=facility, unit=unit, last_name="North")
    south_resident = ResidentFactory(facility=facility, unit=south, last_name="South")
    north_fall = _fall(north_resident, medtech_user)
    south_fall = _fall(south_resident, medtech_user)
    url = reverse("incident_list")

    def shown(query) -> set[int]:
        page = nurse_client.get(url, query).content.decode()
        return {int(pk) for pk in re.findall(r"/incidents/(\d+)/", page)}

    assert shown({}) == {north_fall.pk, south_fall.pk}
    assert shown({"unit": south.pk}) == {south_fall.pk}
    assert shown({"kind": "fall", "month": "2026-03"}) == {north_fall.pk, south_fall.pk}
    assert shown({"kind": "skin"}) == set()
    assert shown({"month": "2026-04"}) == set()
    assert shown({"state": "closed"}) == set()
    assert shown({"month": "nonsense", "unit": "x"}) == {north_fall.pk, south_fall.pk}


def test_the_month_report_counts_by_unit_and_type_with_csv(
    nurse_client, medtech_client, facility, unit, medtech_user
):
    south = UnitFactory(facility=facility, name="South Wing")
    _fall(ResidentFactory(facility=facility, unit=unit), medtech_user)
    _fall(ResidentFactory(facility=facility, unit=unit), medtech_user)
    services.incident_report(
        actor=medtech_user,
        resident=ResidentFactory(facility=facility, unit=south),
        kind="behaviour",
        occurred_at=NOW - HOUR,
        description="Shouting",
        facts={"toward": "resident"},
        now=NOW,
    )
    url = reverse("report_incidents")
    page = _text(nurse_client.get(url, {"month": "2026-03"}))
    assert "Incidents by unit and type" in page
    csv = nurse_client.get(url, {"month": "2026-03", "format": "csv"}).content.decode()
    lines = csv.strip().splitlines()
    assert lines[3] == (
        "Unit,Fall,Skin tear or injury,Medication error,Elopement,Behaviour,Other,All"
    )
    assert lines[4] == "North Wing,2,0,0,0,0,0,2"
    assert lines[5] == "South Wing,0,0,0,0,1,0,1"
    assert lines[6] == "All units,2,0,0,0,1,0,3"
    assert medtech_client.get(url).status_code == 403
    empty = nurse_client.get(url, {"month": "2026-02", "format": "csv"}).content.decode()
    assert "All units,0,0,0,0,0,0,0" in empty


def _grow(facility, unit, count, actor):
    for i in range(count):
        resident = ResidentFactory(facility=facility, unit=unit, last_name=f"Grow{i}")
        incident = _fall(resident, actor)
        if i % 2:
            nurse = member(facility, Role.NURSE)
            services.incident_amend(
                actor=nurse, incident=incident, field="pain_score", value=5, reason="Asked again"
            )


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?kind=fall&state=open&month=2026-03"])
def test_list_and_report_queries_do_not_grow_with_incidents(
    nurse_client, facility, unit, medtech_user, query
):
    list_url = reverse("incident_list") + query
    report_url = reverse("report_incidents") + "?month=2026-03"
    _grow(facility, unit, 3, medtech_user)
    small = (_count(nurse_client, list_url), _count(nurse_client, report_url))
    _grow(facility, unit, 12, medtech_user)
    assert (_count(nurse_client, list_url), _count(nurse_client, report_url)) == small


def test_the_detail_page_queries_do_not_grow_with_amendments(nurse_client, resident, facility):
    medtech = member(facility, Role.MED_TECH)
    nurse = member(facility, Role.NURSE)
    incident = _fall(resident, medtech, witnessed=False)
    url = reverse("incident_detail", args=[incident.pk])

    def amend(values):
        for value in values:
            services.incident_amend(
                actor=nurse, incident=incident, field="pain_score", value=value, reason="Again"
            )

    amend([5])
    small = _count(nurse_client, url)
    amend([6, 7, 8, 9])
    assert _count(nurse_client, url) == small


def test_a_follow_up_done_meanwhile_says_by_whom_at_the_top(
    nurse_client, resident, facility, medtech_user
):
    incident = _fall(resident, medtech_user)
    review = incident.followups.get(kind=FollowUpKind.POST_FALL_REVIEW)
    other = member(facility, Role.NURSE, first_name="Rita", last_name="Ames")
    services.followup_complete(actor=other, followup=review, note="Reviewed", now=NOW)
    response = nurse_client.post(
        reverse("incident_followup_complete", args=[review.pk]),
        {f"done{review.pk}-note": "Reviewed too"},
        follow=True,
    )
    page = _text(response)
    assert "Post-fall review was already done by Rita Ames at 2026-03-04 10:00." in page
    review.refresh_from_db()
    assert review.note == "Reviewed"


def test_the_inbox_offers_an_incident_from_a_change_of_condition_and_a_missed_dose(
    nurse_client, admin_client, resident, medtech_user
):
    from clinical import services as clinical_services
    from mar.models import Alert as InboxAlert

    clinical_services.condition_report(
        actor=medtech_user, resident=resident, changes=["fell"], note="", now=NOW
    )
    dose = scheduled_dose(
        PrescriptionFactory(resident=resident), datetime.datetime(2026, 3, 4, 8, 0), state="missed"
    )
    InboxAlert.objects.create(
        facility=resident.facility,
        resident=resident,
        dose=dose,
        kind=AlertKind.MISSED_DOSE,
        subject=f"dose:{dose.pk}",
        message="Missed",
        created_at=NOW,
    )
    inbox = nurse_client.get(reverse("alert_list"), {"group": "none"}).content.decode()
    new = reverse("incident_report_new", args=[resident.pk])
    assert f'href="{new}">Report an incident</a>' in inbox
    assert f'href="{new}?dose={dose.pk}">Report a medication error</a>' in inbox
    # Administrators do not report incidents: no link that would refuse them.
    assert new not in admin_client.get(reverse("alert_list"), {"group": "none"}).content.decode()
