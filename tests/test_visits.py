"""The verification campaign as its people live it, through the production Application on the
strict fake: a county admin creates it and imports 148 households in 7 townships (a bad file
first), the bot forms 7 teams from 44 organisations, visitors file visits (a half-way resume, a
location, photos, each outcome), the leader reviews, the hub's progress message follows the
database, the daily reminder and the overdue list, the close with its summary and export; then
a privacy scan of every group message, log line and the default export."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import openpyxl

from bot.model.visits import VisitStatus
from handlers.i18n import Translator
from handlers.live_message import flush_refreshes
from handlers.visits.buttons import HouseholdChoice, HouseholdTap, ReviewChoice, ReviewTap
from handlers.visits.hub import progress_text
from tests.harness import COUNTY_ADMIN_ID
from tests.visits_world import CENTRES, PRIVATE_MARKERS, build_county, household_rows, xlsx_bytes

HUB = -1_000_777
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def photo_update(harness, user_id: int, file_id: str) -> dict:
    """A photo message (the fake's users can only send files): the update Telegram would send."""
    update = harness.fake.user_sends(
        user_id, user_id, document={"file_name": "x.png", "mime_type": "image/png", "content": PNG}
    )
    message = update["message"]
    del message["document"]
    message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 320, "height": 320}]
    return update


async def set_up(harness):
    services, clock = harness.services, harness.clock
    admin = harness.admin()
    await admin.send("/start")
    await harness.group_with_bot(HUB, "全县团干部群", admins=(COUNTY_ADMIN_ID,))
    await services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    townships, orgs, heads = await build_county(services, clock)
    for index, head in enumerate(heads):
        harness.user(head, f"书记{index + 1}")
    return admin, heads


async def create_campaign(harness, admin, rows=None, *, by_bot: bool = True) -> None:
    deadline = (harness.clock.now() + timedelta(days=5)).astimezone(harness.config.zone)
    await admin.send("/newcampaign")
    await admin.send("希望工程助学金走访核实")
    await admin.send("核实今年考上大学的困难学生家庭情况")
    await admin.tap("现在开始")
    await admin.send(f"{deadline:%m-%d} 18:00")
    await admin.send("住房、收入")
    assert "住房、收入" in admin.last_reply().text
    await admin.tap("✅ 创建活动")
    assert "XLSX" in admin.last_reply().text
    # A bad file first: each problem by row and column, nothing imported.
    bad = household_rows((2, 0, 0, 0, 0, 0, 0))
    bad.append(["小外", "外县镇", "", "某大学", "", "", "", "", "", "", ""])
    bad.append(["小错", "城关镇", "", "某大学", "", "", "", "12345", "", "", ""])
    await admin.send_document("名单.xlsx", xlsx_bytes(bad))
    report = admin.last_reply().text
    assert "第 4 行 · 列「乡镇」" in report and "第 5 行 · 列「联系电话」" in report and "没有导入任何一户" in report
    assert await harness.services.db.fetch_value("SELECT COUNT(*) FROM visit_households") == 0
    rows = rows or household_rows()
    await admin.send_document("名单.xlsx", xlsx_bytes(rows))
    await admin.tap(f"✅ 导入 {len(rows) - 1} 户")
    if by_bot:
        await admin.tap("👥 由机器人分成 7 个工作组")
        assert "7 个工作组" in admin.last_reply().text


async def open_household(visitor, household_id: int) -> None:
    """Tap a household in /visits (by its button: the aliases 学生1 and 学生10 share a prefix)."""
    await visitor.send("/visits")
    await visitor.tap_data(HouseholdTap(household=household_id, action=HouseholdChoice.OPEN).pack())


async def open_review(harness, leader, household_id: int) -> None:
    await leader.send("/review")
    visit = await harness.services.visits.repo.current_visit(household_id)
    await leader.tap_data(ReviewTap(visit=visit.id, action=ReviewChoice.OPEN).pack())


async def file_visit(harness, visitor, household, *, outcome: str, far: bool = False) -> None:
    alias = household.alias
    await open_household(visitor, household.id)
    assert "录取：" in visitor.last_reply().text  # the private card, in the private chat
    await visitor.tap("📝 开始 / 继续走访")
    await visitor.tap("见到了" if outcome != "📵 未联系上" else "没见到")
    if outcome != "📵 未联系上":
        await visitor.tap("相符")
        await visitor.tap("跳过")
        await visitor.send("砖房两间")
        await visitor.send("务农")
    lat, lon = CENTRES[0]
    await visitor.send_location(lat + (1.0 if far else 0.01), lon)
    await harness.deliver(photo_update(harness, visitor.user_id, f"house-{alias}"))
    await harness.deliver(photo_update(harness, visitor.user_id, f"doc-{alias}"))
    assert "不要拍到人脸" in visitor.last_reply().text
    await visitor.tap("✅ 照片已拍完")
    await visitor.tap(outcome)
    if outcome != "✅ 核实属实":
        await visitor.send("家中无人" if outcome == "📵 未联系上" else "收入已超过标准")
    assert "已提交" in visitor.last_reply().text


async def test_a_campaign_from_creation_to_close(harness, caplog):
    caplog.set_level(logging.DEBUG)
    services, clock = harness.services, harness.clock
    admin, heads = await set_up(harness)
    welcome = len(harness.fake.bot_messages(HUB))
    await create_campaign(harness, admin)
    campaign = (await services.visits.campaigns())[0]
    teams = await services.visits.teams(campaign.id)
    assert len(teams) == 7 and sorted(len(team.org_ids) for team in teams) == [6, 6, 6, 6, 6, 7, 7]
    hub_post = harness.fake.last_bot_message(HUB)
    assert "走访进度" in hub_post.text

    team = teams[0]
    leader_id = team.leader_id
    visitor_id = team.members[2].user_id
    visitor, leader = harness.user(visitor_id, "组员"), harness.user(leader_id, "组长")
    mine = [household for household, _, _ in await services.visits.my_households(visitor_id)]
    aliases = [household.alias for household in mine]

    # Not assigned: a clear refusal.
    stranger = harness.user(next(h for h in heads if h not in {m.user_id for m in team.members}), "别组")
    await stranger.send("/start")
    await stranger.tap_data(HouseholdTap(household=mine[0].id, action=HouseholdChoice.START).pack(), forge=True)
    assert "没有分配给您" in stranger.last_reply().text

    # Half-way, then resumed where it stopped (after /cancel ended the conversation).
    await open_household(visitor, mine[0].id)
    await visitor.tap("📝 开始 / 继续走访")
    await visitor.tap("见到了")
    await visitor.send("/cancel")
    await open_household(visitor, mine[0].id)
    await visitor.tap("📝 开始 / 继续走访")
    assert "接着上次的进度" in visitor.replies()[-2].text
    await visitor.tap("部分相符")
    await visitor.send("母亲已外出务工")
    await visitor.send("砖房")
    await visitor.send("务工")
    await visitor.send("这里没有位置")  # bad input: told what to send, stays at the step
    assert "位置" in visitor.last_reply().text
    await visitor.send_location(*CENTRES[0])
    await harness.deliver(photo_update(harness, visitor_id, "p1"))
    await visitor.tap("✅ 照片已拍完")
    await visitor.tap("✅ 核实属实")

    await file_visit(harness, visitor, mine[1], outcome="✅ 核实属实", far=True)
    assert "公里" in visitor.last_reply().text
    await file_visit(harness, visitor, mine[2], outcome="❌ 不符合条件")
    await file_visit(harness, visitor, mine[3], outcome="📵 未联系上")

    # Review by the leader: approve; has issues (the visitor gets the comment).
    await leader.send("/review")
    assert "4 次走访等待审核" in leader.last_reply().text
    await open_review(harness, leader, mine[0].id)
    await leader.tap("✅ 通过")
    await open_review(harness, leader, mine[1].id)
    assert "公里" in leader.last_reply().text
    await leader.tap("✏️ 有问题")
    await leader.send("请补拍房屋正面照片")
    assert "请补拍房屋正面照片" in visitor.last_reply().text
    for household in mine[2:4]:
        await open_review(harness, leader, household.id)
        await leader.tap("✅ 通过")
    verified = await services.visits.all_verified(campaign_id=campaign.id)
    assert [student.alias for student in verified] == [aliases[0]]

    # The hub's one message shows the database's truth, without flooding the group.
    clock.advance(seconds=10)
    await flush_refreshes(harness.app)
    hub_messages = harness.fake.bot_messages(HUB)[welcome:]
    assert len(hub_messages) == 1  # one message, edited (coalesced), never one per event
    expected = progress_text(
        Translator("zh-Hans", clock, harness.config.zone), await services.visits.progress(campaign.id)
    )
    assert "第 1 组：分配 30 户，已走访 4 户，通过 3 户" in hub_messages[0].text
    assert hub_messages[0].text.replace(" ", "") == _plain(expected)
    assert 1 <= hub_messages[0].edited <= 8

    # The daily reminder: visitors with households left; after the deadline, the overdue list.
    clock.advance(hours=23)  # 09:00 the next morning, local time
    await harness.tick()
    assert "没有走访完" in visitor.last_reply().text
    for _ in range(4):  # each morning until the deadline: nothing for the county admin yet
        clock.advance(days=1)
        await harness.tick()
    assert "已过截止时间" not in admin.last_reply().text
    clock.advance(days=1)  # the morning after the deadline
    await harness.tick()
    assert "已过截止时间" in admin.last_reply().text and "第 1 组" in admin.last_reply().text

    # Close: the summary (also in the hub) and the default export.
    await admin.send("/campaign")
    await admin.tap(campaign.title)
    await admin.tap("🏁 结束活动")
    await admin.tap("🏁 确认结束")
    summary = harness.fake.last_bot_message(HUB).text
    assert "7 个工作组" in summary and "7 个乡镇的 148 户" in summary and "核实属实 1 户" in summary
    export = admin.last_reply()
    assert export.kind == "document"
    sheet = openpyxl.load_workbook(io.BytesIO(export.document["content"])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 149 and "录取学校（隐私）" not in rows[0]
    await visitor.send("/visits")
    assert "没有分配给您的走访户" in visitor.last_reply().text  # the campaign is closed

    # The privacy scan: no private detail in any group message, log line or the default export.
    scanned = [message.text or "" for message in harness.fake.messages(HUB)]
    scanned += [
        record.getMessage() for record in caplog.records if not record.name.startswith(("telegram", "aiosqlite"))
    ]
    scanned += [" ".join(str(cell) for cell in row if cell is not None) for row in rows]
    for text in scanned:
        for marker in PRIVATE_MARKERS:
            assert marker not in text, (marker, text[:200])
    assert (await services.visits.visit(1)).status is VisitStatus.APPROVED


def _plain(html_text: str) -> str:
    """The fake stores rendered text: the catalog's HTML without its tags."""
    for tag in ("<b>", "</b>"):
        html_text = html_text.replace(tag, "")
    return html_text.replace(" ", "")


async def test_a_member_leaving_hands_the_households_back_and_the_leader_reassigns_one(harness):
    services = harness.services
    admin, heads = await set_up(harness)
    await create_campaign(harness, admin)
    campaign = (await services.visits.campaigns())[0]
    team = (await services.visits.teams(campaign.id))[0]
    leader = harness.user(team.leader_id, "组长")
    leaving_id, staying_id = team.members[2].user_id, team.members[4].user_id
    leaving = harness.user(leaving_id, "离开的组员")
    theirs = [household for household, _, _ in await services.visits.my_households(leaving_id)]
    # Half-way through one visit when they leave.
    await open_household(leaving, theirs[0].id)
    await leaving.tap("📝 开始 / 继续走访")
    await leaving.tap("见到了")

    moved = await services.visits.hand_back(leaving_id, reason="调离本县")
    await harness.send_queued()
    assert moved == len(theirs)
    assert f"{len(theirs)} 户已转给您" in leader.last_reply().text
    await leaving.send("/visits")
    assert "没有分配给您的走访户" in leaving.last_reply().text
    # The leader resumes the half-filed visit where it stopped.
    await open_household(leader, theirs[0].id)
    await leader.tap("📝 开始 / 继续走访")
    assert "与申报的情况相符吗" in leader.last_reply().text

    # 改派: the leader gives another household to a member who stays; they are told.
    staying = harness.user(staying_id, "留下的组员")
    await staying.send("/start")
    await leader.send("/team")
    assert "第 1 组" in leader.last_reply().text
    await leader.tap_data(HouseholdTap(household=theirs[1].id, action=HouseholdChoice.OPEN).pack())
    await leader.tap("🔁 改派")
    await leader.tap("留下的组员")
    assert "已改派给" in leader.last_reply().text
    assert "分给了您" in staying.last_reply().text
    assert theirs[1].id in {h.id for h, _, _ in await services.visits.my_households(staying_id)}
    # A member may not reassign.
    await staying.tap_data(HouseholdTap(household=theirs[1].id, action=HouseholdChoice.REASSIGN).pack(), forge=True)
    assert "只有工作组组长或县团委管理员" in staying.last_reply().text


async def test_the_county_admin_forms_the_teams_by_hand(harness):
    services = harness.services
    admin, heads = await set_up(harness)
    await create_campaign(harness, admin, household_rows((3, 3, 0, 0, 0, 0, 0)), by_bot=False)
    await admin.tap("✍️ 自己分组")
    await admin.send("城关镇")
    await admin.send("县直单位01团委、县直单位02团委")
    await admin.tap("✅ 分组完成")
    assert "还有 1 个乡镇没有分给任何工作组" in admin.last_reply().text
    await admin.send("东山乡、外县镇")
    assert "「外县镇」不是组织架构中的乡镇" in admin.last_reply().text  # and stays at the step
    await admin.send("东山乡")
    await admin.send("县直单位03团委")
    await admin.tap("✅ 分组完成")
    assert "已分成 2 个工作组，共 3 名组员" in admin.last_reply().text
    campaign = (await services.visits.campaigns())[0]
    first, second = await services.visits.teams(campaign.id)
    assert first.leader_id == heads[0] and [m.user_id for m in second.members] == [heads[2]]
    assert sorted(
        len(h) for h in [await services.visits.team_households(admin.user_id, t.id) for t in (first, second)]
    ) == [3, 3]
