"""A one-off moment typed in a conversation (`12-05 14:00`, `明天 14:00`), in the county's zone."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import DomainError
from bot.domain.schedule_grammar import parse_schedule
from handlers.context import Ui


def parse_start(ui: Ui, text: str, feature: str) -> datetime:
    """A future one-off start time, at the latest on bounds.MAX_DATE (the grammar checks); refusals use
    `<feature>.start_in_past`, `.start_unrecognised` and `.start_recurring`, so each feature
    words them for its own conversation (and `bounds.bad_date` beyond the range)."""
    services = ui.services
    zone, now = services.config.zone, services.clock.now()
    try:
        schedule = parse_schedule(text, now=now, zone=zone)
    except DomainError as error:
        if error.key.startswith("bounds."):
            raise  # a date outside the bot's range: that message names the range
        if error.key == "schedule.in_past":
            raise DomainError(f"{feature}.start_in_past", when=error.params.get("when", "")) from None
        raise DomainError(f"{feature}.start_unrecognised", text=text[:40]) from None
    at = schedule.at
    if at is None:  # only a one-off ("once") schedule has a moment
        raise DomainError(f"{feature}.start_recurring", text=text[:40])
    if at <= now:
        when = at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        raise DomainError(f"{feature}.start_in_past", when=when)
    return at
