"""Reports as CSV: the same rows as the page, safe to open in a spreadsheet."""

import csv
import datetime
import io
import re

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from core.time import DATE_FORMAT, STAMP_FORMAT, current_stamp


def wants_csv(request) -> bool:
    return request.GET.get("format", "").lower() == "csv"


def _csv_cell(value) -> str:
    """A cell as text; one that a spreadsheet would run as a formula is quoted as text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        # Read in the active zone: the facility's, within a request.
        return current_stamp(value) if timezone.is_aware(value) else value.strftime(STAMP_FORMAT)
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text):
        return "'" + text
    return text


_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")


def csv_response(
    name: str, header: list[str], rows, *, filters=None, preamble=(), stream: bool = False
):
    """A CSV attachment of `rows` under `header` (after any `preamble` rows, e.g. a summary),
    named after the report and its period. `stream`: the rows (an iterator that reads the
    database a part at a time) are written as they come, so an export of any length starts at
    once and holds little in memory."""
    stem = name
    if filters is not None:
        stem = f"{name}-{filters.start.isoformat()}-to-{filters.end.isoformat()}"
    lines = _lines(header, rows, preamble, timezone.get_current_timezone())
    if stream:
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


_FLUSH_AT = 64 * 1024  # characters written before a streamed export sends them


def _lines(header, rows, preamble, tz):
    """The CSV text, a block at a time, its times read in the zone of the request (a streamed
    export is written after the view has returned)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    with timezone.override(tz):
        for row in preamble:
            writer.writerow([_csv_cell(value) for value in row])
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_cell(value) for value in row])
            if buffer.tell() >= _FLUSH_AT:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
