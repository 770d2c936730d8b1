"""The resident's MAR: the day in detail and the month grid, in the facility's local time."""

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from mar import services
from mar.models import AdminStatus, AmendmentKind, DoseState
from meds.models import HoldParameter
from tests.factories import MedicationFactory, PrescriptionFactory, member
from tests.factories import record_dose as _record
from tests.factories import scheduled_dose as _dose

NY = ZoneInfo("America/New_York")


@pytest.fixture
def mary(facility):
    return member(
        facility,
        Role.NURSE,
        username="mpoppins",
        first_name="Mary",
        last_name="Poppins",
        title="RN",
    )


@pytest.fixture
def bert(facility):
    return member(
        facility, Role.NURSE, username="bert", first_name="Bert", last_name="Alfred", title="LPN"
    )


def _order(resident, name="Lisinopril", **fields):
    return PrescriptionFactory(resident=resident, medication=MedicationFactory(name=name), **fields)


def _month(client, resident, month: str) -> str:
    response = client.get(reverse("resident_mar_month", args=[resident.pk]), {"month": month})
    assert response.status_code == 200
    return response.content.decode()


def _day(client, resident, day: str) -> str:
    response = client.get(reverse("resident_mar_day", args=[resident.pk]), {"date": day})
    assert response.status_code == 200
    return response.content.decode()


def _cells(html: str, medication: str, at: str) -> dict[int, str]:
    """{day of month: the cell's inner HTML} of the grid row of `medication` at local `at`."""
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    row = next(r for r in rows if medication in r and f'class="time">{at}<' in r)
    return {
        int(day): inner.strip()
        for day, inner in re.findall(r'<td[^>]*data-day="(\d+)"[^>]*>(.*?)</td>', row, re.S)
    }


def _cell_class(html: str, medication: str, at: str, day: int) -> str:
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    row = next(r for r in rows if medication in r and f'class="time">{at}<' in r)
    return re.search(rf'<td class="([^"]*)"[^>]*data-day="{day}"', row)[1]


# The day view --------------------------------------------------------------------------------


def test_day_view_shows_given_refused_and_held_doses_with_who_why_and_readings(
    nurse_client, resident, mary
):
    given = _dose(_order(resident, "Lisinopril"), datetime(2026, 1, 14, 8, 0))
    _record(mary, given)
    refused = _dose(_order(resident, "Metformin"), datetime(2026, 1, 14, 9, 0))
    _record(mary, refused, AdminStatus.REFUSED, reason="Says it upsets her stomach")
    metoprolol = _order(resident, "Metoprolol")
    HoldParameter.objects.create(
        prescription=metoprolol, vital="pulse", comparator="lt", threshold=60
    )
    held = _dose(metoprolol, datetime(2026, 1, 14, 10, 0))
    record = _record(mary, held, vitals={"pulse": "52"})
    assert record.status == AdminStatus.HELD

    html = _day(nurse_client, resident, "2026-01-14")

    given_row = html[html.index(f'id="dose-{given.pk}"') : html.index(f'id="dose-{refused.pk}"')]
    assert "08:00" in given_row
    assert "Given" in given_row
    assert "Mary Poppins</strong> (MP), RN" in given_row
    refused_row = html[html.index(f'id="dose-{refused.pk}"') : html.index(f'id="dose-{held.pk}"')]
    assert "Refused" in refused_row
    assert "Reason: Says it upsets her stomach" in refused_row
    held_row = html[html.index(f'id="dose-{held.pk}"') :]
    assert "Held" in held_row
    assert "Hold if Pulse below 60 /min — reading 52 /min" in held_row
    assert "Vitals: Pulse 52 /min" in held_row


def test_day_view_marks_late_records_and_shows_an_amendment_beside_the_struck_original(
    nurse_client, resident, mary, bert
):
    order = _order(resident)
    late = _dose(order, datetime(2026, 1, 14, 8, 0))
    _record(mary, late, after=timedelta(minutes=90), late_reason="Resident was at the dentist")
    wrong = _dose(order, datetime(2026, 1, 14, 20, 0))
    mistake = _record(mary, wrong)
    services.amendment_create(
        actor=bert,
        administration=mistake,
        kind=AmendmentKind.ENTERED_IN_ERROR,
        reason="Charted on the wrong resident",
        changes={},
    )

    html = _day(nurse_client, resident, "2026-01-14")

    late_row = html[html.index(f'id="dose-{late.pk}"') : html.index(f'id="dose-{wrong.pk}"')]
    assert '<span class="badge warn">late</span>' in late_row
    assert "Late reason: Resident was at the dentist" in late_row
    wrong_row = html[html.index(f'id="dose-{wrong.pk}"') :]
    assert re.search(r"<del><strong>Given</strong>.*?Mary Poppins \(MP\).*?</del>", wrong_row, re.S)
    assert "Entered in error</strong> by Bert Alfred (BA)" in wrong_row
    assert "Charted on the wrong resident" in wrong_row


def test_day_view_is_the_facility_local_day(nurse_client, resident, mary):
    order = _order(resident)
    # 23:30 in New York on the 14th is 04:30 UTC on the 15th.
    _record(mary, _dose(order, datetime(2026, 1, 14, 23, 30)))

    assert "23:30" in _day(nurse_client, resident, "2026-01-14")
    assert "No scheduled doses on this day." in _day(nurse_client, resident, "2026-01-15")


def test_day_view_lists_prn_doses_with_reason_and_follow_up(nurse_client, resident, mary):
    prn = _order(
        resident, "Acetaminophen", is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=3
    )
    given = services.prn_give(
        actor=mary,
        prescription=prn,
        idempotency_key=uuid.uuid4(),
        prn_reason="Headache 6/10",
        now=datetime(2026, 1, 14, 15, 0, tzinfo=UTC),
    ).administration
    services.prn_followup_record(
        actor=mary, administration=given, result="effective", note="Pain 1/10"
    )

    html = _day(nurse_client, resident, "2026-01-14")

    prn_row = html[html.index(f'id="prn-{given.pk}"') :]
    assert "10:00" in prn_row  # 15:00 UTC is 10:00 in New York
    assert "Acetaminophen" in prn_row
    assert "Headache 6/10" in prn_row
    assert "Effective: Pain 1/10 (MP," in prn_row


# The month grid ------------------------------------------------------------------------------


def test_month_grid_has_a_column_per_day_and_initials_on_the_local_day(
    nurse_client, resident, mary
):
    order = _order(resident, "Lisinopril", times=[time(8, 0), time(23, 30)])
    _record(mary, _dose(order, datetime(2026, 1, 3, 8, 0)))
    # 23:30 in New York on the 14th is the 15th in UTC: the cell is the 14th.
    _record(mary, _dose(order, datetime(2026, 1, 14, 23, 30)))

    html = _month(nurse_client, resident, "2026-01")

    assert html.count("?date=2026-01-") == 31
    morning = _cells(html, "Lisinopril", "08:00")
    evening = _cells(html, "Lisinopril", "23:30")
    assert len(morning) == len(evening) == 31
    assert morning[3] == '<span class="entry">MP</span>'
    assert evening[14] == '<span class="entry">MP</span>'
    assert evening[15] == ""
    assert all(inner == "" for day, inner in morning.items() if day != 3)


def test_month_grid_shows_codes_and_marks_in_words(nurse_client, resident, mary, bert):
    order = _order(resident, "Lisinopril")
    _record(mary, _dose(order, datetime(2026, 2, 1, 8, 0)), AdminStatus.REFUSED, reason="No")
    _dose(order, datetime(2026, 2, 2, 8, 0), state=DoseState.MISSED)
    _dose(order, datetime(2026, 2, 3, 8, 0), state=DoseState.CANCELLED, cancel_reason="loa")
    _dose(order, datetime(2026, 2, 4, 8, 0), state=DoseState.CANCELLED, cancel_reason="loa")
    _dose(order, datetime(2026, 2, 5, 8, 0), state=DoseState.CANCELLED, cancel_reason="hospital")
    _record(
        mary,
        _dose(order, datetime(2026, 2, 6, 8, 0)),
        after=timedelta(minutes=75),
        late_reason="Resident asleep",
    )
    mistake = _record(mary, _dose(order, datetime(2026, 2, 7, 8, 0)))
    services.amendment_create(
        actor=bert,
        administration=mistake,
        kind=AmendmentKind.ENTERED_IN_ERROR,
        reason="Charted on the wrong resident",
        changes={},
    )

    html = _month(nurse_client, resident, "2026-02")

    cells = _cells(html, "Lisinopril", "08:00")
    assert len(cells) == 28
    assert cells[1] == '<span class="entry">R</span>'
    assert "MISSED" in cells[2]
    assert _cell_class(html, "Lisinopril", "08:00", 2).startswith("missed")
    assert "LOA" in cells[3] and "LOA" in cells[4]
    assert "HOSP" in cells[5]
    assert cells[6] == '<span class="entry">MP</span><span class="m warn">late</span>'
    # The voided record stays, struck through, with the amendment that voided it beside it.
    assert '<del>MP</del></span><span class="m bad">in error 1</span>' in cells[7]
    amendments = html[html.index("<h2>Amendments</h2>") :]
    assert "Charted on the wrong resident" in amendments
    assert "Entered in error" in amendments
    assert "<del>Lisinopril" in amendments


def test_month_legend_lists_everyone_who_recorded_with_full_name_and_title(
    nurse_client, resident, mary, bert
):
    order = _order(resident)
    _record(mary, _dose(order, datetime(2026, 1, 3, 8, 0)))
    _record(bert, _dose(order, datetime(2026, 1, 3, 20, 0)))

    html = _month(nurse_client, resident, "2026-01")

    legend = html[html.index("Legend: initials") :]
    assert "<dt>MP</dt><dd>Mary Poppins, RN</dd>" in legend
    assert "<dt>BA</dt><dd>Bert Alfred, LPN</dd>" in legend
    codes = html[html.index("Legend: codes") :]
    for code in ("R", "H", "NA", "LOA", "HOSP", "OM", "O", "MISSED", "late"):
        assert f"<dt>{code}</dt>" in codes


def test_month_grid_lists_prn_doses_with_reason_and_follow_up(nurse_client, resident, mary):
    prn = _order(
        resident, "Acetaminophen", is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=3
    )
    given = services.prn_give(
        actor=mary,
        prescription=prn,
        idempotency_key=uuid.uuid4(),
        prn_reason="Knee pain",
        now=datetime(2026, 1, 20, 3, 0, tzinfo=UTC),  # 22:00 on the 19th in New York
    ).administration
    services.prn_followup_record(actor=mary, administration=given, result="partly")

    html = _month(nurse_client, resident, "2026-01")

    prns = html[html.index("PRN (as needed) doses") :]
    assert "2026-01-19" in prns and "22:00" in prns
    assert "Knee pain" in prns
    assert "Partly effective" in prns


def test_month_grid_in_a_dst_month_has_31_columns_and_keeps_doses_on_their_day(
    nurse_client, resident, mary
):
    order = _order(resident, "Lisinopril", times=[time(2, 30), time(8, 0)])
    # Spring forward, 8 March 2026: 02:30 does not exist and is given at 03:30 EDT.
    early = _dose(order, datetime(2026, 3, 8, 7, 30, tzinfo=UTC))
    _record(mary, early)
    _record(mary, _dose(order, datetime(2026, 3, 8, 8, 0)))
    _record(mary, _dose(order, datetime(2026, 3, 7, 8, 0)))

    html = _month(nurse_client, resident, "2026-03")

    assert html.count("?date=2026-03-") == 31
    assert _cells(html, "Lisinopril", "02:30")[8] == '<span class="entry">MP</span>'
    morning = _cells(html, "Lisinopril", "08:00")
    assert len(morning) == 31
    assert morning[7] == morning[8] == '<span class="entry">MP</span>'
    assert morning[9] == ""


def _fill_month(resident, recorder, nurse, *, name: str, orders: int, days: int):
    for n in range(orders):
        order = _order(resident, f"{name}{n:02d}")
        for day in range(1, days + 1):
            dose = _dose(order, datetime(2026, 4, day, 8, 0))
            if day % 4 == 0:
                record = _record(recorder, dose, AdminStatus.REFUSED, reason="No")
            else:
                record = _record(recorder, dose)
            if day % 5 == 0:
                services.amendment_create(
                    actor=nurse,
                    administration=record,
                    kind=AmendmentKind.CORRECTION,
                    reason="Time corrected",
                    changes={"notes": "Given with food"},
                )
            _dose(order, datetime(2026, 4, day, 20, 0), state=DoseState.MISSED)
    prn = _order(resident, f"{name}Prn", is_prn=True, times=[], prn_min_hours=1, prn_max_per_24h=24)
    for day in range(1, days + 1):
        given = services.prn_give(
            actor=recorder,
            prescription=prn,
            idempotency_key=uuid.uuid4(),
            prn_reason="Pain",
            now=datetime(2026, 4, day, 16, 0, tzinfo=UTC),
        ).administration
        services.prn_followup_record(actor=recorder, administration=given, result="effective")


def _count_queries(client, url: str) -> tuple[int, list[str]]:
    client.get(url)  # warm per-process caches before measuring
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("page", ["month", "day"])
def test_mar_pages_cost_the_same_queries_for_a_small_and_a_large_month(
    facility, unit, nurse_client, mary, bert, page
):
    from tests.factories import ResidentFactory

    small = ResidentFactory(facility=facility, unit=unit)
    large = ResidentFactory(facility=facility, unit=unit)
    _fill_month(small, mary, bert, name="Small", orders=2, days=3)
    _fill_month(large, mary, bert, name="Large", orders=6, days=25)

    def url(resident):
        if page == "month":
            return reverse("resident_mar_month", args=[resident.pk]) + "?month=2026-04"
        return reverse("resident_mar_day", args=[resident.pk]) + "?date=2026-04-03"

    few, few_sql = _count_queries(nurse_client, url(small))
    many, many_sql = _count_queries(nurse_client, url(large))

    assert few == many, "\n".join(many_sql)
    if page == "month":
        html = nurse_client.get(url(large)).content.decode()
        assert len(_cells(html, "Large05", "08:00")) == 30
        assert "amended" in _cells(html, "Large05", "08:00")[5]


# Access and bad input ------------------------------------------------------------------------


def test_med_techs_may_read_the_mar(medtech_client, resident):
    for name in ("resident_mar_day", "resident_mar_month"):
        assert medtech_client.get(reverse(name, args=[resident.pk])).status_code == 200


def test_another_facilitys_resident_is_404(outsider_client, resident):
    for name in ("resident_mar_day", "resident_mar_month"):
        assert outsider_client.get(reverse(name, args=[resident.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [
        ("resident_mar_month", "month", "2026-13"),
        ("resident_mar_month", "month", "2026-00"),
        ("resident_mar_month", "month", "nonsense"),
        ("resident_mar_month", "month", "9999-12"),
        ("resident_mar_month", "month", "0001-01"),
        ("resident_mar_day", "date", "nonsense"),
        ("resident_mar_day", "date", "2026-02-30"),
        ("resident_mar_day", "date", "9999-12-31"),
        ("resident_mar_day", "date", "0001-01-01"),
    ],
)
def test_bad_query_values_fall_back_to_today_with_a_message(
    nurse_client, resident, name, param, value
):
    response = nurse_client.get(reverse(name, args=[resident.pk]), {param: value})

    assert response.status_code == 200
    body = response.content.decode()
    assert "showing" in body and value in body
    today = datetime.now(NY).date()
    if name == "resident_mar_month":
        assert today.strftime("%B %Y") in body
    else:
        assert today.strftime("%a %Y-%m-%d") in body  # the day heading, in the one style
