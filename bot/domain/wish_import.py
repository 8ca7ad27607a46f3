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
problems, or problems and no rows. Each problem is a `RowProblem` (`bot.tabular_import`'s, as
for organisations) with a catalog key under `wish_import.`; file-level and header problems are on
row 1. Problems are sorted by row, then by column position in the file.

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

Reading the file, the header and the template workbook are `bot.tabular_import`'s; this module
holds the wish rules. Parsing is synchronous and CPU-bound (up to 5 MB); call it off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import tabular_import as tabular
from bot.domain.tabular_import import (
    Columns,
    ImportResult,
    Issue,
    Line,
    RowProblem,
    cell_text,
)
from bot.domain.wishes import (
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
    WishDraft,
    is_real_name,
    normalise,
    normalise_phone,
    parse_category,
    parse_consent,
    parse_yuan,
    wish_key,
)
from bot.model.wish import PrivateDetails, WishCategory

__all__ = [
    "HEADERS",
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportResult",
    "RowProblem",
    "WishRow",
    "build_template_xlsx",
    "parse_wish_file",
]

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
HEADERS = (
    "收集单位",
    "孩子称呼",
    "年级",
    "心愿内容",
    "类别",
    "估价（元）",
    "监护人同意（是/否）",
    "孩子姓名",
    "监护人电话",
    "家庭住址",
    "备注",
)

_COLLECTOR, _ALIAS, _GRADE, _WISH, _CATEGORY, _VALUE, _CONSENT = (
    "collector",
    "alias",
    "grade",
    "wish",
    "category",
    "value",
    "consent",
)
_REAL_NAME, _PHONE, _ADDRESS, _NOTES = "real_name", "guardian_phone", "address", "notes"
_FIELD_IDS = (_COLLECTOR, _ALIAS, _GRADE, _WISH, _CATEGORY, _VALUE, _CONSENT, _REAL_NAME, _PHONE, _ADDRESS, _NOTES)
_PRIVATE_FIELDS = _FIELD_IDS[7:]
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

_TEMPLATE_COLLECTOR = "县第一小学"
_TEMPLATE_EXAMPLES = (
    (
        _TEMPLATE_COLLECTOR,
        "小明",
        "三年级",
        "一个篮球",
        CATEGORY_LABELS[WishCategory.SPORTS],
        80,
        "是",
        "王小明",
        "13800000000",
        "城关镇幸福路 1 号",
        "喜欢打篮球",
    ),
    (
        _TEMPLATE_COLLECTOR,
        "小红",
        "五年级",
        "成语词典",
        CATEGORY_LABELS[WishCategory.BOOKS],
        40,
        "否",
        None,
        None,
        None,
        None,
    ),
)
_TEMPLATE_WIDTHS = (20, 12, 10, 28, 12, 12, 20, 12, 16, 30, 24)


def _header_text(text: str) -> str:
    """Header comparison form: no spaces, ASCII brackets, case folded."""
    return "".join(text.split()).replace("（", "(").replace("）", ")").casefold()


_FORMAT = tabular.TableFormat(
    fields=tabular.Fields(
        headers=dict(zip(_FIELD_IDS, HEADERS, strict=True)),
        required=_FIELD_IDS[:7],
        aliases=_HEADER_ALIASES,
        normalise=_header_text,
    ),
    keys=tabular.ProblemKeys("wish_import."),
    max_rows=MAX_ROWS,
    max_bytes=MAX_BYTES,
)


@dataclass(frozen=True)
class WishRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    draft: WishDraft


def parse_wish_file(
    file_name: str, content: bytes, *, collector_names: dict[str, int], existing_keys: set[tuple[int, str, str]]
) -> ImportResult[WishRow]:
    """Check every row; `collector_names` maps the organisations the uploader may collect for to
    their ids, `existing_keys` holds the (collector id, alias, wish text) of the open wishes."""
    try:
        columns, lines = _FORMAT.read(file_name, content)
    except tabular.FileRefused as refused:
        return ImportResult.failed(refused.problems)
    collectors = {normalise(name).casefold(): org_id for name, org_id in collector_names.items()}
    drafts = [_read_row(line, columns, collectors) for line in lines]
    _check_duplicates(drafts, {wish_key(*key) for key in existing_keys})
    problems = columns.problems((draft.row, draft.issues) for draft in drafts)
    if problems:
        return ImportResult.failed(problems)
    return ImportResult(rows=tuple(WishRow(draft.row, draft.to_draft()) for draft in drafts), problems=())


# --- the rows ---------------------------------------------------------------------------------


# A cell's reader: (its text, its raw value) -> (the value, the problem if any).
_Reader = Callable[[str, Any], tuple[Any, Issue | None]]


@dataclass
class _Draft:
    row: int
    values: dict[str, Any]
    issues: dict[str, Issue]

    def to_draft(self) -> WishDraft:
        values = self.values
        private = PrivateDetails(values[_REAL_NAME], values[_PHONE], values[_ADDRESS], values[_NOTES])
        return WishDraft(
            collector_org_id=values[_COLLECTOR],
            alias=values[_ALIAS],
            grade=values[_GRADE],
            text=values[_WISH],
            category=values[_CATEGORY],
            value_yuan=values[_VALUE],
            consent=values[_CONSENT],
            private=None if private.empty else private,
        )


def _read_row(line: Line, columns: Columns, collectors: dict[str, int]) -> _Draft:
    draft = _Draft(line.row, {}, {})

    def take(field: str, reader: _Reader) -> None:
        value, issue = reader(cell_text(columns.cell(line, field)), columns.cell(line, field))
        draft.values[field] = value
        if issue is not None:
            draft.issues[field] = issue

    take(
        _COLLECTOR,
        lambda text, _: _read_choice(text, lambda name: collectors.get(normalise(name).casefold()), "collector"),
    )
    take(_ALIAS, lambda text, _: _read_text(text, ALIAS_MAX, "alias"))
    take(_GRADE, lambda text, _: _read_text(text, GRADE_MAX, "grade"))
    take(_WISH, lambda text, _: _read_text(text, TEXT_MAX, "wish"))
    take(_CATEGORY, lambda text, _: _read_choice(text, parse_category, "category"))
    take(_VALUE, _read_value)
    take(_CONSENT, lambda text, _: _read_choice(text, parse_consent, "consent"))
    take(_REAL_NAME, lambda text, _: _read_private(text, REAL_NAME_MAX, "real_name"))
    take(_PHONE, lambda text, _: _read_phone(text))
    take(_ADDRESS, lambda text, _: _read_private(text, ADDRESS_MAX, "address"))
    take(_NOTES, lambda text, _: _read_private(text, NOTES_MAX, "notes"))
    _check_consent(draft)
    return draft


def _read_choice(text: str, parse: Callable[[str], Any], name: str) -> tuple[Any, Issue | None]:
    required, unknown = f"wish_import.{name}_required", f"wish_import.{name}_unknown"
    return tabular.read_choice(text, parse, required=required, unknown=unknown)


def _read_text(text: str, limit: int, name: str) -> tuple[str, Issue | None]:
    value = normalise(text)
    if not value:
        return value, (f"wish_import.{name}_required", {})
    if len(value) > limit:
        return value, (f"wish_import.{name}_too_long", {"value": value, "max": limit})
    return value, None


def _read_value(text: str, raw: Any) -> tuple[int | None, Issue | None]:
    if not text:
        return None, ("wish_import.value_required", {"min": VALUE_MIN, "max": VALUE_MAX})
    value = parse_yuan(raw)
    if value is None:
        return None, ("wish_import.value_not_integer", {"value": text})
    if not VALUE_MIN <= value <= VALUE_MAX:
        return None, ("wish_import.value_out_of_range", {"value": text, "min": VALUE_MIN, "max": VALUE_MAX})
    return value, None


def _read_private(text: str, limit: int, name: str) -> tuple[str | None, Issue | None]:
    value = normalise(text)
    if len(value) > limit:
        return None, (f"wish_import.{name}_too_long", {"max": limit})  # never quote private values
    return value or None, None


def _read_phone(text: str) -> tuple[str | None, Issue | None]:
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


# --- the template -----------------------------------------------------------------------------


def build_template_xlsx() -> bytes:
    return tabular.template_xlsx(
        tabular.Template(
            table_format=_FORMAT,
            sheet="心愿",
            examples=_TEMPLATE_EXAMPLES,
            widths=_TEMPLATE_WIDTHS,
            help_sheet="说明",
            help_sections=_help_sections(),
            help_widths=(22, 12, 90),
            checks=(
                (_CATEGORY, tabular.dropdown(CATEGORY_LABELS.values())),
                (_CONSENT, tabular.dropdown(("是", "否"))),
                (_VALUE, tabular.whole_numbers(VALUE_MIN, VALUE_MAX)),
            ),
            text_fields=(_PHONE,),  # so that a landline keeps its leading 0
        )
    )


def _help_sections() -> list[Sequence[tuple[object, ...]]]:
    """Tables of the help sheet (a Chinese document, like the headers); the first row of each is its heading."""
    category_list = "、".join(CATEGORY_LABELS.values())
    limit_mb = MAX_BYTES // (1024 * 1024)
    columns = [
        ("列名", "是否必填", "说明"),
        (
            HEADERS[0],
            "必填",
            f"收集心愿的单位（通常是学校）全称，须是系统中已有、且您可以为其录入的组织，例如：{_TEMPLATE_COLLECTOR}。",
        ),
        (HEADERS[1], "必填", f"孩子的称呼，会公开显示，例如：小明。1～{ALIAS_MAX} 个字；请不要填写真实姓名。"),
        (HEADERS[2], "必填", f"例如：三年级。1～{GRADE_MAX} 个字。"),
        (HEADERS[3], "必填", f"孩子想要的东西，例如：一个篮球、成语词典。1～{TEXT_MAX} 个字。"),
        (HEADERS[4], "必填", f"从下拉列表中选择：{category_list}。"),
        (HEADERS[5], "必填", f"{VALUE_MIN}～{VALUE_MAX} 的整数（元），例如：80。"),
        (HEADERS[6], "必填", "监护人是否同意登记孩子的个人信息：填「是」或「否」。"),
        (HEADERS[7], "选填（隐私）", f"孩子的真实姓名，最多 {REAL_NAME_MAX} 个字。"),
        (
            HEADERS[8],
            "选填（隐私）",
            "手机号（11 位，以 1 开头，例如 13800000000）或带区号的固定电话（例如 0571-88888888）。",
        ),
        (HEADERS[9], "选填（隐私）", f"最多 {ADDRESS_MAX} 个字。"),
        (HEADERS[10], "选填（隐私）", f"只给收集单位和认领人看的说明，最多 {NOTES_MAX} 个字。"),
    ]
    categories = [("类别", "其他写法")] + [
        (labels[0], "、".join(labels[1:] + (category.value,))) for category, labels in CATEGORY_ALIASES.items()
    ]
    notes = [
        ("注意",),
        (
            "隐私：孩子姓名、监护人电话、家庭住址、备注只有收集单位的团干部和认领人能看到，"
            "心愿确认收到一段时间（默认 90 天）后自动删除。",
        ),
        ("「监护人同意」为「否」的行，这四列必须留空；否则整个文件不会导入。",),
        ("第一行为列名，列的顺序不限，不能有其他列；空行会被忽略。同一单位、同一孩子称呼、同一心愿内容只能有一行。",),
        (f"最多 {MAX_ROWS} 个心愿，文件不超过 {limit_mb} MB。也可以另存为 CSV（UTF-8 或 GBK 编码）上传。",),
        ("只要有一行出错，整个文件都不会导入；机器人会列出每个错误所在的行和列，改正后重新上传即可。",),
    ]
    return [columns, categories, notes]
