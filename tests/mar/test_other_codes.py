"""A facility's "other" codes: administrators add codes, relabel them, remove unused ones."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from core.errors import DomainError
from mar.models import DEFAULT_OTHER_CODES, OtherCode
from mar.services import codes as services_codes
from tests.factories import PrescriptionFactory, record_dose, scheduled_dose
from tests.pages import assert_refused_beside


def codes(facility) -> list[tuple[str, str]]:
    return list(
        OtherCode.objects.filter(facility=facility).order_by("pk").values_list("code", "label")
    )


@pytest.fixture
def asleep(facility):
    return OtherCode.objects.get(facility=facility, code="asleep")


@pytest.fixture
def used_asleep(asleep, resident, nurse_user):
    """ "Asleep" recorded on one of the resident's doses."""
    order = PrescriptionFactory(resident=resident)
    dose = scheduled_dose(order, order.active_since.replace(hour=13))
    record_dose(nurse_user, dose, "other", other_code="asleep", reason="Sound asleep")
    return asleep


def test_a_new_facility_starts_with_the_default_codes(admin_client, facility):
    content = admin_client.get(reverse("other_code_list")).content.decode()

    for _, label in DEFAULT_OTHER_CODES:
        assert escape(label) in content


def test_admin_adds_a_code_which_med_techs_can_then_choose(admin_client, facility):
    response = admin_client.post(
        reverse("other_code_list"), {"code": " Dialysis ", "label": "At  dialysis"}, follow=True
    )

    assert response.redirect_chain == [(reverse("other_code_list"), 302)]
    assert OtherCode.objects.get(facility=facility, code="dialysis").label == "At dialysis"
    assert "“At dialysis” added to the other codes." in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"code": "asleep", "label": "Napping"},
            "code",
            "The code “asleep” is already on the list.",
        ),
        (
            {"code": "ASLEEP", "label": "Napping"},
            "code",
            "The code “asleep” is already on the list.",
        ),
        ({"code": "out with family", "label": "Out with family"}, "code", "one short word"),
        ({"code": "-x", "label": "Odd"}, "code", "one short word"),
        ({"code": "nap", "label": "asleep"}, "label", "“Asleep” is already on the list"),
    ],
)
def test_a_bad_or_duplicate_code_is_refused_beside_its_field(
    admin_client, facility, data, field, message
):
    before = codes(facility)

    response = admin_client.post(reverse("other_code_list"), data)

    assert_refused_beside(response, field, message)
    assert codes(facility) == before
    assert response.context["form"]["label"].value() == data["label"]


def test_the_same_code_in_another_facility_is_fine(admin_user, facility, other_facility):
    created = services_codes.other_code_create(
        actor=admin_user, facility=other_facility, code="dialysis", label="At dialysis"
    )
    again = services_codes.other_code_create(
        actor=admin_user, facility=facility, code="dialysis", label="At dialysis"
    )

    assert created.facility == other_facility and again.facility == facility


def test_a_code_added_at_the_same_moment_is_refused_by_the_constraint(
    admin_user, facility, monkeypatch
):
    # The duplicate check saw nothing (the other administrator's row was not committed yet):
    # the unique constraint answers, as a message beside the code.
    monkeypatch.setattr(services_codes, "_refuse_duplicates", lambda *args, **kwargs: None)

    with pytest.raises(DomainError) as refused:
        services_codes.other_code_create(
            actor=admin_user, facility=facility, code="asleep", label="Napping"
        )

    assert refused.value.field == "code"
    assert "already on the list" in refused.value.message
    assert codes(facility) == list(DEFAULT_OTHER_CODES)


def test_constraint_still_guards_the_table(facility):
    with pytest.raises(IntegrityError):
        OtherCode.objects.create(facility=facility, code="asleep", label="Again")


def test_the_label_of_a_used_code_can_change(admin_client, used_asleep):
    url = reverse("other_code_edit", args=[used_asleep.pk])
    assert "Used on 1 recorded dose" in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"code": "asleep", "label": "Sound asleep"})

    assert response.status_code == 302
    used_asleep.refresh_from_db()
    assert (used_asleep.code, used_asleep.label) == ("asleep", "Sound asleep")


def test_a_used_code_cannot_be_rekeyed(admin_client, facility, used_asleep):
    before = codes(facility)

    response = admin_client.post(
        reverse("other_code_edit", args=[used_asleep.pk]), {"code": "sleeping", "label": "Asleep"}
    )

    assert_refused_beside(
        response, "code", "“asleep” is on 1 recorded dose, which keep the code as it was written"
    )
    assert codes(facility) == before


def test_an_unused_code_can_be_rekeyed(admin_client, asleep):
    response = admin_client.post(
        reverse("other_code_edit", args=[asleep.pk]), {"code": "sleeping", "label": "Asleep"}
    )

    assert response.status_code == 302
    asleep.refresh_from_db()
    assert asleep.code == "sleeping"


def test_an_unused_code_can_be_removed(admin_client, facility, asleep):
    response = admin_client.post(reverse("other_code_delete", args=[asleep.pk]), follow=True)

    assert not OtherCode.objects.filter(pk=asleep.pk).exists()
    assert "“Asleep” removed from the other codes." in response.content.decode()


def test_a_used_code_cannot_be_removed(admin_client, facility, used_asleep):
    list_page = admin_client.get(reverse("other_code_list")).content.decode()
    assert reverse("other_code_delete", args=[used_asleep.pk]) not in list_page
    before = codes(facility)

    response = admin_client.post(reverse("other_code_delete", args=[used_asleep.pk]), follow=True)

    assert codes(facility) == before
    assert "“Asleep” is on 1 recorded dose, so it stays on the list" in response.content.decode()


# --- who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["medtech_client", "nurse_client"])
def test_only_administrators_change_the_codes(request, facility, asleep, client_name):
    client = request.getfixturevalue(client_name)
    before = codes(facility)

    responses = [
        client.get(reverse("other_code_list")),
        client.post(reverse("other_code_list"), {"code": "nap", "label": "Napping"}),
        client.post(reverse("other_code_edit", args=[asleep.pk]), {"code": "a", "label": "A"}),
        client.post(reverse("other_code_delete", args=[asleep.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    assert "Only administrators can change the facility" in responses[0].content.decode()
    assert codes(facility) == before


def test_another_facilitys_code_is_a_404(outsider_client, facility, other_facility, asleep):
    before = codes(facility)

    page = outsider_client.get(reverse("other_code_edit", args=[asleep.pk]))
    edit = outsider_client.post(
        reverse("other_code_edit", args=[asleep.pk]), {"code": "x", "label": "X"}
    )
    delete = outsider_client.post(reverse("other_code_delete", args=[asleep.pk]))
    listed = outsider_client.get(reverse("other_code_list")).content.decode()

    assert (page.status_code, edit.status_code, delete.status_code) == (404, 404, 404)
    assert codes(facility) == before
    assert reverse("other_code_edit", args=[asleep.pk]) not in listed


def test_the_facility_settings_page_links_to_the_codes(admin_client, facility):
    content = admin_client.get(reverse("facility_settings")).content.decode()

    assert reverse("other_code_list") in content
    assert reverse("medication_list") in content


# --- cost -------------------------------------------------------------------------------------


def _grow(facility, resident, nurse_user, count: int, start: int) -> None:
    order = PrescriptionFactory(resident=resident)
    for i in range(start, start + count):
        OtherCode.objects.create(facility=facility, code=f"code{i}", label=f"Reason {i:03d}")
        dose = scheduled_dose(order, order.active_since.replace(day=2 + i))
        record_dose(nurse_user, dose, "other", other_code=f"code{i}", reason="Other")


def test_list_queries_do_not_grow_with_codes_and_records(
    admin_client, facility, resident, nurse_user, django_assert_num_queries
):
    url = reverse("other_code_list")
    _grow(facility, resident, nurse_user, 2, 0)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)

    _grow(facility, resident, nurse_user, 8, 2)
    with django_assert_num_queries(len(small)):
        response = admin_client.get(url)

    assert "Reason 009" in response.content.decode()
