"""The one callback-data codec: `prefix:field:field`, at most 64 bytes, checked both ways.

Callback data comes back from the client and can be forged, so unpacking checks the prefix,
the field count and each field's type; handlers still re-check role and state on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
SEPARATOR = ":"


class CallbackDataError(ValueError):
    """Data that does not fit or does not parse: never shown to users, logged as forged."""


@dataclass(frozen=True)
class CallbackSpec:
    prefix: str
    fields: tuple[tuple[str, type], ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,11}", self.prefix):
            raise ValueError(f"bad callback prefix {self.prefix!r}")

    @property
    def pattern(self) -> str:
        """Anchored, for CallbackQueryHandler: 'jp' never matches 'jpx:…'."""
        return rf"^{re.escape(self.prefix)}(:|$)"

    def pack(self, **values: object) -> str:
        if set(values) != {name for name, _ in self.fields}:
            raise CallbackDataError(f"{self.prefix}: fields {sorted(values)} != {[n for n, _ in self.fields]}")
        parts = [self.prefix]
        for name, kind in self.fields:
            text = str(values[name])
            if kind is int:
                int(text)  # refuses a non-integer early
            if SEPARATOR in text or not text:
                raise CallbackDataError(f"{self.prefix}.{name}: empty or contains '{SEPARATOR}'")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise CallbackDataError(f"{self.prefix}: {len(data.encode())} bytes > {MAX_BYTES}")
        return data

    def unpack(self, data: str | None) -> dict[str, object]:
        if not data or len(data.encode("utf-8")) > MAX_BYTES:
            raise CallbackDataError("missing or oversized callback data")
        prefix, *parts = data.split(SEPARATOR)
        if prefix != self.prefix or len(parts) != len(self.fields):
            raise CallbackDataError(f"{data!r} does not match {self.prefix}")
        values: dict[str, object] = {}
        for (name, kind), text in zip(self.fields, parts, strict=True):
            if kind is int:
                if not re.fullmatch(r"-?\d{1,19}", text):
                    raise CallbackDataError(f"{self.prefix}.{name}: {text!r} is not an integer")
                values[name] = int(text)
            else:
                if not re.fullmatch(r"[A-Za-z0-9_\-]{1,40}", text):
                    raise CallbackDataError(f"{self.prefix}.{name}: {text!r} is not a token")
                values[name] = text
        return values
