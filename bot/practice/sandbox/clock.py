"""The sandbox's controllable clock: system time plus an offset that only ever grows.

`SandboxClock` is the bot's clock (bot/clock.py protocol) and the emulator's wall clock, so
message dates, the board's minutes left and every domain rule see the same "now". Jumping to
the next scheduled event moves the offset forward.

PTB's job queue (APScheduler) runs on the real clock; the bot only ever hands it delays
measured on its own clock (handlers/scheduling.py), so it needs no change.
"""

from __future__ import annotations

import datetime as dtm
import threading
import time


class SandboxClock:
    def __init__(self) -> None:
        self._offset = dtm.timedelta()
        self._lock = threading.Lock()

    def now(self) -> dtm.datetime:
        return dtm.datetime.now(dtm.UTC) + self.offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        """Real monotonic time plus the jumps: a jump ends throttles as the real time would."""
        return time.monotonic() + self.offset.total_seconds()

    @property
    def offset(self) -> dtm.timedelta:
        with self._lock:
            return self._offset

    def jump_to(self, moment: dtm.datetime) -> dtm.timedelta:
        """Make `moment` the present (never backwards); returns how far the clock moved."""
        with self._lock:
            real = dtm.datetime.now(dtm.UTC)
            wanted = moment - real
            moved = max(dtm.timedelta(), wanted - self._offset)
            self._offset += moved
            return moved
