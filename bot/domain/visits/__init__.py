"""Verification-visit campaigns (走访核实): a county admin's campaign, teams of cadres, the
households of poor students to visit, visits filed in private chat and reviewed, the hub's
progress, the close summary and export, and the verified students grants are paid against.

The parts, one concern each (`VisitService` puts them together):
- rules.py: limits, typed text, distances, forming teams and pairs (pure).
- household_import.py: the households' spreadsheet and its template (pure).
- core.py: dependencies, lookups, and who may do what.
- campaigns.py: create, import, teams, assignment, reassign, hand back, close, export, purge.
- filing.py: a visit step by step (saved at every step: it resumes), and its review.
- progress.py: the hub's progress, the daily reminders, the verified students.

Privacy (PIPL): a household is public only as its student's alias and township; the rest, a
visit's notes, location and photos are private (storage/visits.py keeps them apart), shown
only to the team assigned and the county admins, every view audited, and purged
`purge_after` after the campaign closes.
"""

from __future__ import annotations

from bot.domain.visits.core import DAILY_SUBJECT, VISIT_HANDED_BACK, VISIT_REVIEWED, VisitSettings
from bot.domain.visits.filing import Filing, ReviewCard
from bot.domain.visits.progress import DailyNotice, Overdue
from bot.domain.visits.service import VisitService

__all__ = [
    "DAILY_SUBJECT",
    "VISIT_HANDED_BACK",
    "VISIT_REVIEWED",
    "DailyNotice",
    "Filing",
    "Overdue",
    "ReviewCard",
    "VisitService",
    "VisitSettings",
]
