"""A document's tables as CSV, for data: one block per table, blocks apart by an empty line.

Each block is a line ``key,title`` (the table's machine name and its Vietnamese title), the
header line, then the rows. Dates are ISO (``2024-05-15``), numbers as numbers, an empty
cell is empty. UTF-8 with a byte-order mark, so that a spreadsheet opens the diacritics right.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from web.document import Document, Value


def render(doc: Document) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, table in enumerate(doc.tables):
        if i:
            writer.writerow([])
        writer.writerow([table.key, table.title])
        writer.writerow(table.columns)
        writer.writerows([_cell(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def _cell(value: Value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value
