"""meds.barcodes: what scanners send, read as the 11-digit NDC. Pure: no database."""

from datetime import date

import pytest

from meds.barcodes import (
    GS,
    Kind,
    Scan,
    check_digit,
    gs1_date,
    matches_medication,
    ndc_readings,
    parse_scan,
    same_product,
    upc_a,
)

TODAY = date(2026, 6, 10)

# Metformin 500 mg, NDC 0093-1048-01 (4-4-2) = 00093-1048-01; its UPC-A and GTIN-14.
METFORMIN_UPC = "300931048011"
METFORMIN_GTIN = "00300931048011"
METFORMIN_READINGS = ("00093104801", "00931004801", "00931048001")
# Lisinopril 10 mg, NDC 68180-513-01 (5-3-2) = 68180-0513-01.
LISINOPRIL_UPC = "368180513018"
# Furosemide 20 mg, NDC 0054-4297-25.
FUROSEMIDE_UPC = "300544297257"


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("03600029145", "2"),  # the textbook UPC-A 036000291452
        ("400638133393", "1"),  # the textbook EAN-13 4006381333931
        ("30093104801", "1"),
        ("36818051301", "8"),
        ("0030093104801", "1"),  # the same package as a GTIN-14: leading zeros change nothing
    ],
)
def test_check_digit_is_gs1_mod_10(digits, check):
    assert check_digit(digits) == check


@pytest.mark.parametrize(
    ("ndc", "barcode"),
    [
        ("0093-1048-01", METFORMIN_UPC),
        ("68180-513-01", LISINOPRIL_UPC),
        ("0054-4297-25", FUROSEMIDE_UPC),
        ("12345-6789-1", "312345678913"),  # 5-4-1
    ],
)
def test_upc_a_is_3_the_ten_digits_and_the_check_digit(ndc, barcode):
    assert upc_a(ndc) == barcode
    assert parse_scan(barcode, TODAY).ndc10 == ndc.replace("-", "")


def test_an_eleven_digit_ndc_has_no_upc_a():
    with pytest.raises(ValueError, match="10-digit NDC"):
        upc_a("68180-0513-01")


def test_ten_digits_read_three_ways():
    assert ndc_readings("0093104801") == METFORMIN_READINGS


@pytest.mark.parametrize(
    ("text", "kind", "ndcs"),
    [
        # UPC-A, as a scanner sends it: bare, as EAN-13, with the symbology identifier, with Enter
        (METFORMIN_UPC, Kind.UPC_A, METFORMIN_READINGS),
        ("0" + METFORMIN_UPC, Kind.UPC_A, METFORMIN_READINGS),
        ("]E00" + METFORMIN_UPC, Kind.UPC_A, METFORMIN_READINGS),
        (METFORMIN_UPC + "\r\n", Kind.UPC_A, METFORMIN_READINGS),
        (LISINOPRIL_UPC, Kind.UPC_A, ("06818051301", "68180051301", "68180513001")),
        # a bare GTIN-14, and one of a case (indicator 5, its own check digit)
        (METFORMIN_GTIN, Kind.GTIN, METFORMIN_READINGS),
        ("50300931048016", Kind.GTIN, METFORMIN_READINGS),
        # NDCs typed in every printed shape, and the billing form
        ("0093-1048-01", Kind.NDC, ("00093104801",)),  # 4-4-2
        ("68180-513-01", Kind.NDC, ("68180051301",)),  # 5-3-2
        ("12345-6789-1", Kind.NDC, ("12345678901",)),  # 5-4-1
        ("00093-1048-01", Kind.NDC, ("00093104801",)),  # 5-4-2
        ("00093104801", Kind.NDC, ("00093104801",)),  # 5-4-2 without dashes
        (" 0093 1048 01 ", Kind.NDC, ("00093104801",)),
        ("0093104801", Kind.NDC, METFORMIN_READINGS),  # ten bare digits: every reading
    ],
)
def test_packages_read_as_their_ndc(text, kind, ndcs):
    scan = parse_scan(text, TODAY)
    assert scan.errors == ()
    assert (scan.kind, scan.ndcs) == (kind, ndcs)


@pytest.mark.parametrize(
    "text",
    [
        # GS1 DataMatrix with its identifier, FNC1 after the variable-length lot
        f"]d201{METFORMIN_GTIN}1727033110AB1234{GS}21SN0001",
        # no identifier (the scanner strips it), FNC1 first, AIs in another order
        f"{GS}01{METFORMIN_GTIN}21SN0001{GS}10AB1234{GS}17270331",
        f"17270331{GS}10AB1234{GS}01{METFORMIN_GTIN}21SN0001",
        # GS1-128 and GS1 QR identifiers
        f"]C101{METFORMIN_GTIN}1727033110AB1234{GS}21SN0001",
        f"]Q301{METFORMIN_GTIN}1727033121SN0001{GS}10AB1234",
        # the human-readable line under the symbol
        f"(01){METFORMIN_GTIN}(17)270331(10)AB1234(21)SN0001",
        f"(01) {METFORMIN_GTIN} (17) 270331 (10) AB1234 (21) SN0001",
        # trailing FNC1 and a scanner's Enter
        f"]d201{METFORMIN_GTIN}1727033110AB1234{GS}21SN0001{GS}\r",
    ],
)
def test_gs1_data_matrix_gives_ndc_expiry_lot_and_serial(text):
    scan = parse_scan(text, TODAY)
    assert scan == Scan(
        kind=Kind.GS1,
        ndcs=METFORMIN_READINGS,
        ndc10="0093104801",
        gtin=METFORMIN_GTIN,
        expiry=date(2027, 3, 31),
        lot="AB1234",
        serial="SN0001",
    )


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("270331", date(2027, 3, 31)),
        ("270300", date(2027, 3, 31)),  # day 00: the end of the month
        ("280200", date(2028, 2, 29)),  # ... of a leap February
        ("270200", date(2027, 2, 28)),
        ("751231", date(2075, 12, 31)),  # 49 years ahead: still this century
        ("770101", date(1977, 1, 1)),  # 51 ahead: the last century
        ("270230", None),
        ("271301", None),
        ("270001", None),
        ("2703", None),
    ],
)
def test_gs1_dates(yymmdd, expected):
    assert gs1_date(yymmdd, TODAY) == expected


def test_gs1_century_window_turns_near_the_end_of_a_century():
    assert gs1_date("010101", date(2099, 6, 1)) == date(2101, 1, 1)


@pytest.mark.parametrize(
    ("expiry", "expired"),
    [("260609", True), ("260610", False), ("260600", False), ("260500", True)],
)
def test_a_package_is_expired_after_its_expiry_date(expiry, expired):
    scan = parse_scan(f"]d201{METFORMIN_GTIN}17{expiry}10LOT7", TODAY)
    assert scan.errors == ()
    assert scan.expired is expired


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("300931048012", "wrong check digit"),  # UPC-A, last digit misread
        ("00300931048012", "wrong check digit"),  # GTIN-14
        ("]d2010030093104801217270331", "wrong check digit"),
        ("036000291452", "carries no NDC"),  # a valid UPC-A of a grocery item
        (f"]d201{METFORMIN_GTIN}17270231", "is not a date"),
        (f"]d201{METFORMIN_GTIN}1727033", "must be 6 digits"),
        (f"]d201{METFORMIN_GTIN}10{'L' * 21}", "at most 20"),
        # a lost FNC1: the lot swallows the serial and grows too long
        (f"]d201{METFORMIN_GTIN}10AB123456789021SN00011234", "was a separator lost"),
        ("]d21727033110AB12", "no GTIN (01)"),
        (f"]d201{METFORMIN_GTIN}99", "is empty"),
        (f"]d201{METFORMIN_GTIN}99{'x' * 91}", "at most 90"),
        (f"]d201{METFORMIN_GTIN}8888x", "does not know"),
        (f"]d201{METFORMIN_GTIN}10AB 12", "cannot carry"),
        (f"]d201{METFORMIN_GTIN}10AB\x0012", "cannot carry"),
        (f"]d201{METFORMIN_GTIN}10AB{GS}10CD", "appears twice"),
        (f"(01){METFORMIN_GTIN}17270331", "must be 14 digits"),
        (f"(01){METFORMIN_GTIN}(17", "is not a GS1 code"),
        (f"(01){METFORMIN_GTIN}(10)AB12\x07", "cannot carry"),
        ("0093-10481-01", "is not an NDC"),
        ("0093-1048-012", "is not an NDC"),
        ("30093104801\x00", "control characters (ASCII 0)"),
        ("0093\x1b1048-01", "control characters (ASCII 27)"),
        (f"3009310{GS}48011", "does not know"),  # FNC1 in a UPC: read as GS1, and refused
        ("3" * 201, "too long"),
        (f"]d201{METFORMIN_GTIN}10{'A' * 500}", "too long"),
    ],
)
def test_what_cannot_be_read_is_said_in_words(text, error):
    scan = parse_scan(text, TODAY)
    assert scan.ndcs == ()
    assert len(scan.errors) == 1 and error in scan.errors[0], scan.errors


@pytest.mark.parametrize("text", ["", "999999", "WB-000123", "hello world", "]d1ABC", "(abc)"])
def test_other_text_is_no_medication_code_and_no_error(text):
    assert parse_scan(text, TODAY) == Scan(kind=Kind.OTHER)


@pytest.mark.parametrize(
    ("scanned", "stored_ndc", "stored_barcode", "matches"),
    [
        (METFORMIN_UPC, "0093-1048-01", "", True),
        (METFORMIN_UPC, "00093-1048-01", "", True),  # stored in the billing form
        (LISINOPRIL_UPC, "68180-0513-01", "", True),
        (LISINOPRIL_UPC, "68180-513-01", "", True),
        (METFORMIN_UPC, "0093-1048-10", "", False),  # another package size
        (FUROSEMIDE_UPC, "0093-1048-01", "", False),
        ("0093104801", "0093-1048-01", "", True),  # ten bare digits, resolved by the dashes
        ("00093104801", "", METFORMIN_UPC, True),  # billing form against the stored barcode
        ("0093-1048-01", "", METFORMIN_UPC, True),
        (f"]d201{METFORMIN_GTIN}17270331", "", METFORMIN_UPC, True),
        ("0093104801", "", METFORMIN_UPC, True),  # ten digits against ten digits
        ("0093104810", "", METFORMIN_UPC, False),
        ("INHOUSE-42", "", "INHOUSE-42", True),  # an in-house label: exactly as stored
        ("inhouse-42", "", "INHOUSE-42", False),
        ("300931048012", "0093-1048-01", "", False),  # bad check digit never matches
        ("", "", "", False),
    ],
)
def test_a_scan_matches_a_catalog_entry_by_its_ndc_or_barcode(
    scanned, stored_ndc, stored_barcode, matches
):
    scan = parse_scan(scanned, TODAY)
    assert (
        matches_medication(scan, text=scanned, ndc=stored_ndc, barcode=stored_barcode, today=TODAY)
        is matches
    )


def test_same_product_is_symmetric():
    a, b = parse_scan(METFORMIN_UPC, TODAY), parse_scan("0093-1048-01", TODAY)
    assert same_product(a, b) and same_product(b, a)
    assert not same_product(a, parse_scan("300931048012", TODAY))


def test_ten_digit_ambiguity_is_resolved_only_by_the_stored_dashes():
    # 00931-048-01 (5-3-2) and 0093-1048-01 (4-4-2) are one string of ten digits; the FDA keeps
    # them unique, so a scan of those digits is both readings until a stored NDC picks one.
    scan = parse_scan(METFORMIN_UPC, TODAY)
    assert "00931004801" in scan.ndcs and "00093104801" in scan.ndcs
