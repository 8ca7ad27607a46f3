"""Bulk import of organisations from an XLSX or CSV file, and the template for that file.

File format: the first row is the header, every following non-blank row is one organisation.

    名称          (name)         required, 1..60 characters after trimming, unique in the file
                                 and not already an organisation
    类型          (kind)         required, a Chinese label from `KIND_LABELS` (or an alias) or
                                 an `OrgKind` value
    上级组织      (parent)       optional, the name of an existing organisation or of another
                                 row of the same file; no self-reference, no cycles
    年度实事指标  (deeds_quota)  optional integer 0..50; empty means `default_quota(kind)`

English headers (in brackets) are accepted too, case-insensitively; column order is free.

Nothing is imported unless every row is valid, so `parse_org_file` either returns rows and no
problems, or problems and no rows. It never talks to the user: each problem is a `RowProblem`
holding a message-catalog key and the parameters for that message. File-level and header
problems are on row 1; file-level ones have no column.

    key                             params
    import.unsupported_type         name              file name not ending in .xlsx / .csv
    import.unreadable               -                 corrupt xlsx, or csv in no known encoding
    import.too_large                limit_mb
    import.too_many_rows            limit
    import.no_rows                  -                 empty file, or only a header
    import.missing_column           column            canonical Chinese header of a required column
    import.unknown_column           column            header text; for a column without header
                                                      text that holds data, its letter ("E")
    import.duplicate_column         column            the second header naming the same field
    import.name_required            -
    import.name_too_long            value, max
    import.name_duplicate_in_file   value, first_row
    import.name_exists              value
    import.kind_required            -
    import.kind_unknown             value
    import.parent_unknown           value
    import.parent_self              value
    import.parent_cycle             value             the parent named on a row that is in a cycle
    import.quota_not_integer        value
    import.quota_out_of_range       value, min, max

Problems are sorted by row, then by column position in the file. Each cell gets at most one.
When the header has problems, only those are reported: the rows are checked once it is fixed.

Parsing is synchronous and CPU-bound (up to 5 MB); call it off the event loop.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from storage.models import OrgKind

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
MAX_NAME_LENGTH = 60
QUOTA_MIN = 0
QUOTA_MAX = 50
HEADERS = ("名称", "类型", "上级组织", "年度实事指标")

# The first label of each kind is the canonical one (template dropdown, display hints).
_KIND_ALIASES: dict[OrgKind, tuple[str, ...]] = {
    OrgKind.COUNTY_COMMITTEE: ("团县委",),
    OrgKind.COUNTY_LEVEL: ("县直机关直属团组织", "县直团组织", "县直"),
    OrgKind.TOWNSHIP: ("乡镇团委", "乡镇", "大团委", "实体化大团委"),
    OrgKind.VILLAGE_BRANCH: ("村团支部", "村级团支部", "村"),
    OrgKind.SCHOOL: ("学校", "学校团组织"),
    OrgKind.OTHER: ("其他",),
}
KIND_LABELS: dict[OrgKind, str] = {kind: labels[0] for kind, labels in _KIND_ALIASES.items()}

_KIND_BY_TEXT: dict[str, OrgKind] = {
    **{label.casefold(): kind for kind, labels in _KIND_ALIASES.items() for label in labels},
    **{kind.value.casefold(): kind for kind in OrgKind},
}

_DEFAULT_QUOTAS = {OrgKind.COUNTY_LEVEL: 3, OrgKind.TOWNSHIP: 1}

_NAME, _KIND, _PARENT, _QUOTA = "name", "kind", "parent", "deeds_quota"
_FIELDS = (_NAME, _KIND, _PARENT, _QUOTA)
_REQUIRED_FIELDS = (_NAME, _KIND)
_CANONICAL_HEADER = dict(zip(_FIELDS, HEADERS, strict=False))
# The field ids double as the accepted English headers.
_FIELD_BY_HEADER = {
    **{header.casefold(): field for field, header in _CANONICAL_HEADER.items()},
    **{field: field for field in _FIELDS},
}

_CSV_DELIMITERS = ",;\t"
_CSV_SNIFF_CHARS = 16 * 1024

_TEMPLATE_SHEET = "组织"
_TEMPLATE_HELP_SHEET = "说明"
_TEMPLATE_EXAMPLES = (
    ("县教育局团委", KIND_LABELS[OrgKind.COUNTY_LEVEL], None, 3),
    ("城关镇团委", KIND_LABELS[OrgKind.TOWNSHIP], None, 1),
)
_TEMPLATE_WIDTHS = (30, 22, 30, 16)


@dataclass(frozen=True)
class OrgRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str
    kind: OrgKind
    parent_name: str | None
    deeds_quota: int


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1 for header and file-level problems
    column: str | None  # header text as written, canonical header if missing, None for the file
    key: str  # message-catalog key, see the module docstring
    params: dict


@dataclass(frozen=True)
class ImportResult:
    """`rows` are ordered so that a parent from the file comes before its children."""

    rows: tuple[OrgRow, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def default_quota(kind: OrgKind) -> int:
    return _DEFAULT_QUOTAS.get(kind, 0)


def parse_kind(text: str) -> OrgKind | None:
    return _KIND_BY_TEXT.get(text.strip().casefold())


def parse_org_file(file_name: str, content: bytes, *, existing_names: set[str]) -> ImportResult:
    try:
        table = _read_table(file_name, content)
    except _Rejected as rejected:
        return _failed([rejected.problem])
    columns, header_problems = _map_columns(table)
    if header_problems:
        # A broken header makes every cell's meaning uncertain; row checks would only add noise.
        return _failed(header_problems)
    drafts = [_read_row(line, columns) for line in table.data]
    _check_names(drafts, existing_names)
    _check_parents(drafts, existing_names)
    problems = _collect_problems(drafts, columns)
    if problems:
        return _failed(problems)
    return ImportResult(rows=_parents_first([draft.to_row() for draft in drafts]), problems=())


# --- reading the file -------------------------------------------------------------------------


class _Rejected(Exception):
    """The whole file is refused before its rows are looked at."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.problem = RowProblem(row=1, column=None, key=key, params=params)


@dataclass(frozen=True)
class _Line:
    row: int
    values: tuple


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    data: tuple[_Line, ...]


def _read_table(file_name: str, content: bytes) -> _Table:
    extension = os.path.splitext(file_name)[1].lower()
    if extension not in (".xlsx", ".csv"):
        raise _Rejected("import.unsupported_type", name=file_name)
    if len(content) > MAX_BYTES:
        raise _Rejected("import.too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    rows = _xlsx_rows(content) if extension == ".xlsx" else _csv_rows(content)
    return _collect_table(rows)


def _xlsx_rows(content: bytes) -> Iterator[tuple]:
    # openpyxl reports malformed files through many unrelated exception types (zip, XML, KeyError…).
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _Rejected("import.unreadable") from error
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # Some writers store a stale sheet size; ignoring it makes openpyxl read every row present.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as error:
            raise _Rejected("import.unreadable") from error
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Iterator[tuple]:
    text = _decode_csv(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        for record in reader:
            yield tuple(record)
    except csv.Error as error:
        raise _Rejected("import.unreadable") from error


def _decode_csv(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Excel on Chinese Windows saves CSV in the local code page (GBK, a subset of GB18030).
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _Rejected("import.unreadable") from error


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


def _collect_table(rows: Iterable[tuple]) -> _Table:
    header: tuple[str, ...] = ()
    data: list[_Line] = []
    for row_number, values in enumerate(rows, start=1):
        if row_number == 1:
            header = tuple(_cell_text(value) for value in values)
        elif not _is_blank(values):
            if len(data) == MAX_ROWS:
                raise _Rejected("import.too_many_rows", limit=MAX_ROWS)
            data.append(_Line(row=row_number, values=tuple(values)))
    if not data:
        raise _Rejected("import.no_rows")
    return _Table(header=header, data=tuple(data))


def _is_blank(values: Iterable) -> bool:
    return all(_cell_text(value) == "" for value in values)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- the header -------------------------------------------------------------------------------

# A catalog key and its params, before it is tied to a row and column.
_Issue = tuple[str, dict]


@dataclass(frozen=True)
class _Columns:
    """Where each field is in the file, and the header text the user wrote for it."""

    position: dict[str, int]
    header: tuple[str, ...]

    def cell(self, line: _Line, field: str) -> Any:
        index = self.position.get(field)
        if index is None or index >= len(line.values):
            return None
        return line.values[index]

    def problem(self, row: int, field: str, issue: _Issue) -> RowProblem:
        key, params = issue
        return RowProblem(row=row, column=self.header[self.position[field]], key=key, params=params)

    def sort_key(self, problem: RowProblem) -> tuple[int, int]:
        return problem.row, self.header.index(problem.column)


def _map_columns(table: _Table) -> tuple[_Columns, list[RowProblem]]:
    position: dict[str, int] = {}
    located: list[tuple[int, RowProblem]] = []
    for index, text in enumerate(table.header):
        if not text:
            continue
        field = _FIELD_BY_HEADER.get(text.casefold())
        if field is None:
            located.append((index, _header_problem(text, "import.unknown_column")))
        elif field in position:
            located.append((index, _header_problem(text, "import.duplicate_column")))
        else:
            position[field] = index
    for index in _unnamed_columns_with_data(table):
        letter = get_column_letter(index + 1)
        located.append((index, _header_problem(letter, "import.unknown_column")))
    for field in _REQUIRED_FIELDS:
        if field not in position:
            missing = _header_problem(_CANONICAL_HEADER[field], "import.missing_column")
            located.append((len(table.header), missing))
    located.sort(key=lambda item: item[0])
    return _Columns(position=position, header=table.header), [problem for _, problem in located]


def _unnamed_columns_with_data(table: _Table) -> list[int]:
    """Columns with no header text are ignored, unless a row put something in them."""
    width = max(len(line.values) for line in table.data)
    return [
        index
        for index in range(width)
        if (index >= len(table.header) or not table.header[index])
        and any(index < len(line.values) and _cell_text(line.values[index]) for line in table.data)
    ]


def _header_problem(column: str, key: str) -> RowProblem:
    return RowProblem(row=1, column=column, key=key, params={"column": column})


# --- the rows ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    """One data row as read, with at most one issue per field."""

    row: int
    name: str
    kind: OrgKind | None
    parent_name: str | None
    quota: int | None
    issues: dict[str, _Issue]

    def to_row(self) -> OrgRow:
        assert self.kind is not None and self.quota is not None
        return OrgRow(self.row, self.name, self.kind, self.parent_name, self.quota)


def _collect_problems(drafts: list[_Draft], columns: _Columns) -> list[RowProblem]:
    problems = [
        columns.problem(draft.row, field, issue)
        for draft in drafts
        for field, issue in draft.issues.items()
    ]
    return sorted(problems, key=columns.sort_key)


def _read_row(line: _Line, columns: _Columns) -> _Draft:
    name, name_issue = _read_name(columns.cell(line, _NAME))
    kind, kind_issue = _read_kind(columns.cell(line, _KIND))
    quota, quota_issue = _read_quota(columns.cell(line, _QUOTA), kind)
    parent_name = _cell_text(columns.cell(line, _PARENT)) or None
    issues = {_NAME: name_issue, _KIND: kind_issue, _QUOTA: quota_issue}
    found = {field: issue for field, issue in issues.items() if issue is not None}
    return _Draft(line.row, name, kind, parent_name, quota, found)


def _read_name(raw: Any) -> tuple[str, _Issue | None]:
    name = _cell_text(raw)
    if not name:
        return name, ("import.name_required", {})
    if len(name) > MAX_NAME_LENGTH:
        return name, ("import.name_too_long", {"value": name, "max": MAX_NAME_LENGTH})
    return name, None


def _read_kind(raw: Any) -> tuple[OrgKind | None, _Issue | None]:
    text = _cell_text(raw)
    if not text:
        return None, ("import.kind_required", {})
    kind = parse_kind(text)
    if kind is None:
        return None, ("import.kind_unknown", {"value": text})
    return kind, None


def _read_quota(raw: Any, kind: OrgKind | None) -> tuple[int | None, _Issue | None]:
    text = _cell_text(raw)
    if not text:
        return (default_quota(kind) if kind is not None else None), None
    number = _whole_number(raw)
    if number is None:
        return None, ("import.quota_not_integer", {"value": text})
    if not QUOTA_MIN <= number <= QUOTA_MAX:
        params = {"value": text, "min": QUOTA_MIN, "max": QUOTA_MAX}
        return None, ("import.quota_out_of_range", params)
    return int(number), None


def _whole_number(raw: Any) -> Decimal | None:
    """The cell as a whole number (3, 3.0, "3", " 3.0 "), or None for 3.5, "abc", True…"""
    if isinstance(raw, bool):
        return None
    try:
        number = Decimal(raw) if isinstance(raw, int | float) else Decimal(_cell_text(raw))
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return number


def _check_names(drafts: list[_Draft], existing_names: set[str]) -> None:
    first_row: dict[str, int] = {}
    for draft in drafts:
        if _NAME in draft.issues:
            continue
        if draft.name in existing_names:
            draft.issues[_NAME] = ("import.name_exists", {"value": draft.name})
        elif draft.name in first_row:
            params = {"value": draft.name, "first_row": first_row[draft.name]}
            draft.issues[_NAME] = ("import.name_duplicate_in_file", params)
        else:
            first_row[draft.name] = draft.row


def _check_parents(drafts: list[_Draft], existing_names: set[str]) -> None:
    names_in_file = {draft.name for draft in drafts if draft.name}
    for draft in drafts:
        parent = draft.parent_name
        if parent is None:
            continue
        if parent == draft.name:
            draft.issues[_PARENT] = ("import.parent_self", {"value": parent})
        elif parent not in names_in_file and parent not in existing_names:
            draft.issues[_PARENT] = ("import.parent_unknown", {"value": parent})
    for draft in _rows_in_cycles(drafts):
        draft.issues.setdefault(_PARENT, ("import.parent_cycle", {"value": draft.parent_name}))


def _rows_in_cycles(drafts: list[_Draft]) -> list[_Draft]:
    """Rows whose chain of parents inside the file leads back to themselves."""
    by_name: dict[str, _Draft] = {}
    for draft in drafts:
        by_name.setdefault(draft.name, draft)
    on_cycle: set[str] = set()
    walked: set[str] = set()
    for start in by_name:
        path: list[str] = []
        name: str | None = start
        while name in by_name and name not in walked:
            if name in path:
                on_cycle.update(path[path.index(name):])
                break
            path.append(name)
            name = by_name[name].parent_name
        walked.update(path)
    return [draft for name, draft in by_name.items() if name in on_cycle]


def _parents_first(rows: list[OrgRow]) -> tuple[OrgRow, ...]:
    """File order, except that a parent defined further down is moved before its children."""
    by_name = {row.name: row for row in rows}
    ordered: list[OrgRow] = []
    placed: set[str] = set()
    for row in rows:
        chain: list[OrgRow] = []
        current: OrgRow | None = row
        while current is not None and current.name not in placed:
            chain.append(current)
            placed.add(current.name)
            current = by_name.get(current.parent_name) if current.parent_name else None
        ordered.extend(reversed(chain))
    return tuple(ordered)


def _failed(problems: list[RowProblem]) -> ImportResult:
    return ImportResult(rows=(), problems=tuple(problems))


# --- the template -----------------------------------------------------------------------------


def build_template_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    _fill_data_sheet(workbook.active)
    _fill_help_sheet(workbook.create_sheet(_TEMPLATE_HELP_SHEET))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill_data_sheet(sheet) -> None:
    sheet.title = _TEMPLATE_SHEET
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in _TEMPLATE_EXAMPLES:
        sheet.append(example)
    for index, width in enumerate(_TEMPLATE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    kind_choices = '"' + ",".join(KIND_LABELS.values()) + '"'
    # A warning rather than a refusal: the aliases the importer accepts are not in the list.
    kinds = DataValidation(type="list", formula1=kind_choices, allow_blank=True,
                           showErrorMessage=True, errorStyle="warning")
    quotas = DataValidation(type="whole", operator="between", formula1=str(QUOTA_MIN),
                            formula2=str(QUOTA_MAX), allow_blank=True, showErrorMessage=True)
    kinds.add(_data_range(_KIND))
    quotas.add(_data_range(_QUOTA))
    sheet.add_data_validation(kinds)
    sheet.add_data_validation(quotas)


def _data_range(field: str) -> str:
    letter = get_column_letter(_FIELDS.index(field) + 1)
    return f"{letter}2:{letter}{MAX_ROWS + 1}"


def _fill_help_sheet(sheet) -> None:
    for section in _help_sections():
        if sheet.max_row > 1:
            sheet.append(())
        heading, *lines = section
        sheet.append(heading)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for line in lines:
            sheet.append(line)
    for letter, width in zip("ABC", (16, 28, 90), strict=False):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _help_sections() -> list[list[tuple]]:
    """Tables of the help sheet; the first row of each is its heading."""
    kind_list = "、".join(KIND_LABELS.values())
    defaults = "，".join(
        f"{KIND_LABELS[kind]} {quota}" for kind, quota in _DEFAULT_QUOTAS.items()
    )
    limit_mb = MAX_BYTES // (1024 * 1024)
    columns = [
        ("列名", "是否必填", "说明"),
        (HEADERS[0], "必填",
         f"组织全称，1～{MAX_NAME_LENGTH} 个字。同一文件内不能重复，也不能与系统中已有的组织重名。"
         f"英文列名：{_NAME}。"),
        (HEADERS[1], "必填",
         f"从下拉列表中选择：{kind_list}。也可以填写下表中的其他写法。英文列名：{_KIND}。"),
        (HEADERS[2], "选填",
         "上级组织的名称：可以是系统中已有的组织，也可以是本文件中另一行的名称（不必写在前面）。"
         f"不能填写本行组织自己，几个组织也不能互为上级。英文列名：{_PARENT}。"),
        (HEADERS[3], "选填",
         f"{QUOTA_MIN}～{QUOTA_MAX} 的整数。不填时按类型取默认值：{defaults}，其他类型 0。"
         f"英文列名：{_QUOTA}。"),
    ]
    kinds = [("类型", "其他写法", "默认年度实事指标")] + [
        (labels[0], "、".join(labels[1:] + (kind.value,)), default_quota(kind))
        for kind, labels in _KIND_ALIASES.items()
    ]
    notes = [
        ("注意",),
        ("第一行为列名，列的顺序不限，不能有其他列；空行会被忽略。",),
        (f"最多 {MAX_ROWS} 行组织，文件不超过 {limit_mb} MB。"
         "也可以另存为 CSV（UTF-8 或 GBK 编码）上传。",),
        ("只要有一行出错，整个文件都不会导入；机器人会列出每个错误所在的行和列，改正后重新上传即可。",),
    ]
    return [columns, kinds, notes]
