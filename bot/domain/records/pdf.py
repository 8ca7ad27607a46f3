"""Certificates and QR check-in posters as A4 PDF (fpdf2), QR codes as PNG (segno).

Every word comes from the caller (already in the reader's language); this module only lays
pages out. Chinese needs a CJK font: the caller passes the one the charts find (bot/domain/charts.py
`cjk_font_path`); it is embedded, subset to the characters used. None: DomainError("reports.no_cjk_font").

Speed: fpdf2 reads a font's whole character map for each document (~0.15 s for a 5 MB CJK font),
so each process first cuts a working copy down to ASCII, CJK punctuation and the 6,763 GB2312
characters (~1.5 s, once); a document that needs a character outside it (a rare name) uses the
full font. A character no font has is printed as "?", never as a box. Call from a worker thread
(`asyncio.to_thread`): the bot keeps answering meanwhile.
"""

from __future__ import annotations

import atexit
import io
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from bot.domain.errors import DomainError

if TYPE_CHECKING:  # fpdf2 is imported where a PDF is made: start-up skips it
    from fpdf import FPDF

_lock = threading.Lock()
_FONT = "cjk"
MARGIN_MM = 20


@dataclass(frozen=True)
class CertificatePage:
    title: str
    committee: str
    paragraphs: tuple[str, ...]
    table_header: tuple[str, str, str]
    table_rows: tuple[tuple[str, str, str], ...]
    list_title: str
    list_lines: tuple[str, ...]
    footer: tuple[str, ...]
    qr_url: str
    qr_caption: str


@dataclass(frozen=True)
class PosterPage:
    title: str
    lines: tuple[str, ...]
    qr_url: str
    note: str


def qr_png(url: str, scale: int = 10) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _common_characters() -> set[int]:
    points = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFF60))
    points |= {0x2014, 0x2013, 0x2022, 0x00B7, 0x2026, 0x201C, 0x201D, 0x2018, 0x2019}
    # GB2312: rows 0xA1-0xA9 (symbols) and 0xB0-0xF7 (the 6,763 hanzi).
    for first in [*range(0xA1, 0xAA), *range(0xB0, 0xF8)]:
        for second in range(0xA1, 0xFF):
            try:
                points.update(ord(char) for char in bytes((first, second)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # an unassigned position of the code table
    return points


@cache
def _fonts(full: str) -> tuple[str, frozenset[int], frozenset[int]]:
    """(working copy, what it covers, what the full font covers); built once per process."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(full, fontNumber=0)
    everything = frozenset(font.getBestCmap() or {})
    covered = frozenset(_common_characters() & everything)
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables = [*options.drop_tables, "FFTM"]  # FontForge's timestamps: nothing to draw
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=covered)
    subsetter.subset(font)
    handle, path = tempfile.mkstemp(prefix="league-bot-font-", suffix=".ttf")
    os.close(handle)
    font.save(path)
    atexit.register(os.unlink, path)
    return path, covered, everything


def _font_for(font_path: str | None, text: str) -> tuple[str, frozenset[str]]:
    """The font file to embed for `text`, and the characters of `text` no font has."""
    if font_path is None:
        raise DomainError("reports.no_cjk_font")
    with _lock:  # two threads must not both build the working copy
        work, covered, everything = _fonts(font_path)
    wanted = {ord(char) for char in text if not char.isspace()}
    if wanted <= covered:
        return work, frozenset()
    return font_path, frozenset(chr(point) for point in wanted - everything)


class _Printable:
    """A text as the page prints it: a character no font has becomes "?"."""

    def __init__(self, missing: frozenset[str]) -> None:
        self.missing = missing

    def __getitem__(self, text: str) -> str:
        return "".join("?" if char in self.missing else char for char in text) if self.missing else text


def _document(font_path: str | None, texts: Sequence[str]) -> tuple[FPDF, _Printable]:
    """An A4 document with the CJK font loaded for exactly these texts."""
    from fpdf import FPDF

    joined = "".join(texts)
    path, missing = _font_for(font_path, joined)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    used = {ord(char) for char in joined if not char.isspace() and char not in missing} | {ord("?"), ord(" ")}
    pdf.add_font(_FONT, fname=path, unicode_range=sorted(used))
    pdf.set_font(_FONT, size=12)
    return pdf, _Printable(missing)


def certificate_pdf(page: CertificatePage, font_path: str | None) -> bytes:
    texts = [
        page.title,
        page.committee,
        *page.paragraphs,
        *page.table_header,
        *(cell for row in page.table_rows for cell in row),
        page.list_title,
        *page.list_lines,
        *page.footer,
        page.qr_caption,
    ]
    pdf, t = _document(font_path, texts)
    pdf.set_title(page.title)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN_MM
    pdf.set_font(_FONT, size=24)
    pdf.cell(width, 16, t[page.title], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=12)
    pdf.ln(4)
    for paragraph in page.paragraphs:
        pdf.multi_cell(width, 7, t[paragraph], new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(2)
    widths = (width * 0.5, width * 0.25, width * 0.25)
    for row, bold in [(page.table_header, True), *((row, False) for row in page.table_rows)]:
        pdf.set_fill_color(235, 235, 235)
        for cell, cell_width in zip(row, widths, strict=True):
            pdf.cell(cell_width, 8, t[cell], border=1, align="C", fill=bold)
        pdf.ln(8)
    pdf.ln(4)
    if page.list_lines:
        pdf.cell(width, 8, t[page.list_title], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, size=10)
        for line in page.list_lines:
            pdf.multi_cell(width, 5.5, t[line], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, size=12)
    # The footer block (committee, date, serial, QR) at the bottom of the last page.
    if pdf.get_y() > pdf.h - MARGIN_MM - 62:
        pdf.add_page()
    top = pdf.h - MARGIN_MM - 55
    pdf.image(io.BytesIO(qr_png(page.qr_url, scale=6)), x=MARGIN_MM, y=top, w=42, h=42)
    pdf.set_xy(MARGIN_MM, top + 43)
    pdf.set_font(_FONT, size=8)
    pdf.cell(60, 5, t[page.qr_caption])
    pdf.set_font(_FONT, size=12)
    pdf.set_xy(MARGIN_MM + 60, top)
    pdf.cell(width - 60, 8, t[page.committee], align="R", new_x="LMARGIN", new_y="NEXT")
    for line in page.footer:
        pdf.set_x(MARGIN_MM + 60)
        pdf.cell(width - 60, 7, t[line], align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def poster_pdf(page: PosterPage, font_path: str | None) -> bytes:
    """An A4 sheet to print and put up: the title, a large QR code, a line or two."""
    pdf, t = _document(font_path, [page.title, *page.lines, page.note])
    pdf.set_title(page.title)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN_MM
    pdf.set_font(_FONT, size=26)
    pdf.multi_cell(width, 13, t[page.title], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=14)
    for line in page.lines:
        pdf.multi_cell(width, 8, t[line], align="C", new_x="LMARGIN", new_y="NEXT")
    side = 130
    pdf.image(io.BytesIO(qr_png(page.qr_url)), x=(pdf.w - side) / 2, y=pdf.get_y() + 8, w=side, h=side)
    pdf.set_y(pdf.get_y() + side + 14)
    pdf.set_font(_FONT, size=11)
    pdf.multi_cell(width, 6, t[page.note], align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
