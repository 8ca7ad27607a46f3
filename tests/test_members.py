"""Members, roles and handover, as the people involved see them: /join approvals, /members,
/handover with the successor's answer, and /promote."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.model.organisation import OrgKind, Role
from tests.harness import COUNTY_ADMIN_ID

ORG = "县教育局团委"
ORG_GROUP = -2002
ZHANG, BAI, CHEN, LIU = 200001, 200002, 200003, 200004


# ---- arranging ------------------------------------------------------------------------------
async def org_with_admin(harness, name: str = ORG):
    """An organisation whose admin is 张书记 (@zhang), who has started the bot."""
    harness.admin()
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, name, OrgKind.COUNTY_LEVEL, None)
    zhang = harness.user(ZHANG, "张书记", username="zhang")
    await zhang.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, ZHANG)
    return org, zhang


async def add_cadre(harness, org, user_id: int, name: str, username: str):
    """A person who started the bot and joined the organisation as a cadre."""
    person = harness.user(user_id, name, username=username)
    await person.send("/start")
    request = await harness.services.membership.request_join(user_id, org.id)
    await harness.services.membership.decide(COUNTY_ADMIN_ID, request.id, True)
    return person


async def role_of(harness, org, user_id: int) -> Role | None:
    return await harness.services.permissions.role_in(user_id, org.id)


async def step_of(harness, user_id: int) -> tuple[str, str] | None:
    state = await harness.services.conversations.get(user_id)
    return None if state is None else (state.flow, state.step)


def panel(person):
    """The message the person is working on: the newest bot message with buttons (after an error
    reply, the flow's message is an older one, and taps edit that one)."""
    return next(m for m in reversed(person.replies()) if m.buttons())


async def apply_to_join(person, org_name: str = ORG) -> None:
    await person.send("/join")
    await person.tap(org_name)
    await person.tap("✅ 提交申请")


# ---- joining: approve, reject, double decision, forged decisions ----------------------------
async def test_join_approved_by_the_org_admin_grants_the_cadre_role(harness):
    org, zhang = await org_with_admin(harness)
    alice = harness.user(LIU, "Alice", username="alice")
    await alice.send("/start")
    await apply_to_join(alice)
    assert "已提交加入 县教育局团委 的申请" in alice.last_reply().text
    assert "Alice @alice 申请加入 县教育局团委" in zhang.last_reply().text

    # 20:00 UTC is already the next day in Asia/Shanghai: the list shows the county's date.
    harness.clock.moment = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    await zhang.tap("✅ 批准")
    assert "已批准 Alice 加入 县教育局团委" in zhang.last_reply().text
    assert zhang.last_reply().buttons() == []
    assert "您加入 县教育局团委 的申请已被批准" in alice.last_reply().text
    assert await role_of(harness, org, LIU) is Role.CADRE

    await zhang.send("/members")
    listing = zhang.last_reply()
    assert "县教育局团委 的成员（2 人）" in listing.text
    assert "Alice @alice — 团干部，2026-11-27 起" in listing.text
    assert "张书记 @zhang — 组织管理员，2026-11-26 起" in listing.text
    assert "Alice · 团干部" in listing.button_labels()


async def test_join_rejected_tells_the_applicant_and_grants_nothing(harness):
    org, zhang = await org_with_admin(harness)
    alice = harness.user(LIU, "Alice", username="alice")
    await alice.send("/start")
    await apply_to_join(alice)
    await zhang.tap("❌ 拒绝")
    assert "已拒绝 Alice 加入 县教育局团委 的申请" in zhang.last_reply().text
    assert "您加入 县教育局团委 的申请未被批准" in alice.last_reply().text
    assert await role_of(harness, org, LIU) is None
    await zhang.send("/members")
    assert "Alice" not in zhang.last_reply().text


async def test_second_approver_is_told_the_request_was_already_decided(harness):
    org, zhang = await org_with_admin(harness)
    chen = harness.user(CHEN, "陈老师", username="chen")
    await chen.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, CHEN)
    alice = harness.user(LIU, "Alice", username="alice")
    await alice.send("/start")
    await apply_to_join(alice)
    await zhang.tap("✅ 批准")
    await chen.tap("❌ 拒绝")
    assert "这条申请已经处理过了" in chen.callback_answers[-1]
    assert await role_of(harness, org, LIU) is Role.CADRE
    assert "您加入 县教育局团委 的申请已被批准" in alice.last_reply().text
    assert not any("未被批准" in text for text in alice.transcript())


async def test_forged_join_decisions_are_refused_without_any_change(harness):
    org, zhang = await org_with_admin(harness)
    alice = harness.user(LIU, "Alice", username="alice")
    await alice.send("/start")
    request = await harness.services.membership.request_join(LIU, org.id)
    bai = harness.user(BAI, "小白", username="bai")
    await bai.send("/start")

    await zhang.tap_data("jd:999:a", forge=True)
    assert "找不到这条申请" in zhang.callback_answers[-1]
    await zhang.tap_data(f"jd:{request.id}:x", forge=True)
    assert "这个按钮已过期或无效" in zhang.callback_answers[-1]
    await zhang.tap_data(f"jd:{request.id}:a:1", forge=True)
    assert "这个按钮已过期或无效" in zhang.callback_answers[-1]
    await bai.tap_data(f"jd:{request.id}:a", forge=True)  # not an admin of the organisation
    assert "只有该组织的管理员" in bai.callback_answers[-1]

    assert (await harness.services.membership.pending_request(request.id)).status == "pending"
    assert await role_of(harness, org, LIU) is None
    assert not any("的申请" in text for text in alice.transcript())  # told nothing


# ---- handover ---------------------------------------------------------------------------------
async def start_handover_to_bai(harness):
    """张书记 runs the organisation (with a bound group); 小白 is a cadre; 张 hands over to 小白."""
    org, zhang = await org_with_admin(harness)
    bai = await add_cadre(harness, org, BAI, "小白", "bai")
    await harness.group_with_bot(ORG_GROUP, "教育局团委群", admins=(ZHANG,))
    await harness.services.groups.bind_org(COUNTY_ADMIN_ID, ORG_GROUP, org.id, is_chat_admin=False)

    await zhang.send("/handover")
    ask = zhang.last_reply()
    assert "谁来接任 县教育局团委 的组织管理员" in ask.text
    assert "张书记" not in " ".join(ask.button_labels())  # not oneself, nor another admin
    await zhang.tap("小白 @bai")
    confirm = zhang.last_reply().text
    assert "交接给 小白 @bai" in confirm
    assert "您将离开 县教育局团委" in confirm and "记录" in confirm
    await zhang.tap("✅ 确认交接")
    assert "已请 小白 确认接任 县教育局团委 的管理员" in zhang.last_reply().text
    request = bai.last_reply()
    assert "张书记 @zhang 想把 县教育局团委 的组织管理员工作交接给您" in request.text
    assert request.button_labels() == ["✅ 接受", "❌ 拒绝"]
    return org, zhang, bai


async def test_handover_accepted_moves_the_role_and_the_predecessor_leaves(harness):
    org, zhang, bai = await start_handover_to_bai(harness)
    await bai.tap("✅ 接受")

    texts = bai.transcript()
    assert any("您已接任 县教育局团委 的组织管理员（由 张书记 交接）" in text for text in texts)
    guide = bai.last_reply().text
    assert "组织管理员要做的事" in guide
    for command in ("/members", "/bind", "/handover"):
        assert command in guide
    assert bai.replies()[-2].buttons() == []  # the request no longer offers buttons
    assert "小白 已接受，现在是 县教育局团委 的组织管理员。您已离开该组织" in zhang.last_reply().text

    assert await role_of(harness, org, BAI) is Role.ORG_ADMIN
    assert await role_of(harness, org, ZHANG) is None
    history = await harness.services.membership.history(org.id)
    zhang_rows = [m for m in history if m.user_id == ZHANG]
    assert [(m.role, m.end_reason) for m in zhang_rows] == [(Role.ORG_ADMIN, "handover")]
    assert zhang_rows[0].ended_at is not None
    bai_rows = [(m.role, m.end_reason) for m in history if m.user_id == BAI]
    assert bai_rows == [(Role.CADRE, "role_change"), (Role.ORG_ADMIN, None)]
    assert (await harness.services.groups.of_org(org.id)).chat_id == ORG_GROUP

    # The predecessor keeps no access; the successor now manages the members.
    await zhang.send("/members")
    assert "您目前不是任何组织的管理员" in zhang.last_reply().text
    await bai.send("/members")
    assert "小白 @bai — 组织管理员" in bai.last_reply().text
    # Tapping the old buttons again changes nothing.
    await bai.tap_data("ha:1:a", forge=True)
    assert "已经处理过或已被取消" in bai.callback_answers[-1]
    assert await role_of(harness, org, BAI) is Role.ORG_ADMIN


async def test_handover_declined_changes_nothing(harness):
    org, zhang, bai = await start_handover_to_bai(harness)
    await bai.tap("❌ 拒绝")
    assert "您已拒绝接任 县教育局团委 的管理员" in bai.last_reply().text
    assert bai.last_reply().buttons() == []
    assert "小白 拒绝接任 县教育局团委 的管理员。您仍是管理员" in zhang.last_reply().text
    assert await role_of(harness, org, ZHANG) is Role.ORG_ADMIN
    assert await role_of(harness, org, BAI) is Role.CADRE


async def test_stale_handover_is_refused_when_the_predecessor_lost_the_role(harness):
    org, zhang, bai = await start_handover_to_bai(harness)
    chen = harness.user(CHEN, "陈老师", username="chen")
    await chen.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, CHEN)
    await harness.services.membership.set_role(COUNTY_ADMIN_ID, org.id, ZHANG, Role.CADRE)

    await bai.tap("✅ 接受")
    assert "这个交接已失效" in bai.callback_answers[-1]
    assert "这个交接已失效" in bai.last_reply().text and bai.last_reply().buttons() == []
    assert await role_of(harness, org, BAI) is Role.CADRE
    assert await role_of(harness, org, ZHANG) is Role.CADRE
    assert (await harness.services.membership.get_handover(1)).status == "cancelled"


async def test_forged_handover_answers_are_refused(harness):
    org, zhang, bai = await start_handover_to_bai(harness)
    chen = harness.user(CHEN, "陈老师", username="chen")
    await chen.send("/start")

    await bai.tap_data("ha:999:a", forge=True)
    assert "找不到这次交接" in bai.callback_answers[-1]
    await bai.tap_data("ha:1:x", forge=True)
    assert "这个按钮已过期或无效" in bai.callback_answers[-1]
    await chen.tap_data("ha:1:a", forge=True)  # someone else than the successor
    assert "这个交接请求不是发给您的" in chen.callback_answers[-1]

    assert (await harness.services.membership.get_handover(1)).status == "pending"
    assert await role_of(harness, org, ZHANG) is Role.ORG_ADMIN
    assert await role_of(harness, org, CHEN) is None


async def test_successor_who_never_started_the_bot_and_other_bad_input_keep_the_step(harness):
    org, zhang = await org_with_admin(harness)
    chen = harness.user(CHEN, "陈老师", username="chen", started=False)
    await harness.group_with_bot(ORG_GROUP, "教育局团委群", members=(CHEN,))
    await chen.send("大家好", ORG_GROUP)  # known from the group, never wrote privately

    await zhang.send("/handover")
    assert "本组织目前没有其他成员" in zhang.last_reply().text
    for typed, expected in (
        ("@nobody", "找不到 @nobody"),
        ("zhangsan", "「zhangsan」不是有效的用户"),
        ("@zhang", "不能交接给您自己"),
        ("@chen", "对方还没有私聊我发送过 /start"),
    ):
        await zhang.send(typed)
        assert expected in zhang.last_reply().text, typed
        assert await step_of(harness, ZHANG) == ("ho", "successor")

    await chen.send("/start")
    await zhang.send("@chen")
    assert "交接给 陈老师 @chen" in zhang.last_reply().text
    await zhang.send("好的")  # a button is expected at the confirmation
    assert "请点击上面消息中的按钮" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("ho", "confirm")
    confirmation = panel(zhang)
    await zhang.tap("✅ 确认交接")
    assert "已请 陈老师 确认" in zhang.replies()[-2].text
    assert zhang.replies()[-2].message_id == confirmation.message_id
    assert chen.last_reply().button_labels() == ["✅ 接受", "❌ 拒绝"]


async def test_successor_who_blocked_the_bot_is_reported(harness):
    org, zhang = await org_with_admin(harness)
    await add_cadre(harness, org, BAI, "小白", "bai")
    harness.fake.block_bot(BAI)
    await zhang.send("/handover")
    await zhang.tap("小白 @bai")
    await zhang.tap("✅ 确认交接")
    assert "我无法私聊 小白" in zhang.last_reply().text and "/start" in zhang.last_reply().text
    assert await role_of(harness, org, ZHANG) is Role.ORG_ADMIN


async def test_handover_refuses_an_admin_successor_and_explains_itself_to_non_admins(harness):
    org, zhang = await org_with_admin(harness)
    chen = harness.user(CHEN, "陈老师", username="chen")
    await chen.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, CHEN)
    await zhang.send("/handover")
    await zhang.send("@chen")
    assert "陈老师 已经是本组织的管理员" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("ho", "successor")

    bai = await add_cadre(harness, org, BAI, "小白", "bai")
    await bai.send("/handover")
    assert "/handover 用于组织管理员" in bai.last_reply().text
    assert "在 /members 中把您移出" in bai.last_reply().text
    assert await step_of(harness, BAI) is None


async def test_admin_of_two_organisations_first_picks_which_to_hand_over(harness):
    org, zhang = await org_with_admin(harness)
    other = await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, other.id, ZHANG)
    await zhang.send("/handover")
    assert "要交接哪个组织" in zhang.last_reply().text
    await zhang.send("城关镇团委")
    assert "请点击上面消息中的按钮" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("ho", "org")
    await zhang.tap("城关镇团委")
    assert "谁来接任 城关镇团委 的组织管理员" in panel(zhang).text


# ---- /members ---------------------------------------------------------------------------------
async def test_members_changes_roles_removes_and_keeps_the_last_admin(harness):
    org, zhang = await org_with_admin(harness)
    bai = await add_cadre(harness, org, BAI, "小白", "bai")

    await zhang.send("/members")  # one organisation: straight to its members
    assert "县教育局团委 的成员（2 人）" in zhang.last_reply().text
    await zhang.tap("小白 · 团干部")
    card = zhang.last_reply().text
    assert "小白 @bai" in card and "身份：团干部" in card
    await zhang.tap("⬆️ 设为组织管理员")
    assert "已把 小白 设为组织管理员。我已私聊通知对方。" in zhang.last_reply().text
    assert await role_of(harness, org, BAI) is Role.ORG_ADMIN
    assert any("您已成为 县教育局团委 的组织管理员" in text for text in bai.transcript())
    assert "组织管理员要做的事" in bai.last_reply().text

    await zhang.tap("小白 · 组织管理员")
    await zhang.tap("⬇️ 改为团干部")
    assert await role_of(harness, org, BAI) is Role.CADRE
    assert "您在 县教育局团委 的身份已改为团干部" in bai.last_reply().text

    # The last admin can be neither demoted nor removed; the person stays where they were.
    await zhang.tap("张书记 · 组织管理员")
    await zhang.tap("⬇️ 改为团干部")
    assert "对方是本组织唯一的管理员" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("mb", "action")
    await zhang.tap("🚪 移出本组织")
    await zhang.tap("✅ 确认移出")
    assert "对方是本组织唯一的管理员" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("mb", "remove")
    assert await role_of(harness, org, ZHANG) is Role.ORG_ADMIN

    await zhang.tap("◀ 返回成员列表")
    await zhang.tap("◀ 返回成员列表")
    await zhang.tap("小白 · 团干部")
    await zhang.tap("🚪 移出本组织")
    assert "本组织的记录会保留" in panel(zhang).text
    await zhang.tap("✅ 确认移出")
    assert "已把 小白 移出本组织" in panel(zhang).text
    assert "县教育局团委 的成员（1 人）" in panel(zhang).text
    assert "您已被移出 县教育局团委" in bai.last_reply().text
    assert await role_of(harness, org, BAI) is None
    ended = [m for m in await harness.services.membership.history(org.id) if m.user_id == BAI]
    assert [m.end_reason for m in ended] == ["role_change", "role_change", "removed"]


async def test_members_bad_input_and_forged_taps_keep_the_step(harness):
    org, zhang = await org_with_admin(harness)
    await add_cadre(harness, org, BAI, "小白", "bai")
    other = await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    await zhang.send("/members")
    await zhang.send("小白")
    assert "请点击上面消息中的按钮" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("mb", "member")
    # A forged member id, and a forged organisation the person does not run.
    await zhang.tap_data("cv:mb:member:999", forge=True)
    assert "对方已经不是该组织的成员了" in zhang.last_reply().text
    await zhang.tap_data("cv:mb:member:appoint", forge=True)
    assert "只有团县委管理员可以这样做" in zhang.last_reply().text
    await zhang.tap_data(f"cv:mb:org:{other.id}", forge=True)
    assert "这个按钮已过期或无效" in zhang.callback_answers[-1]
    assert await step_of(harness, ZHANG) == ("mb", "member")

    await zhang.tap("小白 · 团干部")
    await zhang.tap_data("cv:mb:action:boss", forge=True)
    assert "这个按钮已过期或无效" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("mb", "action")
    assert await role_of(harness, org, BAI) is Role.CADRE


async def test_admin_of_two_organisations_picks_one_and_cannot_forge_a_third(harness):
    org, zhang = await org_with_admin(harness)
    second = await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    third = await harness.services.orgs.create(COUNTY_ADMIN_ID, "水利局团支部", OrgKind.COUNTY_LEVEL, None)
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, second.id, ZHANG)
    await zhang.send("/members")
    assert zhang.last_reply().button_labels() == [ORG, "城关镇团委", "✖️ 取消"]
    await zhang.send("水利")
    assert "没有名称包含「水利」的、您可以管理的组织" in zhang.last_reply().text
    await zhang.tap_data(f"cv:mb:org:{third.id}", forge=True)
    assert "只有该组织的管理员" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == ("mb", "org")
    await zhang.tap("城关镇团委")
    assert "城关镇团委 的成员（1 人）" in panel(zhang).text
    await zhang.tap("🏢 选择其他组织")
    await zhang.tap(ORG)
    assert "县教育局团委 的成员（1 人）" in panel(zhang).text


async def test_non_admin_is_told_what_members_is_for(harness):
    org, zhang = await org_with_admin(harness)
    bai = await add_cadre(harness, org, BAI, "小白", "bai")
    await bai.send("/members")
    text = bai.last_reply().text
    assert "您目前不是任何组织的管理员" in text and "/join" in text and "/handover" in text


async def test_county_admin_searches_an_organisation_and_appoints_its_first_admin(harness):
    admin = harness.admin()
    await admin.send("/start")
    for name, kind in (("县教育局团委", OrgKind.COUNTY_LEVEL), ("城关镇团委", OrgKind.TOWNSHIP)):
        await harness.services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)
    org = (await harness.services.orgs.search("城关"))[0]
    zhao = harness.user(LIU, "赵老师", username="zhao")
    await zhao.send("/start")

    await admin.send("/members")
    assert "也可以直接发送组织名称的一部分来搜索" in admin.last_reply().text
    await admin.send("水利")
    assert "没有名称包含「水利」" in admin.last_reply().text
    assert await step_of(harness, COUNTY_ADMIN_ID) == ("mb", "org")
    await admin.send("城关")
    assert "找到 1 个组织" in admin.last_reply().text
    await admin.tap("城关镇团委")
    listing = admin.last_reply().text
    assert "城关镇团委 的成员（0 人）" in listing and "本组织还没有管理员" in listing

    await admin.tap("👤 任命管理员")
    assert "@用户名 或数字用户 ID" in admin.last_reply().text
    for typed, expected in (("赵老师", "不是有效的用户"), ("@nobody", "找不到 @nobody"), ("424242", "找不到 424242")):
        await admin.send(typed)
        assert expected in admin.last_reply().text, typed
        assert await step_of(harness, COUNTY_ADMIN_ID) == ("mb", "appoint")
    await admin.send(str(LIU))
    assert "任命 赵老师 @zhao 为 城关镇团委 的组织管理员" in admin.last_reply().text
    await admin.tap("✅ 确认任命")
    assert "已任命 赵老师 为 城关镇团委 的组织管理员" in admin.last_reply().text
    assert "赵老师 @zhao — 组织管理员" in admin.last_reply().text
    assert await role_of(harness, org, LIU) is Role.ORG_ADMIN
    assert any("您已成为 城关镇团委 的组织管理员" in text for text in zhao.transcript())
    assert "组织管理员要做的事" in zhao.last_reply().text


# ---- /promote ---------------------------------------------------------------------------------
async def test_promote_needs_an_argument_a_known_person_and_a_county_admin(harness):
    admin = harness.admin()
    await admin.send("/start")
    await admin.send("/promote")
    assert "用法：/promote" in admin.last_reply().text and "/promote @zhangsan" in admin.last_reply().text
    await admin.send("/promote @nobody")
    assert "找不到 @nobody" in admin.last_reply().text

    wu = harness.user(LIU, "吴干事", username="wu")
    await wu.send("/start")
    await wu.send("/promote @county_admin")
    assert "只有团县委管理员可以这样做" in wu.last_reply().text
    assert not await harness.services.permissions.is_county_admin(LIU)

    await admin.send("/promote @wu")
    assert "已任命 吴干事 @wu 为团县委管理员" in admin.last_reply().text
    assert "您已被任命为团县委管理员" in wu.last_reply().text
    assert await harness.services.permissions.is_county_admin(LIU)
    await admin.send(f"/promote {LIU}")
    assert "吴干事 已经是团县委管理员了" in admin.last_reply().text


async def test_members_lists_pending_requests_with_decision_buttons(harness):
    """An admin who missed the approval notice finds the application again in /members."""
    admin = harness.admin()
    await admin.send("/start")
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, "县卫健委团委", OrgKind.COUNTY_LEVEL, None)
    bob = harness.user(200777, "Bob", username="bob")
    await bob.send(f"/start join_{org.id}")
    await bob.tap("✅ 提交申请")
    await admin.send("/members")
    await admin.tap("县卫健委团委")
    await admin.tap("📝 待审批的加入申请（1）")
    assert "<b>Bob</b>" in admin.last_reply().raw_text or "Bob" in admin.last_reply().text
    await admin.tap("✅ 批准")
    assert await harness.services.permissions.role_in(bob.user_id, org.id) is Role.CADRE
