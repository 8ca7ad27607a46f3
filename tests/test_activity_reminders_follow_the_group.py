"""An activity's reminders go to its organisation's group as it is when they are due: a group bound
after the activity was created gets them, a group released or replaced no longer does."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityDraft
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind
from tests.harness import COUNTY_ADMIN_ID

SH = ZoneInfo("Asia/Shanghai")
ORG_GROUP, NEW_GROUP = -2101, -2102
ORG_NAME = "城东村团支部"


def local(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


def at(harness, moment: datetime) -> None:
    harness.clock.moment = moment.astimezone(UTC)


async def bind_via_private(user, chat_id: int, *targets: str) -> None:
    """/bind in the group, then the private conversation it links to (as tests/test_groups.py)."""
    await user.send("/bind", chat_id)
    await user.send(f"/start bind_{chat_id}")
    for target in targets:
        await user.tap(target)


def reminders_in(harness, chat_id: int) -> list[str]:
    """The activity's reminders this group got, by their first words."""
    texts = [m.text or "" for m in harness.fake.bot_messages(chat_id) if "义务理发" in (m.text or "")]
    return [head for text in texts for head in ("明天的活动", "1 小时后开始") if f"{head}：义务理发" in text]


async def an_activity_of_an_org_without_group(harness):
    """The organisation has no group yet; the activity starts on 28 November at 09:00."""
    admin = harness.admin()
    await admin.send("/start")
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, ORG_NAME, OrgKind.VILLAGE_BRANCH, None)
    activity = await harness.services.activities.create(
        COUNTY_ADMIN_ID,
        ActivityDraft(
            org_id=org.id,
            title="义务理发",
            category=Category.CLINIC,
            starts_at=local(11, 28, 9),
            ends_at=local(11, 28, 11),
            place=Place("村委会"),
            slots=10,
            expected_served=30,
            counts_as_deed=False,
        ),
    )
    return admin, org, activity


async def test_a_group_bound_after_the_activity_was_created_gets_its_reminders(harness):
    admin, _, _ = await an_activity_of_an_org_without_group(harness)
    await harness.group_with_bot(ORG_GROUP, "城东村团员群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, ORG_GROUP, ORG_NAME, "✅ 确认绑定")
    assert f"{ORG_NAME} 的组织群" in harness.fake.last_bot_message(ORG_GROUP).text

    at(harness, local(11, 27, 9))  # a day before
    await harness.tick()
    assert reminders_in(harness, ORG_GROUP) == ["明天的活动"]
    at(harness, local(11, 28, 8))  # an hour before
    await harness.tick()
    assert reminders_in(harness, ORG_GROUP) == ["明天的活动", "1 小时后开始"]


async def test_reminders_follow_the_organisation_to_its_new_group_and_stop_when_it_has_none(harness):
    admin, org, _ = await an_activity_of_an_org_without_group(harness)
    await harness.group_with_bot(ORG_GROUP, "城东村团员群", admins=(COUNTY_ADMIN_ID,))
    await harness.group_with_bot(NEW_GROUP, "城东村新群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, ORG_GROUP, ORG_NAME, "✅ 确认绑定")
    await bind_via_private(admin, NEW_GROUP, ORG_NAME, "✅ 确认绑定")  # the organisation moves
    assert (await harness.services.groups.of_org(org.id)).chat_id == NEW_GROUP

    at(harness, local(11, 27, 9))
    await harness.tick()
    assert reminders_in(harness, NEW_GROUP) == ["明天的活动"]
    assert reminders_in(harness, ORG_GROUP) == []

    await admin.send("/unbind", NEW_GROUP)  # no group any more: nobody is reminded
    at(harness, local(11, 28, 8))
    await harness.tick()
    assert reminders_in(harness, NEW_GROUP) == ["明天的活动"]
    assert reminders_in(harness, ORG_GROUP) == []


async def test_a_group_taken_over_as_the_hub_stops_getting_the_organisations_reminders(harness):
    admin, _, _ = await an_activity_of_an_org_without_group(harness)
    await harness.group_with_bot(ORG_GROUP, "城东村团员群", admins=(COUNTY_ADMIN_ID,))
    await bind_via_private(admin, ORG_GROUP, ORG_NAME, "✅ 确认绑定")
    await bind_via_private(admin, ORG_GROUP, "🏛 全县团干部群", "✅ 确认绑定")

    at(harness, local(11, 27, 9))
    await harness.tick()
    assert reminders_in(harness, ORG_GROUP) == []
