"""A synthetic funds ledger for the report benchmark (`league-bot bench report`): SQL only.

At scale 1 it is the source document's giving ×10: 450 donors (companies, institutions, people;
some anonymous), 20 funds (a county care fund, a student-aid fund, and village funds restricted
to their village), and 20,000 entries over the year: pledges with monthly instalments, receipts
(some paying instalments), grants to students and villages, transfers between funds, and
corrections of a few receipts and grants. Every entry's postings go in with it, and no fund
ever goes below zero (the generator keeps the balances as it goes).

It runs after storage/bulk_seed.py (it needs that county's organisations), in one transaction,
its rows written in large batches through the database interface (storage/bulk_rows.py), so the
same seed fills any backend; the random generator is seeded, so every run builds the same ledger.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from storage.bulk_rows import BulkRows
from storage.db import Database

ADMIN = 1
DONOR_KINDS = ("company", "organisation", "individual")
METHODS = ("银行转账", "现金", "微信", "支付宝")
# Shares of the entries, by kind (pledges come with instalments; corrections reverse earlier ones).
MIX = (("receipt", 45), ("grant", 40), ("pledge", 6), ("transfer", 5), ("correction", 4))


DONORS_SQL = (
    "INSERT INTO fund_donors (id, kind, name, public_name, anonymous, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
FUNDS_SQL = (
    "INSERT INTO funds (id, name, purpose, owner_org_id, allowed_orgs, allowed_kinds, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
POSTINGS_SQL = "INSERT INTO fund_postings (entry_id, fund_id, delta_fen, occurred_on) VALUES (?, ?, ?, ?)"
INSTALMENTS_SQL = "INSERT INTO fund_instalments (pledge_id, instalment_no, due_on, amount_fen) VALUES (?, ?, ?, ?)"


async def seed_ledger(db: Database, year: int, scale: float = 1.0, seed: int = 2018) -> dict[str, int]:
    """Fill the ledger of an already seeded county; returns how many donors and entries."""
    townships = [
        row[0] for row in await db.fetch_all("SELECT id FROM organisations WHERE kind = 'township' ORDER BY id")
    ]
    villages = [
        row[0] for row in await db.fetch_all("SELECT id FROM organisations WHERE kind = 'village_branch' ORDER BY id")
    ]
    county = await db.fetch_value("SELECT id FROM organisations WHERE kind = 'county_committee' ORDER BY id")
    if not villages or not townships or county is None:
        raise ValueError("seed the county (storage/bulk_seed.py) before its ledger")
    created = datetime(year, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries_sql = (
        f"INSERT INTO fund_entries ({', '.join(_COLUMNS)}, created_by, created_at)"  # noqa: S608 (our columns)
        f" VALUES ({', '.join('?' for _ in _COLUMNS)}, {ADMIN}, '{created}')"
    )
    # Entries before their postings and instalments (which refer to them).
    rows = BulkRows(db, DONORS_SQL, FUNDS_SQL, entries_sql, POSTINGS_SQL, INSTALMENTS_SQL)
    async with db.transaction():
        return await _seed(rows, entries_sql, townships, villages, county, year, scale, seed)


async def _seed(
    out: BulkRows,
    entries_sql: str,
    townships: list[int],
    villages: list[int],
    county: int,
    year: int,
    scale: float,
    seed: int,
) -> dict[str, int]:
    rng = random.Random(seed)
    donor_count = max(3, round(450 * scale))
    entry_count = max(30, round(20_000 * scale))
    created = datetime(year, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for d in range(1, donor_count + 1):
        out.add(DONORS_SQL, (d, DONOR_KINDS[d % 3], f"捐赠者{d:04d}", None, int(rng.random() < 0.1), ADMIN, created))
    # Funds: two county-wide, then one per village (restricted to it and to village spending).
    funds: list[tuple[int, int | None]] = [(1, None), (2, None)]  # (id, the village it is restricted to)
    rows = [
        (1, "关爱基金", "关爱困难青少年", county, "[]", "[]", ADMIN, created),
        (2, "希望工程助学金", "资助核实的困难学生", county, "[]", json.dumps(["student"]), ADMIN, created),
    ]
    for index, home in enumerate(villages[:18], start=3):
        funds.append((index, home))
        rows.append(
            (
                index,
                f"村级直接捐赠{index}",
                "村级直接捐赠",
                home,
                json.dumps([home]),
                '["village"]',
                ADMIN,
                created,
            )
        )
    for row in rows:
        out.add(FUNDS_SQL, row)

    balances = {fund_id: 0 for fund_id, _ in funds}
    reversible: list[tuple[int, int, int, str]] = []  # (entry, fund, signed delta, kind)
    kinds = [kind for kind, share in MIX for _ in range(share)]
    first_day = date(year, 1, 1)
    for entry_id in range(1, entry_count + 1):
        day = (first_day + timedelta(days=entry_id * 365 // (entry_count + 1))).isoformat()
        fund_id, village = rng.choice(funds)
        kind = rng.choice(kinds)
        donor = rng.randrange(1, donor_count + 1)
        amount = rng.choice((500, 1000, 2000, 5000, 10000, 50000)) * 100
        base = dict.fromkeys(_COLUMNS)
        base.update(id=entry_id, fund_id=fund_id, amount_fen=amount, occurred_on=day, request_key=f"seed:{entry_id}")
        if kind == "grant" and balances[fund_id] < amount:
            kind = "receipt"  # the fund cannot pay it: money comes in instead
        if kind == "transfer":
            target, target_village = rng.choice(funds)
            # Only from an unrestricted fund, to another fund, within the balance.
            if village is not None or fund_id == 2 or target == fund_id or balances[fund_id] < amount:
                kind = "receipt"
        if kind == "correction" and not reversible:
            kind = "receipt"
        if kind == "receipt":
            base.update(kind="receipt", donor_id=donor, method=rng.choice(METHODS))
            out.add(POSTINGS_SQL, (entry_id, fund_id, amount, day))
            balances[fund_id] += amount
            reversible.append((entry_id, fund_id, amount, "receipt"))
        elif kind == "pledge":
            base.update(kind="pledge", donor_id=donor, responsible_id=ADMIN)
            share = amount // 2
            out.add(INSTALMENTS_SQL, (entry_id, 1, day, share))
            out.add(
                INSTALMENTS_SQL,
                (entry_id, 2, (date.fromisoformat(day) + timedelta(days=30)).isoformat(), amount - share),
            )
        elif kind == "grant":
            student = village is None and (fund_id == 2 or rng.random() < 0.6)
            target_org = rng.choice(townships) if student else (village or rng.choice(villages))
            base.update(
                kind="grant",
                recipient_kind="student" if student else "village",
                recipient_id=rng.randrange(1, 1500) if student else target_org,
                recipient_org_id=target_org,
                recipient_label=f"学生{entry_id}" if student else f"村{target_org}",
                voucher_file_id=f"voucher-{entry_id}",
            )
            out.add(POSTINGS_SQL, (entry_id, fund_id, -amount, day))
            balances[fund_id] -= amount
            reversible.append((entry_id, fund_id, -amount, "grant"))
        elif kind == "transfer":
            base.update(kind="transfer", to_fund_id=target, reason="调剂")
            out.add(POSTINGS_SQL, (entry_id, fund_id, -amount, day))
            out.add(POSTINGS_SQL, (entry_id, target, amount, day))
            balances[fund_id] -= amount
            balances[target] += amount
        else:
            original, original_fund, delta, _ = reversible.pop(rng.randrange(len(reversible)))
            if delta > 0 and balances[original_fund] < delta:
                reversible.append((original, original_fund, delta, "receipt"))  # its money is spent
                base.update(kind="receipt", donor_id=donor, method=rng.choice(METHODS))
                out.add(POSTINGS_SQL, (entry_id, fund_id, amount, day))
                balances[fund_id] += amount
            else:
                base.update(
                    kind="correction",
                    fund_id=original_fund,
                    amount_fen=abs(delta),
                    reverses_id=original,
                    reason="录入错误",
                )
                out.add(POSTINGS_SQL, (entry_id, original_fund, -delta, day))
                balances[original_fund] -= delta
        out.add(entries_sql, tuple(base.values()))
        if out.full:
            await out.flush()
    await out.flush()
    return {"donors": donor_count, "ledger_entries": entry_count}


_COLUMNS = (
    "id",
    "kind",
    "fund_id",
    "amount_fen",
    "occurred_on",
    "donor_id",
    "method",
    "recipient_kind",
    "recipient_id",
    "recipient_org_id",
    "recipient_label",
    "voucher_file_id",
    "to_fund_id",
    "reverses_id",
    "reason",
    "responsible_id",
    "request_key",
)
