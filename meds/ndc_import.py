"""Loading the FDA's NDC directory (product.txt and package.txt) into the medication catalog.

The FDA publishes the directory as a zip (ndctext.zip) of two tab-delimited files with a header
row, in Windows-1252 (a few names carry ® or ’), about 100,000 products and 200,000 packages.
`ndc_directory_import` reads them a line at a time, maps each row to the catalog's terms in
Python, streams the mapped rows into a temporary table with COPY (memory stays constant), and
then writes the catalog in set-based statements: an upsert keyed on the product NDC (products)
and on the 11-digit package NDC (packages), each changing only rows whose values differ, so a
second run of the same files changes nothing. Everything happens in one transaction: a file
that is not the directory's format stops the import with a message and writes nothing.

What is mapped (the counts name what is skipped and why):
- Products of type HUMAN PRESCRIPTION DRUG and HUMAN OTC DRUG; others (vaccines, allergenics,
  cellular therapy, plasma derivatives) are skipped, and so are rows excluded from the
  directory (NDC_EXCLUDE_FLAG other than N).
- DOSAGEFORMNAME -> Form by its family ("TABLET, FILM COATED" -> tablet; an inhalation aerosol
  or powder -> inhaler; an oral solution -> liquid; an eye or ear solution -> drops); a form
  the catalog has no family for is imported as "other" and counted by name.
- ROUTENAME (one or several, "; "-separated) -> the first route the catalog records;
  a product given only by routes it does not record (intravenous, vaginal, ...) is skipped.
- DEASCHEDULE CII..CV -> schedule II..V; CI (no accepted medical use) is skipped.
- NDCPACKAGECODE (10 digits, dashed 4-4-2, 5-3-2 or 5-4-1) -> the 11-digit NDC.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from core.audit import automatic

from .barcodes import ndc_11
from .models import ControlledSchedule, Form, Route

PRODUCT_COLUMNS = (
    "PRODUCTID",
    "PRODUCTNDC",
    "PRODUCTTYPENAME",
    "PROPRIETARYNAME",
    "PROPRIETARYNAMESUFFIX",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "ROUTENAME",
    "STARTMARKETINGDATE",
    "ENDMARKETINGDATE",
    "MARKETINGCATEGORYNAME",
    "APPLICATIONNUMBER",
    "LABELERNAME",
    "SUBSTANCENAME",
    "ACTIVE_NUMERATOR_STRENGTH",
    "ACTIVE_INGRED_UNIT",
    "PHARM_CLASSES",
    "DEASCHEDULE",
    "NDC_EXCLUDE_FLAG",
    "LISTING_RECORD_CERTIFIED_THROUGH",
)
PACKAGE_COLUMNS = (
    "PRODUCTID",
    "PRODUCTNDC",
    "NDCPACKAGECODE",
    "PACKAGEDESCRIPTION",
    "STARTMARKETINGDATE",
    "ENDMARKETINGDATE",
    "NDC_EXCLUDE_FLAG",
    "SAMPLE_PACKAGE",
)
# The columns the import reads; the others may be absent from older or trimmed files.
PRODUCT_NEEDS = {
    "PRODUCTID",
    "PRODUCTNDC",
    "PRODUCTTYPENAME",
    "PROPRIETARYNAME",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "ROUTENAME",
    "LABELERNAME",
    "ACTIVE_NUMERATOR_STRENGTH",
    "ACTIVE_INGRED_UNIT",
    "DEASCHEDULE",
}
PACKAGE_NEEDS = {"PRODUCTNDC", "NDCPACKAGECODE", "PACKAGEDESCRIPTION"}

PRODUCT_TYPES = {"HUMAN PRESCRIPTION DRUG", "HUMAN OTC DRUG"}
SCHEDULES = {
    "CII": ControlledSchedule.II,
    "CIII": ControlledSchedule.III,
    "CIV": ControlledSchedule.IV,
    "CV": ControlledSchedule.V,
}
ROUTES = {
    "ORAL": Route.ORAL,
    "SUBLINGUAL": Route.SUBLINGUAL,
    "TOPICAL": Route.TOPICAL,
    "CUTANEOUS": Route.TOPICAL,
    "TRANSDERMAL": Route.TRANSDERMAL,
    "SUBCUTANEOUS": Route.SUBCUTANEOUS,
    "INTRAMUSCULAR": Route.INTRAMUSCULAR,
    "RESPIRATORY (INHALATION)": Route.INHALED,
    "ORAL INHALATION": Route.INHALED,
    "OPHTHALMIC": Route.OPHTHALMIC,
    "AURICULAR (OTIC)": Route.OTIC,
    "NASAL": Route.NASAL,
    "RECTAL": Route.RECTAL,
    "ENTERAL": Route.ENTERAL,
    "GASTROSTOMY": Route.ENTERAL,
    "NASOGASTRIC": Route.ENTERAL,
}
# The family of a dosage form, by the words before its first comma ("TABLET, FILM COATED").
FORM_FAMILIES = {
    "TABLET": Form.TABLET,
    "CAPLET": Form.TABLET,
    "PILL": Form.TABLET,
    "LOZENGE": Form.TABLET,
    "TROCHE": Form.TABLET,
    "CAPSULE": Form.CAPSULE,
    "SOLUTION": Form.LIQUID,
    "SUSPENSION": Form.LIQUID,
    "SYRUP": Form.LIQUID,
    "ELIXIR": Form.LIQUID,
    "LIQUID": Form.LIQUID,
    "EMULSION": Form.LIQUID,
    "CONCENTRATE": Form.LIQUID,
    "TINCTURE": Form.LIQUID,
    "MOUTHWASH": Form.LIQUID,
    "FOR SOLUTION": Form.LIQUID,
    "FOR SUSPENSION": Form.LIQUID,
    "PATCH": Form.PATCH,
    "SYSTEM": Form.PATCH,
    "INJECTION": Form.INJECTION,
    "INJECTABLE": Form.INJECTION,
    "INHALANT": Form.INHALER,
    "SOLUTION/ DROPS": Form.DROPS,
    "SUSPENSION/ DROPS": Form.DROPS,
    "DROPS": Form.DROPS,
    "CREAM": Form.CREAM,
    "OINTMENT": Form.CREAM,
    "GEL": Form.CREAM,
    "JELLY": Form.CREAM,
    "LOTION": Form.CREAM,
    "PASTE": Form.CREAM,
    "SUPPOSITORY": Form.SUPPOSITORY,
    "ENEMA": Form.SUPPOSITORY,
    "POWDER": Form.POWDER,
    "GRANULE": Form.POWDER,
    "SPRAY": Form.SPRAY,
    "AEROSOL": Form.SPRAY,
}
INHALED_FORMS = ("AEROSOL", "INHALANT", "POWDER", "SPRAY", "CAPSULE")
# Field lengths of meds.Medication: longer values are cut (never refused: the directory is
# the directory).
LIMITS = {"name": 255, "generic_name": 500, "strength": 255, "form_detail": 120, "labeler": 200}
_NDC_10 = re.compile(r"(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1})")


class DirectoryFileError(Exception):
    """The file is not the NDC directory's product or package file (or is cut short)."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> rows

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + sum(self.skipped.values())

    def lines(self, noun: str) -> list[str]:
        lines = [
            f"{noun}: {self.read} read, {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {sum(self.skipped.values())} skipped"
        ]
        lines += [f"  skipped {count}: {reason}" for reason, count in sorted(self.skipped.items())]
        return lines


@dataclass
class ImportReport:
    products: Counts = field(default_factory=Counts)
    packages: Counts = field(default_factory=Counts)
    other_forms: Counter = field(default_factory=Counter)  # FDA dosage form -> products

    def lines(self) -> list[str]:
        lines = self.products.lines("Products") + self.packages.lines("Packages")
        if self.other_forms:
            named = ", ".join(f"{form} ({n})" for form, n in self.other_forms.most_common())
            lines.append(f"  imported with the form “other” (no family in the catalog): {named}")
        return lines


# --- Mapping one row ---------------------------------------------------------------------------


def form_for(dosage_form: str, routes: list[str]) -> Form | None:
    """The catalog's form for an FDA dosage form name, or None when it has no family."""
    name = dosage_form.strip().upper()
    if Route.INHALED in routes and name.startswith(INHALED_FORMS):
        return Form.INHALER
    if name.startswith(("SOLUTION", "SUSPENSION")) and (
        {Route.OPHTHALMIC, Route.OTIC} & set(routes)
    ):
        return Form.DROPS
    if name in FORM_FAMILIES:
        return FORM_FAMILIES[name]
    family = FORM_FAMILIES.get(name.split(",")[0].strip())
    if family is Form.POWDER and ("FOR SOLUTION" in name or "FOR SUSPENSION" in name):
        return Form.LIQUID if Route.ORAL in routes else Form.INJECTION
    if family is None and name.startswith("FILM") and Route.TRANSDERMAL in routes:
        return Form.PATCH
    return family


def routes_for(route_names: str) -> list[str]:
    """The catalog routes of an FDA ROUTENAME ("INTRAMUSCULAR; INTRAVENOUS"), in its order."""
    routes = []
    for name in route_names.split(";"):
        route = ROUTES.get(name.strip().upper())
        if route is not None and route not in routes:
            routes.append(route)
    return routes


def _number(text: str) -> str:
    text = text.strip()
    return "0" + text if text.startswith(".") else text


def _unit(text: str) -> str:
    """ "mg/1" -> "mg"; "mg/5mL" -> "mg/5 mL"; "ug/h" -> "mcg/h"; "[iU]/mL" -> "units/mL"."""
    text = text.strip()
    text = re.sub(r"\[(iU|USP'U|IU|hp_X|hp_C|arb'U)\]", "units", text)
    text = re.sub(r"\bug\b", "mcg", text)
    numerator, _, denominator = text.partition("/")
    if denominator in ("", "1"):
        return numerator
    if denominator == "d":
        denominator = "day"
    match = re.fullmatch(r"(\d*\.?\d+)\s*(\D.*)", denominator)
    if match:
        denominator = f"{_number(match.group(1))} {match.group(2)}"
    return f"{numerator}/{denominator}"


def strength_for(numbers: str, units: str) -> str:
    """ "300; 30" with "mg/1; mg/1" -> "300 mg / 30 mg" (one part per active ingredient)."""
    numbers_list = [n for n in numbers.split(";") if n.strip()]
    units_list = units.split(";")
    parts = []
    for index, number in enumerate(numbers_list):
        unit = _unit(units_list[index]) if index < len(units_list) else ""
        parts.append(f"{_number(number)} {unit}".strip())
    return " / ".join(parts)


def _cut(value: str, length: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= length else value[: length - 1] + "…"


@dataclass(frozen=True)
class Product:
    product_ndc: str
    fda_product_id: str
    name: str
    generic_name: str
    strength: str
    form: str
    form_detail: str
    default_route: str
    controlled_schedule: str
    labeler: str


def product_from_row(row: dict[str, str]) -> Product | str:
    """A catalog entry from one product.txt row, or the reason it is skipped."""
    kind = row["PRODUCTTYPENAME"].strip().upper()
    if kind not in PRODUCT_TYPES:
        return f"product type {kind or '(empty)'}"
    flag = (row.get("NDC_EXCLUDE_FLAG") or "N").strip().upper()
    if flag not in ("N", ""):
        return f"excluded from the directory (flag {flag})"
    product_ndc = row["PRODUCTNDC"].strip()
    if not re.fullmatch(r"\d{4,5}-\d{3,4}", product_ndc):
        return "product NDC not in labeler-product form"
    routes = routes_for(row["ROUTENAME"])
    if not routes:
        return f"no route the catalog records ({row['ROUTENAME'].strip() or 'none given'})"
    dea = row["DEASCHEDULE"].strip().upper()
    if dea and dea not in SCHEDULES:
        return f"DEA schedule {dea}"
    parts = (row["PROPRIETARYNAME"], row.get("PROPRIETARYNAMESUFFIX", ""))
    name = " ".join(part.strip() for part in parts if part.strip())
    generic = row["NONPROPRIETARYNAME"].strip()
    name = name or generic
    if not name:
        return "no name"
    dosage_form = row["DOSAGEFORMNAME"].strip()
    form = form_for(dosage_form, routes) or Form.OTHER
    return Product(
        product_ndc=product_ndc,
        fda_product_id=row["PRODUCTID"].strip()[:100],
        name=_cut(name, LIMITS["name"]),
        generic_name=_cut(generic, LIMITS["generic_name"]),
        strength=_cut(
            strength_for(row["ACTIVE_NUMERATOR_STRENGTH"], row["ACTIVE_INGRED_UNIT"]),
            LIMITS["strength"],
        ),
        form=form,
        form_detail=_cut(dosage_form.upper(), LIMITS["form_detail"]),
        default_route=routes[0],
        controlled_schedule=SCHEDULES.get(dea, ControlledSchedule.NONE),
        labeler=_cut(row["LABELERNAME"].strip(), LIMITS["labeler"]),
    )


def package_from_row(row: dict[str, str]) -> tuple[str, str, str, str] | str:
    """(product NDC, NDC as printed, 11-digit NDC, description), or the reason it is skipped."""
    flag = (row.get("NDC_EXCLUDE_FLAG") or "N").strip().upper()
    if flag not in ("N", ""):
        return f"excluded from the directory (flag {flag})"
    code = row["NDCPACKAGECODE"].strip()
    if not _NDC_10.fullmatch(code):
        return "package NDC not a 10-digit NDC (4-4-2, 5-3-2 or 5-4-1)"
    return (
        row["PRODUCTNDC"].strip(),
        code,
        ndc_11(code),
        " ".join(row["PACKAGEDESCRIPTION"].split()),
    )


# --- Reading the files -------------------------------------------------------------------------


def _decoded_lines(binary) -> Iterator[str]:
    """Lines of text: UTF-8 where a line is UTF-8, else Windows-1252 (the FDA's encoding)."""
    for raw in binary:
        try:
            yield raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace")


@dataclass
class DirectoryFile:
    kind: str  # "product" or "package"
    label: str  # how messages name it
    opener: object  # () -> binary file object


def _kind_of(header: list[str], label: str) -> str:
    names = {name.strip().upper() for name in header}
    if names >= PRODUCT_NEEDS:
        return "product"
    if names >= PACKAGE_NEEDS:
        return "package"
    raise DirectoryFileError(
        f"{label} is not the NDC directory's product.txt or package.txt: its first line "
        "should name the tab-separated columns (PRODUCTID, PRODUCTNDC, …)."
    )


def _first_line(opener) -> str:
    with opener() as binary:
        raw = binary.readline(1_000_000)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def directory_files(paths: list[Path]) -> list[DirectoryFile]:
    """The product and package files among `paths` (a zip such as ndctext.zip holds both),
    told apart by their header row. DirectoryFileError for anything else."""
    found: list[DirectoryFile] = []
    for path in paths:
        if not path.is_file():
            raise DirectoryFileError(f"{path} does not exist or is not a file.")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
            for name in names:
                opener = _zip_opener(path, name)
                label = f"{path.name}:{name}"
                header = _first_line(opener).rstrip("\r\n").split("\t")
                try:
                    found.append(DirectoryFile(_kind_of(header, label), label, opener))
                except DirectoryFileError:
                    continue  # the zip's other files (the excluded products' lists …)
        else:
            opener = _path_opener(path)
            header = _first_line(opener).rstrip("\r\n").split("\t")
            found.append(DirectoryFile(_kind_of(header, str(path)), str(path), opener))
    kinds = Counter(file.kind for file in found)
    if not found:
        raise DirectoryFileError("No product.txt or package.txt found in what was given.")
    for kind, count in kinds.items():
        if count > 1:
            raise DirectoryFileError(f"Give one {kind} file, not {count}.")
    return sorted(found, key=lambda file: file.kind != "product")  # products first


def _path_opener(path: Path):
    return lambda: open(path, "rb")  # noqa: SIM115 (the caller closes it)


def _zip_opener(path: Path, name: str):
    @contextmanager
    def opener():
        with zipfile.ZipFile(path) as archive, archive.open(name) as member:
            yield io.BufferedReader(member)

    return opener


def _rows(file: DirectoryFile) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by column name), one line at a time. A row with another number of
    fields than the header is a cut or foreign file: DirectoryFileError."""
    with file.opener() as binary:
        reader = csv.reader(
            _decoded_lines(binary), delimiter="\t", quoting=csv.QUOTE_NONE, strict=True
        )
        try:
            header = [name.strip().upper() for name in next(reader)]
        except StopIteration:
            raise DirectoryFileError(f"{file.label} is empty.") from None
        for number, fields in enumerate(reader, start=2):
            if not fields or fields == [""]:
                continue
            if len(fields) != len(header):
                raise DirectoryFileError(
                    f"{file.label}, line {number}: {len(fields)} fields where the header has "
                    f"{len(header)}. The file is cut short or not the FDA's tab-separated "
                    "format; nothing was imported."
                )
            yield number, dict(zip(header, fields, strict=True))


# --- Writing the catalog -----------------------------------------------------------------------

_PRODUCT_FIELDS = [
    "product_ndc",
    "fda_product_id",
    "name",
    "generic_name",
    "strength",
    "form",
    "form_detail",
    "default_route",
    "controlled_schedule",
    "labeler",
]
# What an import may change on an existing entry (the flags a person set stay theirs).
_PRODUCT_UPDATES = [name for name in _PRODUCT_FIELDS if name != "product_ndc"]


def _import_products(cursor, file: DirectoryFile, report: ImportReport) -> None:
    counts = report.products
    # Dropped at commit; dropped first too, for a second import in the same transaction.
    cursor.execute("DROP TABLE IF EXISTS ndc_product_in")
    cursor.execute(
        "CREATE TEMP TABLE ndc_product_in ("
        " line integer, product_ndc text, fda_product_id text, name text, generic_name text,"
        " strength text, form text, form_detail text, default_route text,"
        " controlled_schedule text, labeler text) ON COMMIT DROP"
    )
    columns = ", ".join(["line", *_PRODUCT_FIELDS])
    with cursor.copy(f"COPY ndc_product_in ({columns}) FROM STDIN") as copy:
        for number, row in _rows(file):
            product = product_from_row(row)
            if isinstance(product, str):
                counts.skipped[product] += 1
                continue
            if product.form == Form.OTHER:
                report.other_forms[product.form_detail] += 1
            copy.write_row([number, *(getattr(product, name) for name in _PRODUCT_FIELDS)])
    # The same product NDC twice in one file: the last row stands, the others are counted.
    cursor.execute(
        "DELETE FROM ndc_product_in a USING ndc_product_in b"
        " WHERE a.product_ndc = b.product_ndc AND a.line < b.line"
    )
    if cursor.rowcount:
        counts.skipped["the same product NDC again (the last row is kept)"] += cursor.rowcount
    cursor.execute("SELECT count(*) FROM ndc_product_in")
    staged = cursor.fetchone()[0]
    sets = ", ".join(f"{name} = EXCLUDED.{name}" for name in _PRODUCT_UPDATES)
    old = ", ".join(f"m.{name}" for name in _PRODUCT_UPDATES)
    new = ", ".join(f"EXCLUDED.{name}" for name in _PRODUCT_UPDATES)
    fields = ", ".join(_PRODUCT_FIELDS)
    cursor.execute(
        f"WITH written AS ("
        f" INSERT INTO meds_medication AS m ({fields}, ndc, barcode, is_psychotropic,"
        f"  is_time_critical, high_alert)"
        f" SELECT {fields}, '', '', false, false, '' FROM ndc_product_in"
        f" ON CONFLICT (product_ndc) DO UPDATE SET {sets}"
        f" WHERE ({old}) IS DISTINCT FROM ({new})"
        f" RETURNING (xmax = 0) AS created)"
        f" SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created)"
        f" FROM written"
    )
    created, updated = cursor.fetchone()
    counts.created += created
    counts.updated += updated
    counts.unchanged += staged - created - updated


def _import_packages(cursor, file: DirectoryFile, report: ImportReport) -> None:
    counts = report.packages
    cursor.execute("DROP TABLE IF EXISTS ndc_package_in")
    cursor.execute(
        "CREATE TEMP TABLE ndc_package_in ("
        " line integer, product_ndc text, ndc text, ndc11 text, description text)"
        " ON COMMIT DROP"
    )
    with cursor.copy(
        "COPY ndc_package_in (line, product_ndc, ndc, ndc11, description) FROM STDIN"
    ) as copy:
        for number, row in _rows(file):
            package = package_from_row(row)
            if isinstance(package, str):
                counts.skipped[package] += 1
                continue
            copy.write_row([number, *package])
    cursor.execute(
        "DELETE FROM ndc_package_in a USING ndc_package_in b"
        " WHERE a.ndc11 = b.ndc11 AND a.line < b.line"
    )
    if cursor.rowcount:
        counts.skipped["the same package NDC again (the last row is kept)"] += cursor.rowcount
    cursor.execute(
        "DELETE FROM ndc_package_in p WHERE NOT EXISTS"
        " (SELECT 1 FROM meds_medication m WHERE m.product_ndc = p.product_ndc)"
    )
    if cursor.rowcount:
        counts.skipped["its product is not in the catalog (skipped or not in the file)"] += (
            cursor.rowcount
        )
    cursor.execute("SELECT count(*) FROM ndc_package_in")
    staged = cursor.fetchone()[0]
    cursor.execute(
        "WITH written AS ("
        " INSERT INTO meds_medicationpackage AS k (medication_id, ndc, ndc11, description)"
        " SELECT m.id, p.ndc, p.ndc11, p.description"
        " FROM ndc_package_in p JOIN meds_medication m ON m.product_ndc = p.product_ndc"
        " ON CONFLICT (ndc11) DO UPDATE SET medication_id = EXCLUDED.medication_id,"
        "  ndc = EXCLUDED.ndc, description = EXCLUDED.description"
        " WHERE (k.medication_id, k.ndc, k.description)"
        "  IS DISTINCT FROM (EXCLUDED.medication_id, EXCLUDED.ndc, EXCLUDED.description)"
        " RETURNING (xmax = 0) AS created)"
        " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created)"
        " FROM written"
    )
    created, updated = cursor.fetchone()
    counts.created += created
    counts.updated += updated
    counts.unchanged += staged - created - updated


@transaction.atomic
def ndc_directory_import(*, paths: list[Path]) -> ImportReport:
    """Load the NDC directory's product and package files (or the zip holding them) into the
    catalog and say what happened. Idempotent: the same files again change nothing; a changed
    row updates its entry (never the flags a person set: psychotropic, time-critical,
    high-alert, barcode). Entries and packages absent from the files stay (orders point at
    them). DirectoryFileError, with nothing written, for a file that is not the directory's."""
    files = directory_files(paths)
    report = ImportReport()
    with automatic("NDC directory import"), connection.cursor() as cursor:
        for file in files:
            if file.kind == "product":
                _import_products(cursor, file, report)
            else:
                _import_packages(cursor, file, report)
    return report
