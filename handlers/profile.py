"""/profile: a person's optional real name and phone, kept private (never shown in a group)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of
from handlers.sunshine.profile import VolunteerProfileFlow


class ProfileFlow(Flow):
    """Real name → phone → saved; each step can be skipped, and "clear" removes what was kept."""

    name = "pf"

    def _markup(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    self.choice(ui, step, "skip", "profile.button_skip"),
                    self.choice(ui, step, "clear", "profile.button_clear"),
                ],
                # The volunteer profile (Sunshine Home pairing) is its own conversation.
                [self.choice(ui, step, "volunteer", "sunshine.button_volunteer_profile")],
                self.cancel_row(ui),
            ]
        )

    async def start(self, ui: Ui, **kwargs: object) -> None:
        person = await ui.services.people.known(ui.user_id)
        await self.go(ui, "name", {"name": person.real_name, "phone": person.phone})
        await ui.reply("profile.ask_name", self._markup(ui, "name"), current=person.real_name or ui.t("profile.none"))

    async def text_name(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_phone(ui, {**data, "name": ui.services.people.check_real_name(text)})

    async def choice_name(self, ui: Ui, data: dict, value: str) -> None:
        if value == "volunteer":
            await flow_of(ui.context, VolunteerProfileFlow).start(ui)
            return
        if value not in ("skip", "clear"):
            raise DomainError("common.button_expired")
        await self._ask_phone(ui, data if value == "skip" else {**data, "name": None})

    async def _ask_phone(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "phone", data)
        await ui.reply("profile.ask_phone", self._markup(ui, "phone"), current=data["phone"] or ui.t("profile.none"))

    async def text_phone(self, ui: Ui, data: dict, text: str) -> None:
        await self._save(ui, {**data, "phone": ui.services.people.check_phone(text)})

    async def choice_phone(self, ui: Ui, data: dict, value: str) -> None:
        if value == "volunteer":
            await flow_of(ui.context, VolunteerProfileFlow).start(ui)
            return
        if value not in ("skip", "clear"):
            raise DomainError("common.button_expired")
        await self._save(ui, data if value == "skip" else {**data, "phone": None})

    async def _save(self, ui: Ui, data: dict) -> None:
        await ui.services.people.set_private_details(ui.user_id, data["name"], data["phone"])
        await self.finish(ui)
        await ui.reply(
            "profile.saved", name=data["name"] or ui.t("profile.none"), phone=data["phone"] or ui.t("profile.none")
        )


async def profile_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ProfileFlow).start(Ui(update, context))
