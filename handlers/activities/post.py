"""The activity's post in the group (and the hub), its sign-up buttons, and notices under it.

Taps never edit the post one by one: the count is refreshed through handlers/live_message.py,
which coalesces a burst of taps into one edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.domain.activities import Roster
from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.model.activity import Activity, SignupOutcome
from bot.model.outbox import OutboxMessage
from handlers.activities.buttons import SignupChoice, SignupTap, tapped_choice
from handlers.activities.render import category_label, place_text, when_text
from handlers.context import BotContext, Ui, best_effort, group_t, reader_translator, services_of
from handlers.gate import is_anonymous_admin
from handlers.i18n import Raw
from handlers.live_message import request_refresh
from handlers.outbox import Rendered


async def post_view(
    services: Services, activity: Activity, roster: Roster | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The post's text and buttons as they should look now (cancelled and ended posts lose buttons)."""
    t = group_t(services)
    zone = services.config.zone
    org = await services.orgs.get(activity.org_id)
    roster = roster or await services.activities.roster(activity.id)
    waitlist = t.raw("activities.post_waitlist", count=len(roster.waitlist)) if roster.waitlist else Raw("")
    ended = services.clock.now() >= activity.ends_at
    if activity.cancelled:
        header = t.raw("activities.post_header_cancelled")
    elif ended:
        header = t.raw("activities.post_header_ended")
    else:
        header = t.raw("activities.post_header")
    text = t(
        "activities.post",
        header=header,
        title=activity.title,
        code=activity.code,
        org=org.name,
        category=category_label(t, activity.category),
        when=Raw(when_text(t, zone, activity.starts_at, activity.ends_at)),
        place=Raw(place_text(t, activity.place)),
        signed=len(roster.signed),
        slots=activity.slots,
        waitlist=waitlist,
        footer=t.raw("activities.post_footer") if not activity.cancelled and not ended else Raw(""),
    )
    if activity.cancelled or ended:
        return text, None
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("activities.button_signup", signed=len(roster.signed), slots=activity.slots),
                    callback_data=SignupTap(activity=activity.id, action=SignupChoice.IN).pack(),
                ),
                InlineKeyboardButton(
                    t("activities.button_withdraw"),
                    callback_data=SignupTap(activity=activity.id, action=SignupChoice.OUT).pack(),
                ),
            ]
        ]
    )
    return text, markup


async def refresh_posts(application: Application, activity_id: int) -> None:
    """Ask for the posts to show the current truth; bursts become one edit (live_message.py)."""

    async def render() -> list[tuple[int, int, str, InlineKeyboardMarkup | None]]:
        services = services_of(application)
        activity = await services.activities.get(activity_id)
        text, markup = await post_view(services, activity)
        return [
            (chat_id, message_id, text, markup) for chat_id, message_id in await services.activities.posts(activity_id)
        ]

    await request_refresh(application, f"activity:{activity_id}", render)


@dataclass(frozen=True)
class Published:
    """Where an activity is posted now: chat titles posted in, titles that failed, no group bound."""

    posted: tuple[str, ...]
    failed: tuple[str, ...]
    no_group: bool


async def publish(application: Application, activity: Activity) -> Published:
    """Post the activity in its organisation's group (and the hub when asked) where it is not yet."""
    services = services_of(application)
    targets = []
    chat = await services.groups.of_org(activity.org_id)
    if chat is not None and chat.active:
        targets.append(chat)
    if activity.also_hub:
        hub = await services.groups.hub()
        if hub is not None and hub.active:
            targets.append(hub)
    already = {chat_id for chat_id, _ in await services.activities.posts(activity.id)}
    text, markup = await post_view(services, activity)
    posted: list[str] = []
    failed: list[str] = []
    for target in targets:
        if target.chat_id in already:
            posted.append(target.title)
            continue
        message = await best_effort(
            application.bot.send_message(target.chat_id, text, reply_markup=markup),
            "activity %s not posted in chat %s",
            activity.id,
            target.chat_id,
        )
        if message is None:
            failed.append(target.title)
            continue
        await services.activities.record_post(activity.id, target.chat_id, message.message_id)
        posted.append(target.title)
    return Published(tuple(posted), tuple(failed), no_group=chat is None or not chat.active)


def publish_report(ui: Ui, published: Published, org_name: str, code: str) -> Raw:
    """What the organiser is told after publishing: where it went, and what to do about the rest."""
    lines = []
    separator = ui.t("activities.name_separator")
    if published.posted:
        lines.append(ui.t("activities.published_in", chats=separator.join(published.posted)))
    if published.failed:
        lines.append(ui.t("activities.publish_failed", chats=separator.join(published.failed), code=code))
    if published.no_group:
        lines.append(ui.t("activities.no_group", org=org_name, code=code))
    return Raw("\n".join(lines))


async def announce(application: Application, activity_id: int, text: str) -> None:
    """A short notice in every chat where the activity was posted."""
    services = services_of(application)
    for chat_id, _ in await services.activities.posts(activity_id):
        await best_effort(
            application.bot.send_message(chat_id, text),
            "activity %s notice not sent to chat %s",
            activity_id,
            chat_id,
        )


async def render_promoted(application: Application, message: OutboxMessage) -> Rendered:
    """A volunteer moved up from the waitlist (queued with the move), told in their language."""
    services = services_of(application)
    activity = await services.activities.get(message.param("activity"))
    t = reader_translator(services, await services.people.get(message.chat_id))
    return Rendered(
        t(
            "activities.promoted",
            title=activity.title,
            code=activity.code,
            when=Raw(when_text(t, services.config.zone, activity.starts_at, activity.ends_at)),
            place=activity.place.text,
        )
    )


# ---- sign-up and withdrawal ---------------------------------------------------------------------
async def signup_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = SignupTap.unpack(ui.callback_data)
    activity_id = values.activity
    choice = await tapped_choice(ui, SignupChoice, values.action)
    if choice is None:
        return
    if is_anonymous_admin(update):
        await ui.answer("activities.signup_anonymous", alert=True)
        return
    if choice is SignupChoice.IN:
        await _sign_up(ui, activity_id)
    else:
        await _withdraw(ui, activity_id)


async def _sign_up(ui: Ui, activity_id: int) -> None:
    try:
        result = await ui.services.activities.sign_up(ui.user_id, activity_id, chat_id=ui.chat_id)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    if result.status in (SignupOutcome.SIGNED, SignupOutcome.ALREADY_SIGNED):
        await ui.answer(f"activities.toast_{result.status}")
    else:
        waitlist = result.roster.waitlist
        position = waitlist.index(ui.user_id) + 1 if ui.user_id in waitlist else 1
        await ui.answer(
            f"activities.toast_{result.status}", alert=result.status is SignupOutcome.WAITLISTED, position=position
        )
    if result.status in (SignupOutcome.SIGNED, SignupOutcome.WAITLISTED):  # a repeated tap changes nothing on the post
        await refresh_posts(ui.context.application, activity_id)


async def _withdraw(ui: Ui, activity_id: int) -> None:
    try:
        result = await ui.services.activities.withdraw(ui.user_id, activity_id)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer("activities.toast_withdrawn" if result.withdrew else "activities.toast_not_signed")
    if result.withdrew:
        await refresh_posts(ui.context.application, activity_id)
    # Whoever took the place from the waitlist is told through the outbox (queued with the move).
