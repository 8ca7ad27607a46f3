"""Reminders as the scheduler keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReminderRecord:
    id: int
    subject_key: str | None
    target_kind: str
    target_id: int | None
    text: str
    content_kind: str
    schedule: dict[str, object]  # the JSON form of a Schedule (bot.domain.schedule_grammar)
    urgent: bool
    state: str
    next_due_at: datetime | None
    created_by: int | None

    @property
    def due_at(self) -> datetime:
        """The occurrence due next, of a reminder that has one (every reminder the scheduler delivers does)."""
        if self.next_due_at is None:
            raise ValueError(f"reminder {self.id} ({self.state}) has no next occurrence")
        return self.next_due_at
