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


class MovedLeg(NamedTuple):
    """Money in and out of one fund, for one donor and one recipient organisation, in a period."""

    fund_id: int
    donor_id: int | None  # the giving entry's donor (a correction's: the reversed entry's)
    has_recipient: bool  # the entry names a recipient (then `recipient_org_id` is its organisation)
    recipient_org_id: int | None
    received_fen: int
    paid_fen: int
    first: int  # the order the ledger first moved this money in: 2 × entry id (+1 a transfer's second leg)


# Every counting entry dated in the period with the entry whose money it moves (`s`: itself, or
# for a correction the entry it reverses) and the sign (a correction's -1).
_EFFECTS = (
    " FROM fund_entries e LEFT JOIN fund_decisions d ON d.entry_id = e.id"
    " JOIN fund_entries s ON s.id = CASE WHEN e.kind = 'correction' THEN e.reverses_id ELSE e.id END"
    " LEFT JOIN fund_decisions sd ON sd.entry_id = s.id"
    f" WHERE {_COUNTS.format(alias='e', decision='d')} AND {_COUNTS.format(alias='s', decision='sd')}"
)
_SIGNED = "(CASE WHEN e.kind = 'correction' THEN -s.amount_fen ELSE s.amount_fen END)"


class FundFigureRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def moved(self, start: date, end: date) -> list[MovedMoney]:
        """Money given (receipts) and paid out (grants, expenses) in [start, end), per donor and
        per recipient; transfers between funds and pledges move no money given or spent."""
        rows = await self.db.fetch_all(
            f"SELECT s.kind, s.donor_id, s.recipient_kind, s.recipient_id, SUM({_SIGNED})"
            + _EFFECTS
            + " AND e.occurred_on >= ? AND e.occurred_on < ? AND s.kind IN ('receipt', 'grant', 'expense')"
            " GROUP BY s.kind, s.donor_id, s.recipient_kind, s.recipient_id"
            " ORDER BY s.kind, s.donor_id, s.recipient_kind, s.recipient_id",
            (start.isoformat(), end.isoformat()),
        )
        return [MovedMoney(row[0], row[1], row[2], row[3], int(row[4])) for row in rows]

    async def legs(self, start: date | None, end: date | None) -> list[MovedLeg]:
        """Money in and out of every fund in [start, end) (None: open), by donor and recipient
        organisation: a receipt's money comes in, a grant's or expense's goes out, a transfer's goes
        out of one fund and into the other; pledges move none."""
        period, params = "", list[str]()
        if start is not None:
            period, params = period + " AND e.occurred_on >= ?", [*params, start.isoformat()]
        if end is not None:
            period, params = period + " AND e.occurred_on < ?", [*params, end.isoformat()]
        has_recipient = "CASE WHEN s.recipient_kind IS NULL THEN 0 ELSE 1 END"
        rows = await self.db.fetch_all(
            "SELECT x.fund_id, x.donor_id, x.has_recipient, x.org_id, SUM(x.received), SUM(x.paid), MIN(x.first)"
            " FROM (SELECT s.fund_id AS fund_id, s.donor_id AS donor_id,"
            f" {has_recipient} AS has_recipient, s.recipient_org_id AS org_id,"
            f" CASE WHEN s.kind = 'receipt' THEN {_SIGNED} ELSE 0 END AS received,"
            f" CASE WHEN s.kind = 'receipt' THEN 0 ELSE {_SIGNED} END AS paid, 2 * e.id AS first"
            + _EFFECTS
            + period
            + " AND s.kind IN ('receipt', 'grant', 'expense', 'transfer')"
            f" UNION ALL SELECT s.to_fund_id, s.donor_id, {has_recipient}, s.recipient_org_id, {_SIGNED}, 0,"
            " 2 * e.id + 1" + _EFFECTS + period + " AND s.kind = 'transfer') x"
            " GROUP BY x.fund_id, x.donor_id, x.has_recipient, x.org_id ORDER BY MIN(x.first)",
            [*params, *params],
        )
        return [MovedLeg(row[0], row[1], row[2] == 1, row[3], int(row[4]), int(row[5]), row[6]) for row in rows]
