"""The funds ledger's entries: pledges, receipts, grants and expenses, transfers, corrections,
and the two-person rule. Append-only: a mistake is corrected by a reversing entry.

Every write takes a `request_key` (the handler's: the chat and message, or the conversation's
token): an entry whose key is already recorded is returned as it is, so a double tap or a resent
message records once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.errors import DomainError, PermissionDenied, one_line
from bot.domain.funds.amounts import yuan_text
from bot.domain.funds.core import MAX_NAME, MAX_TEXT, FundCore
from bot.domain.funds.rules import check_covered, check_restriction, narrower_or_equal, postings_of
from bot.model.funds import PAYING_OUT, Entry, EntryKind, Instalment, Recipient, RecipientKind
from storage.db import written


@dataclass(frozen=True)
class Payee:
    """Whom a grant or expense pays, as the requester names it. For a student `id` is the
    household (its alias and township come from the campaign); for a village the village's
    organisation; for an activity or a wish, its id with its public `label` and `org_id`."""

    kind: RecipientKind
    id: int
    label: str | None = None
    org_id: int | None = None


class FundService(FundCore):
    async def pledge(
        self,
        actor_id: int,
        request_key: str,
        fund_id: int,
        donor_id: int,
        amount_fen: int,
        *,
        on: date | None = None,
        instalments: Sequence[Instalment] = (),
        responsible_id: int | None = None,
    ) -> Entry:
        """A promise; moves no money. Instalments, when given, must add up to the amount."""
        self._check_amount(amount_fen)
        if instalments:
            numbers = [item.number for item in instalments]
            if sum(item.amount_fen for item in instalments) != amount_fen:
                raise DomainError("funds.instalments_sum", total=yuan_text(amount_fen))
            if numbers != list(range(1, len(instalments) + 1)) or any(item.amount_fen <= 0 for item in instalments):
                raise DomainError("funds.instalments_sum", total=yuan_text(amount_fen))
        async with self.db.transaction():
            if (existing := await self.repo.entry_by_key(request_key)) is not None:
                return existing
            fund = await self.kept_fund(actor_id, fund_id)
            await self.donor(donor_id)
            entry = await self._record(
                actor_id,
                {
                    "kind": EntryKind.PLEDGE.value,
                    "fund_id": fund.id,
                    "amount_fen": amount_fen,
                    "occurred_on": self._day(on),
                    "donor_id": donor_id,
                    "responsible_id": responsible_id or actor_id,
                    "request_key": request_key,
                },
                [],
            )
            if instalments:
                await self.repo.add_instalments(entry.id, instalments)
        if instalments and self.after_pledge is not None:
            await self.after_pledge()
        return entry

    async def receipt(
        self,
        actor_id: int,
        request_key: str,
        fund_id: int,
        donor_id: int,
        amount_fen: int,
        *,
        method: str,
        on: date | None = None,
        reference: str | None = None,
        voucher_file_id: str | None = None,
        pledge_id: int | None = None,
        instalment_no: int | None = None,
    ) -> Entry:
        """Money received into a fund; it may pay a pledge's instalment."""
        self._check_amount(amount_fen)
        method = one_line(
            method, max_length=MAX_NAME, empty_key="funds.method_empty", too_long_key="funds.text_too_long"
        )
        async with self.db.transaction():
            if (existing := await self.repo.entry_by_key(request_key)) is not None:
                return existing
            fund = await self.kept_fund(actor_id, fund_id)
            await self.donor(donor_id)
            if pledge_id is not None:
                await self._check_pays_pledge(pledge_id, instalment_no, donor_id, fund_id)
            return await self._record(
                actor_id,
                {
                    "kind": EntryKind.RECEIPT.value,
                    "fund_id": fund.id,
                    "amount_fen": amount_fen,
                    "occurred_on": self._day(on),
                    "donor_id": donor_id,
                    "method": method,
                    "reference": reference,
                    "voucher_file_id": voucher_file_id,
                    "pledge_id": pledge_id,
                    "instalment_no": instalment_no,
                    "request_key": request_key,
                },
                [(fund.id, amount_fen)],
            )

    async def _check_pays_pledge(self, pledge_id: int, number: int | None, donor_id: int, fund_id: int) -> None:
        pledge = await self.entry(pledge_id)
        if pledge.kind is not EntryKind.PLEDGE or pledge.donor_id != donor_id or pledge.fund_id != fund_id:
            raise DomainError("funds.not_their_pledge", id=pledge_id)
        if pledge.corrected_by is not None:
            raise DomainError("funds.already_corrected", id=pledge_id)
        if number is not None and number not in {item.number for item in await self.repo.instalments(pledge_id)}:
            raise DomainError("funds.no_instalment", id=pledge_id, number=number)

    async def _payee(self, actor_id: int, payee: Payee, override_reason: str | None) -> Recipient:
        """Whom a payment goes to, public words only; a student must be verified in a closed
        campaign unless a county admin overrides with a reason."""
        if payee.kind is RecipientKind.STUDENT:
            student = await self.verified.verified(payee.id)
            if student is None or not student.campaign_closed:
                if not override_reason:
                    key = "funds.rule_student_unverified" if student is None else "funds.rule_campaign_open"
                    raise DomainError(key, id=payee.id)
                await self._require_county(actor_id, "funds.override_county_only")
            label = student.alias if student is not None else (payee.label or f"#{payee.id}")
            org_id = student.township_org_id if student is not None else payee.org_id
            return Recipient(RecipientKind.STUDENT, payee.id, org_id, label)
        if payee.kind is RecipientKind.VILLAGE:
            village = await self.orgs.get(payee.id)
            return Recipient(RecipientKind.VILLAGE, village.id, village.id, village.name)
        label = one_line(
            payee.label or "", max_length=MAX_TEXT, empty_key="funds.payee_empty", too_long_key="funds.text_too_long"
        )
        return Recipient(payee.kind, payee.id, payee.org_id, label)

    async def pay(
        self,
        actor_id: int,
        request_key: str,
        fund_id: int,
        payee: Payee,
        amount_fen: int,
        *,
        voucher_file_id: str | None,
        kind: EntryKind = EntryKind.GRANT,
        on: date | None = None,
        override_reason: str | None = None,
        reference: str | None = None,
    ) -> Entry:
        """A grant or expense; above the approval threshold it waits for a second county admin."""
        if kind not in PAYING_OUT:
            raise ValueError(f"pay() records grants and expenses, not {kind}")
        self._check_amount(amount_fen)
        override = " ".join((override_reason or "").split()) or None
        async with self.db.transaction():
            if (existing := await self.repo.entry_by_key(request_key)) is not None:
                return existing
            fund = await self.kept_fund(actor_id, fund_id)
            if not voucher_file_id:
                raise DomainError("funds.voucher_needed")
            recipient = await self._payee(actor_id, payee, override)
            check_restriction(fund, recipient)
            check_covered(fund, await self.repo.balance(fund.id), amount_fen)
            needs_approval = amount_fen > self.approval_above_fen
            return await self._record(
                actor_id,
                {
                    "kind": kind.value,
                    "fund_id": fund.id,
                    "amount_fen": amount_fen,
                    "occurred_on": self._day(on),
                    "voucher_file_id": voucher_file_id,
                    "recipient_kind": recipient.kind.value,
                    "recipient_id": recipient.id,
                    "recipient_org_id": recipient.org_id,
                    "recipient_label": recipient.label,
                    "override_reason": override,
                    "reference": reference,
                    "needs_approval": int(needs_approval),
                    "request_key": request_key,
                },
                [] if needs_approval else [(fund.id, -amount_fen)],
            )

    async def transfer(
        self,
        actor_id: int,
        request_key: str,
        from_fund_id: int,
        to_fund_id: int,
        amount_fen: int,
        *,
        reason: str,
        on: date | None = None,
    ) -> Entry:
        self._check_amount(amount_fen)
        if from_fund_id == to_fund_id:
            raise DomainError("funds.transfer_same_fund")
        reason = one_line(
            reason, max_length=MAX_TEXT, empty_key="funds.reason_empty", too_long_key="funds.text_too_long"
        )
        async with self.db.transaction():
            if (existing := await self.repo.entry_by_key(request_key)) is not None:
                return existing
            source, target = await self.fund(from_fund_id), await self.fund(to_fund_id)
            await self._require_keeper(actor_id, source)
            if not narrower_or_equal(target.restriction, source.restriction):
                raise DomainError("funds.rule_restricted_transfer", fund=source.name, to=target.name)
            check_covered(source, await self.repo.balance(source.id), amount_fen)
            return await self._record(
                actor_id,
                {
                    "kind": EntryKind.TRANSFER.value,
                    "fund_id": source.id,
                    "to_fund_id": target.id,
                    "amount_fen": amount_fen,
                    "occurred_on": self._day(on),
                    "reason": reason,
                    "request_key": request_key,
                },
                [(source.id, -amount_fen), (target.id, amount_fen)],
            )

    async def correct(self, actor_id: int, request_key: str, entry_id: int, *, reason: str) -> Entry:
        """A reversing entry with a reason; the original stays. Not of a correction, not twice,
        not of a grant still waiting (refuse it instead), not into a balance below zero."""
        reason = one_line(
            reason, max_length=MAX_TEXT, empty_key="funds.reason_empty", too_long_key="funds.text_too_long"
        )
        async with self.db.transaction():
            if (existing := await self.repo.entry_by_key(request_key)) is not None:
                return existing
            original = await self.entry(entry_id)
            await self.kept_fund(actor_id, original.fund_id)
            if original.kind is EntryKind.CORRECTION:
                raise DomainError("funds.correct_correction", id=entry_id)
            if original.corrected_by is not None:
                raise DomainError("funds.already_corrected", id=entry_id)
            if original.pending:
                raise DomainError("funds.correct_pending", id=entry_id)
            if original.approved is False:
                raise DomainError("funds.correct_refused", id=entry_id)
            reversing = [(fund_id, -delta) for fund_id, delta in postings_of(original)]
            for fund_id, delta in reversing:
                if delta < 0:
                    check_covered(await self.fund(fund_id), await self.repo.balance(fund_id), -delta)
            return await self._record(
                actor_id,
                {
                    "kind": EntryKind.CORRECTION.value,
                    "fund_id": original.fund_id,
                    "to_fund_id": original.to_fund_id,
                    "amount_fen": original.amount_fen,
                    "occurred_on": self._day(None),
                    "reverses_id": original.id,
                    "reason": reason,
                    "request_key": request_key,
                },
                reversing,
            )

    # ---- the two-person rule --------------------------------------------------------------------
    async def pending(self) -> list[Entry]:
        return await self.repo.pending()

    async def decide(self, actor_id: int, entry_id: int, *, approve: bool, note: str | None = None) -> Entry:
        """A second county admin approves (the grant counts from now) or refuses a waiting grant."""
        await self._require_county(actor_id, "funds.approve_not_allowed")
        async with self.db.transaction():
            entry = await self.entry(entry_id)
            if not entry.needs_approval:
                raise DomainError("funds.nothing_to_approve", id=entry_id)
            if not entry.pending:
                return entry  # decided already (a double tap): the first decision stands
            if entry.created_by == actor_id:
                raise PermissionDenied("funds.rule_own_approval")
            now = self.clock.now()
            if approve:
                fund = await self.fund(entry.fund_id)
                check_covered(fund, await self.repo.balance(fund.id), entry.amount_fen)
                await self.repo.add_postings(entry.id, [(fund.id, -entry.amount_fen, self.today())])
            await self.repo.decide(entry.id, approve, actor_id, now, note)
            await self.audit.record(
                now, actor_id, "fund.approve" if approve else "fund.refuse", f"fund:{entry.fund_id}", entry=entry.id
            )
        return written(await self.repo.entry(entry_id), f"entry {entry_id}")
