"""The ledger's commands outside conversations: /funds (balances and grants waiting for
approval), the approve / refuse buttons, /correct, /transfer, /donor (a statement; the contact
details behind a button for county admins), /ledger (the year's figures, the XLSX and the chart),
/publish and /thank (to the hub).

A command's request key is its chat and message: Telegram resending the same message records
nothing twice."""

from __future__ import annotations

import asyncio
import re
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.funds import GroupBy, parse_amount, yuan_text
from bot.domain.funds.publishing import month_bounds
from handlers.context import BotContext, Ui
from handlers.flow import flow_of
from handlers.funds.buttons import DonorContactTap, FundDecision
from handlers.funds.chart import money_chart
from handlers.funds.grant import GrantFlow, decision_markup
from handlers.funds.receipt import ReceiptFlow
from handlers.funds.render import balances_text, donor_name, entry_line, statement_text, totals_text, year_text
from handlers.funds.setup import NewDonorFlow, NewFundFlow, PledgeFlow
from handlers.i18n import Raw

_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def message_key(ui: Ui) -> str:
    return f"message:{ui.chat_id}:{ui.message.message_id}"


def _number(text: str, usage: str) -> int:
    value = bounds.natural_or_none(text.lstrip("#"))
    if value is None:
        raise DomainError(usage)
    return value


async def funds_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    services = ui.services
    balances = await services.fund_reports.balances(ui.user_id)
    county = await services.permissions.is_county_admin(ui.user_id)
    pending = await services.funds.pending() if county else []
    funds = {fund.id: fund for fund in await services.funds.funds()}
    await ui.send_text(balances_text(ui.t, balances, pending, funds) + "\n\n" + ui.t("funds_ui.commands_hint"))
    for entry in pending:
        if entry.created_by != ui.user_id:
            await ui.send_text(
                ui.t("funds_ui.approval_line", line=Raw(entry_line(ui.t, entry, funds))),
                decision_markup(ui.t, entry.id),
            )


async def decision_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = FundDecision.unpack(ui.callback_data)
    entry = await ui.services.funds.decide(ui.user_id, tap.entry, approve=bool(tap.approve))
    await ui.answer()
    funds = {fund.id: fund for fund in await ui.services.funds.funds()}
    key = "funds_ui.approved" if entry.approved else "funds_ui.refused"
    await ui.edit(key, None, line=Raw(entry_line(ui.t, entry, funds)))


async def receipt_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ReceiptFlow).start(Ui(update, context))


async def grant_command(update: Update, context: BotContext) -> None:
    await flow_of(context, GrantFlow).start(Ui(update, context))


async def pledge_command(update: Update, context: BotContext) -> None:
    await flow_of(context, PledgeFlow).start(Ui(update, context))


async def newdonor_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewDonorFlow).start(Ui(update, context))


async def newfund_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewFundFlow).start(Ui(update, context))


async def correct_command(update: Update, context: BotContext) -> None:
    """/correct <entry> <reason>"""
    ui = Ui(update, context)
    args = list(context.args or ())
    if len(args) < 2:
        raise DomainError("funds_ui.correct_usage")
    entry_id = _number(args[0], "funds_ui.correct_usage")
    correction = await ui.services.funds.correct(ui.user_id, message_key(ui), entry_id, reason=" ".join(args[1:]))
    funds = {fund.id: fund for fund in await ui.services.funds.funds()}
    await ui.reply("funds_ui.corrected", id=entry_id, line=Raw(entry_line(ui.t, correction, funds)))


async def transfer_command(update: Update, context: BotContext) -> None:
    """/transfer <from fund> <to fund> <amount> <reason>"""
    ui = Ui(update, context)
    args = list(context.args or ())
    if len(args) < 4:
        raise DomainError("funds_ui.transfer_usage")
    source, target = _number(args[0], "funds_ui.transfer_usage"), _number(args[1], "funds_ui.transfer_usage")
    amount = parse_amount(args[2])
    entry = await ui.services.funds.transfer(
        ui.user_id, message_key(ui), source, target, amount, reason=" ".join(args[3:])
    )
    funds = {fund.id: fund for fund in await ui.services.funds.funds()}
    await ui.reply(
        "funds_ui.transferred",
        line=Raw(entry_line(ui.t, entry, funds)),
        to=funds[target].name,
        typed=args[2],
        amount=yuan_text(amount),
    )


async def donor_command(update: Update, context: BotContext) -> None:
    """/donor: the donors and their numbers; /donor <n>: that donor's statement."""
    ui = Ui(update, context)
    services = ui.services
    args = list(context.args or ())
    if not args:
        donors = await services.funds.donors_for(ui.user_id)
        lines = [ui.t("funds_ui.donors_title", count=len(donors))]
        lines += [
            ui.t("funds_ui.donor_line", id=donor.id, name=donor.name, shown=donor_name(ui.t, donor.shown_name))
            for donor in donors[:60]
        ]
        await ui.send_text("\n".join(lines))
        return
    statement = await services.fund_reports.statement(ui.user_id, _number(args[0], "funds_ui.donor_usage"))
    markup = None
    if await services.permissions.is_county_admin(ui.user_id):
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        ui.t("funds_ui.button_contact"),
                        callback_data=DonorContactTap(donor=statement.donor.id).pack(),
                    )
                ]
            ]
        )
    await ui.send_text(statement_text(ui.t, statement), markup)


async def contact_button(update: Update, context: BotContext) -> None:
    """A donor's contact details, for a county admin (the view is audited by the service)."""
    ui = Ui(update, context)
    donor_id = DonorContactTap.unpack(ui.callback_data).donor
    contact = await ui.services.funds.contact(ui.user_id, donor_id)
    await ui.answer()
    if contact is None or contact.empty:
        await ui.reply("funds_ui.no_contact")
        return
    await ui.reply(
        "funds_ui.contact",
        person=contact.contact_person or "—",
        phone=contact.phone or "—",
        address=contact.address or "—",
    )


async def ledger_command(update: Update, context: BotContext) -> None:
    """/ledger [year]: balances, the year's paragraph and totals, then the chart and the workbook."""
    ui = Ui(update, context)
    services = ui.services
    reports = services.fund_reports
    today = services.funds.today()
    args = list(context.args or ())
    year = bounds.parse_year(args[0]) if args and bounds.ascii_digits(args[0]) else today.year
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    balances = await reports.balances(ui.user_id)
    funds = {fund.id: fund for fund in await services.funds.funds()}
    parts = [balances_text(ui.t, balances, [], funds)]
    if await services.permissions.is_county_admin(ui.user_id):
        parts.append(ui.t("funds_ui.year_title", year=year) + year_text(ui.t, await reports.year(year)))
    groupings = (GroupBy.DONOR, GroupBy.TOWNSHIP, GroupBy.PURPOSE)
    for by, totals in (await reports.totals_by(ui.user_id, groupings, start, end)).items():
        if totals:
            parts.append(totals_text(ui.t, ui.t(f"funds_ui.totals_by_{by.value}", year=year), totals))
    await ui.send_text("\n\n".join(parts))
    months = await reports.monthly(ui.user_id, start, end)
    await ui.context.bot.send_chat_action(ui.chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(money_chart, months, ui.t)
    await ui.context.bot.send_photo(ui.chat_id, png, caption=ui.t("funds_ui.chart_caption", year=year))
    content = await reports.workbook(ui.user_id, ui.t)
    await ui.context.bot.send_document(
        ui.chat_id,
        content,
        filename=ui.t("funds_ui.workbook_name", date=today.isoformat()),
        caption=ui.t("funds_ui.workbook_caption", count=len(funds)),
    )


async def send_year_paragraph(ui: Ui, year: int) -> None:
    """The year-end report's funds paragraph in the seed's words, for a county admin; nothing
    when the ledger had no money in or out that year."""
    if not await ui.services.permissions.is_county_admin(ui.user_id):
        return
    figures = await ui.services.fund_reports.year(year)
    if figures.received_fen or figures.paid_fen:
        await ui.send_text(ui.t("funds_ui.year_title", year=year) + year_text(ui.t, figures))


async def publish_command(update: Update, context: BotContext) -> None:
    """/publish <fund> [YYYY-MM]: the fund's statement of that month (default: last month) to the hub."""
    ui = Ui(update, context)
    args = list(context.args or ())
    if not args:
        raise DomainError("funds_ui.publish_usage")
    fund_id = _number(args[0], "funds_ui.publish_usage")
    today = ui.services.funds.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    if len(args) > 1:
        match = _MONTH.fullmatch(args[1])
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise DomainError("funds_ui.publish_usage")
        year, month = int(match.group(1)), int(match.group(2))
        bounds.parse_year(match.group(1))
    if month_bounds(year, month)[0] > today:
        raise DomainError("funds_ui.publish_future")
    queued = await ui.services.fund_publisher.publish_statement(ui.user_id, fund_id, year, month)
    fund = await ui.services.funds.fund(fund_id)
    await ui.reply(
        "funds_ui.published" if queued else "funds_ui.published_before", fund=fund.name, year=year, month=month
    )


async def thank_command(update: Update, context: BotContext) -> None:
    """/thank <donor>: a thank-you to the donor in the hub (their public name, or anonymous)."""
    ui = Ui(update, context)
    args = list(context.args or ())
    if not args:
        raise DomainError("funds_ui.thank_usage")
    donor_id = _number(args[0], "funds_ui.thank_usage")
    queued = await ui.services.fund_publisher.publish_thanks(ui.user_id, donor_id)
    donor = await ui.services.funds.donor(donor_id)
    await ui.reply("funds_ui.thanked" if queued else "funds_ui.thanked_before", donor=donor.name)
