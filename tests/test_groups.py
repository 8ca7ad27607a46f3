"""Binding groups as the hub or an organisation's group; migration, removal, anonymous admins."""

from __future__ import annotations

from bot.model.organisation import Binding, OrgKind
from tests.harness import COUNTY_ADMIN_ID

HUB = -1001
ORG_GROUP = -2002


async def bind_via_private(user, chat_id: int, *targets: str) -> None:
    await user.send("/bind", chat_id)
    [(label, url)] = user.last_reply(chat_id).buttons()
    assert url.endswith(f"?start=bind_{chat_id}")
    await user.send(f"/start bind_{chat_id}")
    for target in targets:
        await user.tap(target)


async def test_county_admin_binds_the_hub(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    assert "/bind" in harness.fake.last_bot_message(HUB).text  # the bot introduced itself
    await bind_via_private(admin, HUB, "🏛 全县团干部群", "✅ 确认绑定")
    assert "已绑定为 <b>全县团干部群</b>" in admin.last_reply().text or "已绑定为" in admin.last_reply().text
    assert "本群已绑定为 全县团干部群" in harness.fake.last_bot_message(HUB).text
    hub = await harness.services.groups.hub()
    assert hub.chat_id == HUB and hub.binding is Binding.HUB
    await admin.send("/groups")
    assert "县团干部群 — 全县团干部群（正常）" in admin.last_reply().text


async def test_group_admin_binds_their_organisation_and_unbinds(harness):
    harness.admin()
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    li = harness.user(300001, "李老师", username="li")
    await li.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, li.user_id)
    await harness.group_with_bot(ORG_GROUP, "教育局团委群", admins=(li.user_id,))
    await bind_via_private(li, ORG_GROUP, "县教育局团委", "✅ 确认绑定")
    assert "县教育局团委 的组织群" in harness.fake.last_bot_message(ORG_GROUP).text
    assert (await harness.services.groups.of_org(org.id)).chat_id == ORG_GROUP
    # Not a county admin: the hub choice is not offered.
    await li.send("/unbind", ORG_GROUP)
    assert "已解除本群的绑定" in harness.fake.last_bot_message(ORG_GROUP).text
    assert await harness.services.groups.of_org(org.id) is None


async def test_plain_member_cannot_bind_or_unbind(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, HUB, "🏛 全县团干部群", "✅ 确认绑定")
    wang = harness.user(300002, "小王")
    harness.fake.add_member(HUB, wang.user_id)
    await wang.send("/bind", HUB)
    assert "只有团县委管理员" in harness.fake.last_bot_message(HUB).text
    await wang.send("/unbind", HUB)
    assert "只有团县委管理员" in harness.fake.last_bot_message(HUB).text
    assert (await harness.services.groups.hub()).chat_id == HUB


async def test_group_admin_without_organisation_role_cannot_bind(harness):
    harness.admin()
    await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    zhao = harness.user(300003, "赵")
    await harness.group_with_bot(ORG_GROUP, "城关镇群", admins=(zhao.user_id,))
    await zhao.send("/bind", ORG_GROUP)
    assert "只有团县委管理员，或本群管理员中同时是某组织管理员的人" in harness.fake.last_bot_message(ORG_GROUP).text
    # Typing the deep link by hand gets them no further: no organisation is offered.
    await zhao.send(f"/start bind_{ORG_GROUP}")
    assert "城关镇团委" not in zhao.last_reply().button_labels()


async def test_anonymous_admin_gains_no_rights(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await admin.send("/bind", HUB, as_group=True)
    assert "匿名管理员" in harness.fake.last_bot_message(HUB).text
    assert await harness.services.groups.hub() is None


async def test_forged_bind_confirmation_is_refused(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await admin.send("/start")
    message = admin.last_reply()
    update = harness.fake.user_taps(
        COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, message.message_id, "cv:bd:confirm:yes", forge=True
    )
    await harness.deliver(update)
    assert harness.fake.callback_answers[-1]["text"] == "这个按钮已过期或无效。请重新发送命令开始。"
    assert await harness.services.groups.hub() is None


async def test_binding_follows_supergroup_migration(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, HUB, "🏛 全县团干部群", "✅ 确认绑定")
    new_id = harness.fake.migrate_to_supergroup(HUB, by_user_id=COUNTY_ADMIN_ID)
    for update in harness.fake.pop_updates():
        await harness.deliver(update)
    hub = await harness.services.groups.hub()
    assert hub.chat_id == new_id and hub.type == "supergroup"
    assert await harness.services.groups.get(HUB) is None
    # The group keeps working under its new id.
    await admin.send("/unbind", new_id)
    assert "已解除本群的绑定（原为：全县团干部群）" in harness.fake.last_bot_message(new_id).text


async def test_kicked_from_bound_group_marks_inactive_and_tells_county_admins(harness):
    admin = harness.admin()
    await admin.send("/start")
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, HUB, "🏛 全县团干部群", "✅ 确认绑定")
    await harness.deliver(harness.fake.bot_removed_from_group(HUB, COUNTY_ADMIN_ID))
    chat = await harness.services.groups.get(HUB)
    assert not chat.active
    assert "我被移出了群「县团干部群」（全县团干部群）" in admin.last_reply().text
    await admin.send("/groups")
    assert "我已不在群中" in admin.last_reply().text
