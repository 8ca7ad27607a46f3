"""/start, /help, /lang, /cancel, and what to say when nobody expected a message."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.membership import Standing
from handlers.callback_data import CallbackData
from handlers.commands import COMMANDS, Audience
from handlers.context import BotContext, Ui
from handlers.flow import registry_of
from handlers.i18n import LANGUAGES
from handlers.intents import answer_plain_text


@dataclass(frozen=True)
class LanguageButton(CallbackData, prefix="lang"):
    code: str


_LANGUAGE_TOKENS = {"zh-Hans": "zh", "zh-Hant": "zht", "en": "en"}
# Which commands /help and /start show: the person's highest role decides.
_AUDIENCES = {
    Standing.EVERYONE: Audience.EVERYONE,
    Standing.CADRE: Audience.CADRE,
    Standing.ORG_ADMIN: Audience.ORG_ADMIN,
    Standing.COUNTY_ADMIN: Audience.COUNTY_ADMIN,
}


async def audience_of(ui: Ui) -> Audience:
    return _AUDIENCES[await ui.services.membership.standing(ui.user_id)]


async def help_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    audience = await audience_of(ui)
    in_group = not ui.is_private
    lines = [ui.t("help.title")]
    for level in Audience:
        if level > audience:
            break
        section = [c for c in COMMANDS if c.audience is level and (c.group if in_group else c.private)]
        if not section:
            continue
        lines.append("")
        lines.append(ui.t(f"help.section_{level.name.lower()}"))
        for command in section:
            lines.append(
                ui.t(
                    "help.line",
                    name=command.name,
                    what=ui.t(f"commands.{command.name}"),
                    example=ui.t(f"help.example.{command.name}"),
                )
            )
    lines.append("")
    lines.append(ui.t("help.footer"))
    await ui.send_text("\n".join(lines))


async def language_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    buttons = [
        [
            InlineKeyboardButton(
                ui.t(f"lang.name_{_LANGUAGE_TOKENS[code]}"),
                callback_data=LanguageButton(code=_LANGUAGE_TOKENS[code]).pack(),
            )
        ]
        for code in LANGUAGES
    ]
    await ui.reply("lang.choose", InlineKeyboardMarkup(buttons))


async def language_chosen(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    token = LanguageButton.unpack(ui.callback_data).code
    codes = {value: key for key, value in _LANGUAGE_TOKENS.items()}
    if token not in codes:
        await ui.answer("common.button_expired", alert=True)
        return
    await ui.answer()
    await ui.services.people.set_language(ui.user_id, codes[token])
    context.language = codes[token]
    await Ui(update, context).edit("lang.changed")


async def cancel(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    had_one = await ui.services.conversations.clear(ui.user_id)
    await ui.reply("common.cancelled" if had_one else "common.nothing_to_cancel")


async def private_input(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    message = ui.message
    if not await registry_of(context).on_message(ui, message):
        if message.text:
            await answer_plain_text(ui, message.text, await audience_of(ui))
        else:
            await ui.reply("common.unexpected_message")


async def conversation_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    await registry_of(context).on_button(ui, ui.callback_data)


async def unknown_command(update: Update, context: BotContext) -> None:
    await Ui(update, context).reply("common.unknown_command")


def private_link_markup(ui: Ui, payload: str, key: str = "common.open_private") -> InlineKeyboardMarkup:
    """A button that opens the bot's private chat (conversations never run in groups)."""
    url = f"https://t.me/{ui.context.bot.username}?start={payload}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(ui.t(key), url=url)]])


async def go_private(update: Update, context: BotContext) -> None:
    """Conversations never run in groups: answer with a button into the private chat."""
    ui = Ui(update, context)
    await ui.reply("common.use_private", private_link_markup(ui, "help"))


async def unknown_button(update: Update, context: BotContext) -> None:
    await Ui(update, context).answer("common.button_expired", alert=True)
