"""`bench rush --mode webhook`: the emulator pushes each tap to the bot, as Telegram does.

The way in, as a province would run it: the emulator (bot/practice/emulator/webhook.py, up to
`connections` pushes at once, each with the bench's round trip) → the reverse proxy
(bot/practice/proxy.py, its own process, standing in for nginx) → `league-bot run --webhook`
(PTB's web server; each update stored in the inbox before its 200). The bare application of the
baseline gets its taps the same way.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.practice.emulator import FakeTelegram

SECRET = "rush-bench-webhook-secret-" + "0123456789abcdef"
URL_PATH = "telegram"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Front:
    """The reverse proxy in its own process, in front of the bot's web server on `bot_port`."""

    def __init__(self, python: list[str], env: dict[str, str], log: Path) -> None:
        self.bot_port = free_port()
        self._log = open(log, "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [*python, "-m", "bot.practice.proxy", "--backend", f"127.0.0.1:{self.bot_port}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None  # stdout=PIPE
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError(f"bench rush: the proxy did not start (see {log})")

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/{URL_PATH}"

    def config_section(self, connections: int) -> str:
        """The bot's `[telegram.webhook]`: the proxy's address registered, the bot behind it."""
        return (
            "[telegram.webhook]\nenabled = true\n"
            f'listen = "127.0.0.1"\nport = {self.bot_port}\nurl = "{self.webhook_url}"\n'
            f'url_path = "{URL_PATH}"\nsecret_token = "{SECRET}"\nmax_connections = {connections}\n'
        )

    def close(self, stop: Callable[[subprocess.Popen], int] | None = None) -> None:
        if self.process.poll() is None:
            if stop is not None:
                stop(self.process)
            else:
                self.process.kill()
                self.process.wait()
        self._log.close()


def delivery_figures(fake: FakeTelegram) -> dict:
    """What the emulator's pushes came to (read before the server closes)."""
    pusher = fake.webhook_pusher
    if pusher is None:
        return {"delivered": 0, "attempts": 0, "in_flight_max": 0, "pending_at_end": 0, "last_error": ""}
    # How long the bot took to answer a push (its 200 comes once the update is stored), network
    # included: with at most `in_flight_max` pushes at once, that bounds how fast taps get in.
    answers = sorted(pusher.answer_seconds)
    return {
        "delivered": pusher.delivered,
        "attempts": pusher.attempts,
        "in_flight_max": pusher.in_flight_max,
        "pending_at_end": pusher.pending_count,
        "answer_ms": {
            "p50": round(answers[len(answers) // 2] * 1000) if answers else 0,
            "p99": round(answers[min(len(answers) - 1, int(len(answers) * 0.99))] * 1000) if answers else 0,
        },
        "last_error": pusher.last_error_message,
    }
