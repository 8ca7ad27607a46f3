"""The households of a campaign from an XLSX or CSV file, and the template for that file.

    学生称呼   (alias)          required, public, 1..20 characters, not the student's full name
    乡镇       (township)       required, public, the name of a township in the organisation tree
    村         (village)        optional, private
    录取学校   (school)         required, private, e.g. 某某大学
    录取批次   (admission)      optional, private, e.g. 本科一批
    家庭住址   (address)        optional, private
    监护人     (guardian)       optional, private
    联系电话   (phone)          optional, private, a mobile (11 digits from 1) or a landline
    申报情况   (circumstances)  optional, private, what the family declared
    纬度 / 经度 (latitude / longitude)  optional, private, both or neither: where the home is,
                                        to tell the reviewer when a visit was filed far away

Nothing is imported unless every row is valid (`ImportResult`: rows and no problems, or
problems and no rows). A problem names its row and column and never quotes a private value.

    key                                   params
    visit_import.<file-level keys of bot/domain/tabular_import.py>
    visit_import.alias_required           -
    visit_import.alias_too_long           value, max
    visit_import.township_required        -
    visit_import.township_unknown         value          not a township of the county's tree
    visit_import.school_required          -
    visit_import.text_too_long            max
    visit_import.phone_invalid            -
    visit_import.location_invalid         -               not a number, out of range, or only one given
    visit_import.duplicate_in_file        first_row       on the 学生称呼 cell
    visit_import.duplicate_existing       -               the campaign has this student already
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import tabular_import as tabular
from bot.domain.tabular_import import Columns, ImportResult, Issue, Line, cell_text
from bot.domain.visits.rules import ALIAS_MAX, SCHOOL_MAX, TEXT_MAX, normalise
from bot.domain.wishes.rules import normalise_phone
from bot.model.visits import HouseholdDetails, HouseholdDraft

MAX_ROWS = 3000
MAX_BYTES = 5 * 1024 * 1024
HEADERS = (
    "学生称呼",
    "乡镇",
    "村",
    "录取学校",
    "录取批次",
    "家庭住址",
    "监护人",
    "联系电话",
    "申报情况",
    "纬度",
    "经度",
)
_ALIAS, _TOWNSHIP, _VILLAGE, _SCHOOL, _ADMISSION, _ADDRESS, _GUARDIAN, _PHONE, _CIRCUMSTANCES, _LAT, _LON = (
    "alias",
    "township",
    "village",
    "school",
    "admission",
    "address",
    "guardian",
    "phone",
    "circumstances",
    "latitude",
    "longitude",
)
_FIELD_IDS = (_ALIAS, _TOWNSHIP, _VILLAGE, _SCHOOL, _ADMISSION, _ADDRESS, _GUARDIAN, _PHONE, _CIRCUMSTANCES, _LAT, _LON)
_ALIASES: dict[str, tuple[str, ...]] = {
    _ALIAS: ("称呼", "学生", "化名"),
    _TOWNSHIP: ("乡镇（街道）", "镇", "乡"),
    _VILLAGE: ("村（社区）", "村庄"),
    _SCHOOL: ("学校", "大学", "录取院校"),
    _ADMISSION: ("批次", "录取层次"),
    _ADDRESS: ("住址", "地址"),
    _GUARDIAN: ("监护人姓名", "家长"),
    _PHONE: ("电话", "监护人电话"),
    _CIRCUMSTANCES: ("家庭情况", "困难情况"),
}


def _header_text(text: str) -> str:
    return "".join(text.split()).replace("（", "(").replace("）", ")").casefold()


_FORMAT = tabular.TableFormat(
    fields=tabular.Fields(
        headers=dict(zip(_FIELD_IDS, HEADERS, strict=True)),
        required=(_ALIAS, _TOWNSHIP, _SCHOOL),
        aliases=_ALIASES,
        normalise=_header_text,
    ),
    keys=tabular.ProblemKeys("visit_import."),
    max_rows=MAX_ROWS,
    max_bytes=MAX_BYTES,
)


@dataclass(frozen=True)
class HouseholdRow:
    row: int
    draft: HouseholdDraft


@dataclass
class _Draft:
    row: int
    values: dict[str, Any]
    issues: dict[str, Issue]


def parse_household_file(
    file_name: str, content: bytes, *, townships: dict[str, int], existing_keys: set[str]
) -> ImportResult[HouseholdRow]:
    """`townships`: the county tree's township names → ids; `existing_keys`: the students the
    campaign has already (`student_key`)."""
    try:
        columns, lines = _FORMAT.read(file_name, content)
    except tabular.FileRefused as refused:
        return ImportResult.failed(refused.problems)
    towns = {normalise(name).casefold(): org_id for name, org_id in townships.items()}
    drafts = [_read_row(line, columns, towns) for line in lines]
    _check_duplicates(drafts, existing_keys)
    problems = columns.problems((draft.row, draft.issues) for draft in drafts)
    if problems:
        return ImportResult.failed(problems)
    return ImportResult(rows=tuple(HouseholdRow(draft.row, _to_draft(draft)) for draft in drafts), problems=())


def _to_draft(draft: _Draft) -> HouseholdDraft:
    values = draft.values
    return HouseholdDraft(
        alias=values[_ALIAS],
        township_id=values[_TOWNSHIP],
        details=HouseholdDetails(
            school=values[_SCHOOL],
            admission=values[_ADMISSION],
            village=values[_VILLAGE],
            address=values[_ADDRESS],
            guardian=values[_GUARDIAN],
            phone=values[_PHONE],
            circumstances=values[_CIRCUMSTANCES],
            latitude=values[_LAT],
            longitude=values[_LON],
        ),
    )


_Reader = Callable[[str], tuple[Any, Issue | None]]


def _read_row(line: Line, columns: Columns, towns: dict[str, int]) -> _Draft:
    draft = _Draft(line.row, {}, {})

    def take(field: str, reader: _Reader) -> None:
        value, issue = reader(cell_text(columns.cell(line, field)))
        draft.values[field] = value
        if issue is not None:
            draft.issues[field] = issue

    take(_ALIAS, _read_alias)
    take(
        _TOWNSHIP,
        lambda text: tabular.read_choice(
            normalise(text),
            lambda name: towns.get(name.casefold()),
            required="visit_import.township_required",
            unknown="visit_import.township_unknown",
        ),
    )
    take(_SCHOOL, _read_school)
    for field in (_VILLAGE, _ADMISSION, _ADDRESS, _GUARDIAN, _CIRCUMSTANCES):
        take(field, _read_private)
    take(_PHONE, _read_phone)
    take(_LAT, lambda text: _read_degrees(text, 90.0))
    take(_LON, lambda text: _read_degrees(text, 180.0))
    if (draft.values[_LAT] is None) != (draft.values[_LON] is None) and not draft.issues.keys() & {_LAT, _LON}:
        missing = _LAT if draft.values[_LAT] is None else _LON
        draft.issues[missing] = ("visit_import.location_invalid", {})
    return draft


def _read_alias(text: str) -> tuple[str, Issue | None]:
    value = normalise(text)
    if not value:
        return value, ("visit_import.alias_required", {})
    if len(value) > ALIAS_MAX:
        return value, ("visit_import.alias_too_long", {"value": value, "max": ALIAS_MAX})
    return value, None


def _read_school(text: str) -> tuple[str, Issue | None]:
    value = normalise(text)
    if not value:
        return value, ("visit_import.school_required", {})
    if len(value) > SCHOOL_MAX:
        return value, ("visit_import.text_too_long", {"max": SCHOOL_MAX})  # private: never quoted
    return value, None


def _read_private(text: str) -> tuple[str | None, Issue | None]:
    value = normalise(text)
    if len(value) > TEXT_MAX:
        return None, ("visit_import.text_too_long", {"max": TEXT_MAX})
    return value or None, None


def _read_phone(text: str) -> tuple[str | None, Issue | None]:
    if not normalise(text):
        return None, None
    phone = normalise_phone(text)
    if phone is None:
        return None, ("visit_import.phone_invalid", {})
    return phone, None


def _read_degrees(text: str, limit: float) -> tuple[float | None, Issue | None]:
    if not text:
        return None, None
    try:
        value = float(text)
    except ValueError:
        return None, ("visit_import.location_invalid", {})
    if not -limit <= value <= limit:
        return None, ("visit_import.location_invalid", {})
    return value, None


def _check_duplicates(drafts: list[_Draft], existing: set[str]) -> None:
    first_row: dict[str, int] = {}
    for draft in drafts:
        if draft.issues.keys() & {_ALIAS, _TOWNSHIP, _SCHOOL}:
            continue
        key = _to_draft(draft).student_key
        if key in existing:
            draft.issues[_ALIAS] = ("visit_import.duplicate_existing", {})
        elif key in first_row:
            draft.issues[_ALIAS] = ("visit_import.duplicate_in_file", {"first_row": first_row[key]})
        else:
            first_row[key] = draft.row


def build_template_xlsx() -> bytes:
    return tabular.template_xlsx(
        tabular.Template(
            table_format=_FORMAT,
            sheet="走访户",
            examples=(
                (
                    "小李",
                    "城关镇",
                    "幸福村",
                    "某某大学",
                    "本科一批",
                    "幸福村 3 组 12 号",
                    "李某某",
                    "13800000000",
                    "父亲因病丧失劳动能力，母亲务农",
                    27.80,
                    114.35,
                ),
                ("小王", "城关镇", "新民村", "某某职业技术学院", "高职专科", None, None, None, "单亲家庭", None, None),
            ),
            widths=(12, 12, 12, 20, 12, 28, 12, 16, 36, 10, 10),
            help_sheet="说明",
            help_sections=_help_sections(),
            help_widths=(16, 14, 90),
            text_fields=(_PHONE,),
        )
    )


def _help_sections() -> list[Sequence[tuple[object, ...]]]:
    columns = [
        ("列名", "是否必填", "说明"),
        (HEADERS[0], "必填（公开）", f"学生的称呼，例如：小李。最多 {ALIAS_MAX} 个字，请不要填写全名。"),
        (HEADERS[1], "必填（公开）", "学生家所在乡镇，须与组织架构中的乡镇名称一致，例如：城关镇。"),
        (HEADERS[2], "选填（隐私）", "所在村（社区）。"),
        (HEADERS[3], "必填（隐私）", "录取的大学，例如：某某大学。"),
        (HEADERS[4], "选填（隐私）", "例如：本科一批、高职专科。"),
        (HEADERS[5], "选填（隐私）", f"最多 {TEXT_MAX} 个字。"),
        (HEADERS[6], "选填（隐私）", "监护人称呼或姓名。"),
        (
            HEADERS[7],
            "选填（隐私）",
            "手机号（11 位，以 1 开头，例如 13800000000）或带区号的固定电话（例如 0571-88888888）。",
        ),
        (HEADERS[8], "选填（隐私）", "家庭申报的困难情况，走访时逐项核对。"),
        (HEADERS[9], "选填（隐私）", "家的大致位置（小数，例如 27.80），与经度一起填写或都不填。"),
        (HEADERS[10], "选填（隐私）", "例如 114.35。"),
    ]
    notes = [
        ("注意",),
        ("隐私：除学生称呼和乡镇外，其他信息只有负责走访的工作组和县团委管理员能看到，活动结束一段时间后自动删除。",),
        ("同一乡镇、同一称呼、同一录取学校只能有一行。",),
        (
            f"最多 {MAX_ROWS} 户，文件不超过 {MAX_BYTES // (1024 * 1024)} MB。"
            "也可以另存为 CSV（UTF-8 或 GBK 编码）上传。",
        ),
        ("只要有一行出错，整个文件都不会导入；机器人会列出每个错误所在的行和列，改正后重新上传即可。",),
    ]
    return [columns, notes]
