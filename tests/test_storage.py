"""The database: migrations in order, transactions, WAL, foreign keys, online backup."""

from __future__ import annotations

import sqlite3

import pytest

from bot.cli import main
from bot.model.organisation import OrgKind
from storage.db import Database, StorageError, split_statements
from storage.organisations import OrganisationRepository
from tests.harness import FakeClock


async def test_migrations_apply_once_and_pragmas_hold(tmp_path):
    db = Database(tmp_path / "sub" / "bot.db")
    await db.open()
    assert await db.schema_version() >= 1
    assert (await db.fetch_value("PRAGMA journal_mode")) == "wal"
    assert (await db.fetch_value("PRAGMA foreign_keys")) == 1
    assert await db.migrate() == []  # nothing left to apply
    await db.close()


async def test_a_migration_that_arrives_after_a_later_one_is_still_applied(tmp_path, monkeypatch):
    """Features built side by side land with interleaved numbers: a database migrated without
    0010 (its branch not merged yet) gets 0010 once it arrives, though 0011 and 0012 are in."""
    import storage.db as storage_db

    every = storage_db.available_migrations()
    assert any(version == 10 for version, _, _ in every)
    monkeypatch.setattr(storage_db, "available_migrations", lambda: [m for m in every if m[0] != 10])
    db = Database(tmp_path / "bot.db")
    await db.open()
    assert await db.schema_version() == every[-1][0]
    assert await db.fetch_value("SELECT COUNT(*) FROM sqlite_master WHERE name = 'visit_campaigns'") == 0
    monkeypatch.setattr(storage_db, "available_migrations", lambda: every)
    assert await db.migrate() == [f"{v:04d}_{n}" for v, n, _ in every if v == 10]
    assert await db.fetch_value("SELECT COUNT(*) FROM sqlite_master WHERE name = 'visit_campaigns'") == 1
    assert await db.migrate() == []
    await db.close()


async def test_transaction_rolls_back_on_error(tmp_path):
    db = Database(tmp_path / "bot.db")
    await db.open()
    orgs = OrganisationRepository(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await orgs.add("县教育局团委", OrgKind.COUNTY_LEVEL, None, 3, FakeClock().now())
            raise RuntimeError("boom")
    assert await orgs.list() == []
    await db.close()


async def test_a_task_started_inside_a_transaction_does_not_join_it(tmp_path):
    """A task started from inside a transaction (a scheduler job armed by a statement) copies the
    context: it must wait for the transaction, never read its uncommitted rows nor write into it,
    and later transactions of its own must be real ones."""
    import asyncio

    db = Database(tmp_path / "bot.db")
    await db.open()
    orgs = OrganisationRepository(db)
    seen: list[int] = []

    async def count_then_write() -> None:
        seen.append(len(await orgs.list()))
        async with db.transaction():
            await orgs.add("县教育局团委", OrgKind.COUNTY_LEVEL, None, 3, FakeClock().now())

    with pytest.raises(RuntimeError):
        async with db.transaction():
            await orgs.add("城关镇团委", OrgKind.TOWNSHIP, None, 1, FakeClock().now())
            task = asyncio.create_task(count_then_write())
            await asyncio.sleep(0.05)
            assert not task.done()  # waiting for the lock, not inside this transaction
            raise RuntimeError("rolled back")
    await task
    assert seen == [0]  # the rolled-back row was never visible to it
    assert [org.name for org in await orgs.list()] == ["县教育局团委"]
    await db.close()


async def test_foreign_keys_are_enforced(tmp_path):
    db = Database(tmp_path / "bot.db")
    await db.open()
    with pytest.raises(sqlite3.IntegrityError):
        await OrganisationRepository(db).add("X", OrgKind.OTHER, 999, 0, FakeClock().now())
    await db.close()


async def test_backup_is_a_complete_copy_while_open(tmp_path):
    db = Database(tmp_path / "bot.db")
    await db.open()
    await OrganisationRepository(db).add("城关镇团委", OrgKind.TOWNSHIP, None, 1, FakeClock().now())
    await db.backup(tmp_path / "copy.db")
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT name FROM organisations").fetchall() == [("城关镇团委",)]
    copy.close()
    await db.close()


def test_cli_migrate_and_backup(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data" / "b.db"}"\n', encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    assert "applied: 0001_foundation" in capsys.readouterr().out
    assert main(["migrate", "--config", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "b2.db"), "--config", str(config)]) == 0
    assert (tmp_path / "b2.db").exists()
    assert main(["backup", str(tmp_path / "b2.db"), "--config", str(config)]) == 3
    assert "already exists" in capsys.readouterr().err


def test_statement_splitter_keeps_trigger_bodies_whole():
    sql = "CREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    assert len(split_statements(sql)) == 2


async def test_each_statement_is_one_trip_to_the_database_thread(tmp_path):
    db = Database(tmp_path / "bot.db")
    await db.open()
    orgs = OrganisationRepository(db)
    trips: list[object] = []
    original = db.conn._execute

    async def counting(function, *args, **kwargs):
        trips.append(function)
        return await original(function, *args, **kwargs)

    db.conn._execute = counting
    try:
        await orgs.add("城关镇团委", OrgKind.TOWNSHIP, None, 1, FakeClock().now())
        trips.clear()
        assert await db.fetch_value("SELECT COUNT(*) FROM organisations") == 1
        assert len(trips) == 1
        assert [row[0] for row in await db.fetch_all("SELECT name FROM organisations")] == ["城关镇团委"]
        assert await db.changes("UPDATE organisations SET name = ? WHERE name = ?", ("城关镇", "城关镇团委")) == 1
        assert len(trips) == 3
    finally:
        del db.conn._execute
    await db.close()


def test_stored_times_read_back_exactly():
    from datetime import UTC, datetime

    from storage.db import from_db_time, to_db_time

    moment = datetime(2026, 11, 26, 19, 7, 29, tzinfo=UTC)
    assert from_db_time(to_db_time(moment)) == moment and from_db_time(to_db_time(moment)).tzinfo is UTC
    assert from_db_time(None) is None


# ---- purged means gone from the file ------------------------------------------------------------
SECRETS = ("王小明的真实姓名", "13912345678", "城关镇幸福路一号院")


async def _purge_the_bots_way(tmp_path, *, secure_delete: bool) -> bytes:
    """A child's details typed into a conversation and stored on a wish, then purged as the bot
    purges them (the conversation expires; the wish's details 90 days after confirmation); the
    database closed; the raw bytes of every file it left."""
    from datetime import timedelta

    from bot.domain.services import Services
    from bot.domain.wishes import WishDraft
    from bot.model.organisation import Role
    from bot.model.wish import PrivateDetails, WishCategory
    from handlers.i18n import plain_text_renderer
    from tests.harness import COUNTY_ADMIN_ID
    from tests.harness import test_config as config_for

    teacher, donor = 300001, 300002
    real_name, phone, address = SECRETS
    config = config_for(tmp_path)
    clock = FakeClock()
    db = Database(config.storage.path)
    services = Services.build(config, db, clock, render=plain_text_renderer("zh-Hans"))
    await services.open()
    if not secure_delete:
        await db.execute("PRAGMA secure_delete = OFF")  # SQLite's upstream default
    school = await services.orgs.create(COUNTY_ADMIN_ID, "县第一小学", OrgKind.SCHOOL, None)
    bureau = await services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    for user_id, org in ((teacher, school), (donor, bureau)):
        await services.people.seen(user_id, f"干部{user_id}", None, "zh-hans", private=True)
        await services.membership.memberships.grant(org.id, user_id, Role.CADRE, COUNTY_ADMIN_ID, clock.now())
    await services.conversations.save(
        teacher, "nw", "address", {"alias": "小明", "real_name": real_name, "guardian_phone": phone}, clock.now()
    )
    draft = WishDraft(
        collector_org_id=school.id,
        alias="小明",
        grade="三年级",
        text="一个篮球",
        category=WishCategory.SPORTS,
        value_yuan=80,
        consent=True,
        private=PrivateDetails(real_name=real_name, guardian_phone=phone, address=address),
    )
    wish = await services.wishes.add(teacher, draft)
    await db.close()
    stored = (tmp_path / "test.db").read_bytes()
    assert all(secret.encode() in stored for secret in SECRETS)  # the check below can see them

    await db.open()
    if not secure_delete:
        await db.execute("PRAGMA secure_delete = OFF")
    assert await services.wishes.claim(donor, bureau.id, wish.id, clock.now(), deadline=clock.now() + timedelta(days=9))
    await services.wishes.mark_delivered(donor, wish.id, "photo-file-id")
    await services.wishes.confirm_received(teacher, wish.id)
    clock.advance(days=91)
    assert (await services.conversations.sweep()).expired == 1
    assert await services.wishes.purge_private(clock.now()) == 1
    await db.close()
    return b"".join(path.read_bytes() for path in sorted(tmp_path.iterdir()) if path.name.startswith("test.db"))


async def test_purged_private_details_are_gone_from_the_database_file(tmp_path):
    raw = await _purge_the_bots_way(tmp_path, secure_delete=True)
    assert [secret for secret in SECRETS if secret.encode() in raw] == []


async def test_without_secure_delete_the_purged_details_would_stay_in_the_file(tmp_path):
    """Why the bot sets the pragma itself: with SQLite's upstream default the bytes survive."""
    raw = await _purge_the_bots_way(tmp_path, secure_delete=False)
    assert [secret for secret in SECRETS if secret.encode() in raw] != []


async def test_every_connection_has_secure_delete_on(tmp_path):
    db = Database(tmp_path / "bot.db")
    await db.open()
    assert await db.fetch_value("PRAGMA secure_delete") == 1
    await db.close()


async def test_a_second_bot_on_the_same_file_is_refused_and_a_backup_is_not(tmp_path):
    """One bot per SQLite file (several instances need PostgreSQL): a second writer is refused
    with the fix; a reader (a backup) is not; the lock goes with the first one's close."""
    first = Database(tmp_path / "bot.db")
    await first.open()
    second = Database(tmp_path / "bot.db")
    with pytest.raises(StorageError, match="another league-bot is using this database"):
        await second.open()
    reader = Database(tmp_path / "bot.db")
    await reader.open(migrate=False, writable=False)
    await reader.close()
    await first.close()
    await second.open()  # the first is gone: its lock with it
    await second.close()
