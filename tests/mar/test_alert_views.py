"""The alerts inbox as a nurse works it: groups with counts, one note for several alerts."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from mar import services
from mar.models import Alert, AlertKind, AlertSeverity, AlertState
from tests.factories import (
    MedicationFactory,
    ResidentFactory,
)
from tests.mar.test_alert_triage import missed_alerts

NOW = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)  # 14:05 in New York


def _alert(facility, resident, kind, n, severity=AlertSeverity.WARNING, at=NOW):
    return Alert.objects.create(
        facility=facility,
        resident=resident,
        kind=kind,
        subject=f"{kind}:{resident.pk if resident else 0}:{n}",
        severity=severity,
        message=f"{kind} {n}",
        created_at=at,
    )


@pytest.fixture
def inbox(facility, resident, unit):
    grace = ResidentFactory(facility=facility, unit=unit, first_name="Grace", last_name="Hopper")
    alerts = {
        "ada_overdue": [_alert(facility, resident, AlertKind.OVERDUE_DOSE, i) for i in range(3)],
        "ada_prn": [_alert(facility, resident, AlertKind.PRN_FOLLOWUP, 9)],
        "grace_supply": [
            _alert(facility, grace, AlertKind.LOW_SUPPLY, i, AlertSeverity.INFO) for i in range(2)
        ],
        "facility": [_alert(facility, None, AlertKind.CERTIFICATION, 1, AlertSeverity.URGENT)],
    }
    return alerts


def test_inbox_groups_by_resident_with_counts_in_words(nurse_client, inbox, resident):
    page = nurse_client.get(reverse("alert_list")).content.decode()
    assert "Ada Byron" in page
    assert "3 overdue doses, 1 PRN follow-up" in page
    assert "2 low supplies" in page
    assert "Not about one resident" in page
    assert "Tick all 4 open alerts of Ada Byron" in page
    # Most severe group first: the urgent certification alert, then Ada's warnings, then Grace.
    assert page.index("Not about one resident") < page.index("Ada Byron") < page.index("Grace")
    # Every date shows its date, in the facility's time.
    assert "2026-12-02 14:05" in page


def test_inbox_groups_by_kind_and_keeps_filters_in_links(nurse_client, inbox, unit):
    url = reverse("alert_list") + f"?group=kind&unit={unit.pk}"
    page = nurse_client.get(url).content.decode()
    assert "Overdue dose" in page and "3 alerts about 1 resident" in page
    assert "Low supply" in page and "2 alerts about 1 resident" in page
    assert f"group=resident&amp;unit={unit.pk}" in page  # the switch keeps the unit


def test_bulk_acknowledge_with_one_note_from_the_page(nurse_client, nurse_user, inbox):
    group = inbox["ada_overdue"] + inbox["ada_prn"]
    response = nurse_client.post(
        reverse("alerts_acknowledge"),
        {
            "alerts": [",".join(str(a.pk) for a in group), str(inbox["facility"][0].pk)],
            "note": "Spoke with the med tech; doses given late",
            "back": "group=resident&page=1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("alert_list") + "?group=resident&page=1"
    acknowledged = Alert.objects.filter(state=AlertState.ACKNOWLEDGED)
    assert set(acknowledged) == set(group + inbox["facility"])
    assert {(a.acknowledged_by, a.acknowledgement_note) for a in acknowledged} == {
        (nurse_user, "Spoke with the med tech; doses given late")
    }
    page = nurse_client.get(response["Location"]).content.decode()
    assert "5 alerts acknowledged with your note." in page
    assert "Acknowledged by" in page and "Spoke with the med tech" in page


def test_bulk_acknowledge_without_a_note_says_so_beside_the_note(nurse_client, inbox):
    ids = [str(a.pk) for a in inbox["ada_overdue"]]
    response = nurse_client.post(
        reverse("alerts_acknowledge"), {"alerts": ids, "note": "  ", "back": "group=kind"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    note_field = page[page.index('id="id_note"') :]
    assert "Write one note for the alerts you acknowledge" in note_field[:1500]
    assert not Alert.objects.exclude(state=AlertState.OPEN).exists()


def test_bulk_acknowledge_with_nothing_ticked_changes_nothing(nurse_client, inbox):
    response = nurse_client.post(reverse("alerts_acknowledge"), {"note": "Seen"})
    assert response.status_code == 200
    assert "Tick the alerts to acknowledge" in response.content.decode()
    assert not Alert.objects.exclude(state=AlertState.OPEN).exists()


def test_the_roll_up_shows_its_missed_doses(nurse_client, facility, resident):
    warfarin = MedicationFactory(name="Warfarin")
    missed_alerts(resident, 2, now=NOW - timedelta(days=1), medication=warfarin)
    services.alerts_roll_up_missed(now=NOW)
    rollup = Alert.objects.get(kind=AlertKind.MISSED_ROLLUP)

    page = nurse_client.get(reverse("alert_list")).content.decode()
    assert "Unreviewed missed doses" in page
    assert "2 missed doses not reviewed, due from 2026-11-29 14:05 to 2026-11-30 14:05." in page
    assert "Missed dose: nothing documented" not in page  # gathered, not one by one

    listed = nurse_client.get(reverse("alert_list") + f"?rollup={rollup.pk}&group=none")
    listed = listed.content.decode()
    assert listed.count("Missed dose: nothing documented") == 2
    assert "Warfarin" in listed and "due 2026-11-29 14:05" in listed
