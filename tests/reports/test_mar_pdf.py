"""The monthly MAR as a PDF: one resident or a unit, the paper grid a surveyor reads."""

import gc
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from mar import services
from mar.models import AmendmentKind, DoseState
from meds.models import HoldParameter
from reports.pdf import mar_pdf
from reports.services import unit_mar_residents
from residents.models import AllergyStatus
from tests.factories import (
    AllergyFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    UnitFactory,
    member,
)
from tests.factories import record_dose as _record
from tests.factories import scheduled_dose as _dose
from tests.test_url_access import png_bytes

NY = ZoneInfo("America/New_York")
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (poppler-utils) is not installed: the PDF's text cannot be read",
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def mary(facility):
    return member(
        facility,
        Role.NURSE,
        username="mpoppins",
        first_name="Mary",
        last_name="Poppins",
        title="RN",
    )


def _order(resident, name="Lisinopril", **fields):
    return PrescriptionFactory(resident=resident, medication=MedicationFactory(name=name), **fields)


def _chart(resident, actor, days: int, *, name="Lisinopril") -> None:
    """An order at 08:00 and 20:00 charted as given for `days` days of January 2026."""
    order = _order(resident, name)
    for day in range(1, days + 1):
        for hour in (8, 20):
            _record(actor, _dose(order, datetime(2026, 1, day, hour)))


def _page_count(content: bytes) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=content, capture_output=True, check=True)
        return int(re.search(rb"^Pages:\s+(\d+)", info.stdout, re.M)[1])
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", content))


def _text(content: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()


def _get(client, name, pk, month="2026-01"):
    return client.get(reverse(name, args=[pk]), {"month": month})


def test_resident_pdf_is_an_inline_pdf_named_for_the_resident_and_month(
    nurse_client, resident, mary
):
    _chart(resident, mary, 3)

    response = _get(nurse_client, "resident_mar_pdf", resident.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="MAR-Byron-Ada-2026-01.pdf"'
    assert response.content.startswith(b"%PDF")
    assert _page_count(response.content) >= 1


@needs_pdftotext
def test_resident_pdf_reads_like_the_paper_mar(nurse_client, resident, mary, nurse_user):
    resident.physician_name = "Dr. Rebecca Hayes"
    resident.pharmacy = "Main Street Pharmacy"
    resident.code_status = "dnr"
    resident.allergy_status = AllergyStatus.RECORDED
    resident.save()
    AllergyFactory(resident=resident, recorded_by=nurse_user, substance="Sulfa")
    _chart(resident, mary, 2)
    metoprolol = _order(resident, "Metoprolol", instructions="Take with food")
    HoldParameter.objects.create(
        prescription=metoprolol, vital="pulse", comparator="lt", threshold=60
    )
    _record(mary, _dose(metoprolol, datetime(2026, 1, 5, 8)), vitals={"pulse": "52"})
    late = _dose(metoprolol, datetime(2026, 1, 6, 8))
    _record(mary, late, vitals={"pulse": "72"}, after=timedelta(minutes=90), late_reason="Out")
    wrong = _record(mary, _dose(metoprolol, datetime(2026, 1, 7, 8)), vitals={"pulse": "70"})
    services.amendment_create(
        actor=mary,
        administration=wrong,
        kind=AmendmentKind.ENTERED_IN_ERROR,
        reason="Wrong resident",
        changes={},
    )
    _dose(metoprolol, datetime(2026, 1, 8, 8), state=DoseState.MISSED)
    prn = _order(
        resident, "Acetaminophen", is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    services.prn_give(
        actor=mary,
        prescription=prn,
        idempotency_key=uuid.uuid4(),
        prn_reason="Knee pain",
        now=datetime(2026, 1, 9, 15, tzinfo=UTC),
    )

    text = _text(_get(nurse_client, "resident_mar_pdf", resident.pk).content)

    assert "Byron, Ada" in text
    assert "January 2026" in text
    assert "1940-05-17" in text  # date of birth, in the one date style
    assert "Sulfa" in text
    assert "Dr. Rebecca Hayes" in text
    assert "Main Street Pharmacy" in text
    assert "DNR" in text
    assert "Take with food" in text
    assert "Hold if Pulse below 60 /min" in text
    assert re.search(r"Pulse <60.*52.*72", text)  # the readings under the dose row
    assert re.search(r"\bMP\b", text)  # the recorder's initials in the grid
    assert "late" in text
    assert "in error" in text  # the mark in the cell ("in error" over its number)
    assert re.search(r"1\s+Metoprolol.*Entered in error\s+Wrong resident", text)
    assert "MISSED" in text
    assert "Knee pain" in text  # the PRN section
    assert "Legend: codes" in text
    assert "Refused: not given" in text
    assert "Legend: initials and signatures" in text
    assert re.search(r"MP\s+Mary Poppins\s+RN", text)
    assert "Page 1 of" in text


@needs_pdftotext
def test_allergies_not_recorded_and_no_photo_print_a_warning_and_initials(nurse_client, resident):
    text = _text(_get(nurse_client, "resident_mar_pdf", resident.pk).content)

    assert "NOT RECORDED" in text
    assert "AB" in text  # the photo placeholder: Ada Byron's initials


@needs_pdftotext
def test_every_prn_order_of_the_month_has_its_row_given_or_not(nurse_client, resident, mary):
    given = _order(
        resident, "Acetaminophen", is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    _order(
        resident,
        "Ondansetron",
        is_prn=True,
        times=[],
        prn_min_hours=8,
        prn_max_per_24h=3,
        indication="Nausea",
    )
    _order(
        resident,
        "Loperamide",
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
        start_date=datetime(2026, 2, 1).date(),
    )
    services.prn_give(
        actor=mary,
        prescription=given,
        idempotency_key=uuid.uuid4(),
        prn_reason="Knee pain",
        now=datetime(2026, 1, 9, 15, tzinfo=UTC),
    )

    text = _text(_get(nurse_client, "resident_mar_pdf", resident.pk).content)

    assert "PRN (as needed) orders" in text
    assert re.search(r"Acetaminophen[^\n]*\n[^\n]*PRN\s+MP", text)  # initials on the 9th
    assert "Ondansetron" in text  # never given this month: its row is there, its cells empty
    assert "For: Nausea" in text
    assert "Loperamide" not in text  # starts next month


@needs_pdftotext
def test_the_signature_block_lists_everyone_whose_initials_appear(
    nurse_client, facility, resident, mary
):
    tom = member(
        facility, Role.NURSE, username="tthumb", first_name="Tom", last_name="Thumb", title="LPN"
    )
    member(facility, Role.NURSE, username="idle", first_name="Ida", last_name="Idle", title="RN")
    order = _order(resident)
    _record(mary, _dose(order, datetime(2026, 1, 3, 8)))
    _record(tom, _dose(order, datetime(2026, 1, 3, 20)))

    text = _text(_get(nurse_client, "resident_mar_pdf", resident.pk).content)

    assert re.search(r"Initials\s+Name\s+Title\s+Signature", text)
    assert re.search(r"MP\s+Mary Poppins\s+RN", text)
    assert re.search(r"TT\s+Tom Thumb\s+LPN", text)
    assert "Ida Idle" not in text  # recorded nothing on this MAR


def test_the_photo_is_embedded(nurse_client, resident):
    resident.photo.save("face.png", ContentFile(png_bytes((60, 80))), save=True)

    content = _get(nurse_client, "resident_mar_pdf", resident.pk).content

    assert b"/Subtype /Image" in content


def test_a_missing_photo_file_prints_the_placeholder_instead_of_failing(nurse_client, resident):
    resident.photo.save("face.png", ContentFile(png_bytes()), save=True)
    resident.photo.storage.delete(resident.photo.name)

    response = _get(nurse_client, "resident_mar_pdf", resident.pk)

    assert response.status_code == 200
    assert b"/Subtype /Image" not in response.content


def test_one_resident_per_section_each_on_new_pages(facility, unit, resident):
    others = [ResidentFactory(facility=facility, unit=unit) for _ in range(2)]

    one = mar_pdf(residents=[resident], year=2026, month=1)
    three = mar_pdf(residents=[resident, *others], year=2026, month=1)

    assert _page_count(one) == 1
    assert _page_count(three) == 3


def test_a_units_build_leaves_the_garbage_collector_as_it_found_it(facility, unit, resident):
    others = [ResidentFactory(facility=facility, unit=unit) for _ in range(2)]
    before = (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled())

    mar_pdf(residents=[resident, *others], year=2026, month=1)

    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


def test_another_facilitys_resident_is_404(outsider_client, resident):
    assert _get(outsider_client, "resident_mar_pdf", resident.pk).status_code == 404


@pytest.mark.parametrize("month", ["", "2026-13", "January", "99999-01", "1999-12", "2026-1x"])
def test_a_bad_month_prints_this_month(nurse_client, resident, month):
    response = _get(nurse_client, "resident_mar_pdf", resident.pk, month)

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    this_month = datetime.now(NY).strftime("%Y-%m")
    assert f"-{this_month}.pdf" in response["Content-Disposition"]


def test_the_month_page_links_to_its_pdf(nurse_client, resident):
    response = nurse_client.get(
        reverse("resident_mar_month", args=[resident.pk]), {"month": "2026-01"}
    )

    assert f"{reverse('resident_mar_pdf', args=[resident.pk])}?month=2026-01" in (
        response.content.decode()
    )


def test_the_pdf_reads_the_same_number_of_queries_for_few_or_many_doses(
    nurse_client, facility, resident, mary
):
    quiet = ResidentFactory(facility=facility, unit=resident.unit)
    _chart(quiet, mary, 1, name="Amlodipine")
    _chart(resident, mary, 8)
    _chart(resident, mary, 8, name="Metformin")
    held = _order(resident, "Metoprolol")
    HoldParameter.objects.create(prescription=held, vital="pulse", comparator="lt", threshold=60)
    for day in range(1, 6):
        _record(mary, _dose(held, datetime(2026, 1, day, 8)), vitals={"pulse": "72"})
    HoldParameter.objects.create(
        prescription=quiet.orders.get(), vital="systolic_bp", comparator="lt", threshold=100
    )

    counts = []
    for someone in (quiet, resident):
        with CaptureQueriesContext(connection) as captured:
            assert _get(nurse_client, "resident_mar_pdf", someone.pk).status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1], counts


def _a_charted_month(facility, unit, actor, catalog):
    """A resident with every kind of row the PDF reads: allergy, orders and doses, a hold
    parameter and its readings, an amendment, a PRN dose and its follow-up."""
    someone = ResidentFactory(facility=facility, unit=unit, allergy_status=AllergyStatus.RECORDED)
    AllergyFactory(resident=someone, recorded_by=actor, substance="Sulfa")
    daily = PrescriptionFactory(resident=someone, medication=catalog["Lisinopril"])
    for day in (1, 2):
        for hour in (8, 20):
            _record(actor, _dose(daily, datetime(2026, 1, day, hour)))
    held = PrescriptionFactory(resident=someone, medication=catalog["Metoprolol"])
    HoldParameter.objects.create(prescription=held, vital="pulse", comparator="lt", threshold=60)
    _record(actor, _dose(held, datetime(2026, 1, 3, 8)), vitals={"pulse": "72"})
    wrong = _record(actor, _dose(held, datetime(2026, 1, 4, 8)), vitals={"pulse": "70"})
    services.amendment_create(
        actor=actor,
        administration=wrong,
        kind=AmendmentKind.ENTERED_IN_ERROR,
        reason="Wrong resident",
        changes={},
    )
    _dose(held, datetime(2026, 1, 5, 8), state=DoseState.MISSED)
    prn = PrescriptionFactory(
        resident=someone,
        medication=catalog["Acetaminophen"],
        is_prn=True,
        times=[],
        prn_min_hours=4,
        prn_max_per_24h=4,
    )
    given = services.prn_give(
        actor=actor,
        prescription=prn,
        idempotency_key=uuid.uuid4(),
        prn_reason="Knee pain",
        now=datetime(2026, 1, 9, 15, tzinfo=UTC),
    ).administration
    services.prn_followup_record(
        actor=actor,
        administration=given,
        result="effective",
        now=given.administered_at + timedelta(hours=1),
    )
    return someone


def test_a_units_pdf_reads_the_same_number_of_queries_for_2_or_5_residents(facility, unit, mary):
    names = ("Lisinopril", "Metoprolol", "Acetaminophen")
    catalog = {name: MedicationFactory(name=name) for name in names}
    small, large = unit, UnitFactory(facility=facility, name="South Wing")
    for _ in range(2):
        _a_charted_month(facility, small, mary, catalog)
    for _ in range(5):
        _a_charted_month(facility, large, mary, catalog)

    counts, pages = [], []
    for chosen in (small, large):
        with CaptureQueriesContext(connection) as captured:
            # What the worker's job builds (reports.services.mar_pdf_job_run), without its row.
            residents = unit_mar_residents(facility=facility, unit=chosen, year=2026, month=1)
            content = mar_pdf(residents=residents, year=2026, month=1)
        counts.append(len(captured))
        pages.append(_page_count(content))

    assert counts[0] == counts[1], counts
    assert pages[0] >= 2 and pages[1] >= 5  # each resident's section on pages of its own
