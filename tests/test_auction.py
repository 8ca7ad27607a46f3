"""The live wish auction through the real bot: /newauction, the announcement, the board in the hub
(posted, pinned, refreshed without flooding), private browsing, claim taps and their answers,
releases and reassignments, the close (summary, XLSX) and privacy in the group."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from datetime import timedelta

import openpyxl
import pytest

from bot.domain.auction import LotSelection, SessionDraft
from bot.domain.wishes import WishDraft
from bot.model.organisation import OrgKind, Role
from bot.model.wish import PrivateDetails, WishCategory, WishStatus
from handlers.auction import ClaimTap, auction_tick, settle
from handlers.auction.hub import TICK_SECONDS
from handlers.auction.page_refresh import PAGE_REFRESH_DELAY, PAGE_REFRESH_SECONDS
from handlers.auction.state import auction_state
from handlers.live_message import flush_refreshes
from tests.harness import COUNTY_ADMIN_ID

HUB = -1009000
SCHOOL, DONOR_ORG, OTHER_ORG = "县第一小学", "县教育局团委", "县财政局团委"
TEACHER, DONOR, DONOR_MATE, OTHER, OUTSIDER, SHY = 300001, 300002, 300003, 300004, 300005, 300006
PRIVATE = PrivateDetails(real_name="王小明", guardian_phone="13800138000", address="城关镇幸福路 1 号", notes="鞋码 35")
PRIVATE_VALUES = ("王小明", "13800138000", "幸福路", "鞋码")
NOT_MODIFIED = "message is not modified"


# ---- the world ----------------------------------------------------------------------------------
class World:
    def __init__(self, harness, orgs: dict[str, int]) -> None:
        self.harness = harness
        self.orgs = orgs
        self.services = harness.services
        self.admin = harness.admin()
        self.clients: dict[int, object] = {}

    async def cadre(
        self,
        user_id: int,
        name: str,
        org: str | None,
        *,
        username: str | None = None,
        started: bool = True,
        role: Role = Role.CADRE,
    ):
        client = self.harness.user(user_id, name, username=username, started=started)
        self.harness.fake.add_member(HUB, user_id)
        await self.services.people.seen(user_id, name, username, "zh-hans", private=started)
        if org is not None:
            await self.services.membership.memberships.grant(
                self.orgs[org], user_id, role, COUNTY_ADMIN_ID, self.harness.clock.now()
            )
        self.clients[user_id] = client
        return client

    async def wishes(self, count: int, **changes) -> list:
        made = []
        for index in range(count):
            draft = WishDraft(
                collector_org_id=self.orgs[SCHOOL],
                alias=f"小{index}",
                grade="三年级",
                text=f"心愿{index}号",
                category=WishCategory.SPORTS,
                value_yuan=80,
                consent=True,
                private=PRIVATE,
            )
            made.append(await self.services.wishes.add(TEACHER, replace(draft, **changes)))
        return made

    async def session(
        self,
        *,
        starts_in: timedelta = timedelta(hours=1),
        minutes: int = 30,
        codes=None,
        cap_per_org: int | None = None,
        cap_per_person: int | None = None,
        waves=(None, None),
    ):
        selection = LotSelection(all_open=False, codes=tuple(codes)) if codes else LotSelection()
        draft = SessionDraft(
            title="冬季微心愿认领会",
            starts_at=self.harness.clock.now() + starts_in,
            duration_minutes=minutes,
            selection=selection,
            cap_per_org=cap_per_org,
            cap_per_person=cap_per_person,
            wave_size=waves[0],
            wave_every_minutes=waves[1],
        )
        return await self.services.auction.create(COUNTY_ADMIN_ID, draft)

    async def open(self, session):
        """Move the clock to the start and let the job open it: the board goes into the hub."""
        self.harness.clock.moment = session.starts_at
        await auction_tick(self.harness.app)
        return await self.services.auction.get(session.id)

    async def live(self, lots: int):
        """`lots` new wishes in a session that is live now: (the wishes, the session)."""
        wishes = await self.wishes(lots)
        session = await self.session()
        await self.open(session)
        return wishes, session

    def board(self, session):
        for message in self.harness.fake.bot_messages(HUB):
            if (
                message.text
                and session.title in message.text
                and ("认领进行中" in message.text or "认领已结束" in message.text)
            ):
                return message
        raise AssertionError("no board in the hub")

    def hub_texts(self) -> list[str]:
        return [message.text or "" for message in self.harness.fake.messages(HUB)]


@pytest.fixture
async def world(harness) -> World:
    services = harness.services
    orgs = {}
    for name, kind in ((SCHOOL, OrgKind.SCHOOL), (DONOR_ORG, OrgKind.COUNTY_LEVEL), (OTHER_ORG, OrgKind.COUNTY_LEVEL)):
        orgs[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
    world = World(harness, orgs)
    await world.admin.send("/start")
    await harness.group_with_bot(HUB, "团县委工作群", admins=(COUNTY_ADMIN_ID,))
    await services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    await world.cadre(TEACHER, "李老师", SCHOOL, role=Role.ORG_ADMIN)
    await world.cadre(DONOR, "张书记", DONOR_ORG, username="zhang")
    await world.cadre(DONOR_MATE, "陈干事", DONOR_ORG, username="chen")
    await world.cadre(OTHER, "刘干事", OTHER_ORG, username="liu")
    await world.cadre(OUTSIDER, "路人", None)
    yield world
    harness.clock.advance(seconds=PAGE_REFRESH_SECONDS)  # the page refreshes still waiting come due
    await settle(harness.app)


async def page_refreshes(harness) -> None:
    """The clock moves past a page refresh's delay, and the background work is done."""
    harness.clock.advance(seconds=PAGE_REFRESH_DELAY)
    await settle(harness.app)


def shown(client, message_id: int):
    """The private message `message_id` as it shows now (edits change it in place)."""
    return next(m for m in client.replies() if m.message_id == message_id)


def no_not_modified(harness) -> bool:
    return not [error for error in harness.fake.errors if NOT_MODIFIED in error[2]]


# ---- the full path ------------------------------------------------------------------------------
async def test_newauction_conversation_keeps_each_step_on_bad_input_and_announces_in_the_hub(world):
    harness, admin = world.harness, world.admin
    await world.wishes(3)
    await world.wishes(1, category=WishCategory.BOOKS, text="成语词典")

    await admin.send("/newauction")
    assert "认领会名称" in admin.last_reply().text
    await admin.send("认" * 61)
    assert "太长" in admin.last_reply().text
    await admin.send("冬季微心愿认领会")
    assert "什么时候开始" in admin.last_reply().text

    await admin.send("随便什么时候")
    assert "看不懂开始时间" in admin.last_reply().text
    await admin.send("每天 19:00")
    assert "重复的时间" in admin.last_reply().text
    await admin.send("2020-01-01 10:00")
    assert "已经过去" in admin.last_reply().text
    await admin.send("明天 19:00")
    assert "持续多久" in admin.last_reply().text

    await admin.send("很久")
    assert "不是数字" in admin.last_reply().text
    await admin.send("500")
    assert "超出了范围" in admin.last_reply().text
    await admin.tap("30 分钟（默认）")
    assert "哪些心愿参加" in admin.last_reply().text and "共有 4 个" in admin.last_reply().text

    await admin.send("全部")
    assert "请点上面的按钮" in admin.last_reply().text
    await admin.tap("🏷 按类别")
    await admin.tap("玩具")
    assert "没有可参加的心愿" in admin.last_reply().text
    await admin.tap("体育用品")
    assert "共 <b>3</b>" in admin.last_reply().raw_text

    await admin.send("二十")
    assert "不是数字" in admin.last_reply().text
    await admin.send("0")
    assert "超出了范围" in admin.last_reply().text
    await admin.send("2")
    assert "每人最多" in admin.last_reply().text
    await admin.tap("不限")
    assert "几天内" in admin.last_reply().text

    await admin.send("100")
    assert "超出了范围" in admin.last_reply().text
    await admin.tap("14 天（默认）")
    assert "分批" in admin.last_reply().text

    await admin.send("好多")
    assert "看不懂" in admin.last_reply().text
    await admin.send("1 20")  # 1 every 20 minutes releases only 2 of 3 lots in 30 minutes
    assert "只能放出" in admin.last_reply().text
    await admin.tap("不分批（开始时全部放出）")
    summary = next(m.text for m in reversed(admin.replies()) if "请确认认领会" in (m.text or ""))
    assert "请确认认领会" in summary and "冬季微心愿认领会" in summary and "共 3 个" in summary
    assert "每个单位最多认领 2 个" in summary

    await admin.tap("✅ 确认创建")
    created = next(m.text for m in reversed(admin.replies()) if "认领会已创建" in (m.text or ""))
    assert "已在全县团干部群发布公告" in created
    announcement = harness.fake.last_bot_message(HUB).text
    assert "微心愿认领会：冬季微心愿认领会" in announcement
    assert "待认领心愿 3 个" in announcement and "每个单位最多认领 2 个" in announcement
    assert "/join" in announcement
    sessions = await harness.services.auction.upcoming_sessions()
    assert [(s.title, s.lot_count, s.cap_per_org, s.state) for s in sessions] == [
        ("冬季微心愿认领会", 3, 2, "scheduled")
    ]
    assert await harness.services.conversations.get(COUNTY_ADMIN_ID) is None

    # At the start time the job posts the board into the hub.
    harness.clock.advance(seconds=(sessions[0].starts_at - harness.clock.now()).total_seconds())
    await auction_tick(harness.app)
    board = harness.fake.last_bot_message(HUB)
    assert "认领进行中" in board.text and "已认领 0 · 剩余 3" in board.text
    assert board.button_labels()[0] == "🔍 浏览并认领"


async def test_only_county_admins_create_and_a_hub_is_needed(world):
    donor = world.clients[DONOR]
    await donor.send("/newauction")
    assert "只有团县委管理员" in donor.last_reply().text
    await world.services.groups.unbind(COUNTY_ADMIN_ID, HUB, is_chat_admin=True)
    await world.admin.send("/newauction")
    assert "还没有绑定全县团干部群" in world.admin.last_reply().text


async def test_the_live_auction_from_board_to_claims_and_refresh(world):
    harness = world.harness
    harness.fake.set_admin(HUB, harness.fake.bot_id)  # the bot may pin here
    wishes = await world.wishes(3)
    session = await world.session()
    donor, other = world.clients[DONOR], world.clients[OTHER]

    # Before the start, the deep link says when.
    await donor.send(f"/start auc_{session.id}")
    assert "还没开始" in donor.last_reply().text

    opened = await world.open(session)
    assert opened.state == "live"
    board = world.board(session)
    assert board.pinned
    assert "已认领 0 · 剩余 3" in board.text and "还剩 30 分钟" in board.text
    labels = board.button_labels()
    assert labels[0] == "🔍 浏览并认领"
    assert board.buttons()[0][1] == f"https://t.me/{harness.fake.bot_username}?start=auc_{session.id}"
    assert [label.split(" · ")[0] for label in labels[1:]] == [f"认领 {w.code}" for w in wishes]

    # Both cadres open their private pages; the first tap wins.
    await donor.send(f"/start auc_{session.id}")
    await other.send(f"/start auc_{session.id}")
    page = donor.last_reply()
    assert "可认领 3 个" in page.text and wishes[0].code in page.text and "小0 · 三年级" in page.text
    await donor.tap(f"认领 {wishes[0].code}")
    assert donor.callback_answers[-1].startswith(f"🎉 认领成功 {wishes[0].code}")
    await settle(harness.app)  # the winner's message goes out in the background
    won = next(m for m in donor.replies() if "您为「县教育局团委」认领了心愿" in (m.text or ""))
    assert "心愿0号" in won.text and "/wish W0001" in won.text and "↩️ 释放（2 分钟内）" in won.button_labels()
    assert not any(value in won.text for value in PRIVATE_VALUES)
    assert (await harness.services.wishes.get(wishes[0].id)).claimed_by_user == DONOR

    await other.tap(f"认领 {wishes[0].code}")
    assert other.callback_answers[-1] == f"来晚了一步：{wishes[0].code} 已被「县教育局团委」认领。请挑选其他心愿。"
    # The tapper's own page is refreshed: the lot gone from it.
    await page_refreshes(harness)
    assert wishes[0].code not in other.last_reply().text
    assert "可认领 2 个" in other.last_reply().text

    await flush_refreshes(harness.app)
    board = world.board(session)
    assert "已认领 1 · 剩余 2" in board.text
    assert f"{wishes[0].code} → 县教育局团委" in board.text and "1. 县教育局团委 1 个" in board.text
    assert f"认领 {wishes[0].code}" not in " ".join(board.button_labels())
    assert no_not_modified(harness)
    # Nothing changed since: another tick and flush edit nothing.
    edits = board.edited
    await auction_tick(harness.app)
    await flush_refreshes(harness.app)
    assert world.board(session).edited == edits
    assert no_not_modified(harness)


async def test_forty_quick_claims_make_few_board_edits_within_the_group_limit(world):
    harness = world.harness
    wishes = await world.wishes(40)
    session = await world.session()
    await world.open(session)
    board = world.board(session)
    assert len(board.buttons()) == 1  # over 30 lots: only the deep link on the board
    clients = [world.clients[DONOR], world.clients[DONOR_MATE], world.clients[OTHER]]
    for index, wish in enumerate(wishes):  # as fast as taps come; the board shows no lots to tap
        await clients[index % 3].tap_data(
            ClaimTap(session=session.id, wish=wish.id).pack(), chat_id=HUB, message_id=board.message_id, forge=True
        )
    answers = [answer for client in clients for answer in client.callback_answers]
    assert len(answers) == 40 and all(answer.startswith("🎉 认领成功") for answer in answers)
    await flush_refreshes(harness.app)
    board = world.board(session)
    assert "已认领 40 · 剩余 0" in board.text
    assert 1 <= board.edited <= 3
    assert not [event for event in harness.fake.flood_events if event[1] == HUB]
    assert no_not_modified(harness)


async def test_a_winner_who_never_started_the_bot_is_told_and_the_claim_stands(world):
    harness = world.harness
    shy = await world.cadre(SHY, "王干事", OTHER_ORG, started=False)
    wishes = await world.wishes(2)
    session = await world.session()
    await world.open(session)
    board = world.board(session)
    await shy.tap(f"认领 {wishes[1].code}", chat_id=HUB, message_id=board.message_id)
    answer = shy.callback_answers[-1]
    assert f"认领成功 {wishes[1].code}" in answer and "/start" in answer and f"/wish {wishes[1].code}" in answer
    wish = await harness.services.wishes.get(wishes[1].id)
    assert (wish.status, wish.claimed_by_user) == (WishStatus.CLAIMED, SHY)
    assert harness.fake.bot_messages(SHY) == []
    # A started cadre tapping on the board gets the private message.
    donor = world.clients[DONOR]
    await donor.tap(f"认领 {wishes[0].code}", chat_id=HUB, message_id=board.message_id)
    assert donor.callback_answers[-1].startswith(f"🎉 认领成功 {wishes[0].code}")
    await settle(harness.app)
    assert any("认领了心愿" in (m.text or "") for m in donor.replies())


async def test_caps_outsiders_waves_and_double_taps_get_clear_answers(world):
    harness = world.harness
    wishes = await world.wishes(5)
    session = await world.session(cap_per_org=2, cap_per_person=1)
    await world.open(session)
    donor, mate, outsider = world.clients[DONOR], world.clients[DONOR_MATE], world.clients[OUTSIDER]
    board = world.board(session)

    async def tap(client, wish):
        await client.tap_data(
            ClaimTap(session=session.id, wish=wish.id).pack(), chat_id=HUB, message_id=board.message_id
        )
        return client.callback_answers[-1]

    assert (await tap(donor, wishes[0])).startswith("🎉 认领成功")
    assert await tap(donor, wishes[0]) == f"{wishes[0].code} 已经是您单位认领的了，不用重复点。"
    assert "达到每人上限" in await tap(donor, wishes[1])
    assert (await tap(mate, wishes[1])).startswith("🎉 认领成功")
    assert "达到每个单位的上限" in await tap(mate, wishes[2])
    assert "只有团干部可以认领" in await tap(outsider, wishes[2]) and "/join" in outsider.callback_answers[-1]
    assert (await harness.services.wishes.get(wishes[2].id)).status is WishStatus.OPEN


async def test_waves_release_lots_in_turn(world):
    harness = world.harness
    wishes = await world.wishes(4)
    session = await world.session(waves=(2, 5))
    await world.open(session)
    board = world.board(session)
    assert "还有 2 个心愿将分批放出" in board.text
    assert len(board.buttons()) == 1 + 2
    donor = world.clients[DONOR]
    await donor.tap_data(
        ClaimTap(session=session.id, wish=wishes[3].id).pack(), chat_id=HUB, message_id=board.message_id, forge=True
    )
    assert donor.callback_answers[-1] == f"{wishes[3].code} 还没有放出，请等下一批放出后再认领。"
    harness.clock.advance(minutes=5)
    await auction_tick(harness.app)
    await flush_refreshes(harness.app)
    board = world.board(session)
    assert "分批放出" not in board.text and len(board.buttons()) == 1 + 4
    assert no_not_modified(harness)


async def test_forged_late_and_foreign_taps_change_nothing(world):
    harness = world.harness
    first = await world.wishes(2)
    second = await world.wishes(1, text="另一场的心愿")
    session = await world.session(codes=[w.code for w in first])
    other_session = await world.session(codes=[second[0].code], starts_in=timedelta(hours=2))
    await world.open(session)
    donor = world.clients[DONOR]
    await donor.send(f"/start auc_{session.id}")

    await donor.tap_data("ac:999:1", forge=True)
    assert "不是本场认领会的心愿" in donor.callback_answers[-1]
    await donor.tap_data(ClaimTap(session=session.id, wish=second[0].id).pack(), forge=True)
    assert f"{second[0].code} 不是本场认领会的心愿" in donor.callback_answers[-1]
    await donor.tap_data(ClaimTap(session=other_session.id, wish=second[0].id).pack(), forge=True)
    assert "还没开始" in donor.callback_answers[-1]
    await donor.tap_data("ac:x:1", forge=True)
    assert "按钮已过期或无效" in donor.callback_answers[-1]
    await donor.tap_data("ab:1:z:x:0", forge=True)
    assert "按钮已过期或无效" in donor.callback_answers[-1]
    for wish in (*first, *second):
        assert (await harness.services.wishes.get(wish.id)).status is WishStatus.OPEN

    # After the close, the old page's buttons answer that it is over.
    harness.clock.moment = session.ends_at
    await auction_tick(harness.app)
    await donor.tap(f"认领 {first[0].code}")
    assert "认领会已经结束" in donor.callback_answers[-1]
    assert (await harness.services.wishes.get(first[0].id)).status is WishStatus.OPEN
    assert harness.fake.unanswered_callback_queries() == []


async def test_browsing_filters_and_pages(world):
    harness = world.harness
    await world.wishes(9)
    books = await world.wishes(2, category=WishCategory.BOOKS, grade="五年级", value_yuan=30, text="字典")
    session = await world.session()
    await world.open(session)
    donor = world.clients[DONOR]
    await donor.send("/auction")
    page = donor.last_reply()
    assert "可认领 11 个 · 第 1/2 页" in page.text
    await donor.tap("下一页 ▶")
    assert "第 2/2 页" in donor.last_reply().text
    await donor.tap("🔄 刷新")
    assert donor.callback_answers[-1] == "已经是最新的了。"
    await donor.tap("🏷 类别")
    await donor.tap("图书")
    page = donor.last_reply()
    assert "可认领 2 个" in page.text and "筛选：图书" in page.text and books[0].code in page.text
    await donor.tap("🎒 年级")
    await donor.tap("五年级")
    assert "筛选：图书 · 五年级" in donor.last_reply().text
    await donor.tap("💰 金额")
    await donor.tap("50 元以内")
    assert "可认领 2 个" in donor.last_reply().text
    await donor.tap("🏫 收集单位")
    await donor.tap(SCHOOL)
    assert "可认领 2 个" in donor.last_reply().text
    await donor.tap("✖️ 清除筛选")
    assert "可认领 11 个" in donor.last_reply().text
    assert no_not_modified(harness)


async def test_the_winner_releases_within_two_minutes_but_not_after(world):
    harness = world.harness
    wishes = await world.wishes(2)
    session = await world.session()
    await world.open(session)
    donor = world.clients[DONOR]
    await donor.send(f"/start auc_{session.id}")
    await donor.tap(f"认领 {wishes[0].code}")
    await settle(harness.app)
    assert any("↩️ 释放（2 分钟内）" in m.button_labels() for m in donor.replies())
    await donor.tap("↩️ 释放（2 分钟内）")
    assert donor.callback_answers[-1] == f"已释放 {wishes[0].code}。"
    assert "您已释放心愿" in donor.last_reply().text
    assert (await harness.services.wishes.get(wishes[0].id)).status is WishStatus.OPEN

    await donor.send(f"/start auc_{session.id}")
    await donor.tap(f"认领 {wishes[1].code}")
    await settle(harness.app)
    assert any(
        wishes[1].code in (m.text or "") and m.button_labels() == ["↩️ 释放（2 分钟内）"] for m in donor.replies()
    )
    harness.clock.advance(minutes=3)
    await donor.tap("↩️ 释放（2 分钟内）")  # before the job took the button off
    assert "超过 2 分钟" in donor.callback_answers[-1]
    won = next(m for m in donor.replies() if f"认领了心愿 {wishes[1].code}" in (m.text or ""))
    assert won.buttons() == [] and "点错了？" not in won.text  # taken off
    assert (await harness.services.wishes.get(wishes[1].id)).claimed_by_user == DONOR
    await flush_refreshes(harness.app)
    assert "已认领 1 · 剩余 1" in world.board(session).text


async def test_county_admins_release_and_reassign_with_a_reason(world):
    harness, admin = world.harness, world.admin
    wishes = await world.wishes(2)
    session = await world.session()
    await world.open(session)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    for wish in wishes:
        await donor.tap_data(
            ClaimTap(session=session.id, wish=wish.id).pack(), chat_id=HUB, message_id=world.board(session).message_id
        )

    await donor.send(f"/release {wishes[0].code} 不想要了")
    assert "只有团县委管理员" in donor.last_reply().text
    await admin.send(f"/release {wishes[0].code}")
    assert "请写上心愿编号和原因" in admin.last_reply().text
    await admin.send(f"/release {wishes[0].code} 孩子已转学")
    assert f"已释放心愿 {wishes[0].code}" in admin.last_reply().text
    assert "孩子已转学" in donor.last_reply().text
    assert (await harness.services.wishes.get(wishes[0].id)).status is WishStatus.OPEN

    await admin.send(f"/reassign {wishes[1].code} @liu")
    assert "请写上心愿编号、接手的团干部和原因" in admin.last_reply().text
    await admin.send(f"/reassign {wishes[1].code} @nobody 调岗")
    assert "找不到 @nobody" in admin.last_reply().text
    await admin.send(f"/reassign {wishes[1].code} @liu 原认领人调岗")
    assert f"心愿 {wishes[1].code} 已转给 刘干事（县财政局团委）" in admin.last_reply().text
    assert "原认领人调岗" in donor.last_reply().text
    assert f"把心愿 {wishes[1].code} 转给了您" in other.last_reply().text
    wish = await harness.services.wishes.get(wishes[1].id)
    assert (wish.claimed_by_user, wish.claimed_by_org) == (OTHER, world.orgs[OTHER_ORG])
    await flush_refreshes(harness.app)
    assert f"{wishes[1].code} → 县财政局团委" in world.board(session).text
    assert no_not_modified(harness)


async def test_the_close_leaves_a_final_board_a_summary_and_an_xlsx_and_nothing_private(world, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="aiosqlite")  # as bot/cli.py sets it: it logs SQL parameters
    harness, admin = world.harness, world.admin
    wishes = await world.wishes(4)
    session = await world.session(minutes=20)
    await world.open(session)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    board = world.board(session)
    for client, wish in ((donor, wishes[0]), (donor, wishes[1]), (other, wishes[2])):
        await client.tap_data(
            ClaimTap(session=session.id, wish=wish.id).pack(), chat_id=HUB, message_id=board.message_id
        )
    harness.clock.advance(minutes=20)
    await auction_tick(harness.app)
    await flush_refreshes(harness.app)

    board = world.board(session)
    assert "认领已结束" in board.text and "已认领 3 · 剩余 1" in board.text
    assert board.reply_markup is None or board.buttons() == []
    summary = harness.fake.last_bot_message(HUB).text
    assert "认领会结束：冬季微心愿认领会" in summary
    assert "20 分钟内认领了 3 / 4 个心愿" in summary
    assert "1. 县教育局团委 — 2 个" in summary and "2. 县财政局团委 — 1 个" in summary
    assert "未被认领的 1 个心愿已回到心愿池" in summary
    assert (await harness.services.wishes.get(wishes[3].id)).status is WishStatus.OPEN

    document = admin.last_reply()
    assert document.kind == "document" and document.document["file_name"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(document.document["content"])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "心愿编号" and len(rows) == 4
    assert [row[0] for row in rows[1:]] == [w.code for w in wishes[:3]]
    assert rows[1][4] == "县教育局团委"
    # Privacy: nothing private in the group, in the file or in any log line.
    for text in world.hub_texts():
        assert not any(value in text for value in PRIVATE_VALUES), text
    cells = " ".join(str(cell) for row in rows for cell in row)
    assert not any(value in cells for value in PRIVATE_VALUES)
    leaks = [
        record.getMessage()[:300]
        for record in caplog.records
        if any(value in record.getMessage() for value in PRIVATE_VALUES)
    ]
    assert leaks == []
    # A late tick changes nothing: no second summary, no edit of the final board.
    count, edits = len(harness.fake.bot_messages(HUB)), board.edited
    await auction_tick(harness.app)
    await flush_refreshes(harness.app)
    assert len(harness.fake.bot_messages(HUB)) == count and world.board(session).edited == edits
    assert no_not_modified(harness)


async def test_a_board_the_bot_may_not_pin_still_goes_out(world):
    await world.wishes(1)
    session = await world.session()
    await world.open(session)
    board = world.board(session)
    assert not board.pinned and "认领进行中" in board.text


async def test_a_stale_private_page_is_refreshed_for_the_tapper_with_its_filters(world):
    harness = world.harness
    await world.wishes(9)
    books = await world.wishes(2, category=WishCategory.BOOKS, text="字典")
    session = await world.session()
    await world.open(session)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    await donor.send("/auction")
    await donor.tap("🏷 类别")
    await donor.tap("图书")
    page = donor.last_reply()
    assert "可认领 2 个" in page.text
    await other.tap_data(
        ClaimTap(session=session.id, wish=books[0].id).pack(),
        chat_id=HUB,
        message_id=world.board(session).message_id,
        forge=True,
    )
    assert "可认领 2 个" in donor.last_reply().text  # nobody's page is pushed
    await donor.tap(f"认领 {books[0].code}")
    assert donor.callback_answers[-1].startswith(f"来晚了一步：{books[0].code} 已被「县财政局团委」认领")
    await page_refreshes(harness)
    assert "可认领 1 个" in donor.last_reply().text
    assert "筛选：图书" in donor.last_reply().text and books[0].code not in donor.last_reply().text
    assert donor.last_reply().message_id == page.message_id
    assert no_not_modified(harness)


async def test_auction_command_says_when_the_next_one_starts(world):
    donor = world.clients[DONOR]
    await donor.send("/auction")
    assert "现在没有正在进行的认领会" in donor.last_reply().text
    await world.wishes(1)
    session = await world.session(starts_in=timedelta(days=1))
    await donor.send("/auction")
    assert "下一场「冬季微心愿认领会」" in donor.last_reply().text
    await world.open(session)
    await donor.send("/auction")
    assert "可认领 1 个" in donor.last_reply().text


async def test_a_page_is_refreshed_a_moment_after_a_win_and_at_most_once_in_ten_seconds(world):
    harness = world.harness
    wishes, session = await world.live(3)
    other = world.clients[OTHER]
    await other.send(f"/start auc_{session.id}")
    page_id = other.last_reply().message_id

    def page():
        return shown(other, page_id)

    await other.tap(f"认领 {wishes[0].code}", message_id=page_id)
    assert other.callback_answers[-1].startswith("🎉 认领成功")
    await settle(harness.app)
    assert wishes[0].code in page().text and page().edited == 0  # the refresh waits a moment first
    await page_refreshes(harness)
    assert wishes[0].code not in page().text and page().edited == 1

    await other.tap(f"认领 {wishes[1].code}", message_id=page_id)
    await page_refreshes(harness)
    assert wishes[1].code in page().text and page().edited == 1  # edited a moment ago: it waits
    harness.clock.advance(seconds=PAGE_REFRESH_SECONDS - PAGE_REFRESH_DELAY)  # ten seconds after the edit
    await settle(harness.app)
    assert wishes[1].code not in page().text and page().edited == 2
    assert "可认领 1 个" in page().text
    assert no_not_modified(harness)


async def test_a_lost_claim_refreshes_the_losers_page_at_once_even_just_after_an_edit(world):
    harness = world.harness
    wishes, session = await world.live(3)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    await other.send(f"/start auc_{session.id}")
    page_id = other.last_reply().message_id

    def page():
        return shown(other, page_id)

    await other.tap(f"认领 {wishes[0].code}", message_id=page_id)
    await page_refreshes(harness)
    assert page().edited == 1 and "可认领 2 个" in page().text
    # A moment later the lot they tap next is taken: the page drops it without waiting ten seconds.
    await donor.tap_data(
        ClaimTap(session=session.id, wish=wishes[1].id).pack(), chat_id=HUB, message_id=world.board(session).message_id
    )
    await other.tap(f"认领 {wishes[1].code}", message_id=page_id)
    assert other.callback_answers[-1].startswith(f"来晚了一步：{wishes[1].code}")
    await page_refreshes(harness)
    assert page().edited == 2
    assert wishes[1].code not in page().text and "可认领 1 个" in page().text
    assert no_not_modified(harness)


async def test_a_claim_lost_on_the_board_refreshes_the_losers_private_page(world):
    harness = world.harness
    wishes, session = await world.live(3)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    await other.send(f"/start auc_{session.id}")
    page = other.last_reply()
    assert wishes[0].code in page.text and "可认领 3 个" in page.text
    board = world.board(session)
    await donor.tap(f"认领 {wishes[0].code}", chat_id=HUB, message_id=board.message_id)
    await settle(harness.app)
    assert "可认领 3 个" in other.fake.bot_messages(OTHER)[-1].text  # nobody's page is pushed at a claim
    await other.tap(f"认领 {wishes[0].code}", chat_id=HUB, message_id=board.message_id)
    assert other.callback_answers[-1].startswith(f"来晚了一步：{wishes[0].code}")
    await page_refreshes(harness)
    page = shown(other, page.message_id)
    assert wishes[0].code not in page.text and "可认领 2 个" in page.text
    assert no_not_modified(harness)


async def test_a_release_updates_the_count_on_open_pages(world):
    harness, admin = world.harness, world.admin
    wishes, session = await world.live(3)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    await donor.send(f"/start auc_{session.id}")
    donor_page = donor.last_reply().message_id
    await donor.tap(f"认领 {wishes[0].code}", message_id=donor_page)
    await donor.tap(f"认领 {wishes[1].code}", message_id=donor_page)
    await other.send("/auction")
    other_page = other.last_reply().message_id
    harness.clock.advance(seconds=PAGE_REFRESH_SECONDS)
    await settle(harness.app)

    assert "可认领 1 个" in shown(donor, donor_page).text and "可认领 1 个" in shown(other, other_page).text

    # The winner releases: both open pages follow, though neither was tapped.
    won = next(m for m in donor.replies() if wishes[0].code in (m.text or "") and m.buttons())
    await donor.tap("↩️ 释放（2 分钟内）", message_id=won.message_id)
    assert donor.callback_answers[-1] == f"已释放 {wishes[0].code}。"
    await page_refreshes(harness)
    for client, message_id in ((donor, donor_page), (other, other_page)):
        assert "可认领 2 个" in shown(client, message_id).text and wishes[0].code in shown(client, message_id).text

    # A county admin's release too.
    await admin.send(f"/release {wishes[1].code} 孩子已转学")
    await page_refreshes(harness)
    for client, message_id in ((donor, donor_page), (other, other_page)):
        assert "可认领 3 个" in shown(client, message_id).text
    assert no_not_modified(harness)


async def test_a_page_turned_to_a_filter_picker_is_not_refreshed_back_into_a_list(world):
    harness = world.harness
    wishes, session = await world.live(2)
    donor, other = world.clients[DONOR], world.clients[OTHER]
    await other.send("/auction")
    await other.tap("🏷 类别")
    picker = other.last_reply()
    await donor.tap_data(
        ClaimTap(session=session.id, wish=wishes[0].id).pack(), chat_id=HUB, message_id=world.board(session).message_id
    )
    await settle(harness.app)
    await world.admin.send(f"/release {wishes[0].code} 孩子已转学")
    await page_refreshes(harness)
    assert other.last_reply().message_id == picker.message_id and "按类别筛选" in other.last_reply().text


async def test_the_release_button_goes_when_its_window_ends_and_the_deadline_is_a_date(world):
    harness = world.harness
    wishes, session = await world.live(1)
    donor = world.clients[DONOR]
    await donor.send(f"/start auc_{session.id}")
    await donor.tap(f"认领 {wishes[0].code}")
    await settle(harness.app)
    won = next(m for m in donor.replies() if "认领了心愿" in (m.text or ""))
    assert won.button_labels() == ["↩️ 释放（2 分钟内）"] and "点错了？" in won.text
    # The deadline is a date (the end of that day in the county's zone), never a time of day.
    zone = harness.services.config.zone
    day = (session.ends_at.astimezone(zone) + timedelta(days=14)).strftime("%Y-%m-%d")
    assert f"请在 {day}（含当天）前完成" in won.text
    assert not re.search(r"\d{1,2}:\d{2}", won.text)

    harness.clock.advance(minutes=1, seconds=59)
    await auction_tick(harness.app)
    await settle(harness.app)
    won = shown(donor, won.message_id)
    assert won.button_labels() == ["↩️ 释放（2 分钟内）"]
    harness.clock.advance(seconds=TICK_SECONDS)
    await auction_tick(harness.app)
    await settle(harness.app)
    won = shown(donor, won.message_id)
    assert won.buttons() == [] and "点错了？" not in won.text
    assert f"认领了心愿 {wishes[0].code}" in won.text and f"{day}（含当天）" in won.text
    # A tap from before (a stale client) is still answered clearly.
    await donor.tap_data(f"ar:{wishes[0].id}", message_id=won.message_id, forge=True)
    assert "超过 2 分钟" in donor.callback_answers[-1]
    assert (await harness.services.wishes.get(wishes[0].id)).claimed_by_user == DONOR
    assert no_not_modified(harness)


async def test_a_page_turn_and_a_background_refresh_at_once_make_one_edit(world, monkeypatch):
    """The tap's "already shown?" check and its record are one step: a background refresh of the
    same page that runs while the tap is being answered sees the record and makes no second edit."""
    from handlers.auction.page_refresh import _refresh_page
    from handlers.context import Ui

    harness = world.harness
    wishes, session = await world.live(3)
    other = world.clients[OTHER]
    await other.send(f"/start auc_{session.id}")
    page_id = other.last_reply().message_id
    await other.tap(f"认领 {wishes[0].code}", message_id=page_id)
    await settle(harness.app)  # the win's refresh of this page now waits for its moment
    pending = auction_state(harness.app).page_refresh.pending
    key = next(iter(pending))
    waiting = pending[key]
    answer = Ui.answer

    async def answer_while_the_refresh_runs(self, *args, **kwargs):
        await answer(self, *args, **kwargs)
        pending[key] = waiting  # the background refresh of the same page lands right here
        await _refresh_page(harness.app, key)

    monkeypatch.setattr(Ui, "answer", answer_while_the_refresh_runs)
    await other.tap("🔄 刷新", message_id=page_id)
    monkeypatch.setattr(Ui, "answer", answer)
    await page_refreshes(harness)
    assert wishes[0].code not in shown(other, page_id).text
    assert shown(other, page_id).edited == 1
    assert no_not_modified(harness)
