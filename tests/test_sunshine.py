"""Sunshine Home in Telegram, as cadres and volunteers use it: children added by conversation and
imported from XLSX, a pair proposed and accepted, contacts logged in a few taps, a quiet pair's
reminders escalating, a volunteer leaving and the children returning for re-pairing, the figures
in /stats, and a privacy scan of every group message, log line and default export."""

from __future__ import annotations

import io
import logging

import openpyxl
import pytest

from bot.domain.sunshine.child_import import HEADERS
from bot.model.organisation import OrgKind, Role
from storage.audit import AuditRepository
from tests.harness import COUNTY_ADMIN_ID

CADRE, VOLUNTEER, SECOND = 700001, 700002, 700003
NAMES = {CADRE: "李书记", VOLUNTEER: "陈老师", SECOND: "刘同学"}
PLANTED = ("王小华", "王大山", "13900139000", "139 0013 9000", "幸福村3组")


class County:
    def __init__(self, harness, township: int, village: int) -> None:
        self.harness = harness
        self.services = harness.services
        self.township, self.village = township, village

    def client(self, user_id: int):
        return self.harness.user(user_id, NAMES[user_id], username=f"u{user_id}")

    async def days(self, count: int) -> None:
        """Let `count` days pass, the daily job running each morning as the scheduler would."""
        for _ in range(count):
            self.harness.clock.advance(days=1)
            await self.harness.tick()
            await self.harness.send_queued()


@pytest.fixture
async def county(harness) -> County:
    services = harness.services
    harness.admin()
    township = (await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)).id
    village = (await services.orgs.create(COUNTY_ADMIN_ID, "李家村团支部", OrgKind.VILLAGE_BRANCH, township)).id
    world = County(harness, township, village)
    for user_id in NAMES:
        world.client(user_id)
        await services.people.seen(user_id, NAMES[user_id], f"u{user_id}", "zh-hans", private=True)
    await services.membership.memberships.grant(village, CADRE, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now())
    return world


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def add_child_by_conversation(cadre) -> None:
    await cadre.send("/newchild")
    assert "李家村团支部" in cadre.last_reply().text and "不要写真实姓名" in cadre.last_reply().text
    await cadre.send("小华")
    await cadre.send("五年级")
    await cadre.send("数学、画画")
    await cadre.tap("✅ 是，监护人已同意")
    await cadre.send("王小华")
    await cadre.send("王大山（爷爷）")
    await cadre.send("139 0013 9000")
    await cadre.send("幸福村3组")
    assert "隐私信息 4 项" in cadre.last_reply().text
    await cadre.tap("✅ 保存")
    assert "已登记，编号 C0001" in cadre.last_reply().text


async def test_a_child_without_consent_is_never_asked_for_details_and_bad_input_keeps_the_step(county):
    cadre = county.client(CADRE)
    await cadre.send("/newchild")
    await cadre.send("小军")
    await cadre.send("三年级的第二个学期还有更多")
    assert "年级太长了" in cadre.last_reply().text and "五年级" in cadre.last_reply().text
    await cadre.send("三年级")
    await cadre.tap("⏭ 跳过")
    await cadre.tap("❌ 否，没有取得同意")
    assert "请核对" in cadre.last_reply().text and "隐私信息 0 项" in cadre.last_reply().text
    await cadre.tap("✅ 保存")
    await cadre.send("/child C0001")
    card = cadre.last_reply()
    assert "小军 · 三年级" in card.text and "未同意" in card.text
    assert "🔒" not in str(card.reply_markup)


async def test_the_import_reports_every_bad_row_and_imports_nothing_until_all_are_right(county):
    cadre = county.client(CADRE)
    await cadre.send("/childtemplate")
    template = cadre.last_reply()
    assert template.kind == "document"
    header = list(HEADERS)
    bad = [
        header,
        ["李家村团支部", "小明", "四年级", "数学", "否", "王小明", "", "", "", "", ""],
        ["李家村团支部", "小红", "二年级", "", "是", "", "", "", "12345", "", ""],
        ["李家村团支部", "小红", "二年级", "", "是", "", "", "", "", "", ""],
        ["别的村", "小刚", "一年级", "", "是", "", "", "", "", "", ""],
    ]
    await cadre.send("/importchildren")
    await cadre.send_document("名册.xlsx", xlsx(bad))
    report = cadre.last_reply().text
    assert "整个文件都没有导入" in report
    assert "第 2 行 · 孩子姓名：监护人没有同意（否），这一格必须留空" in report
    assert "第 3 行 · 监护人电话：电话格式不对" in report
    assert "第 4 行 · 孩子称呼：与第 3 行重复" in report
    assert "第 5 行 · 所属组织：找不到组织「别的村」" in report
    assert "王小明" not in report
    assert await county.services.sunshine.children.of_orgs([county.village]) == []
    good = [
        header,
        ["李家村团支部", "小明", "四年级", "数学", "否"],
        ["李家村团支部", "小红", "二年级", "英语、心理", "是", "李小红"],
    ]
    await cadre.send_document("名册.xlsx", xlsx(good))
    assert "检查通过：共 2 个孩子，其中监护人已同意 1 个" in cadre.last_reply().text
    await cadre.tap("✅ 导入 2 个孩子")
    assert "已导入 2 个孩子，编号 C0001 到 C0002" in cadre.last_reply().text
    await cadre.send("/importchildren")
    await cadre.send_document("名册.xlsx", xlsx(good))
    assert "名册里已经有同一组织" in cadre.last_reply().text


async def test_the_pairing_story_from_proposal_to_quiet_pair_to_hand_back(county, harness):
    cadre, volunteer, second = county.client(CADRE), county.client(VOLUNTEER), county.client(SECOND)
    await add_child_by_conversation(cadre)
    # The volunteer's profile, reached from /profile.
    await volunteer.send("/profile")
    await volunteer.tap("🙋 志愿者资料（特长、空闲时间）")
    await volunteer.tap("青年教师")
    await volunteer.send("县第一中学")
    await volunteer.send("数学、语文")
    await volunteer.tap("周末")
    await volunteer.tap("✅ 选好了")
    await volunteer.send("李家村")
    await volunteer.tap("内地（或未填写）")
    assert "志愿者资料已保存" in volunteer.last_reply().text and "✅ 周末" not in volunteer.last_reply().text

    # The cadre asks for suggestions and proposes; the volunteer accepts in private.
    await cadre.send("/pair C0001")
    await cadre.tap("学业辅导")
    suggestions = cadre.last_reply().text
    assert "陈老师" in suggestions and "擅长数学" in suggestions and "住在李家村附近" in suggestions
    await cadre.tap("1. 陈老师")
    await cadre.tap("每周一次")
    assert "已向 陈老师" in cadre.last_reply().text
    invitation = volunteer.last_reply().text
    assert "结对邀请" in invitation and "C0001" in invitation and "王小华" not in invitation
    await volunteer.tap("✅ 接受结对")
    assert "您已接受结对 P0001" in volunteer.last_reply().text
    assert "陈老师 (@u700002) 接受了结对 P0001" in cadre.last_reply().text

    # A contact in a few taps; a future date is refused with an example, the step kept.
    await volunteer.send("/contact")
    await volunteer.send("12-31")
    assert "还没到" in volunteer.last_reply().text
    await volunteer.tap("今天")
    await volunteer.tap("上门探访")
    await volunteer.tap("60 分钟")
    await volunteer.send("讲了分数")
    assert "不要拍到孩子的正脸、姓名或住址" in volunteer.last_reply().text
    await volunteer.tap("⏭ 跳过")
    assert "已记录" in volunteer.last_reply().text and "60 分钟" in volunteer.last_reply().text
    # The volunteer (paired) may see the details, audited.
    await volunteer.send("/child C0001")
    await volunteer.tap("🔒 查看隐私信息（会记录）")
    assert "王小华" in volunteer.last_reply().text
    audit = await AuditRepository(county.services.db).for_subject("child:1")
    assert [actor for _, actor, action, _ in audit if action == "child.private_view"] == [VOLUNTEER]

    # The pair goes quiet: the volunteer is reminded after a week, the cadres a week later, once each.
    await county.days(8)
    reminders = [m.text for m in volunteer.replies() if "还没有新的联系记录" in (m.text or "")]
    assert len(reminders) == 1 and "C0001" in reminders[0]
    await county.days(7)
    told = [m for m in cadre.replies() if "一直没有联系记录" in (m.text or "")]
    assert len(told) == 1 and "🤝 重新结对" in str(told[0].reply_markup)
    await county.days(3)
    assert len([m for m in cadre.replies() if "一直没有联系记录" in (m.text or "")]) == 1

    # The volunteer leaves the county: the child returns, the cadre re-pairs by the button.
    await volunteer.send("/handback")
    assert "交回后，您的 1 个结对会结束" in volunteer.last_reply().text and "P0001" in volunteer.last_reply().text
    await volunteer.tap("🔁 交回全部结对")
    assert "已交回 1 个结对" in volunteer.last_reply().text
    await volunteer.send("/handback")
    assert "没有需要交回的孩子" in volunteer.last_reply().text
    await harness.send_queued()
    assert "已离开本县" in cadre.last_reply().text
    await cadre.tap("🤝 重新结对")
    await cadre.tap("学业辅导")
    await cadre.send("@u700003")
    await cadre.tap("每月一次")
    await second.tap("✅ 接受结对")
    assert "您已接受结对 P0002" in second.last_reply().text

    # The figures.
    await harness.admin().send("/stats 2026")
    stats = harness.fake.last_bot_message(COUNTY_ADMIN_ID).text
    assert "阳光家园" in stats and "服务儿童 1 人，儿童 1 人次" in stats
    assert "志愿者联系 1 人次" in stats and "青年教师 1" in stats
    assert "城关镇团委（儿童 1 人，联系 1 次）" in stats


async def test_pairing_refusals_name_the_fix(county, harness):
    cadre = county.client(CADRE)
    await add_child_by_conversation(cadre)
    harness.user(799999, "没开始", username="never", started=False)
    await county.services.people.seen(799999, "没开始", "never", "zh-hans", private=False)
    await cadre.send("/pair C0001")
    await cadre.tap("兴趣培养")
    await cadre.send("@never")
    await cadre.tap("每周一次")
    assert "发送 /start" in cadre.last_reply().text
    await cadre.send("/pair C9")
    assert "找不到孩子 C0009" in cadre.last_reply().text


async def test_no_child_detail_reaches_a_group_a_log_line_or_the_default_export(county, harness, caplog):
    caplog.set_level(logging.DEBUG)
    group = await harness.group_with_bot(-1009, "李家村团干部群", admins=(COUNTY_ADMIN_ID,))
    harness.fake.add_member(group, CADRE)
    cadre, volunteer = county.client(CADRE), county.client(VOLUNTEER)
    for command in ("/newchild", "/child C0001", "/contact"):
        await cadre.send(command, group)
    await add_child_by_conversation(cadre)
    await cadre.send("/pair C0001")
    await cadre.tap("心理咨询")
    await cadre.send("@u700002")
    await cadre.tap("每周一次")
    await volunteer.tap("✅ 接受结对")
    await volunteer.send("/contact")
    for step in ("今天", "电话", "30 分钟", "⏭ 跳过", "⏭ 跳过"):
        await volunteer.tap(step)
    await county.days(15)
    await county.services.sunshine.hand_back(VOLUNTEER)
    await harness.send_queued()
    admin = harness.admin()
    await admin.send("/export 2026")
    await cadre.send("/export 2026")
    await cadre.send("/sunshinecontacts 2026")

    for message in harness.fake.messages(group):
        for value in PLANTED:
            assert value not in (message.text or "")
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(("telegram", "aiosqlite"))
    )
    for value in PLANTED:
        assert value not in logged
    exports = [m for chat in (COUNTY_ADMIN_ID, CADRE) for m in harness.fake.bot_messages(chat) if m.kind == "document"]
    assert len(exports) == 3
    for message in exports:
        book = openpyxl.load_workbook(io.BytesIO(message.document["content"]))
        cells = " ".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if cell
        )
        for value in PLANTED:
            assert value not in cells
    county_book = openpyxl.load_workbook(io.BytesIO(exports[0].document["content"]))
    months = list(county_book["结对按月"].iter_rows(values_only=True))
    header = list(months[0])
    assert header[:4] == ["结对", "儿童编号", "组织", "联系次数"] and len(header) == 5 + 12
    assert months[1][:4] == ("P0001", "C0001", "李家村团支部", 1)
    assert months[1][header.index("2026-11")] == 1
