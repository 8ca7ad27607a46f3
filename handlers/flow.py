"""Private-chat conversations, kept in the database so that a restart loses no step.

A `Flow` is a small state machine: its steps are methods named `text_<step>` (typed input),
`document_<step>` (a file), `photo_<step>` (a photo's file_id), `location_<step>` (a shared
location) and `choice_<step>` (a tapped button). Handlers find a flow by its class:
`flow_of(context, NewWishFlow).start(ui)`; its short `name` is what the database and the buttons
store. Buttons of a conversation
carry `cv:<flow>:<step>:<value>`; a tap is honoured only while the person is still at that very
step of that flow, so an old or forged button cannot skip a step. Bad input raises
`DomainError`: the person gets the message (what was wrong, what to send instead) and stays at
the same step.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.domain import bounds
from bot.domain.conversations import Expired
from bot.domain.errors import DomainError
from bot.model.organisation import Conversation
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationButton(CallbackData, prefix="cv"):
    flow: str
    step: str
    value: str


PAGE_SIZE = 8


class Flow(ABC):
    """Base class; subclasses set `name` (a short token) and define step methods."""

    name = ""

    def button(self, ui: Ui, step: str, value: object, label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=ConversationButton(flow=self.name, step=step, value=str(value)).pack()
        )

    def choice(self, ui: Ui, step: str, value: object, key: str, **params: object) -> InlineKeyboardButton:
        return self.button(ui, step, value, ui.t(key, **params))

    def cancel_row(self, ui: Ui) -> list[InlineKeyboardButton]:
        return [self.choice(ui, "any", "cancel", "common.button_cancel")]

    async def go(self, ui: Ui, step: str, data: dict) -> None:
        await ui.services.conversations.save(ui.user_id, self.name, step, data, ui.services.clock.now())

    async def finish(self, ui: Ui) -> None:
        await ui.services.conversations.clear(ui.user_id)

    @abstractmethod
    async def start(self, ui: Ui, *args: Any, **kwargs: Any) -> None:
        """Begin the conversation: save the first step and ask its question. Each flow takes its
        own parameters (an id, a search): `*args: Any, **kwargs: Any` is how mypy spells "any
        signature", so every subclass's own one is a valid override."""

    # ---- pickers ------------------------------------------------------------------------
    def paged(
        self,
        ui: Ui,
        step: str,
        items: Sequence[tuple[object, str]],
        page: int,
        extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
    ) -> InlineKeyboardMarkup:
        """One page of choices with ◀ ▶, plus extra rows and Cancel; values are `id`, pages `p<n>`."""
        pages = max(1, -(-len(items) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = [
            [self.button(ui, step, value, label)] for value, label in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        ]
        navigation = []
        if page > 0:
            navigation.append(self.button(ui, step, f"p{page - 1}", ui.t("common.button_previous")))
        if page < pages - 1:
            navigation.append(self.button(ui, step, f"p{page + 1}", ui.t("common.button_next")))
        if navigation:
            rows.append(navigation)
        rows.extend(list(row) for row in extra_rows)
        rows.append(self.cancel_row(ui))
        return InlineKeyboardMarkup(rows)


MAX_PAGE = 100_000  # far beyond any list; the pickers clamp to their last page anyway


def page_number(value: str) -> int | None:
    """`p3` → 3 for page buttons; None for any other value (a forged `p²` or `p99999…` too)."""
    if value.startswith("p") and bounds.ascii_digits(value[1:]) and len(value) <= len(str(MAX_PAGE)) + 1:
        return min(int(value[1:]), MAX_PAGE)
    return None


def choice_id(value: str) -> int:
    """A tapped id (or index), re-checked: a forged non-number or one of 2^53 and more is
    refused like an expired button."""
    number = bounds.natural_or_none(value)
    if number is None:
        raise DomainError("common.button_expired")
    return number


FLOWS = "flows"  # the registry's key in bot_data
F = TypeVar("F", bound=Flow)


def flow_of(context: BotContext, kind: type[F]) -> F:
    """The registered conversation of that class."""
    registry: FlowRegistry = context.application.bot_data[FLOWS]
    return registry.get(kind)


def registry_of(context: BotContext) -> FlowRegistry:
    registry: FlowRegistry = context.application.bot_data[FLOWS]
    return registry


def _input_of(message: Message) -> tuple[str, object]:
    """The kind of private input (the step method's prefix) and its payload."""
    if message.document is not None:
        return "document", message.document
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.location is not None:
        return "location", message.location
    if message.text is None:
        return "other", None
    return "text", message.text.strip()


class FlowRegistry:
    def __init__(self, flows: Sequence[Flow]) -> None:
        self.flows = {flow.name: flow for flow in flows}
        self.by_kind = {type(flow): flow for flow in flows}
        if len(self.flows) != len(flows):
            raise ValueError("two conversations share a name")

    def get(self, kind: type[F]) -> F:
        return cast(F, self.by_kind[kind])

    async def current(self, ui: Ui) -> tuple[Flow, str, dict[str, object]] | None:
        """The person's conversation, its step and its data; None when there is none."""
        return self._resolve(await ui.services.conversations.get(ui.user_id))

    def _resolve(self, state: Conversation | None) -> tuple[Flow, str, dict[str, object]] | None:
        if state is None or state.flow not in self.flows:
            return None
        return self.flows[state.flow], state.step, state.data

    async def on_message(self, ui: Ui, message: Message) -> bool:
        """Route private input to the person's conversation; False when there is none. Input
        to a conversation that expired is not taken as an answer: the person is told instead."""
        state = await ui.services.conversations.lookup(ui.user_id)
        if isinstance(state, Expired):
            await self._tell_expired(ui)
            return True
        current = self._resolve(state)
        if current is None:
            return False
        flow, step, data = current
        kind, payload = _input_of(message)
        handler = getattr(flow, f"{kind}_{step}", None)
        if handler is None:
            await ui.reply(_expected(flow, step))
            return True
        try:
            await handler(ui, data, payload)
        except DomainError as error:
            await ui.reply(error.key, **error.params)
        return True

    async def _tell_expired(self, ui: Ui) -> None:
        """Once: the conversation expired (its data is already deleted) and how to start again."""
        conversations = ui.services.conversations
        await conversations.acknowledge(ui.user_id)
        await ui.reply("hardening.conversation_expired", hours=conversations.expire_after_hours)

    async def on_button(self, ui: Ui, data: str) -> None:
        values = ConversationButton.unpack(data)
        found = await ui.services.conversations.lookup(ui.user_id)
        if isinstance(found, Expired):
            await ui.answer()
            await self._tell_expired(ui)
            return
        state = found
        flow_name, step, value = values.flow, values.step, values.value
        if step == "any" and value == "cancel" and state is not None and state.flow == flow_name:
            await ui.answer()
            await ui.services.conversations.clear(ui.user_id)
            await ui.edit("common.cancelled")
            return
        if state is None or state.flow != flow_name or state.step != step:
            await ui.answer("common.button_expired", alert=True)
            return
        handler = getattr(self.flows[flow_name], f"choice_{step}", None)
        if handler is None:
            await ui.answer("common.button_expired", alert=True)
            return
        await ui.answer()
        try:
            await handler(ui, state.data, value)
        except DomainError as error:
            await ui.reply(error.key, **error.params)


def _expected(flow: Flow, step: str) -> str:
    """What to tell someone who sent the wrong kind of input at this step."""
    for kind, key in (
        ("text", "common.expected_text"),
        ("document", "common.expected_file"),
        ("location", "common.expected_location"),
        ("photo", "common.expected_photo"),
    ):
        if hasattr(flow, f"{kind}_{step}"):
            return key
    return "common.expected_button"
