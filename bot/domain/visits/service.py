"""`VisitService`: a campaign's life, its visits and their review, and its progress, as one
service; it is also the `VerifiedStudents` the funds ledger pays against."""

from __future__ import annotations

from bot.domain.visits.campaigns import VisitCampaigns
from bot.domain.visits.filing import VisitFiling
from bot.domain.visits.progress import VisitProgress


class VisitService(VisitCampaigns, VisitFiling, VisitProgress):
    """Each part is a `VisitCore` (bot/domain/visits/core.py): the same dependencies, lookups
    and rules about who may do what; this class only puts them together."""
