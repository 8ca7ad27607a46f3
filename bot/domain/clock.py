"""Where "now" comes from. Domain services take a clock, so tests can move time by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""

    def monotonic(self) -> float:
        """Seconds that only ever increase: for throttles and caches (a moved wall clock must not
        stretch or skip them). Tests move it together with `now`."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()
