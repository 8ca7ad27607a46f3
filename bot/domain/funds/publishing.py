"""Posting the ledger to the county hub: a donor's thank-you and a fund's monthly statement.

Aggregates only: totals and counts, a donor by their public name (or as an anonymous donor), never
a student, a household or a contact detail. The message is queued in the outbox (the domain's
port); the hub's renderer (handlers/funds/publish.py) words it from what is true when it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.errors import DomainError
from bot.domain.funds.ledger import FundService
from bot.domain.funds.reports import effects
from bot.domain.outbox import Outbox
from bot.model.funds import EntryKind, Fund, RecipientKind
from bot.model.outbox import Notice, Priority
from storage.chats import ChatRepository

STATEMENT = "funds.statement"
THANKS = "funds.thanks"


@dataclass(frozen=True)
class MonthStatement:
    fund: Fund
    year: int
    month: int
    received_fen: int
    receipts: int
    paid_fen: int
    students: int
    villages: int
    others: int  # activities, wishes
    balance_fen: int  # at the end of the month


@dataclass(frozen=True)
class Thanks:
    donor_shown: str | None  # None: anonymous
    fund_names: list[str]
    received_fen: int


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


class FundPublisher:
    def __init__(self, funds: FundService, chats: ChatRepository, outbox: Outbox) -> None:
        self.funds = funds
        self.chats = chats
        self.outbox = outbox

    async def _hub(self, actor_id: int) -> int:
        if not await self.funds.permissions.is_county_admin(actor_id):
            raise DomainError("funds.publish_not_allowed")
        hub = await self.chats.hub()
        if hub is None or not hub.active:
            raise DomainError("funds.no_hub")
        return hub.chat_id

    async def publish_statement(self, actor_id: int, fund_id: int, year: int, month: int) -> bool:
        """Queue the fund's statement of that month for the hub; False when it was queued before."""
        chat_id = await self._hub(actor_id)
        fund = await self.funds.fund(fund_id)
        async with self.funds.db.transaction():
            return await self.outbox.enqueue(
                Notice(
                    STATEMENT,
                    chat_id,
                    key=f"{STATEMENT}:{fund.id}:{year:04d}-{month:02d}",
                    params={"fund": fund.id, "year": year, "month": month},
                    priority=Priority.NORMAL,
                )
            )

    async def publish_thanks(self, actor_id: int, donor_id: int) -> bool:
        """Queue a thank-you to the donor in the hub (once per donor and day)."""
        chat_id = await self._hub(actor_id)
        donor = await self.funds.donor(donor_id)
        async with self.funds.db.transaction():
            return await self.outbox.enqueue(
                Notice(
                    THANKS,
                    chat_id,
                    key=f"{THANKS}:{donor.id}:{self.funds.today().isoformat()}",
                    params={"donor": donor.id},
                    priority=Priority.NORMAL,
                )
            )

    async def statement(self, fund_id: int, year: int, month: int) -> MonthStatement:
        fund = await self.funds.fund(fund_id)
        start, end = month_bounds(year, month)
        entries = await self.funds.repo.entries(fund_id=fund.id)
        by_id = {entry.id: entry for entry in entries}
        received = paid = receipts = 0
        balance = 0
        recipients: dict[RecipientKind, set[int]] = {kind: set() for kind in RecipientKind}
        for effect in effects(entries):
            if effect.fund_id != fund.id or effect.entry.occurred_on >= end:
                continue
            balance += effect.received_fen - effect.paid_fen
            if effect.entry.occurred_on < start:
                continue
            received += effect.received_fen
            paid += effect.paid_fen
            source = by_id.get(effect.entry.reverses_id or 0, effect.entry)
            if effect.entry.kind is EntryKind.RECEIPT:
                receipts += 1
            if effect.entry.kind is not EntryKind.CORRECTION and source.recipient and source.recipient.id is not None:
                recipients[source.recipient.kind].add(source.recipient.id)
        return MonthStatement(
            fund=fund,
            year=year,
            month=month,
            received_fen=received,
            receipts=receipts,
            paid_fen=paid,
            students=len(recipients[RecipientKind.STUDENT]),
            villages=len(recipients[RecipientKind.VILLAGE]),
            others=len(recipients[RecipientKind.ACTIVITY]) + len(recipients[RecipientKind.WISH]),
            balance_fen=balance,
        )

    async def thanks(self, donor_id: int) -> Thanks:
        donor = await self.funds.donor(donor_id)
        given = await self.funds.repo.entries(donor_id=donor.id)
        standing = [entry for entry in given if entry.kind is EntryKind.RECEIPT and entry.corrected_by is None]
        names = {fund.id: fund.name for fund in await self.funds.repo.funds()}
        fund_names = list(dict.fromkeys(names[entry.fund_id] for entry in standing))
        return Thanks(donor.shown_name, fund_names, sum(entry.amount_fen for entry in standing))
