"""The demo catalog's packages are real-looking: each barcode scans as its medication's NDC."""

from datetime import date

import pytest

from demo.catalog import MEDICATIONS
from meds.barcodes import Kind, matches_medication, ndc_11, parse_scan
from meds.services import ndc_normalise

TODAY = date(2026, 6, 10)


@pytest.mark.parametrize(
    ("name", "strength", "ndc", "barcode"), [(m[0], m[2], m[8], m[9]) for m in MEDICATIONS]
)
def test_every_demo_barcode_is_a_upc_a_of_its_ndc(name, strength, ndc, barcode):
    assert ndc_normalise(ndc) == ndc  # stored as the catalog page would store it
    scan = parse_scan(barcode, TODAY)
    assert scan.errors == () and scan.kind == Kind.UPC_A
    assert scan.ndc10 == ndc.replace("-", "")  # the ten digits printed on the package
    assert ndc_11(ndc) in scan.ndcs
    assert matches_medication(scan, text=barcode, ndc=ndc, barcode="", today=TODAY)


def test_no_two_demo_packages_scan_alike():
    barcodes = [m[9] for m in MEDICATIONS]
    assert len(set(barcodes)) == len(barcodes)
    for medication in MEDICATIONS:
        scan = parse_scan(medication[9], TODAY)
        others = [m for m in MEDICATIONS if m is not medication]
        assert not any(
            matches_medication(scan, text=medication[9], ndc=m[8], barcode=m[9], today=TODAY)
            for m in others
        )


@pytest.mark.django_db
def test_the_demo_catalog_seeds_beside_an_imported_directory():
    """`import_ndc` first (the same product from many labelers), the demo's catalog after:
    the demo makes its own entries and finds each by its NDC, as without the directory."""
    import io
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    from demo.build import add_medications
    from meds.models import Medication
    from meds.selectors import medication_for_ndc
    from tests.factories import MedicationFactory

    data = Path(settings.BASE_DIR) / "tests" / "data" / "ndc"
    call_command("import_ndc", str(data / "product.txt"), stdout=io.StringIO())
    # A directory entry with a demo entry's very name, strength and form.
    first = MEDICATIONS[0]
    MedicationFactory(name=first[0], strength=first[2], form=first[3], product_ndc="99999-999")
    add_medications()
    add_medications()  # idempotent, as the seed is
    own = Medication.objects.filter(product_ndc__isnull=True)
    assert own.count() == len(MEDICATIONS)
    for name, _generic, strength, form, *_rest, ndc, _barcode in MEDICATIONS:
        assert medication_for_ndc(ndc) == own.get(name=name, strength=strength, form=form)
