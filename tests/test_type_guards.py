"""The checks behind the precise types: where a value the types promise is missing (a row gone,
a reminder without a due time, an update without the part a handler reads), a clear error names
what is missing instead of an AttributeError on None somewhere later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from telegram import Update

from bot.domain.errors import DomainError
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind
from bot.model.reminder import ReminderRecord
from handlers.context import BotContext, MissingUpdatePart, Ui
from storage.activities import ActivityRepository
from storage.db import Database, StorageError, db_time, from_db_time, to_db_time, written
from storage.organisations import OrganisationRepository
from storage.reports import DeedRepository

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "bot.db")
    await database.open()
    yield database
    await database.close()


async def _activity(db: Database) -> tuple[int, int]:
    org = await OrganisationRepository(db).add("城关镇团委", OrgKind.TOWNSHIP, None, 1, NOW)
    activity = await ActivityRepository(db).add(
        org_id=org.id,
        title="敬老院探访",
        category=Category.VISIT,
        starts_at=NOW - timedelta(hours=3),
        ends_at=NOW - timedelta(hours=1),
        place=Place("敬老院"),
        slots=10,
        expected_served=20,
        counts_as_deed=True,
        also_hub=False,
        created_by=7,
        now=NOW,
    )
    return org.id, activity.id


def test_written_passes_a_row_through_and_refuses_a_missing_one():
    assert written(5, "organisation 5") == 5
    with pytest.raises(StorageError, match="organisation 5 is missing right after it was written"):
        written(None, "organisation 5")


def test_time_columns_round_trip():
    assert db_time(to_db_time(NOW)) == NOW
    assert from_db_time(to_db_time(NOW)) == NOW
    assert from_db_time(None) is None
    assert db_time("2026-11-26T02:00:00Z").tzinfo is UTC


async def test_an_activitys_deed_recorded_twice_gives_back_the_first(db):
    org_id, activity_id = await _activity(db)
    deeds = DeedRepository(db)
    first, made = await deeds.add_of_activity(
        org_id=org_id, title="敬老院探访", done_on=date(2026, 11, 26), activity_id=activity_id, created_by=7, now=NOW
    )
    assert made and first.activity_id == activity_id
    again, made = await deeds.add_of_activity(
        org_id=org_id, title="另一个标题", done_on=date(2026, 11, 27), activity_id=activity_id, created_by=8, now=NOW
    )
    assert not made and again == first


async def test_a_direct_deed_has_no_activity(db):
    org_id, _ = await _activity(db)
    deed = await DeedRepository(db).add(
        org_id=org_id,
        title="修缮活动室",
        done_on=date(2026, 11, 1),
        evidence_file_id=None,
        note="周末",
        created_by=7,
        now=NOW,
    )
    assert deed.activity_id is None and deed.note == "周末"


async def test_an_activity_edit_stores_each_column_as_its_type_and_refuses_the_wrong_type(db):
    _, activity_id = await _activity(db)
    repo = ActivityRepository(db)
    later = NOW + timedelta(days=1)
    await repo.update(activity_id, slots=12, counts_as_deed=False, starts_at=later, ends_at=later + timedelta(hours=2))
    activity = await repo.get(activity_id)
    assert activity is not None
    assert (activity.slots, activity.counts_as_deed, activity.starts_at) == (12, False, later)
    with pytest.raises(TypeError, match="time column"):
        await repo.update(activity_id, starts_at="tomorrow")
    with pytest.raises(TypeError, match="integer column"):
        await repo.update(activity_id, slots="12")


def test_a_reminder_without_a_next_occurrence_says_so():
    reminder = ReminderRecord(
        id=3,
        subject_key=None,
        target_kind="chat",
        target_id=1,
        text="",
        content_kind="text",
        schedule={},
        urgent=False,
        state="done",
        next_due_at=None,
        created_by=None,
    )
    with pytest.raises(ValueError, match="reminder 3 \\(done\\) has no next occurrence"):
        _ = reminder.due_at
    assert ReminderRecord(**{**reminder.__dict__, "next_due_at": NOW}).due_at == NOW


async def test_known_refuses_someone_the_bot_never_saw(harness):
    await harness.user(200001, "小李").send("/start")
    assert (await harness.services.people.known(200001)).display_name == "小李"
    with pytest.raises(DomainError) as refused:
        await harness.services.people.known(999999)
    assert refused.value.key == "people.unknown"


async def test_ui_names_the_part_an_update_lacks(harness):
    update = Update(update_id=1)  # no sender, no chat, no message, no button
    ui = Ui(update, BotContext(harness.app))
    for part, what in (
        ("user_id", "sender"),
        ("chat_id", "chat"),
        ("callback_data", "callback query"),
        ("message", "message"),
    ):
        with pytest.raises(MissingUpdatePart, match=f"this update has no {what}:"):
            getattr(ui, part)
