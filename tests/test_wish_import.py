"""Wish import: reading XLSX/CSV files, checking every row (consent, duplicates), the template,
and importing a checked file through the service."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.domain.errors import PermissionDenied
from bot.domain.wish_import import (
    HEADERS,
    MAX_BYTES,
    ImportResult,
    RowProblem,
    build_template_xlsx,
    parse_wish_file,
)
from bot.domain.wishes import WishService, wish_key
from bot.model.organisation import OrgKind, Role
from bot.model.wish import PrivateDetails, WishCategory, WishFilter
from handlers.i18n import translate
from storage.audit import AuditRepository
from storage.wishes import WishRepository
from tests.harness import COUNTY_ADMIN_ID

HEADER = list(HEADERS)
SCHOOLS = {"县第一小学": 11, "县第二小学": 12}
VALID_ROWS = [
    HEADER,
    [
        "县第一小学",
        "小明",
        "三年级",
        "一个篮球",
        "体育用品",
        "80",
        "是",
        "王小明",
        "138 0013 8000",
        "城关镇幸福路 1 号",
        "鞋码 35",
    ],
    ["县第一小学", "小红", "五年级", "成语词典", "图书", "40元", "否", "", "", "", ""],
    ["县第二小学", "小明", "三年级", "一个篮球", "体育", "80", "同意", "", "0571-88888888", "", ""],
]
PRIVATE_TEXTS = ("王小明", "13800138000", "幸福路", "鞋码")


def csv_bytes(rows, *, encoding="utf-8-sig", delimiter=","):
    lines = (delimiter.join("" if cell is None else str(cell) for cell in row) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_csv(rows, existing=(), **options) -> ImportResult:
    return parse_wish_file("心愿.csv", csv_bytes(rows, **options), collector_names=SCHOOLS, existing_keys=set(existing))


def summary(result: ImportResult) -> list[tuple]:
    return [(problem.row, problem.column, problem.key) for problem in result.problems]


def reasons(result: ImportResult) -> list[str]:
    """Each problem as the uploader reads it (Chinese), checked to exist in English too."""
    shown = []
    for problem in result.problems:
        translate("en", problem.key, **problem.params)
        shown.append(translate("zh-Hans", problem.key, **problem.params))
    return shown


def with_row(*cells) -> list[list]:
    return [HEADER, list(cells) + [""] * (len(HEADER) - len(cells))]


def only_problem(result: ImportResult) -> RowProblem:
    assert not result.ok and result.rows == ()
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


# --- valid files ------------------------------------------------------------------------------
def test_a_valid_csv_gives_drafts_with_private_details_only_where_consented():
    result = parse_csv(VALID_ROWS)

    assert result.ok, result.problems
    first, second, third = result.rows
    assert [row.row for row in result.rows] == [2, 3, 4]
    assert (
        first.draft.collector_org_id,
        first.draft.alias,
        first.draft.grade,
        first.draft.text,
        first.draft.category,
        first.draft.value_yuan,
        first.draft.consent,
    ) == (11, "小明", "三年级", "一个篮球", WishCategory.SPORTS, 80, True)
    assert first.draft.private == PrivateDetails("王小明", "13800138000", "城关镇幸福路 1 号", "鞋码 35")
    assert (second.draft.value_yuan, second.draft.consent, second.draft.private) == (40, False, None)
    assert (third.draft.collector_org_id, third.draft.category) == (12, WishCategory.SPORTS)
    assert third.draft.private == PrivateDetails(guardian_phone="0571-88888888")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_without_bom_and_as_saved_by_excel_on_chinese_windows(encoding):
    assert parse_csv(VALID_ROWS, encoding=encoding).ok


def test_xlsx_with_numeric_cells():
    result = parse_wish_file(
        "心愿.xlsx",
        xlsx_bytes(
            [
                HEADER,
                ["县第一小学", "小明", "三年级", "一个篮球", "体育用品", 80.0, "是", None, 13800138000, None, None],
                ["县第一小学", "小刚", "四年级", "跳绳", "sports", 15, "否"],
            ]
        ),
        collector_names=SCHOOLS,
        existing_keys=set(),
    )

    assert result.ok, result.problems
    assert [(row.draft.value_yuan, row.draft.private) for row in result.rows] == [
        (80, PrivateDetails(guardian_phone="13800138000")),
        (15, None),
    ]


def test_headers_in_english_or_with_ascii_brackets_in_any_order():
    rows = [
        ["value", "Alias", "collector", "grade", "wish", "category", "监护人同意(是/否)", "phone"],
        ["30", "小明", "县第一小学", "三年级", "彩笔", "文具", "yes", "13800138000"],
    ]

    result = parse_csv(rows)

    assert result.ok, result.problems
    assert result.rows[0].draft.category is WishCategory.STATIONERY
    assert result.rows[0].draft.private.guardian_phone == "13800138000"


def test_the_template_round_trips_and_explains_itself():
    content = build_template_xlsx()

    result = parse_wish_file("心愿导入模板.xlsx", content, collector_names={"县第一小学": 1}, existing_keys=set())

    assert result.ok, result.problems
    assert [row.draft.alias for row in result.rows] == ["小明", "小红"]
    assert result.rows[1].draft.private is None
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADER
    assert workbook.sheetnames == ["心愿", "说明"]
    lists = [validation.formula1 for validation in sheet.data_validations.dataValidation if validation.type == "list"]
    assert '"学习用品,图书,体育用品,玩具,衣物,体验,其他"' in lists and '"是,否"' in lists
    help_text = "\n".join(str(cell.value) for row in workbook["说明"].iter_rows() for cell in row if cell.value)
    assert "监护人同意" in help_text and "必须留空" in help_text


# --- bad rows ---------------------------------------------------------------------------------
def test_one_bad_row_and_nothing_is_imported():
    rows = VALID_ROWS + [["县第一小学", "小刚", "四年级", "跳绳", "体育用品", "两千", "是"]]

    problem = only_problem(parse_csv(rows))

    assert (problem.row, problem.column, problem.key) == (5, "估价（元）", "wish_import.value_not_integer")
    assert "例如：80" in reasons(parse_csv(rows))[0]


def test_every_bad_row_is_reported_by_row_column_and_reason():
    rows = [
        HEADER,
        ["县第三小学", "小明", "三年级", "篮球", "体育用品", "80", "是"],
        ["县第一小学", "", "三年级", "篮球", "零食", "3000", "是"],
        ["县第一小学", "小红", "", "", "图书", "", "也许"],
        ["", "名字太长了" * 5, "三年级", "字" * 101, "", "0", ""],
    ]

    result = parse_csv(rows)

    assert result.rows == ()
    assert summary(result) == [
        (2, "收集单位", "wish_import.collector_unknown"),
        (3, "孩子称呼", "wish_import.alias_required"),
        (3, "类别", "wish_import.category_unknown"),
        (3, "估价（元）", "wish_import.value_out_of_range"),
        (4, "年级", "wish_import.grade_required"),
        (4, "心愿内容", "wish_import.wish_required"),
        (4, "估价（元）", "wish_import.value_required"),
        (4, "监护人同意（是/否）", "wish_import.consent_unknown"),
        (5, "收集单位", "wish_import.collector_required"),
        (5, "孩子称呼", "wish_import.alias_too_long"),
        (5, "心愿内容", "wish_import.wish_too_long"),
        (5, "类别", "wish_import.category_required"),
        (5, "估价（元）", "wish_import.value_out_of_range"),
        (5, "监护人同意（是/否）", "wish_import.consent_required"),
    ]
    shown = reasons(result)
    assert "县第三小学" in shown[0]
    assert "1～2000" in shown[3]
    assert "也许" in shown[7] and "「是」或「否」" in shown[7]


def test_private_details_without_consent_are_a_problem_on_each_filled_cell():
    result = parse_csv(
        with_row("县第一小学", "小明", "三年级", "篮球", "体育用品", "80", "否", "王小明", "1380013800", "", "鞋码 35")
    )

    assert summary(result) == [
        (2, "孩子姓名", "wish_import.private_without_consent"),
        (2, "监护人电话", "wish_import.private_without_consent"),
        (2, "备注", "wish_import.private_without_consent"),
    ]
    assert "必须留空" in reasons(result)[0]


def test_problems_never_quote_a_private_value():
    result = parse_csv(
        with_row(
            "县第一小学",
            "小明",
            "三年级",
            "篮球",
            "体育用品",
            "80",
            "是",
            "王" * 21,
            "12345",
            "和平街" * 40,
            "爱好" * 101,
        )
    )

    assert summary(result) == [
        (2, "孩子姓名", "wish_import.real_name_too_long"),
        (2, "监护人电话", "wish_import.phone_invalid"),
        (2, "家庭住址", "wish_import.address_too_long"),
        (2, "备注", "wish_import.notes_too_long"),
    ]
    shown = "\n".join(reasons(result))
    for private in ("王王", "12345", "和平街", "爱好"):
        assert private not in shown
        assert all(private not in str(problem.params) for problem in result.problems)
    assert "13800000000" in shown and "0571-88888888" in shown


def test_the_public_alias_may_not_be_the_real_name():
    result = parse_csv(with_row("县第一小学", "王小明", "三年级", "篮球", "体育用品", "80", "是", "王小明"))

    assert summary(result) == [(2, "孩子称呼", "wish_import.alias_is_real_name")]


def test_duplicates_within_the_file_and_against_open_wishes():
    existing = {(11, "小红", "成语词典")}
    rows = VALID_ROWS + [["县第一小学", " 小明 ", "三年级", "一个篮球", "玩具", "10", "否"]]

    result = parse_csv(rows, existing=existing)

    assert summary(result) == [
        (3, "心愿内容", "wish_import.duplicate_existing"),
        (5, "心愿内容", "wish_import.duplicate_in_file"),
    ]
    assert "第 2 行" in reasons(result)[1]


# --- the file and the header ------------------------------------------------------------------
def test_file_and_header_problems():
    assert summary(parse_wish_file("心愿.docx", b"x", collector_names=SCHOOLS, existing_keys=set())) == [
        (1, None, "wish_import.unsupported_type")
    ]
    assert summary(parse_wish_file("心愿.xlsx", b"not a zip", collector_names=SCHOOLS, existing_keys=set())) == [
        (1, None, "wish_import.unreadable")
    ]
    assert summary(
        parse_wish_file("心愿.csv", b"x" * (MAX_BYTES + 1), collector_names=SCHOOLS, existing_keys=set())
    ) == [(1, None, "wish_import.too_large")]
    assert summary(parse_csv([HEADER])) == [(1, None, "wish_import.no_rows")]
    header_only = parse_csv([["收集单位", "孩子称呼", "年级", "心愿", "类别", "估价", "颜色"], ["县第一小学"]])
    assert summary(header_only) == [
        (1, "颜色", "wish_import.unknown_column"),
        (1, "监护人同意（是/否）", "wish_import.missing_column"),
    ]
    shown = reasons(header_only)
    assert "/wishtemplate" in shown[1]


# --- importing through the service -------------------------------------------------------------
async def test_a_checked_file_is_imported_whole_and_a_second_upload_is_refused(harness):
    services = harness.services
    harness.admin()
    school = await services.orgs.create(COUNTY_ADMIN_ID, "县第一小学", OrgKind.SCHOOL, None)
    other = await services.orgs.create(COUNTY_ADMIN_ID, "县第二小学", OrgKind.SCHOOL, None)
    await services.people.seen(300001, "李老师", None, "zh-hans", private=True)
    await services.membership.memberships.grant(school.id, 300001, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now())
    service = WishService(
        services.db,
        WishRepository(services.db),
        services.orgs,
        AuditRepository(services.db),
        services.permissions,
        services.clock,
    )
    names = {"县第一小学": school.id, "县第二小学": other.id}
    content = csv_bytes(VALID_ROWS)

    result = parse_wish_file("心愿.csv", content, collector_names=names, existing_keys=await service.open_keys())
    with pytest.raises(PermissionDenied) as refused:  # the teacher may not add for the other school
        await service.import_rows(300001, result.rows)
    assert refused.value.key == "wishes.add_not_allowed"
    assert (await service.find()).total == 0

    wishes = await service.import_rows(COUNTY_ADMIN_ID, result.rows)

    assert [wish.code for wish in wishes] == ["W0001", "W0002", "W0003"]
    assert [wish.public_label for wish in wishes] == ["小明 · 三年级", "小红 · 五年级", "小明 · 三年级"]
    assert (await service.private_details(300001, wishes[0].id)).real_name == "王小明"
    assert await service.private_details(300001, wishes[1].id) is None
    assert wish_key(school.id, "小明", "一个篮球") in await service.open_keys()
    again = parse_wish_file("心愿.csv", content, collector_names=names, existing_keys=await service.open_keys())
    assert [problem.key for problem in again.problems] == ["wish_import.duplicate_existing"] * 3
    assert (await service.find(WishFilter(collector_org_id=school.id))).total == 2
    rows = await services.db.fetch_all("SELECT details FROM audit_log WHERE action = 'wish.import'")
    assert len(rows) == 1
    for private in PRIVATE_TEXTS:
        assert private not in rows[0]["details"]
