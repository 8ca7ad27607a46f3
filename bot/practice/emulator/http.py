"""Serve a ``FakeTelegram`` over real HTTP on 127.0.0.1.

The bot is then configured with ``base_url=server.base_url`` and
``base_file_url=server.base_file_url`` and talks to the fake through PTB's default
``HTTPXRequest``, i.e. through the same multipart/form encoding production uses.

Routes::

    GET|POST /bot<token>/<method>        Bot API (JSON, form-urlencoded or multipart body)
    GET      /file/bot<token>/<file_path> file download
    POST     /_fake/<action>             test control (JSON kwargs), for the offline sandbox
    POST     /_fake/batch                several control actions in one request: a JSON list of
                                         {"action": ..., "kwargs": {...}}; answers the list of results
    GET      /_fake/messages?chat_id=N   transcript of a chat as JSON

So that a run through it looks like Telegram from the bot's side, the server answers with
Nagle's algorithm off (``TCP_NODELAY``: otherwise every response waits ~40 ms for the client's
delayed ACK), keeps a listen backlog of ``LISTEN_BACKLOG`` connections (a burst of new
connections is queued, not reset), and can add a round trip (``round_trip`` seconds: half
before the call reaches the fake, half before the answer leaves) to every Bot API call, and to
every update pushed to a webhook on this machine (bot/practice/emulator/webhook.py).

Standalone: ``python -m bot.emulator.http --port 8081`` prints the base URL.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import email.parser
import email.policy
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .core import FakeMessage, FakeTelegram

__all__ = ["FakeServer", "Observer", "serve"]

LISTEN_BACKLOG = 1024

# Called after each Bot API call or control action with (what, params, status, response):
# `what` is the Bot API method, or "_fake/<action>" for a control action. It runs in the
# server's request thread, after the fake has answered, before the response leaves.
Observer = Callable[[str, dict, int, dict], None]

_BOT_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")

# World-building calls the control endpoint may make; everything else stays private.
_CONTROL_ACTIONS = frozenset(
    {
        "add_user",
        "add_group",
        "add_member",
        "set_admin",
        "block_bot",
        "user_sends",
        "user_taps",
        "bot_added_to_group",
        "bot_removed_from_group",
        "migrate_to_supergroup",
    }
)


class FakeServer:
    """A running HTTP front end for a ``FakeTelegram``; ``close()`` stops it."""

    def __init__(self, fake: FakeTelegram, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self.fake = fake
        self._httpd = httpd
        self._thread = thread
        host, port = httpd.server_address[:2]
        self.host = host if isinstance(host, str) else host.decode()
        self.port = port
        self.root_url = f"http://{self.host}:{port}"
        self.base_url = f"{self.root_url}/bot"
        self.base_file_url = f"{self.root_url}/file/bot"

    def close(self) -> None:
        self.fake.interrupt_long_polls()
        self.fake.close()  # no more pushes to a webhook
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG  # socketserver's default of 5 resets connections in a burst

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        # A client that goes away mid-request (a bot process stopped) is no error of the fake.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def serve(
    fake: FakeTelegram,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    round_trip: float = 0.0,
    observer: Observer | None = None,
) -> FakeServer:
    """Serve `fake` on the loopback interface; `round_trip` seconds are added to every Bot API
    call (e.g. 0.05 for a bot near Telegram's servers), `observer` sees every call (benchmarks)."""
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("the fake Telegram server only binds to the loopback interface")
    if round_trip < 0:
        raise ValueError(f"round_trip must not be negative, got {round_trip}")
    handler = type(
        "BoundFakeTelegramHandler",
        (_Handler,),
        {"fake": fake, "half_trip": round_trip / 2, "observer": staticmethod(observer) if observer else None},
    )
    # Pushes to a webhook (bot/practice/emulator/webhook.py) cross the same network, and the calls
    # a webhook's answer makes are watched like the others.
    fake.webhook_round_trip = round_trip
    fake.webhook_observer = observer
    httpd = _Server(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    # A short poll interval keeps close() (which waits for the serve loop) snappy.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram-http", daemon=True
    )
    thread.start()
    return FakeServer(fake, httpd, thread)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTelegram
    half_trip: float = 0.0
    observer: Observer | None = None
    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegram/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        body = self._read_body()
        try:
            if match := _FILE_PATH.match(path):
                content = self.fake.file_bytes_by_path(match["path"])
                if content is None or not _TOKEN.match(match["token"]):
                    self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                else:
                    self._send(200, content, "application/octet-stream")
                return
            if match := _BOT_PATH.match(path):
                if not _TOKEN.match(match["token"]):
                    self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                params, files = self._parse_params(split.query, body)
                if self.half_trip:
                    time.sleep(self.half_trip)  # the request on its way to Telegram
                status, response = self.fake.handle(match["method"], params, files)
                if self.observer is not None:
                    self.observer(match["method"], params, status, response)
                if self.half_trip:
                    time.sleep(self.half_trip)  # the answer on its way back
                self._send_json(status, response)
                return
            if path.startswith("/_fake/"):
                self._control(path[len("/_fake/") :], split.query, body)
                return
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        except Exception as exc:  # a fake bug must not hang the client
            self._send_json(500, {"ok": False, "error_code": 500, "description": f"Internal fake error: {exc!r}"})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _parse_params(self, query: str, body: bytes) -> tuple[dict, dict]:
        params: dict = dict(parse_qsl(query, keep_blank_values=True))
        files: dict = {}
        content_type = self.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if not body:
            return params, files
        if media_type == "application/json":
            params.update(json.loads(body.decode("utf-8")))
        elif media_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif media_type == "multipart/form-data":
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                assert isinstance(payload, bytes)  # decode=True on a leaf part
                if filename is not None:
                    files[name] = (filename, payload, part.get_content_type())
                else:
                    charset = part.get_content_charset() or "utf-8"
                    params[name] = payload.decode(charset)
        return params, files

    def _control(self, action: str, query: str, body: bytes) -> None:
        if action == "messages":
            chat_id = int(dict(parse_qsl(query))["chat_id"])
            messages = [_message_view(m) for m in self.fake.messages(chat_id)]
            self._send_json(200, {"ok": True, "result": messages})
            return
        payload = json.loads(body.decode("utf-8")) if body else {}
        if action == "batch":
            if not isinstance(payload, list):
                self._send_json(400, {"ok": False, "description": "batch: a JSON list of {action, kwargs}"})
                return
            results = [self._run_control(item.get("action", ""), item.get("kwargs") or {})[1] for item in payload]
            self._send_json(200, {"ok": True, "result": results})
            return
        status, response = self._run_control(action, payload)
        self._send_json(status, response)

    def _run_control(self, action: str, kwargs: dict) -> tuple[int, dict]:
        if action not in _CONTROL_ACTIONS:
            return 404, {"ok": False, "description": f"unknown action {action}"}
        document = kwargs.get("document")
        if isinstance(document, dict) and "content_base64" in document:
            document["content"] = base64.b64decode(document.pop("content_base64"))
        if isinstance(kwargs.get("location"), list):
            kwargs["location"] = tuple(kwargs["location"])
        try:
            status, response = 200, {"ok": True, "result": getattr(self.fake, action)(**kwargs)}
        except (AssertionError, TypeError) as exc:
            status, response = 400, {"ok": False, "description": str(exc)}
        if self.observer is not None:
            self.observer(f"_fake/{action}", kwargs, status, response)
        return status, response

    def _send_json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send(self, status: int, content: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a long poll cancelled at shutdown): nobody to answer.
            self.close_connection = True


def _message_view(message: FakeMessage) -> dict:
    view = dataclasses.asdict(message)
    if view.get("photo") is not None:
        view["photo"] = base64.b64encode(view["photo"]).decode()
    if view.get("document"):
        view["document"] = {**view["document"], "content": base64.b64encode(view["document"]["content"]).decode()}
    return view


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Telegram Bot API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-flood-limits", action="store_true")
    parser.add_argument("--round-trip-ms", type=float, default=0.0, help="added to every Bot API call")
    args = parser.parse_args(argv)
    fake = FakeTelegram(flood_limits=not args.no_flood_limits)
    server = serve(fake, port=args.port, round_trip=args.round_trip_ms / 1000)
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
