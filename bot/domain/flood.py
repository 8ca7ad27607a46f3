"""Per-person flood control for commands, so that no one person can spend a group's sending
budget (Telegram allows a bot about 20 messages a minute in one group): 200 `/help` from one
member once held every reminder, check-in answer and board edit in that group back for ten
minutes.

Only commands are limited. Check-ins (`签到`, and `/checkin` `/checkout` for groups where the
bot cannot read plain messages), button taps (auction claims, conversation buttons) and what
someone types into a conversation are never held back: they are the work, and each has its own
rule (one check-in per person, one claim per tap).

- In a group: the same command from the same person is answered once per `repeat_seconds`
  (a repeat gets no answer: it already has one on screen), and one person's commands there are
  at most `group_burst` at once, then one per `group_refill_seconds`.
- In private: a person's commands are at most `private_burst` at once, then one per
  `private_refill_seconds`; the first one held back is told to slow down (once a minute).

The state is in memory: a restart forgets it, which at worst answers a few repeats again.
Times come from the injected clock's `monotonic()`, so tests move them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.domain.clock import Clock

UNLIMITED_COMMANDS = frozenset({"checkin", "checkout"})
_PRUNE_ABOVE = 10_000  # remembered keys before the stale ones are swept


class Verdict(Enum):
    ANSWER = "answer"
    IGNORE = "ignore"  # held back without a word
    SLOW_DOWN = "slow_down"  # held back; tell the person (private chats only, once a minute)


@dataclass(frozen=True)
class FloodRules:
    repeat_seconds: float = 60.0
    group_burst: int = 5
    group_refill_seconds: float = 12.0  # 5 a minute at most, whatever the commands
    private_burst: int = 10
    private_refill_seconds: float = 3.0  # 20 a minute after the first ten
    slow_down_notice_seconds: float = 60.0


@dataclass
class _Bucket:
    tokens: float
    at: float

    def take(self, now: float, burst: int, refill_seconds: float) -> bool:
        self.tokens = min(float(burst), self.tokens + (now - self.at) / refill_seconds)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class FloodControl:
    def __init__(self, clock: Clock, rules: FloodRules | None = None) -> None:
        self.clock = clock
        self.rules = rules or FloodRules()
        self._answered: dict[tuple[int, int, str], float] = {}  # (chat, person, command) → when
        self._buckets: dict[tuple[int, int], _Bucket] = {}  # (chat, person)
        self._told: dict[int, float] = {}  # person → when last told to slow down

    def command(self, *, chat_id: int, user_id: int, command: str, private: bool) -> Verdict:
        """What to do with a command `/command` (lower case, without the bot's name)."""
        if command in UNLIMITED_COMMANDS:
            return Verdict.ANSWER
        now = self.clock.monotonic()
        self._prune(now)
        if private:
            return self._private(now, user_id)
        return self._group(now, chat_id, user_id, command)

    def _group(self, now: float, chat_id: int, user_id: int, command: str) -> Verdict:
        rules = self.rules
        key = (chat_id, user_id, command)
        answered = self._answered.get(key)
        if answered is not None and now - answered < rules.repeat_seconds:
            return Verdict.IGNORE
        if not self._bucket(now, chat_id, user_id, rules.group_burst).take(
            now, rules.group_burst, rules.group_refill_seconds
        ):
            return Verdict.IGNORE
        self._answered[key] = now
        return Verdict.ANSWER

    def _private(self, now: float, user_id: int) -> Verdict:
        rules = self.rules
        if self._bucket(now, user_id, user_id, rules.private_burst).take(
            now, rules.private_burst, rules.private_refill_seconds
        ):
            return Verdict.ANSWER
        told = self._told.get(user_id)
        if told is not None and now - told < rules.slow_down_notice_seconds:
            return Verdict.IGNORE
        self._told[user_id] = now
        return Verdict.SLOW_DOWN

    def wait_seconds(self) -> int:
        """How long a person held back in private should wait for the next command."""
        return int(self.rules.private_refill_seconds + 0.999)

    def _bucket(self, now: float, chat_id: int, user_id: int, burst: int) -> _Bucket:
        bucket = self._buckets.get((chat_id, user_id))
        if bucket is None:
            bucket = self._buckets[(chat_id, user_id)] = _Bucket(float(burst), now)
        return bucket

    def _prune(self, now: float) -> None:
        """Forget what no longer limits anyone, once enough has piled up (a busy county's day)."""
        if len(self._answered) + len(self._buckets) + len(self._told) <= _PRUNE_ABOVE:
            return
        rules = self.rules
        full_after = max(
            rules.group_burst * rules.group_refill_seconds, rules.private_burst * rules.private_refill_seconds
        )
        self._answered = {key: at for key, at in self._answered.items() if now - at < rules.repeat_seconds}
        self._buckets = {key: bucket for key, bucket in self._buckets.items() if now - bucket.at < full_after}
        self._told = {key: at for key, at in self._told.items() if now - at < rules.slow_down_notice_seconds}
