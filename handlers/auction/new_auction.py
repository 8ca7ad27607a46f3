"""/newauction (county admins, private): a conversation that ends in `services.auction.create` and
an announcement in the hub; the domain sets the reminders before the start."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.domain.auction import LotSelection, SessionDraft
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.model.wish import WishCategory
from handlers.context import BotContext, Ui, clean
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Raw
from handlers.scheduling import schedule_wake
from handlers.typed_time import parse_start

from .hub import announce, hub_chat_id
from .texts import VALUE_BANDS, band_label, category_label, when_text

DURATION_CHOICES = (15, 30, 45, 60)
DEFAULT_DURATION = 30
DEFAULT_DEADLINE_DAYS = 14
_RANGE = re.compile(r"(\d{1,6})?\s*(?:-|~|～|—|到|至)\s*(\d{1,6})?")
_UNITS = ("分钟", "分鐘", "minutes", "minute", "mins", "min", "分", "个", "個", "天", "days", "day", "人")
_NO_CAP_WORDS = ("不限", "无", "没有", "none", "no", "-")


def without_unit(text: str) -> str:
    """ "45分钟", "20个", "14天" → "45", "20", "14": the domain's checks then read the number."""
    typed = clean(text).lower()
    for unit in _UNITS:
        if typed.endswith(unit):
            return typed.removesuffix(unit).strip()
    return typed


class NewAuctionFlow(Flow):
    """Title → start → duration → lots → cap per org → cap per person → deadline → waves → confirm."""

    name = "au"

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await ui.services.auction.require_creator(ui.user_id)
        if await hub_chat_id(ui.services) is None:
            await self.finish(ui)
            await ui.reply("auction.new_no_hub")
            return
        await self.go(ui, "title", {})
        await ui.reply("auction.ask_title", self.cancel_markup(ui))

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        title = ui.services.auction.check_title(clean(text))
        await self.go(ui, "start", {"title": title})
        await ui.reply("auction.ask_start", self.cancel_markup(ui), title=title)

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "auction")
        await self.go(ui, "duration", {**data, "starts_at": starts_at.isoformat()})
        buttons = [
            self.choice(
                ui,
                "duration",
                minutes,
                "auction.button_duration_default" if minutes == DEFAULT_DURATION else "auction.button_duration",
                minutes=minutes,
            )
            for minutes in DURATION_CHOICES
        ]
        await ui.reply(
            "auction.ask_duration",
            InlineKeyboardMarkup([buttons, self.cancel_row(ui)]),
            when=local_text(starts_at, ui.services.config.zone),
            default=DEFAULT_DURATION,
        )

    async def choice_duration(self, ui: Ui, data: dict, value: str) -> None:
        await self._duration(ui, data, choice_id(value))

    async def text_duration(self, ui: Ui, data: dict, text: str) -> None:
        await self._duration(ui, data, without_unit(text))

    async def _duration(self, ui: Ui, data: dict, minutes: int | str) -> None:
        await self._ask_lots(ui, {**data, "duration": ui.services.auction.check_duration(minutes)})

    async def _ask_lots(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "lots", data)
        count = await ui.services.auction.preview(LotSelection())
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "lots", "all", "auction.button_lots_all", count=count)],
                [
                    self.choice(ui, "lots", "org", "auction.button_lots_org"),
                    self.choice(ui, "lots", "category", "auction.button_lots_category"),
                ],
                [
                    self.choice(ui, "lots", "value", "auction.button_lots_value"),
                    self.choice(ui, "lots", "codes", "auction.button_lots_codes"),
                ],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("auction.ask_lots", markup, count=count)

    async def choice_lots(self, ui: Ui, data: dict, value: str) -> None:
        if value == "all":
            await self._selected(ui, data, LotSelection())
        elif value == "org":
            await self.go(ui, "lots_org", data)
            await ui.edit("auction.ask_lots_org", self.paged(ui, "lots_org", await self._orgs(ui), 0))
        elif value == "category":
            await self.go(ui, "lots_category", data)
            buttons = [
                self.button(ui, "lots_category", category.value, category_label(ui.t, category))
                for category in WishCategory
            ]
            rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
            await ui.edit("auction.ask_lots_category", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))
        elif value == "value":
            await self.go(ui, "lots_value", data)
            rows = [[self.button(ui, "lots_value", band, band_label(ui.t, band))] for band in range(len(VALUE_BANDS))]
            await ui.edit("auction.ask_lots_value", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))
        elif value == "codes":
            await self.go(ui, "lots_codes", data)
            await ui.edit("auction.ask_lots_codes", self.cancel_markup(ui))
        else:
            raise DomainError("common.button_expired")

    async def text_lots(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("auction.lots_tap")

    async def _orgs(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        orgs = await ui.services.orgs.visible_to(ui.user_id, search or None)
        return [(org.id, org.name) for org in orgs]

    async def choice_lots_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await ui.edit("auction.ask_lots_org", self.paged(ui, "lots_org", await self._orgs(ui), page))
            return
        org = await ui.services.orgs.get(choice_id(value))
        await self._selected(ui, data, LotSelection(all_open=False, collector_org_ids=(org.id,)), note=org.name)

    async def text_lots_org(self, ui: Ui, data: dict, text: str) -> None:
        search = clean(text)[:30]
        found = await self._orgs(ui, search)
        if not found:
            raise DomainError("auction.org_search_nothing", text=search)
        await ui.reply("auction.org_search_results", self.paged(ui, "lots_org", found, 0), count=len(found))

    async def choice_lots_category(self, ui: Ui, data: dict, value: str) -> None:
        try:
            category = WishCategory(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        await self._selected(
            ui, data, LotSelection(all_open=False, categories=(category,)), note=category_label(ui.t, category)
        )

    async def text_lots_category(self, ui: Ui, data: dict, text: str) -> None:
        typed = clean(text).lower()
        for category in WishCategory:
            if typed in (category.value, category_label(ui.t, category).lower()):
                await self._selected(
                    ui, data, LotSelection(all_open=False, categories=(category,)), note=category_label(ui.t, category)
                )
                return
        options = ui.t("auction.list_separator").join(category_label(ui.t, c) for c in WishCategory)
        raise DomainError("auction.category_unknown", text=text[:20], options=options)

    async def choice_lots_value(self, ui: Ui, data: dict, value: str) -> None:
        band = choice_id(value)
        if band >= len(VALUE_BANDS):
            raise DomainError("common.button_expired")
        low, high = VALUE_BANDS[band]
        await self._selected(
            ui, data, LotSelection(all_open=False, min_value=low, max_value=high), note=band_label(ui.t, band)
        )

    async def text_lots_value(self, ui: Ui, data: dict, text: str) -> None:
        typed = clean(text).replace("元", "").replace(" ", "")
        match = _RANGE.fullmatch(typed)
        if match is None or not (match.group(1) or match.group(2)):
            raise DomainError("auction.value_range_unreadable", text=text[:20])
        low = int(match.group(1)) if match.group(1) else None
        high = int(match.group(2)) if match.group(2) else None
        if low is not None and high is not None:
            note = ui.t("auction.range_between", low=low, high=high)
        elif low is not None:
            note = ui.t("auction.range_from", low=low, high="")
        else:
            note = ui.t("auction.range_upto", low="", high=high)
        await self._selected(ui, data, LotSelection(all_open=False, min_value=low, max_value=high), note=note)

    async def text_lots_codes(self, ui: Ui, data: dict, text: str) -> None:
        codes = tuple(code for code in re.split(r"[\s,，、;；]+", clean(text)) if code)
        if not codes:
            raise DomainError("auction.codes_empty")
        await self._selected(
            ui, data, LotSelection(all_open=False, codes=codes), note=ui.t("auction.codes_note", count=len(codes))
        )

    async def _selected(self, ui: Ui, data: dict, selection: LotSelection, note: str = "") -> None:
        count = await ui.services.auction.preview(selection)
        if count == 0:
            raise DomainError("auction.lots_none")
        data = {
            **data,
            "selection": selection_to_json(selection),
            "lots": count,
            "lots_note": note or ui.t("auction.lots_note_all"),
        }
        await self.go(ui, "cap_org", data)
        await ui.reply(
            "auction.ask_cap_org",
            self._skip(ui, "cap_org", "auction.button_no_cap"),
            count=count,
            selection=data["lots_note"],
        )

    def _skip(self, ui: Ui, step: str, key: str, **params: object) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "none", key, **params)], self.cancel_row(ui)])

    def _cap(self, ui: Ui, text: str) -> int | None:
        if clean(text).lower() in _NO_CAP_WORDS:
            return None
        return ui.services.auction.check_caps(without_unit(text) or text)

    async def text_cap_org(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_cap_person(ui, {**data, "cap_org": self._cap(ui, text)})

    async def choice_cap_org(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._ask_cap_person(ui, {**data, "cap_org": None})

    async def _ask_cap_person(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "cap_person", data)
        await ui.reply("auction.ask_cap_person", self._skip(ui, "cap_person", "auction.button_no_cap"))

    async def text_cap_person(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_deadline(ui, {**data, "cap_person": self._cap(ui, text)})

    async def choice_cap_person(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._ask_deadline(ui, {**data, "cap_person": None})

    async def _ask_deadline(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "deadline", data)
        markup = InlineKeyboardMarkup(
            [
                [
                    self.choice(
                        ui,
                        "deadline",
                        DEFAULT_DEADLINE_DAYS,
                        "auction.button_deadline_default",
                        days=DEFAULT_DEADLINE_DAYS,
                    )
                ],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("auction.ask_deadline", markup, days=DEFAULT_DEADLINE_DAYS)

    async def text_deadline(self, ui: Ui, data: dict, text: str) -> None:
        days = ui.services.auction.check_deadline_days(without_unit(text))
        await self._ask_waves(ui, {**data, "deadline_days": days})

    async def choice_deadline(self, ui: Ui, data: dict, value: str) -> None:
        days = ui.services.auction.check_deadline_days(choice_id(value))
        await self._ask_waves(ui, {**data, "deadline_days": days})

    async def _ask_waves(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "waves", data)
        await ui.reply("auction.ask_waves", self._skip(ui, "waves", "auction.button_no_waves"), lots=data["lots"])

    async def text_waves(self, ui: Ui, data: dict, text: str) -> None:
        if clean(text).lower() in _NO_CAP_WORDS:
            await self._confirm(ui, {**data, "wave_size": None, "wave_every": None})
            return
        waves = ui.services.auction.check_waves(clean(text), duration_minutes=data["duration"], lot_count=data["lots"])
        size, every = waves if waves is not None else (None, None)
        await self._confirm(ui, {**data, "wave_size": size, "wave_every": every})

    async def choice_waves(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._confirm(ui, {**data, "wave_size": None, "wave_every": None})

    def _draft(self, data: dict) -> SessionDraft:
        return SessionDraft(
            title=data["title"],
            starts_at=datetime.fromisoformat(data["starts_at"]),
            duration_minutes=data["duration"],
            selection=selection_from_json(data["selection"]),
            cap_per_org=data["cap_org"],
            cap_per_person=data["cap_person"],
            deadline_days=data["deadline_days"],
            wave_size=data["wave_size"],
            wave_every_minutes=data["wave_every"],
        )

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        t = ui.t
        starts_at = datetime.fromisoformat(data["starts_at"])
        caps = [
            t("auction.rule_cap_org", count=data["cap_org"]) if data["cap_org"] else t("auction.rule_cap_org_none"),
            t("auction.rule_cap_person", count=data["cap_person"])
            if data["cap_person"]
            else t("auction.rule_cap_person_none"),
        ]
        waves = (
            t("auction.rule_waves", size=data["wave_size"], every=data["wave_every"])
            if data["wave_size"]
            else t("auction.waves_none")
        )
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "auction.button_create")], self.cancel_row(ui)]
        )
        await show(
            ui,
            t(
                "auction.confirm",
                title=data["title"],
                when=local_text(starts_at, ui.services.config.zone),
                duration=data["duration"],
                lots=data["lots"],
                selection=data["lots_note"],
                caps=t("auction.rule_separator").join(caps),
                days=data["deadline_days"],
                waves=waves,
            ),
            markup,
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        try:
            session = await ui.services.auction.create(ui.user_id, self._draft(data))
        except DomainError as error:
            if error.key == "auction.err_start_in_past":
                # The start passed while they were deciding: ask for the time again.
                await self.go(ui, "start", {"title": data["title"]})
                raise DomainError("auction.start_passed") from None
            raise
        await self.finish(ui)
        application = ui.context.application
        announced = await announce(application, session)
        await schedule_wake(application)  # the reminders before the start
        await ui.edit(
            "auction.created",
            title=session.title,
            count=session.lot_count,
            when=Raw(when_text(ui.t, ui.services, session)),
            announced=ui.t.raw("auction.created_announced" if announced else "auction.created_not_announced"),
        )


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)


def selection_to_json(selection: LotSelection) -> dict[str, object]:
    return {
        "all_open": selection.all_open,
        "orgs": list(selection.collector_org_ids),
        "categories": [category.value for category in selection.categories],
        "min": selection.min_value,
        "max": selection.max_value,
        "codes": list(selection.codes),
    }


def selection_from_json(data: dict[str, Any]) -> LotSelection:
    return LotSelection(
        all_open=data["all_open"],
        collector_org_ids=tuple(data["orgs"]),
        categories=tuple(WishCategory(value) for value in data["categories"]),
        min_value=data["min"],
        max_value=data["max"],
        codes=tuple(data["codes"]),
    )


async def newauction_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewAuctionFlow).start(Ui(update, context))
