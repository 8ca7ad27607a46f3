"""Writing XLSX files: sheets one after the other, rows streamed (XlsxWriter's constant-memory
mode: a county-year's 600,000 cells in ~3.5 s and little memory; openpyxl's write-only mode,
without lxml, spends ~35 µs a cell). Strings, numbers, and dates and times as real spreadsheet
dates (give them in the reader's zone, without tzinfo). openpyxl reads the results back in the
tests.

`StreamedBook` fills such a workbook from a database stream, batch by batch, in a worker thread,
with progress (the province-sized export: bot/domain/export_workbook.py)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written: start-up skips it
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# What a cell may hold: None and "" leave it empty.
Cell = str | int | float | date | None
T = TypeVar("T")


def _writer(name: str) -> Callable[[Worksheet], Callable[..., int]]:
    """The worksheet's `_write_<name>` (XlsxWriter 3.x), else its public `write_<name>`."""

    def bound(sheet: Worksheet) -> Callable[..., int]:
        found: Callable[..., int] = getattr(sheet, f"_write_{name}", None) or getattr(sheet, f"write_{name}")
        return found

    return bound


_WRITERS = (_writer("string"), _writer("number"), _writer("datetime"))


class _Sheet:
    def __init__(self, worksheet: Worksheet, formats: dict[type, Format]) -> None:
        self._worksheet = worksheet
        self._datetime = formats[datetime]
        self._date = formats[date]
        self._number = 0
        self._fast = _RowXml.of(worksheet, formats)

    def row(self, values: Iterable[Cell]) -> None:
        self._number += 1
        if self._fast is not None:
            self._fast.row(self._number, values)
            return
        sheet, number = self._worksheet, self._number
        # The typed writers behind XlsxWriter's public ones: those only turn "A1" references into
        # numbers first (a decorator), which costs ~0.4 s over a county-year's 700,000 cells.
        write_string, write_number, write_datetime = _WRITERS[0](sheet), _WRITERS[1](sheet), _WRITERS[2](sheet)
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                write_string(number, column, value)
            elif isinstance(value, datetime):
                write_datetime(number, column, value, self._datetime)
            elif isinstance(value, date):
                write_datetime(number, column, value, self._date)
            else:  # int, float
                write_number(number, column, value)


# Text that XlsxWriter would escape (XML's &, <, >; control characters; a literal "_x0041_").
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")


class _RowXml:
    """A row's XML written straight into the worksheet's constant-memory row file: the same XML
    XlsxWriter writes for these cell types (inline strings, numbers, dates with their format),
    ~4× faster than its cell-by-cell path (a province-year is five million cells). XlsxWriter's
    bookkeeping (the pending header row, dimensions, the last row written) is kept as it keeps
    it; `of` returns None when this XlsxWriter lacks what that needs (the typed writers then)."""

    def __init__(self, worksheet: Worksheet, datetime_xf: int, date_xf: int) -> None:
        from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name

        self._sheet = worksheet
        self._datetime_xf = datetime_xf
        self._date_xf = date_xf
        self._columns: list[str] = []
        self._name = xl_col_to_name
        self._preserve = _preserve_whitespace
        self._started = False

    @classmethod
    def of(cls, worksheet: Worksheet, formats: dict[type, Format]) -> _RowXml | None:
        needed = ("fh", "constant_memory", "previous_row", "dim_rowmax", "dim_colmax", "_write_single_row")
        if not all(hasattr(worksheet, name) for name in needed) or not worksheet.constant_memory:
            return None
        return cls(worksheet, formats[datetime]._get_xf_index(), formats[date]._get_xf_index())

    def _column(self, index: int) -> str:
        while len(self._columns) <= index:
            self._columns.append(self._name(len(self._columns)))
        return self._columns[index]

    def row(self, number: int, values: Iterable[Cell]) -> None:
        sheet = self._sheet
        if not self._started:  # the header row still waits in XlsxWriter's table: out first
            sheet._write_single_row(number)
            self._started = True
        line = number + 1
        parts = [f'<row r="{line}">']
        last = -1
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{self._column(column)}{line}"
            last = column
            if isinstance(value, str):
                parts.append(self._string(ref, value))
            elif isinstance(value, datetime):
                parts.append(f'<c r="{ref}" s="{self._datetime_xf}"><v>{sheet._convert_date_time(value):.16G}</v></c>')
            elif isinstance(value, date):
                parts.append(f'<c r="{ref}" s="{self._date_xf}"><v>{sheet._convert_date_time(value):.16G}</v></c>')
            else:  # int, float
                parts.append(f'<c r="{ref}"><v>{value:.16G}</v></c>')
        sheet.previous_row = number
        if last < 0:  # nothing in it: XlsxWriter writes no element for an empty row
            return
        parts.append("</row>")
        sheet.fh.write("".join(parts))
        if sheet.dim_rowmax is None or number > sheet.dim_rowmax:
            sheet.dim_rowmax = number
        if sheet.dim_colmax is None or last > sheet.dim_colmax:
            sheet.dim_colmax = last

    def _string(self, ref: str, value: str) -> str:
        if len(value) > 16383:  # possibly over Excel's 32,767 UTF-16 units: XlsxWriter truncates
            from xlsxwriter.worksheet import _utf16_len, _utf16_truncate

            if _utf16_len(value) > 32767:
                value = _utf16_truncate(value, 32767)
        if _NEEDS_ESCAPE.search(value):
            value = self._sheet._escape_data(self._sheet._escape_control_characters(value))
        space = ' xml:space="preserve"' if self._preserve(value) else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{value}</t></is></c>'


class XlsxWriter:
    """`with book.sheet(title, header, widths) as sheet: sheet.row([...])`, then `close()` gives
    the bytes. The header row is bold and frozen."""

    def __init__(self) -> None:
        import xlsxwriter  # here, not at start-up: most processes never write a workbook

        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(
            self._buffer,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._header = self._book.add_format({"bold": True})
        self._formats: dict[type, Format] = {
            datetime: self._book.add_format({"num_format": DATETIME_FORMAT}),
            date: self._book.add_format({"num_format": DATE_FORMAT}),
        }

    @contextmanager
    def sheet(self, title: str, header: list[str], widths: list[float]) -> Iterator[_Sheet]:
        worksheet = self._book.add_worksheet(_SHEET_NAME_BAD.sub(" ", title)[:31] or None)
        for column, width in enumerate(widths):
            worksheet.set_column(column, column, width)
        worksheet.freeze_panes(1, 0)
        worksheet.write_row(0, 0, header, self._header)
        yield _Sheet(worksheet, self._formats)

    def close(self) -> bytes:
        self._book.close()
        return self._buffer.getvalue()


# ---- streaming: rows written batch by batch in a worker thread, with progress ---------------------
@dataclass(frozen=True)
class Progress:
    """How far a workbook has come: sheets finished of all, and rows written so far (all sheets)."""

    sheets_done: int
    sheets: int
    rows: int


OnProgress = Callable[[Progress], Awaitable[None]]


async def in_batches(rows: Sequence[T], size: int = 2000) -> AsyncIterator[Sequence[T]]:
    """Rows already in memory (a small sheet), as the batches `StreamedBook.sheet` takes."""
    for first in range(0, len(rows), size):
        yield rows[first : first + size]


class StreamedBook:
    """An XlsxWriter whose sheets are filled from async batches (a database stream): each batch is
    turned into cells and written in a worker thread (`asyncio.to_thread`), so the event loop keeps
    answering everyone else, and only one batch is in memory at a time. `on_progress` hears after
    every batch and every sheet; `sheets` is how many sheets the book will have (for "3/9")."""

    def __init__(self, sheets: int, on_progress: OnProgress | None = None) -> None:
        self._book = XlsxWriter()
        self._progress = Progress(0, sheets, 0)
        self._on_progress = on_progress

    async def sheet(
        self,
        title: str,
        header: list[str],
        widths: list[float],
        batches: AsyncIterator[Sequence[T]],
        cells: Callable[[T], Iterable[Cell]],
    ) -> int:
        """Write one sheet from `batches`; returns its rows (the header aside)."""
        count = 0
        with self._book.sheet(title, header, widths) as sheet:
            async with _closing(batches):
                async for batch in batches:
                    await asyncio.to_thread(_write_batch, sheet, batch, cells)
                    count += len(batch)
                    await self._advance(rows=len(batch))
        await self._advance(sheets=1)
        return count

    async def close(self) -> bytes:
        return await asyncio.to_thread(self._book.close)

    async def _advance(self, *, rows: int = 0, sheets: int = 0) -> None:
        now = self._progress
        self._progress = Progress(now.sheets_done + sheets, max(now.sheets, now.sheets_done + sheets), now.rows + rows)
        if self._on_progress is not None:
            await self._on_progress(self._progress)


def _write_batch(sheet: _Sheet, batch: Sequence[T], cells: Callable[[T], Iterable[Cell]]) -> None:
    for item in batch:
        sheet.row(cells(item))


@asynccontextmanager
async def _closing(batches: AsyncIterator[object]) -> AsyncIterator[None]:
    """Close a generator left early (an error mid-sheet): its database snapshot ends at once."""
    try:
        yield
    finally:
        close = getattr(batches, "aclose", None)
        if close is not None:
            await close()
