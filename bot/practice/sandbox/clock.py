"""The sandbox's controllable clock: system time plus an offset that only ever grows.

`SandboxClock` is the bot's clock (bot/domain/clock.py protocol) and the emulator's wall clock, so
message dates, the board's minutes left and every domain rule see the same "now". Jumping to
the next scheduled event moves the offset forward.

PTB's job queue (APScheduler) runs on the real clock; the bot only ever hands it delays
measured on its own clock (handlers/scheduling.py), so it needs no change.
"""

from __future__ import annotations

import datetime as dtm
import threading
import time
from zoneinfo import ZoneInfo

# The sandbox's working day, local time: started outside it, the sandbox clock begins at the
# next MORNING, so the demo's events (the first activity 20 minutes after the start, 3 hours
# long) land in office hours, not at 01:59.
DAY_STARTS = dtm.time(8, 0)
DAY_ENDS = dtm.time(17, 0)
MORNING = dtm.time(9, 0)


def daytime(moment: dtm.datetime, zone: ZoneInfo) -> dtm.datetime:
    """`moment` itself within the working day; else 09:00 local of the same day (before 08:00)
    or of the next day (from 17:00); in UTC."""
    local = moment.astimezone(zone)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return moment.astimezone(dtm.UTC)
    day = local.date() if local.time() < DAY_STARTS else local.date() + dtm.timedelta(days=1)
    return dtm.datetime.combine(day, MORNING, zone).astimezone(dtm.UTC)


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
