"""``FakeRequest``: a PTB ``BaseRequest`` that answers from a ``FakeTelegram`` in-process.

Only the network is replaced: PTB still builds the request, and still parses the status
code and JSON body through ``BaseRequest._request_wrapper``, so its exception mapping
(BadRequest, Forbidden, RetryAfter, ChatMigrated, ...) is exercised exactly as in
production.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from .core import FakeTelegram

__all__ = ["FakeRequest"]

_NOT_FOUND = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()


class FakeRequest(BaseRequest):
    """Routes every Bot API call of a ``telegram.Bot`` to ``fake.handle``."""

    __slots__ = ("_fake", "_latency", "_read_timeout")

    def __init__(self, fake: FakeTelegram, *, latency: float = 0.0, read_timeout: float | None = 5.0) -> None:
        self._fake = fake
        self._latency = latency
        self._read_timeout = read_timeout

    @property
    def fake(self) -> FakeTelegram:
        return self._fake

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        # A getUpdates long-poll runs in a worker thread; release it so loop shutdown
        # does not wait for the poll timeout.
        self._fake.interrupt_long_polls()

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
        if self._latency > 0:
            await asyncio.sleep(self._latency)
        path = unquote(urlsplit(url).path)
        if "/file/bot" in path:
            file_path = path.split("/file/bot", 1)[1].partition("/")[2]
            content = self._fake.file_bytes_by_path(file_path)
            return (200, content) if content is not None else (404, _NOT_FOUND)

        api_method = path.rstrip("/").rsplit("/", 1)[-1]
        params, files = _unpack(request_data)
        if api_method.lower() == "getupdates" and params.get("timeout"):
            status, body = await asyncio.to_thread(self._fake.handle, api_method, params, files)
        else:
            status, body = self._fake.handle(api_method, params, files)
        return status, json.dumps(body).encode("utf-8")


def _unpack(request_data: RequestData | None) -> tuple[dict, dict]:
    if request_data is None:
        return {}, {}
    # Round-trip through JSON so the fake never aliases objects the bot still holds and
    # sees exactly the JSON types Telegram would.
    params = json.loads(json.dumps(request_data.parameters))
    files = {}
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        if hasattr(content, "read"):
            content = content.read()
        files[name] = (filename, bytes(content), mimetype)
    return params, files
