"""The XLSX export over the fixed county year of tests/test_stats_domain.py (see its docstring), plus
one wish 小华 collected by 县第一小学 on 1 June 2026 with the guardian's consent and private details.
Every expected cell is worked out by hand; times are local (Asia/Shanghai) dates and times."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from bot.domain.errors import PermissionDenied
from bot.domain.export_workbook import write_workbook
from bot.domain.exports import ExportService
from bot.domain.stats import Period
from bot.domain.wishes import WishDraft
from bot.domain.xlsx import XlsxWriter
from bot.model.wish import PrivateDetails, WishCategory
from handlers.i18n import Translator
from tests.harness import COUNTY_ADMIN_ID
from tests.test_stats_domain import DONOR, LI, TEACHER, County, arrange_year, at, local

YEAR = Period.of_year(2026)
T = Translator("zh-Hans")
REAL_NAME, PHONE, ADDRESS = "王小华", "13800138000", "城关镇幸福路 1 号"


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    county = County(harness)
    await county.arrange_orgs()
    county.activities = await arrange_year(county)
    at(harness, local(2026, 6, 1, 10))
    draft = WishDraft(
        collector_org_id=county.ids["县第一小学"],
        alias="小华",
        grade="二年级",
        text="一本成语词典",
        category=WishCategory.BOOKS,
        value_yuan=40,
        consent=True,
        private=PrivateDetails(real_name=REAL_NAME, guardian_phone=PHONE, address=ADDRESS),
    )
    county.private_wish = (await county.services.wishes.add(TEACHER, draft)).id
    at(harness, local(2027, 1, 2, 10))
    return county


async def export(county: County, user_id: int, org: str | None = None, private: bool = False):
    exporter = ExportService.of(county.services)
    org_id = None if org is None else county.ids[org]
    data = await exporter.gather(user_id, YEAR, org_id, private)
    return data, openpyxl.load_workbook(io.BytesIO((await write_workbook(data, T)).content))


def rows(book, sheet: str) -> list[tuple]:
    return list(book[sheet].iter_rows(values_only=True))


def every_cell(book) -> str:
    return "\n".join(str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row)


async def test_the_county_export_by_hand(county):
    a1, a2 = f"A{county.activities['a1']}", f"A{county.activities['a2']}"
    a3 = f"A{county.activities['a3']}"
    _, book = await export(county, COUNTY_ADMIN_ID)
    assert book.sheetnames == ["活动", "签到记录", "微心愿", "实事", "组织与星级"]

    activities = rows(book, "活动")
    assert activities[0] == (
        "活动编号",
        "组织",
        "活动名称",
        "类别",
        "开始时间",
        "结束时间",
        "地点",
        "状态",
        "名额",
        "志愿者人次",
        "预计服务人数",
        "确认服务人数",
        "计入实事",
    )
    assert activities[1:] == [
        (
            a1,
            "城关镇团委",
            "城关镇团委tutoring",
            "学业辅导",
            datetime(2026, 3, 7, 9),
            datetime(2026, 3, 7, 11, 30),
            "县城",
            "正常",
            20,
            3,
            30,
            25,
            "是",
        ),
        (
            a3,
            "县教育局团委",
            "县教育局团委tutoring",
            "学业辅导",
            datetime(2026, 3, 8, 9),
            datetime(2026, 3, 8, 10),
            "县城",
            "已取消",
            20,
            0,
            5,
            None,
            "是",
        ),
        # 23:30 on New Year's Eve in Shanghai (15:30 UTC): a 2026 activity, shown in local time.
        (
            a2,
            "城关镇团委",
            "城关镇团委visit",
            "走访",
            datetime(2026, 12, 31, 23, 30),
            datetime(2027, 1, 1, 0, 30),
            "县城",
            "正常",
            20,
            2,
            10,
            None,
            "否",
        ),
    ]

    attendance = rows(book, "签到记录")
    assert attendance[0][:9] == (
        "活动编号",
        "活动名称",
        "组织",
        "志愿者",
        "用户 ID",
        "签到时间",
        "签退时间",
        "核定时长（分钟）",
        "记录状态",
    )
    found = {(row[0], row[3]): (row[5], row[6], row[7], row[8]) for row in attendance[1:]}
    assert found == {
        (a1, "志愿者1"): (datetime(2026, 3, 7, 8, 50), datetime(2026, 3, 7, 11, 40), 150, "有效"),
        (a1, "志愿者2"): (datetime(2026, 3, 7, 9, 10), datetime(2026, 3, 7, 10, 20), 60, "有效"),
        (a1, "志愿者3"): (datetime(2026, 3, 7, 9, 20), None, 120, "有效"),
        (a1, "志愿者4"): (datetime(2026, 3, 7, 9), datetime(2026, 3, 7, 11, 30), 0, "已移除"),
        (a1, "志愿者5"): (None, None, 0, "未到场"),
        (a2, "志愿者1"): (datetime(2026, 12, 31, 23, 30), datetime(2027, 1, 1, 0, 30), 60, "有效"),
        (a2, "志愿者2"): (datetime(2026, 12, 31, 23, 45), None, 45, "有效"),
    }
    assert sum(minutes for _, _, minutes, _ in found.values()) == 435  # the figures' 7.2 hours

    wishes = rows(book, "微心愿")
    assert wishes[0] == (
        "心愿编号",
        "孩子称呼",
        "年级",
        "心愿",
        "类别",
        "估价（元）",
        "收集单位",
        "状态",
        "认领单位",
        "认领时间",
        "送达期限",
        "送达时间",
        "确认收到时间",
        "逾期",
    )
    by_alias = {row[1]: row for row in wishes[1:]}
    assert sorted(by_alias) == sorted(["小明", "小红", "小刚", "小丽", "小华"])  # 去年 (W5) was collected in 2025
    assert by_alias["小明"][7:] == (
        "已确认收到",
        "县教育局团委",
        datetime(2026, 4, 1, 10),
        datetime(2026, 4, 15, 18),
        datetime(2026, 4, 10, 10),
        datetime(2026, 4, 12, 10),
        "否",
    )
    assert by_alias["小红"][11:] == (datetime(2026, 4, 20, 10), datetime(2026, 4, 21, 10), "否")  # late, not overdue
    assert by_alias["小刚"][7:9] == ("已认领", "城关镇团委") and by_alias["小刚"][13] == "是"  # overdue now
    assert by_alias["小丽"][7:9] == ("待认领", None) and by_alias["小丽"][13] == "否"

    deeds = rows(book, "实事")
    assert deeds == [
        ("完成日期", "组织", "实事名称", "来自活动", "有照片佐证", "说明"),
        (datetime(2026, 3, 7), "城关镇团委", "城关镇团委tutoring", a1, "否", None),
        (datetime(2026, 5, 1), "县教育局团委", "捐建图书室", None, "否", "图书 300 册"),
    ]

    orgs = rows(book, "组织与星级")
    assert orgs[0] == (
        "组织",
        "类型",
        "所属乡镇",
        "年度实事指标",
        "已完成实事",
        "活动场次",
        "志愿者人次",
        "服务人次",
        "按时完成心愿",
        "认领心愿",
        "逾期心愿",
        "得分",
        "星级",
    )
    assert orgs[1:] == [
        ("城关镇团委", "乡镇团委", None, 1, 1, 2, 5, 35, 0, 1, 1, 30, "★★☆☆☆"),
        ("县教育局团委", "县直机关直属团组织", None, 3, 1, 0, 0, 0, 1, 2, 0, 25, "★★☆☆☆"),
        ("县第一小学", "学校", None, 0, 0, 0, 0, 0, 0, 0, 0, 0, "★☆☆☆☆"),
    ]


async def test_private_fields_are_absent_from_a_default_export(county):
    for user_id, org in ((COUNTY_ADMIN_ID, None), (TEACHER, "县第一小学"), (COUNTY_ADMIN_ID, "县第一小学")):
        data, book = await export(county, user_id, org)
        text = every_cell(book)
        assert REAL_NAME not in text and PHONE not in text and ADDRESS not in text
        assert "孩子姓名（隐私）" not in text and data.private == {}
        assert "小华" in text  # the public alias is there


async def test_a_collector_cadre_exports_the_private_fields_and_it_is_audited(county):
    services = county.services
    data, book = await export(county, TEACHER, "县第一小学", private=True)
    wishes = rows(book, "微心愿")
    assert wishes[0][-3:] == ("孩子姓名（隐私）", "监护人电话（隐私）", "家庭住址（隐私）")
    row = next(row for row in wishes[1:] if row[1] == "小华")
    assert row[-3:] == (REAL_NAME, PHONE, ADDRESS)
    assert all(other[-3:] == (None, None, None) for other in wishes[1:] if other[1] != "小华")  # no consent
    assert list(data.private) == [county.private_wish]
    audit = services.wishes.audit
    assert [
        action for _, actor, action, _ in await audit.for_subject(f"wish:{county.private_wish}") if actor == TEACHER
    ][-1] == "wish.private_view"
    [(_, actor, action, details)] = await audit.for_subject(f"report:org:{county.ids['县第一小学']}")
    assert (actor, action, details["private"], details["private_wishes"]) == (TEACHER, "report.export", True, 1)


async def test_private_fields_only_for_the_wishes_the_person_may_see(county):
    # 教育局 claimed W1 and W2, both confirmed: its cadres may no longer see those children's details.
    data, book = await export(county, DONOR, "县教育局团委", private=True)
    assert data.private == {}
    assert REAL_NAME not in every_cell(book)


async def test_the_claiming_cadre_gets_no_private_fields_in_an_export(county):
    """The claimer may see one child's details while delivering (/wish), but the private export is
    the collecting organisation's alone: a claimer's spreadsheet would outlive the delivery."""
    at(county.harness, local(2026, 6, 2, 10))
    claimed_at = county.harness.clock.now()
    deadline = local(2026, 6, 20, 18)
    edu = county.ids["县教育局团委"]
    assert await county.services.wishes.claim(DONOR, edu, county.private_wish, claimed_at, deadline=deadline)
    assert await county.services.wishes.private_details(DONOR, county.private_wish) is not None  # /wish still may
    at(county.harness, local(2027, 1, 2, 10))
    data, book = await export(county, DONOR, "县教育局团委", private=True)
    assert "小华" in every_cell(book)  # the wish it claimed is in its export, public fields only
    assert data.private == {}
    text = every_cell(book)
    assert REAL_NAME not in text and PHONE not in text and ADDRESS not in text
    data, _ = await export(county, TEACHER, "县第一小学", private=True)
    assert list(data.private) == [county.private_wish]  # the collector's cadre still gets them


@pytest.mark.parametrize(
    "user_id, org, private, key",
    [
        (COUNTY_ADMIN_ID, None, True, "reports.err_private_refused"),  # never county-wide (PIPL)
        (COUNTY_ADMIN_ID, "县第一小学", True, "reports.err_private_refused"),  # not a member of the collector
        (DONOR, "城关镇团委", False, "reports.err_not_member"),  # another organisation
        (DONOR, None, False, "reports.err_county_only"),  # the county
        (LI, "县第一小学", True, "reports.err_not_member"),
    ],
)
async def test_refusals(county, user_id, org, private, key):
    with pytest.raises(PermissionDenied) as caught:
        await export(county, user_id, org, private)
    assert caught.value.key == key
    assert "{" not in T(key, **caught.value.params)


async def test_an_organisation_export_holds_only_its_rows(county):
    a3 = f"A{county.activities['a3']}"
    _, book = await export(county, DONOR, "县教育局团委")
    assert [row[0] for row in rows(book, "活动")[1:]] == [a3]
    assert rows(book, "签到记录")[1:] == []  # A3 was cancelled
    assert sorted(row[1] for row in rows(book, "微心愿")[1:]) == sorted(["小明", "小红"])  # the ones it claimed
    assert [row[2] for row in rows(book, "实事")[1:]] == ["捐建图书室"]
    assert [row[0] for row in rows(book, "组织与星级")[1:]] == ["县教育局团委"]


def test_the_writer_escapes_markup_and_stays_valid_with_characters_xml_cannot_hold():
    book = XlsxWriter()
    with book.sheet("a[b]:c", ["名称", "数"], [10, 10]) as sheet:
        sheet.row(["<b>A&B</b>\x01", 3])
        sheet.row([None, 2.5])
    opened = openpyxl.load_workbook(io.BytesIO(book.close()))
    assert opened.sheetnames == ["a b  c"]
    # A control character (pasted from elsewhere) is kept in Excel's own escaped form, _x0001_.
    assert list(opened.active.iter_rows(values_only=True)) == [("名称", "数"), ("<b>A&B</b>_x0001_", 3), (None, 2.5)]
    assert opened.active["A1"].font.b
