"""County admins' commands on claims: /release and /reassign, each with a reason. Who may, and to
whom a claim can move, is the domain's (AuctionService.admin_release, reassign_to)."""

from __future__ import annotations

from telegram import Update

from bot.domain.formatting import DATE, local_text
from handlers.context import BotContext, Ui, notify_user

from .hub import refresh_live_boards
from .page_refresh import refresh_open_pages


async def release_command(update: Update, context: BotContext) -> None:
    """/release W0012 原因"""
    ui = Ui(update, context)
    args = context.args or []
    if len(args) < 2:
        await ui.reply("auction.release_usage")
        return
    wish = await ui.services.wishes.by_code(args[0])
    reason = " ".join(args[1:])
    change = await ui.services.auction.admin_release(ui.user_id, wish.id, reason)
    await ui.reply("auction.admin_released", code=change.wish.code)
    await notify_user(
        context.application, change.previous_user, "auction.released_by_admin", code=change.wish.code, reason=reason
    )
    await refresh_live_boards(context.application)
    await refresh_open_pages(context.application)


async def reassign_command(update: Update, context: BotContext) -> None:
    """/reassign W0012 @user 原因"""
    ui = Ui(update, context)
    args = context.args or []
    if len(args) < 3:
        await ui.reply("auction.reassign_usage")
        return
    wish = await ui.services.wishes.by_code(args[0])
    person = await ui.services.people.find(args[1])
    reason = " ".join(args[2:])
    moved = await ui.services.auction.reassign_to(ui.user_id, wish.id, person, reason)
    change, org = moved.change, moved.org
    await ui.reply("auction.admin_reassigned", code=change.wish.code, name=person.display_name, org=org.name)
    await notify_user(
        context.application, change.previous_user, "auction.reassigned_from_you", code=change.wish.code, reason=reason
    )
    await notify_user(
        context.application,
        person.user_id,
        "auction.reassigned_to_you",
        code=change.wish.code,
        org=org.name,
        text=change.wish.text,
        child=change.wish.public_label,
        deadline=local_text(change.wish.deadline, ui.services.config.zone, DATE) or "—",
    )
    await refresh_live_boards(context.application)
