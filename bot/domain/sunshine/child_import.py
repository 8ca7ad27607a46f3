"""Bulk import of children into the register from an XLSX or CSV file, and its template.

    所属组织            (org)             required, an organisation the uploader keeps a register for
    孩子称呼            (alias)           required, public: not the child's real name
    年级                (grade)           required
    需求                (needs)           optional tags: 数学、英语、心理、画画
    监护人同意（是/否） (consent)         required
    孩子姓名 出生日期 监护人 监护人电话 家庭住址 情况说明   optional, private: only with consent

All or nothing, as the wish import (bot/domain/wish_import.py): `parse_child_file` returns rows
and no problems, or problems and no rows; a problem never quotes a private value. Duplicates
(the same organisation, alias and grade) are caught within the file and against the register.
Keys under `child_import.`:

    unsupported_type (name) · unreadable · too_large (limit_mb) · too_many_rows (limit) · no_rows
    missing_column / unknown_column / duplicate_column (column)
    org_required · org_unknown (value) · alias_required · alias_too_long (value, max)
    alias_is_real_name · grade_required · grade_too_long (value, max) · needs_bad (max, length)
    consent_required · consent_unknown (value) · private_without_consent · private_too_long (max)
    phone_invalid · birth_date_bad · duplicate_in_file (first_row) · duplicate_existing
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain import tabular_import as tabular
from bot.domain.errors import DomainError
from bot.domain.sunshine.rules import (
    ALIAS_MAX,
    GRADE_MAX,
    NEEDS_MAX,
    NOTES_MAX,
    PRIVATE_TEXT_MAX,
    is_real_name,
    normalise_phone,
    parse_consent,
    parse_needs,
)
from bot.domain.tabular_import import Columns, ImportResult, Issue, Line, cell_text
from bot.domain.wishes.rules import normalise
from bot.model.sunshine import ChildDraft, ChildPrivate

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
HEADERS = (
    "所属组织",
    "孩子称呼",
    "年级",
    "需求",
    "监护人同意（是/否）",
    "孩子姓名",
    "出生日期",
    "监护人",
    "监护人电话",
    "家庭住址",
    "情况说明",
)
_FIELDS = (
    "org",
    "alias",
    "grade",
    "needs",
    "consent",
    "real_name",
    "birth_date",
    "guardian",
    "guardian_phone",
    "address",
    "notes",
)
_PRIVATE = _FIELDS[5:]
_ALIASES: dict[str, tuple[str, ...]] = {
    "org": ("组织", "村", "学校", "村团支部", "organisation"),
    "alias": ("称呼", "化名", "child"),
    "needs": ("需要", "辅导需求", "tags"),
    "consent": ("监护人同意", "是否同意", "guardian_consent"),
    "real_name": ("姓名", "真实姓名", "name"),
    "birth_date": ("出生年月日", "生日", "birthday"),
    "guardian_phone": ("电话", "联系电话", "phone"),
    "address": ("住址", "地址"),
    "notes": ("说明", "备注", "情况"),
}
_EXAMPLE_ORG = "李家村团支部"


def _header_text(text: str) -> str:
    return "".join(text.split()).replace("（", "(").replace("）", ")").casefold()


_FORMAT = tabular.TableFormat(
    fields=tabular.Fields(
        headers=dict(zip(_FIELDS, HEADERS, strict=True)),
        required=("org", "alias", "grade", "consent"),
        aliases=_ALIASES,
        normalise=_header_text,
    ),
    keys=tabular.ProblemKeys("child_import."),
    max_rows=MAX_ROWS,
    max_bytes=MAX_BYTES,
)


@dataclass(frozen=True)
class ChildRow:
    row: int
    draft: ChildDraft


@dataclass
class _Row:
    row: int
    values: dict[str, Any]
    issues: dict[str, Issue]


def parse_child_file(
    file_name: str, content: bytes, *, org_names: dict[str, int], existing_keys: set[tuple[int, str, str]]
) -> ImportResult[ChildRow]:
    """`org_names`: the organisations the uploader keeps a register for → their ids;
    `existing_keys`: (organisation, alias, grade) of the active children."""
    try:
        columns, lines = _FORMAT.read(file_name, content)
    except tabular.FileRefused as refused:
        return ImportResult.failed(refused.problems)
    orgs = {normalise(name).casefold(): org_id for name, org_id in org_names.items()}
    rows = [_read_row(line, columns, orgs) for line in lines]
    _check_duplicates(rows, existing_keys)
    problems = columns.problems((row.row, row.issues) for row in rows)
    if problems:
        return ImportResult.failed(problems)
    return ImportResult(rows=tuple(ChildRow(row.row, _draft(row)) for row in rows), problems=())


def _draft(row: _Row) -> ChildDraft:
    values = row.values
    private = ChildPrivate(*(values[name] for name in _PRIVATE))
    return ChildDraft(
        values["org"],
        values["alias"],
        values["grade"],
        values["needs"],
        values["consent"],
        None if private.empty else private,
    )


_Reader = Callable[[str, Any], tuple[Any, Issue | None]]


def _read_row(line: Line, columns: Columns, orgs: dict[str, int]) -> _Row:
    row = _Row(line.row, {}, {})

    def take(name: str, reader: _Reader) -> None:
        raw = columns.cell(line, name)
        value, issue = reader(cell_text(raw), raw)
        row.values[name] = value
        if issue is not None:
            row.issues[name] = issue

    take("org", lambda text, _: _choice(text, lambda name: orgs.get(normalise(name).casefold()), "org"))
    take("alias", lambda text, _: _text(text, ALIAS_MAX, "alias"))
    take("grade", lambda text, _: _text(text, GRADE_MAX, "grade"))
    take("needs", lambda text, _: _needs(text))
    take("consent", lambda text, _: _choice(text, parse_consent, "consent"))
    for name in ("real_name", "guardian"):
        take(name, lambda text, _: _private(text, ALIAS_MAX))
    take("birth_date", _birth_date)
    take("guardian_phone", lambda text, _: _phone(text))
    take("address", lambda text, _: _private(text, PRIVATE_TEXT_MAX))
    take("notes", lambda text, _: _private(text, NOTES_MAX))
    values = row.values
    if values["consent"] is False:
        for name in _PRIVATE:
            if values[name] is not None or name in row.issues:
                row.issues[name] = ("child_import.private_without_consent", {})
    if values["consent"] and "alias" not in row.issues and is_real_name(values["alias"], values["real_name"]):
        row.issues["alias"] = ("child_import.alias_is_real_name", {})
    return row


def _choice(text: str, parse: Callable[[str], Any], name: str) -> tuple[Any, Issue | None]:
    return tabular.read_choice(
        text, parse, required=f"child_import.{name}_required", unknown=f"child_import.{name}_unknown"
    )


def _text(text: str, limit: int, name: str) -> tuple[str, Issue | None]:
    value = normalise(text)
    if not value:
        return value, (f"child_import.{name}_required", {})
    if len(value) > limit:
        return value, (f"child_import.{name}_too_long", {"value": value, "max": limit})
    return value, None


def _needs(text: str) -> tuple[tuple[str, ...], Issue | None]:
    try:
        return parse_needs(text), None
    except DomainError as error:
        return (), ("child_import.needs_bad", dict(error.params))


def _private(text: str, limit: int) -> tuple[str | None, Issue | None]:
    value = normalise(text)
    if len(value) > limit:
        return None, ("child_import.private_too_long", {"max": limit})  # never quote a private value
    return value or None, None


def _phone(text: str) -> tuple[str | None, Issue | None]:
    if not normalise(text):
        return None, None
    phone = normalise_phone(text)
    return (phone, None) if phone else (None, ("child_import.phone_invalid", {}))


def _birth_date(text: str, raw: Any) -> tuple[date | None, Issue | None]:
    if isinstance(raw, datetime):
        return raw.date(), None
    if isinstance(raw, date):
        return raw, None
    if not normalise(text):
        return None, None
    try:
        return date.fromisoformat(normalise(text).replace("/", "-").replace(".", "-")), None
    except ValueError:
        return None, ("child_import.birth_date_bad", {})


def _check_duplicates(rows: Sequence[_Row], existing: set[tuple[int, str, str]]) -> None:
    first: dict[tuple[int, str, str], int] = {}
    for row in rows:
        if any(name in row.issues for name in ("org", "alias", "grade")):
            continue
        key = (row.values["org"], row.values["alias"], row.values["grade"])
        if key in existing:
            row.issues["alias"] = ("child_import.duplicate_existing", {})
        elif key in first:
            row.issues["alias"] = ("child_import.duplicate_in_file", {"first_row": first[key]})
        else:
            first[key] = row.row


def build_child_template() -> bytes:
    return tabular.template_xlsx(
        tabular.Template(
            table_format=_FORMAT,
            sheet="儿童名册",
            examples=(
                (
                    _EXAMPLE_ORG,
                    "小华",
                    "五年级",
                    "数学、画画",
                    "是",
                    "王小华",
                    "2015-03-08",
                    "王大山",
                    "13800000000",
                    "李家村 3 组",
                    "父母在外务工",
                ),
                (_EXAMPLE_ORG, "小军", "三年级", "英语", "否", None, None, None, None, None, None),
            ),
            widths=(18, 10, 8, 18, 18, 10, 12, 10, 14, 20, 24),
            help_sheet="说明",
            help_sections=[
                [("列名", "是否必填", "说明")]
                + [(HEADERS[index], "必填", "") for index in (0, 1, 2, 4)]
                + [(HEADERS[3], "选填", f"最多 {NEEDS_MAX} 个标签，用顿号或逗号分开，例如：数学、画画。")]
                + [(HEADERS[index], "选填（隐私）", "只有监护人同意（是）时才能填写。") for index in range(5, 11)],
                [("注意",), ("孩子称呼会公开显示，请不要填写真实姓名。",), ("只要有一行出错，整个文件都不会导入。",)],
            ],
            help_widths=(22, 12, 70),
            checks=(("consent", tabular.dropdown(("是", "否"))),),
            text_fields=("guardian_phone",),
        )
    )
