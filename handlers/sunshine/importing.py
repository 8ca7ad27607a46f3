"""/childtemplate and /importchildren: the XLSX template, and a checked, all-or-nothing import."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

from telegram import Update

from bot.domain.sunshine.child_import import MAX_BYTES, MAX_ROWS, ChildRow, build_child_template, parse_child_file
from handlers.context import BotContext, Ui
from handlers.file_import import ImportKeys, Parser, SpreadsheetImportFlow
from handlers.flow import flow_of


async def template_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    content = await asyncio.to_thread(build_child_template)
    await context.bot.send_document(
        ui.chat_id,
        content,
        filename=ui.t("child_import.ui_template_file_name"),
        caption=ui.t("child_import.ui_template_caption"),
    )


async def import_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ImportChildrenFlow).start(Ui(update, context))


class ImportChildrenFlow(SpreadsheetImportFlow[ChildRow]):
    name = "si"
    keys = ImportKeys(
        ask_file="child_import.ui_ask_file",
        expected_file="child_import.ui_expected_file",
        too_large="child_import.too_large",
        button_import="child_import.ui_button_import",
        confirm="child_import.ui_confirm",
        imported="child_import.ui_imported",
        problems_title="child_import.ui_problems_title",
        problems_footer="child_import.ui_problems_footer",
        problems_more="child_import.ui_problems_more",
        problem_file="child_import.ui_problem_file",
        problem_line="child_import.ui_problem_line",
    )
    max_rows = MAX_ROWS
    max_bytes = MAX_BYTES

    async def may_start(self, ui: Ui) -> bool:
        if not await ui.services.sunshine.register_orgs(ui.user_id):
            await self.finish(ui)
            await ui.reply("sunshine.not_cadre_anywhere")
            return False
        return True

    async def parser(self, ui: Ui) -> Parser[ChildRow]:
        orgs = await ui.services.sunshine.register_orgs(ui.user_id)
        existing = await ui.services.sunshine.active_keys([org.id for org in orgs])
        return partial(parse_child_file, org_names={org.name: org.id for org in orgs}, existing_keys=existing)

    async def confirm_params(self, ui: Ui, rows: Sequence[ChildRow]) -> dict[str, object]:
        consented = sum(1 for row in rows if row.draft.consent)
        return {"consented": consented, "without": len(rows) - consented}

    async def store(self, ui: Ui, rows: Sequence[ChildRow]) -> dict[str, object]:
        added = await ui.services.sunshine.import_rows(ui.user_id, [row.draft for row in rows])
        return {"count": len(added), "first": added[0].code, "last": added[-1].code}
