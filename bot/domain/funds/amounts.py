"""Amounts as cadres write them (`1.5万`, `18万元`, `¥2,000`, `500元`, `3000.50`), read into
integer fen, and fen shown back as yuan. Anything that could be read two ways is refused with an
example rather than guessed: a comma that is not a thousands separator, three decimals without
万 (European thousands?), a number with 万 in the middle (`1万5`), two numbers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.domain.errors import DomainError

FEN_PER_YUAN = 100
FEN_PER_WAN = 10_000 * FEN_PER_YUAN
# A hundred million yuan: far above any county fund; a larger number is a typing slip.
MAX_FEN = 100_000_000 * FEN_PER_YUAN
MAX_INPUT = 40

_SHAPE = re.compile(
    r"(?P<sign>[-−－负])?\s*(?:人民币|RMB|CNY)?\s*[¥￥]?\s*(?P<sign2>[-−－])?\s*"
    r"(?P<number>[0-9][0-9,，]*(?:\.[0-9]+)?)\s*"
    r"(?P<unit>万元|万|元|块钱|块|yuan)?",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def parse_amount(text: str) -> int:
    """The amount in fen; DomainError `funds.amount_*` (each with an example) when it cannot be
    read one way only, is negative, zero or absurdly large."""
    raw = " ".join(str(text).split())
    if not raw:
        raise DomainError("funds.amount_empty")
    if len(raw) > MAX_INPUT:
        raise DomainError("funds.amount_unclear", text=raw[:MAX_INPUT] + "…")
    match = _SHAPE.fullmatch(raw)
    if match is None:
        if re.search(r"[-−－负]\s*[¥￥]?\s*[0-9]", raw):
            raise DomainError("funds.amount_negative", text=raw)
        raise DomainError("funds.amount_unclear", text=raw)
    if match["sign"] or match["sign2"]:
        raise DomainError("funds.amount_negative", text=raw)
    number = match["number"].replace("，", ",")
    whole, _, decimals = number.partition(".")
    if "," in whole and not _GROUPED.fullmatch(whole):
        raise DomainError("funds.amount_unclear", text=raw)
    unit = (match["unit"] or "").lower()
    per = FEN_PER_WAN if unit.startswith("万") else FEN_PER_YUAN
    if per == FEN_PER_YUAN and len(decimals) > 2:
        raise DomainError("funds.amount_unclear", text=raw)
    try:
        value = Decimal(whole.replace(",", "") + ("." + decimals if decimals else "")) * per
    except InvalidOperation:
        raise DomainError("funds.amount_unclear", text=raw) from None
    if value != value.to_integral_value():  # less than a fen
        raise DomainError("funds.amount_unclear", text=raw)
    fen = int(value)
    if fen == 0:
        raise DomainError("funds.amount_zero", text=raw)
    if fen > MAX_FEN:
        raise DomainError("funds.amount_too_large", text=raw)
    return fen


def yuan_text(fen: int) -> str:
    """`1,500,000.00`-style yuan (two decimals; a minus sign for a negative sum)."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{part:02d}"


def wan_text(fen: int) -> str:
    """Yuan in 万 as a work summary writes them: `18`, `54.8`, `0.35` (at most two decimals, no
    trailing zeros)."""
    value = (Decimal(fen) / FEN_PER_WAN).quantize(Decimal("0.01"))
    text = f"{value:f}".rstrip("0").rstrip(".")
    return text or "0"
