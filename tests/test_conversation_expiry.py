"""Conversations expire: a /newwish left half-way loses what was typed into it (the child's real
name, the guardian's phone) after `[conversations] expire_after_hours` idle (24 by default), and
whoever comes back is told, once, that it expired and how to start again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.config import ConversationsConfig
from bot.model.organisation import OrgKind, Role
from handlers.maintenance import EXPIRE_JOB, expire_conversations
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as config_for

TEACHER = 300001
SCHOOL = "县第一小学"
REAL_NAME, PHONE = "王小明", "13800138000"
EXPIRED_NOTICE = "已超过 24 小时没有回复，已自动结束"


class JobContext:
    def __init__(self, app) -> None:
        self.application = app


async def a_teacher(harness):
    harness.admin()
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, SCHOOL, OrgKind.SCHOOL, None)
    teacher = harness.user(TEACHER, "李老师")
    await harness.services.people.seen(TEACHER, "李老师", None, "zh-hans", private=True)
    await harness.services.membership.memberships.grant(
        org.id, TEACHER, Role.ORG_ADMIN, COUNTY_ADMIN_ID, harness.clock.now()
    )
    return teacher


async def half_a_wish(teacher) -> None:
    """/newwish up to the guardian's phone: the real name and phone are in the conversation."""
    await teacher.send("/newwish")
    for text in ("小明", "三年级", "一个篮球"):
        await teacher.send(text)
    await teacher.tap("体育用品")
    await teacher.send("80")
    await teacher.tap("⏭ 跳过")
    await teacher.tap("✅ 是，监护人已同意")
    await teacher.send(REAL_NAME)
    await teacher.send(PHONE)
    assert "住址" in teacher.last_reply().text


def database_bytes(harness) -> bytes:
    """The database file and its WAL, as they are on disk."""
    from pathlib import Path

    main = Path(harness.config.storage.path)
    return b"".join(path.read_bytes() for path in main.parent.iterdir() if path.name.startswith(main.name))


async def stored_conversations(harness) -> list[tuple]:
    rows = await harness.services.db.fetch_all("SELECT user_id, flow, step, data FROM conversations")
    return [tuple(row) for row in rows]


async def test_an_abandoned_wish_loses_the_childs_details_and_the_teacher_is_told(harness):
    teacher = await a_teacher(harness)
    await half_a_wish(teacher)
    [(_, _, _, data)] = await stored_conversations(harness)
    assert REAL_NAME in data and PHONE in data

    harness.clock.advance(hours=24, seconds=1)
    await expire_conversations(JobContext(harness.app))
    [(user_id, flow, step, data)] = await stored_conversations(harness)
    assert (user_id, flow, step, data) == (TEACHER, "", "", "{}")  # the tombstone: no data left
    assert PHONE.encode() not in database_bytes(harness)  # gone from the files too, bot still running

    await teacher.send("城关镇幸福路 1 号")
    notice = teacher.last_reply().text
    assert EXPIRED_NOTICE in notice and "/newwish" in notice and "已删除" in notice
    assert await stored_conversations(harness) == []
    assert (await harness.services.wishes.find()).total == 0
    await teacher.send("城关镇幸福路 1 号")  # told once: the next message is an ordinary one
    assert EXPIRED_NOTICE not in teacher.last_reply().text


async def test_expiry_holds_to_the_minute_without_waiting_for_the_sweep(harness):
    teacher = await a_teacher(harness)
    await half_a_wish(teacher)
    harness.clock.advance(hours=23, minutes=59)
    await expire_conversations(JobContext(harness.app))
    await teacher.send("城关镇幸福路 1 号")  # still within the day: taken as the answer
    assert "备注" in teacher.last_reply().text or "请核对" in teacher.last_reply().text
    harness.clock.advance(hours=24)
    await teacher.send("鞋码 35")  # the sweep has not run: reading it expires it
    assert EXPIRED_NOTICE in teacher.last_reply().text
    assert await stored_conversations(harness) == []
    await expire_conversations(JobContext(harness.app))  # the next sweep clears the WAL of it
    assert PHONE.encode() not in database_bytes(harness)


async def test_a_tap_on_an_expired_conversations_button_is_told_too(harness):
    teacher = await a_teacher(harness)
    await teacher.send("/newwish")
    for text in ("小明", "三年级", "一个篮球"):
        await teacher.send(text)
    harness.clock.advance(days=2)
    await expire_conversations(JobContext(harness.app))
    await teacher.tap("体育用品")
    assert EXPIRED_NOTICE in teacher.last_reply().text
    assert await stored_conversations(harness) == []


async def test_cancel_after_expiry_says_there_is_nothing_to_cancel(harness):
    teacher = await a_teacher(harness)
    await half_a_wish(teacher)
    harness.clock.advance(days=2)
    await expire_conversations(JobContext(harness.app))
    await teacher.send("/cancel")
    assert "当前没有进行中的操作" in teacher.last_reply().text
    assert await stored_conversations(harness) == []


async def test_tombstones_are_forgotten_after_thirty_days(harness):
    teacher = await a_teacher(harness)
    await half_a_wish(teacher)
    harness.clock.advance(days=2)
    await expire_conversations(JobContext(harness.app))
    assert len(await stored_conversations(harness)) == 1
    harness.clock.advance(days=31)
    await expire_conversations(JobContext(harness.app))
    assert await stored_conversations(harness) == []


async def test_the_sweep_is_a_named_job_every_quarter_hour(harness):
    [job] = harness.app.job_queue.get_jobs_by_name(EXPIRE_JOB)
    assert job.job.trigger.interval.total_seconds() == 15 * 60


@pytest.fixture
async def short_lived(tmp_path, fake):
    config = replace(config_for(tmp_path), conversations=ConversationsConfig(expire_after_hours=2))
    harness = Harness(config, fake, FakeClock())
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == []


async def test_the_expiry_is_configurable(short_lived):
    harness = short_lived
    teacher = await a_teacher(harness)
    await half_a_wish(teacher)
    harness.clock.advance(hours=2)
    await teacher.send("城关镇幸福路 1 号")
    assert "已超过 2 小时没有回复" in teacher.last_reply().text
