"""Sunshine Home (阳光家园): the children's register, volunteers' profiles, pairing, contacts, figures.

`SunshineService` is the one service; its parts live in their own modules (register, pairing,
contacts, keeping, figures), each a layer over `SunshineCore`.
"""

from __future__ import annotations

from bot.domain.sunshine.contacts import ContactLog
from bot.domain.sunshine.figures import SunshineFigures, SunshineFigureService
from bot.domain.sunshine.keeping import DAILY_SUBJECT, QUIET_CADRES, QUIET_VOLUNTEER
from bot.domain.sunshine.pairing import ANSWERED, HANDED_BACK, PROPOSAL, Pairing

__all__ = [
    "ANSWERED",
    "DAILY_SUBJECT",
    "HANDED_BACK",
    "PROPOSAL",
    "QUIET_CADRES",
    "QUIET_VOLUNTEER",
    "SunshineFigures",
    "SunshineService",
]


class SunshineService(SunshineFigureService, Pairing, ContactLog):
    """The register, pairing, contacts, keeping pairs alive, and the figures, over one database."""
