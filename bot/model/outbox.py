"""The outbox's types: a message the bot means to send, and how its sending ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

# What a notice's params may hold: JSON scalars (ids, flags, short words), so a row stays small
# and holds no rendered text; the sender renders it when it goes out.
ParamValue = str | int | bool | None


class Priority(IntEnum):
    """Which waiting message goes first (lower first, then oldest first)."""

    NOTICE = 0  # someone waits for it: a winner's details, a promotion, a handover request
    NORMAL = 1  # a group's summary, an answer to someone's action
    BACKGROUND = 2  # nobody is looking yet: broadcasts (reminders)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # Telegram accepted it
    SKIPPED = "skipped"  # rendered to nothing when due (e.g. a digest with nothing for that chat)
    GIVEN_UP = "given_up"  # a permanent error (blocked, chat not found, bad request)


@dataclass(frozen=True)
class Notice:
    """A message to queue, in the transaction of the state change that calls for it.

    `key` names the one intended message (e.g. "reminder:<occurrence>:<chat>"): queuing the same
    key again changes nothing. `kind` says how the sender renders it (a registered renderer)."""

    kind: str
    chat_id: int
    key: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True)
class OutboxMessage:
    """A queued message as stored."""

    id: int
    key: str
    kind: str
    chat_id: int
    params: Mapping[str, ParamValue]
    priority: Priority
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    message_id: int | None
    detail: str | None

    def param(self, name: str) -> int:
        """An integer parameter (an id) the notice was queued with."""
        value = self.params.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"outbox message {self.id} ({self.kind}): {name} is not an id: {value!r}")
        return value
