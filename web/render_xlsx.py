"""A document as an XLSX workbook (openpyxl): one sheet laid out like the paper document.

The header (issuer, national motto, number, date, title) comes first, then each block in
order; every table is an Excel table named by its key (``ws.tables["tong_hop"]``), with
borders, so the figures can be sorted, filtered and read back by a program.
"""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table as ExcelTable, TableStyleInfo

from web.document import MOTTO, Document, Heading, Paragraph, Table

THIN = Side(style="thin")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD, ITALIC, TITLE = Font(bold=True), Font(italic=True), Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def render(doc: Document) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    width = max([len(t.columns) for t in doc.tables] + [4])
    half = max(1, width // 2)
    _put(ws, 1, 1, half, doc.issuer.upper(), BOLD)
    _put(ws, 1, half + 1, width, MOTTO[0], BOLD)
    _put(ws, 2, half + 1, width, MOTTO[1], BOLD)
    _put(ws, 3, 1, half, doc.number)
    _put(ws, 3, half + 1, width, doc.date_line, ITALIC)
    _put(ws, 5, 1, width, doc.title, TITLE)
    _put(ws, 6, 1, width, doc.subtitle, BOLD)
    row = 8
    for block in doc.blocks:
        if isinstance(block, Table):
            row = _table(ws, row, block) + 1
        else:
            _put(ws, row, 1, width, block.text, BOLD if isinstance(block, Heading) else None,
                 CENTER if isinstance(block, Heading) else WRAP)
            if isinstance(block, Paragraph):
                ws.row_dimensions[row].height = 15 * (1 + len(block.text) // (12 * width))
            row += 1
    row += 1
    for i, signer in enumerate(doc.signers):
        span = width // len(doc.signers)
        _put(ws, row, 1 + i * span, (i + 1) * span, signer, BOLD)
    for col in range(1, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 22 if col > 1 else 8
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(ws, row: int, first: int, last: int, text: str, font: Font | None = None,
         align: Alignment = CENTER) -> None:
    cell = ws.cell(row=row, column=first, value=text)
    cell.alignment = align
    if font:
        cell.font = font
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def _table(ws, top: int, table: Table) -> int:
    """Write ``table`` from row ``top`` (its header), register it as an Excel table; return the next free row."""
    for col, name in enumerate(table.columns, 1):
        cell = ws.cell(row=top, column=col, value=name)
        cell.font, cell.alignment, cell.border = BOLD, CENTER, BORDER
    for r, values in enumerate(table.rows, top + 1):
        for col, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.border, cell.alignment = BORDER, WRAP
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    last = top + max(1, len(table.rows))  # an Excel table needs a data row, even an empty one
    ref = f"A{top}:{get_column_letter(len(table.columns))}{last}"
    excel = ExcelTable(displayName=table.key, ref=ref)
    excel.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(excel)
    return last + 1
