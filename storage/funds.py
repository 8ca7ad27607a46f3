"""The funds ledger's SQL: donors (and their private contact details), funds, entries, postings,
instalments and approval decisions. Insert-only for the ledger: the database refuses updates
and deletes of entries, postings, instalments and decisions (storage/migrations/0011_funds.sql)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bot.model.funds import (
    Balance,
    Donor,
    DonorContact,
    DonorKind,
    DueInstalment,
    Entry,
    EntryKind,
    Fund,
    Instalment,
    Posting,
    Recipient,
    RecipientKind,
    Restriction,
)
from storage.db import Database, Row, db_time, to_db_time, written

ENTRY_SELECT = """
SELECT e.*, d.approved AS decision, d.decided_by AS decided_by, c.id AS corrected_by
FROM fund_entries e
LEFT JOIN fund_decisions d ON d.entry_id = e.id
LEFT JOIN fund_entries c ON c.reverses_id = e.id
"""

# Which side of the ledger a posting is on, by the kind of the entry it comes from (a
# correction's, the entry it reverses): money in is a receipt or the receiving leg of a transfer.
POSTING_SIDES = """
SELECT p.fund_id AS fund_id, p.delta_fen AS delta_fen, p.occurred_on AS occurred_on,
       CASE WHEN COALESCE(o.kind, e.kind) = 'receipt'
              OR (COALESCE(o.kind, e.kind) = 'transfer' AND p.fund_id = COALESCE(o.to_fund_id, e.to_fund_id))
            THEN 1 ELSE 0 END AS incoming
FROM fund_postings p
JOIN fund_entries e ON e.id = p.entry_id
LEFT JOIN fund_entries o ON o.id = e.reverses_id
"""


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _donor(row: Row) -> Donor:
    return Donor(
        id=row["id"],
        kind=DonorKind(row["kind"]),
        name=row["name"],
        public_name=row["public_name"],
        anonymous=bool(row["anonymous"]),
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
    )


def _fund(row: Row) -> Fund:
    return Fund(
        id=row["id"],
        name=row["name"],
        purpose=row["purpose"],
        owner_org_id=row["owner_org_id"],
        restriction=Restriction(
            org_ids=tuple(json.loads(row["allowed_orgs"])),
            kinds=tuple(RecipientKind(kind) for kind in json.loads(row["allowed_kinds"])),
        ),
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
    )


def _entry(row: Row) -> Entry:
    recipient = None
    if row["recipient_kind"] is not None:
        recipient = Recipient(
            RecipientKind(row["recipient_kind"]), row["recipient_id"], row["recipient_org_id"], row["recipient_label"]
        )
    decision = row["decision"]
    return Entry(
        id=row["id"],
        kind=EntryKind(row["kind"]),
        fund_id=row["fund_id"],
        amount_fen=row["amount_fen"],
        occurred_on=_day(row["occurred_on"]),
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
        request_key=row["request_key"],
        donor_id=row["donor_id"],
        pledge_id=row["pledge_id"],
        instalment_no=row["instalment_no"],
        method=row["method"],
        reference=row["reference"],
        voucher_file_id=row["voucher_file_id"],
        recipient=recipient,
        to_fund_id=row["to_fund_id"],
        reverses_id=row["reverses_id"],
        reason=row["reason"],
        override_reason=row["override_reason"],
        responsible_id=row["responsible_id"],
        needs_approval=bool(row["needs_approval"]),
        approved=None if decision is None else bool(decision),
        decided_by=row["decided_by"],
        corrected_by=row["corrected_by"],
    )


class FundRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- donors ---------------------------------------------------------------------------------
    async def add_donor(
        self, kind: DonorKind, name: str, public_name: str | None, anonymous: bool, actor_id: int, now: datetime
    ) -> Donor:
        donor_id = await self.db.execute(
            "INSERT INTO fund_donors (kind, name, public_name, anonymous, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (kind.value, name, public_name, int(anonymous), actor_id, to_db_time(now)),
        )
        return written(await self.donor(donor_id), f"donor {donor_id}")

    async def donor(self, donor_id: int) -> Donor | None:
        row = await self.db.fetch_one("SELECT * FROM fund_donors WHERE id = ?", (donor_id,))
        return None if row is None else _donor(row)

    async def donor_named(self, name: str) -> Donor | None:
        row = await self.db.fetch_one("SELECT * FROM fund_donors WHERE name = ?", (name,))
        return None if row is None else _donor(row)

    async def donors(self) -> list[Donor]:
        return [_donor(row) for row in await self.db.fetch_all("SELECT * FROM fund_donors ORDER BY id")]

    async def put_contact(self, donor_id: int, contact: DonorContact, actor_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO fund_donor_private (donor_id, contact_person, phone, address, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (donor_id) DO UPDATE SET"
            " contact_person = excluded.contact_person, phone = excluded.phone, address = excluded.address,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (donor_id, contact.contact_person, contact.phone, contact.address, to_db_time(now), actor_id),
        )

    async def contact(self, donor_id: int) -> DonorContact | None:
        row = await self.db.fetch_one(
            "SELECT contact_person, phone, address FROM fund_donor_private WHERE donor_id = ?", (donor_id,)
        )
        return None if row is None else DonorContact(row["contact_person"], row["phone"], row["address"])

    # ---- funds ----------------------------------------------------------------------------------
    async def add_fund(
        self, name: str, purpose: str, owner_org_id: int, restriction: Restriction, actor_id: int, now: datetime
    ) -> Fund:
        fund_id = await self.db.execute(
            "INSERT INTO funds (name, purpose, owner_org_id, allowed_orgs, allowed_kinds, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                purpose,
                owner_org_id,
                json.dumps(sorted(restriction.org_ids)),
                json.dumps(sorted(kind.value for kind in restriction.kinds)),
                actor_id,
                to_db_time(now),
            ),
        )
        return written(await self.fund(fund_id), f"fund {fund_id}")

    async def fund(self, fund_id: int) -> Fund | None:
        row = await self.db.fetch_one("SELECT * FROM funds WHERE id = ?", (fund_id,))
        return None if row is None else _fund(row)

    async def fund_named(self, name: str) -> Fund | None:
        row = await self.db.fetch_one("SELECT * FROM funds WHERE name = ?", (name,))
        return None if row is None else _fund(row)

    async def funds(self) -> list[Fund]:
        return [_fund(row) for row in await self.db.fetch_all("SELECT * FROM funds ORDER BY id")]

    # ---- entries --------------------------------------------------------------------------------
    async def add_entry(self, values: dict[str, Any]) -> int | None:
        """The new entry's id; None when an entry with the same request key exists (a double tap)."""
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        row = await self.db.fetch_one(
            f"INSERT INTO fund_entries ({columns}) VALUES ({marks})"  # noqa: S608 (column names are ours)
            " ON CONFLICT (request_key) DO NOTHING RETURNING id",
            tuple(values.values()),
        )
        return None if row is None else int(row["id"])

    async def entry(self, entry_id: int) -> Entry | None:
        row = await self.db.fetch_one(ENTRY_SELECT + " WHERE e.id = ?", (entry_id,))
        return None if row is None else _entry(row)

    async def entry_by_key(self, request_key: str) -> Entry | None:
        row = await self.db.fetch_one(ENTRY_SELECT + " WHERE e.request_key = ?", (request_key,))
        return None if row is None else _entry(row)

    async def entries(
        self,
        *,
        fund_id: int | None = None,
        donor_id: int | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[Entry]:
        """Entries in recording order; `end` is exclusive."""
        clauses, params = self._filters(fund_id=fund_id, donor_id=donor_id, start=start, end=end)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self.db.fetch_all(ENTRY_SELECT + where + " ORDER BY e.id", params)
        return [_entry(row) for row in rows]

    @staticmethod
    def _filters(
        *, fund_id: int | None, donor_id: int | None, start: date | None, end: date | None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if fund_id is not None:
            clauses.append("(e.fund_id = ? OR e.to_fund_id = ?)")
            params += [fund_id, fund_id]
        if donor_id is not None:
            clauses.append("e.donor_id = ?")
            params.append(donor_id)
        if start is not None:
            clauses.append("e.occurred_on >= ?")
            params.append(start.isoformat())
        if end is not None:
            clauses.append("e.occurred_on < ?")
            params.append(end.isoformat())
        return clauses, params

    async def add_postings(self, entry_id: int, postings: Iterable[tuple[int, int, date]]) -> None:
        await self.db.execute_many(
            "INSERT INTO fund_postings (entry_id, fund_id, delta_fen, occurred_on) VALUES (?, ?, ?, ?)",
            [(entry_id, fund_id, delta, on.isoformat()) for fund_id, delta, on in postings],
        )

    async def postings(self, entry_id: int) -> list[Posting]:
        rows = await self.db.fetch_all(
            "SELECT entry_id, fund_id, delta_fen, occurred_on FROM fund_postings WHERE entry_id = ? ORDER BY id",
            (entry_id,),
        )
        return [Posting(row["entry_id"], row["fund_id"], row["delta_fen"], _day(row["occurred_on"])) for row in rows]

    async def all_postings(self) -> list[Posting]:
        rows = await self.db.fetch_all("SELECT entry_id, fund_id, delta_fen, occurred_on FROM fund_postings")
        return [Posting(row["entry_id"], row["fund_id"], row["delta_fen"], _day(row["occurred_on"])) for row in rows]

    async def add_instalments(self, pledge_id: int, instalments: Sequence[Instalment]) -> None:
        await self.db.execute_many(
            "INSERT INTO fund_instalments (pledge_id, instalment_no, due_on, amount_fen) VALUES (?, ?, ?, ?)",
            [(pledge_id, item.number, item.due_on.isoformat(), item.amount_fen) for item in instalments],
        )

    async def instalments(self, pledge_id: int) -> list[Instalment]:
        rows = await self.db.fetch_all(
            "SELECT instalment_no, due_on, amount_fen FROM fund_instalments WHERE pledge_id = ? ORDER BY instalment_no",
            (pledge_id,),
        )
        return [Instalment(row["instalment_no"], _day(row["due_on"]), row["amount_fen"]) for row in rows]

    async def decide(self, entry_id: int, approved: bool, actor_id: int, now: datetime, note: str | None) -> bool:
        """Record the one decision on a pending entry; False when one was already recorded."""
        row = await self.db.fetch_one(
            "INSERT INTO fund_decisions (entry_id, approved, decided_by, decided_at, note) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (entry_id) DO NOTHING RETURNING entry_id",
            (entry_id, int(approved), actor_id, to_db_time(now), note),
        )
        return row is not None

    async def pending(self) -> list[Entry]:
        rows = await self.db.fetch_all(
            ENTRY_SELECT + " WHERE e.needs_approval = 1 AND d.entry_id IS NULL ORDER BY e.id"
        )
        return [_entry(row) for row in rows]

    # ---- balances -------------------------------------------------------------------------------
    async def balance(self, fund_id: int) -> int:
        value = await self.db.fetch_value(
            "SELECT COALESCE(SUM(delta_fen), 0) FROM fund_postings WHERE fund_id = ?", (fund_id,)
        )
        return int(value)

    async def balances(self) -> list[Balance]:
        sides = await self.db.fetch_all(
            f"SELECT fund_id, incoming, SUM(delta_fen) AS total FROM ({POSTING_SIDES}) AS sides"  # noqa: S608
            " GROUP BY fund_id, incoming"
        )
        pending = await self.db.fetch_all(
            "SELECT e.fund_id AS fund_id, SUM(e.amount_fen) AS total FROM fund_entries e"
            " LEFT JOIN fund_decisions d ON d.entry_id = e.id"
            " WHERE e.needs_approval = 1 AND d.entry_id IS NULL GROUP BY e.fund_id"
        )
        incoming = {(row["fund_id"], row["incoming"]): int(row["total"]) for row in sides}
        waiting = {row["fund_id"]: int(row["total"]) for row in pending}
        result = []
        for fund in await self.funds():
            received = incoming.get((fund.id, 1), 0)
            paid = -incoming.get((fund.id, 0), 0)
            result.append(Balance(fund, received, paid, received - paid, waiting.get(fund.id, 0)))
        return result

    async def monthly(self, start: date, end: date) -> list[tuple[str, int, int]]:
        """(YYYY-MM, in, out) of the postings in [start, end), months with postings only."""
        rows = await self.db.fetch_all(
            "SELECT substr(occurred_on, 1, 7) AS month, incoming, SUM(delta_fen) AS total"
            f" FROM ({POSTING_SIDES}) AS sides"  # noqa: S608
            " WHERE occurred_on >= ? AND occurred_on < ? GROUP BY month, incoming ORDER BY month",
            (start.isoformat(), end.isoformat()),
        )
        months: dict[str, list[int]] = {}
        for row in rows:
            pair = months.setdefault(row["month"], [0, 0])
            if row["incoming"]:
                pair[0] += int(row["total"])
            else:
                pair[1] -= int(row["total"])
        return [(month, pair[0], pair[1]) for month, pair in months.items()]

    # ---- pledges --------------------------------------------------------------------------------
    async def unpaid_instalments(self, due_by: date) -> list[DueInstalment]:
        """Instalments due on or before `due_by` of pledges still standing, with no counting receipt."""
        rows = await self.db.fetch_all(
            "SELECT i.pledge_id, i.instalment_no, i.due_on, i.amount_fen, p.donor_id, p.responsible_id,"
            "       p.created_by, dn.name, dn.public_name, dn.anonymous, f.id AS fund_id,"
            "       f.name AS fund_name"
            " FROM fund_instalments i"
            " JOIN fund_entries p ON p.id = i.pledge_id"
            " JOIN fund_donors dn ON dn.id = p.donor_id"
            " JOIN funds f ON f.id = p.fund_id"
            " WHERE i.due_on <= ?"
            "   AND NOT EXISTS (SELECT 1 FROM fund_entries c WHERE c.reverses_id = p.id)"
            "   AND NOT EXISTS (SELECT 1 FROM fund_entries r WHERE r.pledge_id = i.pledge_id"
            "                   AND r.instalment_no = i.instalment_no AND r.kind = 'receipt'"
            "                   AND NOT EXISTS (SELECT 1 FROM fund_entries rc WHERE rc.reverses_id = r.id))"
            " ORDER BY i.due_on, i.pledge_id, i.instalment_no",
            (due_by.isoformat(),),
        )
        return [
            DueInstalment(
                pledge_id=row["pledge_id"],
                number=row["instalment_no"],
                due_on=_day(row["due_on"]),
                amount_fen=row["amount_fen"],
                donor_id=row["donor_id"],
                donor_shown=None if row["anonymous"] else (row["public_name"] or row["name"]),
                fund_id=row["fund_id"],
                fund_name=row["fund_name"],
                responsible_id=row["responsible_id"] or row["created_by"],
            )
            for row in rows
        ]

    async def money_by_owner(self, start: date, end: date) -> dict[int, int]:
        """Per organisation owning a fund: the money received into its funds in [start, end)
        (receipts net of their corrections; transfers between funds are not raised money). Every
        owner appears, with 0 when nothing came in."""
        rows = await self.db.fetch_all(
            "SELECT f.owner_org_id AS owner, COALESCE(SUM(CASE WHEN COALESCE(o.kind, e.kind) = 'receipt'"
            "  AND p.occurred_on >= ? AND p.occurred_on < ? THEN p.delta_fen ELSE 0 END), 0) AS money"
            " FROM funds f"
            " LEFT JOIN fund_postings p ON p.fund_id = f.id"
            " LEFT JOIN fund_entries e ON e.id = p.entry_id"
            " LEFT JOIN fund_entries o ON o.id = e.reverses_id"
            " GROUP BY f.owner_org_id",
            (start.isoformat(), end.isoformat()),
        )
        return {row["owner"]: int(row["money"]) for row in rows}

    async def counts(self) -> tuple[int, int]:
        """(donors, entries)."""
        donors = await self.db.fetch_value("SELECT COUNT(*) FROM fund_donors")
        entries = await self.db.fetch_value("SELECT COUNT(*) FROM fund_entries")
        return int(donors), int(entries)
