"""Verification-visit campaigns (走访核实): the records the campaign domain works with.

Public records (`Campaign`, `Team`, `Household`, `Visit`) hold nothing private about a family:
a household is its student's alias and township. What is private (`HouseholdDetails`,
`VisitNotes`) is read only through the audited calls of bot/domain/visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CampaignStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class VisitStatus(StrEnum):
    DRAFT = "draft"  # being filed
    SUBMITTED = "submitted"  # waiting for review
    HAS_ISSUES = "has_issues"  # back with the visitor, with the reviewer's comment
    APPROVED = "approved"
    REJECTED = "rejected"  # the submission is not accepted: the household is visited again


class Matches(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Outcome(StrEnum):
    VERIFIED = "verified"
    NOT_ELIGIBLE = "not_eligible"
    UNREACHABLE = "unreachable"


class Step(StrEnum):
    """Where a visit being filed stands; a visit saved half-way resumes here."""

    MET = "met"
    MATCHES = "matches"
    MATCH_NOTE = "match_note"
    ITEM = "item"  # the next unanswered checklist item
    LOCATION = "location"
    PHOTOS = "photos"
    OUTCOME = "outcome"
    REASON = "reason"
    DONE = "done"


@dataclass(frozen=True)
class Campaign:
    id: int
    title: str
    purpose: str
    starts_at: datetime
    deadline: datetime
    checklist: tuple[str, ...]
    status: CampaignStatus
    hub_chat_id: int | None
    hub_message_id: int | None
    created_by: int
    created_at: datetime
    closed_at: datetime | None
    purged_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.status is CampaignStatus.CLOSED


@dataclass(frozen=True)
class TeamMember:
    user_id: int
    org_id: int | None
    pair: int
    left: bool


@dataclass(frozen=True)
class Team:
    id: int
    campaign_id: int
    number: int
    leader_id: int | None
    org_ids: tuple[int, ...]
    township_ids: tuple[int, ...]
    members: tuple[TeamMember, ...]

    @property
    def active_members(self) -> tuple[TeamMember, ...]:
        return tuple(member for member in self.members if not member.left)


@dataclass(frozen=True)
class Household:
    id: int
    campaign_id: int
    alias: str
    township_id: int
    team_id: int | None
    pair: int | None
    holder: int | None
    revisit_at: datetime | None

    def visitors(self, team: Team | None) -> tuple[int, ...]:
        """Who may file its visit: the holder, else the team's current members of its pair."""
        if self.holder is not None:
            return (self.holder,)
        if team is None or self.pair is None or team.id != self.team_id:
            return ()
        return tuple(member.user_id for member in team.active_members if member.pair == self.pair)


@dataclass(frozen=True)
class HouseholdDetails:
    """The private part of a household, as imported."""

    school: str
    admission: str | None = None
    village: str | None = None
    address: str | None = None
    guardian: str | None = None
    phone: str | None = None
    circumstances: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class HouseholdDraft:
    alias: str
    township_id: int
    details: HouseholdDetails

    @property
    def student_key(self) -> str:
        return student_key(self.township_id, self.alias, self.details.school)


def student_key(township_id: int, alias: str, school: str) -> str:
    """One student: the same alias at the same school in the same township."""
    return f"{township_id}|{''.join(alias.split()).casefold()}|{''.join(school.split()).casefold()}"


@dataclass(frozen=True)
class Visit:
    id: int
    household_id: int
    round: int
    visitor_id: int
    status: VisitStatus
    step: Step
    met: bool | None
    matches: Matches | None
    items_done: tuple[str, ...]
    located: bool
    far: bool
    distance_km: float | None
    photos: int
    outcome: Outcome | None
    started_at: datetime
    submitted_at: datetime | None
    reviewed_by: int | None
    reviewed_at: datetime | None


@dataclass(frozen=True)
class VisitNotes:
    """A visit's private part: what the visitor wrote, where they filed it, the review's comment."""

    match_note: str | None = None
    item_answers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    review_note: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class TeamProgress:
    team: Team
    assigned: int
    visited: int  # submitted, in review or approved (the current round)
    approved: int
    kilometres: float | None  # None: no two locations to measure between


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    teams: tuple[TeamProgress, ...]
    days_left: int

    @property
    def assigned(self) -> int:
        return sum(team.assigned for team in self.teams)

    @property
    def visited(self) -> int:
        return sum(team.visited for team in self.teams)

    @property
    def approved(self) -> int:
        return sum(team.approved for team in self.teams)


@dataclass(frozen=True)
class CloseSummary:
    campaign: Campaign
    teams: int
    townships: int
    households: int
    verified: int
    not_eligible: int
    unreached: int
    days: int


@dataclass(frozen=True)
class OutcomeRow:
    """One household in the outcome export; `details` and `notes` only in the private export."""

    household: Household
    township: str
    team_number: int | None
    visit: Visit | None
    details: HouseholdDetails | None = None
    notes: VisitNotes | None = None
