"""HL7 v2 as the pharmacy interface reads and writes it (python-hl7). No ORM, no clock.

Read: a frame's bytes are decoded (MSH-18's character set: UTF-8 unless it names ASCII or
ISO 8859-1), parsed, and checked: the header (MSH-3/4 sender, MSH-9 type, MSH-10 control id),
then the content of the two messages we take, RDE^O11 (an order) and RDS^O13 (a dispense). What
is wrong is a `Refusal` with the ACK code (AR: not a message we take; AE: one we take, with a
field missing or wrong) and the reason that goes back in MSA-3 and ERR.

Written: the ACK (MSH, MSA, and ERR when refused), and the refill request (RDE^O25).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import hl7
from hl7.exceptions import HL7Exception

SEGMENT_END = "\r"
VERSION = "2.5.1"
# HL7 table 0357, the error codes an ERR-3 names.
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNKNOWN_KEY = "204"
APPLICATION_ERROR = "207"
SEGMENT_SEQUENCE_ERROR = "100"

# The messages we take: (MSH-9.1, MSH-9.2).
ORDER = ("RDE", "O11")
DISPENSE = ("RDS", "O13")
TAKEN = {ORDER, DISPENSE}

# HL7 table 0162 (route of administration) -> meds.Route.
ROUTES = {
    "PO": "oral",
    "OR": "oral",
    "SL": "sublingual",
    "TOP": "topical",
    "TP": "topical",
    "TD": "transdermal",
    "SC": "subcutaneous",
    "SQ": "subcutaneous",
    "IM": "intramuscular",
    "IH": "inhaled",
    "INH": "inhaled",
    "NEB": "inhaled",
    "OP": "ophthalmic",
    "OT": "otic",
    "NS": "nasal",
    "NAS": "nasal",
    "PR": "rectal",
    "GT": "enteral",
    "NG": "enteral",
    "PEG": "enteral",
}
# Repeat patterns (TQ1-3) -> dose times when TQ1-4 names none.
PATTERN_TIMES = {
    "QD": ["09:00"],
    "DAILY": ["09:00"],
    "QAM": ["08:00"],
    "QPM": ["17:00"],
    "QHS": ["21:00"],
    "HS": ["21:00"],
    "BID": ["08:00", "20:00"],
    "TID": ["08:00", "14:00", "20:00"],
    "QID": ["08:00", "12:00", "16:00", "20:00"],
}
_EVERY_HOURS = re.compile(r"^Q(\d{1,2})H$")


class Refusal(Exception):  # noqa: N818 - it is what the ACK says, not a failure of ours
    """The message is answered AR or AE with this reason (MSA-3, ERR-8) and error code (ERR-3)."""

    def __init__(self, code: str, reason: str, error: str = APPLICATION_ERROR):
        super().__init__(reason)
        self.code = code
        self.reason = reason[:300]
        self.error = error


@dataclass
class Header:
    """What MSH says, read as far as it could be (an AR still echoes what was there)."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""  # "RDE^O11"
    control_id: str = ""
    processing_id: str = "P"
    version: str = VERSION
    separators: str = "|^~\\&"


# --- decoding ------------------------------------------------------------------------------


def charset(raw: bytes) -> str:
    """MSH-18 read from the raw bytes (ASCII-safe: the header is ASCII in every charset we take)."""
    first = raw.split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3:4])
    return fields[17].decode("ascii", "replace").strip().upper() if len(fields) > 17 else ""


def python_encoding(declared: str) -> str | None:
    """The codec for an MSH-18 value; None for a character set we do not take."""
    declared = declared.replace("_", " ").strip().upper()
    if declared in ("", "UNICODE UTF-8", "UTF-8", "UTF8"):
        return "utf-8"
    if declared == "ASCII":
        return "ascii"
    if declared in ("8859/1", "ISO-8859-1", "ISO IR100"):
        return "latin-1"
    return None


def decode(raw: bytes) -> str:
    """The frame as text, in the character set MSH-18 declares. Raises Refusal (AR)."""
    declared = charset(raw)
    encoding = python_encoding(declared)
    if encoding is None:
        raise Refusal(
            "AR", f"Character set {declared!r} (MSH-18) is not supported.", DATA_TYPE_ERROR
        )
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        name = declared or "UTF-8 (MSH-18 empty)"
        raise Refusal(
            "AR",
            f"The message is not valid {name}: byte 0x{raw[error.start]:02X} at position "
            f"{error.start}. Send it in the character set MSH-18 declares.",
            DATA_TYPE_ERROR,
        ) from None
    if "\x00" in text:
        raise Refusal("AR", "The message contains a NUL character.", DATA_TYPE_ERROR)
    return text


def normalise_segments(text: str) -> str:
    """Segments end with CR; senders that use LF or CR LF are read the same way."""
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r") + "\r"


# --- reading -------------------------------------------------------------------------------


def value(segment, field_num: int, component: int = 1, repeat: int = 1) -> str:
    """One component of a segment's field, unescaped; "" where the message has nothing."""
    try:
        found = segment.extract_field(
            field_num=field_num, repeat_num=repeat, component_num=component
        )
    except (IndexError, KeyError, TypeError, AttributeError):
        return ""
    return str(found).strip()


def repetitions(segment, field_num: int) -> int:
    try:
        found = segment(field_num)
    except (IndexError, KeyError, TypeError):
        return 0
    return len(found) if isinstance(found, hl7.Field) and str(found) else 0


def parse(text: str):
    """python-hl7's Message, or Refusal (AR) when the text is not an HL7 v2 message."""
    text = normalise_segments(text)
    if not text.startswith("MSH") or len(text) < 9:
        raise Refusal(
            "AR", "The message does not begin with an MSH segment.", SEGMENT_SEQUENCE_ERROR
        )
    try:
        message = hl7.parse(text)
        message.segment("MSH")
    except (HL7Exception, IndexError, KeyError, ValueError) as error:
        raise Refusal(
            "AR", f"The message could not be parsed: {error}", SEGMENT_SEQUENCE_ERROR
        ) from None
    return message


def header(message) -> Header:
    msh = message.segment("MSH")
    kind = value(msh, 9, 1)
    event = value(msh, 9, 2)
    return Header(
        sending_application=value(msh, 3),
        sending_facility=value(msh, 4),
        receiving_application=value(msh, 5),
        receiving_facility=value(msh, 6),
        message_type=f"{kind}^{event}" if event else kind,
        control_id=value(msh, 10),
        processing_id=value(msh, 11) or "P",
        version=value(msh, 12) or VERSION,
        separators=str(msh[1]) + str(msh[2]),
    )


def header_from_raw(raw: bytes) -> Header:
    """The header read from the bytes alone (for a frame that does not decode or parse)."""
    first = raw.split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 8:
        return Header()
    parts = first.decode("ascii", "replace").split(first[3:4].decode("ascii", "replace"))
    components = parts[1][0] if len(parts) > 1 and parts[1] else "^"

    def at(n: int) -> str:
        return parts[n - 1].split(components)[0].strip()[:180] if len(parts) >= n else ""

    kind = parts[8].split(components) if len(parts) > 8 else []
    return Header(
        sending_application=at(3),
        sending_facility=at(4),
        receiving_application=at(5),
        receiving_facility=at(6),
        message_type="^".join(kind[:2])[:40],
        control_id=parts[9].strip()[:199] if len(parts) > 9 else "",
    )


def check_header(found: Header) -> None:
    """What every message we take must have. Raises Refusal."""
    if not found.sending_application and not found.sending_facility:
        raise Refusal("AR", "MSH-3 / MSH-4 (the sender) are empty.", REQUIRED_FIELD_MISSING)
    if not found.control_id:
        raise Refusal("AR", "MSH-10 (message control id) is empty.", REQUIRED_FIELD_MISSING)
    if len(found.control_id) > 199:
        raise Refusal("AR", "MSH-10 (message control id) is too long.", DATA_TYPE_ERROR)
    kind = tuple(found.message_type.split("^")[:2])
    if kind[:1] not in {("RDE",), ("RDS",)}:
        raise Refusal(
            "AR",
            f"Message type {found.message_type or '(empty)'} is not taken here: only RDE^O11 "
            "and RDS^O13.",
            UNSUPPORTED_MESSAGE_TYPE,
        )
    if kind not in TAKEN:
        raise Refusal(
            "AR",
            f"Trigger event {found.message_type} is not taken here: only RDE^O11 and RDS^O13.",
            UNSUPPORTED_EVENT,
        )
    if found.processing_id[:1] not in ("P", "T", "D"):
        raise Refusal("AR", f"Processing id {found.processing_id!r} (MSH-11) is unknown.")


@dataclass
class Patient:
    pharmacy_id: str
    family_name: str = ""
    given_name: str = ""
    birth_date: datetime.date | None = None

    @property
    def name(self) -> str:
        return ", ".join(part for part in (self.family_name, self.given_name) if part)


@dataclass
class OrderGroup:
    """One ORC with its timing (TQ1), the drug (RXE or RXD) and the route (RXR)."""

    control: str  # ORC-1
    placer_number: str = ""
    filler_number: str = ""
    prescriber: str = ""
    ndc: str = ""
    drug_text: str = ""
    dose_amount: Decimal | None = None
    dose_unit: str = ""
    route: str = ""
    times: list[str] = field(default_factory=list)
    is_prn: bool = False
    prn_min_hours: Decimal | None = None
    prn_max_per_24h: int | None = None
    instructions: str = ""
    indication: str = ""
    start_date: datetime.date | None = None
    stop_date: datetime.date | None = None
    # A dispense (RXD)
    quantity: Decimal | None = None
    lot: str = ""
    expiry: datetime.date | None = None
    rx_number: str = ""

    @property
    def order_number(self) -> str:
        return self.filler_number or self.placer_number


@dataclass
class Content:
    kind: tuple[str, str]
    patient: Patient
    groups: list[OrderGroup]


def hl7_date(text: str) -> datetime.date | None:
    """A DTM / DT's date (YYYYMMDD[HHMM...]); None when empty. Raises ValueError when wrong."""
    digits = text.strip()[:8]
    if not digits:
        return None
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError(text)
    return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def ndc_digits(text: str) -> str:
    """An NDC sent in RXE-2 / RXD-2 as its 11 digits ("" when it is not 11 digits once dashes are
    dropped: a 10-digit NDC without dashes cannot be read one way)."""
    text = text.strip()
    parts = [p for p in re.split(r"[-\s]", text) if p]
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        widths = tuple(len(p) for p in parts)
        if widths in ((4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)):
            return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)
    digits = "".join(parts)
    return digits if len(digits) == 11 and digits.isdigit() else ""


def _decimal(text: str, what: str) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Refusal("AE", f"{what} is not a number: {text!r}.", DATA_TYPE_ERROR) from None
    if not number.is_finite() or number <= 0 or number > 100000:
        raise Refusal("AE", f"{what} must be a positive number: {text!r}.", DATA_TYPE_ERROR)
    return number


def _date(text: str, what: str) -> datetime.date | None:
    try:
        return hl7_date(text)
    except ValueError:
        raise Refusal(
            "AE", f"{what} is not a date (YYYYMMDD): {text!r}.", DATA_TYPE_ERROR
        ) from None


def _time(text: str) -> str:
    digits = text.strip()[:4]
    if len(digits) != 4 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        raise Refusal("AE", f"TQ1-4 time {text!r} is not HHMM.", DATA_TYPE_ERROR)
    return f"{digits[:2]}:{digits[2:]}"


def _prescriber(orc) -> str:
    family, given, prefix = value(orc, 12, 2), value(orc, 12, 3), value(orc, 12, 6)
    words = " ".join(part for part in (prefix, given, family) if part)
    return words or value(orc, 12, 1)


def _patient(message) -> Patient:
    try:
        pid = message.segment("PID")
    except KeyError:
        raise Refusal("AE", "The PID segment is missing.", SEGMENT_SEQUENCE_ERROR) from None
    pharmacy_id = value(pid, 3, 1)
    if not pharmacy_id:
        raise Refusal("AE", "PID-3 (the patient's identifier) is empty.", REQUIRED_FIELD_MISSING)
    if len(pharmacy_id) > 60:
        raise Refusal("AE", "PID-3 (the patient's identifier) is too long.", DATA_TYPE_ERROR)
    return Patient(
        pharmacy_id=pharmacy_id,
        family_name=value(pid, 5, 1)[:80],
        given_name=value(pid, 5, 2)[:80],
        birth_date=_date(value(pid, 7), "PID-7 (date of birth)"),
    )


def _timing(group: OrderGroup, tq1) -> None:
    pattern = value(tq1, 3).upper()
    times = [_time(value(tq1, 4, repeat=r)) for r in range(1, repetitions(tq1, 4) + 1)]
    group.start_date = _date(value(tq1, 7), "TQ1-7 (start)")
    group.stop_date = _date(value(tq1, 8), "TQ1-8 (end)")
    group.is_prn = value(tq1, 9).upper() == "PRN" or pattern.startswith("PRN")
    every = _EVERY_HOURS.match(pattern.removeprefix("PRN").strip() or pattern)
    if group.is_prn:
        hours = int(every.group(1)) if every else 4
        if not 1 <= hours <= 24:
            raise Refusal("AE", f"TQ1-3 repeat pattern {pattern!r} is not taken.")
        group.prn_min_hours = Decimal(hours)
        group.prn_max_per_24h = 24 // hours
        return
    if not times:
        if pattern in PATTERN_TIMES:
            times = PATTERN_TIMES[pattern]
        elif every and 24 % int(every.group(1)) == 0 and int(every.group(1)) >= 4:
            step = int(every.group(1))
            times = [f"{hour:02d}:00" for hour in range(0, 24, step)]
        else:
            raise Refusal(
                "AE",
                f"TQ1 gives no dose times (TQ1-4) and its repeat pattern {pattern or '(empty)'} "
                "(TQ1-3) is not one we read (QD, BID, TID, QID, QHS, Q4H, Q6H, Q8H, Q12H, PRN).",
                TABLE_VALUE_NOT_FOUND,
            )
    group.times = sorted(set(times))


def _drug(group: OrderGroup, segment, code_field: int, what: str) -> None:
    code = value(segment, code_field, 1)
    group.ndc = ndc_digits(code)
    group.drug_text = value(segment, code_field, 2)[:200]
    if not group.ndc:
        raise Refusal(
            "AE",
            f"{what}-{code_field}.1 must be the drug's 11-digit NDC; it is {code or '(empty)'!r}.",
            DATA_TYPE_ERROR,
        )


def content(message) -> Content:
    """The patient and the order groups of an RDE^O11 or RDS^O13. Raises Refusal (AE)."""
    found = header(message)
    kind = tuple(found.message_type.split("^")[:2])
    patient = _patient(message)
    groups: list[OrderGroup] = []
    current: OrderGroup | None = None
    for segment in message:
        name = str(segment[0])
        if name == "ORC":
            control = value(segment, 1).upper()
            current = OrderGroup(
                control=control,
                placer_number=value(segment, 2)[:60],
                filler_number=value(segment, 3)[:60],
                prescriber=_prescriber(segment)[:120],
            )
            groups.append(current)
        elif current is None and name in ("TQ1", "RXE", "RXR", "RXD"):
            raise Refusal("AE", f"{name} comes before any ORC.", SEGMENT_SEQUENCE_ERROR)
        elif name == "TQ1":
            _timing(current, segment)
        elif name == "RXE":
            _drug(current, segment, 2, "RXE")
            current.dose_amount = _decimal(value(segment, 3), "RXE-3 (give amount)")
            current.dose_unit = (value(segment, 5, 2) or value(segment, 5, 1)).lower()[:20]
            current.instructions = value(segment, 7, 2) or value(segment, 7, 1)
            current.instructions = current.instructions[:300]
            current.rx_number = value(segment, 15)[:40]
            current.indication = (value(segment, 27, 2) or value(segment, 27, 1))[:200]
        elif name == "RXD":
            _drug(current, segment, 2, "RXD")
            current.quantity = _decimal(value(segment, 4), "RXD-4 (quantity dispensed)")
            current.rx_number = value(segment, 7)[:40]
            current.lot = value(segment, 18)[:40]
            current.expiry = _date(value(segment, 19), "RXD-19 (expiration date)")
        elif name == "RXR":
            code = value(segment, 1, 1).upper()
            current.route = ROUTES.get(code, "")
            if not current.route:
                raise Refusal(
                    "AE", f"RXR-1 route {code or '(empty)'!r} is not known.", TABLE_VALUE_NOT_FOUND
                )
    if not groups:
        raise Refusal("AE", "The message has no ORC segment.", SEGMENT_SEQUENCE_ERROR)
    for index, group in enumerate(groups, start=1):
        _check_group(kind, group, index)
    return Content(kind=kind, patient=patient, groups=groups)


def _check_group(kind: tuple[str, str], group: OrderGroup, index: int) -> None:
    where = f"Order {index}"
    if kind == DISPENSE:
        if not group.ndc:
            raise Refusal("AE", f"{where}: the RXD segment is missing.", SEGMENT_SEQUENCE_ERROR)
        if group.quantity is None:
            raise Refusal(
                "AE", f"{where}: RXD-4 (quantity dispensed) is empty.", REQUIRED_FIELD_MISSING
            )
        return
    if group.control not in ("NW", "XO", "DC", "HD", "RL"):
        raise Refusal(
            "AE",
            f"{where}: order control {group.control or '(empty)'!r} (ORC-1) is not taken: NW, XO, "
            "DC, HD or RL.",
            TABLE_VALUE_NOT_FOUND,
        )
    if not group.order_number:
        raise Refusal(
            "AE", f"{where}: ORC-2 / ORC-3 (the order number) are empty.", REQUIRED_FIELD_MISSING
        )
    if group.control in ("NW", "XO"):
        missing = [
            label
            for label, present in (
                ("RXE-2 (the drug)", group.ndc),
                ("RXE-3 (give amount)", group.dose_amount),
                ("RXR-1 (route)", group.route),
                ("TQ1 (timing)", group.times or group.is_prn),
                ("ORC-12 (ordering provider)", group.prescriber),
            )
            if not present
        ]
        if missing:
            raise Refusal("AE", f"{where}: {', '.join(missing)} missing.", REQUIRED_FIELD_MISSING)
        if group.stop_date and group.start_date and group.stop_date < group.start_date:
            raise Refusal("AE", f"{where}: TQ1-8 (end) is before TQ1-7 (start).")


# --- writing -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text for a field: the delimiters escaped, no segment breaks."""
    text = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    text = text.replace("&", "\\T\\").replace("~", "\\R\\")
    return " ".join(text.split())


def timestamp(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y%m%d%H%M%S+0000")


def ack(
    found: Header,
    *,
    code: str,
    reason: str,
    control_id: str,
    application: str,
    now: datetime.datetime,
    error: str = APPLICATION_ERROR,
) -> str:
    """The ACK to a message (original mode): MSH, MSA, and ERR when it is refused."""
    trigger = found.message_type.split("^")[1] if "^" in found.message_type else ""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            escape(application),
            escape(found.receiving_facility),
            escape(found.sending_application),
            escape(found.sending_facility),
            timestamp(now),
            "",
            f"ACK^{escape(trigger)}^ACK" if trigger else "ACK",
            control_id,
            escape(found.processing_id[:1] or "P"),
            VERSION,
        ]
    )
    msa = "|".join(["MSA", code, escape(found.control_id), escape(reason)])
    segments = [msh, msa]
    if code != "AA":
        severity = "E"
        segments.append(
            "|".join(["ERR", "", "", f"{error}^{escape(reason)}^HL70357", severity, "", "", "",
                      escape(reason)])
        )  # fmt: skip
    return SEGMENT_END.join(segments) + SEGMENT_END


@dataclass(frozen=True)
class Acknowledgement:
    code: str
    reason: str
    control_id: str


def read_ack(text: str) -> Acknowledgement:
    """MSA of an ACK the pharmacy sent. Raises Refusal when it is not an ACK."""
    message = parse(text)
    try:
        msa = message.segment("MSA")
    except KeyError:
        raise Refusal("AR", "The answer has no MSA segment.") from None
    reason = value(msa, 3)
    try:
        err = message.segment("ERR")
        reason = reason or value(err, 8) or value(err, 3, 2)
    except KeyError:
        pass
    return Acknowledgement(code=value(msa, 1).upper(), reason=reason, control_id=value(msa, 2))


def refill_request(
    *,
    application: str,
    facility_name: str,
    receiving_application: str,
    receiving_facility: str,
    control_id: str,
    now: datetime.datetime,
    patient_id: str,
    family_name: str,
    given_name: str,
    birth_date: datetime.date | None,
    order_number: str,
    ndc: str,
    drug_text: str,
    quantity: str,
    unit: str,
) -> str:
    """RDE^O25, a refill authorization request: the patient, the order (ORC-1 RF) and the drug."""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            escape(application),
            escape(facility_name),
            escape(receiving_application),
            escape(receiving_facility),
            timestamp(now),
            "",
            "RDE^O25^RDE_O25",
            control_id,
            "P",
            VERSION,
            "",
            "",
            "AL",
            "NE",
            "",
            "UNICODE UTF-8",
        ]
    )
    born = birth_date.strftime("%Y%m%d") if birth_date else ""
    pid = "|".join(
        ["PID", "1", "", f"{escape(patient_id)}^^^{escape(receiving_application)}^MR", "",
         f"{escape(family_name)}^{escape(given_name)}", "", born]
    )  # fmt: skip
    orc = "|".join(["ORC", "RF", escape(control_id), escape(order_number)])
    rxe = "|".join(
        ["RXE", "", f"{ndc}^{escape(drug_text)}^NDC", "", "", "", "", "", "", "", "",
         escape(quantity), escape(unit)]
    )  # fmt: skip
    return SEGMENT_END.join([msh, pid, orc, rxe]) + SEGMENT_END
