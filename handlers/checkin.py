"""Check-in and check-out in the group chat: `签到`, `签到 A12`, `/checkin [code]`, a shared location.

The group must not be flooded: success (and a repeated check-in) is a 👍 reaction on the
volunteer's own message; only a problem gets a short reply, quoting the message, in the group's
language. When a wave of volunteers hits the same problem (several activities open, not open
yet), the answer is written once per `REPEAT_WINDOW`; the others get a 👀 ("see just above").
Windows, radius, walk-ins and idempotency are decided in bot/domain/attendance/.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import ReactionTypeEmoji, ReplyParameters, Update
from telegram.constants import ReactionEmoji

from bot.domain.attendance import (
    CheckInMethod,
    CheckInOutcome,
    CheckInResult,
    CheckOutOutcome,
    CheckOutResult,
)
from bot.domain.formatting import local_text
from handlers.activities.render import normalise_code
from handlers.context import BotContext, best_effort, group_translator, translator_for
from handlers.gate import is_anonymous_admin
from handlers.i18n import Raw, Translator

log = logging.getLogger(__name__)

# `签到`, `签到 A12`, `签退Ａ１２` … (spaces, full-width spaces and full-width letters/digits allowed;
# 簽到 / 簽退 as the zh-Hant catalog writes them).
CHECK_TEXT = re.compile(
    r"^[\s\u3000]*(?:(?P<check_in>[签簽]到)|[签簽]退)[\s\u3000]*(?P<code>[AaＡａ][0-9０-９]{1,9})?[\s\u3000]*$"
)
SUCCESS = ReactionEmoji.THUMBS_UP
SEE_ABOVE = ReactionEmoji.EYES
REPEAT_WINDOW = timedelta(minutes=2)


async def text_check(update: Update, context: BotContext) -> None:
    message = update.effective_message
    match = CHECK_TEXT.match(message.text or "") if message is not None else None
    if match is None:
        return
    code = normalise_code(match.group("code"))
    if match.group("check_in"):
        await check_in(update, context, code=code, method=CheckInMethod.TEXT)
    else:
        await check_out(update, context, code=code, method=CheckInMethod.TEXT)


async def checkin_command(update: Update, context: BotContext) -> None:
    code = normalise_code(" ".join(context.args or ()))
    await check_in(update, context, code=code, method=CheckInMethod.COMMAND)


async def checkout_command(update: Update, context: BotContext) -> None:
    code = normalise_code(" ".join(context.args or ()))
    await check_out(update, context, code=code, method=CheckInMethod.COMMAND)


async def location_check(update: Update, context: BotContext) -> None:
    message = update.effective_message
    location = message.location if message is not None else None
    if location is None:
        return
    await check_in(update, context, location=(location.latitude, location.longitude), method=CheckInMethod.LOCATION)


async def private_hint(update: Update, context: BotContext) -> None:
    """/checkin in the private chat: check-in happens in the activity's group."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(chat.id, translator_for(context)("checkin.private_hint"))


def volunteer_id(update: Update) -> int | None:
    """Who to credit; None when posted "as the group" or as a channel, or by a bot."""
    user, message = update.effective_user, update.effective_message
    if is_anonymous_admin(update) or user is None or user.is_bot:
        return None
    if message is not None and message.sender_chat is not None:
        return None
    return user.id


async def check_in(
    update: Update,
    context: BotContext,
    *,
    code: str | None = None,
    location: tuple[float, float] | None = None,
    method: CheckInMethod,
) -> None:
    user_id, chat = volunteer_id(update), update.effective_chat
    if chat is None:
        return
    if user_id is None:
        await reply(update, context, "checkin.anonymous")
        return
    result = await context.services.attendance.check_in(user_id, chat.id, code=code, location=location, method=method)
    if result.done:
        await react(update, context)
        return
    if location is not None and result.outcome is CheckInOutcome.NONE_OPEN:
        return  # a location shared for some other reason: no open activity, nothing to say
    await reply_problem(update, context, "checkin", result, code)


async def check_out(update: Update, context: BotContext, *, code: str | None = None, method: CheckInMethod) -> None:
    user_id, chat = volunteer_id(update), update.effective_chat
    if chat is None:
        return
    if user_id is None:
        await reply(update, context, "checkin.anonymous")
        return
    result = await context.services.attendance.check_out(user_id, chat.id, code=code, method=method)
    if result.done:
        await react(update, context)
        return
    await reply_problem(update, context, "checkout", result, code)


async def reply_problem(
    update: Update, context: BotContext, verb: str, result: CheckInResult | CheckOutResult, code: str | None
) -> None:
    """The group's answer to a check-in or check-out that did not happen: catalog `checkin.<outcome>`."""
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
    outcome = result.outcome
    if outcome in (CheckInOutcome.AMBIGUOUS, CheckOutOutcome.AMBIGUOUS):
        lines = [
            t("checkin.ambiguous_line", code=each, title=(await services.activities.by_code(each)).title)
            for each in result.codes
        ]
        examples = [t("checkin.example", verb=params["verb"], code=each) for each in result.codes[:2]]
        params.update(lines=Raw("\n".join(lines)), example=Raw(t("checkin.or").join(examples)))
    elif isinstance(result, CheckInResult) and outcome is CheckInOutcome.NOT_OPEN:
        params["opens"] = when(t, zone, result.opens_at, services.clock.now())
    elif isinstance(result, CheckInResult) and outcome is CheckInOutcome.OUTSIDE_RADIUS:
        params.update(
            distance=result.distance_m or 0,
            radius=activity.place.radius_m if activity is not None and activity.place.radius_m else 0,
        )
    elif outcome in (CheckInOutcome.UNKNOWN_CODE, CheckOutOutcome.UNKNOWN_CODE):
        params["code"] = code or ""
    text = t(f"checkin.{outcome}", **params)
    chat = update.effective_chat
    if chat is not None and repeated(context, chat.id, text):
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


def when(t: Translator, zone: ZoneInfo, moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    time = local_text(moment, zone, "%H:%M")
    if moment.astimezone(zone).date() == now.astimezone(zone).date():
        return t("checkin.today_at", time=time)
    return t("checkin.day_at", date=local_text(moment, zone, "%m-%d"), time=time)


async def react(update: Update, context: BotContext, emoji: ReactionEmoji = SUCCESS) -> None:
    message = update.effective_message
    if message is None:
        return
    reacted = await best_effort(
        context.bot.set_message_reaction(message.chat_id, message.message_id, ReactionTypeEmoji(emoji)),
        "no reaction in chat %s",
        message.chat_id,
    )
    if reacted is None and emoji == SUCCESS:  # reactions off here: the volunteer must still learn it worked
        await reply(update, context, "checkin.done")


async def reply(update: Update, context: BotContext, key: str, **params: object) -> None:
    await send_reply(update, context, group_translator(context)(key, **params))


async def send_reply(update: Update, context: BotContext, text: str) -> None:
    message = update.effective_message
    if message is None:
        return
    await best_effort(
        context.bot.send_message(
            message.chat_id,
            text,
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
        ),
        "check-in reply not sent to chat %s",
        message.chat_id,
    )
