"""/profile: a person's optional real name and phone, private to them."""

from __future__ import annotations

from bot.model.organisation import OrgKind
from tests.harness import COUNTY_ADMIN_ID


async def test_profile_keeps_name_and_phone_privately_with_bad_input_explained(harness):
    wang = harness.user(500001, "小王")
    await wang.send("/profile")
    assert "只有您自己能看到" in wang.last_reply().text
    await wang.send("张" * 21)
    assert "1 到 20 个字" in wang.last_reply().text  # still at the name step
    await wang.send("王小明")
    await wang.send("12345")
    assert "不像手机号" in wang.last_reply().text  # still at the phone step
    await wang.send("138 0013 8000")
    assert wang.last_reply().text.startswith("✅ 已保存。姓名：王小明；电话：13800138000")
    person = await harness.services.people.get(wang.user_id)
    assert (person.real_name, person.phone) == ("王小明", "13800138000")


async def test_profile_can_keep_or_clear_each_detail(harness):
    wang = harness.user(500001, "小王")
    await harness.services.people.seen(wang.user_id, "小王", None, "zh-hans", private=True)
    await harness.services.people.set_private_details(wang.user_id, "王小明", "13800138000")
    await wang.send("/profile")
    await wang.tap("⏭ 不修改")
    await wang.tap("🗑 清除")
    person = await harness.services.people.get(wang.user_id)
    assert (person.real_name, person.phone) == ("王小明", None)


async def test_the_real_name_never_reaches_a_group(harness):
    harness.admin()
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    wang = harness.user(500001, "小王")
    await wang.send("/profile")
    await wang.send("王小明")
    await wang.send("13800138000")
    await harness.group_with_bot(-7007, "城关镇群", admins=(COUNTY_ADMIN_ID,), members=(wang.user_id,))
    await harness.services.groups.bind_org(COUNTY_ADMIN_ID, -7007, org.id, is_chat_admin=True)
    await wang.send(f"/start join_{org.id}")
    await wang.tap("✅ 提交申请")
    await wang.send("/invite", -7007)
    texts = [m.text or "" for m in harness.fake.messages(-7007)]
    assert not any("王小明" in text or "13800138000" in text for text in texts)
