"""core.rows: rows read as JSON become the same model instances the ORM would have made."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from core import rows
from inventory.models import StockItem
from inventory.selectors import STOCK_ITEMS_FOR_SQL, stock_items_for
from mar import services
from mar.models import Administration, AdminStatus, AmendmentKind, ScheduledDose
from meds.models import Comparator, HoldParameter, Prescription
from tests.factories import MedicationFactory, PrescriptionFactory, ResidentFactory, member
from vitals.models import VitalSign

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)


def _json_rows(table: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT json_agg(t ORDER BY t.id) FROM {table} AS t")
        return cursor.fetchone()[0] or []


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.parametrize(
    "model", [Prescription, HoldParameter, ScheduledDose, Administration, StockItem]
)
def test_every_column_reads_as_the_orm_reads_it(model, facility):
    from accounts.models import Role

    resident = ResidentFactory(facility=facility)
    order = PrescriptionFactory(resident=resident, dose_amount=Decimal("2.5"))
    HoldParameter.objects.create(
        prescription=order,
        vital=VitalSign.SYSTOLIC_BP,
        comparator=Comparator.LT,
        threshold=Decimal("99.5"),
    )
    StockItem.objects.create(
        facility=facility,
        resident=resident,
        medication=order.medication,
        on_hand=Decimal("12.25"),
        reorder_days=7,
        ordered_at=NOW,
    )
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.order_by("due_at").first()
    services.administration_record(
        actor=member(facility, Role.NURSE),
        dose=dose,
        status=AdminStatus.REFUSED,
        reason="Asleep",
        idempotency_key=uuid.uuid4(),
        now=dose.due_at,
    )

    made = rows.instances(model, _json_rows(model._meta.db_table))
    read = list(model.objects.order_by("pk"))
    assert made and [_values(m) for m in made] == [_values(r) for r in read]
    assert all(not m._state.adding for m in made)


def test_related_objects_attached_cost_no_query(facility, django_assert_num_queries):
    from accounts.models import Role

    nurse = member(facility, Role.NURSE)
    order = PrescriptionFactory(resident=ResidentFactory(facility=facility))
    services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.order_by("due_at").first()
    record = services.administration_record(
        actor=member(facility, Role.NURSE),
        dose=dose,
        status=AdminStatus.GIVEN,
        idempotency_key=uuid.uuid4(),
        now=dose.due_at,
    ).administration
    services.amendment_create(
        actor=nurse,
        administration=record,
        kind=AmendmentKind.LATE_ENTRY,
        reason="After the pass",
        changes={},
    )
    from mar.models import Amendment

    records = rows.instances(Administration, _json_rows("mar_administration"))
    amendments = rows.instances(Amendment, _json_rows("mar_amendment"))
    rows.attach(records, "prescription", {order.pk: order})
    rows.attach(records, "witness", {})
    rows.attach(records, "followup", {})
    rows.attach_many(records, "amendments", amendments, "administration_id")
    with django_assert_num_queries(0):
        (made,) = records
        assert made.prescription is order and made.witness is None
        assert [a.reason for a in made.amendments.all()] == ["After the pass"]
        with pytest.raises(Administration.followup.RelatedObjectDoesNotExist):
            made.followup  # noqa: B018 - a missing reverse one-to-one raises, as usual


def test_the_pass_statement_takes_stock_from_where_giving_takes_it(facility):
    """STOCK_ITEMS_FOR_SQL chooses as stock_items_for: the resident's own, else house stock."""
    resident = ResidentFactory(facility=facility)
    own, house_only, untracked = (MedicationFactory() for _ in range(3))
    for medication, owner in ((own, resident), (own, None), (house_only, None)):
        StockItem.objects.create(
            facility=facility, resident=owner, medication=medication, reorder_days=7
        )
    ResidentFactory(facility=facility)  # another resident's own stock is never taken
    StockItem.objects.create(
        facility=facility,
        resident=ResidentFactory(facility=facility),
        medication=untracked,
        reorder_days=7,
    )
    ids = [own.pk, house_only.pk, untracked.pk]
    chosen_sql = STOCK_ITEMS_FOR_SQL.format(medications="SELECT unnest(%(ids)s::bigint[])")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT json_agg(s) FROM ({chosen_sql}) AS s",
            {"facility": facility.pk, "resident": resident.pk, "ids": ids},
        )
        chosen = {s.medication_id: s.pk for s in rows.instances(StockItem, cursor.fetchone()[0])}
    expected = {m: s.pk for m, s in stock_items_for(resident=resident, medication_ids=ids).items()}
    assert chosen == expected
    assert set(chosen) == {own.pk, house_only.pk}
    assert StockItem.objects.get(pk=chosen[own.pk]).resident_id == resident.pk


def test_a_missing_column_is_deferred_not_guessed(facility):
    order = PrescriptionFactory(resident=ResidentFactory(facility=facility))
    (made,) = rows.instances(Prescription, [{"id": order.pk, "dose_amount": 1.25}])
    assert made.dose_amount == Decimal("1.25")
    assert "instructions" in made.get_deferred_fields()
