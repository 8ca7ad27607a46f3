"""The auction's buttons: typed callback payloads."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.callback_data import CallbackData


@dataclass(frozen=True)
class ClaimTap(CallbackData, prefix="ac", in_groups=True):
    """Claim a lot (on the board, or on a private page)."""

    session: int
    wish: int


@dataclass(frozen=True)
class ReleaseTap(CallbackData, prefix="ar"):
    """The winner's release, under their private message."""

    wish: int


@dataclass(frozen=True)
class BrowseTap(CallbackData, prefix="ab"):
    """Private browsing. view: l (the list) / r (the list again: the page's own 🔄 button, from
    which a claim tap also reads the page back) / c, o, g, v (the category, collector, grade,
    value pickers); filters: the active filters as one token; page: 0-based."""

    session: int
    view: str
    filters: str
    page: int


VIEWS = ("l", "r", "c", "o", "g", "v")
