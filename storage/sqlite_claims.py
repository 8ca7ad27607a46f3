"""SQLite's fast path for a batch of auction claims (`AuctionRepository.claim_many`): SQL only
SQLite runs (a temporary table's trigger, `changes()`, json_group_array), on the database thread.

Made for a rush, when the event loop is busy and the database thread waits for the interpreter
each time SQLite hands it back: the batch is a handful of statements whatever its size. The
requests go into a temporary table in one INSERT, whose trigger makes each claim in turn
(`_CLAIM_TRIGGER`, the same rule text as storage.wishes' CLAIM_UPDATE and CLAIM_AUDIT); one
SELECT reads every outcome back as one JSON text. PostgreSQL takes the engine-neutral path,
storage/auction_claims.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

from bot.model.auction import ClaimRequest
from storage.db import Database, to_db_time
from storage.wishes import _COLUMNS as WISH_COLUMNS
from storage.wishes import CLAIM_AUDIT, CLAIM_UPDATE, HELD_BY_ORG, HELD_BY_USER

# The winners of a batch of auction claims (the temporary table auction_claim_requests, column
# `won`), each told in private: kind `{kind}`, key "<kind>:<wish>:<claim time>" (a wish claimed
# again after a release is another message), as `Notice` would be stored.
ENQUEUE_WON_CLAIMS = (
    "INSERT INTO outbox (idempotency_key, kind, chat_id, params, priority, next_attempt_at, created_at)"
    " SELECT '{kind}:' || r.wish_id || ':' || r.at, '{kind}', r.user_id,"
    " json_object('wish', r.wish_id, 'org', r.org_id), {priority}, r.at, r.at"
    " FROM auction_claim_requests r WHERE r.won = 1"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)


def enqueue_won_claims(kind: str, priority: int) -> str:
    """The statement that queues each winner's private message of the batch just made."""
    return ENQUEUE_WON_CLAIMS.format(kind=kind, priority=int(priority))


async def claim_batch(db: Database, requests: Sequence[ClaimRequest], notices: str | None) -> list[dict[str, Any]]:
    """The outcomes, in no particular order (each carries its `seq`)."""
    rows: list[object] = []
    for seq, request in enumerate(requests):
        rows.extend(_request_row(seq, request))
    outcomes: list[dict[str, Any]] = json.loads(await db.run_sync(partial(_claim_many, len(requests), rows, notices)))
    return outcomes


# ---- claims in a batch (`claim_many`) ----------------------------------------------------------------
_REQUEST_COLUMNS = (
    "seq",
    "wish_id",
    "user_id",
    "org_id",
    "session_id",
    "at",
    "deadline",
    "max_per_org",
    "max_per_user",
)
_REQUESTS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS auction_claim_requests (seq INTEGER PRIMARY KEY, wish_id INTEGER NOT NULL,"
    " user_id INTEGER NOT NULL, org_id INTEGER NOT NULL, session_id INTEGER NOT NULL, at TEXT NOT NULL,"
    " deadline TEXT NOT NULL, max_per_org INTEGER, max_per_user INTEGER, won INTEGER NOT NULL DEFAULT 0)"
)
# Runs once per request row, in the order of the rows, each seeing the claims before it: the one
# claim rule and its audit entry (storage.wishes' CLAIM_UPDATE and CLAIM_AUDIT, which
# WishRepository.claim runs too); `changes()` is the rows that UPDATE changed.
_NEW = {
    "wish": "NEW.wish_id",
    "user": "NEW.user_id",
    "org": "NEW.org_id",
    "at": "NEW.at",
    "session": "NEW.session_id",
    "deadline": "NEW.deadline",
    "max_per_org": "NEW.max_per_org",
    "max_per_user": "NEW.max_per_user",
}
_CLAIM_TRIGGER = (
    "CREATE TEMP TRIGGER IF NOT EXISTS auction_claim_request AFTER INSERT ON auction_claim_requests BEGIN "
    + CLAIM_UPDATE.format(**_NEW)
    + "; UPDATE auction_claim_requests SET won = 1 WHERE seq = NEW.seq AND changes() = 1; "
    + CLAIM_AUDIT.format(**_NEW, won="(SELECT won FROM auction_claim_requests WHERE seq = NEW.seq) = 1")
    + "; END"
)
_WISH_FIELDS = ", ".join(f"'{column.strip()[2:]}', {column.strip()}" for column in WISH_COLUMNS.split(","))
# Every outcome: the wish as the batch left it, and for a claim that failed, who holds it and the
# claims its organisation and person hold in the session, counted as CLAIM_UPDATE counts them.
_REQUEST = {"session": "r.session_id", "org": "r.org_id", "user": "r.user_id"}
_OUTCOMES = (
    f"SELECT json_group_array(json_object('seq', r.seq, 'won', r.won, {_WISH_FIELDS}, 'holder_name', o.name,"
    f" 'org_held', CASE WHEN r.won THEN 0 ELSE {HELD_BY_ORG.format(**_REQUEST)} END,"
    f" 'user_held', CASE WHEN r.won THEN 0 ELSE {HELD_BY_USER.format(**_REQUEST)} END))"
    " FROM auction_claim_requests r LEFT JOIN wishes w ON w.id = r.wish_id"
    " LEFT JOIN organisations o ON o.id = w.claimed_by_org"
)


def _request_row(seq: int, request: ClaimRequest) -> tuple[object, ...]:
    return (
        seq,
        request.wish_id,
        request.user_id,
        request.org_id,
        request.session_id,
        to_db_time(request.now),
        to_db_time(request.deadline),
        request.max_per_org,
        request.max_per_user,
    )


def _claim_many(count: int, rows: list[object], notices: str | None, conn: sqlite3.Connection) -> str:
    """On the database thread: the batch's few statements; the outcomes as one JSON array."""
    marks = "(" + ", ".join("?" for _ in _REQUEST_COLUMNS) + ")"
    insert = f"INSERT INTO auction_claim_requests ({', '.join(_REQUEST_COLUMNS)}) VALUES " + ", ".join([marks] * count)
    conn.execute(_REQUESTS_TABLE).close()
    conn.execute(_CLAIM_TRIGGER).close()
    conn.execute("BEGIN IMMEDIATE").close()
    try:
        conn.execute("DELETE FROM auction_claim_requests").close()
        if count:
            conn.execute(insert, rows).close()
        cursor = conn.execute(_OUTCOMES)
        outcomes = cursor.fetchone()[0]
        cursor.close()
        if notices is not None and count:
            conn.execute(notices).close()
        conn.execute("DELETE FROM auction_claim_requests").close()
        conn.execute("COMMIT").close()
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK").close()
        raise
    return outcomes
