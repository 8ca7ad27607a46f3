"""A batch of auction claims made one statement at a time: the PostgreSQL path of
`AuctionRepository.claim_many` (SQLite's runs the batch through a temporary table's trigger on
the database thread, storage/auction.py).

The same rule text (storage.wishes' CLAIM_UPDATE and CLAIM_AUDIT) and the same outcomes. Several
instances claim at once there: the batch holds the session's advisory lock, so the caps
(counted by CLAIM_UPDATE's subqueries) are never passed by two transactions that each counted
before the other committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.model.auction import ClaimRequest
from storage.db import Database, to_db_time
from storage.wishes import _COLUMNS as WISH_COLUMNS
from storage.wishes import CLAIM_AUDIT, CLAIM_PARAMS, CLAIM_UPDATE, HELD_BY_ORG, HELD_BY_USER

_OUTCOME = (
    f"SELECT {WISH_COLUMNS}, o.name AS holder_name,"
    f" {HELD_BY_ORG.format(session='?1', org='?2')} AS org_held,"
    f" {HELD_BY_USER.format(session='?1', user='?3')} AS user_held"
    " FROM wishes w LEFT JOIN organisations o ON o.id = w.claimed_by_org WHERE w.id = ?4"
)
_NOTICE = (
    "INSERT INTO outbox (idempotency_key, kind, chat_id, params, priority, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
)


async def claim_each(
    db: Database, requests: Sequence[ClaimRequest], notice: tuple[str, int] | None
) -> list[dict[str, Any]]:
    """Each request in order, in one transaction; the outcomes as `claim_many`'s SQLite path
    reads them back (the wish as the batch left it; held counts only for a refused claim)."""
    outcomes: list[dict[str, Any]] = []
    async with db.transaction():
        for session_id in sorted({request.session_id for request in requests}):
            await db.serialise(f"auction-claims:{session_id}")
        won: list[bool] = []
        for request in requests:
            at = to_db_time(request.now)
            values = (
                request.wish_id,
                request.user_id,
                request.org_id,
                at,
                request.session_id,
                to_db_time(request.deadline),
                request.max_per_org,
                request.max_per_user,
            )
            claimed = await db.changes(CLAIM_UPDATE.format(**CLAIM_PARAMS), values) == 1
            if claimed:
                await db.execute(CLAIM_AUDIT.format(**CLAIM_PARAMS, won="1 = 1"), values[:5])
                if notice is not None:
                    kind, priority = notice
                    params = json.dumps({"wish": request.wish_id, "org": request.org_id})
                    key = f"{kind}:{request.wish_id}:{at}"
                    await db.execute(_NOTICE, (key, kind, request.user_id, params, priority, at, at))
            won.append(claimed)
        for seq, (request, claimed) in enumerate(zip(requests, won, strict=True)):
            row = await db.fetch_one(_OUTCOME, (request.session_id, request.org_id, request.user_id, request.wish_id))
            outcome: dict[str, Any] = {"seq": seq, "won": 1 if claimed else 0, "id": None}
            if row is not None:
                outcome.update(zip(row.keys(), row, strict=True))
                if claimed:
                    outcome["org_held"] = outcome["user_held"] = 0
            else:
                outcome.update(holder_name=None, org_held=0, user_held=0)
            outcomes.append(outcome)
    return outcomes
