"""A user-level test client, so bot tests read like user stories::

alice = UserClient(fake, 1001, deliver)
await alice.send("/start")
await alice.tap("Join")
assert "Welcome" in alice.last_reply().text
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .core import FakeMessage, FakeTelegram

__all__ = ["Chat", "UserClient"]

Deliver = Callable[[dict], Awaitable[None]]


class UserClient:
    """One Telegram user acting on a ``FakeTelegram`` while ``deliver`` runs the bot.

    ``deliver`` feeds one update (a JSON dict) to the bot and returns once the bot has
    processed it, e.g. ``lambda u: app.process_update(Update.de_json(u, app.bot))``.
    Updates delivered this way are removed from the fake's getUpdates queue.
    """

    def __init__(self, fake: FakeTelegram, user_id: int, deliver: Deliver, *, first_name: str | None = None) -> None:
        self.fake = fake
        self.user_id = user_id
        self._deliver = deliver
        self._query_ids: list[str] = []
        if not fake.has_user(user_id):
            fake.add_user(user_id, first_name or f"User{user_id}")

    # ------------------------------------------------------------------ actions

    async def send(
        self, text: str, chat_id: int | None = None, *, as_group: bool = False, reply_to: int | None = None
    ) -> FakeMessage:
        """Send a text message (private chat by default); returns the stored message."""
        update = self.fake.user_sends(
            self.user_id, self._chat(chat_id), text, as_group=as_group, reply_to_message_id=reply_to
        )
        await self._run(update)
        return self._sent_message(update)

    async def send_document(
        self,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat_id: int | None = None,
        *,
        caption: str | None = None,
    ) -> FakeMessage:
        update = self.fake.user_sends(
            self.user_id,
            self._chat(chat_id),
            caption,
            document={"file_name": file_name, "mime_type": mime_type, "content": content},
        )
        await self._run(update)
        return self._sent_message(update)

    async def send_location(self, lat: float, lon: float, chat_id: int | None = None) -> FakeMessage:
        update = self.fake.user_sends(self.user_id, self._chat(chat_id), location=(lat, lon))
        await self._run(update)
        return self._sent_message(update)

    async def tap(self, label: str, chat_id: int | None = None, *, message_id: int | None = None) -> None:
        """Press the inline button labelled ``label`` on the newest bot message showing it.

        An exact label match wins over a substring match; without any match the error
        lists the buttons that are on screen.
        """
        chat = self._chat(chat_id)
        message, data = self._find_button(chat, label, message_id)
        update = self.fake.user_taps(self.user_id, chat, message.message_id, data)
        self._query_ids.append(update["callback_query"]["id"])
        await self._run(update)

    async def tap_data(
        self, callback_data: str, chat_id: int | None = None, *, message_id: int | None = None, forge: bool = False
    ) -> None:
        """Tap by raw callback_data; ``forge`` sends data that is on no button."""
        chat = self._chat(chat_id)
        if message_id is None:
            last = self.fake.last_bot_message(chat)
            if last is None:
                raise AssertionError(f"no bot message in chat {chat} to tap")
            message_id = last.message_id
        update = self.fake.user_taps(self.user_id, chat, message_id, callback_data, forge=forge)
        self._query_ids.append(update["callback_query"]["id"])
        await self._run(update)

    # ------------------------------------------------------------- inspection

    def last_reply(self, chat_id: int | None = None) -> FakeMessage:
        message = self.fake.last_bot_message(self._chat(chat_id))
        if message is None:
            raise AssertionError(f"the bot has not sent anything in chat {self._chat(chat_id)}")
        return message

    def replies(self, chat_id: int | None = None) -> list[FakeMessage]:
        return self.fake.bot_messages(self._chat(chat_id))

    def transcript(self, chat_id: int | None = None) -> list[str]:
        """What the chat shows, oldest first: texts/captions, or a placeholder for media."""
        return [_describe(m) for m in self.fake.messages(self._chat(chat_id)) if m.kind != "service"]

    @property
    def callback_answers(self) -> list[str | None]:
        """Texts of the bot's answerCallbackQuery calls for this user's taps, in order."""
        mine = set(self._query_ids)
        return [a["text"] for a in self.fake.callback_answers if a["callback_query_id"] in mine]

    # --------------------------------------------------------------- internals

    def _chat(self, chat_id: int | None) -> int:
        return self.user_id if chat_id is None else chat_id

    async def _run(self, update: dict) -> None:
        self.fake.discard_update(update["update_id"])
        await self._deliver(update)

    def _sent_message(self, update: dict) -> FakeMessage:
        sent = update["message"]
        for message in self.fake.messages(sent["chat"]["id"], include_deleted=True):
            if message.message_id == sent["message_id"]:
                return message
        raise AssertionError("sent message vanished")  # pragma: no cover

    def _find_button(self, chat_id: int, label: str, message_id: int | None) -> tuple[FakeMessage, str]:
        candidates = list(reversed(self.fake.bot_messages(chat_id)))
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
            if not candidates:
                raise AssertionError(f"no bot message {message_id} in chat {chat_id}")
        for matches in (lambda text: text == label, lambda text: label in text):
            for message in candidates:
                hits = [(text, data) for text, data in _tappable(message) if matches(text)]
                if len({text for text, _ in hits}) > 1:
                    raise AssertionError(
                        f"{label!r} is ambiguous on message {message.message_id}: {[text for text, _ in hits]}"
                    )
                if hits:
                    return message, hits[0][1]
        on_screen = {m.message_id: m.button_labels() for m in candidates if m.buttons()}
        raise AssertionError(f"no button labelled {label!r} in chat {chat_id}; buttons by message: {on_screen}")


def _tappable(message: FakeMessage) -> list[tuple[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row if "callback_data" in b]


def _describe(message: FakeMessage) -> str:
    if message.text is not None:
        return message.text
    if message.kind == "document" and message.document is not None:
        return f"[document {message.document['file_name']}]"
    if message.kind == "photo":
        return "[photo]"
    if message.kind == "location" and message.location is not None:
        return f"[location {message.location[0]},{message.location[1]}]"
    return f"[{message.kind}]"


# The brief calls the user-story client either name.
Chat = UserClient
