"""People repository: everyone who has talked to the bot."""

from __future__ import annotations

from datetime import datetime

from bot.model.organisation import Person
from storage.db import Database, Row, to_db_time

_COLUMNS = "user_id, display_name, username, real_name, phone, language, telegram_language, promoted_admin, started_at"


def _person(row: Row) -> Person:
    return Person(
        user_id=row["user_id"],
        display_name=row["display_name"],
        username=row["username"],
        real_name=row["real_name"],
        phone=row["phone"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        promoted_admin=bool(row["promoted_admin"]),
        started=row["started_at"] is not None,
    )


class PeopleRepository:
    """Every write goes through here, so a per-process cache of people stays true; every
    update (a tap in a live auction among them) starts by looking its sender up."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[int, Person] = db.row_cache()

    async def upsert_seen(
        self,
        user_id: int,
        display_name: str,
        username: str | None,
        telegram_language: str | None,
        now: datetime,
        *,
        started: bool,
    ) -> None:
        """Record or refresh what Telegram tells us about a user; `started` once they wrote privately."""
        known = await self.get(user_id)
        if (
            known is not None
            and (known.display_name, known.username, known.telegram_language)
            == (display_name, username, telegram_language)
            and (known.started or not started)
        ):
            return  # nothing new: no write
        self._cache.pop(user_id, None)
        await self.db.execute(
            "INSERT INTO people (user_id, display_name, username, telegram_language, started_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
            " username = excluded.username, telegram_language = excluded.telegram_language,"
            " started_at = COALESCE(people.started_at, excluded.started_at)",
            (user_id, display_name, username, telegram_language, to_db_time(now) if started else None, to_db_time(now)),
        )

    async def get(self, user_id: int) -> Person | None:
        if user_id in self._cache:
            return self._cache[user_id]
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM people WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        person = self._cache[user_id] = _person(row)
        return person

    async def many(self, user_ids: list[int]) -> dict[int, Person]:
        if not user_ids:
            return {}
        marks = ", ".join("?" for _ in user_ids)
        rows = await self.db.fetch_all(f"SELECT {_COLUMNS} FROM people WHERE user_id IN ({marks})", user_ids)
        return {row["user_id"]: _person(row) for row in rows}

    async def by_username(self, username: str) -> Person | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM people WHERE LOWER(username) = LOWER(?)", (username,))
        return None if row is None else _person(row)

    async def set_language(self, user_id: int, language: str | None) -> None:
        self._cache.pop(user_id, None)
        await self.db.execute("UPDATE people SET language = ? WHERE user_id = ?", (language, user_id))

    async def set_promoted_admin(self, user_id: int, promoted: bool) -> None:
        self._cache.pop(user_id, None)
        await self.db.execute("UPDATE people SET promoted_admin = ? WHERE user_id = ?", (int(promoted), user_id))

    async def promoted_admins(self) -> list[int]:
        rows = await self.db.fetch_all("SELECT user_id FROM people WHERE promoted_admin = 1 ORDER BY user_id")
        return [row["user_id"] for row in rows]

    async def set_private_details(self, user_id: int, real_name: str | None, phone: str | None) -> None:
        self._cache.pop(user_id, None)
        await self.db.execute(
            "UPDATE people SET real_name = ?, phone = ? WHERE user_id = ?", (real_name, phone, user_id)
        )
