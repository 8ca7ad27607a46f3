"""Private browsing: cadres page through the lots (`/start auc_<id>` from the board, or `/auction`),
8 lots a page with claim buttons, narrowed by filters (category, collector, grade, value)."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.model.auction import SCHEDULED, LotFacets, LotFilter
from bot.model.wish import WishCategory
from handlers.callback_data import CallbackDataError
from handlers.context import BotContext, Ui, services_of
from handlers.i18n import Raw, Translator

from .buttons import VIEWS, BrowseTap, ClaimTap
from .state import auction_state, forget_page, remember_page
from .texts import VALUE_BANDS, answer_refusal, band_label, category_label, fingerprint, lot_label, shows, when_text

PAGE_SIZE = 8
PICKER_PAGE_SIZE = 8
FACETS_SECONDS = 60.0  # how long the filter pickers' choices are reused


@dataclass(frozen=True)
class Filters:
    """The filters of one person's browsing page, packed into one callback token."""

    category: WishCategory | None = None
    collector: int | None = None
    grade: str | None = None
    band: int | None = None

    @property
    def empty(self) -> bool:
        return self == Filters()

    def token(self) -> str:
        parts = []
        if self.category is not None:
            parts.append("c" + self.category.value)
        if self.collector is not None:
            parts.append(f"o{self.collector}")
        if self.band is not None:
            parts.append(f"v{self.band}")
        if self.grade is not None:
            parts.append("g" + base64.urlsafe_b64encode(self.grade.encode()).decode().rstrip("="))
        return "-".join(parts) or "x"

    @classmethod
    def parse(cls, token: str) -> Filters:
        """From a callback token; anything unreadable (an organisation id of 2^53 or more, "²")
        is refused like an expired button."""
        filters = cls()
        if token == "x":
            return filters
        try:
            for part in token.split("-"):
                kind, value = part[:1], part[1:]
                if kind == "c":
                    filters = replace(filters, category=WishCategory(value))
                elif kind == "o" and (collector := bounds.id_or_none(value)) is not None:
                    filters = replace(filters, collector=collector)
                elif kind == "v" and (band := bounds.natural_or_none(value)) is not None and band < len(VALUE_BANDS):
                    filters = replace(filters, band=band)
                elif kind == "g" and value:
                    grade = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
                    filters = replace(filters, grade=grade)
                else:
                    raise ValueError(part)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError("common.button_expired") from None
        return filters

    def lot_filter(self) -> LotFilter:
        low, high = VALUE_BANDS[self.band] if self.band is not None else (None, None)
        return LotFilter(
            category=self.category, collector_org_id=self.collector, grade=self.grade, min_value=low, max_value=high
        )


def browse_button(label: str, session_id: int, view: str, filters: Filters, page: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=BrowseTap(session=session_id, view=view, filters=filters.token(), page=page).pack()
    )


async def filter_note(t: Translator, services: Services, filters: Filters) -> str:
    parts = []
    if filters.category is not None:
        parts.append(category_label(t, filters.category))
    if filters.collector is not None:
        parts.append((await services.orgs.get(filters.collector)).name)
    if filters.grade is not None:
        parts.append(filters.grade)
    if filters.band is not None:
        parts.append(band_label(t, filters.band))
    return t("auction.browse_filtered", filters=t("auction.rule_separator").join(parts)) if parts else ""


async def page_view(
    services: Services, t: Translator, session_id: int, filters: Filters, page: int, user_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of released, still open lots with claim buttons, filters and ◀ ▶."""
    session = await services.auction.get(session_id)
    if session.state == SCHEDULED:
        return t("auction.browse_not_started", title=session.title, when=Raw(when_text(t, services, session))), None
    if not session.live:
        return t("auction.browse_closed", title=session.title), None
    lots = await services.auction.browse(session_id, user_id, filters.lot_filter(), page + 1, PAGE_SIZE)
    page = lots.page - 1
    collectors = {
        org_id: (await services.orgs.get(org_id)).name for org_id in {wish.collector_org_id for wish in lots.items}
    }
    lines = [
        t(
            "auction.browse_line",
            code=wish.code,
            child=wish.public_label,
            text=wish.text,
            category=category_label(t, wish.category),
            value=wish.value_yuan,
            collector=collectors[wish.collector_org_id],
        )
        for wish in lots.items
    ]
    note = await filter_note(t, services, filters)
    text = t(
        "auction.browse",
        title=session.title,
        total=lots.total,
        page=page + 1,
        pages=lots.pages,
        filtered=note,
        lines=Raw("\n".join(lines) if lines else t("auction.browse_empty")),
    )
    rows = [
        [InlineKeyboardButton(lot_label(t, wish), callback_data=ClaimTap(session=session_id, wish=wish.id).pack())]
        for wish in lots.items
    ]
    navigation = []
    if page > 0:
        navigation.append(browse_button(t("common.button_previous"), session_id, "l", filters, page - 1))
    navigation.append(browse_button(t("auction.button_refresh"), session_id, "r", filters, page))
    if page < lots.pages - 1:
        navigation.append(browse_button(t("common.button_next"), session_id, "l", filters, page + 1))
    rows.append(navigation)
    rows.append(
        [
            browse_button(t("auction.button_filter_category"), session_id, "c", filters, 0),
            browse_button(t("auction.button_filter_collector"), session_id, "o", filters, 0),
        ]
    )
    rows.append(
        [
            browse_button(t("auction.button_filter_grade"), session_id, "g", filters, 0),
            browse_button(t("auction.button_filter_value"), session_id, "v", filters, 0),
        ]
    )
    if not filters.empty:
        rows.append([browse_button(t("auction.button_filter_clear"), session_id, "l", Filters(), 0)])
    return text, InlineKeyboardMarkup(rows)


async def picker_view(
    application: Application, t: Translator, session_id: int, view: str, filters: Filters, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Choose one filter value; every choice leads back to the first page of the list."""
    services = services_of(application)
    session = await services.auction.get(session_id)
    rows: list[list[InlineKeyboardButton]] = []
    choices: list[tuple[str, Filters]]
    if view == "c":
        choices = [(category_label(t, category), replace(filters, category=category)) for category in WishCategory]
        any_filter = replace(filters, category=None)
    elif view == "v":
        choices = [(band_label(t, band), replace(filters, band=band)) for band in range(len(VALUE_BANDS))]
        any_filter = replace(filters, band=None)
    else:
        found = await facets(application, session_id)
        if view == "o":
            choices = [(name, replace(filters, collector=org_id)) for org_id, name in found.collectors]
            any_filter = replace(filters, collector=None)
        else:
            choices = [(grade, replace(filters, grade=grade)) for grade in found.grades]
            any_filter = replace(filters, grade=None)
    pages = max(1, math.ceil(len(choices) / PICKER_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    for label, chosen in choices[page * PICKER_PAGE_SIZE : (page + 1) * PICKER_PAGE_SIZE]:
        try:
            rows.append([browse_button(label, session_id, "l", chosen, 0)])
        except CallbackDataError:  # an unusually long grade: it cannot be a filter button
            continue
    navigation = []
    if page > 0:
        navigation.append(browse_button(t("common.button_previous"), session_id, view, filters, page - 1))
    if page < pages - 1:
        navigation.append(browse_button(t("common.button_next"), session_id, view, filters, page + 1))
    if navigation:
        rows.append(navigation)
    rows.append([browse_button(t("auction.button_filter_any"), session_id, "l", any_filter, 0)])
    return t(f"auction.pick_{view}", title=session.title), InlineKeyboardMarkup(rows)


async def facets(application: Application, session_id: int) -> LotFacets:
    """The filter pickers' choices (the domain's one query), kept for FACETS_SECONDS: a value gone
    meanwhile just filters to an empty page."""
    services = services_of(application)
    cache = auction_state(application).facets
    cached = cache.get(session_id)
    if cached is not None and services.clock.monotonic() - cached[0] < FACETS_SECONDS:
        return cached[1]
    found = await services.auction.facets(session_id)
    cache[session_id] = (services.clock.monotonic(), found)
    return found


async def start_browsing(ui: Ui, session_id: int) -> None:
    """`/start auc_<id>` (the board's button) and `/auction`: a new browsing page."""
    await ui.services.conversations.clear(ui.user_id)
    text, markup = await page_view(ui.services, ui.t, session_id, Filters(), 0, ui.user_id)
    message = await ui.send_text(text, markup)
    application = ui.context.application
    auction_state(application).shown_pages()[(message.chat_id, message.message_id)] = fingerprint(text, markup)
    remember_page(application, ui.t, ui.user_id, session_id, message, (Filters().token(), 0))


async def auction_command(update: Update, context: BotContext) -> None:
    """/auction: the live session's lots; otherwise when the next one starts."""
    ui = Ui(update, context)
    live = await ui.services.auction.live_sessions()
    if len(live) == 1:
        await start_browsing(ui, live[0].id)
        return
    if live:
        rows = [[browse_button(session.title, session.id, "l", Filters(), 0)] for session in live]
        await ui.reply("auction.pick_session", InlineKeyboardMarkup(rows))
        return
    upcoming = await ui.services.auction.upcoming_sessions()
    if upcoming:
        session = upcoming[0]
        await ui.reply("auction.none_live_next", title=session.title, when=Raw(when_text(ui.t, ui.services, session)))
        return
    await ui.reply("auction.none_live")


async def browse_button_tapped(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = BrowseTap.unpack(ui.callback_data)
    view, session_id = values.view, values.session
    if view not in VIEWS or values.page < 0:
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        filters = Filters.parse(values.filters)
        if view in ("l", "r"):
            text, markup = await page_view(ui.services, ui.t, session_id, filters, values.page, ui.user_id)
        else:
            text, markup = await picker_view(context.application, ui.t, session_id, view, filters, values.page)
    except DomainError as error:
        await answer_refusal(ui, error)
        return
    message = ui.query.message
    if not ui.is_private or not isinstance(message, Message):
        # A page button is only ever on a private page; elsewhere, start a fresh page.
        await ui.answer()
        return
    key = (message.chat_id, message.message_id)
    if view in ("l", "r"):
        remember_page(context.application, ui.t, ui.user_id, session_id, message, (filters.token(), values.page))
    else:
        forget_page(context.application, ui.user_id, session_id, key)
    shown = auction_state(context.application).shown_pages()
    print_ = fingerprint(text, markup)
    # The check and the record are one step (no await between them): a background refresh of this
    # page that runs while the tap is answered then sees the record and does not repeat the edit.
    up_to_date = shown.get(key) == print_ or (key not in shown and shows(message, text, markup))
    shown[key] = print_
    if up_to_date:
        await ui.answer("auction.toast_up_to_date")
        return
    await ui.answer()
    await ui.edit_text(text, markup)
