"""What every section of the configuration's checks shares: the error they raise, the hint for
making a secret, and the test that a time is a recurring one in the reminder grammar."""

from __future__ import annotations

from zoneinfo import ZoneInfo

GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class ConfigError(Exception):
    """A configuration problem, in one line naming the key and the fix."""


def is_recurring(when: str, timezone: str) -> bool:
    from datetime import UTC, datetime

    from bot.domain.errors import DomainError
    from bot.domain.schedule_grammar import parse_schedule

    try:
        schedule = parse_schedule(when, now=datetime.now(UTC), zone=ZoneInfo(timezone))
    except DomainError:
        return False
    return schedule.recurring
