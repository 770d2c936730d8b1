"""The scan field on the resident's med pass: what real scanners send selects the right dose."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from mar import services
from mar.models import Administration, ScheduledDose
from tests.factories import MedicationFactory, PrescriptionFactory

# The med pass pages' clock (08:05 on 10 June in New York) and certified med tech.
from tests.mar.test_pass_views import NOW, _aide_certified, _clock  # noqa: F401  (autouse fixtures)

GS = "\x1d"
# Metformin 500 mg: NDC 0093-1048-01 as stored (4-4-2); the package's UPC-A and GTIN-14.
UPC = "300931048011"
GTIN = "00300931048011"


def _open_dose(resident, **medication) -> ScheduledDose:
    """The 08:00 dose (open now) of a new order for this medication."""
    order = PrescriptionFactory(resident=resident, medication=MedicationFactory(**medication))
    services.doses_generate(now=NOW - timedelta(hours=5))
    return ScheduledDose.objects.get(
        prescription=order, due_at=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    )


@pytest.fixture
def dose(resident):
    return _open_dose(resident, name="Metformin", strength="500 mg", ndc="0093-1048-01")


@pytest.fixture
def other_dose(resident):
    """Another open dose of the same resident, so a match must pick the right one."""
    return _open_dose(resident, name="Lisinopril", strength="10 mg", ndc="68180-513-01")


def _scan(client, resident, code, **extra):
    return client.post(reverse("scan"), {"code": code, "resident": resident.pk}, **extra)


def _selected(resident, dose, lot=""):
    query = f"dose={dose.pk}" + (f"&lot={lot}" if lot else "")
    return f"{reverse('resident_pass', args=[resident.pk])}?{query}#dose-{dose.pk}"


@pytest.mark.parametrize(
    "code",
    [
        UPC,  # UPC-A, as the linear barcode reads
        "0" + UPC,  # the same as EAN-13
        UPC + "\r\n",  # with the scanner's Enter
        "0093-1048-01",  # typed as printed (4-4-2)
        "00093-1048-01",  # the 11-digit billing form
        "00093104801",
        "0093104801",  # ten bare digits, resolved by the stored dashes
        f"]d201{GTIN}17270331",  # GS1 DataMatrix without lot
    ],
)
def test_a_scan_of_the_right_package_selects_its_dose(
    medtech_client, resident, dose, other_dose, code
):
    response = _scan(medtech_client, resident, code)
    assert response.url == _selected(resident, dose)


def test_other_ndc_shapes_select_their_dose(medtech_client, resident, dose, other_dose):
    for code in ("68180-513-01", "68180-0513-01", "368180513018"):  # 5-3-2, 5-4-2, UPC-A
        assert _scan(medtech_client, resident, code).url == _selected(resident, other_dose)


@pytest.mark.parametrize(
    "code",
    [
        f"]d201{GTIN}1727033110AB1234{GS}21SN0001",  # with the DataMatrix identifier
        f"01{GTIN}21SN0001{GS}10AB1234{GS}17270300",  # without, in another order, day 00
        f"(01){GTIN}(17)270331(10)AB1234(21)SN0001",  # the human-readable line
    ],
)
def test_gs1_data_matrix_selects_the_dose_and_carries_the_lot(medtech_client, resident, dose, code):
    response = _scan(medtech_client, resident, code, follow=True)
    assert response.redirect_chain[0][0] == _selected(resident, dose, lot="AB1234")
    page = response.content.decode()
    assert "Matched: Metformin 500 mg tablet" in page
    assert "lot AB1234, expires 2027-03-31" in page
    assert '<input type="hidden" name="lot" value="AB1234">' in page


def test_an_expired_package_is_refused_with_its_date(medtech_client, resident, dose):
    response = _scan(medtech_client, resident, f"]d201{GTIN}1726060910AB1234", follow=True)
    page = response.content.decode()
    assert "EXPIRED: this package of Metformin 500 mg tablet expired on 2026-06-09." in page
    assert "Do not give it" in page
    assert response.redirect_chain[-1][0] == f"{reverse('resident_pass', args=[resident.pk])}#open"
    assert 'name="lot"' not in page


@pytest.mark.parametrize("expiry", ["260610", "260600"])  # today; day 00 = 30 June
def test_a_package_is_in_date_through_its_expiry_day(medtech_client, resident, dose, expiry):
    response = _scan(medtech_client, resident, f"]d201{GTIN}17{expiry}")
    assert response.url == _selected(resident, dose)


def test_expiry_is_judged_on_the_facilitys_day(medtech_client, facility, resident, dose):
    # 12:05 UTC on 10 June is already 00:05 on 11 June in Auckland: a package that expired on
    # the 10th is refused there, though the UTC date is still the 10th.
    facility.timezone = "Pacific/Auckland"
    facility.save()
    response = _scan(medtech_client, resident, f"]d201{GTIN}17260610", follow=True)
    assert "expired on 2026-06-10" in response.content.decode()


@pytest.mark.parametrize(
    "code",
    [
        "0093-1048-10",  # another package size of the same drug
        "300931048103",  # its UPC-A (check digit right)
        "]d2010030093104810317270331",  # its GS1
        "999999",
    ],
)
def test_a_wrong_package_stops_with_the_wrong_medication_message(
    medtech_client, resident, dose, code
):
    response = _scan(medtech_client, resident, code, follow=True)
    assert "WRONG MEDICATION OR WRONG RESIDENT" in response.content.decode()
    assert "?dose=" not in response.redirect_chain[-1][0]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("300931048012", "wrong check digit"),
        (f"]d201{GTIN}17270231", "is not a date"),
        ("3009310480\x0011", "control characters"),
        ("3" * 5000, "too long"),
    ],
)
def test_a_scan_that_cannot_be_read_says_why(medtech_client, resident, dose, code, message):
    response = _scan(medtech_client, resident, code, follow=True)
    page = response.content.decode()
    assert "Could not read" in page and message in page
    assert "?dose=" not in response.redirect_chain[-1][0]


def test_the_wristband_still_opens_the_resident(medtech_client, resident, dose):
    response = _scan(medtech_client, resident, resident.wristband_code)
    assert response.url == reverse("resident_pass", args=[resident.pk])


def test_the_scanned_lot_ends_on_the_administration_and_the_mar(
    medtech_client, nurse_client, resident, dose
):
    page = _scan(medtech_client, resident, f"]d201{GTIN}1727033110AB1234", follow=True)
    assert page.status_code == 200
    key = str(uuid.uuid4())
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": key, "status": "given", "lot": "AB1234"},
        follow=True,
    )
    assert "Given: Metformin 500 mg tablet" in response.content.decode()
    administration = Administration.objects.get(dose=dose)
    assert administration.lot == "AB1234"
    mar = nurse_client.get(reverse("resident_mar_day", args=[resident.pk]), {"date": "2026-06-10"})
    assert "Lot: AB1234" in mar.content.decode()


def test_a_lot_is_kept_only_with_a_given_dose(medtech_client, resident, dose):
    medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": str(uuid.uuid4()), "status": "refused", "reason": "Spat it out", "lot": "AB1234"},
    )
    assert Administration.objects.get(dose=dose).lot == ""


def test_a_lot_that_is_no_lot_is_refused_beside_the_dose(medtech_client, resident, dose):
    response = medtech_client.post(
        reverse("dose_record", args=[dose.pk]),
        {"key": str(uuid.uuid4()), "status": "given", "lot": "AB 12"},
        follow=True,
    )
    # POST/redirect/GET: the message is on the dose's card.
    assert response.redirect_chain[-1][0].endswith(f"#dose-{dose.pk}")
    page = response.content.decode()
    card = page[page.index(f'id="dose-{dose.pk}"') :]
    assert "is not a lot number" in card[: card.index("</article>")]
    assert not Administration.objects.exists()
