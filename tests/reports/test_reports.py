"""Reports for nurse supervisors and surveyors: on screen and as CSV, filtered by period, unit and
resident, in a fixed number of queries."""

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pghistory
import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Role
from inventory import services as stock_services
from mar import services
from mar.models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AmendmentKind,
    DoseState,
    ScheduledDose,
)
from meds.models import HoldParameter
from reports import error_rate, prn
from tests.factories import (
    PASSWORD,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)
from tests.factories import record_dose as _record
from tests.factories import scheduled_dose as _dose

NY = ZoneInfo("America/New_York")


@pytest.fixture
def mary(facility):
    return member(facility, Role.NURSE, username="mpoppins", first_name="Mary", last_name="Poppins")


@pytest.fixture
def bert(facility):
    return member(facility, Role.NURSE, username="bert", first_name="Bert", last_name="Alfred")


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def _order(resident, name="Lisinopril", **fields):
    return PrescriptionFactory(resident=resident, medication=MedicationFactory(name=name), **fields)


def _prn(resident, name="Acetaminophen", *, min_hours=1, max_24h=6, **medication):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name=name, **medication),
        is_prn=True,
        times=[],
        prn_min_hours=Decimal(min_hours),
        prn_max_per_24h=max_24h,
        indication="Pain",
    )


def _give_prn(actor, order, at: datetime, reason="Knee pain"):
    return services.prn_give(
        actor=actor, prescription=order, idempotency_key=uuid.uuid4(), prn_reason=reason, now=at
    ).administration


def _page(client, name, *args, **params) -> str:
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def _csv(client, name, *args, **params) -> list[list[str]]:
    response = client.get(reverse(name, args=args), {**params, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.getvalue().decode())))  # getvalue: streamed too


def _rows_with(html: str, text: str) -> list[str]:
    return [row for row in re.findall(r"<tr>(.*?)</tr>", html, re.S) if text in row]


OCT = {"start": "2026-10-01", "end": "2026-10-31"}


# Exceptions -----------------------------------------------------------------------------------


def test_exceptions_lists_late_missed_refused_held_and_not_available_with_who_when_why(
    nurse_client, resident, mary
):
    on_time = _dose(_order(resident, "Amlodipine"), _local(2026, 10, 14, 8))
    _record(mary, on_time)
    late = _dose(_order(resident, "Lisinopril"), _local(2026, 10, 14, 8))
    _record(mary, late, after=timedelta(minutes=90), late_reason="Resident at dialysis")
    _dose(_order(resident, "Metformin"), _local(2026, 10, 14, 9), state=DoseState.MISSED)
    refused = _dose(_order(resident, "Simvastatin"), _local(2026, 10, 14, 20))
    _record(mary, refused, AdminStatus.REFUSED, reason="Says it upsets her stomach")
    metoprolol = _order(resident, "Metoprolol")
    HoldParameter.objects.create(
        prescription=metoprolol, vital="pulse", comparator="lt", threshold=60
    )
    _record(mary, _dose(metoprolol, _local(2026, 10, 14, 10)), vitals={"pulse": "52"})
    unavailable = _dose(_order(resident, "Warfarin"), _local(2026, 10, 14, 17))
    _record(mary, unavailable, AdminStatus.NOT_AVAILABLE, reason="Pharmacy delivery late")
    outside = _dose(_order(resident, "Digoxin"), _local(2026, 9, 30, 8), state=DoseState.MISSED)

    html = _page(nurse_client, "report_exceptions", **OCT)

    assert not _rows_with(html, "Amlodipine")
    assert not _rows_with(html, "Digoxin"), outside
    [row] = _rows_with(html, "Lisinopril")
    assert "Late" in row and "Resident at dialysis" in row
    assert "2026-10-14 08:00" in row and "2026-10-14 09:30" in row and "Mary Poppins" in row
    [row] = _rows_with(html, "Metformin")
    assert "Missed" in row and "2026-10-14 09:00" in row
    [row] = _rows_with(html, "Simvastatin")
    assert "Refused" in row and "upsets her stomach" in row
    [row] = _rows_with(html, "Metoprolol")
    assert "Held" in row and "Pulse" in row and "52" in row
    [row] = _rows_with(html, "Warfarin")
    assert "Not available" in row and "Pharmacy delivery late" in row


def test_refusals_show_whether_the_prescriber_was_notified(nurse_client, resident, mary, bert):
    order = _order(resident, "Donepezil")
    for day in (3, 5, 7):
        dose = _dose(order, _local(2026, 10, day, 8))
        _record(mary, dose, AdminStatus.REFUSED, reason="Refuses")
    once = _order(resident, "Sertraline")
    _record(mary, _dose(once, _local(2026, 10, 5, 8)), AdminStatus.REFUSED, reason="Asleep")
    services.alerts_raise_followups(now=_local(2026, 10, 7, 9))
    alert = Alert.objects.get(kind=AlertKind.REFUSALS)
    assert alert.subject.startswith(f"refusals:{order.pk}:")

    html = _page(nurse_client, "report_exceptions", **OCT)
    rows = _rows_with(html, "Donepezil")
    assert len(rows) == 3 and all("NOT notified" in row for row in rows)
    [row] = _rows_with(html, "Sertraline")
    assert "notified" not in row

    services.alert_resolve(actor=bert, alert=alert, note="Faxed Dr. Hayes")
    html = _page(nurse_client, "report_exceptions", **OCT)
    rows = _rows_with(html, "Donepezil")
    assert all("notified (by Bert Alfred at" in row and "Faxed Dr. Hayes" in row for row in rows)
    assert "NOT notified" not in html
    table = _csv(nurse_client, "report_exceptions", **OCT)
    assert sum(1 for r in table if r[-1].startswith("notified (by Bert Alfred")) == 3


def test_exceptions_csv_has_the_filters_applied(nurse_client, facility, resident, mary):
    south = UnitFactory(facility=facility, name="South Wing")
    other = ResidentFactory(facility=facility, unit=south, first_name="Bob", last_name="Ross")
    for who in (resident, other):
        order = _order(who, f"Med-{who.last_name}")
        _dose(order, _local(2026, 10, 10, 8), state=DoseState.MISSED)
        _dose(order, _local(2026, 10, 20, 8), state=DoseState.MISSED)

    table = _csv(
        nurse_client,
        "report_exceptions",
        start="2026-10-01",
        end="2026-10-15",
        unit=resident.unit_id,
    )

    assert table[0][:3] == ["Exception", "Resident", "Unit"]
    assert [(r[0], r[1], r[6]) for r in table[1:]] == [
        ("Missed", resident.display_name, "2026-10-10 08:00")
    ]
    by_resident = _csv(nurse_client, "report_exceptions", resident=other.pk, **OCT)
    assert {r[1] for r in by_resident[1:]} == {other.display_name}
    assert len(by_resident) == 3


def test_another_facilitys_unit_or_resident_matches_nothing(
    nurse_client, other_facility, resident, mary
):
    _dose(_order(resident, "Lisinopril"), _local(2026, 10, 10, 8), state=DoseState.MISSED)
    stranger = ResidentFactory(facility=other_facility)

    for params in ({"resident": stranger.pk}, {"unit": stranger.unit_id}):
        html = _page(nurse_client, "report_exceptions", **OCT, **params)
        assert "No exceptions in this period." in html
        assert len(_csv(nurse_client, "report_exceptions", **OCT, **params)) == 1


# PRN ------------------------------------------------------------------------------------------


def test_prn_report_counts_doses_reasons_followups_and_the_missing_ones(
    nurse_client, resident, mary
):
    order = _prn(resident, "Acetaminophen")
    _give_prn(mary, order, _local(2026, 9, 20, 9), "Before the period")
    first = _give_prn(mary, order, _local(2026, 10, 10, 8), "Headache")
    _give_prn(mary, order, _local(2026, 10, 10, 14), "Headache")
    third = _give_prn(mary, order, _local(2026, 10, 11, 9), "Knee pain")
    services.prn_followup_record(
        actor=mary, administration=first, result="effective", now=_local(2026, 10, 10, 9)
    )
    services.prn_followup_record(
        actor=mary, administration=third, result="not_effective", now=_local(2026, 10, 11, 10)
    )

    html = _page(nurse_client, "report_prn", **OCT)

    [row] = _rows_with(html, "Acetaminophen")
    assert "Headache (2)" in row and "Knee pain (1)" in row
    assert "Before the period" not in row
    assert "Effective (1)" in row and "Not effective (1)" in row
    assert "1 missing" in row and "2026-10-10 14:00" in row
    [line] = _csv(nurse_client, "report_prn", **OCT)[1:]
    assert line[4] == "3" and line[7] == "2026-10-10 14:00"


def test_prn_used_twice_a_day_on_10_of_14_local_days_suggests_a_scheduled_order(
    nurse_client, resident, mary
):
    # 08:00 and 21:00 New York time are different UTC days (21:00 EDT is 01:00 UTC next day):
    # only counting local days finds two doses a day.
    often = _prn(resident, "Oxycodone")
    sometimes = _prn(resident, "Ibuprofen")
    for day in range(18, 28):  # 10 days of the 14 ending 2026-10-31
        for hour in (8, 21):
            _give_prn(mary, often, _local(2026, 10, day, hour))
    for day in range(18, 27):  # 9 days: not enough
        for hour in (8, 21):
            _give_prn(mary, sometimes, _local(2026, 10, day, hour))

    html = _page(nurse_client, "report_prn", **OCT)

    [row] = _rows_with(html, "Oxycodone")
    assert prn.CONSIDER_SCHEDULED in row and "10 of the last 14 days" in row
    [row] = _rows_with(html, "Ibuprofen")
    assert prn.CONSIDER_SCHEDULED not in row and "9 of the last 14 days" in row
    # Looking at an earlier fortnight, the pattern is not there yet.
    html = _page(nurse_client, "report_prn", start="2026-10-01", end="2026-10-22")
    assert prn.CONSIDER_SCHEDULED not in html


@time_machine.travel(datetime(2026, 11, 2, 15, tzinfo=UTC), tick=False)
def test_psychotropic_prn_older_than_14_days_needs_prescriber_review(nurse_client, resident):
    _prn_with_start(resident, "Quetiapine", date(2026, 10, 1), is_psychotropic=True)
    _prn_with_start(resident, "Risperidone", date(2026, 10, 25), is_psychotropic=True)
    _prn_with_start(resident, "Docusate", date(2026, 9, 1))

    html = _page(nurse_client, "report_prn", **OCT)

    assert prn.NEEDS_REVIEW in _rows_with(html, "Quetiapine")[0]
    assert prn.NEEDS_REVIEW not in _rows_with(html, "Risperidone")[0]
    assert prn.NEEDS_REVIEW not in _rows_with(html, "Docusate")[0]


def _prn_with_start(resident, name, start: date, **medication):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name=name, **medication),
        is_prn=True,
        times=[],
        prn_min_hours=Decimal(4),
        prn_max_per_24h=4,
        start_date=start,
        indication="Agitation",
    )


# Error rate -----------------------------------------------------------------------------------


def _month_of_doses(resident, actor, *, errors: int):
    """September 2026: 30 scheduled doses (one missed, and `errors - 1` given late), 10 PRN
    doses within their limits: 40 opportunities. Cancelled, open and October doses don't
    count."""
    order = _order(resident, "Lisinopril")
    for day in range(1, 31):
        dose = _dose(order, _local(2026, 9, day, 8))
        if day == 1:
            ScheduledDose.objects.filter(pk=dose.pk).update(state=DoseState.MISSED)
        elif day <= errors:
            _record(actor, dose, after=timedelta(hours=2), late_reason="Busy")
        else:
            _record(actor, dose)
    _dose(order, _local(2026, 10, 1, 8), state=DoseState.MISSED)
    _dose(_order(resident, "Held order"), _local(2026, 9, 3, 8), state=DoseState.CANCELLED)
    prn = _prn(resident, "Acetaminophen", min_hours=4, max_24h=2)
    for day in range(1, 11):
        _give_prn(actor, prn, _local(2026, 9, day, 12))
    return order, prn


def test_error_rate_for_a_constructed_month(nurse_client, resident, mary):
    _month_of_doses(resident, mary, errors=2)

    html = _page(nurse_client, "report_error_rate", month="2026-09")

    assert "Error rate 5.00% — ABOVE the 5% target" in html
    assert "40 (30 scheduled doses documented or missed + 10 PRN doses given)" in html
    assert len(_rows_with(html, "Omission (missed dose)")) == 1
    [row] = _rows_with(html, "Wrong time")
    assert "2026-09-02 08:00" in row and "2026-09-02 10:00" in row
    table = _csv(nurse_client, "report_error_rate", month="2026-09")
    assert ["Error rate", "5.00%", "ABOVE the 5% target"] in table
    assert sum(1 for r in table if r and r[0].startswith(("Omission", "Wrong time"))) == 2


def test_error_rate_below_target_and_filtered_by_resident(nurse_client, facility, resident, mary):
    _month_of_doses(resident, mary, errors=1)
    other = ResidentFactory(facility=facility)
    _dose(_order(other, "Other med"), _local(2026, 9, 5, 8), state=DoseState.MISSED)

    html = _page(nurse_client, "report_error_rate", month="2026-09", resident=resident.pk)

    assert "Error rate 2.50% — below the 5% target" in html
    html = _page(nurse_client, "report_error_rate", month="2026-09")
    assert "Error rate 4.88% — below the 5% target" in html  # 2 of 41


def test_error_rate_counts_prn_beyond_limits_and_given_on_a_triggered_hold(
    facility, resident, mary
):
    prn = _prn(resident, "Oxycodone", min_hours=4, max_24h=2)
    # The services refuse these; a record written around them (or imported) still counts.
    for hour in (6, 8, 20):  # 8:00 is 2 h after 6:00; 20:00 is the third in 24 h
        Administration.objects.create(
            facility=facility,
            resident=resident,
            prescription=prn,
            status=AdminStatus.GIVEN,
            administered_at=_local(2026, 9, 10, hour),
            recorded_at=_local(2026, 9, 10, hour),
            recorded_by=mary,
            prn_reason="Pain",
            idempotency_key=uuid.uuid4(),
        )
    metoprolol = _order(resident, "Metoprolol")
    HoldParameter.objects.create(
        prescription=metoprolol, vital="pulse", comparator="lt", threshold=60
    )
    held = _record(mary, _dose(metoprolol, _local(2026, 9, 10, 8)), vitals={"pulse": "52"})
    assert held.status == AdminStatus.HELD
    services.amendment_create(
        actor=mary,
        administration=held,
        kind=AmendmentKind.CORRECTION,
        reason="Was given after all",
        changes={"status": "given"},
        now=_local(2026, 9, 10, 12),
    )

    report = error_rate.error_rate_report(facility=facility, year=2026, month=9)

    kinds = sorted(e.kind for e in report.errors)
    assert kinds == [error_rate.GIVEN_ON_HOLD, error_rate.PRN_LIMIT, error_rate.PRN_LIMIT]
    assert report.opportunities == 4
    assert report.rate == Decimal("75.00") and report.verdict == "ABOVE the 5% target"
    details = {e.detail for e in report.errors if e.kind == error_rate.PRN_LIMIT}
    assert any("minimum 4 h" in d for d in details)
    assert any("maximum 2" in d for d in details)


# Controlled-drug log --------------------------------------------------------------------------


def _controlled(facility, unit, resident, nurse, medtech, *, name="Lorazepam", at=None):
    at = at or _local(2026, 10, 5, 9)
    item = stock_services.stock_receive(
        actor=nurse,
        facility=facility,
        resident=resident,
        medication=MedicationFactory(name=name, controlled_schedule="IV"),
        quantity="20",
        lot="LZ1",
        now=at,
    ).movement.item
    order = PrescriptionFactory(resident=resident, medication=item.medication, times=[time(9)])
    services.administration_record(
        actor=nurse,
        dose=_dose(order, at + timedelta(days=1)),
        status=AdminStatus.GIVEN,
        idempotency_key=uuid.uuid4(),
        witness_username=medtech.username,
        witness_secret=PASSWORD,
        now=at + timedelta(days=1, minutes=5),
    )
    stock_services.controlled_count_record(
        actor=nurse,
        unit=unit,
        incoming_username=medtech.username,
        incoming_secret=PASSWORD,
        counted={i.pk: str(i.on_hand) for i in stock_services.controlled_items_for_unit(unit=unit)},
        now=at + timedelta(days=1, hours=6),
    )
    return item


def test_controlled_log_lists_ledger_with_balances_witness_and_signed_counts(
    nurse_client, other_facility, facility, unit, resident, mary, medtech_user
):
    item = _controlled(facility, unit, resident, mary, medtech_user)

    html = _page(nurse_client, "report_controlled", **OCT)

    [received] = _rows_with(html, "Received")
    assert "2026-10-05 09:00" in received and "20" in received and "Mary Poppins" in received
    [given] = _rows_with(html, "Administered")
    assert "2026-10-06 09:05" in given and "-1" in given and "19" in given
    assert str(medtech_user) in given
    [count] = _rows_with(html, "2026-10-06 15:00")
    assert "Mary Poppins" in count and str(medtech_user) in count and "Matches" in count

    table = _csv(nurse_client, "report_controlled", item=item.pk, **OCT)
    assert [r[2] for r in table[1:]] == [
        "Opening balance",
        "Received",
        "Administered",
        "Shift count",
    ]
    later = _csv(nurse_client, "report_controlled", start="2026-10-06", end="2026-10-31")
    assert [r[5] for r in later[1:3]] == ["20.00", "19.00"]  # opening balance, then the dose
    stranger = ResidentFactory(facility=other_facility)
    other_item = stock_services.stock_receive(
        actor=member(other_facility, Role.NURSE),
        facility=other_facility,
        resident=stranger,
        medication=item.medication,
        quantity="5",
        lot="LZ9",
    ).movement.item
    html = _page(nurse_client, "report_controlled", item=other_item.pk, **OCT)
    assert "No controlled-drug stock matches these filters." in html


# Audit trails ---------------------------------------------------------------------------------


def test_staff_audit_lists_that_users_changes_only(
    nurse_client, facility, other_facility, resident, mary, bert
):
    today = datetime.now(UTC).astimezone(NY).date().isoformat()
    with pghistory.context(user=mary.pk, url="/medpass/"):
        _record(mary, _dose(_order(resident, "Lisinopril"), datetime.now(UTC)))
    with pghistory.context(user=bert.pk, url="/medpass/"):
        _record(
            bert,
            _dose(_order(resident, "Metformin"), datetime.now(UTC)),
            AdminStatus.REFUSED,
            reason="Nausea",
        )
    # Mary's work in another facility is not this facility's business.
    Membership.objects.create(user=mary, facility=other_facility, role=Role.NURSE)
    stranger = ResidentFactory(facility=other_facility, first_name="Zed", last_name="Zulu")
    elsewhere = _order(stranger, "Elsewhere-med")
    with pghistory.context(user=mary.pk, url="/elsewhere/"):
        _record(mary, _dose(elsewhere, datetime.now(UTC)))
        member(other_facility, Role.MED_TECH, username="hired-elsewhere")

    html = _page(nurse_client, "report_audit_staff", mary.pk, start=today, end=today)

    assert "Administration" in html and "given" in html
    assert "refused" not in html and "Nausea" not in html
    assert "/elsewhere/" not in html
    table = _csv(nurse_client, "report_audit_staff", mary.pk, start=today, end=today)
    assert len(table) > 1 and {r[1] for r in table[1:]} == {"Mary Poppins"}
    assert not any("/elsewhere/" in r[8] for r in table[1:])
    yesterday = (datetime.now(UTC).astimezone(NY).date() - timedelta(days=1)).isoformat()
    html = _page(nurse_client, "report_audit_staff", mary.pk, start=yesterday, end=yesterday)
    assert "No changes in this period." in html


def test_staff_audit_of_another_facilitys_staff_is_404(nurse_client, outsider_user):
    response = nurse_client.get(reverse("report_audit_staff", args=[outsider_user.pk]))
    assert response.status_code == 404


def test_resident_audit_lists_the_residents_changes(nurse_client, resident, mary):
    today = datetime.now(UTC).astimezone(NY).date().isoformat()
    with pghistory.context(user=mary.pk, url="/medpass/"):
        _record(mary, _dose(_order(resident, "Lisinopril"), datetime.now(UTC)))

    html = _page(nurse_client, "report_audit_resident", resident.pk, start=today, end=today)

    assert "Administration" in html and "Mary Poppins" in html


# Bad filters, defaults and query counts --------------------------------------------------------

PAGES = [
    ("report_index", False),
    ("report_exceptions", False),
    ("report_prn", False),
    ("report_error_rate", False),
    ("report_controlled", False),
    ("report_audit_resident", True),
    ("report_audit_staff", True),
]


def _args(name, resident, user):
    if name == "report_audit_resident":
        return [resident.pk]
    if name == "report_audit_staff":
        return [user.pk]
    return []


@pytest.mark.parametrize(
    "params",
    [
        {"start": "yesterday", "end": "2026-13-45", "unit": "abc", "resident": "-1"},
        {"start": "2026-10-31", "end": "2026-10-01", "month": "2026-99", "item": "x"},
        {"start": "9999-01-01", "end": "0001-01-01", "unit": "99999999999999999999999"},
        {"month": "abc", "format": "csv", "audit_staff": "x", "audit_resident": "1e9"},
    ],
)
def test_bad_filter_values_fall_back_with_a_message_never_a_500(
    nurse_client, resident, mary, params
):
    for name, _ in PAGES:
        response = nurse_client.get(reverse(name, args=_args(name, resident, mary)), params)
        assert response.status_code == 200, (name, params)


def test_bad_dates_say_so_and_default_to_the_last_30_days(nurse_client, facility):
    today = datetime.now(UTC).astimezone(facility.tz).date()
    html = _page(nurse_client, "report_exceptions", start="2026-02-30")
    assert "“2026-02-30” is not a date like 2026-03-08" in html
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    html = _page(nurse_client, "report_error_rate", month="2026-13")
    assert "“2026-13” is not a month like 2026-03" in html


def _world(facility, *, residents: int, days: int, nurse, medtech):
    """Residents in two units, each with a scheduled order (given, late, refused, missed), a PRN
    used daily (some follow-ups), a controlled drug with its counts: `days` days of it."""
    units = [UnitFactory(facility=facility) for _ in range(2)]
    people = []
    with pghistory.context(user=nurse.pk, url="/test/"):
        for n in range(residents):
            resident = ResidentFactory(facility=facility, unit=units[n % 2])
            people.append(resident)
            order = _order(resident, f"Sched-{residents}-{n}")
            prn = _prn(resident, f"Prn-{residents}-{n}")
            HoldParameter.objects.create(
                prescription=order, vital="pulse", comparator="lt", threshold=50
            )
            for day in range(days):
                dose = _dose(order, _local(2026, 10, 1 + day, 8))
                kind = day % 4
                if kind == 0:
                    _record(nurse, dose, vitals={"pulse": "70"})
                elif kind == 1:
                    _record(
                        nurse,
                        dose,
                        after=timedelta(hours=2),
                        late_reason="Busy",
                        vitals={"pulse": "70"},
                    )
                elif kind == 2:
                    _record(nurse, dose, AdminStatus.REFUSED, reason="No")
                else:
                    ScheduledDose.objects.filter(pk=dose.pk).update(state=DoseState.MISSED)
                given = _give_prn(nurse, prn, _local(2026, 10, 1 + day, 12))
                if day % 2:
                    services.prn_followup_record(
                        actor=nurse, administration=given, result="effective"
                    )
            _controlled(
                facility,
                resident.unit,
                resident,
                nurse,
                medtech,
                name=f"Ctl-{residents}-{n}",
                at=_local(2026, 10, 2, 9),
            )
        services.alerts_raise_followups(now=_local(2026, 10, days, 12))
    return people


_IN_ALL = re.compile(rb"\((\d+) in all\)")


def _count(client, name, args, params) -> tuple[int, tuple[int, int]]:
    """(queries, how much the page shows) of the page: how much shows the data is really there.
    That is the rows the report holds in all when it is paged, then the body's length: a page
    shows its first 50 rows whatever the total, and which 50 (how long they read) depends on the
    order of rows written at one instant (below)."""
    url = reverse(name, args=args)
    client.get(url, params).getvalue()  # warm per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
        body = response.getvalue()  # a streamed CSV reads the database as it is written
    assert response.status_code == 200
    in_all = _IN_ALL.search(body)
    return len(captured), (int(in_all[1]) if in_all else 0, len(body))


def _move_ahead(event_model, by: int) -> None:
    """Move the event table's key sequence `by` ahead, as a run of earlier writes would (rolled
    back or not: a sequence never goes back)."""
    table = event_model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'pgh_id'), "
            "nextval(pg_get_serial_sequence(%s, 'pgh_id')) + %s)",
            [table, table, by],
        )


def test_every_report_reads_a_fixed_number_of_queries(facility, login_client, medtech_user):
    supervisor = member(facility, Role.NURSE, username="supervisor")
    client = login_client(supervisor)
    writer = member(facility, Role.NURSE, username="writer", first_name="W", last_name="R")
    today = datetime.now(UTC).astimezone(NY).date().isoformat()

    def measure(residents):
        counts = {}
        for name, audit in PAGES:
            args = _args(name, residents[0], writer)
            base = {"start": today, "end": today} if audit else dict(OCT)
            if name == "report_error_rate":
                base = {"month": "2026-10"}
            for fmt in ({}, {"format": "csv"}):
                if name == "report_index" and fmt:
                    continue
                counts[(name, bool(fmt))] = _count(client, name, args, {**base, **fmt})
        return counts

    # The test's writes share one transaction, so one instant (the triggers stamp NOW()): an
    # audit trail lists them by each event table's own key, and its first page holds the kinds
    # whose tables' sequences are furthest ahead. Earlier tests move those (the demo seed writes
    # thousands of vital readings): here the vital readings' always lead, short rows that fill
    # the first page at both sizes, which is then shorter for the larger world.
    _move_ahead(apps.get_model("vitals", "VitalReadingEvent"), 100_000)
    small = measure(_world(facility, residents=2, days=3, nurse=writer, medtech=medtech_user))
    large = measure(_world(facility, residents=6, days=12, nurse=writer, medtech=medtech_user))

    # Whatever kinds of rows a report holds (an audit trail names rows of many kinds), its
    # page and its CSV cost the same number of queries with more data.
    assert {k: n for k, (n, _) in small.items()} == {k: n for k, (n, _) in large.items()}
    grown = [k for k in small if large[k][1] > small[k][1]]
    assert grown == list(small), "every report shows more rows for more data"
    staff_page = ("report_audit_staff", False)
    assert large[staff_page][1][0] > small[staff_page][1][0] > 50, "paged at both sizes"
