"""A small reverse proxy for drills and benches: several `league-bot run --webhook` behind one port.

Telegram (here the emulator) calls one webhook address; a province runs two or more bot
processes behind it. This proxy listens on one port and forwards each request to one of its
backends, round robin, over kept-alive connections, and returns the backend's answer:

- a backend whose connection is refused (stopped, or killed with SIGKILL) is skipped and the
  request goes to the next one, so the survivors take everything at once;
- a request on a kept-alive connection that ends with no answer (closed by the backend while
  idle, or the backend killed) is tried once more on a fresh connection, so on the next backend
  if this one is gone: the dead one may have stored it already, and the bot's inbox ignores the
  repeat;
- a request whose fresh connection fails after it was sent is answered 502 and not sent
  elsewhere: Telegram delivers it again later anyway. With every backend refused, 502 too.

HTTP/1.1 with a Content-Length body (what Telegram sends); answers with a Content-Length or
chunked body. No TLS: in production the proxy in front (nginx, Caddy) ends TLS; this one only
stands in for it on 127.0.0.1.

Standalone: ``python -m bot.practice.proxy --port 8443 --backend 127.0.0.1:9001 --backend
127.0.0.1:9002`` prints the address it listens on and runs until stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import threading
from collections import Counter
from dataclasses import dataclass

__all__ = ["Backend", "Proxy", "ProxyThread", "main"]

CONNECT_TIMEOUT_SECONDS = 5.0
ANSWER_TIMEOUT_SECONDS = 60.0
MAX_HEAD_BYTES = 64 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business on each side.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)


@dataclass(frozen=True)
class Backend:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Backend:
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a backend is HOST:PORT, for example 127.0.0.1:9001 (got {text!r})")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class _Message:
    head: str  # the request line or the status line
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def wants_close(self) -> bool:
        old = self.head.endswith("HTTP/1.0") or self.head.startswith("HTTP/1.0 ")  # closes by default
        return (self.header("Connection") or "").lower() == "close" or old


class _BackendGone(Exception):
    """The backend failed after the request was sent: its fate there is unknown."""


class Proxy:
    """The proxy on an asyncio loop: `await start()`, then `port`; `await close()` ends it."""

    def __init__(self, backends: list[Backend], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not backends:
            raise ValueError("the proxy needs at least one backend")
        self.backends = list(backends)
        self.host = host
        self.port = port
        self.forwarded: Counter[Backend] = Counter()  # answers relayed, per backend
        self.refused: Counter[Backend] = Counter()  # connections refused, per backend
        self.failed = 0  # requests answered 502
        self._next = 0
        self._idle: dict[Backend, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {
            backend: [] for backend in self.backends
        }
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_client, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        # Closing a client's connection ends its task (its read fails), without cancelling it.
        for writer in list(self._clients.values()):
            writer.close()
        await asyncio.gather(*self._clients, return_exceptions=True)
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
            idle.clear()
        if self._server is not None:
            await self._server.wait_closed()

    # ---------------------------------------------------------------- the client's side

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a stream server's callback runs as a task
        self._clients[task] = writer
        try:
            while True:
                request = await _read_message(reader, request=True)
                if request is None:
                    return
                answer = await self._forward(request)
                writer.write(_encode(answer, close=request.wants_close()))
                await writer.drain()
                if request.wants_close():
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return  # the client went away or spoke no HTTP: nothing to answer
        finally:
            self._clients.pop(task, None)
            writer.close()

    async def _forward(self, request: _Message) -> _Message:
        count = len(self.backends)
        start, self._next = self._next, (self._next + 1) % count
        for step in range(count):
            backend = self.backends[(start + step) % count]
            try:
                answer = await self._exchange(backend, request)
            except ConnectionRefusedError:
                self.refused[backend] += 1
                continue
            except (_BackendGone, OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                break
            self.forwarded[backend] += 1
            return answer
        self.failed += 1
        return _Message("HTTP/1.1 502 Bad Gateway", [("Content-Type", "text/plain")], b"no backend answered\n")

    # ---------------------------------------------------------------- the backend's side

    async def _exchange(self, backend: Backend, request: _Message) -> _Message:
        idle = self._idle[backend]
        while idle:
            reader, writer = idle.pop()
            if writer.is_closing() or reader.at_eof():
                writer.close()
                continue
            try:
                return await self._send(backend, reader, writer, request)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError, _NothingBack):
                writer.close()  # closed by the backend while idle: a fresh connection below
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(backend.host, backend.port), CONNECT_TIMEOUT_SECONDS
        )
        try:
            return await self._send(backend, reader, writer, request)
        except (ConnectionError, asyncio.IncompleteReadError, _NothingBack) as error:
            writer.close()
            raise _BackendGone(str(error)) from error

    async def _send(
        self, backend: Backend, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: _Message
    ) -> _Message:
        writer.write(_encode(request, close=False, forwarded_for=True))
        await writer.drain()
        answer = await asyncio.wait_for(_read_message(reader, request=False), ANSWER_TIMEOUT_SECONDS)
        if answer is None:
            raise _NothingBack
        if answer.wants_close():
            writer.close()
        else:
            self._idle[backend].append((reader, writer))
        return answer


class _NothingBack(Exception):
    """The connection closed before any answer came."""


async def _read_message(reader: asyncio.StreamReader, *, request: bool) -> _Message | None:
    """One HTTP/1.1 message; None when the connection closed cleanly before it began."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise
    if len(raw) > MAX_HEAD_BYTES:
        raise ValueError("header too large")
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    message = _Message(lines[0], headers, b"")
    length = message.header("Content-Length")
    if length is not None:
        message.body = await reader.readexactly(int(length))
    elif (message.header("Transfer-Encoding") or "").lower() == "chunked":
        message.body = await _read_chunked(reader)
    elif not request and message.wants_close():
        message.body = await reader.read()
    return message


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers, not kept
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _encode(message: _Message, *, close: bool, forwarded_for: bool = False) -> bytes:
    lines = [message.head]
    lines += [f"{name}: {value}" for name, value in message.headers if name.lower() not in _HOP_BY_HOP]
    lines = [line for line in lines if not line.lower().startswith("content-length:")]
    lines.append(f"Content-Length: {len(message.body)}")
    if forwarded_for:
        lines.append("X-Forwarded-For: 127.0.0.1")
    lines.append("Connection: close" if close else "Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + message.body


class ProxyThread:
    """The proxy on its own event loop in a thread, for tests and benches driven from threads."""

    def __init__(self, backends: list[Backend], *, port: int = 0) -> None:
        self.proxy = Proxy(backends, port=port)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the proxy did not start")

    @property
    def url(self) -> str:
        return self.proxy.url

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.proxy.start())
        self._started.set()
        self._loop.run_forever()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.practice.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free one)")
    parser.add_argument("--backend", action="append", required=True, type=Backend.parse, metavar="HOST:PORT")
    args = parser.parse_args(argv)

    async def serve() -> None:
        proxy = Proxy(args.backend, host=args.host, port=args.port)
        await proxy.start()
        print(proxy.url, flush=True)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        await stopped.wait()
        await proxy.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
