"""Plain records the repositories return; nothing here knows about SQL or Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrgKind(StrEnum):
    COUNTY_COMMITTEE = "county_committee"
    COUNTY_LEVEL = "county_level"
    TOWNSHIP = "township"
    VILLAGE_BRANCH = "village_branch"
    SCHOOL = "school"
    OTHER = "other"


class Role(StrEnum):
    ORG_ADMIN = "org_admin"
    CADRE = "cadre"


class Binding(StrEnum):
    HUB = "hub"
    ORG = "org"


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    kind: OrgKind
    parent_id: int | None
    deeds_quota: int
    archived_at: datetime | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.archived_at is None


@dataclass(frozen=True)
class Person:
    user_id: int
    display_name: str
    username: str | None
    real_name: str | None
    phone: str | None
    language: str | None
    telegram_language: str | None
    promoted_admin: bool
    started: bool


@dataclass(frozen=True)
class Membership:
    id: int
    org_id: int
    user_id: int
    role: Role
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None


@dataclass(frozen=True)
class JoinRequest:
    id: int
    org_id: int
    user_id: int
    status: str
    created_at: datetime
    decided_by: int | None


@dataclass(frozen=True)
class Handover:
    id: int
    org_id: int
    from_user_id: int
    to_user_id: int
    status: str
    created_at: datetime
    notice_days: int = 0  # read access the predecessor keeps after leaving (never private details)


@dataclass(frozen=True)
class ChatRecord:
    id: int
    chat_id: int
    title: str
    type: str
    active: bool
    binding: Binding | None
    org_id: int | None


@dataclass(frozen=True)
class Conversation:
    user_id: int
    flow: str
    step: str
    data: dict[str, object]  # JSON: what the conversation has collected so far


@dataclass(frozen=True)
class OrgRow:
    """One valid row of an organisations import file."""

    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str
    kind: OrgKind
    parent_name: str | None
    deeds_quota: int


@dataclass(frozen=True)
class Scope:
    """Which organisations figures, charts and exports cover: the whole county (org_id None), one
    organisation, or a township committee with its village branches added up."""

    org_id: int | None = None
    with_villages: bool = False

    @property
    def token(self) -> int:
        """For a button's payload: 0 the county, the organisation's id, minus the township's id
        for the township with its villages."""
        if self.org_id is None:
            return 0
        return -self.org_id if self.with_villages else self.org_id

    @classmethod
    def from_token(cls, token: int) -> Scope:
        if token == 0:
            return cls()
        return cls(abs(token), with_villages=token < 0)
