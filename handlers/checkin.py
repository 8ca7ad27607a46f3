"""Check-in and check-out in the group chat: `签到`, `签到 A12`, `/checkin [code]`, a shared location.

The group must not be flooded: success (and a repeated check-in) is a 👍 reaction on the
volunteer's own message; only a problem gets a short reply, quoting the message, in the group's
language. When a wave of volunteers hits the same problem (several activities open, not open
yet), the answer is written once per `REPEAT_WINDOW`; the others get a 👀 ("see just above").
Windows, radius, walk-ins and idempotency are decided in bot/attendance.py.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from telegram import ReactionTypeEmoji, ReplyParameters, Update
from telegram.constants import ReactionEmoji
from telegram.error import BadRequest, Forbidden

from bot.domain.attendance import CheckInResult, CheckOutResult
from handlers.activities import normalise_code
from handlers.context import BotContext, group_translator
from handlers.gate import is_anonymous_admin
from handlers.i18n import Raw, Translator

log = logging.getLogger(__name__)

# `签到`, `签到 A12`, `签退Ａ１２` … (spaces, full-width spaces and full-width letters/digits allowed;
# 簽到 / 簽退 as the zh-Hant catalog writes them).
CHECK_TEXT = re.compile(r"^[\s\u3000]*([签簽]到|[签簽]退)[\s\u3000]*([AaＡａ][0-9０-９]{1,9})?[\s\u3000]*$")
SUCCESS = ReactionEmoji.THUMBS_UP
SEE_ABOVE = ReactionEmoji.EYES
REPEAT_WINDOW = timedelta(minutes=2)
_SUCCESS_OUTCOMES = ("checked_in", "checked_out", "already")


async def text_check(update: Update, context: BotContext) -> None:
    match = CHECK_TEXT.match(update.effective_message.text or "")
    if match is None:
        return
    verb, code = match.group(1), normalise_code(match.group(2))
    if verb.endswith("到"):
        await check_in(update, context, code=code, method="text")
    else:
        await check_out(update, context, code=code, method="text")


async def checkin_command(update: Update, context: BotContext) -> None:
    await check_in(update, context, code=normalise_code(" ".join(context.args or ())), method="command")


async def checkout_command(update: Update, context: BotContext) -> None:
    await check_out(update, context, code=normalise_code(" ".join(context.args or ())), method="command")


async def location_check(update: Update, context: BotContext) -> None:
    location = update.effective_message.location
    await check_in(update, context, location=(location.latitude, location.longitude), method="location")


async def private_hint(update: Update, context: BotContext) -> None:
    """/checkin in the private chat: check-in happens in the activity's group."""
    await context.bot.send_message(
        update.effective_chat.id,
        Translator(context.language or context.services.config.language)("checkin.private_hint"),
    )


def unidentified(update: Update) -> bool:
    """Posted "as the group" or as a channel: nobody to credit."""
    return (
        is_anonymous_admin(update)
        or update.effective_message.sender_chat is not None
        or update.effective_user is None
        or update.effective_user.is_bot
    )


async def check_in(
    update: Update,
    context: BotContext,
    *,
    code: str | None = None,
    location: tuple[float, float] | None = None,
    method: str,
) -> None:
    if unidentified(update):
        await reply(update, context, "checkin.anonymous")
        return
    result = await context.services.attendance.check_in(
        update.effective_user.id, update.effective_chat.id, code=code, location=location, method=method
    )
    if result.outcome in _SUCCESS_OUTCOMES:
        await react(update, context)
        return
    if location is not None and result.outcome == "none_open":
        return  # a location shared for some other reason: no open activity, nothing to say
    await reply_problem(update, context, "checkin", result, code)


async def check_out(update: Update, context: BotContext, *, code: str | None = None, method: str) -> None:
    if unidentified(update):
        await reply(update, context, "checkin.anonymous")
        return
    result = await context.services.attendance.check_out(
        update.effective_user.id, update.effective_chat.id, code=code, method=method
    )
    if result.outcome in _SUCCESS_OUTCOMES:
        await react(update, context)
        return
    await reply_problem(update, context, "checkout", result, code)


async def reply_problem(
    update: Update, context: BotContext, verb: str, result: CheckInResult | CheckOutResult, code: str | None
) -> None:
    services = context.services
    zone = services.config.zone
    t = group_translator(context)
    activity = result.activity
    params: dict[str, object] = {
        "verb": t(f"checkin.verb_{verb}"),
        "title": "",
        "code": "",
        "minutes": services.config.activities.checkin_opens_before_minutes,
    }
    if activity is not None:
        params.update(title=activity.title, code=activity.code)
    if result.outcome == "ambiguous":
        lines = [
            t("checkin.ambiguous_line", code=each, title=(await services.activities.by_code(each)).title)
            for each in result.codes
        ]
        examples = [t("checkin.example", verb=params["verb"], code=each) for each in result.codes[:2]]
        params.update(lines=Raw("\n".join(lines)), example=Raw(t("checkin.or").join(examples)))
    elif result.outcome == "not_open":
        params["opens"] = when(t, zone, result.opens_at, services.clock.now())
    elif result.outcome == "outside_radius":
        params.update(
            distance=result.distance_m or 0,
            radius=activity.place.radius_m if activity is not None and activity.place.radius_m else 0,
        )
    elif result.outcome == "unknown_code":
        params["code"] = code or ""
    text = t(f"checkin.{result.outcome}", **params)
    if repeated(context, update.effective_chat.id, text):
        await react(update, context, SEE_ABOVE)
        return
    await send_reply(update, context, text)


def repeated(context: BotContext, chat_id: int, text: str) -> bool:
    """True when this very answer was given in this chat moments ago (it is right above)."""
    now = context.services.clock.now()
    recent: dict[tuple[int, str], datetime] = context.application.bot_data.setdefault("checkin_answers", {})
    for stale in [key for key, at in recent.items() if now - at >= REPEAT_WINDOW]:
        del recent[stale]
    if (chat_id, text) in recent:
        return True
    recent[(chat_id, text)] = now
    return False


def when(t: Translator, zone, moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return t("checkin.today_at", time=f"{local:%H:%M}")
    return t("checkin.day_at", date=f"{local:%m-%d}", time=f"{local:%H:%M}")


async def react(update: Update, context: BotContext, emoji: str = SUCCESS) -> None:
    message = update.effective_message
    try:
        await context.bot.set_message_reaction(message.chat_id, message.message_id, ReactionTypeEmoji(emoji))
    except BadRequest as error:  # reactions switched off in this group
        log.info("no reaction in chat %s (%s)", message.chat_id, error.message)
        if emoji == SUCCESS:  # the volunteer must still learn it worked: a one-word reply
            await reply(update, context, "checkin.done")


async def reply(update: Update, context: BotContext, key: str, **params: object) -> None:
    await send_reply(update, context, group_translator(context)(key, **params))


async def send_reply(update: Update, context: BotContext, text: str) -> None:
    message = update.effective_message
    try:
        await context.bot.send_message(
            message.chat_id,
            text,
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
        )
    except Forbidden as error:
        log.warning("check-in reply not sent to chat %s: %s", message.chat_id, error.message)
