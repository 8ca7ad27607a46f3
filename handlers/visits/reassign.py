"""改派: the team leader (or a county admin) gives a household to one person of its team (the
leader included); that person is told privately."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.errors import DomainError
from handlers.context import Ui
from handlers.flow import Flow, choice_id


class ReassignFlow(Flow):
    """改派: the household to one person of its team."""

    name = "vg"

    async def start(self, ui: Ui, household_id: int, **kwargs: object) -> None:
        visits = ui.services.visits
        choices = await visits.reassign_choices(ui.user_id, household_id)
        people = await ui.services.people.many(choices)
        await self.go(ui, "member", {"household": household_id})
        rows = [
            [self.button(ui, "member", user_id, people[user_id].display_name if user_id in people else str(user_id))]
            for user_id in choices
        ]
        household = await visits.household(household_id)
        await ui.reply("visits.ask_reassign", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]), alias=household.alias)

    async def choice_member(self, ui: Ui, data: dict, value: str) -> None:
        user_id = choice_id(value)
        visits = ui.services.visits
        if user_id not in await visits.reassign_choices(ui.user_id, int(data["household"])):
            raise DomainError("common.button_expired")
        household = await visits.reassign(ui.user_id, int(data["household"]), user_id)
        await self.finish(ui)
        person = await ui.services.people.get(user_id)
        await ui.edit("visits.reassigned", alias=household.alias, name=person.display_name if person else "")
        if user_id != ui.user_id:
            await ui.notify(user_id, "visits.note_reassigned", alias=household.alias)
