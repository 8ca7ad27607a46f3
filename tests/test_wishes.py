"""Micro-wishes in Telegram, as cadres use them: /newwish, /importwishes and /wishtemplate, /wishes
and /wish W0012 with the card's buttons, fulfilment with a photo, deadline reminders and the
daily overdue list, and the children's privacy throughout.

The fake Telegram's users cannot send a photo message, so photos are sent as image files (which
the bot accepts too, re-sending them as photos); one test hands the bot a real photo message.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import openpyxl
import pytest

from bot.domain.wish_import import HEADERS
from bot.domain.wishes import WishDraft
from bot.model.organisation import OrgKind, Role
from bot.model.wish import PrivateDetails, WishCategory, WishStatus
from handlers.wishes import send_overdue_digest, sync_deadline_reminders
from storage.audit import AuditRepository
from tests.harness import COUNTY_ADMIN_ID

SCHOOL, OTHER_SCHOOL, DONOR_ORG = "县第一小学", "县第二小学", "县教育局团委"
TEACHER, COLLEAGUE, OTHER_TEACHER, DONOR, DONOR_MATE, OUTSIDER = 300001, 300002, 300003, 300004, 300005, 300009
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PRIVATE = PrivateDetails(real_name="王小明", guardian_phone="13800138000", address="城关镇幸福路 1 号", notes="鞋码 35")
PRIVATE_VALUES = ("王小明", "13800138000", "138 0013 8000", "幸福路", "鞋码")
EXPIRED = "这个按钮已过期或无效。请重新发送命令开始。"
NAMES = {
    TEACHER: "李老师",
    COLLEAGUE: "周老师",
    OTHER_TEACHER: "赵老师",
    DONOR: "张书记",
    DONOR_MATE: "陈干事",
    OUTSIDER: "路人",
}


class County:
    def __init__(self, harness, orgs: dict[str, int]) -> None:
        self.harness = harness
        self.orgs = orgs
        self.services = harness.services

    async def wish(self, by: int = TEACHER, **changes):
        fields = {
            "collector_org_id": self.orgs[SCHOOL],
            "alias": "小明",
            "grade": "三年级",
            "text": "一个篮球",
            "category": WishCategory.SPORTS,
            "value_yuan": 80,
            "consent": True,
            "private": PRIVATE,
        }
        fields.update(changes)
        return await self.services.wishes.add(by, WishDraft(**fields))

    async def claim(self, wish, by: int = DONOR, *, days: int = 14):
        now = self.harness.clock.now()
        assert await self.services.wishes.claim(
            by, self.orgs[DONOR_ORG], wish.id, now, deadline=now + timedelta(days=days)
        )
        return await self.services.wishes.get(wish.id)

    async def audit(self, wish_id: int) -> list[tuple[str, int | None]]:
        entries = await AuditRepository(self.services.db).for_subject(f"wish:{wish_id}")
        return [(action, actor) for _, actor, action, _ in entries]


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    orgs = {}
    for name, kind in ((SCHOOL, OrgKind.SCHOOL), (OTHER_SCHOOL, OrgKind.SCHOOL), (DONOR_ORG, OrgKind.COUNTY_LEVEL)):
        orgs[name] = (await harness.services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
    for user_id, org, role in (
        (TEACHER, SCHOOL, Role.ORG_ADMIN),
        (COLLEAGUE, SCHOOL, Role.CADRE),
        (OTHER_TEACHER, OTHER_SCHOOL, Role.CADRE),
        (DONOR, DONOR_ORG, Role.CADRE),
        (DONOR_MATE, DONOR_ORG, Role.CADRE),
        (OUTSIDER, None, None),
    ):
        client(harness, user_id)
        await harness.services.people.seen(user_id, NAMES[user_id], None, "zh-hans", private=True)
        if org is not None:
            await harness.services.membership.memberships.grant(
                orgs[org], user_id, role, COUNTY_ADMIN_ID, harness.clock.now()
            )
    return County(harness, orgs)


def client(harness, user_id: int):
    return harness.user(user_id, NAMES[user_id])


def text_of(chat) -> str:
    return chat.last_reply().text


def photo_update(harness, user_id: int, file_id: str) -> dict:
    """A photo message (the fake's users can only send files): the update Telegram would send."""
    update = harness.fake.user_sends(
        user_id, user_id, document={"file_name": "x.png", "mime_type": "image/png", "content": PNG}
    )
    message = update["message"]
    del message["document"]
    message["photo"] = [{"file_id": file_id, "file_unique_id": "AgADphoto", "width": 320, "height": 320}]
    return update


async def answer_basics(teacher, alias="小明") -> None:
    for text in (alias, "三年级", "一个篮球"):
        await teacher.send(text)
    await teacher.tap("体育用品")
    await teacher.send("80")


# ---- /newwish -------------------------------------------------------------------------------
async def test_a_wish_without_consent_asks_no_private_details(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/newwish")
    assert "不要写真实姓名" in text_of(teacher) and SCHOOL in text_of(teacher)  # one organisation: no picker
    await answer_basics(teacher)
    assert "照片" in text_of(teacher)
    await teacher.tap("⏭ 跳过")
    assert "个人信息保护法" in text_of(teacher) and "不保存孩子的任何隐私信息" in text_of(teacher)
    await teacher.tap("❌ 否，没有取得同意")
    summary = text_of(teacher)
    assert "请核对" in summary and "小明 · 三年级" in summary and "🔒" not in summary
    await teacher.tap("✅ 保存")
    assert "心愿已保存，编号 W0001" in text_of(teacher)

    wish = await county.services.wishes.get(1)
    assert (wish.alias, wish.grade, wish.text, wish.category, wish.value_yuan) == (
        "小明",
        "三年级",
        "一个篮球",
        WishCategory.SPORTS,
        80,
    )
    assert not wish.consent and wish.photo_file_id is None
    assert await county.services.conversations.get(TEACHER) is None
    assert await county.services.wishes.private_details(TEACHER, wish.id) is None


async def test_a_wish_with_consent_keeps_details_only_the_collector_sees(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/newwish")
    await answer_basics(teacher)
    await teacher.send_document("心愿卡.png", PNG, mime_type="image/png")
    echoed = teacher.replies()[-2]  # re-sent as a photo, so that its file_id is a photo's
    assert (echoed.kind, echoed.text) == ("photo", "📷 照片已收到。")
    await teacher.tap("✅ 是，监护人已同意")
    assert "真实姓名" in text_of(teacher)
    await teacher.send("王小明")
    await teacher.send("138 0013 8000")
    await teacher.send("城关镇幸福路 1 号")
    await teacher.send("鞋码 35")
    summary = text_of(teacher)
    assert "王小明" in summary and "13800138000" in summary and "照片：有" in summary
    await teacher.tap("✅ 保存")
    assert "W0001" in text_of(teacher)

    wish = await county.services.wishes.get(1)
    assert wish.consent and wish.photo_file_id and wish.photo_file_id.startswith("AgAC")
    await teacher.send("/wish W0001")
    card = text_of(teacher)
    assert "小明 · 三年级" in card and "王小明" in card and "13800138000" in card and "鞋码 35" in card
    await teacher.tap("🖼 心愿照片")
    assert teacher.transcript()[-1] == "W0001 小明 · 三年级：一个篮球"

    colleague = client(harness, COLLEAGUE)  # a cadre of the same school: a collector too
    await colleague.send("/wish W0001")
    assert "王小明" in text_of(colleague)
    other = client(harness, OTHER_TEACHER)
    await other.send("/wish W0001")
    assert "一个篮球" in text_of(other) and "王小明" not in text_of(other) and "🔒" not in text_of(other)
    admin = harness.admin()
    await admin.send("/wish w1")
    assert "一个篮球" in text_of(admin)
    assert not any(value in text_of(admin) for value in PRIVATE_VALUES)
    views = [actor for action, actor in await county.audit(wish.id) if action == "wish.private_view"]
    assert views == [TEACHER, COLLEAGUE]


async def test_a_county_admin_picks_the_collector_and_a_photo_message_is_taken_as_it_is(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/newwish")
    await answer_basics(teacher)
    await teacher.send_document("a.png", PNG, mime_type="image/png")
    photos = [m for m in harness.fake.bot_messages(TEACHER) if m.kind == "photo"]
    photo_id = photos[-1].file_id
    await teacher.send("/cancel")

    admin = harness.admin()
    await admin.send("/newwish")
    assert "收集这个心愿的单位" in text_of(admin)
    await admin.send("不存在的学校")
    assert "没有找到名称包含「不存在的学校」的单位" in text_of(admin)
    await admin.send("第二")
    assert "找到 1 个单位" in text_of(admin)
    await admin.tap(OTHER_SCHOOL)
    assert OTHER_SCHOOL in text_of(admin)
    await answer_basics(admin, alias="小红")
    await harness.deliver(photo_update(harness, COUNTY_ADMIN_ID, photo_id))
    assert "监护人是否同意" in text_of(admin)
    await admin.send("否")
    await admin.tap("✅ 保存")
    wish = await county.services.wishes.get(1)
    assert (wish.collector_org_id, wish.photo_file_id) == (county.orgs[OTHER_SCHOOL], photo_id)


async def test_bad_input_at_every_step_explains_and_stays(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/newwish")

    async def bad(text_or_file, expected: str) -> None:
        if isinstance(text_or_file, tuple):
            await teacher.send_document(*text_or_file)
        else:
            await teacher.send(text_or_file)
        assert expected in text_of(teacher), text_of(teacher)

    await bad("小" * 21, "孩子称呼太长了（21 个字），最多 20 个字")
    await teacher.send("小明")
    await bad("三年级" * 4, "年级太长了（12 个字），最多 10 个字。请只写年级，例如：三年级")
    await teacher.send("三年级")
    await bad("篮" * 101, "心愿内容太长了（101 个字），最多 100 个字")
    await teacher.send("一个篮球")
    await bad("食品", "「食品」不是心愿类别。请选择：学习用品、图书")
    await teacher.send("体育")  # typed categories are understood
    await bad("八十", "估价「八十」不是整数。请填写 1～2000 之间的整数（元），例如：80")
    await bad("5000", "估价 5000 元超出范围")
    await teacher.send("80元")
    await bad("照片", "这一步需要一张<b>照片</b>".replace("<b>", "").replace("</b>", ""))
    await bad(("清单.txt", b"hello", "text/plain"), "「清单.txt」不是图片")
    await bad(("假图.png", b"not really a png", "image/png"), "「假图.png」不是图片")
    await teacher.send("跳过")
    await bad("也许", "请点按钮回答，或发送「是」或「否」")
    await teacher.send("是")
    await bad("王" * 21, "孩子姓名太长了（21 个字），最多 20 个字")
    await bad("小明", "和公开称呼「小明」一样")
    await bad("小明", "孩子称呼会公开显示，不能与孩子的真实姓名相同")
    await teacher.send("明明")
    await bad("12345", "监护人电话格式不对")
    await teacher.send("0571-88888888")
    await bad("路" * 101, "家庭住址太长了（101 个字），最多 100 个字")
    await teacher.tap("⏭ 跳过")
    await bad("注" * 201, "备注太长了（201 个字），最多 200 个字")
    await teacher.send("跳过")
    summary = text_of(teacher)
    assert "明明 · 三年级" in summary and "孩子姓名：小明" in summary and "0571-88888888" in summary
    await teacher.tap("✅ 保存")
    wish = await county.services.wishes.get(1)
    assert wish.alias == "明明"
    assert await county.services.wishes.private_details(TEACHER, 1) == PrivateDetails(
        real_name="小明", guardian_phone="0571-88888888"
    )


async def test_an_identical_open_wish_asks_for_another_alias(county, harness):
    await county.wish(consent=False, private=None)
    teacher = client(harness, TEACHER)
    await teacher.send("/newwish")
    await answer_basics(teacher)
    await teacher.tap("⏭ 跳过")
    await teacher.tap("❌ 否，没有取得同意")
    await teacher.tap("✅ 保存")
    assert "请发送一个新的公开称呼" in text_of(teacher)
    assert "同一单位不能重复录入" in teacher.transcript()[-2]
    await teacher.send("小明2")
    await teacher.tap("✅ 保存")
    assert "W0002" in text_of(teacher)


async def test_someone_without_an_organisation_is_told_to_join(county, harness):
    outsider = client(harness, OUTSIDER)
    await outsider.send("/newwish")
    assert "请先发送 /join" in text_of(outsider)
    await outsider.send("/importwishes")
    assert "请先发送 /join" in text_of(outsider)


# ---- /importwishes and /wishtemplate -------------------------------------------------------------
def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_ROW = (SCHOOL, "小刚", "四年级", "一套画笔", "学习用品", 60, "是", "李小刚", "13900000000", None, None)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_import_reports_every_bad_row_imports_nothing_then_takes_a_good_file(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/importwishes")
    assert "XLSX 或 CSV 文件" in text_of(teacher)
    await teacher.send("这是文字")
    assert "这一步需要<b>文件</b>".replace("<b>", "").replace("</b>", "") in text_of(teacher)
    bad = xlsx(
        [
            GOOD_ROW,
            (SCHOOL, "小芳", "二年级", "跳绳", "体育用品", "很贵", "否", None, None, None, None),
            (SCHOOL, "小亮", "五年级", "词典", "图书", 40, "否", "王小亮", None, None, None),
            (OTHER_SCHOOL, "小东", "一年级", "书包", "学习用品", 50, "否", None, None, None, None),
        ]
    )
    await teacher.send_document("心愿.xlsx", bad, mime_type=XLSX)
    report = text_of(teacher)
    assert "有 3 处问题，没有导入任何心愿" in report
    assert "第 3 行 · 列「估价（元）」：估价「很贵」不是整数" in report
    assert "第 4 行 · 列「孩子姓名」：这一行「监护人同意」为「否」，所以这一格必须留空" in report
    assert "第 5 行 · 列「收集单位」：找不到收集单位「县第二小学」，或者您不能为它录入心愿" in report
    assert "王小亮" not in report  # a private value is never quoted back
    assert (await county.services.wishes.find()).total == 0

    good = xlsx([GOOD_ROW, (SCHOOL, "小芳", "二年级", "跳绳", "体育用品", "30元", "否", None, None, None, None)])
    await teacher.send_document("心愿.xlsx", good, mime_type=XLSX)
    confirm = text_of(teacher)
    assert "检查通过，共 2 个心愿" in confirm and f"{SCHOOL}：2 个" in confirm and "监护人已同意 1 个" in confirm
    await teacher.tap("✅ 导入 2 个心愿")
    assert "已导入 2 个心愿（编号 W0001～W0002）" in text_of(teacher)
    page = await county.services.wishes.find()
    assert [(wish.alias, wish.value_yuan, wish.consent) for wish in page.items] == [
        ("小刚", 60, True),
        ("小芳", 30, False),
    ]
    assert (await county.services.wishes.private_details(TEACHER, 1)).real_name == "李小刚"


async def test_the_template_comes_back_as_an_importable_file(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/wishtemplate")
    template = teacher.last_reply()
    assert template.kind == "document" and template.document["file_name"] == "心愿导入模板.xlsx"
    assert "只有监护人同意" in template.text
    await teacher.send("/importwishes")
    await teacher.send_document("心愿导入模板.xlsx", template.document["content"], mime_type=XLSX)
    assert "检查通过，共 2 个心愿" in text_of(teacher)
    await teacher.tap("✅ 导入 2 个心愿")
    assert "已导入 2 个心愿" in text_of(teacher)
    assert (await county.services.wishes.find()).total == 2


# ---- /wishes and /wish ----------------------------------------------------------------------------
async def test_the_list_pages_filters_and_searches(county, harness):
    for number in range(1, 24):
        org = SCHOOL if number <= 15 else OTHER_SCHOOL
        by = TEACHER if number <= 15 else OTHER_TEACHER
        category = WishCategory.BOOKS if number % 2 else WishCategory.SPORTS
        text = "一个篮球" if number == 7 else f"心愿{number}"
        await county.wish(
            by=by,
            collector_org_id=county.orgs[org],
            alias=f"孩子{number}",
            text=text,
            category=category,
            consent=False,
            private=None,
        )
    for wish_id in (2, 16):
        await county.claim(await county.services.wishes.get(wish_id))

    teacher = client(harness, TEACHER)
    await teacher.send("/wishes")
    page = teacher.last_reply()
    assert "共 23 个（第 1/3 页）" in page.text
    assert sum(1 for label in page.button_labels() if label.startswith("W00")) == 10
    assert "W0001" in page.text and "W0011" not in page.text
    await teacher.tap("下一页 ▶")
    assert "第 2/3 页" in text_of(teacher) and "W0011" in text_of(teacher)
    await teacher.tap("◀ 上一页")
    assert "第 1/3 页" in text_of(teacher)

    await teacher.tap("状态：全部 ▾")
    await teacher.tap("已认领")
    listed = text_of(teacher)
    assert "共 2 个" in listed and "W0002" in listed and "W0016" in listed and "状态：已认领" in listed
    await teacher.tap("📥 县第一小学收集的")
    assert "共 1 个" in text_of(teacher) and "W0016" not in text_of(teacher)
    await teacher.tap("全部单位")
    await teacher.tap("状态：已认领 ▾")
    await teacher.tap("全部")
    await teacher.tap("类别：全部 ▾")
    await teacher.tap("图书")
    assert "共 12 个" in text_of(teacher)
    await teacher.tap("类别：图书 ▾")
    await teacher.tap("全部")

    await teacher.send("篮球")
    assert "共 1 个" in text_of(teacher) and "W0007 孩子7 · 三年级：一个篮球" in text_of(teacher)
    await teacher.send("W0003")
    assert "共 1 个" in text_of(teacher) and "W0003" in text_of(teacher)
    await teacher.tap("W0003 · 孩子3 · 三年级")
    assert text_of(teacher).startswith("🎁 W0003 · 待认领")
    await teacher.send("/wishes 不存在的东西")
    assert "没有符合条件的心愿" in text_of(teacher)

    donor = client(harness, DONOR)
    await donor.send("/wishes")
    await donor.tap("📤 县教育局团委认领的")
    assert "共 2 个" in text_of(donor)


async def test_county_admins_see_the_overdue_claims_first(county, harness):
    for number in range(1, 4):
        await county.wish(alias=f"孩子{number}", consent=False, private=None)
    await county.claim(await county.services.wishes.get(3), days=1)
    harness.clock.advance(days=2)
    admin = harness.admin()
    await admin.send("/wishes")
    lines = [line for line in text_of(admin).splitlines() if line.startswith("W00")]
    assert lines[0].startswith("W0003") and "⚠️ 逾期" in lines[0] and "逾期未送达的排在最前" in text_of(admin)
    await admin.send("/wish W0003")
    assert "⚠️ 已逾期" in text_of(admin)


async def test_wish_without_a_code_explains_and_unknown_codes_are_named(county, harness):
    teacher = client(harness, TEACHER)
    await teacher.send("/wish")
    assert "例如：/wish W0012" in text_of(teacher)
    await teacher.send("/wish W0099")
    assert "找不到心愿 W0099" in text_of(teacher)
    await teacher.send("/wish 篮球")
    assert "「篮球」不是心愿编号" in text_of(teacher)


async def test_someone_in_no_organisation_is_told_how_to_join_instead_of_seeing_wishes(county, harness):
    """/wish W0001 used to show a card's public fields to anyone, though it is a cadres' command."""
    wish = await county.wish()
    await county.services.wishes.edit(TEACHER, wish.id, photo_file_id="AgACphoto")
    outsider = client(harness, OUTSIDER)
    how_to_join = "心愿登记册只对团干部开放。如果您是某个团组织的团干部，请先发送 /join 申请加入"
    for command in ("/wish W0001", "/wish W0099", "/wishes", "/wishes 篮球"):
        await outsider.send(command)
        assert how_to_join in text_of(outsider), command
        assert "一个篮球" not in text_of(outsider) and "小明" not in text_of(outsider)
    assert await harness.services.conversations.get(OUTSIDER) is None  # no list left open
    await outsider.tap_data(f"wsh:{wish.id}:photo", forge=True)  # a card's button, forged
    assert how_to_join in outsider.callback_answers[-1]
    assert harness.fake.count_calls("sendPhoto") == 0
    await client(harness, DONOR).send("/wish W0001")  # any cadre still sees the card
    assert "一个篮球" in text_of(client(harness, DONOR))


async def test_the_collector_edits_and_cancels_and_others_may_not(county, harness):
    await county.wish()
    teacher = client(harness, TEACHER)
    await teacher.send("/wish W0001")
    await teacher.tap("✏️ 修改")
    await teacher.tap("心愿内容")
    assert "现在是「一个篮球」" in text_of(teacher)
    await teacher.send("一套《十万个为什么》")
    assert "心愿 W0001 已修改" in teacher.transcript()[-2] and "一套《十万个为什么》" in text_of(teacher)
    await teacher.tap("✏️ 修改")
    await teacher.tap("估价")
    await teacher.send("很多")
    assert "估价「很多」不是整数" in text_of(teacher)
    await teacher.send("120")
    assert "估价：120 元" in text_of(teacher)
    await teacher.tap("✏️ 修改")
    await teacher.tap("类别")
    await teacher.tap("图书")
    assert "类别：图书" in text_of(teacher)

    other = client(harness, OTHER_TEACHER)
    await other.send("/wish W0001")
    assert "✏️ 修改" not in other.last_reply().button_labels()
    await other.tap_data("wsh:1:edit", forge=True)
    assert "只有收集单位「县第一小学」的团干部或县团委管理员才能修改" in other.callback_answers[-1]
    await other.tap_data("wsh:1:cancel", forge=True)
    assert "才能取消这个心愿" in other.callback_answers[-1]

    await teacher.send("/wish W0001")
    await teacher.tap("🗑 取消心愿")
    assert "请写明原因" in text_of(teacher)
    await teacher.send("孩子已转学")
    assert "心愿 W0001 已取消" in text_of(teacher)
    wish = await county.services.wishes.get(1)
    assert wish.status is WishStatus.CANCELLED and wish.cancel_reason == "孩子已转学"
    await teacher.send("/wish W0001")
    card = text_of(teacher)
    assert "已取消" in card and "孩子已转学" in card and "王小明" not in card
    assert teacher.last_reply().button_labels() == []


async def test_a_county_admin_cancels_a_claimed_wish_and_the_claimer_is_told(county, harness):
    await county.claim(await county.wish())
    admin = harness.admin()
    await admin.send("/wish W0001")
    await admin.tap("🗑 取消心愿")
    assert "认领人会收到通知" in text_of(admin)
    await admin.send("学校撤回")
    assert "已通知认领人" in text_of(admin)
    donor = client(harness, DONOR)
    assert "心愿 W0001（小明 · 三年级：一个篮球）已被取消，原因：学校撤回" in text_of(donor)


# ---- fulfilment --------------------------------------------------------------------------------
async def test_claimed_bought_delivered_with_a_photo_then_confirmed(county, harness):
    await county.claim(await county.wish())
    donor = client(harness, DONOR)
    await donor.send("/wish W0001")
    card = donor.last_reply()
    assert "认领：县教育局团委（张书记）" in card.text and "王小明" in card.text  # the claimer, while fulfilling
    assert card.button_labels() == ["🛒 已购买", "📦 已送达"]
    await donor.tap("🛒 已购买")
    assert donor.callback_answers[-1].startswith("已登记为已购买")
    assert text_of(donor).startswith("🎁 W0001 · 已购买") and donor.last_reply().button_labels() == ["📦 已送达"]

    mate = client(harness, DONOR_MATE)  # another cadre of the claiming organisation may deliver
    await mate.send("/wish W0001")
    assert "王小明" not in text_of(mate)  # but is not the claimer: no child's details
    await donor.tap("📦 已送达")
    assert "请发送一张照片" in text_of(donor).replace("<b>", "")
    await donor.send("送到了")
    assert "登记送达需要一张照片" in text_of(donor)
    await donor.send_document("送达.jpg", b"\xff\xd8\xff\xe0" + bytes(32), mime_type="image/jpeg")
    assert "心愿 W0001 已登记送达" in text_of(donor)
    wish = await county.services.wishes.get(1)
    assert wish.status is WishStatus.DELIVERED and wish.delivery_proof_file_id.startswith("AgAC")

    teacher = client(harness, TEACHER)
    notice = teacher.last_reply()
    assert notice.kind == "photo" and "已由「县教育局团委」送达" in notice.text
    colleague = client(harness, COLLEAGUE)
    assert colleague.last_reply().kind == "photo"
    await teacher.tap("✅ 确认收到")
    assert teacher.callback_answers[-1] == "已确认收到，谢谢！"
    assert text_of(teacher).startswith("🎁 W0001 · 已确认收到")
    assert (await county.services.wishes.get(1)).status is WishStatus.CONFIRMED
    assert "已确认心愿 W0001（小明 · 三年级：一个篮球）送到了孩子手中" in text_of(donor)
    await colleague.tap("✅ 确认收到")  # a second tap changes nothing
    assert "还没有登记送达（或已经确认过了）" in colleague.callback_answers[-1]

    await donor.send("/wish W0001")
    assert "王小明" not in text_of(donor)  # done: the claimer sees the child's details no more
    await teacher.send("/wish W0001")
    await teacher.tap("🖼 送达照片")
    assert teacher.last_reply().kind == "photo"


async def test_a_photo_message_is_delivery_proof_and_only_the_claiming_side_may_deliver(county, harness):
    wish = await county.wish(photo_file_id=None)
    await county.claim(wish)
    other = client(harness, OTHER_TEACHER)
    await other.send("/wish W0001")
    assert other.last_reply().button_labels() == []
    await other.tap_data("wsh:1:deliver", forge=True)
    assert "只有认领人或认领单位的团干部才能登记" in other.callback_answers[-1]
    await other.tap_data("wsh:1:buy", forge=True)
    assert "只有认领人或认领单位的团干部才能登记" in other.callback_answers[-1]
    await other.tap_data("wsh:1:fly", forge=True)
    assert other.callback_answers[-1] == EXPIRED

    donor = client(harness, DONOR)
    await donor.send("/wish W0001")
    await donor.tap("📦 已送达")
    sent = await harness.services.wishes.get(1)
    assert sent.status is WishStatus.CLAIMED
    # A photo the bot already holds (as a user forwarding one would), sent as a photo message.
    await harness.app.bot.send_photo(DONOR, PNG)
    photo_id = [m for m in harness.fake.bot_messages(DONOR) if m.kind == "photo"][-1].file_id
    await harness.deliver(photo_update(harness, DONOR, photo_id))
    assert "已登记送达" in text_of(donor)
    assert (await county.services.wishes.get(1)).delivery_proof_file_id == photo_id


# ---- reminders and the overdue list -------------------------------------------------------------
async def test_deadline_reminders_reach_the_claimer_3_and_1_days_before(county, harness):
    [job] = harness.app.job_queue.get_jobs_by_name("wishes:deadlines")  # the running bot's pass
    assert job.job.trigger.interval == timedelta(minutes=10)
    wish = await county.claim(await county.wish())
    assert await sync_deadline_reminders(harness.app) == 1
    repo = harness.services.reminders.reminders
    three, one = await repo.by_subject("wish:1:3d"), await repo.by_subject("wish:1:1d")
    assert (three.target_kind, three.target_id) == ("person", DONOR)
    assert three.next_due_at == wish.deadline - timedelta(days=3)
    assert one.next_due_at == wish.deadline - timedelta(days=1)
    assert "王小明" not in three.text and "一个篮球" in three.text
    await sync_deadline_reminders(harness.app)  # unchanged: kept, not duplicated
    assert (await repo.by_subject("wish:1:3d")).id == three.id

    donor = client(harness, DONOR)
    harness.clock.moment = three.next_due_at - timedelta(minutes=1)
    await harness.tick()
    assert not any("还剩" in text for text in donor.transcript())
    harness.clock.moment = three.next_due_at
    await harness.tick()
    assert "心愿 W0001（小明 · 三年级：一个篮球）的送达期限是" in text_of(donor) and "还剩 3 天" in text_of(donor)
    harness.clock.moment = one.next_due_at
    await harness.tick()
    assert "还剩 1 天" in text_of(donor)
    assert sum("还剩" in text for text in donor.transcript()) == 2


async def test_deadline_reminders_are_cancelled_once_delivered_or_released(county, harness):
    first = await county.claim(await county.wish())
    second = await county.claim(await county.wish(alias="小红"))
    await sync_deadline_reminders(harness.app)
    repo = harness.services.reminders.reminders
    assert all([await repo.by_subject(f"wish:{n}:{tag}") for n in (1, 2) for tag in ("3d", "1d")])

    await harness.services.wishes.mark_delivered(DONOR, first.id, "AgACproof")
    assert await sync_deadline_reminders(harness.app) == 1
    assert await repo.by_subject("wish:1:3d") is None and await repo.by_subject("wish:1:1d") is None
    assert await repo.by_subject("wish:2:3d") is not None

    await harness.services.wishes.release_claim(second.id, COUNTY_ADMIN_ID, "认领人调岗")
    await sync_deadline_reminders(harness.app)
    assert await repo.by_subject("wish:2:1d") is None
    donor = client(harness, DONOR)
    harness.clock.moment = first.deadline - timedelta(days=1)
    await harness.tick()
    assert not any("还剩" in text for text in donor.transcript())


async def test_county_admins_get_the_overdue_list_once_a_day_from_9(county, harness):
    await county.claim(await county.wish(), days=1)
    await county.claim(await county.wish(alias="小红"), days=10)
    admin = harness.admin()
    harness.clock.advance(days=2)  # 10:00 in Shanghai, W0001 a day overdue
    assert await send_overdue_digest(harness.app) == 1
    digest = text_of(admin)
    assert "逾期未送达的心愿：1 个" in digest and "W0001 小明 · 三年级：一个篮球" in digest
    assert "认领：县教育局团委（张书记）" in digest and "已逾期 1 天" in digest and "W0002" not in digest
    assert not any(value in digest for value in PRIVATE_VALUES)
    count = len(admin.transcript())
    harness.clock.advance(hours=3)
    assert await send_overdue_digest(harness.app) == 0
    harness.clock.advance(hours=18)  # 07:00 the next day: too early
    assert await send_overdue_digest(harness.app) == 0
    assert len(admin.transcript()) == count
    harness.clock.advance(hours=2, minutes=5)
    assert await send_overdue_digest(harness.app) == 1
    assert "已逾期 2 天" in text_of(admin)


async def test_nothing_overdue_sends_nothing(county, harness):
    await county.claim(await county.wish(), days=5)
    admin = harness.admin()
    await send_overdue_digest(harness.app)
    assert admin.transcript() == []


# ---- privacy -------------------------------------------------------------------------------------
async def test_no_child_detail_ever_reaches_a_group_or_a_log_line(county, harness, caplog):
    caplog.set_level(logging.DEBUG)
    hub = await harness.group_with_bot(-1001, "团县委枢纽群", admins=(COUNTY_ADMIN_ID,))
    school_group = await harness.group_with_bot(-1002, "一小团干部群", admins=(COUNTY_ADMIN_ID,))
    for group in (hub, school_group):
        for user_id in (TEACHER, DONOR):
            harness.fake.add_member(group, user_id)

    teacher = client(harness, TEACHER)
    for command in ("/newwish", "/wishes", "/wish W0001", "/importwishes"):
        await teacher.send(command, school_group)
        assert "私聊" in harness.fake.last_bot_message(school_group).text
    await teacher.send("/newwish")
    await answer_basics(teacher)
    await teacher.tap("⏭ 跳过")
    await teacher.tap("✅ 是，监护人已同意")
    for text in ("王小明", "138 0013 8000", "城关镇幸福路 1 号", "鞋码 35"):
        await teacher.send(text)
    await teacher.tap("✅ 保存")
    await county.claim(await county.services.wishes.get(1))
    donor = client(harness, DONOR)
    await donor.send("/wish W0001", hub)
    await donor.send("/wish W0001")
    assert "王小明" in text_of(donor)  # in the private chat, for the claimer
    await donor.tap("📦 已送达")
    await donor.send_document("proof.png", PNG, mime_type="image/png")
    await teacher.tap("✅ 确认收到")

    for group in (hub, school_group):
        for message in harness.fake.messages(group):
            for value in PRIVATE_VALUES:
                assert value not in (message.text or ""), (group, message.text)
    # PTB's own "telegram" loggers print each Bot API call's parameters at DEBUG, and aiosqlite
    # each statement: both stay at INFO or above in production (bot/cli.py). Every other logger,
    # at every level, is checked.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(("telegram", "aiosqlite"))
    )
    for value in PRIVATE_VALUES:
        assert value not in logged
