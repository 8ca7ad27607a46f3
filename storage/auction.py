"""The live wish auction (认领会): sessions, their lots, and the read models of a session: SQL only.

The records (`AuctionSession`, `LotFilter`, `LotFacets`, `ClaimRow`, `ClaimExplanation`) are
the model's (bot/model/auction.py).

Claims themselves are rows of `wishes` (status, claimed_by_*, session_id), changed through one
conditional UPDATE with its audit entry (storage.wishes' CLAIM_UPDATE and CLAIM_AUDIT):
storage.wishes' `claim` for a claim outside a live session, and `claim_many` here for the live
auction's taps, which makes a whole batch of claims with the same two statements (in a temporary
trigger) in one transaction of a few statements (in a rush, the database thread's statements were
the slowest part of a tap). This module also reads them for the board, the browsing pages and
their filters, the close summary and the claims table. Every query is public: none reads
`wish_private`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from bot.model.auction import (
    CANCELLED,
    CLOSED,
    LIVE,
    AuctionSession,
    ClaimExplanation,
    ClaimRequest,
    ClaimResult,
    ClaimRow,
    LotFacets,
    LotFilter,
)
from bot.model.wish import HELD, Wish, WishCategory, wish_code
from storage.auction_claims import claim_each
from storage.db import Database, Row, from_db_time, to_db_time
from storage.sqlite_claims import claim_batch, enqueue_won_claims
from storage.wishes import _COLUMNS as WISH_COLUMNS
from storage.wishes import _wish as wish_from_row

_HELD = ", ".join(f"'{status.value}'" for status in HELD)
_BUSY = (  # the wish is already a lot of a session that is not over
    "EXISTS (SELECT 1 FROM auction_lots bl JOIN auction_sessions bs ON bs.id = bl.session_id"
    " WHERE bl.wish_id = w.id AND bs.state IN ('scheduled', 'live'))"
)
_SESSION = (
    "s.id, s.title, s.starts_at, s.ends_at, s.state, s.cap_per_org, s.cap_per_person, s.fulfilment_deadline,"
    " s.wave_size, s.wave_every_minutes, s.created_by, s.closed_at,"
    " (SELECT COUNT(*) FROM auction_lots l WHERE l.session_id = s.id) AS lot_count"
)


def _moment(row: Row, column: str) -> datetime:
    """A time the schema requires (NOT NULL)."""
    moment = from_db_time(row[column])
    if moment is None:
        raise ValueError(f"{column} is empty")
    return moment


def _session(row: Row) -> AuctionSession:
    return AuctionSession(
        id=row["id"],
        title=row["title"],
        starts_at=_moment(row, "starts_at"),
        ends_at=_moment(row, "ends_at"),
        state=row["state"],
        cap_per_org=row["cap_per_org"],
        cap_per_person=row["cap_per_person"],
        fulfilment_deadline=_moment(row, "fulfilment_deadline"),
        wave_size=row["wave_size"],
        wave_every_minutes=row["wave_every_minutes"],
        created_by=row["created_by"],
        lot_count=row["lot_count"],
        closed_at=from_db_time(row["closed_at"]),
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _selection_where(
    *,
    collector_org_ids: Sequence[int],
    categories: Sequence[WishCategory],
    min_value: int | None,
    max_value: int | None,
    ids: Sequence[int] | None,
) -> tuple[str, list]:
    clauses = ["w.status = 'open'", f"NOT {_BUSY}"]
    params: list = []
    if collector_org_ids:
        clauses.append(f"w.collector_org_id IN ({_marks(collector_org_ids)})")
        params.extend(collector_org_ids)
    if categories:
        clauses.append(f"w.category IN ({_marks(categories)})")
        params.extend(category.value for category in categories)
    if min_value is not None:
        clauses.append("w.value_yuan >= ?")
        params.append(min_value)
    if max_value is not None:
        clauses.append("w.value_yuan <= ?")
        params.append(max_value)
    if ids is not None:
        clauses.append(f"w.id IN ({_marks(ids) or 'NULL'})")
        params.extend(ids)
    return " WHERE " + " AND ".join(clauses), params


def _lot_where(session_id: int, released: int, lot_filter: LotFilter) -> tuple[str, list]:
    clauses = ["l.session_id = ?", "l.position < ?", "w.status = 'open'"]
    params: list = [session_id, released]
    for clause, value in (
        ("w.category = ?", None if lot_filter.category is None else lot_filter.category.value),
        ("w.collector_org_id = ?", lot_filter.collector_org_id),
        ("w.grade = ?", lot_filter.grade),
        ("w.value_yuan >= ?", lot_filter.min_value),
        ("w.value_yuan <= ?", lot_filter.max_value),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return " WHERE " + " AND ".join(clauses), params


class AuctionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._won_notice: str | None = None
        self._won_kind: tuple[str, int] | None = None
        # Other processes write the same auctions (several instances on PostgreSQL): what the
        # domain keeps in memory must be read again soon (bot/domain/auction/memory.py).
        self.shared = db.engine != "sqlite"

    # ---- choosing the lots ----------------------------------------------------------------
    async def count_selectable(self, **selection: Any) -> int:
        """Open wishes matching the selection that are no lot of a session not yet over."""
        where, params = _selection_where(**selection)
        return int(await self.db.fetch_value(f"SELECT COUNT(*) FROM wishes w{where}", params))

    async def selectable_ids(self, **selection: Any) -> list[int]:
        where, params = _selection_where(**selection)
        rows = await self.db.fetch_all(f"SELECT w.id FROM wishes w{where} ORDER BY w.id", params)
        return [row[0] for row in rows]

    # ---- sessions -------------------------------------------------------------------------
    async def add(
        self,
        *,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        cap_per_org: int | None,
        cap_per_person: int | None,
        fulfilment_deadline: datetime,
        wave_size: int | None,
        wave_every_minutes: int | None,
        created_by: int,
        now: datetime,
        wish_ids: Sequence[int],
    ) -> int:
        session_id = await self.db.execute(
            "INSERT INTO auction_sessions (title, starts_at, ends_at, state, cap_per_org, cap_per_person,"
            " fulfilment_deadline, wave_size, wave_every_minutes, created_by, created_at)"
            " VALUES (?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?)",
            (
                title,
                to_db_time(starts_at),
                to_db_time(ends_at),
                cap_per_org,
                cap_per_person,
                to_db_time(fulfilment_deadline),
                wave_size,
                wave_every_minutes,
                created_by,
                to_db_time(now),
            ),
        )
        await self.db.execute_many(
            "INSERT INTO auction_lots (session_id, wish_id, position) VALUES (?, ?, ?)",
            [(session_id, wish_id, position) for position, wish_id in enumerate(wish_ids)],
        )
        return session_id

    async def get(self, session_id: int) -> AuctionSession | None:
        row = await self.db.fetch_one(f"SELECT {_SESSION} FROM auction_sessions s WHERE s.id = ?", (session_id,))
        return None if row is None else _session(row)

    async def with_lots(self, session_id: int) -> tuple[AuctionSession, dict[int, int]] | None:
        """The session and its lots (wish id → position): what the claim path keeps in memory."""
        session = await self.get(session_id)
        if session is None:
            return None
        rows = await self.db.fetch_all("SELECT wish_id, position FROM auction_lots WHERE session_id = ?", (session_id,))
        return session, {row[0]: row[1] for row in rows}

    async def in_states(self, states: Sequence[str]) -> list[AuctionSession]:
        rows = await self.db.fetch_all(
            f"SELECT {_SESSION} FROM auction_sessions s WHERE s.state IN ({_marks(states)}) ORDER BY s.starts_at, s.id",
            list(states),
        )
        return [_session(row) for row in rows]

    async def due_to_open(self, now: datetime) -> list[AuctionSession]:
        rows = await self.db.fetch_all(
            f"SELECT {_SESSION} FROM auction_sessions s WHERE s.state = 'scheduled' AND s.starts_at <= ?"
            " ORDER BY s.starts_at, s.id",
            (to_db_time(now),),
        )
        return [_session(row) for row in rows]

    async def due_to_close(self, now: datetime) -> list[AuctionSession]:
        rows = await self.db.fetch_all(
            f"SELECT {_SESSION} FROM auction_sessions s WHERE s.state = 'live' AND s.ends_at <= ?"
            " ORDER BY s.ends_at, s.id",
            (to_db_time(now),),
        )
        return [_session(row) for row in rows]

    async def change_state(self, session_id: int, *, expect: str, state: str, now: datetime) -> bool:
        """expect → state in one conditional UPDATE; True for the one caller that did it."""
        stamp = {LIVE: "opened_at", CLOSED: "closed_at", CANCELLED: "closed_at"}[state]
        changed = await self.db.changes(
            f"UPDATE auction_sessions SET state = ?, {stamp} = ? WHERE id = ? AND state = ?",
            (state, to_db_time(now), session_id, expect),
        )
        return changed == 1

    async def set_board(self, session_id: int, chat_record_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE auction_sessions SET board_chat_record_id = ?, board_message_id = ? WHERE id = ?",
            (chat_record_id, message_id, session_id),
        )

    async def board_message(self, session_id: int) -> tuple[int, int] | None:
        """(current Telegram chat id, message id) of the live board, following supergroup upgrades."""
        row = await self.db.fetch_one(
            "SELECT c.chat_id, s.board_message_id FROM auction_sessions s JOIN chats c"
            " ON c.id = s.board_chat_record_id WHERE s.id = ? AND s.board_message_id IS NOT NULL",
            (session_id,),
        )
        return None if row is None else (row[0], row[1])

    # ---- the claim path -------------------------------------------------------------------
    async def holders(self, session_id: int) -> list[tuple[int, tuple[int, int]]]:
        """(wish, (organisation, person)) for every lot of the session held now."""
        rows = await self.db.fetch_all(
            "SELECT w.id, w.claimed_by_org, w.claimed_by_user FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            f" WHERE l.session_id = ? AND w.session_id = ? AND w.status IN ({_HELD})",
            (session_id, session_id),
        )
        return [(row[0], (row[1], row[2])) for row in rows]

    async def cadre_ids(self) -> list[int]:
        """Everyone holding a role in an organisation now: the people who may claim."""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT user_id FROM memberships WHERE ended_at IS NULL ORDER BY user_id"
        )
        return [row[0] for row in rows]

    def queue_winners_notice(self, kind: str, priority: int) -> None:
        """From now on each won claim of `claim_many` queues its winner's private message."""
        self._won_notice = enqueue_won_claims(kind, int(priority))
        self._won_kind = (kind, int(priority))

    async def claim_many(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult]:
        """Each request as storage.wishes' `claim` would do it (one conditional UPDATE with the
        caps, and the audit entry of a win), all in one transaction, in the order given: of two
        requests for one wish the first wins, and the caps count the claims made before in the batch.

        SQLite runs the batch as a handful of statements on its thread (storage/sqlite_claims.py);
        PostgreSQL claims one statement at a time under the session's advisory lock, since other
        instances claim at the same time (storage/auction_claims.py).

        Once `queue_winners_notice` was called, each winner's private message is queued in the
        outbox in the same transaction, so no committed win goes untold, whatever happens to the
        process after the commit."""
        outcomes: list[dict[str, Any]]
        if self.db.engine == "sqlite":
            outcomes = await claim_batch(self.db, requests, self._won_notice)
        else:
            outcomes = await claim_each(self.db, requests, self._won_kind)
        outcomes.sort(key=lambda outcome: outcome["seq"])
        return [
            ClaimResult(True, wish=wish_from_row(cast(Row, outcome)))
            if outcome["won"]
            else ClaimResult(False, why=_explanation(outcome if outcome["id"] is not None else None))
            for outcome in outcomes
        ]

    # ---- the board, browsing, the summary -------------------------------------------------
    async def counts(self, session_id: int) -> tuple[int, int]:
        """(lots claimed in this session and still held, lots still open)."""
        row = await self.db.fetch_one(
            f"SELECT COALESCE(SUM(CASE WHEN w.status IN ({_HELD}) AND w.session_id = l.session_id"
            " THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN w.status = 'open' THEN 1 ELSE 0 END), 0)"
            " FROM auction_lots l JOIN wishes w ON w.id = l.wish_id WHERE l.session_id = ?",
            (session_id,),
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def latest(self, session_id: int, limit: int) -> list[tuple[str, str]]:
        """(code, organisation) of the newest claims still held, newest first."""
        rows = await self.db.fetch_all(
            "SELECT w.id, o.name FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            " JOIN organisations o ON o.id = w.claimed_by_org"
            f" WHERE l.session_id = ? AND w.session_id = l.session_id AND w.status IN ({_HELD})"
            " ORDER BY w.claimed_at DESC, w.id DESC LIMIT ?",
            (session_id, limit),
        )
        return [(wish_code(row[0]), row[1]) for row in rows]

    async def per_org(self, session_id: int, limit: int | None = None) -> list[tuple[str, int]]:
        """(organisation, claims held) for the session, most first, then by name."""
        rows = await self.db.fetch_all(
            "SELECT o.name, COUNT(*) AS held FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            " JOIN organisations o ON o.id = w.claimed_by_org"
            f" WHERE l.session_id = ? AND w.session_id = l.session_id AND w.status IN ({_HELD})"
            " GROUP BY w.claimed_by_org, o.name ORDER BY held DESC, o.name" + ("" if limit is None else " LIMIT ?"),
            (session_id,) if limit is None else (session_id, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def open_lot_ids(self, session_id: int) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT w.id FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            " WHERE l.session_id = ? AND w.status = 'open' ORDER BY l.position",
            (session_id,),
        )
        return [row[0] for row in rows]

    async def count_lots(self, session_id: int, released: int, lot_filter: LotFilter) -> int:
        where, params = _lot_where(session_id, released, lot_filter)
        return int(
            await self.db.fetch_value(
                f"SELECT COUNT(*) FROM auction_lots l JOIN wishes w ON w.id = l.wish_id{where}", params
            )
        )

    async def lots(
        self, session_id: int, released: int, lot_filter: LotFilter, *, limit: int, offset: int
    ) -> list[Wish]:
        """Released lots still open, in the order of release."""
        where, params = _lot_where(session_id, released, lot_filter)
        rows = await self.db.fetch_all(
            f"SELECT {WISH_COLUMNS} FROM auction_lots l JOIN wishes w ON w.id = l.wish_id{where}"
            " ORDER BY l.position LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [wish_from_row(row) for row in rows]

    async def facets(self, session_id: int, released: int) -> LotFacets:
        """The collecting organisations and grades among the released lots still open: one
        aggregating query (a row per organisation and grade present)."""
        where, params = _lot_where(session_id, released, LotFilter())
        rows = await self.db.fetch_all(
            "SELECT w.collector_org_id, o.name, w.grade FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            f" JOIN organisations o ON o.id = w.collector_org_id{where} GROUP BY w.collector_org_id, o.name, w.grade",
            params,
        )
        collectors = sorted({(row[0], row[1]) for row in rows}, key=lambda item: (item[1], item[0]))
        return LotFacets(collectors=tuple(collectors), grades=tuple(sorted({row[2] for row in rows})))

    async def claims(self, session_id: int) -> list[ClaimRow]:
        """The claims made in the session and still held, in the order they were made."""
        rows = await self.db.fetch_all(
            "SELECT w.id, w.alias, w.grade, w.text, w.value_yuan, o.name AS org_name,"
            " COALESCE(p.display_name, '') AS display_name, w.claimed_at"
            " FROM auction_lots l JOIN wishes w ON w.id = l.wish_id"
            " JOIN organisations o ON o.id = w.claimed_by_org"
            " LEFT JOIN people p ON p.user_id = w.claimed_by_user"
            f" WHERE l.session_id = ? AND w.session_id = l.session_id AND w.status IN ({_HELD})"
            " ORDER BY w.claimed_at, w.id",
            (session_id,),
        )
        return [
            ClaimRow(
                code=wish_code(row["id"]),
                alias_grade=f"{row['alias']} · {row['grade']}",
                text=row["text"],
                value_yuan=row["value_yuan"],
                org_name=row["org_name"],
                user_display_name=row["display_name"],
                claimed_at=_moment(row, "claimed_at"),
            )
            for row in rows
        ]


def _explanation(row: dict[str, Any] | None) -> ClaimExplanation:
    if row is None:
        return ClaimExplanation(None, None, 0, 0)
    # An outcome read back as JSON has the wish's columns under their names, as a Row has.
    return ClaimExplanation(wish_from_row(cast(Row, row)), row["holder_name"], row["org_held"], row["user_held"])
