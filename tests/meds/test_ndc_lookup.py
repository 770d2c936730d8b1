"""Finding a catalog entry by an NDC typed in any printed form (meds.selectors)."""

import pytest

from meds.models import MedicationPackage
from meds.selectors import medication_for_ndc, ndc_candidates
from tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def packaged():
    """An entry of the FDA directory with two packages: 0093-1048-01 (4-4-2) and its 30s."""
    medication = MedicationFactory(name="Lisinopril", product_ndc="0093-1048")
    for printed, eleven in (("0093-1048-01", "00093104801"), ("0093-1048-30", "00093104830")):
        MedicationPackage.objects.create(medication=medication, ndc=printed, ndc11=eleven)
    return medication


@pytest.mark.parametrize(
    "typed",
    ["0093-1048-01", "00093-1048-01", "00093104801", " 0093 1048 01 ", "0093104801"],
)
def test_a_package_ndc_in_every_printed_form_finds_its_entry(packaged, typed):
    assert medication_for_ndc(typed) == packaged


@pytest.mark.parametrize(
    ("printed", "typed"),
    [
        ("50580-506-02", "50580-0506-02"),  # 5-3-2 stored, 11 digits with dashes typed
        ("50580-506-02", "50580050602"),  # 11 bare digits
        ("50580-506-02", "5058050602"),  # 10 bare digits
        ("12345-6789-1", "12345678901"),  # 5-4-1 stored
        ("12345-6789-1", "12345-6789-01"),
    ],
)
def test_an_entry_s_own_ndc_is_found_without_packages(printed, typed):
    """Entries made by hand (and the demo's) carry their NDC on the entry, no package rows."""
    medication = MedicationFactory(ndc=printed)
    assert medication_for_ndc(typed) == medication


def test_five_three_two_and_four_four_two_spellings_of_the_same_digits_differ():
    """0093-1048-01 and 00931-048-01 share their 10 digits but are different NDCs."""
    four = MedicationFactory(ndc="0093-1048-01")
    five = MedicationFactory(ndc="00931-048-01")
    assert medication_for_ndc("0093-1048-01") == four
    assert medication_for_ndc("00931-048-01") == five
    # Ten bare digits could be either: no guess.
    assert medication_for_ndc("0093104801") is None


@pytest.mark.parametrize(
    "typed", ["", "abc", "0093-1048", "1234", "0093-10480-1", "000931048011", "\x00", "٠٠٩٣"]
)
def test_what_is_not_an_ndc_finds_nothing(packaged, typed):
    assert medication_for_ndc(typed) is None


def test_an_unknown_ndc_finds_nothing(packaged):
    assert medication_for_ndc("0093-1048-99") is None


def test_ndc_candidates_read_every_shape():
    assert ndc_candidates("0093-1048-01") == ("00093104801",)
    assert ndc_candidates("00931-048-01") == ("00931004801",)
    assert ndc_candidates("00931-0480-1") == ("00931048001",)
    assert ndc_candidates("00093104801") == ("00093104801",)
    assert set(ndc_candidates("0093104801")) == {"00093104801", "00931004801", "00931048001"}
