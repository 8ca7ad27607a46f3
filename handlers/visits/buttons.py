"""The campaign's buttons outside conversations: their payloads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.callback_data import CallbackData


class HouseholdChoice(StrEnum):
    OPEN = "open"  # the household's card, with its private details (audited)
    START = "start"  # start or resume its visit
    REASSIGN = "reassign"  # 改派: the team leader (or a county admin) gives it to someone of the team


class ReviewChoice(StrEnum):
    OPEN = "open"
    APPROVE = "approve"
    ISSUES = "issues"
    REJECT = "reject"


class CampaignChoice(StrEnum):
    SHOW = "show"
    TEAMS = "teams"  # let the bot form 7 teams
    TEAMS_BY_HAND = "by_hand"  # the county admin types each team
    REVIEW = "review"
    CLOSE = "close"
    CLOSE_SURE = "close_sure"
    EXPORT = "export"
    EXPORT_PRIVATE = "private"


@dataclass(frozen=True)
class HouseholdTap(CallbackData, prefix="vh"):
    household: int
    action: str  # a HouseholdChoice


@dataclass(frozen=True)
class ReviewTap(CallbackData, prefix="vr"):
    visit: int
    action: str  # a ReviewChoice


@dataclass(frozen=True)
class CampaignTap(CallbackData, prefix="vc"):
    campaign: int
    action: str  # a CampaignChoice
