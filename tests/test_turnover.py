"""Cadre turnover, as the people involved see it: duties follow the role (claims with their
deadline reminders, group reminders, activities, auction sessions, join requests), access ends at
once (old buttons, /wish, /reminders, the private details), the successor's list, the county
admins' note, the notice period, the last admin, racing transfers, and a privacy scan."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.domain.errors import DomainError
from bot.domain.schedule_grammar import parse_schedule
from bot.domain.wishes import WishDraft
from bot.model.organisation import OrgKind, Role
from bot.model.wish import PrivateDetails, WishCategory, WishStatus
from handlers.wishes import sync_deadline_reminders
from storage.audit import AuditRepository
from tests.harness import COUNTY_ADMIN_ID

DONOR_ORG, SCHOOL = "县教育局团委", "县第一小学"
ZHANG, BAI, CHEN, TEACHER, APPLICANT = 200001, 200002, 200003, 200004, 200005
ORG_GROUP = -2002
PRIVATE = PrivateDetails(real_name="王小明", guardian_phone="13800138000", address="城关镇幸福路 1 号", notes="鞋码 35")
PRIVATE_VALUES = ("王小明", "13800138000", "幸福路", "鞋码")


class World:
    """县教育局团委: 张书记 (admin, holding duties), 小白 and 陈干事 (cadres), a bound group;
    县第一小学 with 李老师 collecting a wish with the child's private details."""

    def __init__(self, harness, donor, school, clients) -> None:
        self.harness, self.donor, self.school = harness, donor, school
        self.services = harness.services
        self.zhang, self.bai, self.chen, self.teacher = clients

    async def claimed_wish(self, by: int = ZHANG):
        wish = await self.services.wishes.add(
            TEACHER,
            WishDraft(
                collector_org_id=self.school.id,
                alias="小明",
                grade="三年级",
                text="一个篮球",
                category=WishCategory.SPORTS,
                value_yuan=80,
                consent=True,
                private=PRIVATE,
            ),
        )
        now = self.harness.clock.now()
        assert await self.services.wishes.claim(by, self.donor.id, wish.id, now, deadline=now + timedelta(days=10))
        await sync_deadline_reminders(self.harness.app)
        return await self.services.wishes.get(wish.id)

    async def group_reminder(self, by: int = ZHANG):
        group = await self.services.groups.of_org(self.donor.id)
        schedule = parse_schedule("每天 9:00", now=self.harness.clock.now(), zone=self.harness.config.zone)
        return await self.services.reminders.create(by, "chat", group.id, "周例会请准时参加", schedule)

    async def audit(self, subject: str) -> list[str]:
        return [action for _, _, action, _ in await AuditRepository(self.services.db).for_subject(subject)]

    async def audit_actions(self) -> list[str]:
        rows = await self.services.db.fetch_all("SELECT action FROM audit_log ORDER BY id")
        return [row["action"] for row in rows]


@pytest.fixture
async def world(harness) -> World:
    services = harness.services
    admin = harness.admin()
    await admin.send("/start")
    donor = await services.orgs.create(COUNTY_ADMIN_ID, DONOR_ORG, OrgKind.COUNTY_LEVEL, None)
    school = await services.orgs.create(COUNTY_ADMIN_ID, SCHOOL, OrgKind.SCHOOL, None)
    clients = []
    for user_id, name, username in (
        (ZHANG, "张书记", "zhang"),
        (BAI, "小白", "bai"),
        (CHEN, "陈干事", "chen"),
        (TEACHER, "李老师", "li"),
    ):
        person = harness.user(user_id, name, username=username)
        await person.send("/start")
        clients.append(person)
    now = harness.clock.now()
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, donor.id, ZHANG)
    await services.membership.memberships.grant(donor.id, BAI, Role.CADRE, ZHANG, now)
    await services.membership.memberships.grant(donor.id, CHEN, Role.CADRE, ZHANG, now)
    await services.membership.memberships.grant(school.id, TEACHER, Role.ORG_ADMIN, COUNTY_ADMIN_ID, now)
    await harness.group_with_bot(ORG_GROUP, "教育局团委群", admins=(ZHANG,))
    await services.groups.bind_org(COUNTY_ADMIN_ID, ORG_GROUP, donor.id, is_chat_admin=False)
    return World(harness, donor, school, clients)


async def hand_over_to_bai(world: World, *, notice: bool = False) -> None:
    zhang, bai = world.zhang, world.bai
    await zhang.send("/handover")
    await zhang.tap("小白 @bai")
    assert "认领的微心愿、组织的活动、群提醒" in zhang.last_reply().text
    await zhang.tap("✅ 确认交接，保留 7 天只读" if notice else "✅ 确认交接")
    await bai.tap("✅ 接受")


# ---- duties follow the role -----------------------------------------------------------------------
async def test_a_handover_moves_every_duty_and_the_successor_gets_one_list_with_buttons(world, harness):
    services = world.services
    wish = await world.claimed_wish()
    reminder = await world.group_reminder()
    applicant = harness.user(APPLICANT, "新来的", username="newbie")
    await applicant.send("/start")
    await services.membership.request_join(APPLICANT, world.donor.id)

    await hand_over_to_bai(world)

    moved = await services.wishes.get(wish.id)
    assert (moved.claimed_by_user, moved.claimed_by_org, moved.status) == (BAI, world.donor.id, WishStatus.CLAIMED)
    repo = services.reminders.reminders
    for tag in ("3d", "1d"):
        deadline = await repo.by_subject(f"wish:{wish.id}:{tag}")
        assert (deadline.target_kind, deadline.target_id) == ("person", BAI)
    await sync_deadline_reminders(harness.app)  # the periodic pass agrees: nothing goes back to 张
    assert (await repo.by_subject(f"wish:{wish.id}:3d")).target_id == BAI
    assert (await repo.get(reminder.id)).created_by == BAI

    listing = next(m for m in world.bai.replies() if "以下工作已转交给您" in (m.text or ""))
    assert "张书记" in listing.text and DONOR_ORG in listing.text
    assert "W0001 一个篮球" in listing.text and "周例会请准时参加" in listing.text and "新来的" in listing.text
    assert "🎁 W0001 一个篮球" in listing.button_labels()
    for value in PRIVATE_VALUES:
        assert value not in listing.text
    # The button opens the wish card: the successor, now the claimer, sees what they need.
    await world.bai.tap("🎁 W0001 一个篮球")
    assert "王小明" in world.bai.last_reply().text
    await world.bai.tap("⏰ 周例会请准时参加")
    assert "周例会请准时参加" in world.bai.last_reply().text

    note = world.harness.fake.bot_messages(COUNTY_ADMIN_ID)[-1].text
    assert "张书记 把 县教育局团委 的工作交接给了 小白" in note and "\n" not in note.strip()

    transfers = await world.audit(f"claim:{wish.id}")
    assert transfers == ["duty.transfer"]
    assert "departure.handover" in await world.audit_actions()


async def test_activities_move_with_the_role_and_the_old_organiser_loses_them(world, harness):
    from bot.domain.activities import ActivityDraft
    from bot.model.activity import Category, Place

    now = harness.clock.now()
    draft = ActivityDraft(
        org_id=world.donor.id,
        title="周六学业辅导",
        category=Category.TUTORING,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        place=Place("第一村村委会"),
        slots=5,
        expected_served=10,
        counts_as_deed=False,
        also_hub=False,
    )
    activity = await world.services.activities.create(ZHANG, draft)
    await hand_over_to_bai(world)
    moved = await world.services.activities.get(activity.id)
    assert moved.created_by == BAI
    assert await world.services.activities.can_organise(BAI, moved)
    assert not await world.services.activities.can_organise(ZHANG, moved)
    await world.zhang.tap_data(f"ao:{activity.id}:sheet:0", forge=True)  # the old organiser's button
    assert "只有活动「周六学业辅导」的发起人" in world.zhang.callback_answers[-1]
    refused = await world.services.db.fetch_all(
        "SELECT details FROM audit_log WHERE action = 'access.refused' AND actor_id = ?", (ZHANG,)
    )
    assert any(f"activity:{activity.id}" in row["details"] for row in refused)
    assert (
        "📅 周六学业辅导"
        in next(m for m in world.bai.replies() if "以下工作已转交给您" in (m.text or "")).button_labels()
    )


async def test_removal_moves_a_cadres_claims_to_the_admin_or_to_a_member_picked(world, harness):
    first = await world.claimed_wish(by=CHEN)
    zhang = world.zhang
    await zhang.send("/members")
    await zhang.tap("陈干事 · 团干部")
    await zhang.tap("🚪 移出本组织")
    text = zhang.last_reply().text
    assert "1 项工作将转交给 张书记" in text
    await zhang.tap("🔁 把工作交给其他成员")
    assert "陈干事 手上的工作要交给谁" in zhang.last_reply().text
    assert "陈干事" not in zhang.last_reply().button_labels()
    await zhang.tap("小白")
    assert "1 项工作将转交给 小白" in zhang.last_reply().text
    await zhang.tap("✅ 确认移出")
    assert "已转交给 小白" in zhang.last_reply().text
    assert (await world.services.wishes.get(first.id)).claimed_by_user == BAI
    assert any("以下工作已转交给您" in text for text in world.bai.transcript())
    assert await world.services.permissions.role_in(CHEN, world.donor.id) is None

    # A receiver must be a member of the organisation, and not the person leaving.
    with pytest.raises(DomainError, match="turnover.receiver_not_member"):
        await world.services.membership.remove_member(ZHANG, world.donor.id, BAI, receiver_id=TEACHER)
    with pytest.raises(DomainError, match="turnover.receiver_self"):
        await world.services.membership.remove_member(ZHANG, world.donor.id, BAI, receiver_id=BAI)
    assert await world.services.permissions.role_in(BAI, world.donor.id) is Role.CADRE


async def test_leaving_by_oneself_hands_duties_to_the_admins_but_the_last_admin_may_not(world, harness):
    wish = await world.claimed_wish(by=CHEN)
    departure = await world.services.membership.leave(CHEN, world.donor.id)
    assert departure.record.receiver_id == ZHANG and departure.count == 1
    assert (await world.services.wishes.get(wish.id)).claimed_by_user == ZHANG
    with pytest.raises(DomainError, match="turnover.last_admin_leave"):
        await world.services.membership.leave(ZHANG, world.donor.id)
    assert await world.services.permissions.role_in(ZHANG, world.donor.id) is Role.ORG_ADMIN


async def test_a_county_admin_may_remove_the_last_admin_after_confirming_and_takes_the_work(world, harness):
    wish = await world.claimed_wish()
    admin = harness.admin()
    await admin.send("/members")
    await admin.tap(DONOR_ORG)
    await admin.tap("张书记 · 组织管理员")
    await admin.tap("🚪 移出本组织")
    assert "唯一的管理员" in admin.last_reply().text
    assert "✅ 确认移出" not in admin.last_reply().button_labels()
    await admin.tap("⚠️ 确认移出唯一的管理员")
    assert "已转交给 县管理员" in admin.last_reply().text
    assert (await world.services.wishes.get(wish.id)).claimed_by_user == COUNTY_ADMIN_ID
    assert await world.services.permissions.role_in(ZHANG, world.donor.id) is None


# ---- group reminders belong to the group's organisation --------------------------------------------
async def test_any_admin_of_the_organisation_manages_its_group_reminders_and_the_departed_none(world, harness):
    reminder = await world.group_reminder()
    await world.services.membership.set_role(ZHANG, world.donor.id, CHEN, Role.ORG_ADMIN)
    chen = world.chen
    await chen.send("/reminders")
    assert any("周例会请准时参加" in text for text in chen.transcript())
    paused = await world.services.reminders.pause(CHEN, reminder.id)
    assert paused.state == "paused"

    await world.services.membership.remove_member(CHEN, world.donor.id, ZHANG, receiver_id=CHEN)
    assert (await world.services.reminders.reminders.get(reminder.id)).created_by == CHEN
    zhang = world.zhang
    await zhang.send("/reminders")
    assert not any("周例会请准时参加" in text for text in zhang.transcript()[-2:])
    await zhang.tap_data(f"rm:{reminder.id}:resume", forge=True)
    assert "这是别人创建的提醒，您不能修改" in zhang.callback_answers[-1]
    assert (await world.services.reminders.reminders.get(reminder.id)).state == "paused"
    assert "access.refused" in await world.audit_actions()


# ---- access ends at once ---------------------------------------------------------------------------
async def test_the_departed_cadre_loses_private_details_wishes_and_old_buttons(world, harness, caplog):
    caplog.set_level(logging.DEBUG)
    wish = await world.claimed_wish()
    zhang = world.zhang
    await zhang.send(f"/wish {wish.code}")
    assert "王小明" in zhang.last_reply().text  # the claimer, while fulfilling
    card = zhang.last_reply()
    assert "📦 已送达" in card.button_labels()
    before = len(zhang.transcript())
    chats = (ORG_GROUP, ZHANG, BAI, CHEN, TEACHER, COUNTY_ADMIN_ID)
    seen = {chat: len(harness.fake.messages(chat)) for chat in chats}

    await hand_over_to_bai(world, notice=True)

    assert not await world.services.wishes.can_see_private(ZHANG, await world.services.wishes.get(wish.id))
    # The notice period: the registry is still readable, never the child's details.
    await zhang.send(f"/wish {wish.code}")
    assert "一个篮球" in zhang.last_reply().text and "王小明" not in zhang.last_reply().text
    with pytest.raises(DomainError):
        await world.services.wishes.private_details(ZHANG, wish.id)
    # Old buttons are refused with a clear answer, and the refusal is audited.
    await zhang.tap("📦 已送达", message_id=card.message_id)
    assert "只有认领人或认领单位的团干部才能登记心愿 W0001 的购买和送达" in zhang.callback_answers[-1]
    assert (await world.services.wishes.get(wish.id)).status is WishStatus.CLAIMED
    refusals = [a for a in await world.audit_actions() if a == "access.refused"]
    assert refusals

    # After the notice period, nothing at all.
    harness.clock.advance(days=8)
    await zhang.send(f"/wish {wish.code}")
    assert "一个篮球" not in zhang.last_reply().text and "心愿登记册只对团干部开放" in zhang.last_reply().text

    after = zhang.transcript()[before:]
    for text in after:
        for value in PRIVATE_VALUES:
            assert value not in text, text
    # Every message after the handover (the group, the predecessor, the successor's list, the
    # county admin's note…) and every log line: no planted detail.
    for chat in chats:
        for message in harness.fake.messages(chat)[seen[chat] :]:
            for value in PRIVATE_VALUES:
                assert value not in (message.text or ""), (chat, message.text)
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(("telegram", "aiosqlite"))
    )
    for value in PRIVATE_VALUES:
        assert value not in logged
    audit = await world.services.db.fetch_all("SELECT details FROM audit_log")
    for row in audit:
        for value in PRIVATE_VALUES:
            assert value not in row["details"]


# ---- racing transfers ------------------------------------------------------------------------------
async def test_two_racing_departures_exactly_one_wins_and_nothing_is_duplicated(world, harness):
    wish = await world.claimed_wish(by=CHEN)
    services = world.services
    results = await asyncio.gather(
        services.membership.remove_member(ZHANG, world.donor.id, CHEN),
        services.membership.remove_member(COUNTY_ADMIN_ID, world.donor.id, CHEN, receiver_id=BAI),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], DomainError) and lost[0].key in ("roles.not_member", "turnover.already_gone")
    holder = (await services.wishes.get(wish.id)).claimed_by_user
    assert holder == won[0].record.receiver_id
    rows = await services.db.fetch_all("SELECT COUNT(*) AS n FROM duty_transfers")
    assert rows[0]["n"] == 1


async def test_a_handover_racing_a_removal_is_stale_and_moves_nothing_twice(world, harness):
    wish = await world.claimed_wish()
    zhang, bai = world.zhang, world.bai
    await zhang.send("/handover")
    await zhang.tap("小白 @bai")
    await zhang.tap("✅ 确认交接")
    await world.services.membership.appoint_admin(COUNTY_ADMIN_ID, world.donor.id, CHEN)
    await world.services.membership.remove_member(COUNTY_ADMIN_ID, world.donor.id, ZHANG, receiver_id=CHEN)
    await bai.tap("✅ 接受")
    assert "这个交接已失效" in bai.callback_answers[-1]
    assert (await world.services.wishes.get(wish.id)).claimed_by_user == CHEN
    assert await world.services.permissions.role_in(BAI, world.donor.id) is Role.CADRE


# ---- bad input --------------------------------------------------------------------------------------
async def test_a_successor_who_is_no_member_is_told_so_before_confirming(world, harness):
    outsider = harness.user(APPLICANT, "外单位", username="outside")
    await outsider.send("/start")
    zhang = world.zhang
    await zhang.send("/handover")
    await zhang.send("@outside")
    text = zhang.last_reply().text
    assert "外单位 还不是本组织的成员" in text
    assert await world.services.permissions.role_in(ZHANG, world.donor.id) is Role.ORG_ADMIN


async def test_leave_by_oneself_lists_the_work_handed_on_and_refuses_the_last_admin(world, harness):
    wish = await world.claimed_wish(by=CHEN)
    chen = world.chen
    await chen.send("/leave")
    confirm = chen.last_reply().text
    assert "确定离开 县教育局团委" in confirm and "1 项工作" in confirm
    await chen.tap("🚪 确认离开")
    assert "您已离开 县教育局团委。1 项工作已转交给 张书记" in chen.last_reply().text
    assert (await world.services.wishes.get(wish.id)).claimed_by_user == ZHANG
    assert any("以下工作已转交给您" in text for text in world.zhang.transcript())
    await chen.send("/leave")
    assert "您目前不属于任何团组织" in chen.last_reply().text

    await world.zhang.send("/leave")
    assert "您是本组织唯一的管理员，不能直接离开" in world.zhang.last_reply().text
    assert await world.services.permissions.role_in(ZHANG, world.donor.id) is Role.ORG_ADMIN
    assert await world.services.conversations.get(ZHANG) is None
