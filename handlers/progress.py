"""A "正在生成…" message that shows how far a long piece of work has come (a province-year's
export writes half a million rows for a minute), edited without flooding the chat.

- It is sent only once the work has run `delay` seconds (a quick export shows no message at all),
  unless the caller already has one to reuse (/export's "正在生成「全县」的表格" reply).
- It is edited at most once every `interval` seconds: a group takes about 20 bot messages a
  minute, and every edit counts.
- It is never edited to the text it already shows (Telegram refuses an identical edit).

All waiting is measured on the bot's clock (`services.clock.monotonic()`), so tests move it by
hand. A message Telegram no longer lets the bot edit (deleted meanwhile) is left alone: the
work goes on and its result is sent all the same.
"""

from __future__ import annotations

from telegram import Message

from bot.domain.clock import Clock
from handlers.context import Ui, best_effort

INTERVAL = 3.0  # seconds between edits: at most 20 a minute, a group's whole allowance
DELAY = 2.0  # seconds of work before a message is worth sending


class ProgressMessage:
    def __init__(
        self,
        ui: Ui,
        clock: Clock,
        message: Message | None = None,
        *,
        delay: float = DELAY,
        interval: float = INTERVAL,
    ) -> None:
        self.ui = ui
        self.clock = clock
        self.message = message
        self.shown = message.text if message is not None else None
        self.interval = interval
        self.started = clock.monotonic()
        self.delay = delay
        # A reused message was just sent: its first edit waits a whole interval too.
        self.last_change = self.started if message is not None else None
        self.edits = 0

    @classmethod
    def of(cls, ui: Ui, message: object = None) -> ProgressMessage:
        """On the bot's clock; `message` the "正在生成…" message just sent or edited, if any."""
        return cls(ui, ui.services.clock, message if isinstance(message, Message) else None)

    async def send_now(self, text: str) -> None:
        """Send the message at once (the caller has timed the wait itself: /report's summary)."""
        self.started = float("-inf")
        await self.show(text)

    async def show(self, text: str) -> None:
        """Show `text` if the throttle allows it now; otherwise drop it (the next call shows the
        newer state)."""
        now = self.clock.monotonic()
        if text == self.shown:
            return
        bot, chat_id = self.ui.context.bot, self.ui.chat_id
        if self.message is None:
            if now - self.started < self.delay:
                return
            self.message = await best_effort(bot.send_message(chat_id, text), "progress message to %s", chat_id)
            # Not sent (the bot was removed from the group): try again only after another delay.
            self.started = self.last_change = now
            self.shown = text if self.message is not None else None
            return
        if self.last_change is not None and now - self.last_change < self.interval:
            return
        self.last_change = now
        edited = await best_effort(
            bot.edit_message_text(text, chat_id=self.message.chat.id, message_id=self.message.message_id),
            "progress message %s in %s",
            self.message.message_id,
            chat_id,
        )
        if edited is None:  # deleted meanwhile: the work goes on, a new message may follow later
            self.message, self.started, self.shown = None, now, None
            return
        self.shown = text
        self.edits += 1
