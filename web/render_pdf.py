"""A document as a PDF (fpdf2), laid out as a Vietnamese administrative document.

Nghị định 30/2020/NĐ-CP's header: the issuer on the left, the national motto on the right,
the number under the issuer and the date under the motto; then the title, the blocks (tables
with borders, their header repeated on each page), and the signature blocks. The text is set
in DejaVu Sans (Debian's ``fonts-dejavu-core``), embedded, which has every Vietnamese
diacritic; fpdf2's core fonts have none.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from web.document import MOTTO, Document, Heading, Table, Value

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
              "BI": "DejaVuSans-BoldOblique.ttf"}
FAMILY = "DejaVu"
PLAIN, BOLD, ITALIC = FontFace(emphasis=""), FontFace(emphasis="B"), FontFace(emphasis="I")


class FontMissing(RuntimeError):
    pass


def render(doc: Document, font_dir: Path = FONT_DIR) -> bytes:
    pdf = FPDF(orientation="L" if doc.landscape else "P", unit="mm", format="A4")
    pdf.set_title(doc.title)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    for style, name in FONT_FILES.items():
        path = font_dir / name
        if not path.is_file():
            raise FontMissing(f"{path} is missing: install Debian's fonts-dejavu-core")
        pdf.add_font(FAMILY, style, str(path))
    pdf.add_page()
    _header(pdf, doc)
    for block in doc.blocks:
        if isinstance(block, Table):
            _table(pdf, block)
        elif isinstance(block, Heading):
            pdf.set_font(FAMILY, "B", 11)
            pdf.multi_cell(0, 6, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            pdf.set_font(FAMILY, "", 10)
            pdf.multi_cell(0, 5.5, block.text, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
    _signers(pdf, doc.signers)
    return bytes(pdf.output())


def _header(pdf: FPDF, doc: Document) -> None:
    pdf.set_font(FAMILY, "", 10)
    with pdf.table(borders_layout="NONE", first_row_as_headings=False, col_widths=(42, 58),
                   text_align="CENTER", line_height=5) as t:
        row = t.row()
        row.cell(doc.issuer.upper(), style=BOLD)
        row.cell("\n".join(MOTTO), style=BOLD)
        row = t.row()
        row.cell(doc.number, style=PLAIN)
        row.cell(doc.date_line, style=ITALIC)
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 7, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 6, doc.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _table(pdf: FPDF, table: Table) -> None:
    pdf.set_font(FAMILY, "", 8)
    with pdf.table(col_widths=table.widths or None, line_height=4.5, text_align="LEFT",
                   headings_style=FontFace(emphasis="B", fill_color=(235, 235, 235)), padding=1) as t:
        head = t.row()
        for name in table.columns:
            head.cell(name)
        for values in table.rows:
            row = t.row()
            for value in values:
                row.cell(_text(value))
        if not table.rows:
            t.row().cell("(không có)", colspan=len(table.columns), align="CENTER")
    pdf.ln(3)


def _signers(pdf: FPDF, signers: tuple[str, ...]) -> None:
    if not signers:
        return
    pdf.ln(6)
    pdf.set_font(FAMILY, "B", 10)
    with pdf.table(borders_layout="NONE", first_row_as_headings=False, text_align="CENTER", line_height=5) as t:
        row = t.row()
        for signer in signers:
            row.cell(signer + "\n(Ký, ghi rõ họ tên)", style=BOLD)


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # a decimal comma, as Vietnamese writes it
    return str(value)
