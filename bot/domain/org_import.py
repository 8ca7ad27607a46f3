"""Bulk import of organisations from an XLSX or CSV file, and the template for that file.

File format: the first row is the header, every following non-blank row is one organisation.

    名称          (name)         required, 1..60 characters after trimming, unique in the file
                                 and not already an organisation
    类型          (kind)         required, a Chinese label from `KIND_LABELS` (or an alias) or
                                 an `OrgKind` value
    上级组织      (parent)       optional, the name of an existing organisation or of another
                                 row of the same file; no self-reference, no cycles; a
                                 village branch's parent is a township committee, never a
                                 county-level organisation (bot/domain/orgs.parent_kind_allowed)
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
    import.parent_wrong_kind        value, kind, parent_kind   e.g. a village under a county-level org
    import.quota_not_integer        value
    import.quota_out_of_range       value, min, max

Problems are sorted by row, then by column position in the file. Each cell gets at most one.
When the header has problems, only those are reported: the rows are checked once it is fixed.

Reading the file, the header and the template workbook are `bot.tabular_import`'s; this module
holds the organisation rules. Parsing is synchronous and CPU-bound (up to 5 MB); call it off the
event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.domain import tabular_import as tabular
from bot.domain.orgs import DEFAULT_QUOTAS, MAX_NAME_LENGTH, MAX_QUOTA, default_quota, parent_kind_allowed
from bot.domain.tabular_import import (
    Columns,
    ImportResult,
    Issue,
    Line,
    RowProblem,
    cell_text,
)
from bot.model.organisation import OrgKind, OrgRow

__all__ = [
    "HEADERS",
    "KIND_LABELS",
    "MAX_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_ROWS",
    "QUOTA_MAX",
    "QUOTA_MIN",
    "ImportResult",
    "OrgRow",
    "RowProblem",
    "build_template_xlsx",
    "default_quota",
    "parse_kind",
    "parse_org_file",
]

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
QUOTA_MIN = 0
QUOTA_MAX = MAX_QUOTA
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

_NAME, _KIND, _PARENT, _QUOTA = "name", "kind", "parent", "deeds_quota"
# The field ids double as the accepted English headers (case-insensitive).
_FORMAT = tabular.TableFormat(
    fields=tabular.Fields(
        headers=dict(zip((_NAME, _KIND, _PARENT, _QUOTA), HEADERS, strict=True)), required=(_NAME, _KIND)
    ),
    keys=tabular.ProblemKeys("import."),
    max_rows=MAX_ROWS,
    max_bytes=MAX_BYTES,
)

_TEMPLATE_EXAMPLES = (
    ("县教育局团委", KIND_LABELS[OrgKind.COUNTY_LEVEL], None, 3),
    ("城关镇团委", KIND_LABELS[OrgKind.TOWNSHIP], None, 1),
)


def parse_kind(text: str) -> OrgKind | None:
    return _KIND_BY_TEXT.get(text.strip().casefold())


def parse_org_file(
    file_name: str, content: bytes, *, existing_names: set[str], existing_kinds: Mapping[str, OrgKind] | None = None
) -> ImportResult[OrgRow]:
    """`rows` of the result are ordered so that a parent from the file comes before its children.
    `existing_kinds` (name → kind of the organisations there are) checks a parent's kind too."""
    try:
        columns, lines = _FORMAT.read(file_name, content)
    except tabular.FileRefused as refused:
        return ImportResult.failed(refused.problems)
    drafts = [_read_row(line, columns) for line in lines]
    _check_names(drafts, existing_names)
    _check_parents(drafts, existing_names)
    _check_parent_kinds(drafts, existing_kinds or {})
    problems = columns.problems((draft.row, draft.issues) for draft in drafts)
    if problems:
        return ImportResult.failed(problems)
    return ImportResult(rows=_parents_first([draft.to_row() for draft in drafts]), problems=())


# --- the rows ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    """One data row as read, with at most one issue per field."""

    row: int
    name: str
    kind: OrgKind | None
    parent_name: str | None
    quota: int | None
    issues: dict[str, Issue]

    def to_row(self) -> OrgRow:
        assert self.kind is not None and self.quota is not None
        return OrgRow(self.row, self.name, self.kind, self.parent_name, self.quota)


def _read_row(line: Line, columns: Columns) -> _Draft:
    name, name_issue = _read_name(columns.cell(line, _NAME))
    kind, kind_issue = _read_kind(columns.cell(line, _KIND))
    quota, quota_issue = _read_quota(columns.cell(line, _QUOTA), kind)
    parent_name = cell_text(columns.cell(line, _PARENT)) or None
    issues = {_NAME: name_issue, _KIND: kind_issue, _QUOTA: quota_issue}
    found = {field: issue for field, issue in issues.items() if issue is not None}
    return _Draft(line.row, name, kind, parent_name, quota, found)


def _read_name(raw: object) -> tuple[str, Issue | None]:
    name = cell_text(raw)
    if not name:
        return name, ("import.name_required", {})
    if len(name) > MAX_NAME_LENGTH:
        return name, ("import.name_too_long", {"value": name, "max": MAX_NAME_LENGTH})
    return name, None


def _read_kind(raw: object) -> tuple[OrgKind | None, Issue | None]:
    return tabular.read_choice(
        cell_text(raw), parse_kind, required="import.kind_required", unknown="import.kind_unknown"
    )


def _read_quota(raw: object, kind: OrgKind | None) -> tuple[int | None, Issue | None]:
    text = cell_text(raw)
    if not text:
        return (default_quota(kind) if kind is not None else None), None
    number = _whole_number(raw)
    if number is None:
        return None, ("import.quota_not_integer", {"value": text})
    if not QUOTA_MIN <= number <= QUOTA_MAX:
        params = {"value": text, "min": QUOTA_MIN, "max": QUOTA_MAX}
        return None, ("import.quota_out_of_range", params)
    return int(number), None


def _whole_number(raw: object) -> Decimal | None:
    """The cell as a whole number (3, 3.0, "3", " 3.0 "), or None for 3.5, "abc", True…"""
    if isinstance(raw, bool):
        return None
    try:
        number = Decimal(raw) if isinstance(raw, int | float) else Decimal(cell_text(raw))
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


def _check_parent_kinds(drafts: list[_Draft], existing_kinds: Mapping[str, OrgKind]) -> None:
    """The tree's rule: e.g. a village branch belongs to a township, not to a county-level organisation."""
    kinds = {**existing_kinds, **{draft.name: draft.kind for draft in drafts if draft.name and draft.kind}}
    for draft in drafts:
        parent_kind = kinds.get(draft.parent_name) if draft.parent_name else None
        if draft.kind is None or parent_kind is None or parent_kind_allowed(draft.kind, parent_kind):
            continue
        draft.issues.setdefault(
            _PARENT,
            (
                "import.parent_wrong_kind",
                {"value": draft.parent_name, "kind": KIND_LABELS[draft.kind], "parent_kind": KIND_LABELS[parent_kind]},
            ),
        )


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
                on_cycle.update(path[path.index(name) :])
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


# --- the template -----------------------------------------------------------------------------


def build_template_xlsx() -> bytes:
    return tabular.template_xlsx(
        tabular.Template(
            table_format=_FORMAT,
            sheet="组织",
            examples=_TEMPLATE_EXAMPLES,
            widths=(30, 22, 30, 16),
            help_sheet="说明",
            help_sections=_help_sections(),
            help_widths=(16, 28, 90),
            checks=(
                (_KIND, tabular.dropdown(KIND_LABELS.values())),
                (_QUOTA, tabular.whole_numbers(QUOTA_MIN, QUOTA_MAX)),
            ),
        )
    )


def _help_sections() -> list[Sequence[tuple[object, ...]]]:
    """Tables of the help sheet; the first row of each is its heading."""
    kind_list = "、".join(KIND_LABELS.values())
    defaults = "，".join(f"{KIND_LABELS[kind]} {quota}" for kind, quota in DEFAULT_QUOTAS.items())
    limit_mb = MAX_BYTES // (1024 * 1024)
    columns = [
        ("列名", "是否必填", "说明"),
        (
            HEADERS[0],
            "必填",
            f"组织全称，1～{MAX_NAME_LENGTH} 个字。同一文件内不能重复，也不能与系统中已有的组织重名。"
            f"英文列名：{_NAME}。",
        ),
        (HEADERS[1], "必填", f"从下拉列表中选择：{kind_list}。也可以填写下表中的其他写法。英文列名：{_KIND}。"),
        (
            HEADERS[2],
            "选填",
            "上级组织的名称：可以是系统中已有的组织，也可以是本文件中另一行的名称（不必写在前面）。"
            f"不能填写本行组织自己，几个组织也不能互为上级。英文列名：{_PARENT}。",
        ),
        (
            HEADERS[3],
            "选填",
            f"{QUOTA_MIN}～{QUOTA_MAX} 的整数。不填时按类型取默认值：{defaults}，其他类型 0。英文列名：{_QUOTA}。",
        ),
    ]
    kinds = [("类型", "其他写法", "默认年度实事指标")] + [
        (labels[0], "、".join(labels[1:] + (kind.value,)), default_quota(kind))
        for kind, labels in _KIND_ALIASES.items()
    ]
    notes = [
        ("注意",),
        ("第一行为列名，列的顺序不限，不能有其他列；空行会被忽略。",),
        (f"最多 {MAX_ROWS} 行组织，文件不超过 {limit_mb} MB。也可以另存为 CSV（UTF-8 或 GBK 编码）上传。",),
        ("只要有一行出错，整个文件都不会导入；机器人会列出每个错误所在的行和列，改正后重新上传即可。",),
    ]
    return [columns, kinds, notes]
