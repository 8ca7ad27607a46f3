"""What every spreadsheet import shares: reading an XLSX or CSV file into a table, matching its
header to fields, reporting problems by row and column, and writing the template workbook.

An importer (`bot.org_import`, `bot.wish_import`) describes its file with a `TableFormat` (its
`Fields`, its catalog-key prefix as `ProblemKeys`, its limits); `TableFormat.read` reads the upload
(`read_table`) and maps its header (`map_columns`), or refuses it with `FileRefused`. The importer
checks each row itself, keeping at most one `Issue` per field (`read_choice` helps), and
`Columns.problems` turns those issues into sorted `RowProblem`s. Nothing here knows what a row
means, and nothing talks to the user: every problem carries a message-catalog key and the
parameters for it. `Template` and `template_xlsx` write the workbook users fill in.

File-level and header problems, all on row 1 (file-level ones have no column):

    key (after the prefix)  params
    unsupported_type        name              file name not ending in .xlsx / .csv
    unreadable              -                 corrupt xlsx, or csv in no known encoding
    too_large               limit_mb
    too_many_rows           limit
    (hardening.upload_over_limit: limit_mb, max_cells, max_rows, max_seconds, without the prefix:
     the same for every import) more than MAX_UNZIPPED_BYTES inside an XLSX, more than
     MAX_CELLS cells read (blank rows and cells count: they cost as much to read), or more than
     MAX_READ_SECONDS spent reading
    no_rows                 -                 empty file, or only a header
    missing_column          column            canonical header of a required column
    unknown_column          column            header text; for a column without header text
                                              that holds data, its letter ("E")
    duplicate_column        column            the second header naming the same field

Reading is synchronous and CPU-bound; importers call it off the event loop. Every limit is
checked while reading, so an over-limit file costs at most the limit: a file of 200,000 blank
rows × 20 cells used to cost 27 s of CPU (openpyxl scans the whole sheet for its size when the
file does not state it: MAX_UNZIPPED_BYTES bounds that scan). A file is read once per upload:
`TableFormat.read` keeps the last few tables read (by the content's digest) so that the import's
second check, on confirm, re-checks the rows against the current data without reading the file
again; `forget_upload` drops one as soon as its import is over.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # openpyxl is imported where a workbook is read or written: start-up skips it
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "Columns",
    "Fields",
    "FileRefused",
    "ImportResult",
    "Issue",
    "Line",
    "ProblemKeys",
    "RowProblem",
    "Table",
    "TableFormat",
    "Template",
    "cell_text",
    "dropdown",
    "forget_upload",
    "map_columns",
    "read_choice",
    "read_table",
    "template_xlsx",
    "whole_numbers",
]

EXTENSIONS = (".xlsx", ".csv")
# Limits on reading any upload, whatever the importer's own row and byte limits. A full import
# (2,000 rows × 15 columns) is 30,000 cells and about 2 MB of XML, read in well under a second.
MAX_UNZIPPED_BYTES = 16 * 1024 * 1024  # everything inside an XLSX, as stored in its directory
MAX_CELLS = 100_000  # cells read, header and blank rows included (a blank row counts at least 1)
MAX_READ_SECONDS = 10.0
OVER_LIMIT_KEY = "hardening.upload_over_limit"
_DEADLINE_EVERY_ROWS = 256
_RECENT_TABLES = 4  # uploads waiting for their confirm tap
_CSV_DELIMITERS = ",;\t"
_CSV_SNIFF_CHARS = 16 * 1024

# A catalog key and its params, before it is tied to a row and column.
Issue = tuple[str, dict[str, object]]
# A row as read: cell values (None, text, numbers, dates) as openpyxl or the CSV reader gives them.
Cells = tuple[object, ...]
RowT = TypeVar("RowT")
T = TypeVar("T")


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1 for header and file-level problems
    column: str | None  # header text as written, canonical header if missing, None for the file
    key: str  # message-catalog key
    params: dict[str, object]


@dataclass(frozen=True)
class ImportResult(Generic[RowT]):
    """Rows and no problems, or problems and no rows: nothing is imported unless all is valid."""

    rows: tuple[RowT, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @classmethod
    def failed(cls, problems: Iterable[RowProblem]) -> ImportResult[RowT]:
        return cls(rows=(), problems=tuple(problems))


@dataclass(frozen=True)
class ProblemKeys:
    """The catalog keys of one importer's file-level and header problems: `prefix` + name."""

    prefix: str  # "import.", "wish_import."

    def of(self, name: str) -> str:
        return self.prefix + name


class FileRefused(Exception):
    """The whole file is refused before its rows are looked at: file-level or header problems."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(", ".join(problem.key for problem in problems))
        self.problems = tuple(problems)

    @classmethod
    def because(cls, key: str, **params: object) -> FileRefused:
        return cls([RowProblem(row=1, column=None, key=key, params=params)])


# --- reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    row: int  # as the spreadsheet numbers it: the header is row 1
    values: Cells


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]  # cell texts of row 1
    data: tuple[Line, ...]  # the non-blank rows after it; never empty


class _Unreadable(Exception):
    pass


def read_table(
    file_name: str,
    content: bytes,
    *,
    keys: ProblemKeys,
    max_rows: int,
    max_bytes: int,
    max_cells: int = MAX_CELLS,
    max_seconds: float = MAX_READ_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> Table:
    """The file's header and non-blank rows; raises `FileRefused` for a file it cannot use.

    XLSX: the first sheet. CSV: UTF-8 (with or without BOM) or GB18030, delimiter `,` `;` or tab.
    """
    extension = os.path.splitext(file_name)[1].lower()
    if extension not in EXTENSIONS:
        raise FileRefused.because(keys.of("unsupported_type"), name=file_name)
    if len(content) > max_bytes:
        raise FileRefused.because(keys.of("too_large"), limit_mb=max_bytes // (1024 * 1024))
    limits = _Limits(max_bytes, max_rows, max_cells, max_seconds)
    deadline = monotonic() + max_seconds
    # closing: a refusal half-way closes the workbook at once, not when the generator is collected.
    try:
        with closing(_xlsx_rows(content, limits) if extension == ".xlsx" else _csv_rows(content)) as rows:
            return _collect_table(rows, keys=keys, limits=limits, deadline=deadline, clock=monotonic)
    except _Unreadable as error:
        raise FileRefused.because(keys.of("unreadable")) from error.__cause__


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_rows: int
    max_cells: int
    max_seconds: float

    def refused(self) -> FileRefused:
        return FileRefused.because(
            OVER_LIMIT_KEY,
            limit_mb=self.max_bytes // (1024 * 1024),
            max_cells=self.max_cells,
            max_rows=self.max_rows,
            max_seconds=int(self.max_seconds),
        )


def _collect_table(
    rows: Iterable[Cells], *, keys: ProblemKeys, limits: _Limits, deadline: float, clock: Callable[[], float]
) -> Table:
    header: tuple[str, ...] = ()
    data: list[Line] = []
    cells = 0
    for row_number, values in enumerate(rows, start=1):
        cells += max(1, len(values))
        if cells > limits.max_cells:
            raise limits.refused()
        if row_number % _DEADLINE_EVERY_ROWS == 0 and clock() > deadline:
            raise limits.refused()
        if row_number == 1:
            header = tuple(cell_text(value) for value in values)
        elif not _is_blank(values):
            if len(data) == limits.max_rows:
                raise FileRefused.because(keys.of("too_many_rows"), limit=limits.max_rows)
            data.append(Line(row=row_number, values=tuple(values)))
    if not data:
        raise FileRefused.because(keys.of("no_rows"))
    return Table(header=header, data=tuple(data))


def _xlsx_rows(content: bytes, limits: _Limits) -> Generator[Cells, None, None]:
    import openpyxl

    _check_unzipped_size(content, limits)
    # openpyxl reports malformed files through many unrelated exception types (zip, XML, KeyError…).
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _Unreadable from error
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # Some writers store a stale sheet size; ignoring it makes openpyxl read every row present.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as error:
            raise _Unreadable from error
    finally:
        workbook.close()


def _check_unzipped_size(content: bytes, limits: _Limits) -> None:
    """Before openpyxl: what the XLSX holds once unzipped (its directory's sizes, which bound
    what zipfile will inflate). A small file can inflate to a huge sheet, and openpyxl reads a
    sheet that does not state its size from end to end before yielding its first row."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _Unreadable from error
    if unzipped > MAX_UNZIPPED_BYTES:
        raise limits.refused()


def _csv_rows(content: bytes) -> Generator[Cells, None, None]:
    text = _decode_csv(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        for record in reader:
            yield tuple(record)
    except csv.Error as error:
        raise _Unreadable from error


def _decode_csv(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Excel on Chinese Windows saves CSV in the local code page (GBK, a subset of GB18030).
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _Unreadable from error


def _sniff_delimiter(text: str) -> str:
    sample = text[:_CSV_SNIFF_CHARS]
    if len(text) > _CSV_SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # a cut-off last line would skew the counts
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer wants every line to agree; the header alone is a good enough witness.
    header = sample.partition("\n")[0]
    best = max(_CSV_DELIMITERS, key=header.count)
    return best if header.count(best) else ","


def _is_blank(values: Iterable[object]) -> bool:
    return all(cell_text(value) == "" for value in values)


def cell_text(value: object) -> str:
    """A cell as trimmed text: "" for an empty cell, "3" for the number 3.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- the header -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fields:
    """The columns an import understands.

    `headers` maps each field id to its canonical header, in template order; the field ids double
    as accepted English headers, and `aliases` adds other accepted texts. Header text is compared
    after `normalise`.
    """

    headers: Mapping[str, str]
    required: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    normalise: Callable[[str], str] = str.casefold
    _by_text: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_text = {
            self.normalise(text): name
            for name, header in self.headers.items()
            for text in (header, name, *self.aliases.get(name, ()))
        }
        object.__setattr__(self, "_by_text", by_text)  # frozen: set once, here

    def named_by(self, text: str) -> str | None:
        """The field a header text names, or None."""
        return self._by_text.get(self.normalise(text))

    def letter(self, name: str) -> str:
        """The field's column letter in the template."""
        from openpyxl.utils import get_column_letter

        letter: str = get_column_letter(list(self.headers).index(name) + 1)  # openpyxl has no types
        return letter


@dataclass(frozen=True)
class Columns:
    """Where each field is in the file, and the header text the user wrote for it."""

    position: dict[str, int]
    header: tuple[str, ...]

    def cell(self, line: Line, name: str) -> object:
        index = self.position.get(name)
        if index is None or index >= len(line.values):
            return None
        return line.values[index]

    def problem(self, row: int, name: str, issue: Issue) -> RowProblem:
        key, params = issue
        return RowProblem(row=row, column=self.header[self.position[name]], key=key, params=params)

    def problems(self, issues_by_row: Iterable[tuple[int, Mapping[str, Issue]]]) -> list[RowProblem]:
        """Every row's issues as problems, sorted by row, then by column position in the file."""
        found = [self.problem(row, name, issue) for row, issues in issues_by_row for name, issue in issues.items()]
        return sorted(found, key=lambda problem: (problem.row, self.header.index(problem.column)))


def map_columns(table: Table, fields: Fields, keys: ProblemKeys) -> tuple[Columns, list[RowProblem]]:
    """The columns of each field, and the header's problems in column order (missing ones last)."""
    from openpyxl.utils import get_column_letter

    position: dict[str, int] = {}
    located: list[tuple[int, RowProblem]] = []
    for index, text in enumerate(table.header):
        if not text:
            continue
        name = fields.named_by(text)
        if name is None:
            located.append((index, _header_problem(text, keys.of("unknown_column"))))
        elif name in position:
            located.append((index, _header_problem(text, keys.of("duplicate_column"))))
        else:
            position[name] = index
    for index in _unnamed_columns_with_data(table):
        letter = get_column_letter(index + 1)
        located.append((index, _header_problem(letter, keys.of("unknown_column"))))
    for name in fields.required:
        if name not in position:
            missing = _header_problem(fields.headers[name], keys.of("missing_column"))
            located.append((len(table.header), missing))
    located.sort(key=lambda item: item[0])
    return Columns(position=position, header=table.header), [problem for _, problem in located]


def _unnamed_columns_with_data(table: Table) -> list[int]:
    """Columns with no header text are ignored, unless a row put something in them."""
    width = max(len(line.values) for line in table.data)
    return [
        index
        for index in range(width)
        if (index >= len(table.header) or not table.header[index])
        and any(index < len(line.values) and cell_text(line.values[index]) for line in table.data)
    ]


def _header_problem(column: str, key: str) -> RowProblem:
    return RowProblem(row=1, column=column, key=key, params={"column": column})


@dataclass(frozen=True)
class TableFormat:
    """What one importer accepts: its columns, its catalog-key prefix and its limits."""

    fields: Fields
    keys: ProblemKeys
    max_rows: int
    max_bytes: int

    def read(self, file_name: str, content: bytes) -> tuple[Columns, tuple[Line, ...]]:
        """Where each field is and the data rows; raises `FileRefused` for a file-level problem,
        or with every header problem: a broken header makes every cell's meaning uncertain, so
        row checks would only add noise. A file read moments ago (the same bytes, awaiting the
        confirm tap) is not read again."""
        key = _upload_key(file_name, content, self.max_rows, self.max_bytes)
        table = _recent.get(key)
        if table is None:
            table = read_table(file_name, content, keys=self.keys, max_rows=self.max_rows, max_bytes=self.max_bytes)
            _recent.put(key, table)
        columns, header_problems = map_columns(table, self.fields, self.keys)
        if header_problems:
            raise FileRefused(header_problems)
        return columns, table.data


def _upload_key(file_name: str, content: bytes, max_rows: int, max_bytes: int) -> tuple[str, str, int, int]:
    extension = os.path.splitext(file_name)[1].lower()
    return hashlib.sha256(content).hexdigest(), extension, max_rows, max_bytes


class _RecentTables:
    """The last few tables read, for the confirm step's second check (thread-safe: imports read
    in worker threads). Bounded, and emptied of an upload once its import is over, since a
    wish import's table holds children's private details."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tables: OrderedDict[tuple[str, str, int, int], Table] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int, int]) -> Table | None:
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
            return table

    def put(self, key: tuple[str, str, int, int], table: Table) -> None:
        with self._lock:
            self._tables[key] = table
            self._tables.move_to_end(key)
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)

    def forget(self, digest: str) -> None:
        with self._lock:
            for key in [key for key in self._tables if key[0] == digest]:
                del self._tables[key]


_recent = _RecentTables(_RECENT_TABLES)


def forget_upload(content: bytes) -> None:
    """Drop the table read from this upload (its import was stored, or refused on confirm)."""
    _recent.forget(hashlib.sha256(content).hexdigest())


# --- the rows ---------------------------------------------------------------------------------


def read_choice(
    text: str, parse: Callable[[str], T | None], *, required: str, unknown: str
) -> tuple[T | None, Issue | None]:
    """A required cell naming one of known values: the value, or the `required` issue for an
    empty cell, or the `unknown` issue (the text as `value`) when `parse` finds nothing."""
    if not text:
        return None, (required, {})
    value = parse(text)
    if value is None:
        return None, (unknown, {"value": text})
    return value, None


# --- the template -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A workbook with a data sheet (bold header, examples, input checks) and a help sheet."""

    table_format: TableFormat  # headers from its fields; input checks cover its max_rows
    sheet: str
    examples: Sequence[Cells]
    widths: Sequence[int]
    help_sheet: str
    help_sections: Sequence[Sequence[Cells]]  # tables; the first row of each is its heading
    help_widths: tuple[int, int, int]
    checks: Sequence[tuple[str, DataValidation]] = ()  # (field, check), in this order
    text_fields: Sequence[str] = ()  # stored as text, so that a leading 0 stays


def dropdown(choices: Iterable[str]) -> DataValidation:
    """A list to pick from; other text only warns, since importers accept aliases too."""
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
    )


def whole_numbers(minimum: int, maximum: int) -> DataValidation:
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="whole",
        operator="between",
        formula1=str(minimum),
        formula2=str(maximum),
        allow_blank=True,
        showErrorMessage=True,
    )


def template_xlsx(template: Template) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    _fill_data_sheet(workbook.active, template)
    _fill_help_sheet(workbook.create_sheet(template.help_sheet), template)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill_data_sheet(sheet: Worksheet, template: Template) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    fields, max_rows = template.table_format.fields, template.table_format.max_rows
    sheet.title = template.sheet
    sheet.append(tuple(fields.headers.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in template.examples:
        sheet.append(example)
    for index, width in enumerate(template.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    for name in template.text_fields:
        for row in range(2, max_rows + 2):
            sheet[f"{fields.letter(name)}{row}"].number_format = "@"
    for name, check in template.checks:
        letter = fields.letter(name)
        check.add(f"{letter}2:{letter}{max_rows + 1}")
        sheet.add_data_validation(check)


def _fill_help_sheet(sheet: Worksheet, template: Template) -> None:
    from openpyxl.styles import Alignment, Font

    for section in template.help_sections:
        if sheet.max_row > 1:
            sheet.append(())
        heading, *lines = section
        sheet.append(heading)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for line in lines:
            sheet.append(line)
    for letter, width in zip("ABC", template.help_widths, strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
