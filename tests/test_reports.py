"""/stats, /export and /report through the real bot and the fake Telegram, over the fixed county
year of tests/test_stats_domain.py (its docstring has the data; the figures below are worked out
by hand from it):

- county 2026: activities 2 (学业辅导 A1 on 7 March, 走访 A2 at 23:30 on 31 December; A3 cancelled,
  A4 is 2027 locally); 5 person-times of 3 volunteers; 150 + 60 + 120 + 60 + 45 = 435 minutes = 7.2
  hours; served 25 + 10 = 35; wishes collected 4 (W1–W4; W5 is 2025), claimed 3, fulfilled 2 (W1
  on time), overdue 1 (W3); deeds 2 of 1 + 3.
- 城关镇团委: 2 activities, 5 person-times, 3 volunteers, 7.2 hours, served 35, claimed 1 (W3,
  overdue), deed 1/1.
"""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from PIL import Image

from bot.domain import charts
from handlers.reports import ChartsButton, ExportButton
from tests.harness import COUNTY_ADMIN_ID
from tests.test_stats_domain import DONOR, LI, OUTSIDER, County, arrange_year

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    county = County(harness)
    await county.arrange_orgs()
    county.activities = await arrange_year(county)
    return county


# The default export's Sunshine Home sheets, after the export's own (handlers/sunshine/figures.py).
SUNSHINE_SHEETS = ["阳光家园汇总", "按村校", "按乡镇", "结对按月"]


def photos(harness, chat_id: int) -> list:
    return [m for m in harness.fake.bot_messages(chat_id) if m.kind == "photo"]


def documents(harness, chat_id: int) -> list:
    return [m for m in harness.fake.bot_messages(chat_id) if m.kind == "document"]


def workbook(message) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(message.document["content"]))


async def test_county_admin_gets_the_county_figures_by_hand(harness, county):
    admin = harness.admin()
    await admin.send("/stats 2026")
    text = admin.last_reply().text
    assert "全县 · 2026 年 统计" in text
    assert "活动：2 场（学业辅导 1 场、走访 1 场）" in text
    assert "志愿者：3 人，共 5 人次，服务时长 7 小时 15 分" in text
    assert "服务群众：35 人次" in text
    assert "收集 4 个，认领 3 个，完成 2 个（按时 1 个），逾期未送达 1 个" in text
    assert "2026 年已完成 2/4 件" in text
    assert admin.last_reply().button_labels() == ["📊 图表", "📄 导出表格", "🏢 看某个组织"]


async def test_default_period_is_this_year_and_a_bad_one_says_what_to_send(harness, county):
    admin = harness.admin()
    await admin.send("/stats")  # the clock is at 2027-01-02: this year is 2027, A4 only
    assert "全县 · 2027 年 统计" in admin.last_reply().text
    assert "活动：1 场（义诊 1 场）" in admin.last_reply().text
    await admin.send("/stats 明年吧")
    reply = admin.last_reply().text
    assert "看不懂时间段「明年吧」" in reply and "2027-01-01..2027-06-30" in reply


async def test_a_month_and_a_range_at_the_zone_boundary(harness, county):
    admin = harness.admin()
    # The last day of 2026 holds A2 (23:30 Shanghai = 15:30 UTC): 2 person-times, 60 + 45 minutes.
    await admin.send("/stats 2026-12-31..2026-12-31")
    text = admin.last_reply().text
    assert "2026-12-31 至 2026-12-31" in text
    assert "活动：1 场（走访 1 场）" in text and "共 2 人次，服务时长 1 小时 45 分" in text
    await admin.send("/stats 2026-03")
    assert "全县 · 2026 年 3 月 统计" in admin.last_reply().text
    assert "共 3 人次" in admin.last_reply().text


async def test_a_cadre_gets_their_organisation(harness, county):
    li = harness.user(LI, "李书记")
    await li.send("/stats 今年")  # 2027 locally: nothing yet
    assert "城关镇团委 · 2027 年 统计" in li.last_reply().text
    await li.send("/stats 2026")
    text = li.last_reply().text
    assert "城关镇团委 · 2026 年 统计" in text
    assert "活动：2 场（学业辅导 1 场、走访 1 场）" in text
    assert "志愿者：3 人，共 5 人次，服务时长 7 小时 15 分" in text
    assert "收集 0 个，认领 1 个，完成 0 个（按时 0 个），逾期未送达 1 个" in text
    assert "已完成 1/1 件" in text
    assert li.last_reply().button_labels() == ["📊 图表", "📄 导出表格"]  # no organisation picker


async def test_someone_without_an_organisation_is_told_how_to_get_one(harness, county):
    outsider = harness.user(OUTSIDER, "路人")
    await outsider.send("/stats")
    assert "/join" in outsider.last_reply().text
    await outsider.send("/export")
    assert "/join" in outsider.last_reply().text
    assert documents(harness, OUTSIDER) == []


async def test_county_admin_picks_an_organisation(harness, county):
    admin = harness.admin()
    await admin.send("/stats 2026")
    await admin.tap("🏢 看某个组织")
    assert "请选择要查看的组织（2026 年）" in admin.last_reply().text
    await admin.send("教育")
    await admin.tap("县教育局团委")
    text = admin.last_reply().text
    assert "县教育局团委 · 2026 年 统计" in text
    assert "活动：0 场（无）" in text
    assert "收集 0 个，认领 2 个，完成 2 个（按时 1 个），逾期未送达 0 个" in text
    assert "已完成 1/3 件" in text


async def test_charts_arrive_as_one_album_of_photos(harness, county):
    admin = harness.admin()
    await admin.send("/stats 2026")
    await admin.tap("📊 图表")
    sent = photos(harness, COUNTY_ADMIN_ID)
    assert [m.text for m in sent] == [
        "2026 年 每月志愿服务人次",
        "2026 年 各组织实事完成情况（红色为进度落后）",
        "2026 年 收集的微心愿及其当前状态",
        "2026 年 阳光家园：各乡镇每月联系次数，结对进行中与久未联系",
    ]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id is not None
    for message in sent:
        assert message.photo.startswith(PNG)
        assert Image.open(io.BytesIO(message.photo)).size[0] > 500


async def test_without_a_cjk_font_the_admin_is_told_what_to_run(harness, county, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font_path", lambda: None)
    admin = harness.admin()
    await admin.send("/stats 2026")
    await admin.tap("📊 图表")
    assert photos(harness, COUNTY_ADMIN_ID) == []
    assert "技术人员" in admin.last_reply().text and "安装中文字体" in admin.last_reply().text


async def test_a_cadre_cannot_see_another_organisation_or_the_county(harness, county):
    donor = harness.user(DONOR, "张干事")
    town = county.ids["城关镇团委"]
    await donor.send("/stats 2026")  # their own: 县教育局团委
    assert "县教育局团委 · 2026 年 统计" in donor.last_reply().text
    for spec, org in ((ChartsButton, town), (ExportButton, town), (ChartsButton, 0), (ExportButton, 0)):
        await donor.tap_data(spec(org=org, start="20260101", end="20261231").pack(), forge=True)
    answers = donor.callback_answers
    assert len(answers) == 4
    assert all("城关镇团委" in answer for answer in answers[:2])
    assert all("全县统计只对团县委管理员开放" in answer for answer in answers[2:])
    assert photos(harness, DONOR) == [] and documents(harness, DONOR) == []


async def test_a_cadre_exports_only_their_rows(harness, county):
    li = harness.user(LI, "李书记")
    await li.send("/export 2026")
    [document] = documents(harness, LI)
    assert document.document["file_name"] == "统计_20260101_20261231.xlsx"
    assert "城关镇团委 · 2026 年：活动 2 场，签到记录 7 条，微心愿 1 个，实事 1 件" in document.text
    book = workbook(document)
    assert book.sheetnames == ["活动", "签到记录", "微心愿", "实事", "组织与星级", *SUNSHINE_SHEETS]
    activities = list(book["活动"].iter_rows(values_only=True))
    assert [row[0] for row in activities[1:]] == [f"A{county.activities['a1']}", f"A{county.activities['a2']}"]
    assert {row[1] for row in activities[1:]} == {"城关镇团委"}
    orgs = list(book["组织与星级"].iter_rows(values_only=True))
    assert [row[0] for row in orgs[1:]] == ["城关镇团委"]


async def test_the_button_under_the_figures_sends_the_same_export(harness, county):
    admin = harness.admin()
    await admin.send("/stats 2026")
    await admin.tap("📄 导出表格")
    [document] = documents(harness, COUNTY_ADMIN_ID)
    assert "全县 · 2026 年：活动 3 场，签到记录 7 条，微心愿 4 个，实事 2 件。心愿表只含公开信息。" in document.text


async def test_private_fields_are_refused_to_a_county_admin(harness, county):
    admin = harness.admin()
    await admin.send("/export 2026 含隐私")
    reply = admin.last_reply().text
    assert "不能导出孩子的隐私信息" in reply and "/export 2027" in reply  # this year, by the clock
    assert documents(harness, COUNTY_ADMIN_ID) == []


async def test_year_report_summary_then_charts_then_the_spreadsheet(harness, county):
    admin = harness.admin()
    await admin.send("/report 2026")
    messages = [m for m in harness.fake.bot_messages(COUNTY_ADMIN_ID)]
    summary = next(m for m in messages if m.kind == "text" and "年度工作总结" in (m.text or ""))
    assert "全年开展活动 2 场，志愿者 5 人次，服务 35 人次，认领微心愿 3 个，完成实事 2/4 件。" in summary.text
    assert "志愿者：3 人参与，共 5 人次，累计服务时长 7 小时 15 分" in summary.text
    assert "收集 4 个，认领 3 个，完成 2 个（按时送达 1 个），逾期未送达 1 个" in summary.text
    assert "1/2 个组织完成全年指标" in summary.text
    assert "五星 0 个，四星 0 个，三星 0 个，二星 2 个，一星 1 个" in summary.text
    assert "城关镇团委（★★ 30 分）、县教育局团委（★★ 25 分）" in summary.text
    kinds = [m.kind for m in messages[messages.index(summary) :]]
    assert kinds == ["text", "photo", "photo", "photo", "photo", "document"]
    book = workbook(messages[-1])
    assert len(list(book["微心愿"].iter_rows())) == 1 + 4


async def test_year_report_is_for_county_admins_and_needs_a_year(harness, county):
    li = harness.user(LI, "李书记")
    await li.send("/report 2026")
    assert "只有团县委管理员可以这样做" in li.last_reply().text
    admin = harness.admin()
    await admin.send("/report 2026-03")
    assert "/report 2027" in admin.last_reply().text and "不是一个年份" in admin.last_reply().text
    assert photos(harness, COUNTY_ADMIN_ID) == []


async def test_in_a_group_the_commands_point_to_the_private_chat(harness, county):
    admin = harness.admin()
    chat = await harness.group_with_bot(-1001, "县团委工作群", admins=(COUNTY_ADMIN_ID,))
    for command in ("/stats", "/export", "/report 2026"):
        await admin.send(command, chat)
        assert "私聊" in admin.last_reply(chat).text
    assert "人次" not in "".join(m.text or "" for m in harness.fake.bot_messages(chat))


def test_period_tokens_round_trip():
    from handlers.reports import PickOrgButton, _period_of, _token

    assert _period_of(PickOrgButton(start=_token(date(2026, 1, 1)), end=_token(date(2026, 12, 31)))).days == 365
