"""/team (team leaders, private chat): the households of the teams they lead; a household's
card (handlers/visits/mine.py) has the 改派 button (handlers/visits/reassign.py)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext, Ui
from handlers.visits.buttons import HouseholdChoice, HouseholdTap
from handlers.visits.mine import state_label

LIST_BUTTONS = 30


async def team_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    visits = ui.services.visits
    teams = await visits.led_by(ui.user_id)
    if not teams:
        await ui.reply("visits.team_none")
        return
    for team in teams:
        households = await visits.team_households(ui.user_id, team.id)
        rows = []
        for household, visit in households[:LIST_BUTTONS]:
            label = ui.t("visits.team_button", alias=household.alias, state=state_label(ui.t, visit))
            rows.append(
                [
                    InlineKeyboardButton(
                        label, callback_data=HouseholdTap(household=household.id, action=HouseholdChoice.OPEN).pack()
                    )
                ]
            )
        await ui.reply(
            "visits.team_title",
            InlineKeyboardMarkup(rows),
            number=team.number,
            count=len(households),
            members=len(team.active_members),
        )
