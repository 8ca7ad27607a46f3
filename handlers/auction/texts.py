"""How the auction reads: labels, the rules and times of a session, and what a message shows.

Privacy: the board, the announcement and the summary show only the wish code, "alias · grade",
the wish text and organisation names; the child's private details are reachable only through
`/wish W0012` (handlers/wishes/), which checks who asks.
"""

from __future__ import annotations

import html
import json
import re

from telegram import InlineKeyboardMarkup, Message
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.domain.formatting import DATE, local_text
from bot.domain.services import Services
from bot.model.auction import AuctionSession
from bot.model.wish import Wish, WishCategory
from handlers.context import Ui
from handlers.i18n import Translator

LABEL_TEXT = 12  # characters of the wish text on a claim button
VALUE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 50), (51, 100), (101, 200), (201, None))
_TAG = re.compile(r"<[^>]+>")


def category_label(t: Translator, category: WishCategory | str) -> str:
    return t(f"wishes.category.{WishCategory(category).value}")


def band_label(t: Translator, band: int) -> str:
    low, high = VALUE_BANDS[band]
    if low is None:
        return t("auction.band_upto", max=high)
    if high is None:
        return t("auction.band_over", min=low)
    return t("auction.band_between", min=low, max=high)


def lot_label(t: Translator, wish: Wish) -> str:
    text = wish.text if len(wish.text) <= LABEL_TEXT else wish.text[: LABEL_TEXT - 1] + "…"
    return t("auction.button_claim", code=wish.code, text=text, value=wish.value_yuan)


def fit_lines(t: Translator, lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], t("auction.lines_more", count=len(lines) - limit)]


def rules_text(t: Translator, services: Services, session: AuctionSession) -> str:
    parts = [
        t("auction.rule_cap_org", count=session.cap_per_org) if session.cap_per_org else t("auction.rule_cap_org_none"),
        t("auction.rule_cap_person", count=session.cap_per_person)
        if session.cap_per_person
        else t("auction.rule_cap_person_none"),
        t("auction.rule_deadline", deadline=local_text(session.fulfilment_deadline, services.config.zone, DATE)),
    ]
    if session.wave_size and session.wave_every_minutes:
        parts.append(t("auction.rule_waves", size=session.wave_size, every=session.wave_every_minutes))
    return t("auction.rule_separator").join(parts)


def when_text(t: Translator, services: Services, session: AuctionSession) -> str:
    start = session.starts_at.astimezone(services.config.zone)
    end = session.ends_at.astimezone(services.config.zone)
    minutes = round((session.ends_at - session.starts_at).total_seconds() / 60)
    return t(
        "auction.when",
        date=f"{start:%Y-%m-%d}",
        weekday=t(f"schedule.weekday_{start.weekday()}"),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        minutes=minutes,
    )


def deep_link(application: Application, session_id: int) -> str:
    return f"https://t.me/{application.bot.username}?start=auc_{session_id}"


def fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    return text + "\x00" + json.dumps(markup.to_dict() if markup else None, sort_keys=True)


def shows(message: Message | None, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether a message already shows this HTML text and keyboard (an edit would be refused)."""
    if message is None or message.text is None:
        return False
    plain = html.unescape(_TAG.sub("", text))
    current = message.reply_markup.to_dict() if message.reply_markup else None
    wanted = markup.to_dict() if markup else None
    return plain.strip() == message.text.strip() and json.dumps(current, sort_keys=True) == json.dumps(
        wanted, sort_keys=True
    )


async def answer_refusal(ui: Ui, error: DomainError) -> None:
    """A refusal as the tap's answer (an alert holds at most 200 characters)."""
    await ui.query.answer(ui.t(error.key, **error.params)[:200], show_alert=True)
