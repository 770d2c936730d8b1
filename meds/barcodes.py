"""What a scanner (or a med tech) types into the med pass scan field, read as an NDC.

A pure module: no ORM, no clock (the caller passes the facility's today). Everything compares in
one canonical form, the 11-digit NDC (5-4-2, the billing form), in digits only.

What is read:
- UPC-A, the linear barcode on US packages: "3" + the 10-digit NDC + a check digit (12 digits;
  13 with the EAN-13 leading "0"; the symbology identifier "]E0" may precede it).
- GTIN-14 (bare, 14 digits): indicator + "03" + the 10-digit NDC + a check digit.
- GS1 element strings (DataMatrix, GS1-128, GS1 QR): AI (01) GTIN-14, (17) expiry YYMMDD,
  (10) lot, (21) serial, in any order, with FNC1 (ASCII 29, "\\x1d") after a variable-length
  field, with or without the symbology identifier "]d2", "]C1", "]Q3" ("]e0", "]J1"), and the
  human-readable form "(01)...(17)...(10)...".
- An NDC typed with dashes (or spaces) in 4-4-2, 5-3-2, 5-4-1 or 5-4-2 form, or 11 bare digits
  (5-4-2).

The 10-digit ambiguity: a barcode carries the NDC's 10 digits without its dashes, so
"0093104801" could be 0093-1048-01 (4-4-2), 00931-048-01 (5-3-2) or 00931-0480-1 (5-4-1). The FDA
keeps 10-digit NDCs unique without their dashes, so the scan keeps every reading (`Scan.ndcs`, up
to three 11-digit forms) and the comparison decides: a stored dashed NDC has exactly one 11-digit
form, and it matches when it is one of the readings; two 10-digit codes match only when their
digits are equal. Ten bare digits typed by hand are read the same way.

GS1 expiry: the century follows the GS1 sliding window around today (a year up to 49 ahead is
this century, 50 or more behind the next); day "00" means the last day of that month. A package
is expired after its expiry date (the date itself is still in date).
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

GS = "\x1d"  # FNC1 as a scanner transmits it between GS1 fields
MAX_LENGTH = 200  # far above any pharmacy barcode; longer text is refused unread

# An NDC's three segments as printed on packages: labeler-product-package.
NDC_SHAPES = ((4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2))

# Symbology identifiers (ISO/IEC 15424) a scanner may put first.
GS1_PREFIXES = {"]d2", "]C1", "]Q3", "]e0", "]J1"}  # GS1 DataMatrix, GS1-128, GS1 QR, ...
UPC_PREFIXES = {"]E0", "]E3", "]X0"}  # EAN/UPC
_PREFIX = re.compile(r"\][A-Za-z][0-9A-Za-z]")


class Kind(StrEnum):
    UPC_A = "upc_a"
    GTIN = "gtin"
    GS1 = "gs1"
    NDC = "ndc"
    OTHER = "other"  # not a medication code (a wristband, an in-house label, a typo)


@dataclass(frozen=True)
class Scan:
    """One scan, read. `ndcs` holds the 11-digit readings (one, or up to three from 10 digits);
    `errors` say in words why the scan could not be read (then nothing else is to be trusted)."""

    kind: str
    ndcs: tuple[str, ...] = ()
    ndc10: str = ""  # the 10 digits a barcode (or a dashless typed NDC) carried
    gtin: str = ""
    expiry: datetime.date | None = None
    lot: str = ""
    serial: str = ""
    expired: bool = False
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# --- The NDC forms ---------------------------------------------------------------------------


def ndc_11(ndc: str) -> str:
    """A dashed NDC (labeler-product-package) as the 11 digits that compare equal."""
    labeler, product, package = ndc.split("-")
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def ndc_readings(ten: str) -> tuple[str, ...]:
    """The 11-digit forms 10 dashless NDC digits can stand for: 4-4-2, 5-3-2, 5-4-1."""
    return (
        "0" + ten,  # 4-4-2: the labeler padded
        ten[:5] + "0" + ten[5:],  # 5-3-2: the product padded
        ten[:9] + "0" + ten[9:],  # 5-4-1: the package padded
    )


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a GTIN's digits without it (GTIN-8/12/13/14 alike)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def upc_a(ndc: str) -> str:
    """The UPC-A a package with this 10-digit dashed NDC carries ("3" + digits + check digit).

    An 11-digit (5-4-2) NDC cannot say which zero a barcode leaves out: ValueError."""
    shape = tuple(len(s) for s in ndc.split("-"))
    if shape not in NDC_SHAPES[:3] or not ndc.replace("-", "").isdigit():
        raise ValueError(f"{ndc!r} is not a 10-digit NDC in 4-4-2, 5-3-2 or 5-4-1 form")
    body = "3" + ndc.replace("-", "")
    return body + check_digit(body)


def same_product(a: Scan, b: Scan) -> bool:
    """Whether two readings name the same NDC (see the module docstring for the 10 digits)."""
    if not (a.ok and b.ok and a.ndcs and b.ndcs):
        return False
    if a.ndc10 and b.ndc10:
        return a.ndc10 == b.ndc10
    return (len(a.ndcs) == 1 and a.ndcs[0] in b.ndcs) or (len(b.ndcs) == 1 and b.ndcs[0] in a.ndcs)


def matches_medication(
    scan: Scan, *, text: str, ndc: str, barcode: str, today: datetime.date
) -> bool:
    """Whether the scan of `text` is this catalog entry: its stored barcode exactly as scanned,
    or the same NDC as its stored NDC or its stored barcode."""
    if barcode and text == barcode:
        return True
    return any(same_product(scan, parse_scan(stored, today)) for stored in (ndc, barcode) if stored)


# --- Reading a scan --------------------------------------------------------------------------


def parse_scan(text: str, today: datetime.date) -> Scan:
    """Read what was scanned or typed. `today` is the facility's local date (for the GS1 century
    and for `expired`). Never raises: what cannot be read is said in `errors`."""
    if len(text) > MAX_LENGTH:
        return _error(Kind.OTHER, f"The scan is too long ({len(text)} characters) to be a barcode.")
    text = text.strip(" \t\r\n")  # a scanner's suffix (Enter, Tab), a typist's spaces
    prefix = text[:3] if _PREFIX.match(text) else ""
    body = text[len(prefix) :]
    if prefix in GS1_PREFIXES or re.match(r"\(\d{2,4}\)", body):
        return _gs1(body, today)
    controls = sorted({f"ASCII {ord(c)}" for c in body if _is_control(c) and c != GS})
    if controls:
        return _error(
            Kind.OTHER, f"The scan contains control characters ({', '.join(controls)}); scan again."
        )
    # A GS1 string whose scanner sent no identifier: FNC1 inside, or the GTIN first.
    if GS in body or re.fullmatch(r"01\d{14}.*", body):
        return _gs1(body, today)
    if re.fullmatch(r"\d+", body):
        return _digits(body, upc=prefix in UPC_PREFIXES)
    if re.fullmatch(r"\d+([ -]+\d+)+", body):
        return _typed_ndc(body)
    return Scan(kind=Kind.OTHER)


def _is_control(char: str) -> bool:
    return ord(char) < 32 or 127 <= ord(char) < 160


def _error(kind: str, *errors: str) -> Scan:
    return Scan(kind=kind, errors=errors)


def _typed_ndc(text: str) -> Scan:
    segments = re.split(r"[ -]+", text)
    if tuple(len(s) for s in segments) not in NDC_SHAPES:
        return _error(
            Kind.NDC,
            f"“{text}” is not an NDC: type it as printed on the package, in 4-4-2, 5-3-2, 5-4-1 "
            "or 5-4-2 form (e.g. 0093-1048-01).",
        )
    return Scan(kind=Kind.NDC, ndcs=(ndc_11("-".join(segments)),))


def _digits(digits: str, *, upc: bool) -> Scan:
    """Bare digits: a typed NDC (10 or 11), a UPC-A (12, or 13 as EAN-13), a GTIN-14."""
    if len(digits) == 10 and not upc:
        return Scan(kind=Kind.NDC, ndcs=ndc_readings(digits), ndc10=digits)
    if len(digits) == 11 and not upc:
        return Scan(kind=Kind.NDC, ndcs=(digits,))
    if len(digits) in (12, 13, 14):
        return _gtin(digits)
    return Scan(kind=Kind.OTHER)


def _gtin(digits: str) -> Scan:
    """A UPC-A (12), EAN-13 (13) or GTIN-14 carrying an NDC: check digit, then "3" + 10 digits."""
    kind = Kind.UPC_A if len(digits) in (12, 13) else Kind.GTIN
    if digits[-1] != check_digit(digits[:-1]):
        return _error(
            kind, f"The barcode {digits} does not add up (wrong check digit); scan again."
        )
    rest = digits.rjust(14, "0")[1:]  # GTIN-14 without its indicator digit: "03" + NDC + check
    if not rest.startswith("03"):
        return _error(kind, f"The barcode {digits} carries no NDC (it does not start with 3).")
    ten = rest[2:12]
    return Scan(kind=kind, ndcs=ndc_readings(ten), ndc10=ten, gtin=digits.rjust(14, "0"))


# --- GS1 element strings ---------------------------------------------------------------------

# Application identifiers: fixed data length, or (None, longest) for variable length. AIs not
# listed cannot be stepped over in a string without parentheses, so such a scan is refused.
_AI: dict[str, tuple[int | None, int]] = {
    "00": (18, 18),
    "01": (14, 14),
    "02": (14, 14),
    "10": (None, 20),
    "11": (6, 6),
    "12": (6, 6),
    "13": (6, 6),
    "15": (6, 6),
    "16": (6, 6),
    "17": (6, 6),
    "20": (2, 2),
    "21": (None, 20),
    "22": (None, 20),
    "30": (None, 8),
    "37": (None, 8),
    "240": (None, 30),
    "241": (None, 30),
    "250": (None, 30),
    "251": (None, 30),
    "400": (None, 30),
    "7003": (10, 10),
    **{f"71{n}": (None, 20) for n in range(8)},  # national healthcare reimbursement numbers
    **{f"9{n}": (None, 90) for n in range(10)},  # company internal
}
_NAMES = {"01": "GTIN", "17": "expiry", "10": "lot", "21": "serial"}
# GS1's 82-character set (ISO 646 subset) for alphanumeric fields such as lot and serial.
_GS1_TEXT = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")


def is_lot(text: str) -> bool:
    """Whether `text` can be a lot number (GS1 AI 10: 1 to 20 characters of GS1's set)."""
    return len(text) <= _AI["10"][1] and bool(_GS1_TEXT.fullmatch(text))


def _gs1(text: str, today: datetime.date) -> Scan:
    if text.startswith("("):
        fields, errors = _split_bracketed(text)
    else:
        fields, errors = _split_element_string(text.strip(GS))
    if errors:
        return _error(Kind.GS1, *errors)
    return _gs1_read(fields, today)


def _split_bracketed(text: str) -> tuple[dict[str, str], list[str]]:
    """The human-readable form: (01)00300931048019(17)270331(10)AB123 (spaces allowed)."""
    pairs = re.findall(r"\((\d{2,4})\)\s*([^()\s]*)\s*", text)
    if "".join(f"({ai}){value}" for ai, value in pairs) != re.sub(r"\s", "", text):
        return {}, [f"“{text}” is not a GS1 code: write it as (01)…(17)…(10)…"]
    return _collect(pairs)


def _split_element_string(text: str) -> tuple[dict[str, str], list[str]]:
    """AI + value, one after another; a variable-length value ends at FNC1 (or the end)."""
    pairs, position = [], 0
    while position < len(text):
        if text[position] == GS:  # also tolerated after a fixed-length field
            position += 1
            continue
        ai = next(
            (
                text[position : position + n]
                for n in (2, 3, 4)
                if text[position : position + n] in _AI
            ),
            None,
        )
        if ai is None:
            return {}, [
                f"The GS1 code has an application identifier this page does not know at "
                f"“{text[position : position + 4]}…”; type the NDC from the package instead."
            ]
        fixed, longest = _AI[ai]
        start = position + len(ai)
        end = start + fixed if fixed else _find(text, GS, start)
        pairs.append((ai, text[start:end]))
        position = end
    return _collect(pairs)


def _find(text: str, char: str, start: int) -> int:
    found = text.find(char, start)
    return len(text) if found < 0 else found


def _collect(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    fields: dict[str, str] = {}
    errors = []
    for ai, value in pairs:
        fixed, longest = _AI.get(ai, (None, 90))
        name = f"({ai}) {_NAMES[ai]}" if ai in _NAMES else f"({ai})"
        if fixed and (len(value) != fixed or not value.isdigit()):
            errors.append(f"The GS1 field {name} must be {fixed} digits, not “{value}”.")
        elif not value:
            errors.append(f"The GS1 field {name} is empty.")
        elif not fixed and len(value) > longest:
            errors.append(
                f"The GS1 field {name} is {len(value)} characters long (at most {longest}): "
                "was a separator lost? Scan again."
            )
        elif not fixed and not _GS1_TEXT.fullmatch(value):
            errors.append(f"The GS1 field {name} has characters a barcode cannot carry.")
        elif fields.get(ai, value) != value:
            errors.append(f"The GS1 field {name} appears twice with different values.")
        fields[ai] = value
    return fields, errors


def _gs1_read(fields: dict[str, str], today: datetime.date) -> Scan:
    if "01" not in fields:
        return _error(Kind.GS1, "The GS1 code has no GTIN (01), so no NDC; type the NDC instead.")
    package = _gtin(fields["01"])
    if not package.ok:
        return _error(Kind.GS1, *package.errors)
    expiry = None
    if "17" in fields:
        expiry = gs1_date(fields["17"], today)
        if expiry is None:
            return _error(Kind.GS1, f"The expiry (17) “{fields['17']}” is not a date.")
    return Scan(
        kind=Kind.GS1,
        ndcs=package.ndcs,
        ndc10=package.ndc10,
        gtin=package.gtin,
        expiry=expiry,
        lot=fields.get("10", ""),
        serial=fields.get("21", ""),
        expired=expiry is not None and expiry < today,
    )


def gs1_date(yymmdd: str, today: datetime.date) -> datetime.date | None:
    """A GS1 date (YYMMDD) or None. The century is the one that puts the year within 49 years
    ahead or 50 behind `today` (GS1 General Specifications 7.12); day 00 is the month's last."""
    if not re.fullmatch(r"\d{6}", yymmdd):
        return None
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    century = today.year - today.year % 100
    difference = yy - today.year % 100
    if difference >= 51:
        century -= 100
    elif difference <= -50:
        century += 100
    if not 1 <= month <= 12:
        return None
    last = calendar.monthrange(century + yy, month)[1]
    if day > last:
        return None
    return datetime.date(century + yy, month, day or last)
