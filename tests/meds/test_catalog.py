"""The medication catalog pages: administrators add and correct entries, nurses read them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from meds import services
from meds.models import Medication
from tests.factories import MedicationFactory, PrescriptionFactory
from tests.pages import assert_refused_beside

AMLODIPINE = {
    "name": "Amlodipine",
    "generic_name": "amlodipine",
    "strength": "5 mg",
    "form": "tablet",
    "default_route": "oral",
}


def medication_form(**overrides) -> dict:
    """The add form as posted; an override of None leaves the field out."""
    return {key: value for key, value in {**AMLODIPINE, **overrides}.items() if value is not None}


def edit_form(medication: Medication, **overrides) -> dict:
    data = {
        "name": medication.name,
        "generic_name": medication.generic_name,
        "strength": medication.strength,
        "form": medication.form,
        "default_route": medication.default_route,
        "controlled_schedule": medication.controlled_schedule,
        "ndc": medication.ndc,
        "barcode": medication.barcode,
        "is_time_critical": "on" if medication.is_time_critical else None,
        "is_psychotropic": "on" if medication.is_psychotropic else None,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def catalog() -> list[dict]:
    return list(Medication.objects.order_by("pk").values())


# --- adding -----------------------------------------------------------------------------------


def test_admin_adds_a_medication_and_it_is_listed(admin_client, facility):
    response = admin_client.post(
        reverse("medication_create"),
        medication_form(ndc=" 0069 1520 68 ", barcode="30069152068", is_time_critical="on"),
        follow=True,
    )

    assert response.redirect_chain == [(reverse("medication_list"), 302)]
    medication = Medication.objects.get(name="Amlodipine")
    assert medication.ndc == "0069-1520-68"
    assert medication.barcode == "30069152068"
    assert medication.is_time_critical and not medication.is_psychotropic
    content = response.content.decode()
    assert "Amlodipine 5 mg tablet added to the catalog." in content
    assert "Amlodipine 5 mg" in content
    assert "shared by every facility" in content


def test_eleven_bare_digits_are_read_as_5_4_2(admin_user):
    medication = services.medication_create(
        actor=admin_user, name="Amlodipine", strength="5 mg", form="tablet", ndc="00069152068"
    )

    assert medication.ndc == "00069-1520-68"
    assert services.ndc_11(medication.ndc) == "00069152068"


@pytest.mark.parametrize(
    ("typed", "eleven"),
    [
        ("0093-1048-01", "00093104801"),  # 4-4-2
        ("68180-513-01", "68180051301"),  # 5-3-2
        ("68180-0513-1", "68180051301"),  # 5-4-1
        ("68180-0513-01", "68180051301"),  # 5-4-2
    ],
)
def test_every_ndc_shape_compares_as_its_eleven_digits(typed, eleven):
    assert services.ndc_11(services.ndc_normalise(typed)) == eleven


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ndc": "12345"}, "ndc", "is not an NDC"),
        ({"ndc": "0093-1048-1"}, "ndc", "is not an NDC"),
        ({"ndc": "0093-10A8-01"}, "ndc", "is not an NDC"),
        ({"ndc": "0093104801"}, "ndc", "ten digits without dashes can be read three ways"),
        ({"barcode": "3006 9152068"}, "barcode", "A barcode has no spaces"),
    ],
)
def test_a_malformed_entry_is_refused_beside_its_field(
    admin_client, facility, overrides, field, message
):
    before = catalog()

    response = admin_client.post(reverse("medication_create"), medication_form(**overrides))

    assert_refused_beside(response, field, message)
    assert catalog() == before
    # What was typed is kept.
    assert response.context["form"]["name"].value() == "Amlodipine"


def test_a_name_of_spaces_is_refused_by_the_service(admin_user):
    with pytest.raises(DomainError) as refused:
        services.medication_create(actor=admin_user, name="   ", strength="5 mg", form="tablet")

    assert refused.value.field == "name"
    assert not Medication.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"name": "lisinopril", "strength": "10mg", "ndc": "", "barcode": ""},
            "name",
            "Lisinopril 10 mg tablet is already in the catalog.",
        ),
        (
            {"ndc": "00093-1048-01"},  # the same product as 0093-1048-01, spelled 5-4-2
            "ndc",
            "NDC 00093-1048-01 is already the NDC of Lisinopril 10 mg tablet (0093-1048-01).",
        ),
        (
            {"barcode": "30093104801"},
            "barcode",
            "This barcode is already the barcode of Lisinopril 10 mg tablet.",
        ),
    ],
)
def test_a_duplicate_is_refused_beside_its_field_and_nothing_is_added(
    admin_client, facility, overrides, field, message
):
    MedicationFactory(name="Lisinopril", ndc="0093-1048-01", barcode="30093104801")
    before = catalog()

    response = admin_client.post(reverse("medication_create"), medication_form(**overrides))

    assert_refused_beside(response, field, message)
    assert catalog() == before


# --- correcting -------------------------------------------------------------------------------


@pytest.fixture
def lisinopril(resident):
    medication = MedicationFactory(name="Lisinopril", ndc="0093-1048-01")
    PrescriptionFactory(resident=resident, medication=medication)
    PrescriptionFactory(resident=resident, medication=medication, status="on_hold")
    PrescriptionFactory(resident=resident, medication=medication, status="discontinued")
    return medication


def test_flags_ndc_and_barcode_of_a_medication_in_use_can_be_corrected(admin_client, lisinopril):
    page = admin_client.get(reverse("medication_edit", args=[lisinopril.pk])).content.decode()
    assert "2 active orders (3 in all, discontinued ones included)" in page

    response = admin_client.post(
        reverse("medication_edit", args=[lisinopril.pk]),
        edit_form(
            lisinopril,
            ndc="0093-1048-10",
            barcode="30093104810",
            is_time_critical="on",
            is_psychotropic="on",
        ),
    )

    assert response.status_code == 302
    lisinopril.refresh_from_db()
    assert (lisinopril.ndc, lisinopril.barcode) == ("0093-1048-10", "30093104810")
    assert lisinopril.is_time_critical and lisinopril.is_psychotropic


@pytest.mark.parametrize(
    ("field", "value"), [("name", "Lisinopril HCTZ"), ("strength", "20 mg"), ("form", "liquid")]
)
def test_the_identity_of_a_medication_in_use_cannot_change(admin_client, lisinopril, field, value):
    before = catalog()

    response = admin_client.post(
        reverse("medication_edit", args=[lisinopril.pk]),
        edit_form(lisinopril, **{field: value, "is_time_critical": "on"}),
    )

    assert_refused_beside(
        response,
        field,
        "Lisinopril 10 mg tablet is used by 2 active orders and 1 discontinued order, so its "
        "name, strength and form cannot change",
    )
    assert catalog() == before
    assert response.context["form"][field].value() == value


def test_discontinued_orders_alone_still_lock_the_identity(admin_user, resident):
    medication = MedicationFactory(name="Lisinopril")
    PrescriptionFactory(resident=resident, medication=medication, status="discontinued")

    with pytest.raises(DomainError, match="used by 1 discontinued order,"):
        services.medication_update(
            actor=admin_user,
            medication=medication,
            **edit_form(medication, name="Lisinoprill"),
        )


def test_an_unused_medication_can_be_renamed(admin_client, facility):
    medication = MedicationFactory(name="Lisinoprl")

    response = admin_client.post(
        reverse("medication_edit", args=[medication.pk]), edit_form(medication, name="Lisinopril")
    )

    assert response.status_code == 302
    medication.refresh_from_db()
    assert medication.name == "Lisinopril"


def test_correcting_to_another_entrys_ndc_is_refused(admin_client, lisinopril):
    other = MedicationFactory(name="Metformin", ndc="0093-1048-02")
    before = catalog()

    response = admin_client.post(
        reverse("medication_edit", args=[other.pk]), edit_form(other, ndc="00093-1048-01")
    )

    assert_refused_beside(response, "ndc", "is already the NDC of Lisinopril 10 mg tablet")
    assert catalog() == before


def test_saving_an_entry_unchanged_is_not_a_duplicate_of_itself(admin_client, lisinopril):
    response = admin_client.post(
        reverse("medication_edit", args=[lisinopril.pk]), edit_form(lisinopril)
    )

    assert response.status_code == 302


# --- who may do what --------------------------------------------------------------------------


def test_a_nurse_reads_the_catalog_without_add_or_edit_links(nurse_client, lisinopril):
    content = nurse_client.get(reverse("medication_list")).content.decode()

    assert "Lisinopril 10 mg" in content
    assert "2 active orders" in content
    assert reverse("medication_create") not in content
    assert reverse("medication_edit", args=[lisinopril.pk]) not in content
    assert nurse_client.get(reverse("medication_create")).status_code == 403
    assert nurse_client.get(reverse("medication_edit", args=[lisinopril.pk])).status_code == 403


def test_a_med_tech_cannot_open_or_change_the_catalog(medtech_client, lisinopril):
    before = catalog()

    listed = medtech_client.get(reverse("medication_list"))
    posted = medtech_client.post(reverse("medication_create"), medication_form())
    edited = medtech_client.post(
        reverse("medication_edit", args=[lisinopril.pk]), edit_form(lisinopril, ndc="")
    )

    assert (listed.status_code, posted.status_code, edited.status_code) == (403, 403, 403)
    assert "Only administrators can add medications to the catalog." in posted.content.decode()
    assert catalog() == before


def test_the_list_searches_names_and_generic_names(admin_client, facility):
    MedicationFactory(name="Tylenol", generic_name="acetaminophen")
    MedicationFactory(name="Lisinopril")

    content = admin_client.get(reverse("medication_list") + "?q=acetamin").content.decode()

    assert "Tylenol" in content
    assert "Lisinopril" not in content


def test_the_list_pages_fifty_at_a_time(admin_client, facility):
    for i in range(55):
        MedicationFactory(name=f"Drug {i:02d}")

    first = admin_client.get(reverse("medication_list")).content.decode()
    second = admin_client.get(reverse("medication_list") + "?page=2").content.decode()

    assert "Drug 49" in first and "Drug 50" not in first
    assert "Drug 54" in second
    assert "Page 1 of 2 (55 in all)" in first


def _grow_catalog(resident, count: int, start: int) -> None:
    for i in range(start, start + count):
        medication = MedicationFactory(name=f"Drug {i:03d}", ndc=f"0093-{i:04d}-01")
        PrescriptionFactory(resident=resident, medication=medication)
        if i % 2:
            PrescriptionFactory(resident=resident, medication=medication, status="discontinued")


@pytest.mark.parametrize("query", ["", "?q=drug"])
def test_list_queries_do_not_grow_with_the_catalog(
    admin_client, resident, django_assert_num_queries, query
):
    url = reverse("medication_list") + query
    _grow_catalog(resident, 5, 0)
    admin_client.get(url)  # warm per-process caches before measuring
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)

    _grow_catalog(resident, 20, 5)
    with django_assert_num_queries(len(small)):
        response = admin_client.get(url)

    assert "Drug 024" in response.content.decode()


# --- any input --------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=TEXT,
    strength=TEXT,
    ndc=st.one_of(TEXT, st.from_regex(r"\A[0-9]{4,5}[- ]?[0-9]{3,4}[- ]?[0-9]{1,2}\Z")),
    barcode=TEXT,
    form=st.sampled_from(["tablet", "liquid", "bogus", ""]),
)
def test_any_typed_entry_is_saved_or_refused_beside_a_field(
    admin_client, facility, name, strength, ndc, barcode, form
):
    data = medication_form(name=name, strength=strength, ndc=ndc, barcode=barcode, form=form)
    before = Medication.objects.count()

    response = admin_client.post(reverse("medication_create"), data)

    if response.status_code == 302:
        saved = Medication.objects.latest("pk")
        assert saved.name == " ".join(name.split())
        assert not saved.ndc or len(services.ndc_11(saved.ndc)) == 11
        assert Medication.objects.count() == before + 1
    else:
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not response.context["form"].non_field_errors()
        assert Medication.objects.count() == before


@given(
    segments=st.sampled_from(services.NDC_SHAPES).flatmap(
        lambda shape: st.tuples(*(st.text("0123456789", min_size=n, max_size=n) for n in shape))
    ),
    separator=st.sampled_from(["-", " ", " - "]),
)
def test_a_well_formed_ndc_keeps_its_digits_and_shape(segments, separator):
    normal = services.ndc_normalise(separator.join(segments))

    assert normal == "-".join(segments)
    assert len(services.ndc_11(normal)) == 11
    assert services.ndc_11(normal).endswith(segments[2])
