"""CSV files people open in Excel: UTF-8 with a BOM, streamed, and no cell read as a formula.

Every CSV the app writes goes through `csv_stream`, so every cell is neutralised as the
OWASP CSV injection cheat sheet recommends: each field quoted, and a cell that a
spreadsheet would take for a formula prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from flask import Response, stream_with_context

from workflow.domain.routing import display_number

#: First characters that make Excel, LibreOffice or Google Sheets start a formula (or, for
#: tab and carriage return, hide one behind blank space); the full-width forms are read as
#: their ASCII twins by some locales' input methods.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: Rows written between two chunks of a streamed export (memory stays flat).
CHUNK_ROWS = 1000


def cell(value: object) -> str:
    """`value` as a cell a spreadsheet shows as text and never evaluates."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def phone_cell(e164: str | None) -> str:
    """A stored E.164 number as people read it and Excel keeps it.

    Vietnamese numbers are written in their national format ("0912 345 678"): that is how
    people here read and dial them, the leading 0 and the spaces make Excel keep the cell
    as text (E.164 "+84912345678" would become the number 84912345678), and the cell needs
    no visible quote. A foreign number keeps its international format, whose leading "+"
    `cell` then neutralises with the quote: the only way Excel keeps the "+".
    """
    return display_number(e164)


def csv_stream(header: Sequence[object], rows: Iterable[Sequence[object]],
               chunk: int = CHUNK_ROWS) -> Iterator[str]:
    """The CSV text of `header` and `rows`, BOM first, `chunk` rows at a time."""
    buffer = io.StringIO()
    # Quoting every field keeps a separator or quote inside a value from starting a cell.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([cell(value) for value in header])
    yield "\ufeff" + _drain(buffer)  # the BOM makes Excel read UTF-8 (Vietnamese)
    for count, row in enumerate(rows, 1):
        writer.writerow([cell(value) for value in row])
        if count % chunk == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def csv_response(filename: str, header: Sequence[object],
                 rows: Iterable[Sequence[object]]) -> Response:
    """A streamed CSV download of `header` and `rows`, read within the current request."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(stream_with_context(csv_stream(header, rows)), mimetype="text/csv",
                    headers=headers)


def _drain(buffer: io.StringIO) -> str:
    """What the CSV writer wrote since the last call."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
