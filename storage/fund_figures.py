"""The funds ledger's year-end figures, summed in the database: SQL only.

The money an entry moved in a period, as bot/domain/funds/reports.py `effects` defines it from the
entries alone: every counting entry (not waiting for approval, not refused) dated in the period;
a correction moves the negation of what the entry it reverses moved (when that one counts), on
the correction's own date. Grouped by what the year-end paragraph needs (who gave, who was paid),
a province-year's 200,000 entries come back as a few thousand rows.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from storage.db import Database

# An entry counts: it needs no approval, or it was approved (fund_decisions).
_COUNTS = "({alias}.needs_approval = 0 OR {decision}.approved = 1)"


class MovedMoney(NamedTuple):
    """Net money a kind of entry moved for one donor or one recipient (a correction's negative)."""

    kind: str  # receipt | grant | expense: the entry moving it (a correction's: the reversed one)
    donor_id: int | None
    recipient_kind: str | None
    recipient_id: int | None
    fen: int


class FundFigureRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def moved(self, start: date, end: date) -> list[MovedMoney]:
        """Money given (receipts) and paid out (grants, expenses) in [start, end), per donor and
        per recipient; transfers between funds and pledges move no money given or spent."""
        rows = await self.db.fetch_all(
            "SELECT s.kind, s.donor_id, s.recipient_kind, s.recipient_id,"
            " SUM(CASE WHEN e.kind = 'correction' THEN -s.amount_fen ELSE s.amount_fen END)"
            " FROM fund_entries e LEFT JOIN fund_decisions d ON d.entry_id = e.id"
            " JOIN fund_entries s ON s.id = CASE WHEN e.kind = 'correction' THEN e.reverses_id ELSE e.id END"
            " LEFT JOIN fund_decisions sd ON sd.entry_id = s.id"
            " WHERE e.occurred_on >= ? AND e.occurred_on < ?"
            f" AND {_COUNTS.format(alias='e', decision='d')} AND {_COUNTS.format(alias='s', decision='sd')}"
            " AND s.kind IN ('receipt', 'grant', 'expense')"
            " GROUP BY s.kind, s.donor_id, s.recipient_kind, s.recipient_id"
            " ORDER BY s.kind, s.donor_id, s.recipient_kind, s.recipient_id",
            (start.isoformat(), end.isoformat()),
        )
        return [MovedMoney(row[0], row[1], row[2], row[3], int(row[4])) for row in rows]
