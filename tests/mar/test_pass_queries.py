"""The med pass pages cost the same number of queries at any size.

Each test opens a page, makes the facility (board) or the resident (resident page) four times
bigger in residents, orders, doses and records, and opens it again: the counts must be equal.
A count that grows means an N+1; the failure lists the statements that repeat.
"""

import re
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from core.shifts import shift_at
from mar import services
from mar.models import Administration, AdminStatus, AmendmentKind, ScheduledDose
from meds.models import Comparator, HoldParameter
from residents import services as resident_services
from residents.models import Cart
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)
from vitals.models import VitalSign

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York
N = 3

# One order of each kind a med pass shows, by its times in New York (windows: 60 min each side).
SCHEDULES = {
    "missed": [time(3, 0)],  # closed 04:00, more than missed_after_hours (4) ago
    "overdue": [time(6, 0)],  # closed 07:00
    "given": [time(8, 0), time(20, 0)],  # open; recorded given, then amended
    "refused": [time(8, 30)],  # open; recorded refused
    "due": [time(9, 0)],  # open (from 08:00), left for the med tech
    "hold": [time(8, 0)],  # open, with a hold parameter: the card asks for vitals
    "upcoming": [time(10, 0)],  # opens 09:00: in the next 2 hours
}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(user=user)
    return user


def _add_orders(resident, *, copies: int) -> list:
    """`copies` orders of every kind, and one PRN order per copy."""
    orders = []
    for _ in range(copies):
        for kind, times in SCHEDULES.items():
            order = PrescriptionFactory(
                resident=resident, medication=MedicationFactory(), times=times
            )
            order.kind = kind
            if kind == "hold":
                HoldParameter.objects.create(
                    prescription=order,
                    vital=VitalSign.SYSTOLIC_BP,
                    comparator=Comparator.LT,
                    threshold=100,
                )
            orders.append(order)
        prn = PrescriptionFactory(
            resident=resident,
            medication=MedicationFactory(),
            is_prn=True,
            times=[],
            prn_min_hours=4,
            prn_max_per_24h=4,
            indication="Pain",
        )
        prn.kind = "prn"
        orders.append(prn)
    return orders


def _document(orders, *, aide, nurse) -> None:
    """Generate and sweep the doses, then record what a morning pass would have recorded."""
    services.doses_generate(now=NOW)
    services.doses_mark_overdue(now=NOW)
    for order in orders:
        if order.kind == "prn":
            for hours_ago in (5, 1):
                services.prn_give(
                    actor=aide,
                    prescription=order,
                    idempotency_key=uuid.uuid4(),
                    prn_reason="Headache",
                    now=NOW - timedelta(hours=hours_ago),
                )
            first = Administration.objects.filter(prescription=order).earliest("administered_at")
            services.prn_followup_record(actor=aide, administration=first, result="effective")
        elif order.kind in ("given", "refused"):
            dose = ScheduledDose.objects.get(
                prescription=order, window_opens_at__lte=NOW, window_closes_at__gte=NOW
            )
            result = services.administration_record(
                actor=aide,
                dose=dose,
                status=AdminStatus.GIVEN if order.kind == "given" else AdminStatus.REFUSED,
                idempotency_key=uuid.uuid4(),
                reason="" if order.kind == "given" else "Asleep",
                now=NOW,
            )
            if order.kind == "given":
                services.amendment_create(
                    actor=nurse,
                    administration=result.administration,
                    kind=AmendmentKind.LATE_ENTRY,
                    reason="Documented after the pass",
                    changes={},
                )


def _measure(client, url: str, **headers) -> tuple[int, list[str], str]:
    client.get(url, **headers)  # warm per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(captured), [q["sql"] for q in captured.captured_queries], response.content.decode()


def _shape(sql: str) -> str:
    return re.sub(r"\b\d+\b", "?", sql)


def _assert_same_count(small, large, what: str) -> None:
    if small[0] == large[0]:
        return
    grown = Counter(map(_shape, large[1])) - Counter(map(_shape, small[1]))
    repeats = "\n".join(f"  +{n} x {sql}" for sql, n in grown.most_common())
    pytest.fail(f"{what}: {small[0]} queries at size {N}, {large[0]} at {4 * N}.\n{repeats}")


def _add_residents(facility, units, count: int, *, aide, nurse) -> list:
    residents = [
        ResidentFactory(facility=facility, unit=units[i % len(units)]) for i in range(count)
    ]
    orders = [order for r in residents for order in _add_orders(r, copies=1)]
    _document(orders, aide=aide, nurse=nurse)
    return residents


def _pass(client, facility, aide, passing: str, residents) -> None:
    """Choose what the board passes; "mine" and "cart" cover every resident given."""
    if passing == "mine":
        resident_services.shift_assignment_set(
            actor=aide,
            facility=facility,
            med_tech=aide,
            shift=shift_at(NOW, facility.shifts),
            residents=residents,
            now=NOW,
        )
    elif passing == "cart":
        cart = Cart.objects.get_or_create(facility=facility, name="Cart 1")[0]
        resident_services.cart_update(
            actor=aide, cart=cart, name=cart.name, residents=[*cart.residents.all(), *residents]
        )
    value = {"all": "all", "mine": "mine"}.get(passing) or f"cart:{Cart.objects.get().pk}"
    assert client.post(reverse("passing_choose"), {"passing": value}).status_code == 302


# Care planned every shift, each needing help (an assessment level above 1 plans the item).
_MORE_CARE = {"toileting": 3, "dressing": 3, "grooming": 2, "transfers": 3}


def _plan_care(resident, nurse, levels: dict[str, int]) -> None:
    """A plan for `levels`, published a day ago (superseding any), and its tasks made now."""
    from care import services as care_services
    from care.catalog import adl_template
    from tests.care.conftest import published_plan

    published_plan(resident, adl_template(), nurse, at=NOW - timedelta(days=1), levels=levels)
    care_services.care_tasks_generate(now=NOW)


@pytest.mark.parametrize("passing", ["all", "mine", "cart"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_board_queries_do_not_grow_with_residents_orders_and_doses(
    facility, unit, aide, nurse_user, login_client, htmx, passing
):
    units = [unit, UnitFactory(facility=facility, name="South Wing")]
    client = login_client(aide)
    url = reverse("board")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    residents = _add_residents(facility, units, N, aide=aide, nurse=nurse_user)
    _pass(client, facility, aide, passing, residents)
    small = _measure(client, url, **headers)
    more = _add_residents(facility, units, 3 * N, aide=aide, nurse=nurse_user)
    if passing != "all":
        _pass(client, facility, aide, passing, residents + more)
    residents += more
    large = _measure(client, url, **headers)

    assert ("<h1>Med pass</h1>" in large[2]) is not htmx
    for resident in residents:  # the measured board lists every resident
        assert f"{resident.last_name}, {resident.first_name}" in large[2]
    assert large[2].count("OVERDUE 06:00") == 4 * N
    _assert_same_count(small, large, f"med pass board ({'htmx' if htmx else 'page'}, {passing})")


def test_a_board_passing_some_residents_lists_no_others(
    facility, unit, aide, nurse_user, login_client
):
    client = login_client(aide)
    residents = _add_residents(facility, [unit], 2, aide=aide, nurse=nurse_user)
    _pass(client, facility, aide, "mine", residents[:1])
    board = _measure(client, reverse("board"))[2]
    assert f"{residents[0].last_name}, {residents[0].first_name}" in board
    assert f"{residents[1].last_name}, {residents[1].first_name}" not in board


@pytest.mark.parametrize("role", [Role.MED_TECH, Role.NURSE])
def test_resident_pass_queries_do_not_grow_with_orders_doses_and_records(
    resident, aide, nurse_user, login_client, role
):
    client = login_client(aide if role == Role.MED_TECH else nurse_user)
    url = reverse("resident_pass", args=[resident.pk])

    _document(_add_orders(resident, copies=1), aide=aide, nurse=nurse_user)
    _plan_care(resident, nurse_user, {"toileting": 3})
    small = _measure(client, url)
    _document(_add_orders(resident, copies=3), aide=aide, nurse=nurse_user)
    _plan_care(resident, nurse_user, _MORE_CARE)
    large = _measure(client, url)

    page = large[2]
    assert page.count('class="dose card state-') == 4 * 5  # missed, overdue, due, hold, upcoming
    assert page.count("Refused: Asleep") == 4
    assert page.count("Late entry: Documented after the pass") == 4
    assert page.count("Next allowed at") == 4
    assert page.count("Document follow-up") == 4  # the second PRN dose of each order
    assert page.count('class="care-task"') == len(_MORE_CARE)  # the day shift's care
    _assert_same_count(small, large, f"resident med pass ({role})")
