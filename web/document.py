"""A report as plain data, before it is a file: what the three renderers lay out.

A :class:`Document` is the paperwork of one campaign as a Vietnamese administrative
document reads (Nghị định 30/2020/NĐ-CP): the issuer and the national motto, the number
and the date, the title, then paragraphs, headings and tables, then who signs. Values in a
table are ``str``, ``int``, ``float``, ``datetime.date`` or ``None`` (an empty cell); each
renderer writes them its own way (a date cell in XLSX, ``dd/mm/yyyy`` in PDF, ISO in CSV).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Union

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")

Value = Union[str, int, float, date, None]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    """``key`` names the table for machines: the XLSX table's name and the CSV block's first cell."""
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    widths: tuple[float, ...] = ()  # relative column widths in the PDF; equal when empty


Block = Union[Heading, Paragraph, Table]


@dataclass(frozen=True)
class Document:
    file_title: str       # the Vietnamese file name, without extension
    issuer: str           # who issues it (top left)
    number: str           # "Số: …" line
    date_line: str        # "ngày 20 tháng 4 năm 2024"
    title: str            # e.g. DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG
    subtitle: str         # e.g. the campaign's title
    blocks: tuple[Block, ...]
    signers: tuple[str, ...] = ()  # signature blocks, left to right
    landscape: bool = False

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def date_line(on: date | None, year: int | None = None) -> str:
    """``ngày 05 tháng 02 năm 2024``, ``ngày 20 tháng 4 năm 2024`` (Nghị định 30/2020: days below 10
    and the months 1 and 2 take a leading zero); a draft left to be dated: ``ngày … tháng … năm 2024``."""
    if on is None:
        return f"ngày … tháng … năm {year or '…'}"
    month = f"{on.month:02d}" if on.month < 3 else str(on.month)
    return f"ngày {on.day:02d} tháng {month} năm {on.year}"


def short_date(on: date | None) -> str:
    return on.strftime("%d/%m/%Y") if on else ""

