"""What any value typed by a person must look like before a rule or the database sees it.

One place for the rules every input shares, whatever its meaning: text carries no control
characters (tab and new lines excepted) and fits its column, a number is finite, a date lies in
the years a care record can name. Forms get them through `harden_fields` (the base classes in
`core.forms` call it for every field); services call `check_inputs`, because tasks, commands and
admin actions reach them without a form.

PostgreSQL refuses a NUL byte in text (psycopg raises before the query is sent), a lone surrogate
cannot be encoded, `Decimal("NaN")` raises on comparison and a year 9999 date overflows the first
time a day is added: each of these was a server error before it was a message.
"""

import datetime
import math
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import (
    DecimalValidator,
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
)

from .errors import DomainError

# Years a date may name: a birth date in 1900, an order that stops in 2100.
YEARS = range(1900, 2101)
# Text an input without a column of its own (a password, a PIN) may still not exceed.
TEXT_LIMIT = 4096
# A whole number a plain form reads must fit PostgreSQL's integer.
INTEGER_LIMIT = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    match = _CONTROL.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Remove the NUL character (often pasted by mistake) from this text."
    return "Remove the control character (often pasted by mistake) from this text."


def number_problem(value) -> str | None:
    if isinstance(value, Decimal) and not value.is_finite():
        return "Enter a number (not NaN or infinity)."
    if isinstance(value, float) and not math.isfinite(value):
        return "Enter a number (not NaN or infinity)."
    return None


def decimal_problem(value: Decimal, *, max_digits: int, decimal_places: int) -> str | None:
    """Whether a number fits its column (a DecimalField's max_digits / decimal_places)."""
    try:
        DecimalValidator(max_digits, decimal_places)(value)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def check_decimal(value: Decimal, *, field: str, max_digits: int, decimal_places: int) -> None:
    """DomainError beside `field` when the number is not finite or does not fit its column."""
    message = number_problem(value) or decimal_problem(
        value, max_digits=max_digits, decimal_places=decimal_places
    )
    if message is not None:
        raise DomainError(message, field=field)


def date_problem(value: datetime.date) -> str | None:
    if value.year in YEARS:
        return None
    return f"Enter a date after {YEARS.start} and before {YEARS.stop}."


def problem(value) -> str | None:
    """What is wrong with one value, whatever its type; None when nothing is."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool | int):
        return None
    if isinstance(value, Decimal | float):
        return number_problem(value)
    if isinstance(value, datetime.date):  # datetimes too
        return date_problem(value)
    return None


def check_inputs(**values) -> None:
    """Refuse the first value no person could have meant, beside its field (a DomainError).

    Services call this first with the keyword arguments a person typed; a dict (vital signs)
    or a list is checked item by item, under the same field name.
    """
    for field, value in values.items():
        if isinstance(value, dict):
            items = list(value.values())
        elif isinstance(value, list | tuple | set):
            items = list(value)
        else:
            items = [value]
        for item in items:
            if (message := problem(item)) is not None:
                raise DomainError(message, field=field)


# --- form validators -------------------------------------------------------------------------


def no_control_characters(value) -> None:
    if isinstance(value, str) and (message := text_problem(value)) is not None:
        raise ValidationError(message, code="control_character")


def finite_number(value) -> None:
    """For inputs read as text and as numbers later (vital signs): NaN and infinity are not."""
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            return  # not a number at all: the service says so in its own words
    if (message := number_problem(value)) is not None:
        raise ValidationError(message, code="not_finite")


def sane_date(value) -> None:
    if isinstance(value, datetime.date) and (message := date_problem(value)) is not None:
        raise ValidationError(message, code="date_range")


def _has(field: forms.Field, kind: type) -> bool:
    return any(isinstance(validator, kind) for validator in field.validators)


def harden_field(field: forms.Field) -> None:
    """Add the shared rules to one form field (idempotent)."""
    if isinstance(field, forms.UUIDField):
        return  # parsed into a UUID or refused by Django; nothing of the text is kept
    if getattr(field, "raw_input", False):
        return  # read by a parser that refuses, in words, what it cannot read (a scan)
    if isinstance(field, forms.CharField):
        if no_control_characters not in field.validators:
            field.validators.append(no_control_characters)
        if field.max_length is None:
            field.max_length = TEXT_LIMIT
        if not _has(field, MaxLengthValidator):
            # A max_length set after the field was built (Django's login form) is not checked.
            field.validators.append(MaxLengthValidator(field.max_length))
            field.widget.attrs.setdefault("maxlength", str(field.max_length))
    elif isinstance(field, forms.DateField | forms.DateTimeField):
        if sane_date not in field.validators:
            field.validators.append(sane_date)
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        if finite_number not in field.validators:
            field.validators.append(finite_number)
    elif isinstance(field, forms.IntegerField):
        if not _has(field, MinValueValidator):
            field.validators.append(MinValueValidator(-INTEGER_LIMIT))
        if not _has(field, MaxValueValidator):
            field.validators.append(MaxValueValidator(INTEGER_LIMIT))


def harden_fields(fields) -> None:
    for field in fields.values():
        harden_field(field)


# --- query parameters ------------------------------------------------------------------------

SEARCH_LIMIT = 100


def search_text(raw: str | None) -> str:
    """A search box's text as the database may read it: control characters dropped, cut short.

    A search is not refused: what cannot be part of any name is simply not looked for.
    """
    return _CONTROL.sub("", raw or "").strip()[:SEARCH_LIMIT]


def parse_id(raw: str | None) -> int | None:
    """A row id from an address or a hidden input, or None when it cannot be one."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    return None
