"""/newcampaign (county admins, private chat): title → purpose → start → deadline → checklist
items → confirm; then the households' spreadsheet (/importhouseholds, started at once), then
the teams (a button: the bot forms 7 balanced teams with whole townships)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.visits.rules import ITEMS_MAX, clean_purpose, clean_title, parse_checklist
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of
from handlers.typed_time import parse_start
from handlers.visits.importing import ImportHouseholdsFlow

_WHEN = "%Y-%m-%d %H:%M"


async def newcampaign_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewCampaignFlow).start(Ui(update, context))


async def template_command(update: Update, context: BotContext) -> None:
    from bot.domain.visits.household_import import build_template_xlsx

    ui = Ui(update, context)
    await ui.services.visits.require_admin(ui.user_id)
    content = await asyncio.to_thread(build_template_xlsx)
    await context.bot.send_document(
        ui.chat_id, content, filename=ui.t("visits.template_file_name"), caption=ui.t("visits.template_caption")
    )


class NewCampaignFlow(Flow):
    name = "vn"

    def _cancel(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await ui.services.visits.require_admin(ui.user_id)
        await self.go(ui, "title", {})
        await ui.reply("visits.ask_title", self._cancel(ui))

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "purpose", {"title": clean_title(text)})
        await ui.reply("visits.ask_purpose", self._cancel(ui))

    async def text_purpose(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "starts", {**data, "purpose": clean_purpose(text)})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "starts", "now", "visits.button_start_now")], self.cancel_row(ui)]
        )
        await ui.reply("visits.ask_start", markup)

    async def choice_starts(self, ui: Ui, data: dict, value: str) -> None:
        if value != "now":
            raise DomainError("common.button_expired")
        await self._ask_deadline(ui, {**data, "starts": ui.services.clock.now().isoformat()})

    async def text_starts(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_deadline(ui, {**data, "starts": parse_start(ui, text, "visits").isoformat()})

    async def _ask_deadline(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "deadline", data)
        await ui.reply("visits.ask_deadline", self._cancel(ui))

    async def text_deadline(self, ui: Ui, data: dict, text: str) -> None:
        deadline = parse_start(ui, text, "visits")
        if deadline <= datetime.fromisoformat(data["starts"]):
            raise DomainError("visits.deadline_before_start")
        await self.go(ui, "checklist", {**data, "deadline": deadline.isoformat()})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "checklist", "none", "visits.button_no_items")], self.cancel_row(ui)]
        )
        await ui.reply("visits.ask_checklist", markup, max=ITEMS_MAX)

    async def text_checklist(self, ui: Ui, data: dict, text: str) -> None:
        await self._confirm(ui, {**data, "checklist": list(parse_checklist(text))})

    async def choice_checklist(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._confirm(ui, {**data, "checklist": []})

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        zone = ui.services.config.zone
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "visits.button_create")], self.cancel_row(ui)]
        )
        await ui.reply(
            "visits.confirm_campaign",
            markup,
            title=data["title"],
            purpose=data["purpose"],
            starts=local_text(datetime.fromisoformat(data["starts"]), zone, _WHEN),
            deadline=local_text(datetime.fromisoformat(data["deadline"]), zone, _WHEN),
            checklist=ui.t("visits.separator").join(data["checklist"]) or ui.t("visits.blank"),
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        campaign = await ui.services.visits.create_campaign(
            ui.user_id,
            data["title"],
            data["purpose"],
            datetime.fromisoformat(data["starts"]),
            datetime.fromisoformat(data["deadline"]),
            data["checklist"],
        )
        await self.finish(ui)
        await ui.edit("visits.campaign_created", title=campaign.title)
        await flow_of(ui.context, ImportHouseholdsFlow).start(ui)
