"""When an update reached Telegram, estimated from its id.

Telegram numbers updates one after another and never says when a tap was made. What the bot can
learn is how far the numbering had gone at a few moments:
- a long poll that comes back with room to spare: Telegram held nothing newer than its last
  update when it answered;
- getWebhookInfo while polls come back full: `pending_update_count` updates wait from the offset
  the last getUpdates confirmed, so the newest one then had id offset + pending - 1.
Between two such samples the updates are spread evenly in time (linear interpolation); beyond
the newest sample, at the recent arrival rate, never later than now. So while the bot is behind,
each fetched tap gets its own age instead of the age of the oldest one, and only the taps that
really waited too long are dropped (bot/runtime/updates.py).
"""

from __future__ import annotations

from bisect import bisect_left

# Samples older than this are forgotten (the two newest are always kept).
HORIZON_SECONDS = 120.0
# The arrival rate beyond the newest sample is taken over at least this long.
RATE_SPAN_SECONDS = 2.0


class Arrivals:
    """Samples (moment, newest update id at Telegram then), both never decreasing."""

    __slots__ = ("_ids", "_times")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._ids: list[int] = []

    def __len__(self) -> int:
        return len(self._times)

    def note(self, at: float, newest_id: int) -> None:
        """At `at`, the newest update Telegram held had id `newest_id`. A sample that contradicts
        a later one (an answer overtaken by another) is clamped, never reorders the list."""
        if self._times:
            at = max(at, self._times[-1])
            newest_id = max(newest_id, self._ids[-1])
            if newest_id == self._ids[-1] and len(self._ids) >= 2 and self._ids[-2] == newest_id:
                # Nothing arrived across three samples: the middle one says nothing new.
                self._times[-1] = at
                return
        self._times.append(at)
        self._ids.append(newest_id)
        cut = bisect_left(self._times, at - HORIZON_SECONDS)
        cut = min(cut, len(self._times) - 2)
        if cut > 0:
            del self._times[:cut], self._ids[:cut]

    def arrival(self, update_id: int, now: float) -> float | None:
        """When update `update_id` reached Telegram, at the latest `now`; None before any sample."""
        times, ids = self._times, self._ids
        if not times:
            return None
        index = bisect_left(ids, update_id)
        if index == 0:
            return min(times[0], now)  # numbered before the first sample: at least that old
        if index < len(ids):
            low_id, high_id = ids[index - 1], ids[index]
            low_t, high_t = times[index - 1], times[index]
            share = (update_id - low_id) / (high_id - low_id)  # high_id > low_id: bisect found it there
            return min(now, low_t + share * (high_t - low_t))
        last_t, last_id = times[-1], ids[-1]
        rate = self._rate()
        if rate <= 0.0:
            return min(now, last_t)
        return min(now, last_t + (update_id - last_id) / rate)

    def _rate(self) -> float:
        """Updates a second over the newest samples spanning at least RATE_SPAN_SECONDS."""
        times, ids = self._times, self._ids
        last_t = times[-1]
        first = len(times) - 2
        while first > 0 and last_t - times[first] < RATE_SPAN_SECONDS:
            first -= 1
        if first < 0 or last_t <= times[first]:
            return 0.0
        return (ids[-1] - ids[first]) / (last_t - times[first])
