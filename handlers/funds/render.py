"""How the ledger reads: balances, a donor's statement, the pledge reminders, the hub's posts.

Money is shown as yuan with two decimals (`15,000.00`); the year paragraph in 万 as a work
summary writes it. Nothing here shows a contact detail or a child's private detail."""

from __future__ import annotations

from telegram.ext import Application

from bot.domain.funds import MonthStatement, PledgeNotice, Thanks, wan_text, yuan_text
from bot.domain.services import Services
from bot.model.funds import Balance, DonorStatement, DueInstalment, Entry, Fund, Total, YearFunds
from bot.model.outbox import OutboxMessage
from bot.model.reminder import ReminderRecord
from handlers.context import group_t, reader_translator, services_of
from handlers.i18n import Raw, Translator
from handlers.outbox import Rendered, Skip

MAX_LINES = 40


def donor_name(t: Translator, shown: str | None) -> str:
    return shown if shown is not None else t.raw("funds.anonymous")


def balances_text(t: Translator, balances: list[Balance], pending: list[Entry], funds: dict[int, Fund]) -> str:
    if not balances:
        return t("funds_ui.no_funds")
    lines = [t("funds_ui.balances_title", count=len(balances))]
    for item in balances:
        lines.append(
            t(
                "funds_ui.balance_line",
                id=item.fund.id,
                fund=item.fund.name,
                received=yuan_text(item.received_fen),
                paid=yuan_text(item.paid_fen),
                balance=yuan_text(item.balance_fen),
            )
        )
        if item.pending_fen:
            lines.append(t("funds_ui.balance_pending", amount=yuan_text(item.pending_fen)))
    if pending:
        lines.append(t("funds_ui.pending_title", count=len(pending)))
        for entry in pending[:MAX_LINES]:
            lines.append(entry_line(t, entry, funds))
    return "\n".join(lines)


def entry_line(t: Translator, entry: Entry, funds: dict[int, Fund]) -> str:
    fund = funds.get(entry.fund_id)
    return t(
        "funds_ui.entry_line",
        id=entry.id,
        date=entry.occurred_on.isoformat(),
        kind=t.raw(f"funds.kind_{entry.kind.value}"),
        fund=fund.name if fund else "",
        amount=yuan_text(entry.amount_fen),
        to=entry.recipient.label if entry.recipient else "",
    )


def totals_text(t: Translator, title: str, totals: list[Total]) -> str:
    lines = [title]
    for total in totals[:MAX_LINES]:
        label = total.label or t.raw("funds.anonymous")
        lines.append(
            t(
                "funds_ui.total_line",
                label=label,
                received=yuan_text(total.received_fen),
                paid=yuan_text(total.paid_fen),
            )
        )
    return "\n".join(lines)


def statement_text(t: Translator, statement: DonorStatement) -> str:
    donor = statement.donor
    lines = [
        t(
            "funds_ui.statement_title",
            donor=donor.name,
            shown=donor_name(t, donor.shown_name),
            pledged=yuan_text(statement.pledged_fen),
            received=yuan_text(statement.received_fen),
        )
    ]
    for line in statement.gifts[:MAX_LINES]:
        lines.append(
            t(
                "funds_ui.statement_gift",
                date=line.on.isoformat(),
                kind=t.raw(f"funds.kind_{line.kind.value}"),
                fund=line.fund_name,
                amount=yuan_text(line.amount_fen),
            )
        )
    if statement.paid_for:
        lines.append(t("funds_ui.statement_paid_title"))
        for line in statement.paid_for[:MAX_LINES]:
            lines.append(
                t(
                    "funds_ui.statement_paid",
                    date=line.on.isoformat(),
                    fund=line.fund_name,
                    amount=yuan_text(line.amount_fen),
                    to=line.label,
                )
            )
    return "\n".join(lines)


def year_text(t: Translator, figures: YearFunds) -> str:
    return t(
        "funds_ui.year_paragraph",
        donors=figures.donors,
        received=wan_text(figures.received_fen),
        students=figures.students,
        students_money=wan_text(figures.students_fen),
        villages=figures.villages,
        villages_money=wan_text(figures.villages_fen),
    )


def recorded_text(t: Translator, entry: Entry, funds: dict[int, Fund]) -> str:
    key = "funds_ui.recorded_pending" if entry.pending else "funds_ui.recorded"
    return t(key, line=Raw(entry_line(t, entry, funds)))


# ---- the pledge reminders (a system reminder's computed text) -------------------------------------
def _instalment_line(t: Translator, item: DueInstalment) -> str:
    return t(
        "funds_ui.instalment_line",
        pledge=item.pledge_id,
        number=item.number,
        date=item.due_on.isoformat(),
        donor=donor_name(t, item.donor_shown),
        fund=item.fund_name,
        amount=yuan_text(item.amount_fen),
    )


def pledge_text(t: Translator, notice: PledgeNotice) -> str:
    parts = []
    if notice.due:
        parts.append(t("funds_ui.pledges_due_title", date=notice.day.isoformat(), count=len(notice.due)))
        parts.extend(_instalment_line(t, item) for item in notice.due[:MAX_LINES])
    if notice.overdue:
        parts.append(t("funds_ui.pledges_overdue_title", count=len(notice.overdue)))
        parts.extend(_instalment_line(t, item) for item in notice.overdue[:MAX_LINES])
    parts.append(t("funds_ui.pledges_hint"))
    return "\n".join(parts)


async def render_pledge_notice(services: Services, chat_id: int, reminder: ReminderRecord) -> str | None:
    """The text one person gets on a pledge reminder day, or None when they have nothing to hear."""
    notice = await services.pledges.notice_for(chat_id, services.pledges.day_of(reminder))
    if notice.empty:
        return None
    return pledge_text(reader_translator(services, await services.people.get(chat_id)), notice)


# ---- the hub's posts (outbox renderers) -----------------------------------------------------------
def month_statement_text(t: Translator, statement: MonthStatement) -> str:
    return t(
        "funds_ui.hub_statement",
        fund=statement.fund.name,
        purpose=statement.fund.purpose,
        year=statement.year,
        month=statement.month,
        received=yuan_text(statement.received_fen),
        receipts=statement.receipts,
        paid=yuan_text(statement.paid_fen),
        students=statement.students,
        villages=statement.villages,
        others=statement.others,
        balance=yuan_text(statement.balance_fen),
    )


def thanks_text(t: Translator, thanks: Thanks) -> str:
    return t(
        "funds_ui.hub_thanks",
        donor=donor_name(t, thanks.donor_shown),
        funds="、".join(thanks.fund_names) or "—",
        amount=yuan_text(thanks.received_fen),
    )


async def render_hub_statement(application: Application, message: OutboxMessage) -> Rendered | Skip:
    services = services_of(application)
    statement = await services.fund_publisher.statement(
        message.param("fund"), message.param("year"), message.param("month")
    )
    return Rendered(month_statement_text(group_t(services), statement))


async def render_hub_thanks(application: Application, message: OutboxMessage) -> Rendered | Skip:
    services = services_of(application)
    thanks = await services.fund_publisher.thanks(message.param("donor"))
    if thanks.received_fen <= 0:
        return Skip("nothing received from this donor (any more)")
    return Rendered(thanks_text(group_t(services), thanks))
