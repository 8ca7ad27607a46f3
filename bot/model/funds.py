"""Donations and funds: donors, funds, the append-only ledger's entries, and its reports.

Money is integer fen (分) everywhere; yuan appear only when text is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class DonorKind(StrEnum):
    ORGANISATION = "organisation"
    COMPANY = "company"
    INDIVIDUAL = "individual"


class EntryKind(StrEnum):
    PLEDGE = "pledge"  # promised; moves no money
    RECEIPT = "receipt"  # money in
    GRANT = "grant"  # money out to a student, a village, an activity or a wish
    EXPENSE = "expense"  # money out for a purchase (e.g. a wish's)
    TRANSFER = "transfer"  # money from one fund to another
    CORRECTION = "correction"  # reverses one earlier entry; the original stays


class RecipientKind(StrEnum):
    STUDENT = "student"
    VILLAGE = "village"
    ACTIVITY = "activity"
    WISH = "wish"


PAYING_OUT = (EntryKind.GRANT, EntryKind.EXPENSE)


@dataclass(frozen=True)
class Donor:
    id: int
    kind: DonorKind
    name: str
    public_name: str | None
    anonymous: bool
    created_by: int
    created_at: datetime

    @property
    def shown_name(self) -> str | None:
        """The name shown in public (a thank-you, a statement); None: anonymous."""
        if self.anonymous:
            return None
        return self.public_name or self.name


@dataclass(frozen=True)
class DonorContact:
    """Private to county admins; every view is audited."""

    contact_person: str | None = None
    phone: str | None = None
    address: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.contact_person or self.phone or self.address)

    def filled_fields(self) -> list[str]:
        return [name for name in ("contact_person", "phone", "address") if getattr(self, name)]


@dataclass(frozen=True)
class Restriction:
    """What a fund may pay: [] means any."""

    org_ids: tuple[int, ...] = ()
    kinds: tuple[RecipientKind, ...] = ()

    @property
    def none(self) -> bool:
        return not self.org_ids and not self.kinds


@dataclass(frozen=True)
class Fund:
    id: int
    name: str
    purpose: str
    owner_org_id: int
    restriction: Restriction
    created_by: int
    created_at: datetime


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: RecipientKind
    id: int | None  # the household, the village organisation, the activity, the wish
    org_id: int | None  # the organisation it went to (the village, the student's township…)
    label: str  # public words only: a student's alias, a village's name, an activity's title


@dataclass(frozen=True, slots=True)  # slots: a province's ledger holds 200,000 of them
class Entry:
    id: int
    kind: EntryKind
    fund_id: int
    amount_fen: int
    occurred_on: date
    created_by: int
    created_at: datetime
    request_key: str
    donor_id: int | None = None
    pledge_id: int | None = None
    instalment_no: int | None = None
    method: str | None = None
    reference: str | None = None
    voucher_file_id: str | None = None
    recipient: Recipient | None = None
    to_fund_id: int | None = None
    reverses_id: int | None = None
    reason: str | None = None
    override_reason: str | None = None
    responsible_id: int | None = None
    needs_approval: bool = False
    # From fund_decisions: None while a grant waits for its second admin.
    approved: bool | None = None
    decided_by: int | None = None
    corrected_by: int | None = None  # the correction reversing this entry, if any

    @property
    def counts(self) -> bool:
        """Moves money now: not waiting for approval, not refused."""
        return not self.needs_approval or self.approved is True

    @property
    def pending(self) -> bool:
        return self.needs_approval and self.approved is None


@dataclass(frozen=True)
class Posting:
    entry_id: int
    fund_id: int
    delta_fen: int
    occurred_on: date


@dataclass(frozen=True)
class Balance:
    fund: Fund
    received_fen: int  # receipts and transfers in (net of their corrections)
    paid_fen: int  # grants, expenses and transfers out (net of their corrections)
    balance_fen: int
    pending_fen: int  # grants waiting for approval


@dataclass(frozen=True)
class DueInstalment:
    pledge_id: int
    number: int
    due_on: date
    amount_fen: int
    donor_id: int
    donor_shown: str | None
    fund_id: int
    fund_name: str
    responsible_id: int


@dataclass(frozen=True)
class Total:
    """One group of a report: money in and out."""

    label: str
    received_fen: int = 0
    paid_fen: int = 0


@dataclass(frozen=True)
class StatementLine:
    on: date
    kind: EntryKind
    fund_name: str
    amount_fen: int
    label: str  # public words: a method, a student's alias, a village's name


@dataclass(frozen=True)
class DonorStatement:
    donor: Donor
    pledged_fen: int
    received_fen: int
    gifts: list[StatementLine] = field(default_factory=list)
    paid_for: list[StatementLine] = field(default_factory=list)  # what the donor's funds paid


@dataclass(frozen=True)
class YearFunds:
    """The year-end report's figures: "45 家单位捐资 18 万元…"."""

    year: int
    donors: int
    received_fen: int
    students: int
    students_fen: int
    villages: int
    villages_fen: int
    paid_fen: int
