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
    no_rows                 -                 empty file, or only a header
    missing_column          column            canonical header of a required column
    unknown_column          column            header text; for a column without header text
                                              that holds data, its letter ("E")
    duplicate_column        column            the second header naming the same field

Reading is synchronous and CPU-bound; importers call it off the event loop.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # openpyxl is imported where a workbook is read or written: start-up skips it
    from openpyxl.worksheet.datavalidation import DataValidation

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
    "map_columns",
    "read_choice",
    "read_table",
    "template_xlsx",
    "whole_numbers",
]

EXTENSIONS = (".xlsx", ".csv")
_CSV_DELIMITERS = ",;\t"
_CSV_SNIFF_CHARS = 16 * 1024

# A catalog key and its params, before it is tied to a row and column.
Issue = tuple[str, dict]
RowT = TypeVar("RowT")
T = TypeVar("T")


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1 for header and file-level problems
    column: str | None  # header text as written, canonical header if missing, None for the file
    key: str  # message-catalog key
    params: dict


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
    def because(cls, key: str, **params: Any) -> FileRefused:
        return cls([RowProblem(row=1, column=None, key=key, params=params)])


# --- reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    row: int  # as the spreadsheet numbers it: the header is row 1
    values: tuple


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]  # cell texts of row 1
    data: tuple[Line, ...]  # the non-blank rows after it; never empty


class _Unreadable(Exception):
    pass


def read_table(file_name: str, content: bytes, *, keys: ProblemKeys, max_rows: int, max_bytes: int) -> Table:
    """The file's header and non-blank rows; raises `FileRefused` for a file it cannot use.

    XLSX: the first sheet. CSV: UTF-8 (with or without BOM) or GB18030, delimiter `,` `;` or tab.
    """
    extension = os.path.splitext(file_name)[1].lower()
    if extension not in EXTENSIONS:
        raise FileRefused.because(keys.of("unsupported_type"), name=file_name)
    if len(content) > max_bytes:
        raise FileRefused.because(keys.of("too_large"), limit_mb=max_bytes // (1024 * 1024))
    rows = _xlsx_rows(content) if extension == ".xlsx" else _csv_rows(content)
    try:
        return _collect_table(rows, keys=keys, max_rows=max_rows)
    except _Unreadable as error:
        raise FileRefused.because(keys.of("unreadable")) from error.__cause__


def _collect_table(rows: Iterable[tuple], *, keys: ProblemKeys, max_rows: int) -> Table:
    header: tuple[str, ...] = ()
    data: list[Line] = []
    for row_number, values in enumerate(rows, start=1):
        if row_number == 1:
            header = tuple(cell_text(value) for value in values)
        elif not _is_blank(values):
            if len(data) == max_rows:
                raise FileRefused.because(keys.of("too_many_rows"), limit=max_rows)
            data.append(Line(row=row_number, values=tuple(values)))
    if not data:
        raise FileRefused.because(keys.of("no_rows"))
    return Table(header=header, data=tuple(data))


def _xlsx_rows(content: bytes) -> Iterator[tuple]:
    import openpyxl

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


def _csv_rows(content: bytes) -> Iterator[tuple]:
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


def _is_blank(values: Iterable) -> bool:
    return all(cell_text(value) == "" for value in values)


def cell_text(value: Any) -> str:
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

        return get_column_letter(list(self.headers).index(name) + 1)


@dataclass(frozen=True)
class Columns:
    """Where each field is in the file, and the header text the user wrote for it."""

    position: dict[str, int]
    header: tuple[str, ...]

    def cell(self, line: Line, name: str) -> Any:
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
        row checks would only add noise."""
        table = read_table(file_name, content, keys=self.keys, max_rows=self.max_rows, max_bytes=self.max_bytes)
        columns, header_problems = map_columns(table, self.fields, self.keys)
        if header_problems:
            raise FileRefused(header_problems)
        return columns, table.data


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
    examples: Sequence[tuple]
    widths: Sequence[int]
    help_sheet: str
    help_sections: Sequence[Sequence[tuple]]  # tables; the first row of each is its heading
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


def _fill_data_sheet(sheet, template: Template) -> None:
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


def _fill_help_sheet(sheet, template: Template) -> None:
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
