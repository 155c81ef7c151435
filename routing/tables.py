"""Reading uploaded tables: CSV (UTF-8, with or without BOM) and Excel workbooks (openpyxl).
Each row becomes {header: text}; row numbers count the header as row 1, as a spreadsheet does."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import load_workbook

from shared.errors import InvalidInput

Rows = list[dict[str, str | None]]


def _clean(headers: list[object], values: tuple[object, ...] | list[str]) -> dict[str, str | None]:
    row: dict[str, str | None] = {}
    for header, value in zip(headers, values, strict=False):
        if header is None or str(header).strip() == "":
            continue
        text = None if value is None else str(value).strip()
        row[str(header).strip().lower()] = text or None
    return row


def _csv(content: bytes) -> Rows:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file: a CSV file must be UTF-8 encoded.", field="file") from None
    reader = csv.reader(io.StringIO(text))
    lines = list(reader)
    if not lines:
        raise InvalidInput("file: the CSV file is empty.", field="file")
    headers: list[object] = list(lines[0])
    return [_clean(headers, line) for line in lines[1:]]


def read_workbook(content: bytes) -> dict[str, Rows]:
    """Every sheet of an .xlsx workbook, by lower-case sheet name."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise InvalidInput("file: not a readable .xlsx workbook.", field="file") from None
    sheets: dict[str, Rows] = {}
    for sheet in book.worksheets:
        lines = list(sheet.iter_rows(values_only=True))
        if not lines:
            sheets[sheet.title.strip().lower()] = []
            continue
        headers = list(lines[0])
        sheets[sheet.title.strip().lower()] = [
            _clean(headers, line) for line in lines[1:] if any(v is not None for v in line)
        ]
    book.close()
    return sheets


def read_tables(filename: str, content: bytes, default_sheet: str) -> dict[str, Rows]:
    """An upload as {sheet: rows}: a CSV file is the one sheet `default_sheet`."""
    name = filename.lower()
    if name.endswith(".csv"):
        return {default_sheet: _csv(content)}
    if name.endswith(".xlsx"):
        return read_workbook(content)
    raise InvalidInput(f"file: '{filename}' is neither .csv nor .xlsx.", field="file")


def require_columns(
    sheet: str, rows: Rows, columns: tuple[str, ...], required: tuple[str, ...]
) -> None:
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    missing = [c for c in required if c not in present]
    if rows and missing:
        raise InvalidInput(
            f"file: sheet '{sheet}' lacks the column(s) {', '.join(missing)}; "
            f"expected {', '.join(columns)}.",
            field="file",
        )
