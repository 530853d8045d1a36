"""Reading an employee spreadsheet saved as CSV (from Excel or LibreOffice)."""

from __future__ import annotations

import csv
import io
import unicodedata

#: Column names accepted for each field, Vietnamese or English, compared without accents.
COLUMNS = {
    "branch": ("chi nhanh", "branch", "co so", "van phong"),
    "department": ("phong ban", "department"),
    "full_name": ("ho ten", "ho va ten", "full name", "name"),
    "employee_code": ("ma nhan vien", "employee code", "code"),
    "email": ("email", "e-mail"),
}
#: The columns a file must have.
REQUIRED = ("branch", "department", "full_name")


class UnreadableFile(ValueError):
    """The upload is not a CSV with the needed columns."""


def _plain(text: str) -> str:
    """Lower case, no accents, spaces for underscores: how column names are compared."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c))
                    .casefold().replace("_", " ").split())


def _text(data: bytes) -> str:
    """The file as text: UTF-8 (with or without BOM), else Windows' Vietnamese code page.

    Either may carry accents as separate combining marks (cp1258 always does for most
    tones), so the text is composed (NFC) to compare equal with names typed elsewhere.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
    return unicodedata.normalize("NFC", text)


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV upload keyed by field; semicolons work too (Excel in some locales)."""
    text = _text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise UnreadableFile()
    names = [_plain(cell) for cell in header]
    positions = {field: next((i for i, name in enumerate(names) if name in aliases), None)
                 for field, aliases in COLUMNS.items()}
    if any(positions[field] is None for field in REQUIRED):
        raise UnreadableFile()
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        rows.append({field: cells[index] if index is not None and index < len(cells) else ""
                     for field, index in positions.items()})
    return rows
