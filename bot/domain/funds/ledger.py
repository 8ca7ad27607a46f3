"""The funds ledger's service: donors, funds, and the append-only entries with their rules.

Who may do what: county admins everything; a fund's owner organisation's admins record its
pledges, receipts, grants and transfers; only county admins see donors' contact details (each view
audited), approve a grant above the threshold (never their own), and override the "verified in a
closed campaign" rule with a reason.

Every write takes a `request_key` (the handler's: the chat and message, or the confirmation
button's token): an entry whose key is already recorded is returned as it is, so a double tap or a
resent message records once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.config import FundsConfig
from bot.domain.errors import DomainError, PermissionDenied, one_line
from bot.domain.funds.amounts import FEN_PER_YUAN, yuan_text
from bot.domain.funds.rules import check_covered, check_restriction, narrower_or_equal, postings_of
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.verified_students import VerifiedStudents
from bot.model.funds import (
    PAYING_OUT,
    Donor,
    DonorContact,
    DonorKind,
    Entry,
    EntryKind,
    Fund,
    Instalment,
    Recipient,
    RecipientKind,
    Restriction,
)
from storage.audit import AuditRepository
from storage.db import Database, to_db_time, written
from storage.funds import FundRepository

MAX_NAME = 60
UNRESTRICTED = Restriction()
MAX_TEXT = 200


@dataclass(frozen=True)
class Payee:
    """Whom a grant or expense pays, as the requester names it. For a student `id` is the
    household (its alias and township come from the campaign); for a village the village's
    organisation; for an activity or a wish, its id with its public `label` and `org_id`."""

    kind: RecipientKind
    id: int
    label: str | None = None
    org_id: int | None = None


class FundService:
    def __init__(
        self,
        db: Database,
        repo: FundRepository,
        orgs: OrganisationService,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        zone: ZoneInfo,
        verified: VerifiedStudents,
        settings: FundsConfig,
    ) -> None:
        self.db = db
        self.repo = repo
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.zone = zone
        self.verified = verified
        self.settings = settings

    @property
    def approval_above_fen(self) -> int:
        return self.settings.approval_above_yuan * FEN_PER_YUAN

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    # ---- permissions ----------------------------------------------------------------------------
    async def _require_county(self, actor_id: int, key: str = "funds.county_only") -> None:
        if not await self.permissions.is_county_admin(actor_id):
            raise PermissionDenied(key)

    async def can_keep(self, actor_id: int, fund: Fund) -> bool:
        return await self.permissions.can_manage_org(actor_id, fund.owner_org_id)

    async def _require_keeper(self, actor_id: int, fund: Fund) -> None:
        if not await self.can_keep(actor_id, fund):
            raise PermissionDenied("funds.keeper_only", fund=fund.name)

    async def funds_for(self, actor_id: int) -> list[Fund]:
        """The funds this person keeps (county admins: all)."""
        return [fund for fund in await self.repo.funds() if await self.can_keep(actor_id, fund)]

    # ---- donors and funds -----------------------------------------------------------------------
    async def add_donor(
        self,
        actor_id: int,
        kind: DonorKind,
        name: str,
        *,
        public_name: str | None = None,
        anonymous: bool = False,
        contact: DonorContact | None = None,
    ) -> Donor:
        await self._require_county(actor_id)
        name = one_line(name, max_length=MAX_NAME, empty_key="funds.name_empty", too_long_key="funds.name_too_long")
        shown = " ".join((public_name or "").split()) or None
        async with self.db.transaction():
            if await self.repo.donor_named(name) is not None:
                raise DomainError("funds.donor_exists", name=name)
            now = self.clock.now()
            donor = await self.repo.add_donor(kind, name, shown, anonymous, actor_id, now)
            if contact is not None and not contact.empty:
                await self.repo.put_contact(donor.id, contact, actor_id, now)
            await self.audit.record(now, actor_id, "fund.donor_add", f"donor:{donor.id}", kind=kind.value)
        return donor

    async def donor(self, donor_id: int) -> Donor:
        donor = await self.repo.donor(donor_id)
        if donor is None:
            raise DomainError("funds.no_donor", id=donor_id)
        return donor

    async def donors(self) -> list[Donor]:
        return await self.repo.donors()

    async def contact(self, actor_id: int, donor_id: int) -> DonorContact | None:
        """A donor's contact details: county admins only; every view is audited."""
        await self._require_county(actor_id, "funds.contact_not_allowed")
        async with self.db.transaction():
            donor = await self.donor(donor_id)
            contact = await self.repo.contact(donor.id)
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "fund.donor_contact_view",
                f"donor:{donor.id}",
                fields=contact.filled_fields() if contact else [],
            )
        return contact

    async def add_fund(
        self, actor_id: int, name: str, purpose: str, owner_org_id: int, restriction: Restriction = UNRESTRICTED
    ) -> Fund:
        await self._require_county(actor_id)
        name = one_line(name, max_length=MAX_NAME, empty_key="funds.name_empty", too_long_key="funds.name_too_long")
        purpose = one_line(
            purpose, max_length=MAX_TEXT, empty_key="funds.purpose_empty", too_long_key="funds.text_too_long"
        )
        await self.orgs.get(owner_org_id)
        for org_id in restriction.org_ids:
            await self.orgs.get(org_id)
        async with self.db.transaction():
            if await self.repo.fund_named(name) is not None:
                raise DomainError("funds.fund_exists", name=name)
            now = self.clock.now()
            fund = await self.repo.add_fund(name, purpose, owner_org_id, restriction, actor_id, now)
            await self.audit.record(now, actor_id, "fund.add", f"fund:{fund.id}", owner=owner_org_id)
        return fund

    async def fund(self, fund_id: int) -> Fund:
        fund = await self.repo.fund(fund_id)
        if fund is None:
            raise DomainError("funds.no_fund", id=fund_id)
        return fund

    async def funds(self) -> list[Fund]:
        return await self.repo.funds()

    async def entry(self, entry_id: int) -> Entry:
        entry = await self.repo.entry(entry_id)
        if entry is None:
            raise DomainError("funds.no_entry", id=entry_id)
        return entry

    async def instalments(self, pledge_id: int) -> list[Instalment]:
        return await self.repo.instalments(pledge_id)

    async def balance(self, fund_id: int) -> int:
        return await self.repo.balance(fund_id)

    # ---- recording ------------------------------------------------------------------------------
    async def _record(self, actor_id: int, values: dict[str, Any], postings: Sequence[tuple[int, int]]) -> Entry:
        """Inside the caller's transaction: the entry, its postings and the audit line, or the
        entry already recorded under the same request key."""
        now = self.clock.now()
        values = {**values, "created_by": actor_id, "created_at": to_db_time(now)}
        entry_id = await self.repo.add_entry(values)
        if entry_id is None:
            return written(await self.repo.entry_by_key(values["request_key"]), "a repeated entry")
        on = date.fromisoformat(values["occurred_on"])
        if postings:
            await self.repo.add_postings(entry_id, [(fund_id, delta, on) for fund_id, delta in postings])
        await self.audit.record(
            now,
            actor_id,
            f"fund.{values['kind']}",
            f"fund:{values['fund_id']}",
            entry=entry_id,
            amount_fen=values["amount_fen"],
        )
        return written(await self.repo.entry(entry_id), f"entry {entry_id}")

    @staticmethod
    def _check_amount(amount_fen: int) -> None:
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise DomainError("funds.amount_negative", text=str(amount_fen))

    def _day(self, on: date | None) -> str:
        return (on or self.today()).isoformat()

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
            fund = await self.fund(fund_id)
            await self._require_keeper(actor_id, fund)
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
            fund = await self.fund(fund_id)
            await self._require_keeper(actor_id, fund)
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
            fund = await self.fund(fund_id)
            await self._require_keeper(actor_id, fund)
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
            fund = await self.fund(original.fund_id)
            await self._require_keeper(actor_id, fund)
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
