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
