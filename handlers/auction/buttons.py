"""The auction's buttons: typed callback payloads, and reading the tap back."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Update

from handlers.callback_data import CallbackData, CallbackDataError


@dataclass(frozen=True)
class ClaimTap(CallbackData, prefix="ac"):
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


def query_of(update: Update) -> CallbackQuery:
    """The tap behind an update (the handlers here are registered for button taps only)."""
    query = update.callback_query
    if query is None:
        raise CallbackDataError("not a button tap")
    return query


def data_of(update: Update) -> str:
    data = query_of(update).data
    if data is None:
        raise CallbackDataError("a tap without data")
    return data
