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


# Telegram refuses a message over 4,096 characters; a county admin's full /help (every command
# with its example) is longer, so theirs lists the commands without the examples, in as few
# messages as that takes (English words are longer).
HELP_LIMIT = 4000


async def help_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    audience = await audience_of(ui)
    text = help_text(ui, audience, examples=True)
    if len(text) > HELP_LIMIT:
        text = help_text(ui, audience, examples=False)
    for part in split_lines(text, HELP_LIMIT):
        await ui.send_text(part)


def split_lines(text: str, limit: int) -> list[str]:
    """The text in parts of at most `limit` characters, cut between lines (before a blank line
    where one is near, so that a section stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        if current and size + len(line) + 1 > limit:
            cut = max((i for i, kept in enumerate(current) if kept == ""), default=len(current)) or len(current)
            parts.append("\n".join(current[:cut]).strip("\n"))
            current = current[cut:]
            size = sum(len(kept) + 1 for kept in current)
        current.append(line)
        size += len(line) + 1
    parts.append("\n".join(current).strip("\n"))
    return [part for part in parts if part]


def help_text(ui: Ui, audience: Audience, *, examples: bool) -> str:
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
            what = ui.t(f"commands.{command.name}")
            if examples:
                lines.append(
                    ui.t("help.line", name=command.name, what=what, example=ui.t(f"help.example.{command.name}"))
                )
            else:
                lines.append(ui.t("help.line_short", name=command.name, what=what))
    lines.append("")
    lines.append(ui.t("help.footer"))
    return "\n".join(lines)


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
