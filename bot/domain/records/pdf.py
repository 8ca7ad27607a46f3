"""Certificates and QR check-in posters as A4 PDF (reportlab), QR codes (segno).

Every word comes from the caller (already in the reader's language); this module only lays
pages out. Chinese needs a CJK font: the caller passes the one the charts find (bot/domain/charts.py
`cjk_font_path`); it is embedded, subset to the characters used. None, or a font reportlab cannot
embed (PostScript outlines): DomainError("reports.no_cjk_font"). A character the font lacks is
printed as "?", never as a box.

Why reportlab: it reads the font once per process (~0.1 s) and copies the glyphs each document
uses (~3 ms a certificate); fpdf2 parses and subsets the 5 MB CJK font again for every document
with fontTools (~150 ms), which a burst of 500 certificates cannot afford. Call from a worker
thread (`asyncio.to_thread`): the bot keeps answering meanwhile.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from bot.domain.errors import DomainError

if TYPE_CHECKING:  # reportlab is imported where a PDF is made: start-up skips it
    from reportlab.pdfgen.canvas import Canvas

# reportlab keeps a font's per-document subset state on the font: one document at a time (the
# work holds the GIL anyway, so a second thread would not draw faster).
_lock = threading.Lock()
_FONT = "league-cjk"
MM = 72 / 25.4  # points per millimetre
WIDTH, HEIGHT = 210 * MM, 297 * MM  # A4
MARGIN = 20 * MM
_NO_LINE_START = frozenset("，。、；：！？）」』》”’,.;:!?)")


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


@cache
def _registered(path: str) -> frozenset[int]:
    """Register the font once per process; the code points it can draw."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        font = TTFont(_FONT, path, subfontIndex=0)
    except TTFError:
        raise DomainError("reports.no_cjk_font") from None
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


class _Page:
    """A canvas with the CJK font, a cursor running down the page, and wrapping by width."""

    def __init__(self, canvas: Canvas, covered: frozenset[int]) -> None:
        self.canvas = canvas
        self.covered = covered
        self.y = HEIGHT - MARGIN

    def printable(self, text: str) -> str:
        return "".join(char if ord(char) in self.covered or char.isspace() else "?" for char in text)

    def width(self, text: str, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return float(stringWidth(text, _FONT, size))

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Lines of at most `width` points: Chinese breaks anywhere, so character by character."""
        lines, line = [], ""
        for char in self.printable(text):
            # Closing punctuation never starts a line (避头): it may stick out a little instead.
            if line and char not in _NO_LINE_START and self.width(line + char, size) > width:
                lines.append(line)
                line = char.lstrip()
            else:
                line += char
        return [*lines, line] if line else lines

    def room(self, needed: float) -> None:
        if self.y - needed < MARGIN:
            self.canvas.showPage()
            self.y = HEIGHT - MARGIN

    def text(self, text: str, size: float, *, align: str = "left", x: float = MARGIN, width: float = 0) -> None:
        width = width or WIDTH - 2 * MARGIN
        for line in self.wrap(text, size, width):
            self.room(size * 1.5)
            self.y -= size * 1.5
            self.canvas.setFont(_FONT, size)
            if align == "center":
                self.canvas.drawCentredString(x + width / 2, self.y, line)
            elif align == "right":
                self.canvas.drawRightString(x + width, self.y, line)
            else:
                self.canvas.drawString(x, self.y, line)

    def qr(self, url: str, x: float, y: float, side: float) -> None:
        """The QR code as squares (vector: sharp at any print size)."""
        import segno

        matrix = segno.make(url, error="m").matrix
        cell = side / (len(matrix) + 8)  # a quiet zone of four cells around it
        self.canvas.setFillColorRGB(0, 0, 0)
        for row, cells in enumerate(matrix):
            column = 0
            while column < len(cells):
                if not cells[column]:
                    column += 1
                    continue
                run = column
                while run < len(cells) and cells[run]:
                    run += 1
                # One rectangle per run of dark cells, a hair taller than a cell: no seams between
                # rows when a viewer anti-aliases (a scanner may read a seam as a light line).
                top = y + side - (row + 5) * cell
                self.canvas.rect(
                    x + (column + 4) * cell, top - 0.1, (run - column) * cell, cell + 0.2, stroke=0, fill=1
                )
                column = run


def _draw(font_path: str | None, title: str, draw: Callable[[_Page], None]) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    if font_path is None:
        raise DomainError("reports.no_cjk_font")
    covered = _registered(font_path)
    buffer = io.BytesIO()
    with _lock:
        canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), pageCompression=1)
        canvas.setTitle(title)
        draw(_Page(canvas, covered))
        canvas.save()
    return buffer.getvalue()


def certificate_pdf(page: CertificatePage, font_path: str | None) -> bytes:
    def draw(p: _Page) -> None:
        p.y -= 10 * MM
        p.text(page.title, 24, align="center")
        p.y -= 6 * MM
        for paragraph in page.paragraphs:
            p.text(paragraph, 12)
            p.y -= 2 * MM
        p.y -= 4 * MM
        widths = ((WIDTH - 2 * MARGIN) * 0.5, (WIDTH - 2 * MARGIN) * 0.25, (WIDTH - 2 * MARGIN) * 0.25)
        for row in (page.table_header, *page.table_rows):
            p.room(9 * MM)
            x = MARGIN
            for cell, width in zip(row, widths, strict=True):
                p.canvas.rect(x, p.y - 8 * MM, width, 8 * MM, stroke=1, fill=0)
                p.canvas.setFont(_FONT, 11)
                p.canvas.drawCentredString(x + width / 2, p.y - 5.5 * MM, p.printable(cell))
                x += width
            p.y -= 8 * MM
        if page.list_lines:
            p.y -= 6 * MM
            p.text(page.list_title, 12)
            for line in page.list_lines:
                p.text(line, 9.5)
        # The issuer, the date, the serial and the QR code at the bottom of the last page.
        block = 55 * MM
        p.room(block + 6 * MM)
        top = MARGIN + block
        p.qr(page.qr_url, MARGIN, MARGIN + 8 * MM, 45 * MM)
        p.canvas.setFont(_FONT, 8)
        p.canvas.drawString(MARGIN + 4 * MM, MARGIN + 4 * MM, p.printable(page.qr_caption))
        p.y = top
        right = MARGIN + 55 * MM
        p.text(page.committee, 12, align="right", x=right, width=WIDTH - MARGIN - right)
        for line in page.footer:
            p.text(line, 10, align="right", x=right, width=WIDTH - MARGIN - right)

    return _draw(font_path, page.title, draw)


def poster_pdf(page: PosterPage, font_path: str | None) -> bytes:
    """An A4 sheet to print and put up: the title, a large QR code, a line or two."""

    def draw(p: _Page) -> None:
        p.y -= 10 * MM
        p.text(page.title, 26, align="center")
        for line in page.lines:
            p.text(line, 14, align="center")
        side = 130 * MM
        p.y -= side + 10 * MM
        p.qr(page.qr_url, (WIDTH - side) / 2, p.y, side)
        p.y -= 4 * MM
        p.text(page.note, 12, align="center")

    return _draw(font_path, page.title, draw)
