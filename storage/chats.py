"""Group chats the bot is in, and what each is bound to."""

from __future__ import annotations

from datetime import datetime

from bot.model.organisation import Binding, ChatRecord
from storage.db import Database, Row, to_db_time, written

_COLUMNS = "id, chat_id, title, type, active, binding, org_id"


def _chat(row: Row) -> ChatRecord:
    return ChatRecord(
        id=row["id"],
        chat_id=row["chat_id"],
        title=row["title"],
        type=row["type"],
        active=bool(row["active"]),
        binding=Binding(row["binding"]) if row["binding"] else None,
        org_id=row["org_id"],
    )


class ChatRepository:
    """Every group message looks its chat up (check-ins, taps on a board), so `get` is cached;
    every write here forgets the cache, and so does a rollback."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_chat_id: dict[int, ChatRecord] = db.row_cache()

    async def upsert(self, chat_id: int, title: str, chat_type: str, active: bool, now: datetime) -> ChatRecord:
        self._by_chat_id.clear()
        await self.db.execute(
            "INSERT INTO chats (chat_id, title, type, active, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, type = excluded.type,"
            " active = excluded.active, updated_at = excluded.updated_at",
            (chat_id, title, chat_type, int(active), to_db_time(now)),
        )
        return written(await self.get(chat_id), f"chat {chat_id}")

    async def get(self, chat_id: int) -> ChatRecord | None:
        if chat_id in self._by_chat_id:
            return self._by_chat_id[chat_id]
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM chats WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        chat = self._by_chat_id[chat_id] = _chat(row)
        return chat

    async def by_id(self, record_id: int | None) -> ChatRecord | None:
        """By the stable surrogate id, which survives a supergroup migration."""
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (record_id,))
        return None if row is None else _chat(row)

    async def hub(self) -> ChatRecord | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM chats WHERE binding = 'hub'")
        return None if row is None else _chat(row)

    async def of_org(self, org_id: int) -> ChatRecord | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM chats WHERE binding = 'org' AND org_id = ?", (org_id,))
        return None if row is None else _chat(row)

    async def bound(self) -> list[ChatRecord]:
        rows = await self.db.fetch_all(f"SELECT {_COLUMNS} FROM chats WHERE binding IS NOT NULL ORDER BY id")
        return [_chat(row) for row in rows]

    async def bind(self, chat_id: int, binding: Binding, org_id: int | None, bound_by: int, now: datetime) -> None:
        self._by_chat_id.clear()
        await self.db.execute(
            "UPDATE chats SET binding = ?, org_id = ?, bound_by = ?, updated_at = ? WHERE chat_id = ?",
            (binding.value, org_id, bound_by, to_db_time(now), chat_id),
        )

    async def unbind(self, chat_id: int, now: datetime) -> None:
        self._by_chat_id.clear()
        await self.db.execute(
            "UPDATE chats SET binding = NULL, org_id = NULL, bound_by = NULL, updated_at = ? WHERE chat_id = ?",
            (to_db_time(now), chat_id),
        )

    async def set_active(self, chat_id: int, active: bool, now: datetime) -> None:
        self._by_chat_id.clear()
        await self.db.execute(
            "UPDATE chats SET active = ?, updated_at = ? WHERE chat_id = ?", (int(active), to_db_time(now), chat_id)
        )

    async def migrate(self, old_chat_id: int, new_chat_id: int, now: datetime) -> bool:
        """Follow a group's upgrade to a supergroup; False when the old id is unknown."""
        self._by_chat_id.clear()
        existing_new = await self.get(new_chat_id)
        if existing_new is not None and existing_new.binding is None:
            # The supergroup's service message may have arrived first and created a bare row.
            await self.db.execute("DELETE FROM chats WHERE chat_id = ?", (new_chat_id,))
        elif existing_new is not None:
            return False
        changed = await self.db.changes(
            "UPDATE chats SET chat_id = ?, type = 'supergroup', updated_at = ? WHERE chat_id = ?",
            (new_chat_id, to_db_time(now), old_chat_id),
        )
        return changed == 1
