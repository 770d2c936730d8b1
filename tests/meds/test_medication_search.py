"""The order form's medication search: the catalog found by name, strength or NDC."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meds.models import Medication, Prescription
from meds.selectors import SEARCH_RESULTS, medication_search
from residents import services as resident_services
from tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db

DATA = Path(settings.BASE_DIR) / "tests" / "data" / "ndc"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalog():
    """The extract of the FDA directory, and the demo-style entries made by hand."""
    call_command(
        "import_ndc", str(DATA / "product.txt"), str(DATA / "package.txt"), stdout=io.StringIO()
    )
    MedicationFactory(name="Metoprolol", strength="25 mg", ndc="0378-0018-01")
    MedicationFactory(name="Lisinopril", strength="2.5 mg")


def _names(query: str) -> list[str]:
    return [f"{m.name} {m.strength}" for m in medication_search(query=query)]


def test_part_of_a_name_finds_it_whatever_the_case(catalog):
    assert _names("oxycon") == ["OxyContin 10 mg"]
    assert _names("CLARI") == ["Claritin 5 mg/5 mL"]
    assert "Zepbound 2.5 mg/0.5 mL" in _names("tirzep")  # the generic name


def test_name_and_strength_narrow_together(catalog):
    found = _names("estradiol 14mcg")
    assert found == ["Menostar 14 mcg/day"]  # by its generic name and strength
    assert _names("estradiol 1 mg") == ["Estradiol 1 mg"]
    # A number is a number: "5" is not the 5 of "25 mg" or "2.5 mg".
    assert _names("metoprolol 5") == []
    assert _names("lisinopril 2.5") == ["Lisinopril 2.5 mg"]


@pytest.mark.parametrize(
    "typed", ["0378-4642-26", "00378-4642-26", "00378464226", "0378-4642", "00378464"]
)
def test_an_ndc_whole_or_its_start_finds_the_product(catalog, typed):
    found = medication_search(query=typed)
    assert [m.product_ndc for m in found] == ["0378-4642"]


def test_an_entry_s_own_ndc_finds_it(catalog):
    assert _names("0378-0018-01") == ["Metoprolol 25 mg"]


def test_names_starting_with_the_words_come_first_and_the_list_is_cut(catalog):
    for index in range(SEARCH_RESULTS + 5):
        MedicationFactory(name=f"Zz estradiol {index:02d}")
    found = medication_search(query="estradiol")
    assert len(found) == SEARCH_RESULTS
    assert all(m.name.lower().startswith("estradiol") for m in found[:6])


@pytest.mark.parametrize(
    "query", ["", "a", "%", "_", "\\", "(", "[", "*", "a\x00b", "x" * 500, "0" * 40, "1.2.3mg"]
)
def test_odd_words_find_nothing_or_something_never_fail(catalog, nurse_client, query):
    medication_search(query=query)
    response = nurse_client.get(reverse("medication_search"), {"medication_query": query}, **HTMX)
    assert response.status_code == 200


def test_the_search_answers_htmx_with_choices_and_a_browser_with_a_page(catalog, nurse_client):
    url = reverse("medication_search")
    fragment = nurse_client.get(url, {"medication_query": "oxycontin"}, **HTMX)
    html = fragment.content.decode()
    assert 'type="radio" name="medication"' in html
    assert 'data-dose-unit="tablet"' in html and "<html" not in html
    assert "Schedule II" in html and "Blenheim Pharmacal" in html
    assert "HX-Request" in fragment["Vary"]
    page = nurse_client.get(url, {"medication_query": "oxycontin"}).content.decode()
    assert "<h1>Find a medication</h1>" in page and "OxyContin 10 mg" in page
    assert 'type="radio"' not in page


def test_the_chosen_medication_stays_in_the_list(catalog, nurse_client):
    chosen = Medication.objects.get(product_ndc="11523-7197")
    html = nurse_client.get(
        reverse("medication_search"),
        {"medication_query": "oxycontin", "medication": chosen.pk},
        **HTMX,
    ).content.decode()
    assert f'value="{chosen.pk}" data-dose-unit="mL" data-route="oral" checked' in html
    assert "OxyContin" in html


def _queries(client, query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("medication_search"), {"medication_query": query}, **HTMX)
    assert response.status_code == 200
    return len(captured)


def test_the_search_reads_the_same_number_of_queries_for_few_or_many_matches(catalog, nurse_client):
    few = _queries(nurse_client, "estradiol")
    for index in range(40):
        MedicationFactory(name=f"Estradiol copy {index}", strength=f"{index} mg")
    assert _queries(nurse_client, "estradiol") == few


def test_med_techs_cannot_search_the_catalog(medtech_client):
    assert medtech_client.get(reverse("medication_search")).status_code == 403


# --- The order form --------------------------------------------------------------------------


def _order(**overrides):
    data = {
        "dose_amount": "1",
        "dose_unit": "",
        "route": "transdermal",
        "prescriber": "Dr. Hayes",
        "start_date": "2026-01-01",
        "is_prn": "false",
        "times": "08:00",
        "recurrence": "daily",
    }
    data.update(overrides)
    return data


def test_the_order_form_has_a_search_box_not_the_whole_catalog(catalog, resident, nurse_client):
    page = nurse_client.get(reverse("order_create", args=[resident.pk])).content.decode()
    assert 'name="medication_query"' in page
    search = page.split('name="medication_query"')[1].split('<div class="grid">')[0]
    assert "<select" not in search and "<option" not in page.split("id_route")[0]
    assert "OxyContin" not in page  # nothing listed before anything is typed


def test_searching_without_javascript_keeps_what_was_typed_and_saves_nothing(
    catalog, resident, nurse_client
):
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]),
        _order(medication_query="climara", find_medication="1", prescriber="Dr. Wu"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Climara 0.05 mg/day" in html and 'value="Dr. Wu"' in html
    assert "errorlist" not in html  # a search is not a refused order
    assert not Prescription.objects.exists()
    # Enter in the search box, nothing chosen yet: a search too.
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]), _order(medication_query="menostar")
    )
    assert "Menostar 14 mcg/day" in response.content.decode()
    assert not Prescription.objects.exists()


def test_an_order_for_a_searched_medication_takes_its_dose_unit(
    catalog, resident, admin_user, nurse_client
):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    patch = Medication.objects.get(product_ndc="50419-451")  # Climara
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]),
        _order(medication_query="climara", medication=patch.pk),
    )
    assert response.status_code == 302
    order = Prescription.objects.get()
    assert (order.medication, order.dose_unit, order.route) == (patch, "patch", "transdermal")


def test_an_order_without_a_medication_says_how_to_find_one(catalog, resident, nurse_client):
    response = nurse_client.post(reverse("order_create", args=[resident.pk]), _order())
    assert "Find the medication: type part of its name" in response.content.decode()
    response = nurse_client.post(
        reverse("order_create", args=[resident.pk]), _order(medication="999999999")
    )
    assert "That medication is not in the catalog" in response.content.decode()
    assert not Prescription.objects.exists()


def test_the_change_form_shows_the_order_s_medication_chosen(catalog, resident, nurse_client):
    from tests.factories import PrescriptionFactory

    liquid = Medication.objects.get(product_ndc="11523-7197")
    order = PrescriptionFactory(resident=resident, medication=liquid, dose_unit="mL")
    page = nurse_client.get(reverse("order_change", args=[order.pk])).content.decode()
    assert f'value="{liquid.pk}" data-dose-unit="mL" data-route="oral" checked' in page
    assert 'name="dose_unit" value="mL"' in page
