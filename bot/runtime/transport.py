"""The bot's HTTP transport: PTB's ``HTTPXRequest`` with a connection pool that stays cheap.

httpcore 1.0's pool re-examines every connection twice per request, and in a way that grows
with the square of the connections: for each idle connection it counts all of them again, and
it asks every connection whether its socket expired (a ``poll()`` and a dictionary of socket
attributes built per call). Measured on the real process under an auction rush, that pool
bookkeeping was 46% of the event loop's time with ~40 connections open, more than parsing the
updates; the fix is known upstream (encode/httpcore#1035, pydantic/httpx2#974) but not released.

``LeanConnectionPool`` does the same job in one pass: closed connections are dropped, surplus
idle ones closed (counting only the idle ones), and a queued request gets an idle connection
that nothing else was given in this pass; only that connection's socket is checked for expiry.
It replaces the pool's one bookkeeping method and nothing else, so requests, streams, timeouts
and errors are httpcore's own. Where the pool is not the plain one this was written against
(a proxy, another httpcore), the stock pool is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from typing import Any

import httpcore
import httpx
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.runtime.updates import ReceivedQueue

log = logging.getLogger(__name__)

_POOL_STATE = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections")


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        connections = [connection for connection in self._connections if not connection.is_closed()]
        # Connections given to a request that has not started on them yet still look idle.
        promised = {id(r.connection) for r in self._requests if r.connection is not None}
        idle = [c for c in connections if c.is_idle() and id(c) not in promised]
        surplus = len(idle) - self._max_keepalive_connections
        if surplus > 0:  # the oldest idle connections go
            for connection in idle[:surplus]:
                connections.remove(connection)
                closing.append(connection)
            idle = idle[surplus:]
        self._connections = connections
        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            connection = self._reusable(idle, origin, closing)
            if connection is None:
                if len(self._connections) >= self._max_connections:
                    if not idle:
                        break  # every connection is busy: the rest wait for one to come back
                    stale = idle.pop(0)  # an idle connection to another origin makes room
                    self._connections.remove(stale)
                    closing.append(stale)
                connection = self.create_connection(origin)
                self._connections.append(connection)
            pool_request.assign_to_connection(connection)
        return closing

    def _reusable(self, idle: list[Any], origin: httpcore.Origin, closing: list[Any]) -> Any:
        """The most recently used idle connection to `origin` that is still good, taken out of
        `idle`; expired ones found on the way are closed."""
        for index in range(len(idle) - 1, -1, -1):
            connection = idle[index]
            if not connection.can_handle_request(origin):
                continue
            del idle[index]
            if connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None


def _lean(pool: object) -> bool:
    """Swap in the lean bookkeeping where the pool is the one it was written for."""
    if type(pool) is not httpcore.AsyncConnectionPool or not all(hasattr(pool, name) for name in _POOL_STATE):
        return False
    pool.__class__ = LeanConnectionPool
    return True


class LeanHTTPXRequest(HTTPXRequest):
    """PTB's HTTPX request with ``LeanConnectionPool`` (see the module docstring)."""

    __slots__ = ()

    def _build_client(self) -> httpx.AsyncClient:
        client = super()._build_client()
        transport = getattr(client, "_transport", None)
        if not _lean(getattr(transport, "_pool", None)):
            log.info("HTTP transport: httpcore's own connection pool kept (not the plain pool this was made for)")
        return client


class ThreadedPollRequest(BaseRequest):
    """The long poll's HTTP calls, each made whole in a thread of its own (httpx's blocking
    client), so that fetching does not queue behind the handlers on the event loop.

    A request through the event loop takes a dozen or so turns of the loop (connect, write, each
    read); in a rush every turn runs the ready steps of dozens of handlers, so a poll took a few
    hundred milliseconds more than its round trip. Updates were fetched slower than they came,
    waited at Telegram, and were too old once fetched. Here the loop is met once, when the answer
    is back; the thread waits on the socket without holding the interpreter. A thread per call
    (a few a second), and a daemon: a long poll still waiting when the bot stops neither holds
    back the Updater's last confirming call nor the process's exit (its answer is never read)."""

    __slots__ = ("_client", "_timeouts")

    def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 5.0) -> None:
        self._timeouts = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=5.0, pool=1.0)
        self._client: httpx.Client | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts.read

    async def initialize(self) -> None:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeouts, limits=httpx.Limits(max_connections=4))

    async def shutdown(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()  # a long poll still waiting ends with an error nobody reads

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        client = self._client
        if client is None:
            raise RuntimeError("ThreadedPollRequest is not initialized")
        defaults = self._timeouts
        timeout = httpx.Timeout(
            connect=defaults.connect if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            read=defaults.read if isinstance(read_timeout, DefaultValue) else read_timeout,
            write=defaults.write if isinstance(write_timeout, DefaultValue) else write_timeout,
            pool=defaults.pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        data = request_data.json_parameters if request_data is not None else None
        files = request_data.multipart_data if request_data is not None else None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[int, bytes]] = loop.create_future()

        def settle(outcome: tuple[int, bytes] | BaseException) -> None:
            if answer.done():  # the caller was cancelled meanwhile
                return
            if isinstance(outcome, BaseException):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)

        def call() -> None:
            outcome: tuple[int, bytes] | BaseException
            try:
                response = client.request(
                    method, url, headers={"User-Agent": self.USER_AGENT}, timeout=timeout, data=data, files=files
                )
                outcome = (response.status_code, response.content)
            except httpx.TimeoutException as error:  # as PTB's HTTPXRequest words them
                outcome = TimedOut()
                outcome.__cause__ = error
            except httpx.HTTPError as error:
                outcome = NetworkError(f"httpx.{error.__class__.__name__}: {error}")
                outcome.__cause__ = error
            except Exception as error:  # e.g. the client closed under it: the caller sees it
                outcome = error
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(settle, outcome)

        threading.Thread(target=call, name="long-poll", daemon=True).start()
        return await answer


# Telegram's most updates per getUpdates call, and PTB's Updater asks for that many.
POLL_LIMIT = 100


# While polls come back full, Telegram is asked this often how many updates wait (each answer
# is also a sample of how far the update numbering had gone: bot/runtime/arrivals.py).
BACKLOG_CHECK_SECONDS = 0.5


class PollWatchRequest(BaseRequest):
    """The long poll's request, showing each poll's answer to `queue.screen_poll` before PTB
    parses it (bot/runtime/updates.py: a full poll means updates may wait at Telegram), and
    while polls come back full, asking Telegram (getWebhookInfo, once a second) how many wait."""

    __slots__ = ("_checked", "_checking", "_inner", "_offset", "_queue")

    def __init__(self, inner: BaseRequest, queue: ReceivedQueue) -> None:
        self._inner = inner
        self._queue = queue
        self._checked = 0.0
        self._checking: asyncio.Task[None] | None = None
        self._offset: int | None = None  # the last getUpdates' offset: Telegram's first pending id

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        polling = url.rstrip("/").endswith("/getUpdates")
        if polling and request_data is not None:
            offset = request_data.parameters.get("offset")
            if isinstance(offset, int) and offset > 0:
                self._offset = offset
        status, payload = await self._inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and polling:
            limit = request_data.parameters.get("limit") if request_data is not None else None
            limit = limit if isinstance(limit, int) and limit > 0 else POLL_LIMIT
            payload = self._queue.screen_poll(payload, limit)
            now = time.monotonic()
            if self._queue.behind and now - self._checked >= BACKLOG_CHECK_SECONDS and self._checking is None:
                self._checked = now
                self._checking = asyncio.get_running_loop().create_task(
                    self._check_backlog(url.rstrip("/").rsplit("/", 1)[0] + "/getWebhookInfo", limit)
                )
        return status, payload

    async def _check_backlog(self, url: str, limit: int) -> None:
        asked_at, offset = time.monotonic(), self._offset
        try:
            status, payload = await self._inner.do_request(url, "POST")
            if status == 200:
                pending = json.loads(payload).get("result", {}).get("pending_update_count")
                if isinstance(pending, int):
                    # Telegram counted after the ask; dating the count at the ask makes the updates
                    # look older, never younger (a busy loop may read the answer late).
                    self._queue.note_backlog(pending, asked_at, limit, first_pending=offset)
        except TelegramError as error:  # the next full poll asks again
            log.info("backlog check failed: %s", error)
        finally:
            self._checking = None
