"""The sandbox's web page and its small JSON API, on 127.0.0.1 only.

Pages::

    GET  /                      the chat-client page (bot/practice/sandbox/static/index.html)
    GET  /static/<name>         its script and style sheet

API (JSON in, JSON out; `user_id` is the persona acting; errors are {"ok": false, "error": code})::

    GET  /api/state                         personas, chats, bot, clock, upcoming events, the groups'
                                            bot messages in the last 60 s (limit 20), crowds,
                                            activities with a check-in location
    GET  /api/messages?chat_id=N            the chat as the client shows it (newest 200 messages)
    POST /api/persona   {user_id}           the persona joins the two groups (so they can post there)
    POST /api/send      {user_id, chat_id, text, reply_to?}
    POST /api/tap       {user_id, chat_id, message_id, data}  -> {answer: {text, alert} | null}
    POST /api/open_url  {user_id, url}      a t.me/<bot>?start=X button: /start X in the private chat
    POST /api/document  {user_id, chat_id, file_name, mime_type, content_base64, caption?}
    POST /api/location  {user_id, chat_id, latitude, longitude}
    GET  /api/file?chat_id=N&message_id=M   a document or photo the chat shows (download)
    POST /api/clock/jump {at?}              to the next event (or the listed one at `at`); the bot acts
    POST /api/crowd     {kind: auction|checkin, size, per_minute}
    POST /api/crowd/stop {id}

The page server only acts on the emulator's world (as a Telegram client would) and reads it;
the bot gets every action by long polling. Work that needs the bot's loop (the clock, events,
crowds) is handed to it with `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qsl, quote, urlsplit

from bot.practice.sandbox.crowd import CrowdError

MESSAGES_SHOWN = 200
TAP_ANSWER_WAIT = 5.0
MAX_BODY = 25 * 1024 * 1024
_STATIC = re.compile(r"^[a-z0-9_-]+\.(html|js|css|svg)$")
_CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
}
_DEEP_LINK = re.compile(r"^https://t\.me/(?P<bot>[A-Za-z0-9_]+)\?start=(?P<payload>[A-Za-z0-9_-]{1,64})$")


class ApiError(Exception):
    def __init__(self, code: str, status: int = 400, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail


class PageServer:
    """Bound (the port is ours) from the start; answering once `start()` is called."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        self._thread: threading.Thread | None = None
        self.host, self.port = httpd.server_address[:2]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-page", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()


def bind_page(sandbox, host: str, port: int) -> PageServer:  # noqa: ANN001 - runtime.Sandbox
    """Take the page's port (OSError if it is taken; port 0: any free one), answering nothing yet:
    the sandbox binds first, so a taken port stops it before the bot has started anything."""
    if host != "127.0.0.1":
        raise ValueError("the sandbox page only binds to 127.0.0.1")
    handler = type("SandboxPageHandler", (_Handler,), {"sandbox": sandbox, "api": _Api(sandbox)})
    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    return PageServer(httpd)


def serve_page(sandbox, host: str, port: int) -> PageServer:  # noqa: ANN001 - runtime.Sandbox
    page = bind_page(sandbox, host, port)
    page.start()
    return page


class _Api:
    """The API's actions; each returns a JSON-able dict or raises ApiError."""

    def __init__(self, sandbox) -> None:  # noqa: ANN001
        self.sandbox = sandbox

    @property
    def fake(self):  # noqa: ANN202
        return self.sandbox.fake

    def _on_loop(self, coroutine, timeout: float = 30.0):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coroutine, self.sandbox.loop).result(timeout)

    # ---- reading ---------------------------------------------------------------------------
    def state(self) -> dict:
        sandbox, world = self.sandbox, self.sandbox.world
        events, locations = self._on_loop(self._events_and_locations())
        return {
            "ok": True,
            "bot": {"username": self.fake.bot_username, "name": self.fake.bot_first_name},
            "personas": {
                "admin": world.admin.as_json(),
                "volunteer": world.volunteer.as_json(),
                "cadres": [p.as_json() for p in world.cadre_personas()],
            },
            "chats": {
                "hub": {"id": world.hub_chat_id, "title": _title(self.fake, world.hub_chat_id)},
                "org": {"id": world.org_chat_id, "title": _title(self.fake, world.org_chat_id)},
            },
            "clock": {"now": sandbox.local_now(), "offset_seconds": round(sandbox.clock.offset.total_seconds())},
            "events": events,
            "rate": {
                "limit": 20,
                "hub": self.fake.sends_in_last(world.hub_chat_id, 60.0),
                "org": self.fake.sends_in_last(world.org_chat_id, 60.0),
            },
            "crowds": sandbox.crowds.views(),
            "locations": locations,
        }

    async def _events_and_locations(self) -> tuple[list[dict], list[dict]]:
        services = self.sandbox.services
        events = await self.sandbox.upcoming_events()
        locations = [
            {"code": a.code, "title": a.title, "latitude": a.place.latitude, "longitude": a.place.longitude}
            for a in await services.activities.repo.upcoming(services.clock.now())
            if a.place.latitude is not None
        ]
        return events, locations

    def messages(self, query: dict) -> dict:
        chat_id = _int(query, "chat_id")
        names = self.sandbox.world.names()
        zone = self.sandbox.services.config.zone
        shown = [m for m in self.fake.messages(chat_id) if m.kind != "service"][-MESSAGES_SHOWN:]
        by_id = {m.message_id: m for m in shown}
        return {
            "ok": True,
            "chat_id": chat_id,
            "pinned": _pinned_id(self.fake, chat_id),
            "messages": [_message_view(m, names, by_id, zone, self.fake) for m in shown],
        }

    def file(self, query: dict) -> tuple[bytes, str, str]:
        chat_id, message_id = _int(query, "chat_id"), _int(query, "message_id")
        for message in self.fake.messages(chat_id):
            if message.message_id == message_id and message.file_id:
                content = self.fake.file_bytes(message.file_id)
                if message.kind == "photo":
                    return content, _image_type(content), f"photo-{message_id}"
                document = message.document or {}
                return (
                    content,
                    document.get("mime_type") or "application/octet-stream",
                    document.get("file_name") or f"file-{message_id}",
                )
        raise ApiError("no_such_file", 404)

    # ---- acting ------------------------------------------------------------------------------
    def persona(self, body: dict) -> dict:
        user_id = _int(body, "user_id")
        if self.sandbox.world.persona(user_id) is None:
            raise ApiError("unknown_persona")
        for chat_id in (self.sandbox.world.hub_chat_id, self.sandbox.world.org_chat_id):
            self.fake.add_member(chat_id, user_id)
        return {"ok": True}

    def send(self, body: dict) -> dict:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError("empty_text")
        reply_to = body.get("reply_to")
        update = self._world(
            self.fake.user_sends,
            _int(body, "user_id"),
            _int(body, "chat_id"),
            text,
            reply_to_message_id=int(reply_to) if reply_to else None,
        )
        return {"ok": True, "message_id": update["message"]["message_id"]}

    def tap(self, body: dict) -> dict:
        data = body.get("data")
        if not isinstance(data, str):
            raise ApiError("no_data")
        update = self._world(
            self.fake.user_taps, _int(body, "user_id"), _int(body, "chat_id"), _int(body, "message_id"), data
        )
        query_id = update["callback_query"]["id"]
        deadline = time.monotonic() + TAP_ANSWER_WAIT
        while time.monotonic() < deadline:
            for answer in reversed(self.fake.callback_answers):
                if answer["callback_query_id"] == query_id:
                    return {"ok": True, "answer": {"text": answer["text"], "alert": answer["show_alert"]}}
            time.sleep(0.03)
        return {"ok": True, "answer": None}

    def open_url(self, body: dict) -> dict:
        url = body.get("url")
        match = _DEEP_LINK.match(url) if isinstance(url, str) else None
        if match is None or match["bot"].lower() != self.fake.bot_username.lower():
            return {"ok": True, "opened": False}
        user_id = _int(body, "user_id")
        self._world(self.fake.user_sends, user_id, user_id, f"/start {match['payload']}")
        return {"ok": True, "opened": True, "chat_id": user_id}

    def document(self, body: dict) -> dict:
        name = body.get("file_name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError("no_file_name")
        try:
            content = base64.b64decode(body.get("content_base64") or "", validate=True)
        except ValueError:
            raise ApiError("bad_file") from None
        if not content:
            raise ApiError("empty_file")
        caption = body.get("caption") or None
        update = self._world(
            self.fake.user_sends,
            _int(body, "user_id"),
            _int(body, "chat_id"),
            caption,
            document={
                "file_name": name[:200],
                "content": content,
                "mime_type": body.get("mime_type") or "application/octet-stream",
            },
        )
        return {"ok": True, "message_id": update["message"]["message_id"]}

    def location(self, body: dict) -> dict:
        try:
            latitude, longitude = float(body["latitude"]), float(body["longitude"])
        except (KeyError, TypeError, ValueError):
            raise ApiError("bad_location") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ApiError("bad_location")
        update = self._world(
            self.fake.user_sends, _int(body, "user_id"), _int(body, "chat_id"), location=(latitude, longitude)
        )
        return {"ok": True, "message_id": update["message"]["message_id"]}

    def jump(self, body: dict) -> dict:
        at = body.get("at")
        result = self._on_loop(self.sandbox.jump(at if isinstance(at, str) else None))
        return {"ok": True, **result, "now": self.sandbox.local_now()}

    def crowd(self, body: dict) -> dict:
        try:
            crowd = self._on_loop(
                self.sandbox.crowds.start(str(body.get("kind")), _int(body, "size"), _int(body, "per_minute"))
            )
        except CrowdError as error:
            raise ApiError(error.code) from None
        return {"ok": True, "crowd": self.sandbox.crowds.view(crowd)}

    def crowd_stop(self, body: dict) -> dict:
        return {"ok": True, "stopped": self._on_loop(self.sandbox.crowds.stop(_int(body, "id")))}

    @staticmethod
    def _world(action, *args, **kwargs):  # noqa: ANN001, ANN202
        """An emulator action; its refusals (not a member, no such button) become API errors."""
        try:
            return action(*args, **kwargs)
        except AssertionError as error:
            raise ApiError("refused", 400, str(error)[:300]) from None


_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
_GET = {"/api/state": "state", "/api/messages": "messages"}
_POST = {
    "/api/persona": "persona",
    "/api/send": "send",
    "/api/tap": "tap",
    "/api/open_url": "open_url",
    "/api/document": "document",
    "/api/location": "location",
    "/api/clock/jump": "jump",
    "/api/crowd": "crowd",
    "/api/crowd/stop": "crowd_stop",
}


class _Handler(BaseHTTPRequestHandler):
    sandbox = None
    api: _Api
    protocol_version = "HTTP/1.1"
    server_version = "LeagueBotSandbox/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # the page polls every second; its requests are not worth a log line

    def _foreign(self) -> bool:
        """A request another web site made the browser send (DNS rebinding, or a cross-site form
        POST): refused. The page's own requests name this host and post JSON, which another
        site's script cannot do without a CORS preflight this server never grants."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in _LOCAL_HOSTS:
            self._json(403, {"ok": False, "error": "foreign_host"})
            return True
        if self.command == "POST" and not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._json(415, {"ok": False, "error": "json_only"})
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802
        if self._foreign():
            return
        split = urlsplit(self.path)
        path, query = split.path, dict(parse_qsl(split.query))
        if path in ("/", "/index.html"):
            self._static("index.html")
        elif path.startswith("/static/"):
            self._static(path[len("/static/") :])
        elif path == "/api/file":
            self._guarded(lambda: self._file(query))
        elif path in _GET:
            self._guarded(
                lambda: self._json(200, getattr(self.api, _GET[path])(*([query] if path != "/api/state" else [])))
            )
        else:
            self._json(404, {"ok": False, "error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        if self._foreign():
            return
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(413, {"ok": False, "error": "too_large"})
            return
        raw = self.rfile.read(length) if length else b""
        if path not in _POST:
            self._json(404, {"ok": False, "error": "not_found"})
            return

        def act() -> None:
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                raise ApiError("bad_json") from None
            if not isinstance(body, dict):
                raise ApiError("bad_json")
            self._json(200, getattr(self.api, _POST[path])(body))

        self._guarded(act)

    def _guarded(self, work) -> None:  # noqa: ANN001
        try:
            work()
        except ApiError as error:
            self._json(error.status, {"ok": False, "error": error.code, "detail": error.detail})

    def _file(self, query: dict) -> None:
        content, content_type, name = self.api.file(query)
        self._send(200, content, content_type, {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    def _static(self, name: str) -> None:
        match = _STATIC.match(name)
        if match is None:
            self._json(404, {"ok": False, "error": "not_found"})
            return
        try:
            content = (resources.files("bot.practice.sandbox") / "static" / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            self._json(404, {"ok": False, "error": "not_found"})
            return
        self._send(200, content, _CONTENT_TYPES[match.group(1)], {"Cache-Control": "no-cache"})

    def _json(self, status: int, payload: dict) -> None:
        self._send(
            status,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            "application/json; charset=utf-8",
            {"Cache-Control": "no-store"},
        )

    def _send(self, status: int, content: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


# ---- views -----------------------------------------------------------------------------------------
def _int(source: dict, name: str) -> int:
    try:
        return int(source[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(f"bad_{name}") from None


def _title(fake, chat_id: int) -> str:  # noqa: ANN001
    return fake.chat_title(chat_id) or ""


def _pinned_id(fake, chat_id: int) -> int | None:  # noqa: ANN001
    pinned = fake.pinned_message(chat_id)
    return pinned.message_id if pinned is not None else None


def _image_type(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if content.startswith(b"GIF8"):
        return "image/gif"
    return "application/octet-stream"


def _message_view(message, names: dict, by_id: dict, zone, fake) -> dict:  # noqa: ANN001
    """One message for the page: text with its entities (the page renders them as DOM nodes,
    never as HTML), buttons, reactions, media links, the reply it answers."""
    sender = fake.bot_first_name if message.from_bot else names.get(message.from_user_id, str(message.from_user_id))
    if message.sender_chat_id is not None:
        sender = _title(fake, message.sender_chat_id)
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    view = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "from_id": message.from_user_id,
        "from": sender,
        "kind": message.kind,
        "text": message.text,
        "entities": [e for e in message.entities if isinstance(e, dict)],
        "buttons": [
            [{"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")} for b in row]
            for row in rows
        ],
        "reactions": list(message.reactions),
        "pinned": message.pinned,
        "edited": message.edited,
        "time": _local_time(message.date, zone),
        "version": f"{message.edited}:{len(message.reactions)}:{int(message.pinned)}",
    }
    if message.reply_to_message_id is not None:
        target = by_id.get(message.reply_to_message_id)
        view["reply_to"] = {"id": message.reply_to_message_id, "text": ((target.text or "") if target else "")[:80]}
    if message.kind == "document" and message.document:
        view["file"] = {
            "name": message.document.get("file_name"),
            "size": len(message.document.get("content") or b""),
            "url": f"/api/file?chat_id={message.chat_id}&message_id={message.message_id}",
        }
    elif message.kind == "photo":
        view["photo_url"] = f"/api/file?chat_id={message.chat_id}&message_id={message.message_id}"
    elif message.kind == "location" and message.location:
        view["location"] = {"latitude": message.location[0], "longitude": message.location[1]}
    return view


def _local_time(stamp: int, zone) -> str:  # noqa: ANN001
    from datetime import datetime

    return datetime.fromtimestamp(stamp, zone).strftime("%m-%d %H:%M") if stamp else ""
