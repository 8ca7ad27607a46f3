"""Groups: the bot joining/leaving, and binding a group as the hub or an organisation's group."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus

from bot.domain.errors import DomainError, PermissionDenied
from bot.model.organisation import Binding, ChatRecord
from handlers.common import private_link_markup
from handlers.context import (
    BotContext,
    MissingUpdatePart,
    Ui,
    group_translator,
    notify_user,
    translator_for,
)
from handlers.flow import Flow, choice_id, page_number
from handlers.gate import is_anonymous_admin
from handlers.i18n import Translator
from handlers.scheduling import schedule_wake

CHAT_ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def is_chat_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time: group admin rights change without telling the bot."""
    member = await context.bot.get_chat_member(chat_id, user_id)
    return member.status in CHAT_ADMIN_STATUSES


async def bot_membership_changed(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None:
        raise MissingUpdatePart("this update has no my_chat_member: the handler is registered for the wrong updates")
    chat = change.chat
    if chat.type not in ("group", "supergroup"):
        return
    services = context.services
    status = change.new_chat_member.status
    result = await services.groups.bot_status_changed(
        chat.id, chat.title or str(chat.id), chat.type, status, change.from_user.id if change.from_user else None
    )
    if result.lost_bound_group:
        bound_to = await binding_label(context, result.chat.binding, result.chat.org_id, group_translator(context))
        for admin_id in await services.groups.told_when_removed():
            await notify_user(
                context.application, admin_id, "groups.bot_removed_admins", title=chat.title, bound_to=bound_to
            )
    elif result.chat.active and change.old_chat_member.status in ("left", "kicked"):
        await context.bot.send_message(chat.id, group_translator(context)("groups.hello"))


async def binding_label(
    context: BotContext, binding: Binding | None, org_id: int | None, t: Translator | None = None
) -> str:
    t = t or translator_for(context)
    if binding is None:
        return t("groups.binding_none")
    if org_id is None:
        return t("groups.binding_hub")
    org = await context.services.orgs.get(org_id)
    return t("groups.binding_org", org=org.name)


async def bind_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if is_anonymous_admin(update):
        await ui.reply("groups.anonymous_admin")
        return
    await ui.services.groups.check_may_bind(ui.user_id, lambda: is_chat_admin(context, ui.chat_id, ui.user_id))
    await ui.reply("groups.bind_go_private", private_link_markup(ui, f"bind_{ui.chat_id}", "groups.button_bind_here"))


async def unbind_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if is_anonymous_admin(update):
        await ui.reply("groups.anonymous_admin")
        return
    chat = await ui.services.groups.unbind(
        ui.user_id, ui.chat_id, is_chat_admin=await is_chat_admin(context, ui.chat_id, ui.user_id)
    )
    await schedule_wake(context.application)  # the organisation's activity reminders were withdrawn
    await ui.reply("groups.unbound", was=await binding_label(context, chat.binding, chat.org_id, ui.t))


async def groups_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    chats = await ui.services.groups.overview(ui.user_id)
    if not chats:
        await ui.reply("groups.none_bound")
        return
    lines = [ui.t("groups.list_title", count=len(chats))]
    for chat in chats:
        label = await binding_label(context, chat.binding, chat.org_id)
        state = ui.t("groups.state_active" if chat.active else "groups.state_inactive")
        lines.append(ui.t("groups.list_line", title=chat.title, bound_to=label, state=state))
    await ui.send_text("\n".join(lines))


class BindFlow(Flow):
    """Started from the group's /bind button: choose hub or organisation, confirm, done."""

    name = "bd"

    async def _targets(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        return [(org.id, org.name) for org in await ui.services.groups.bindable_orgs(ui.user_id, search)]

    async def _markup(self, ui: Ui, page: int, search: str | None = None) -> InlineKeyboardMarkup:
        extra = []
        if await ui.services.groups.may_bind_hub(ui.user_id):
            extra.append([self.choice(ui, "target", "hub", "groups.button_hub")])
        return self.paged(ui, "target", await self._targets(ui, search), page, extra)

    async def _group(self, ui: Ui, chat_id: int) -> ChatRecord:
        chat = await ui.services.groups.get(chat_id)
        if chat is None:
            raise DomainError("groups.unknown_group")
        return chat

    async def start(self, ui: Ui, chat_id: int) -> None:
        chat = await self._group(ui, chat_id)
        if not chat.active:
            raise DomainError("groups.unknown_group")
        await self.go(ui, "target", {"chat_id": chat_id})
        await ui.reply("groups.bind_pick", await self._markup(ui, 0), title=chat.title)

    async def text_target(self, ui: Ui, data: dict, text: str) -> None:
        if not await self._targets(ui, text):
            raise DomainError("groups.search_nothing", text=text[:30])
        chat = await self._group(ui, data["chat_id"])
        await ui.reply("groups.bind_pick", await self._markup(ui, 0, text), title=chat.title)

    async def choice_target(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        chat = await self._group(ui, data["chat_id"])
        if page is not None:
            await ui.edit("groups.bind_pick", await self._markup(ui, page), title=chat.title)
            return
        target: int | str
        if value == "hub":
            await ui.services.groups.check_may_bind_hub(ui.user_id)
            target, label = "hub", ui.t("groups.binding_hub")
        else:
            org = await ui.services.orgs.get_active(choice_id(value))
            target, label = org.id, ui.t("groups.binding_org", org=org.name)
        await self.go(ui, "confirm", {**data, "target": target})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "groups.button_confirm_bind")], self.cancel_row(ui)]
        )
        await ui.edit("groups.bind_confirm", markup, title=chat.title, bound_to=label)

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        chat_id, target = data["chat_id"], data["target"]
        groups = ui.services.groups
        try:
            if target == "hub":
                chat = await groups.bind_hub(ui.user_id, chat_id)
            else:
                chat = await groups.bind_org(
                    ui.user_id, chat_id, target, is_chat_admin=await is_chat_admin(ui.context, chat_id, ui.user_id)
                )
        except PermissionDenied:
            await self.finish(ui)
            raise
        await self.finish(ui)
        await schedule_wake(ui.context.application)  # activity reminders now go to this group
        label = await binding_label(ui.context, chat.binding, chat.org_id, ui.t)
        await ui.edit("groups.bound_private", title=chat.title, bound_to=label)
        in_group = group_translator(ui.context)
        group_label = await binding_label(ui.context, chat.binding, chat.org_id, in_group)
        await ui.context.bot.send_message(chat.chat_id, in_group("groups.bound_group", bound_to=group_label))
