"""The outbox: messages queued with the state change that calls for them, until sent or given up.

`enqueue` runs inside the caller's transaction; the auction's batched claim makes the same insert
in the batch's own transaction (storage/sqlite_claims.py, storage/auction_claims.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime

from bot.model.outbox import Notice, OutboxMessage, OutboxState, ParamValue, Priority
from storage.db import Database, Row, db_time, from_db_time, to_db_time

_COLUMNS = (
    "id, idempotency_key, kind, chat_id, params, priority, state, attempts, next_attempt_at, created_at,"
    " finished_at, message_id, detail"
)
_INSERT = (
    "INSERT INTO outbox (idempotency_key, kind, chat_id, params, priority, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
)
DETAIL_LENGTH = 300


def _message(row: Row) -> OutboxMessage:
    params: Mapping[str, ParamValue] = json.loads(row["params"])
    return OutboxMessage(
        id=row["id"],
        key=row["idempotency_key"],
        kind=row["kind"],
        chat_id=row["chat_id"],
        params=params,
        priority=Priority(row["priority"]),
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=db_time(row["next_attempt_at"]),
        created_at=db_time(row["created_at"]),
        finished_at=from_db_time(row["finished_at"]),
        message_id=row["message_id"],
        detail=row["detail"],
    )


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, notice: Notice, now: datetime) -> bool:
        """Queue the message unless its key is queued already; True when it was new."""
        changed = await self.db.changes(
            _INSERT,
            (
                notice.key,
                notice.kind,
                notice.chat_id,
                json.dumps(dict(notice.params), ensure_ascii=False, sort_keys=True),
                int(notice.priority),
                to_db_time(now),
                to_db_time(now),
            ),
        )
        return changed == 1

    async def due(self, now: datetime, limit: int, *, skip_chats: Collection[int] = ()) -> list[OutboxMessage]:
        """Pending messages whose time has come, most urgent first, then oldest first."""
        skip, params = _other_chats(skip_chats)
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?{skip}"
            " ORDER BY priority, id LIMIT ?",
            (to_db_time(now), *params, limit),
        )
        return [_message(row) for row in rows]

    async def next_attempt(self, *, skip_chats: Collection[int] = ()) -> datetime | None:
        """When the earliest pending message (to a chat not skipped) may be tried; None: none."""
        skip, params = _other_chats(skip_chats)
        value = await self.db.fetch_value(
            f"SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'{skip}", params
        )
        return from_db_time(value)

    async def get(self, message_id: int) -> OutboxMessage | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,))
        return None if row is None else _message(row)

    async def by_key(self, key: str) -> OutboxMessage | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM outbox WHERE idempotency_key = ?", (key,))
        return None if row is None else _message(row)

    async def pending_count(self) -> int:
        return int(await self.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE state = 'pending'"))

    async def finish(
        self,
        message_id: int,
        state: OutboxState,
        now: datetime,
        *,
        sent_id: int | None = None,
        detail: str | None = None,
    ) -> bool:
        """A pending message ends (sent, skipped or given up); False if it was not pending."""
        changed = await self.db.changes(
            "UPDATE outbox SET state = ?, finished_at = ?, message_id = ?, detail = ?, attempts = attempts + 1"
            " WHERE id = ? AND state = 'pending'",
            (state.value, to_db_time(now), sent_id, _short(detail), message_id),
        )
        return changed == 1

    async def retry_later(self, message_id: int, at: datetime, detail: str) -> None:
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, detail = ?"
            " WHERE id = ? AND state = 'pending'",
            (to_db_time(at), _short(detail), message_id),
        )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: its pending messages go to the new chat id."""
        return await self.db.changes(
            "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'", (new_chat_id, old_chat_id)
        )

    async def purge_finished(self, before: datetime) -> int:
        return await self.db.changes(
            "DELETE FROM outbox WHERE state <> 'pending' AND finished_at < ?", (to_db_time(before),)
        )


def _other_chats(skip_chats: Collection[int]) -> tuple[str, list[int]]:
    """A condition leaving out `skip_chats` (held by their limits), with its parameters."""
    chats = list(skip_chats)
    if not chats:
        return "", []
    return f" AND chat_id NOT IN ({', '.join('?' for _ in chats)})", chats


def _short(detail: str | None) -> str | None:
    return None if detail is None else detail[:DETAIL_LENGTH]
