"""/importhouseholds: the households of the campaign being set up (the newest open one without
teams), from the XLSX template (/householdtemplate); checked row by row, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.visits.household_import import MAX_BYTES, MAX_ROWS, HouseholdRow, parse_household_file
from handlers.context import BotContext, Ui
from handlers.file_import import ImportKeys, Parser, SpreadsheetImportFlow
from handlers.flow import flow_of
from handlers.visits.buttons import CampaignChoice, CampaignTap


async def import_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ImportHouseholdsFlow).start(Ui(update, context))


class ImportHouseholdsFlow(SpreadsheetImportFlow[HouseholdRow]):
    name = "vi"
    keys = ImportKeys(
        ask_file="visits.ask_file",
        expected_file="visits.expected_file",
        too_large="visit_import.too_large",
        button_import="visits.button_import",
        confirm="visits.confirm_import",
        imported="visits.imported",
        problems_title="visits.problems_title",
        problems_footer="visits.problems_footer",
        problems_more="visits.problems_more",
        problem_file="visits.problem_file",
        problem_line="visits.problem_line",
    )
    max_rows = MAX_ROWS
    max_bytes = MAX_BYTES

    async def _campaign_id(self, ui: Ui) -> int:
        campaign = await ui.services.visits.being_set_up(ui.user_id)
        if campaign is None:
            raise DomainError("visits.import_no_campaign")
        return campaign.id

    async def may_start(self, ui: Ui) -> bool:
        await self._campaign_id(ui)
        return True

    async def parser(self, ui: Ui) -> Parser[HouseholdRow]:
        campaign_id = await self._campaign_id(ui)
        visits = ui.services.visits
        return partial(
            parse_household_file,
            townships=await visits.township_names(),
            existing_keys=await visits.student_keys(ui.user_id, campaign_id),
        )

    async def confirm_params(self, ui: Ui, rows: Sequence[HouseholdRow]) -> dict[str, object]:
        return {"townships": len({row.draft.township_id for row in rows})}

    async def store(self, ui: Ui, rows: Sequence[HouseholdRow]) -> dict[str, object]:
        campaign_id = await self._campaign_id(ui)
        added = await ui.services.visits.import_households(ui.user_id, campaign_id, rows)
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(ui.t(key), callback_data=CampaignTap(campaign=campaign_id, action=action).pack())]
                for action, key in (
                    (CampaignChoice.TEAMS, "visits.button_form_teams"),
                    (CampaignChoice.TEAMS_BY_HAND, "visits.button_teams_by_hand"),
                )
            ]
        )
        await ui.reply("visits.next_teams", markup)
        return {"count": len(added), "townships": len({row.draft.township_id for row in rows})}
