"""Webhook delivery for the fake Telegram: each update POSTed to the bot, as Telegram does it.

Once ``setWebhook`` has a URL the emulator can reach (``http://`` or ``https://`` to
127.0.0.1, localhost or ::1: a real reverse proxy terminates TLS, and the emulator never
leaves the machine), ``WebhookPusher`` takes the pending updates over from the getUpdates
queue and delivers them:

- each update is one ``POST`` of its JSON, with ``X-Telegram-Bot-Api-Secret-Token`` when a
  secret was set, over at most ``max_connections`` connections at once (kept alive);
- **at least once**: a 2xx answer delivers it; any other status, a connection refused or
  reset, or no answer within ``DELIVERY_TIMEOUT_SECONDS`` keeps it pending, and it is tried
  again after ``retry[0]`` seconds, then twice as long each time up to ``retry[1]`` (a 429's
  ``Retry-After`` wins). ``getWebhookInfo`` shows the count still pending and the last error;
- **order**: as Telegram's own Bot API server (telegram-bot-api's WebhookActor) does it, the
  updates are split into queues, each with at most one update in flight, and a queue's next
  update waits until the one before is delivered (through any retries): a chat's messages
  (and its member changes) form one queue, a person's button taps another. So one chat's
  updates arrive in order, while different chats and different people's taps run side by
  side; nothing is ordered across queues (two people's taps in one group may arrive in either
  order, as with Telegram);
- a 2xx answer whose JSON body names a ``method`` (the Bot API's "answer in the webhook
  response") is executed as a call of that method once the update is delivered; its result
  goes nowhere, as with Telegram (which also ignores ``get…`` methods and the webhook's own);
- ``round_trip`` seconds are spent on the way (half before the request leaves, half after the
  answer came), holding the connection, as the network would.

Not modelled: Telegram's 24-hour expiry of undelivered updates and its limit on how fast new
connections are opened.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DELIVERY_TIMEOUT_SECONDS", "WebhookPusher", "WebhookSettings", "queue_key", "reachable"]

DELIVERY_TIMEOUT_SECONDS = 60.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Methods Telegram does not run when a webhook's answer names them.
_NOT_RUN_FROM_REPLY = frozenset({"setwebhook", "deletewebhook", "close", "logout"})

# Runs a Bot API call (method, params) -> (status, response): the fake's `handle`.
Call = Callable[[str, dict], tuple[int, dict]]
# Sees each call made from a webhook's answer, as the HTTP server's observer sees the others.
Observer = Callable[[str, dict, int, dict], None]


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret_token: str = ""
    max_connections: int = 40
    round_trip: float = 0.0
    retry: tuple[float, float] = (1.0, 60.0)


def reachable(url: str) -> bool:
    """Whether the emulator delivers to `url`: only to this machine's loopback interface."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def queue_key(update: dict) -> tuple[str, int]:
    """The delivery queue an update belongs to: a person's taps, a chat's messages, or its own."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        return ("user", int(query["from"]["id"]))
    for kind, body in update.items():
        if kind != "update_id" and isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return ("chat", int(body["chat"]["id"]))
    return ("update", int(update["update_id"]))


@dataclass
class _Pending:
    update: dict
    key: tuple[str, int]
    failures: int = 0
    delay: float = 0.0


class WebhookPusher:
    """Delivers updates to one webhook from worker threads (one per connection); every field
    is guarded by `lock`, the fake's own lock, which the workers never hold on the network."""

    def __init__(
        self,
        lock: threading.RLock,
        settings: WebhookSettings,
        call: Call,
        *,
        allowed: Callable[[dict], bool] = lambda update: True,
        observer: Observer | None = None,
    ) -> None:
        self._changed = threading.Condition(lock)
        self._settings = settings
        self._call = call
        self._allowed = allowed
        self.observer = observer
        self._pending: dict[int, _Pending] = {}  # update id -> update, not yet delivered
        self._queues: dict[tuple[str, int], deque[int]] = {}  # key -> its update ids, in order
        # (when, tie, key, generation): the head of key's queue may go then, unless scheduled again
        self._ready: list[tuple[float, int, tuple[str, int], int]] = []
        self._generation: dict[tuple[str, int], int] = {}
        self._sending: set[tuple[str, int]] = set()  # queues with an update in flight
        self._tie = itertools.count()
        self._in_flight = 0
        self._workers: list[threading.Thread] = []
        self._stopped = False
        self.delivered = 0
        self.attempts = 0
        self.in_flight_max = 0
        # Seconds from a push's request to its answer, network included (the newest 100,000).
        self.answer_seconds: deque[float] = deque(maxlen=100_000)
        self.last_error_message = ""
        self.last_error_date = 0
        self._ensure_workers()

    # ------------------------------------------------------------------ the fake's side

    @property
    def settings(self) -> WebhookSettings:
        return self._settings

    def configure(self, settings: WebhookSettings) -> None:
        """A new setWebhook call: the next deliveries use its URL, secret and connection count."""
        with self._changed:
            self._settings = settings
            self._ensure_workers()
            self._changed.notify_all()

    def add(self, update: dict) -> None:
        with self._changed:
            update_id = int(update["update_id"])
            key = queue_key(update)
            self._pending[update_id] = _Pending(update, key)
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = deque([update_id])
                self._schedule(key, 0.0)
            else:
                queue.append(update_id)

    def pending(self) -> list[dict]:
        """The updates not delivered yet (in flight included), oldest first."""
        with self._changed:
            return [self._pending[update_id].update for update_id in sorted(self._pending)]

    @property
    def pending_count(self) -> int:
        with self._changed:
            return len(self._pending)

    def forget(self, update_id: int) -> None:
        """Leave an update undelivered (a test delivered it itself, or the bot dropped pending
        updates). One in flight is still delivered: Telegram could not take it back either."""
        with self._changed:
            entry = self._pending.pop(update_id, None)
            if entry is None:
                return
            queue = self._queues[entry.key]
            was_head = queue[0] == update_id
            queue.remove(update_id)
            if not queue:
                del self._queues[entry.key]
            elif was_head and entry.key not in self._sending:
                self._schedule(entry.key, 0.0)

    def stop(self) -> list[dict]:
        """Stop delivering; returns what was not delivered (for getUpdates), oldest first. A
        delivery in flight is finished by its worker, and may so come twice (at least once)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
            left = [self._pending[update_id].update for update_id in sorted(self._pending)]
            self._pending.clear()
            self._queues.clear()
            self._ready.clear()
        return left

    def join(self, timeout: float = 5.0) -> None:
        """Wait up to `timeout` seconds in all for the workers (one may be waiting for a hung bot)."""
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.join(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------ the workers

    def _ensure_workers(self) -> None:
        alive = [worker for worker in self._workers if worker.is_alive()]
        for index in range(len(alive), self._settings.max_connections):
            worker = threading.Thread(
                target=self._work, args=(index,), name=f"fake-telegram-webhook-{index}", daemon=True
            )
            alive.append(worker)
            worker.start()
        self._workers = alive

    def _schedule(self, key: tuple[str, int], delay: float) -> None:
        """The head of `key`'s queue may go in `delay` seconds; an earlier schedule is void."""
        generation = self._generation.get(key, 0) + 1
        self._generation[key] = generation
        heapq.heappush(self._ready, (time.monotonic() + delay, next(self._tie), key, generation))
        self._changed.notify()

    def _take(self) -> tuple[_Pending | None, float | None]:
        """The next update to send (its queue is then busy), or how long until one may go."""
        while self._ready:
            when, _, key, generation = self._ready[0]
            queue = self._queues.get(key)
            if queue is None or generation != self._generation.get(key) or key in self._sending:
                heapq.heappop(self._ready)  # forgotten, or scheduled again since
                continue
            wait = when - time.monotonic()
            if wait > 0:
                return None, wait
            heapq.heappop(self._ready)
            entry = self._pending[queue[0]]
            if not self._allowed(entry.update):  # Telegram never sends what the bot did not ask for
                self._settle(entry, delivered=True)
                continue
            self._sending.add(key)
            return entry, None
        return None, None

    def _settle(self, entry: _Pending, *, delivered: bool, error: str = "", retry_after: float | None = None) -> None:
        """An attempt ended: the update leaves its queue (delivered) or waits its back-off."""
        key = entry.key
        self._sending.discard(key)
        if not delivered:
            self.last_error_message = error
            self.last_error_date = int(time.time())
        still_pending = self._pending.get(int(entry.update["update_id"])) is entry
        if still_pending and not delivered:
            first, longest = self._settings.retry
            entry.failures += 1
            entry.delay = first if entry.failures == 1 else min(longest, entry.delay * 2)
            self._schedule(key, retry_after if retry_after is not None else entry.delay)
            return
        if still_pending:
            del self._pending[int(entry.update["update_id"])]
            self._queues[key].popleft()
        queue = self._queues.get(key)
        if queue:
            self._schedule(key, 0.0)
        elif queue is not None:
            del self._queues[key]

    def _work(self, index: int) -> None:
        connection: _Connection | None = None
        while True:
            with self._changed:
                entry, settings = None, self._settings
                while entry is None:
                    settings = self._settings
                    if self._stopped or index >= settings.max_connections:
                        if connection is not None:
                            connection.close()
                        return
                    entry, wait = self._take()
                    if entry is None:
                        self._changed.wait(wait)
                self._in_flight += 1
                self.attempts += 1
                self.in_flight_max = max(self.in_flight_max, self._in_flight)
            if connection is None or not connection.serves(settings.url):
                if connection is not None:
                    connection.close()
                connection = _Connection(settings.url)
            sent_at = time.monotonic()
            try:
                outcome = connection.post(entry.update, settings)
                answered_in = time.monotonic() - sent_at
                if outcome.ok and outcome.method is not None:
                    self._run_reply(outcome.method, outcome.params or {})
            except Exception as error:  # a fake's own bug: the update stays pending, the error shows
                outcome, answered_in = _Outcome(False, f"emulator error: {error!r}"), 0.0
            with self._changed:
                self._in_flight -= 1
                if outcome.ok:
                    self.delivered += 1
                    self.answer_seconds.append(answered_in)
                self._settle(entry, delivered=outcome.ok, error=outcome.error, retry_after=outcome.retry_after)

    def _run_reply(self, method: str, params: dict) -> None:
        status, response = self._call(method, params)
        if self.observer is not None:
            self.observer(method, params, status, response)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str = ""
    retry_after: float | None = None
    method: str | None = None
    params: dict | None = None


class _Connection:
    """One kept-alive connection to the webhook's host (what one of Telegram's connections is)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._http: http.client.HTTPConnection | None = None

    def serves(self, url: str) -> bool:
        return url == self.url

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def post(self, update: dict, settings: WebhookSettings) -> _Outcome:
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if settings.secret_token:
            headers[SECRET_HEADER] = settings.secret_token
        if settings.round_trip:
            time.sleep(settings.round_trip / 2)  # the update on its way to the bot
        try:
            status, reason, answer, retry_after = self._exchange(body, headers)
        except TimeoutError:
            self.close()
            return _Outcome(False, "Read timeout expired")
        except ConnectionRefusedError:
            self.close()
            return _Outcome(False, "Connection refused")
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return _Outcome(False, f"Webhook connection closed: {type(error).__name__}")
        if settings.round_trip:
            time.sleep(settings.round_trip / 2)  # the answer on its way back
        if not 200 <= status <= 299:
            return _Outcome(False, f"Wrong response from the webhook: {status} {reason}", retry_after)
        method, params = _reply_call(answer)
        return _Outcome(True, method=method, params=params)

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes, float | None]:
        # A kept-alive connection the other side closed while idle fails at once, before anything
        # was sent: tried once more on a fresh one (what any HTTP client does).
        for attempt in (1, 2):
            fresh = self._http is None
            if self._http is None:
                self._http = http.client.HTTPConnection(self.host, self.port, timeout=DELIVERY_TIMEOUT_SECONDS)
                self._http.connect()
                self._http.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._http.request("POST", self.path, body=body, headers=headers)
                response = self._http.getresponse()
                answer = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if fresh or attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            retry_after = response.getheader("Retry-After")
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            return response.status, response.reason, answer, wait
        raise AssertionError("unreachable: the second attempt returns or raises")


def _reply_call(answer: bytes) -> tuple[str | None, dict | None]:
    """The method a webhook's answer asks Telegram to run, if any, and its parameters."""
    if not answer.strip():
        return None, None
    try:
        payload = json.loads(answer)
    except (UnicodeDecodeError, ValueError):
        return None, None  # an answer that is no JSON is just an acknowledgement
    if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
        return None, None
    method = payload["method"]
    name = method.lower()
    if name in _NOT_RUN_FROM_REPLY or name.startswith("get"):
        return None, None
    return method, {key: value for key, value in payload.items() if key != "method"}
