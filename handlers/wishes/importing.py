"""/wishtemplate and /importwishes: the XLSX template, and a checked, all-or-nothing import."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

from telegram import Update

from bot.domain.wish_import import MAX_BYTES, MAX_ROWS, WishRow, build_template_xlsx, parse_wish_file
from handlers.context import BotContext, Ui
from handlers.file_import import ImportKeys, Parser, SpreadsheetImportFlow
from handlers.flow import flow_of
from handlers.i18n import Raw


async def template_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    content = await asyncio.to_thread(build_template_xlsx)
    await context.bot.send_document(
        ui.chat_id,
        content,
        filename=ui.t("wish_import.ui_template_file_name"),
        caption=ui.t("wish_import.ui_template_caption"),
    )


async def import_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ImportWishesFlow).start(Ui(update, context))


class ImportWishesFlow(SpreadsheetImportFlow[WishRow]):
    """/importwishes: wishes from XLSX/CSV, for the organisations the person collects for."""

    name = "wm"
    keys = ImportKeys(
        ask_file="wish_import.ui_ask_file",
        expected_file="wish_import.ui_expected_file",
        too_large="wish_import.too_large",
        button_import="wish_import.ui_button_import",
        confirm="wish_import.ui_confirm",
        imported="wish_import.ui_imported",
        problems_title="wish_import.ui_problems_title",
        problems_footer="wish_import.ui_problems_footer",
        problems_more="wish_import.ui_problems_more",
        problem_file="wish_import.ui_problem_file",
        problem_line="wish_import.ui_problem_line",
    )
    max_rows = MAX_ROWS
    max_bytes = MAX_BYTES

    async def may_start(self, ui: Ui) -> bool:
        if not await ui.services.wishes.collector_orgs(ui.user_id):
            await self.finish(ui)
            await ui.reply("wishes.ui_new_no_org")
            return False
        return True

    async def parser(self, ui: Ui) -> Parser[WishRow]:
        collectors = {org.name: org.id for org in await ui.services.wishes.collector_orgs(ui.user_id)}
        existing = await ui.services.wishes.open_keys()
        return partial(parse_wish_file, collector_names=collectors, existing_keys=existing)

    async def confirm_params(self, ui: Ui, rows: Sequence[WishRow]) -> dict[str, object]:
        consented = sum(1 for row in rows if row.draft.consent)
        return {
            "by_org": await by_org_lines(ui, [row.draft.collector_org_id for row in rows]),
            "consented": consented,
            "without": len(rows) - consented,
        }

    async def store(self, ui: Ui, rows: Sequence[WishRow]) -> dict[str, object]:
        added = await ui.services.wishes.import_rows(ui.user_id, rows)
        return {
            "count": len(added),
            "first": added[0].code,
            "last": added[-1].code,
            "by_org": await by_org_lines(ui, [wish.collector_org_id for wish in added]),
        }


async def by_org_lines(ui: Ui, org_ids: list[int]) -> Raw:
    counts: dict[int, int] = {}
    for org_id in org_ids:
        counts[org_id] = counts.get(org_id, 0) + 1
    lines = [
        ui.t("wish_import.ui_by_org_line", org=(await ui.services.orgs.get(org_id)).name, count=count)
        for org_id, count in counts.items()
    ]
    return Raw("\n".join(lines))
