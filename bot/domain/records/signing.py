"""The key that signs certificate serials and QR codes, and the signatures themselves (HMAC-SHA256).

The key comes from the environment (LEAGUE_BOT_RECORDS_SECRET) or the config ([records] secret);
with neither, one is generated once and kept in the database, so serials stay verifiable across
restarts. A signature is a few characters of the HMAC (digits in a serial, which people type; base32
in a QR code): without the key neither can be made up, and a mistyped one fails the check
before the database is asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from bot.domain.clock import Clock
from storage.records import RecordRepository

_SECRET_NAME = "records"


class Signer:
    def __init__(self, repo: RecordRepository, configured: str, clock: Clock) -> None:
        self.repo = repo
        self.configured = configured
        self.clock = clock
        self._key: bytes | None = None

    async def key(self) -> bytes:
        if self._key is None:
            secret = self.configured or await self.repo.secret(
                _SECRET_NAME, secrets.token_urlsafe(32), self.clock.now()
            )
            self._key = secret.encode()
        return self._key

    @staticmethod
    def tag(key: bytes, text: str, length: int) -> str:
        """`length` base32 characters (A-Z, 2-7) of HMAC-SHA256(key, text)."""
        digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode()[:length]

    @staticmethod
    def digits(key: bytes, text: str, length: int) -> str:
        """`length` decimal digits of HMAC-SHA256(key, text): for what people type (a serial)."""
        digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
        return str(int.from_bytes(digest[:8], "big") % 10**length).zfill(length)

    @staticmethod
    def same(expected: str, given: str) -> bool:
        return hmac.compare_digest(expected, given)
