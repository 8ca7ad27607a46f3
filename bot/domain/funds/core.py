"""The funds ledger's base: its collaborators, who may do what, donors and funds, and how one
entry is written (with its postings and audit line, or found again under its request key).

Who may do what: county admins everything; a fund's owner organisation's admins record its
pledges, receipts, grants and transfers; only county admins add donors and funds, see donors'
contact details (each view audited), approve a grant above the threshold (never their own), and
override the "verified in a closed campaign" rule with a reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied, one_line
from bot.domain.feature_config import FundsConfig
from bot.domain.funds.amounts import FEN_PER_YUAN
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.verified_students import VerifiedStudents
from bot.model.funds import (
    Donor,
    DonorContact,
    DonorKind,
    DueInstalment,
    Entry,
    Fund,
    Instalment,
    Restriction,
)
from bot.model.verification import VerifiedStudent
from storage.audit import AuditRepository
from storage.db import Database, to_db_time, written
from storage.funds import FundRepository

MAX_NAME = 60
MAX_TEXT = 200
UNRESTRICTED = Restriction()
# Far enough ahead for "every instalment not paid yet, whatever its date".
LAST_DAY = date(9999, 12, 31)


class FundCore:
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
        # Called after a pledge is recorded (the pledge reminders keep their schedule): wired by
        # Services.build.
        self.after_pledge: Callable[[], Awaitable[None]] | None = None

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

    async def kept_fund(self, actor_id: int, fund_id: int) -> Fund:
        """The fund, if this person keeps its books (else PermissionDenied naming it)."""
        fund = await self.fund(fund_id)
        await self._require_keeper(actor_id, fund)
        return fund

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

    async def donors_for(self, actor_id: int) -> list[Donor]:
        """The donor list, for those who keep a fund's books (county admins: all)."""
        if not await self.funds_for(actor_id):
            raise PermissionDenied("funds.reports_not_allowed")
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

    async def open_instalments(self, donor_id: int, fund_id: int) -> list[DueInstalment]:
        """The donor's unpaid instalments to this fund, due or not yet due."""
        unpaid = await self.repo.unpaid_instalments(LAST_DAY)
        return [
            item for item in unpaid if item.donor_id == donor_id and item.fund_name == (await self.fund(fund_id)).name
        ]

    async def verified_students(self) -> list[VerifiedStudent]:
        """The students the campaigns verified (public aliases), to pick from for a grant."""
        return await self.verified.all_verified()
