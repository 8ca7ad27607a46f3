"""/records PERIOD (county admins): the national platforms' export, one row per person per piece
of service, as XLSX (columns from config.toml [records] export_columns)."""

from __future__ import annotations

import asyncio
import html

from telegram import Update
from telegram.constants import ChatAction

from bot.domain.formatting import period_label
from handlers.context import BotContext, Ui


async def records_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    text = " ".join(context.args or [])
    if not text.strip():
        await ui.reply("records.export_usage")
        return
    period = ui.services.stats.parse_period(text)
    exporter = ui.services.records.export
    rows = await exporter.gather(ui.user_id, period)
    label = period_label(ui.t, period)
    if not rows:
        await ui.reply("records.export_empty", period=label)
        return
    labels = lambda key, **params: html.unescape(ui.t(key, **params))  # noqa: E731 - cells are not HTML
    await ui.context.bot.send_chat_action(ui.chat_id, ChatAction.UPLOAD_DOCUMENT)
    content = await asyncio.to_thread(exporter.workbook, rows, labels)
    await ui.context.bot.send_document(
        ui.chat_id,
        content,
        filename=labels(
            "records.export_file", start=period.start.strftime("%Y%m%d"), end=period.end.strftime("%Y%m%d")
        ),
        caption=ui.t(
            "records.export_caption", period=label, people=len({row.line.user_id for row in rows}), rows=len(rows)
        ),
    )
