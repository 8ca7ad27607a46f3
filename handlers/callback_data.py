"""The one callback-data codec: typed payloads packed as `prefix:field:field`, at most 64 bytes.

A payload is a frozen dataclass that names its prefix::

    @dataclass(frozen=True)
    class Claim(CallbackData, prefix="ac"):
        session: int
        wish: int

    Claim(session=3, wish=12).pack()      # "ac:3:12"
    Claim.unpack("ac:3:12")               # Claim(session=3, wish=12)
    CallbackQueryHandler(claim_tapped, pattern=Claim.pattern())

A payload whose buttons are posted into groups says so (`class ClaimTap(CallbackData,
prefix="ac", in_groups=True)`); every other one is honoured only in the private chat, where its
buttons are sent (handlers/gate.py refuses it elsewhere, before any handler could edit a group's
message with private text).

Callback data comes back from the client and can be forged, so unpacking checks the prefix, the
field count and each field's type, and bounds every integer (|n| < 2^53, Telegram's own bound for
ids); handlers still re-check role and state on the server through the domain.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Self, get_type_hints

from bot.domain import bounds

MAX_BYTES = 64
SEPARATOR = ":"
MAX_INT = bounds.ID_LIMIT  # exclusive: Telegram's ids fit in 53 bits; a larger number is forged
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,11}")


class CallbackDataError(ValueError):
    """Data that does not fit or does not parse: never shown to users, logged as forged."""


class CallbackData:
    """Base of every button payload; see the module docstring."""

    prefix: ClassVar[str]
    in_groups: ClassVar[bool] = False
    _fields: ClassVar[tuple[tuple[str, type], ...] | None] = None

    def __init_subclass__(cls, prefix: str, *, in_groups: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"bad callback prefix {prefix!r}")
        cls.prefix = prefix
        cls.in_groups = in_groups
        cls._fields = None  # read on first use: the dataclass decorator runs after this hook

    @classmethod
    def fields(cls) -> tuple[tuple[str, type], ...]:
        if cls._fields is None:
            hints = get_type_hints(cls)
            found = tuple((field.name, hints[field.name]) for field in dataclasses.fields(cls))  # type: ignore[arg-type]
            for name, kind in found:
                if kind not in (int, str):
                    raise TypeError(f"{cls.__name__}.{name}: callback fields are int or str, not {kind}")
            cls._fields = found
        return cls._fields

    @classmethod
    def pattern(cls) -> str:
        """Anchored, for CallbackQueryHandler: 'jp' never matches 'jpx:…'."""
        return rf"^{re.escape(cls.prefix)}(:|$)"

    def pack(self) -> str:
        parts = [self.prefix]
        for name, kind in self.fields():
            value = getattr(self, name)
            if kind is int:
                if not isinstance(value, int) or isinstance(value, bool) or not bounds.within_id_range(value):
                    raise CallbackDataError(f"{self.prefix}.{name}: {value!r} is not a bounded integer")
                text = str(value)
            else:
                text = str(value)
                if not _TOKEN.fullmatch(text):
                    raise CallbackDataError(f"{self.prefix}.{name}: {text!r} is empty or not a token")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise CallbackDataError(f"{self.prefix}: {len(data.encode())} bytes > {MAX_BYTES}")
        return data

    @classmethod
    def unpack(cls, data: str | object | None) -> Self:
        if not isinstance(data, str) or not data or len(data.encode("utf-8")) > MAX_BYTES:
            raise CallbackDataError("missing or oversized callback data")
        prefix, *parts = data.split(SEPARATOR)
        fields = cls.fields()
        if prefix != cls.prefix or len(parts) != len(fields):
            raise CallbackDataError(f"{data!r} does not match {cls.prefix}")
        values: dict[str, object] = {}
        for (name, kind), text in zip(fields, parts, strict=True):
            if kind is int:
                number = bounds.signed_or_none(text)  # ASCII digits only, |n| < 2^53
                if number is None:
                    raise CallbackDataError(f"{cls.prefix}.{name}: {text!r} is not a bounded integer")
                values[name] = number
            else:
                if not _TOKEN.fullmatch(text):
                    raise CallbackDataError(f"{cls.prefix}.{name}: {text!r} is not a token")
                values[name] = text
        return cls(**values)


def payload_classes(package: str = "handlers") -> list[type[CallbackData]]:
    """Every payload class defined in that package (all the bot's once `handlers` is imported;
    classes a test defines for itself are not the bot's)."""
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        kind = pending.pop()
        if kind.__module__.startswith(package + "."):
            found.append(kind)
        pending.extend(kind.__subclasses__())
    return sorted(found, key=lambda kind: kind.prefix)
