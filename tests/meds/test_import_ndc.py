"""manage.py import_ndc against the extract of the FDA NDC directory in tests/data/ndc/."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from meds.models import Medication, MedicationEvent, MedicationPackage, dose_unit_for
from meds.selectors import medication_for_ndc
from tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db

DATA = Path(settings.BASE_DIR) / "tests" / "data" / "ndc"
PRODUCTS = DATA / "product.txt"
PACKAGES = DATA / "package.txt"


def _import(*paths) -> str:
    out = io.StringIO()
    call_command("import_ndc", *[str(path) for path in paths], stdout=out)
    return out.getvalue()


def _edited(tmp_path, source: Path, product_ndc: str, column: str, value: str) -> Path:
    """A copy of `source` with one column of one product's row changed."""
    lines = source.read_text().splitlines()
    header = lines[0].split("\t")
    index = header.index(column)
    for number, line in enumerate(lines[1:], start=1):
        fields = line.split("\t")
        if fields[1] == product_ndc:
            fields[index] = value
            lines[number] = "\t".join(fields)
    target = tmp_path / source.name
    target.write_text("\n".join(lines) + "\n")
    return target


def test_the_extract_loads_products_and_packages_with_counts():
    output = _import(PRODUCTS, PACKAGES)
    assert "Products: 23 read, 22 created, 0 updated, 0 unchanged, 1 skipped" in output
    assert "skipped 1: no route the catalog records (PARENTERAL)" in output
    assert "Packages: 20 read, 20 created, 0 updated, 0 unchanged, 0 skipped" in output
    assert Medication.objects.count() == 22
    assert MedicationPackage.objects.count() == 20


def test_a_second_run_changes_nothing():
    _import(PRODUCTS, PACKAGES)
    events = MedicationEvent.objects.count()
    snapshot = list(Medication.objects.order_by("pk").values())
    output = _import(PACKAGES, PRODUCTS)  # either order: products are read first
    assert "Products: 23 read, 0 created, 0 updated, 22 unchanged, 1 skipped" in output
    assert "Packages: 20 read, 0 created, 0 updated, 20 unchanged, 0 skipped" in output
    assert list(Medication.objects.order_by("pk").values()) == snapshot
    assert MedicationEvent.objects.count() == events  # no update reached the audit trail


def test_a_changed_row_updates_its_entry_and_keeps_the_flags_a_person_set(tmp_path):
    _import(PRODUCTS, PACKAGES)
    oxycontin = Medication.objects.get(product_ndc="10544-591")
    oxycontin.high_alert = "opioid"
    oxycontin.is_time_critical = True
    oxycontin.save()
    changed = _edited(tmp_path, PRODUCTS, "10544-591", "ACTIVE_NUMERATOR_STRENGTH", "20")
    output = _import(changed, PACKAGES)
    assert "Products: 23 read, 0 created, 1 updated, 21 unchanged, 1 skipped" in output
    oxycontin.refresh_from_db()
    assert oxycontin.strength == "20 mg"
    assert (oxycontin.high_alert, oxycontin.is_time_critical) == ("opioid", True)
    assert Medication.objects.filter(product_ndc="10544-591").count() == 1


def test_ten_digit_package_codes_become_eleven_digits():
    _import(PRODUCTS, PACKAGES)
    by_printed = dict(MedicationPackage.objects.values_list("ndc", "ndc11"))
    assert by_printed["0378-4642-26"] == "00378464226"  # 4-4-2: the labeler padded
    assert by_printed["65162-149-08"] == "65162014908"  # 5-3-2: the product padded
    assert by_printed["68968-6650-8"] == "68968665008"  # 5-4-1: the package padded
    patch = MedicationPackage.objects.get(ndc="0378-4642-26")
    assert patch.medication.product_ndc == "0378-4642"
    assert patch.description.startswith("8 POUCH in 1 CARTON (0378-4642-26)")


@pytest.mark.parametrize("typed", ["0378-4642-26", "00378-4642-26", "00378464226"])
def test_imported_packages_are_found_by_any_printed_ndc(typed):
    _import(PRODUCTS, PACKAGES)
    assert medication_for_ndc(typed) == Medication.objects.get(product_ndc="0378-4642")


def test_schedules_forms_routes_and_strengths_are_mapped():
    _import(PRODUCTS, PACKAGES)
    catalog = {m.product_ndc: m for m in Medication.objects.all()}
    oxycontin, tylenol = catalog["10544-591"], catalog["50458-513"]
    assert (oxycontin.controlled_schedule, tylenol.controlled_schedule) == ("II", "III")
    assert oxycontin.form_detail == "TABLET, FILM COATED, EXTENDED RELEASE"
    assert oxycontin.labeler == "Blenheim Pharmacal, Inc."
    assert tylenol.strength == "300 mg / 30 mg"  # one part per active ingredient
    assert tylenol.generic_name == "ACETAMINOPHEN AND CODEINE PHOSPHATE"
    claritin, evamist = catalog["11523-7197"], catalog["0574-2067"]
    assert (claritin.form, claritin.strength, dose_unit_for(claritin.form)) == (
        "liquid",
        "5 mg/5 mL",
        "mL",
    )
    assert (evamist.form, evamist.default_route) == ("spray", "transdermal")
    minivelle = catalog["68968-6650"]  # FILM, EXTENDED RELEASE on the skin: a patch
    assert (minivelle.form, minivelle.strength, dose_unit_for(minivelle.form)) == (
        "patch",
        "0.05 mg/day",
        "patch",
    )
    assert catalog["50419-455"].strength == "14 mcg/day"
    assert catalog["0002-0152"].form == "injection"
    assert catalog["0002-0152"].default_route == "subcutaneous"
    assert catalog["68025-065"].form == "cream"


def test_schedule_one_and_other_product_types_are_skipped_with_their_reason(tmp_path):
    changed = _edited(tmp_path, PRODUCTS, "10544-591", "DEASCHEDULE", "CI")
    changed = _edited(tmp_path, changed, "0573-0150", "PRODUCTTYPENAME", "VACCINE")
    output = _import(changed)
    assert "skipped 1: DEA schedule CI" in output
    assert "skipped 1: product type VACCINE" in output
    assert not Medication.objects.filter(product_ndc__in=["10544-591", "0573-0150"]).exists()


def test_packages_of_skipped_products_are_counted(tmp_path):
    changed = _edited(tmp_path, PRODUCTS, "0555-0886", "ROUTENAME", "INTRAVENOUS")
    output = _import(changed, PACKAGES)
    assert "skipped 1: no route the catalog records (INTRAVENOUS)" in output
    assert "skipped 2: its product is not in the catalog" in output
    assert not MedicationPackage.objects.filter(ndc__startswith="0555-0886").exists()


def test_an_unknown_dosage_form_is_imported_as_other_and_named(tmp_path):
    changed = _edited(tmp_path, PRODUCTS, "0573-0150", "DOSAGEFORMNAME", "KIT")
    output = _import(changed)
    assert "imported with the form “other” (no family in the catalog): KIT (1)" in output
    advil = Medication.objects.get(product_ndc="0573-0150")
    assert (advil.form, dose_unit_for(advil.form)) == ("other", "dose")


def test_a_cut_file_is_refused_and_nothing_is_written(tmp_path):
    _import(PRODUCTS)
    before = list(Medication.objects.order_by("pk").values())
    cut = tmp_path / "package.txt"
    lines = PACKAGES.read_text().splitlines()
    cut.write_text("\n".join([*lines[:5], lines[5][:30]]) + "\n")  # the last row cut short
    changed = _edited(tmp_path, PRODUCTS, "10544-591", "ACTIVE_NUMERATOR_STRENGTH", "40")
    with pytest.raises(CommandError, match=r"line 6: \d+ fields where the header has 8"):
        _import(changed, cut)
    # The products file was fine and came first: its change was rolled back with the rest.
    assert list(Medication.objects.order_by("pk").values()) == before
    assert not MedicationPackage.objects.exists()


@pytest.mark.parametrize(
    "content", ["name,strength\nAspirin,81 mg\n", "", "PRODUCTID\tPRODUCTNDC\n1\t2\n"]
)
def test_a_file_that_is_not_the_directory_is_refused(tmp_path, content):
    foreign = tmp_path / "drugs.csv"
    foreign.write_text(content)
    with pytest.raises(CommandError, match="not the NDC directory's product.txt or package"):
        _import(foreign)
    assert not Medication.objects.exists()


def test_a_missing_file_is_refused():
    with pytest.raises(CommandError, match="does not exist"):
        _import("/nonexistent/product.txt")


def test_the_fda_zip_is_read_and_windows_1252_names_decoded(tmp_path):
    text = PRODUCTS.read_text().replace("Blenheim Pharmacal, Inc.", "Blenheim’s Pharmacal")
    archive = tmp_path / "ndctext.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("product.txt", text.encode("cp1252"))
        zipped.writestr("package.txt", PACKAGES.read_bytes())
        zipped.writestr("readme.txt", b"not a directory file")
    output = _import(archive)
    assert "Products: 23 read, 22 created" in output
    assert "Packages: 20 read, 20 created" in output
    assert Medication.objects.get(product_ndc="10544-591").labeler == "Blenheim’s Pharmacal"


def test_the_same_product_twice_keeps_the_last_row(tmp_path):
    lines = PRODUCTS.read_text().splitlines()
    oxycontin = next(line for line in lines if "\t10544-591\t" in line)
    doubled = tmp_path / "product.txt"
    doubled.write_text("\n".join([*lines, oxycontin.replace("\t10\tmg/1", "\t15\tmg/1")]) + "\n")
    output = _import(doubled)
    assert "skipped 1: the same product NDC again (the last row is kept)" in output
    assert Medication.objects.get(product_ndc="10544-591").strength == "15 mg"


def test_entries_made_by_hand_live_beside_the_directory():
    """A hand-made "Estradiol 1 mg tablet" and the directory's are different entries."""
    mine = MedicationFactory(name="Estradiol", strength="1 mg", form="tablet", ndc="0555-0886-02")
    _import(PRODUCTS, PACKAGES)
    assert Medication.objects.filter(name="Estradiol", strength="1 mg", form="tablet").count() == 2
    mine.refresh_from_db()
    assert mine.product_ndc is None
    # The package NDC now belongs to the directory's entry; the hand-made one keeps its own.
    assert medication_for_ndc("0555-0886-02").product_ndc == "0555-0886"


def test_an_inhaler_is_an_inhaler(tmp_path):
    """No real inhaler row was found for the extract (tests/data/ndc/README.md): this is the
    Claritin row with its form and route edited to an inhalation aerosol's, for the mapping."""
    changed = _edited(tmp_path, PRODUCTS, "11523-7197", "DOSAGEFORMNAME", "AEROSOL, METERED")
    changed = _edited(tmp_path, changed, "11523-7197", "ROUTENAME", "RESPIRATORY (INHALATION)")
    _import(changed)
    inhaler = Medication.objects.get(product_ndc="11523-7197")
    assert (inhaler.form, inhaler.default_route, inhaler.dose_unit) == (
        "inhaler",
        "inhaled",
        "puff",
    )
