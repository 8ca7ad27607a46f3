"""Bulk import of micro-wishes from an XLSX or CSV file, and the template for that file.

File format: the first row is the header, every following non-blank row is one wish.

    收集单位            (collector)       required, the name of an organisation the uploader
                                          may collect for (`collector_names`)
    孩子称呼            (alias)           required, 1..20 characters, shown publicly: not the
                                          child's real name
    年级                (grade)           required, 1..10 characters, e.g. 三年级
    心愿内容            (wish)            required, 1..100 characters, e.g. 一个篮球
    类别                (category)        required, a label from `CATEGORY_LABELS` (or an alias,
                                          or a `WishCategory` value)
    估价（元）          (value)           required, a whole number of yuan 1..2000 ("80", "80元")
    监护人同意（是/否） (consent)         required, 是/否 (or 同意/不同意, yes/no…)
    孩子姓名            (real_name)       optional, private, ≤ 20 characters
    监护人电话          (guardian_phone)  optional, private, a Chinese mobile (11 digits
                                          starting with 1) or a landline with its area code
    家庭住址            (address)         optional, private, ≤ 100 characters
    备注                (notes)           optional, private, ≤ 200 characters

Header text is matched ignoring spaces, case and full-width brackets (估价(元) = 估价（元）), and
a few short forms are accepted (估价, 监护人同意, 学校…); column order is free.

Privacy: when consent is 否 every private cell must be empty (a filled one is a problem on that
cell); problem parameters never carry a private value, only the row and the column.

Nothing is imported unless every row is valid, so `parse_wish_file` either returns rows and no
problems, or problems and no rows. Each problem is a `RowProblem` (shared with the organisation
import) with a catalog key under `wish_import.`; file-level and header problems are on row 1.

    key                                  params
    wish_import.unsupported_type         name
    wish_import.unreadable               -
    wish_import.too_large                limit_mb
    wish_import.too_many_rows            limit
    wish_import.no_rows                  -
    wish_import.missing_column           column
    wish_import.unknown_column           column
    wish_import.duplicate_column         column
    wish_import.collector_required       -
    wish_import.collector_unknown        value
    wish_import.alias_required           -
    wish_import.alias_too_long           value, max
    wish_import.alias_is_real_name       -
    wish_import.grade_required           -
    wish_import.grade_too_long           value, max
    wish_import.wish_required            -
    wish_import.wish_too_long            value, max
    wish_import.category_required        -
    wish_import.category_unknown         value
    wish_import.value_required           -
    wish_import.value_not_integer        value
    wish_import.value_out_of_range       value, min, max
    wish_import.consent_required         -
    wish_import.consent_unknown          value
    wish_import.private_without_consent  -
    wish_import.real_name_too_long       max
    wish_import.phone_invalid            -
    wish_import.address_too_long         max
    wish_import.notes_too_long           max
    wish_import.duplicate_in_file        first_row             on the 心愿内容 cell
    wish_import.duplicate_existing       -                     an open wish already has it

Parsing is synchronous and CPU-bound (up to 5 MB); call it off the event loop.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

# The organisation import's file readers (XLSX, CSV in UTF-8 or GB18030, delimiter sniffing)
# and its problem record: one reader for every spreadsheet the bot accepts.
from bot.org_import import (
    RowProblem,
    _cell_text,
    _csv_rows,
    _is_blank,
    _Rejected,
    _xlsx_rows,
)
from bot.wishes import (
    ADDRESS_MAX,
    ALIAS_MAX,
    CATEGORY_ALIASES,
    CATEGORY_LABELS,
    GRADE_MAX,
    NOTES_MAX,
    REAL_NAME_MAX,
    TEXT_MAX,
    VALUE_MAX,
    VALUE_MIN,
    PrivateDetails,
    WishCategory,
    WishDraft,
    is_real_name,
    normalise,
    normalise_phone,
    parse_category,
    parse_consent,
    parse_yuan,
    wish_key,
)

__all__ = ["HEADERS", "MAX_BYTES", "MAX_ROWS", "ImportResult", "RowProblem", "WishRow", "build_template_xlsx",
           "parse_wish_file"]

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
HEADERS = ("收集单位", "孩子称呼", "年级", "心愿内容", "类别", "估价（元）", "监护人同意（是/否）",
           "孩子姓名", "监护人电话", "家庭住址", "备注")

_COLLECTOR, _ALIAS, _GRADE, _WISH, _CATEGORY, _VALUE, _CONSENT = (
    "collector", "alias", "grade", "wish", "category", "value", "consent")
_REAL_NAME, _PHONE, _ADDRESS, _NOTES = "real_name", "guardian_phone", "address", "notes"
_FIELDS = (_COLLECTOR, _ALIAS, _GRADE, _WISH, _CATEGORY, _VALUE, _CONSENT, _REAL_NAME, _PHONE, _ADDRESS, _NOTES)
_REQUIRED_FIELDS = _FIELDS[:7]
_PRIVATE_FIELDS = _FIELDS[7:]
_CANONICAL_HEADER = dict(zip(_FIELDS, HEADERS, strict=True))
# Other header texts accepted for each field; the field ids double as English headers.
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    _COLLECTOR: ("学校", "收集学校", "收集组织", "school", "collector_org"),
    _ALIAS: ("称呼", "化名", "孩子化名", "child", "child_alias"),
    _GRADE: ("班级年级",),
    _WISH: ("心愿", "微心愿", "心愿名称", "wish_text", "text"),
    _CATEGORY: ("心愿类别", "类型"),
    _VALUE: ("估价", "估价元", "价值", "价格", "价值（元）", "value_yuan", "price"),
    _CONSENT: ("监护人同意", "监护人是否同意", "是否同意", "guardian_consent"),
    _REAL_NAME: ("姓名", "真实姓名", "孩子真实姓名", "name"),
    _PHONE: ("电话", "联系电话", "监护人手机", "phone"),
    _ADDRESS: ("住址", "地址", "家庭地址"),
    _NOTES: ("说明", "note"),
}

_EXTENSIONS = (".xlsx", ".csv")

_TEMPLATE_SHEET = "心愿"
_TEMPLATE_HELP_SHEET = "说明"
_TEMPLATE_COLLECTOR = "县第一小学"
_TEMPLATE_EXAMPLES = (
    (_TEMPLATE_COLLECTOR, "小明", "三年级", "一个篮球", CATEGORY_LABELS[WishCategory.SPORTS], 80, "是",
     "王小明", "13800000000", "城关镇幸福路 1 号", "喜欢打篮球"),
    (_TEMPLATE_COLLECTOR, "小红", "五年级", "成语词典", CATEGORY_LABELS[WishCategory.BOOKS], 40, "否",
     None, None, None, None),
)
_TEMPLATE_WIDTHS = (20, 12, 10, 28, 12, 12, 20, 12, 16, 30, 24)


def _header_text(text: str) -> str:
    """Header comparison form: no spaces, ASCII brackets, case folded."""
    return "".join(text.split()).replace("（", "(").replace("）", ")").casefold()


_FIELD_BY_HEADER: dict[str, str] = {}
for _field in _FIELDS:
    for _text in (_CANONICAL_HEADER[_field], _field, *_HEADER_ALIASES[_field]):
        _FIELD_BY_HEADER[_header_text(_text)] = _field


@dataclass(frozen=True)
class WishRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    draft: WishDraft


@dataclass(frozen=True)
class ImportResult:
    rows: tuple[WishRow, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def parse_wish_file(file_name: str, content: bytes, *, collector_names: dict[str, int],
                    existing_keys: set[tuple[int, str, str]]) -> ImportResult:
    """Check every row; `collector_names` maps the organisations the uploader may collect for to
    their ids, `existing_keys` holds the (collector id, alias, wish text) of the open wishes."""
    try:
        table = _read_table(file_name, content)
    except _Rejected as rejected:
        return _failed([_own_problem(rejected.problem)])
    columns, header_problems = _map_columns(table)
    if header_problems:
        return _failed(header_problems)
    collectors = {normalise(name).casefold(): org_id for name, org_id in collector_names.items()}
    drafts = [_read_row(line, columns, collectors) for line in table.data]
    _check_duplicates(drafts, {wish_key(*key) for key in existing_keys})
    problems = _collect_problems(drafts, columns)
    if problems:
        return _failed(problems)
    return ImportResult(rows=tuple(WishRow(draft.row, draft.to_draft()) for draft in drafts), problems=())


def _failed(problems: list[RowProblem]) -> ImportResult:
    return ImportResult(rows=(), problems=tuple(problems))


def _own_problem(problem: RowProblem) -> RowProblem:
    """The shared reader words its refusals for organisations; these files are wishes."""
    key = "wish_import." + problem.key.partition(".")[2]
    return RowProblem(row=problem.row, column=problem.column, key=key, params=problem.params)


# --- reading the file -------------------------------------------------------------------------


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
    if extension not in _EXTENSIONS:
        raise _Rejected("wish_import.unsupported_type", name=file_name)
    if len(content) > MAX_BYTES:
        raise _Rejected("wish_import.too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    rows = _xlsx_rows(content) if extension == ".xlsx" else _csv_rows(content)
    header: tuple[str, ...] = ()
    data: list[_Line] = []
    for row_number, values in enumerate(rows, start=1):
        if row_number == 1:
            header = tuple(_cell_text(value) for value in values)
        elif not _is_blank(values):
            if len(data) == MAX_ROWS:
                raise _Rejected("wish_import.too_many_rows", limit=MAX_ROWS)
            data.append(_Line(row=row_number, values=tuple(values)))
    if not data:
        raise _Rejected("wish_import.no_rows")
    return _Table(header=header, data=tuple(data))


# --- the header -------------------------------------------------------------------------------

_Issue = tuple[str, dict]


@dataclass(frozen=True)
class _Columns:
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
        field = _FIELD_BY_HEADER.get(_header_text(text))
        if field is None:
            located.append((index, _header_problem(text, "wish_import.unknown_column")))
        elif field in position:
            located.append((index, _header_problem(text, "wish_import.duplicate_column")))
        else:
            position[field] = index
    width = max(len(line.values) for line in table.data)
    for index in range(width):
        unnamed = index >= len(table.header) or not table.header[index]
        if unnamed and any(index < len(line.values) and _cell_text(line.values[index]) for line in table.data):
            located.append((index, _header_problem(get_column_letter(index + 1), "wish_import.unknown_column")))
    for field in _REQUIRED_FIELDS:
        if field not in position:
            missing = _header_problem(_CANONICAL_HEADER[field], "wish_import.missing_column")
            located.append((len(table.header), missing))
    located.sort(key=lambda item: item[0])
    return _Columns(position=position, header=table.header), [problem for _, problem in located]


def _header_problem(column: str, key: str) -> RowProblem:
    return RowProblem(row=1, column=column, key=key, params={"column": column})


# --- the rows ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    row: int
    values: dict[str, Any]
    issues: dict[str, _Issue]

    def to_draft(self) -> WishDraft:
        values = self.values
        private = PrivateDetails(values[_REAL_NAME], values[_PHONE], values[_ADDRESS], values[_NOTES])
        return WishDraft(
            collector_org_id=values[_COLLECTOR], alias=values[_ALIAS], grade=values[_GRADE], text=values[_WISH],
            category=values[_CATEGORY], value_yuan=values[_VALUE], consent=values[_CONSENT],
            private=None if private.empty else private,
        )


def _read_row(line: _Line, columns: _Columns, collectors: dict[str, int]) -> _Draft:
    draft = _Draft(line.row, {}, {})

    def take(field: str, reader) -> None:
        value, issue = reader(_cell_text(columns.cell(line, field)), columns.cell(line, field))
        draft.values[field] = value
        if issue is not None:
            draft.issues[field] = issue

    take(_COLLECTOR, lambda text, _: _read_collector(text, collectors))
    take(_ALIAS, lambda text, _: _read_text(text, ALIAS_MAX, "alias"))
    take(_GRADE, lambda text, _: _read_text(text, GRADE_MAX, "grade"))
    take(_WISH, lambda text, _: _read_text(text, TEXT_MAX, "wish"))
    take(_CATEGORY, lambda text, _: _read_category(text))
    take(_VALUE, _read_value)
    take(_CONSENT, lambda text, _: _read_consent(text))
    take(_REAL_NAME, lambda text, _: _read_private(text, REAL_NAME_MAX, "real_name"))
    take(_PHONE, lambda text, _: _read_phone(text))
    take(_ADDRESS, lambda text, _: _read_private(text, ADDRESS_MAX, "address"))
    take(_NOTES, lambda text, _: _read_private(text, NOTES_MAX, "notes"))
    _check_consent(draft)
    return draft


def _read_collector(text: str, collectors: dict[str, int]) -> tuple[int | None, _Issue | None]:
    if not text:
        return None, ("wish_import.collector_required", {})
    org_id = collectors.get(normalise(text).casefold())
    if org_id is None:
        return None, ("wish_import.collector_unknown", {"value": text})
    return org_id, None


def _read_text(text: str, limit: int, name: str) -> tuple[str, _Issue | None]:
    value = normalise(text)
    if not value:
        return value, (f"wish_import.{name}_required", {})
    if len(value) > limit:
        return value, (f"wish_import.{name}_too_long", {"value": value, "max": limit})
    return value, None


def _read_category(text: str) -> tuple[Any, _Issue | None]:
    if not text:
        return None, ("wish_import.category_required", {})
    category = parse_category(text)
    if category is None:
        return None, ("wish_import.category_unknown", {"value": text})
    return category, None


def _read_value(text: str, raw: Any) -> tuple[int | None, _Issue | None]:
    if not text:
        return None, ("wish_import.value_required", {"min": VALUE_MIN, "max": VALUE_MAX})
    value = parse_yuan(raw)
    if value is None:
        return None, ("wish_import.value_not_integer", {"value": text})
    if not VALUE_MIN <= value <= VALUE_MAX:
        return None, ("wish_import.value_out_of_range", {"value": text, "min": VALUE_MIN, "max": VALUE_MAX})
    return value, None


def _read_consent(text: str) -> tuple[bool | None, _Issue | None]:
    if not text:
        return None, ("wish_import.consent_required", {})
    consent = parse_consent(text)
    if consent is None:
        return None, ("wish_import.consent_unknown", {"value": text})
    return consent, None


def _read_private(text: str, limit: int, name: str) -> tuple[str | None, _Issue | None]:
    value = normalise(text)
    if len(value) > limit:
        return None, (f"wish_import.{name}_too_long", {"max": limit})  # never quote private values
    return value or None, None


def _read_phone(text: str) -> tuple[str | None, _Issue | None]:
    if not normalise(text):
        return None, None
    phone = normalise_phone(text)
    if phone is None:
        return None, ("wish_import.phone_invalid", {})
    return phone, None


def _check_consent(draft: _Draft) -> None:
    """No consent, no private details; and the public alias must not be the child's real name."""
    values = draft.values
    if values[_CONSENT] is False:
        for field in _PRIVATE_FIELDS:
            if values[field] is not None or field in draft.issues:
                draft.issues[field] = ("wish_import.private_without_consent", {})
    if values[_CONSENT] and _ALIAS not in draft.issues and is_real_name(values[_ALIAS], values[_REAL_NAME]):
        draft.issues[_ALIAS] = ("wish_import.alias_is_real_name", {})


def _check_duplicates(drafts: list[_Draft], existing: set[tuple[int, str, str]]) -> None:
    first_row: dict[tuple[int, str, str], int] = {}
    for draft in drafts:
        if any(field in draft.issues for field in (_COLLECTOR, _ALIAS, _WISH)):
            continue
        key = wish_key(draft.values[_COLLECTOR], draft.values[_ALIAS], draft.values[_WISH])
        if key in existing:
            draft.issues[_WISH] = ("wish_import.duplicate_existing", {})
        elif key in first_row:
            draft.issues[_WISH] = ("wish_import.duplicate_in_file", {"first_row": first_row[key]})
        else:
            first_row[key] = draft.row


def _collect_problems(drafts: list[_Draft], columns: _Columns) -> list[RowProblem]:
    problems = [
        columns.problem(draft.row, field, issue)
        for draft in drafts
        for field, issue in draft.issues.items()
    ]
    return sorted(problems, key=columns.sort_key)


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
    # Phone numbers as text, so a landline keeps its leading 0.
    phone_column = _FIELDS.index(_PHONE) + 1
    for row in range(2, MAX_ROWS + 2):
        sheet.cell(row=row, column=phone_column).number_format = "@"
    categories = DataValidation(type="list", formula1='"' + ",".join(CATEGORY_LABELS.values()) + '"',
                                allow_blank=True, showErrorMessage=True, errorStyle="warning")
    consent = DataValidation(type="list", formula1='"是,否"', allow_blank=True, showErrorMessage=True,
                             errorStyle="warning")
    values = DataValidation(type="whole", operator="between", formula1=str(VALUE_MIN), formula2=str(VALUE_MAX),
                            allow_blank=True, showErrorMessage=True)
    for validation, field in ((categories, _CATEGORY), (consent, _CONSENT), (values, _VALUE)):
        validation.add(_data_range(field))
        sheet.add_data_validation(validation)


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
    for letter, width in zip("ABC", (22, 12, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _help_sections() -> list[list[tuple]]:
    """Tables of the help sheet (a Chinese document, like the headers); the first row of each is its heading."""
    category_list = "、".join(CATEGORY_LABELS.values())
    limit_mb = MAX_BYTES // (1024 * 1024)
    columns = [
        ("列名", "是否必填", "说明"),
        (HEADERS[0], "必填", f"收集心愿的单位（通常是学校）全称，须是系统中已有、且您可以为其录入的组织，例如：{_TEMPLATE_COLLECTOR}。"),
        (HEADERS[1], "必填", f"孩子的称呼，会公开显示，例如：小明。1～{ALIAS_MAX} 个字；请不要填写真实姓名。"),
        (HEADERS[2], "必填", f"例如：三年级。1～{GRADE_MAX} 个字。"),
        (HEADERS[3], "必填", f"孩子想要的东西，例如：一个篮球、成语词典。1～{TEXT_MAX} 个字。"),
        (HEADERS[4], "必填", f"从下拉列表中选择：{category_list}。"),
        (HEADERS[5], "必填", f"{VALUE_MIN}～{VALUE_MAX} 的整数（元），例如：80。"),
        (HEADERS[6], "必填", "监护人是否同意登记孩子的个人信息：填「是」或「否」。"),
        (HEADERS[7], "选填（隐私）", f"孩子的真实姓名，最多 {REAL_NAME_MAX} 个字。"),
        (HEADERS[8], "选填（隐私）", "手机号（11 位，以 1 开头，例如 13800000000）或带区号的固定电话（例如 0571-88888888）。"),
        (HEADERS[9], "选填（隐私）", f"最多 {ADDRESS_MAX} 个字。"),
        (HEADERS[10], "选填（隐私）", f"只给收集单位和认领人看的说明，最多 {NOTES_MAX} 个字。"),
    ]
    categories = [("类别", "其他写法")] + [
        (labels[0], "、".join(labels[1:] + (category.value,))) for category, labels in CATEGORY_ALIASES.items()
    ]
    notes = [
        ("注意",),
        ("隐私：孩子姓名、监护人电话、家庭住址、备注只有收集单位的团干部和认领人能看到，心愿确认收到一段时间（默认 90 天）后自动删除。",),
        ("「监护人同意」为「否」的行，这四列必须留空；否则整个文件不会导入。",),
        ("第一行为列名，列的顺序不限，不能有其他列；空行会被忽略。同一单位、同一孩子称呼、同一心愿内容只能有一行。",),
        (f"最多 {MAX_ROWS} 个心愿，文件不超过 {limit_mb} MB。也可以另存为 CSV（UTF-8 或 GBK 编码）上传。",),
        ("只要有一行出错，整个文件都不会导入；机器人会列出每个错误所在的行和列，改正后重新上传即可。",),
    ]
    return [columns, categories, notes]

