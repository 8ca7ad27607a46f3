"""A strict in-memory fake of the Telegram Bot API for driving the real PTB Application.

* ``FakeTelegram`` - the world (users, groups, messages, files, updates) and the API.
* ``FakeRequest`` - plug it into ``telegram.Bot``/``ApplicationBuilder`` as the request.
* ``serve`` - the same fake over HTTP on 127.0.0.1 (``base_url``/``base_file_url``); a webhook set
  to 127.0.0.1 gets the updates pushed, as from Telegram (``webhook``).
* ``UserClient`` - user-story helpers: ``send``, ``tap``, ``last_reply``, ``transcript``.
"""

from typing import Any

from .client import Chat, UserClient
from .core import ApiError, FakeMessage, FakeTelegram
from .request import FakeRequest

__all__ = [
    "ApiError",
    "Chat",
    "FakeMessage",
    "FakeRequest",
    "FakeServer",
    "FakeTelegram",
    "UserClient",
    "serve",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m bot.emulator.http` does not find its own module
    # already imported by the package (runpy warns about that).
    if name in ("serve", "FakeServer"):
        from . import http

        return getattr(http, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
