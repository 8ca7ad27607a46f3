"""The sandbox's controllable clock: system time plus an offset that only ever grows.

`SandboxClock` is the bot's clock (bot/clock.py protocol) and the emulator's wall clock, so
message dates, the board's minutes left and every domain rule see the same "now". Jumping to
the next scheduled event moves the offset forward.

PTB's job queue (APScheduler) runs on the real clock. The bot hands it absolute moments read
from its own clock (the reminders' wake-up job), which would then fire `offset` too late;
`SandboxJobQueue` turns such moments back into real time. Relative intervals need nothing.
"""

from __future__ import annotations

import datetime as dtm
import threading

from telegram.ext import JobQueue


class SandboxClock:
    def __init__(self) -> None:
        self._offset = dtm.timedelta()
        self._lock = threading.Lock()

    def now(self) -> dtm.datetime:
        return dtm.datetime.now(dtm.UTC) + self.offset

    def timestamp(self) -> float:
        return self.now().timestamp()

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


class SandboxJobQueue(JobQueue):
    """A JobQueue whose absolute run times are sandbox times (see the module docstring)."""

    __slots__ = ("_clock",)

    def __init__(self, clock: SandboxClock) -> None:
        super().__init__()
        self._clock = clock

    def _parse_time_input(self, time, shift_day: bool = False):  # noqa: ANN001 - PTB's signature
        parsed = super()._parse_time_input(time, shift_day)
        if isinstance(time, dtm.datetime):
            return parsed - self._clock.offset
        return parsed


def use_sandbox_job_queue(application, clock: SandboxClock) -> None:  # noqa: ANN001
    """Swap the application's job queue for a `SandboxJobQueue`, before it is initialised.

    `build_application` has no job-queue parameter (production needs none), so the sandbox
    replaces the one the builder made; nothing has been scheduled on it yet at this point."""
    queue = SandboxJobQueue(clock)
    queue.set_application(application)
    application._job_queue = queue  # noqa: SLF001 - see the docstring
