"""/contact: a volunteer logs one contact with a paired child in a few taps.

pair (when more than one) → date (today, yesterday, or typed) → kind → minutes (buttons or
typed) → note (optional) → photo (optional; the step warns against faces and names) → saved.
The conversation carries an idempotency key made when it starts: the same contact submitted
twice (a double tap, an update handled again after a restart) is stored once.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from telegram import Document, InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.sunshine.rules import clean_note, parse_day, parse_minutes
from bot.model.sunshine import ContactDraft, ContactKind, child_code
from handlers.context import BotContext, Ui
from handlers.flow import Flow, choice_id, flow_of
from handlers.sunshine.labels import support_word
from handlers.wishes.photos import photo_from_document

MINUTE_CHOICES = (30, 60, 90, 120)


class ContactFlow(Flow):
    name = "sk"

    def _skip(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "sunshine.button_skip")], self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        services = ui.services
        pairs = await services.sunshine.pairs_of_volunteer(ui.user_id)
        if not pairs:
            await ui.reply("sunshine.contact_no_pairs")
            return
        data = {"key": f"{ui.user_id}:{secrets.token_hex(8)}"}
        if len(pairs) == 1:
            await self._ask_date(ui, {**data, "pair": pairs[0].id})
            return
        children = await services.sunshine.children.many([pair.child_id for pair in pairs])
        items = [
            (pair.id, f"{children[pair.child_id].public_label} · {support_word(ui.t, pair.support.value)}")
            for pair in pairs
        ]
        await self.go(ui, "pair", {**data, "offered": [pair.id for pair in pairs]})
        await ui.reply("sunshine.ask_contact_pair", self.paged(ui, "pair", items, 0))

    async def choice_pair(self, ui: Ui, data: dict, value: str) -> None:
        pair_id = choice_id(value)
        if pair_id not in data.get("offered", []):
            raise DomainError("common.button_expired")
        await self._ask_date(ui, {**data, "pair": pair_id})

    async def _ask_date(self, ui: Ui, data: dict) -> None:
        pair = await ui.services.sunshine.pair(data["pair"])
        await self.go(ui, "date", data)
        markup = InlineKeyboardMarkup(
            [
                [
                    self.choice(ui, "date", "0", "sunshine.button_today"),
                    self.choice(ui, "date", "1", "sunshine.button_yesterday"),
                ],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("sunshine.ask_contact_date", markup, code=child_code(pair.child_id))

    async def choice_date(self, ui: Ui, data: dict, value: str) -> None:
        if value not in ("0", "1"):
            raise DomainError("common.button_expired")
        await self._date_chosen(ui, data, ui.services.sunshine.today() - timedelta(days=int(value)))

    async def text_date(self, ui: Ui, data: dict, text: str) -> None:
        await self._date_chosen(ui, data, parse_day(text, ui.services.sunshine.today()))

    async def _date_chosen(self, ui: Ui, data: dict, day: date) -> None:
        await ui.services.sunshine.check_day(ui.user_id, data["pair"], day)
        await self.go(ui, "kind", {**data, "date": day.isoformat()})
        rows = [[self.choice(ui, "kind", kind.value, f"sunshine.contact_{kind.value}")] for kind in ContactKind]
        await ui.reply("sunshine.ask_contact_kind", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))

    async def choice_kind(self, ui: Ui, data: dict, value: str) -> None:
        try:
            kind = ContactKind(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        await self.go(ui, "minutes", {**data, "kind": kind.value})
        row = [
            self.button(ui, "minutes", minutes, ui.t("sunshine.minutes_button", minutes=minutes))
            for minutes in MINUTE_CHOICES
        ]
        await ui.reply("sunshine.ask_contact_minutes", InlineKeyboardMarkup([row, self.cancel_row(ui)]))

    async def choice_minutes(self, ui: Ui, data: dict, value: str) -> None:
        minutes = choice_id(value)
        if minutes not in MINUTE_CHOICES:
            raise DomainError("common.button_expired")
        await self._ask_note(ui, {**data, "minutes": minutes})

    async def text_minutes(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_note(ui, {**data, "minutes": parse_minutes(text)})

    async def _ask_note(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "note", data)
        await ui.reply("sunshine.ask_contact_note", self._skip(ui, "note"))

    async def text_note(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_photo(ui, {**data, "note": clean_note(text)})

    async def choice_note(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_photo(ui, {**data, "note": None})

    async def _ask_photo(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "photo", data)
        await ui.reply("sunshine.ask_contact_photo", self._skip(ui, "photo"))

    async def photo_photo(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._save(ui, {**data, "photo": file_id})

    async def document_photo(self, ui: Ui, data: dict, document: Document) -> None:
        await self._save(ui, {**data, "photo": await photo_from_document(ui, document)})

    async def text_photo(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("sunshine.contact_photo_expected")

    async def choice_photo(self, ui: Ui, data: dict, value: str) -> None:
        await self._save(ui, {**data, "photo": None})

    async def _save(self, ui: Ui, data: dict) -> None:
        draft = ContactDraft(
            data["pair"],
            date.fromisoformat(data["date"]),
            ContactKind(data["kind"]),
            data["minutes"],
            data.get("note"),
            data.get("photo"),
        )
        contact, stored = await ui.services.sunshine.log(ui.user_id, draft, data["key"])
        await self.finish(ui)
        pair = await ui.services.sunshine.pair(contact.pair_id)
        await ui.reply(
            "sunshine.contact_saved" if stored else "sunshine.contact_already",
            code=child_code(pair.child_id),
            date=contact.contact_on.isoformat(),
            kind=ui.t(f"sunshine.contact_{contact.kind.value}"),
            minutes=contact.minutes,
        )


async def contact_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ContactFlow).start(Ui(update, context))
