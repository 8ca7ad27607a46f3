"""Typed access to the services, and `Ui`: one reader's view of an update (language, replies).

`BotContext` is the Application's context type; the gatekeeper (handlers/gate.py) fills in the
reader's language once per update, so every handler speaks to the right person in the right
language without looking anything up itself.

PTB types every part of an update as optional (`effective_user`, `callback_query`, its `data`…),
though each handler's filters guarantee the parts it reads. `Ui`'s accessors (`user`, `chat`,
`query`, `callback_data`, `message`) return them typed, and raise `MissingUpdatePart` (a wiring
mistake, never user input) when a handler was registered for updates that lack one.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application, CallbackContext, ExtBot

from bot.domain.services import Services
from bot.model.organisation import Person
from handlers.i18n import Translator

log = logging.getLogger(__name__)


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    language: str | None = None

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]


def is_not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def is_query_too_old(error: BadRequest) -> bool:
    return "query is too old" in error.message.lower()


T = TypeVar("T")


async def best_effort(call: Awaitable[T], what: str, *args: object) -> T | None:
    """Await a Telegram call that may fail for reasons outside the bot's control (removed from the
    group, the group upgraded, the person blocked the bot): one log line naming `what` (a
    %-format with `args`) and None instead of an error. Any other error still propagates."""
    try:
        return await call
    except (BadRequest, ChatMigrated, Forbidden) as error:
        log.warning(what + ": %s", *args, error)
        return None


class MissingUpdatePart(RuntimeError):
    """A handler read a part of the update that its filters should have guaranteed."""


def _present(value: T | None, what: str) -> T:
    if value is None:
        raise MissingUpdatePart(f"this update has no {what}: the handler is registered for the wrong updates")
    return value


class Ui:
    """Replies, edits and notices for the person behind one update."""

    def __init__(self, update: Update, context: BotContext) -> None:
        self.update = update
        self.context = context
        self.services = context.services
        self.t = translator(context.services, context.language or context.services.config.language)

    @property
    def user(self) -> User:
        return _present(self.update.effective_user, "sender")

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def chat(self) -> Chat:
        return _present(self.update.effective_chat, "chat")

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def is_private(self) -> bool:
        return self.chat.type == "private"

    @property
    def query(self) -> CallbackQuery:
        """The tapped button's callback query (handlers registered as CallbackQueryHandler)."""
        return _present(self.update.callback_query, "callback query")

    @property
    def callback_data(self) -> str:
        """The tapped button's payload, for `SomeButton.unpack(ui.callback_data)`."""
        return _present(self.query.data, "callback data")

    @property
    def message(self) -> Message:
        """The message the update carries (handlers registered as MessageHandler)."""
        return _present(self.update.effective_message, "message")

    # `key` and `markup` are positional-only, so that any name is free for a catalog parameter
    # and a DomainError's params (`**error.params`) can be passed on as they are.
    async def reply(self, key: str, markup: InlineKeyboardMarkup | None = None, /, **params: object) -> Message:
        return await self.send_text(self.t(key, **params), markup)

    async def send_text(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self.context.bot.send_message(self.chat_id, text, reply_markup=markup)

    async def answer(self, key: str | None = None, /, *, alert: bool = False, **params: object) -> None:
        """Answer the callback query (always, and first): a toast, or just stop the spinner."""
        query = self.update.callback_query
        if query is not None:
            try:
                await query.answer(self.t(key, **params) if key else None, show_alert=alert)
            except BadRequest as error:
                if not is_query_too_old(error):
                    raise
                # A tap handled again after a restart (the durable inbox), or reached too late:
                # Telegram takes no answer any more, but what the tap asked for still happens.
                log.info("callback %s not answered (too old): the tap is handled all the same", query.id)

    async def edit(self, key: str, markup: InlineKeyboardMarkup | None = None, /, **params: object) -> None:
        await self.edit_text(self.t(key, **params), markup)

    async def edit_text(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Edit the message the tapped button sits on; an identical edit is not an error for us.
        A message with no text to edit (a file, a photo, or one Telegram no longer shows the bot:
        only a forged tap lands there) gets the text as a new message instead."""
        message = _present(self.query.message, "message under the tapped button")
        if not isinstance(message, Message) or message.text is None:
            await self.send_text(text, markup)
            return
        try:
            await self.context.bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
            )
        except BadRequest as error:
            if not is_not_modified(error):
                raise

    async def notify(self, user_id: int, key: str, markup: MarkupFor | None = None, /, **params: object) -> bool:
        """Message another person privately, in their language; False if they never started the bot."""
        return await notify_user(self.context.application, user_id, key, markup, **params)


MarkupFor = Callable[[Translator], InlineKeyboardMarkup]


async def notify_user(
    application: Application, user_id: int, key: str, markup: MarkupFor | None = None, /, **params: object
) -> bool:
    """`markup` builds the keyboard in the recipient's language."""
    services: Services = application.bot_data["services"]
    t = reader_translator(services, await services.people.get(user_id))
    try:
        await application.bot.send_message(user_id, t(key, **params), reply_markup=markup(t) if markup else None)
    except Forbidden:
        log.info("user %s cannot be messaged (never started the bot or blocked it)", user_id)
        return False
    return True


def translator(services: Services, language: str) -> Translator:
    """`language`, with the services' clock and configured zone for the catalog's examples."""
    return Translator(language, services.clock, services.config.zone)


def reader_translator(services: Services, person: Person | None) -> Translator:
    """For one person outside an update of theirs (a notice, a job): the language they chose,
    else their Telegram app's, else the configured one."""
    return translator(services, services.people.language_of(person, person.telegram_language if person else None))


def translator_for(context: BotContext) -> Translator:
    return translator(context.services, context.language or context.services.config.language)


def group_translator(context: BotContext) -> Translator:
    """Groups are shared by many readers: they get the configured language."""
    return translator(context.services, context.services.config.language)


def services_of(application: Application) -> Services:
    """For jobs and background tasks, which have the application but no update."""
    return application.bot_data["services"]


def group_t(services: Services) -> Translator:
    """Groups (and the hub) are read by many people: they get the configured language."""
    return translator(services, services.config.language)


def clean(text: str) -> str:
    """Typed input: full-width digits, letters and punctuation as ASCII; runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
