"""`WishService`: the registry, the private details, claims and fulfilment, as one service."""

from __future__ import annotations

from bot.domain.wishes.claims import WishClaims
from bot.domain.wishes.fulfilment import WishFulfilment
from bot.domain.wishes.privacy import WishPrivacy
from bot.domain.wishes.registry import WishRegistry


class WishService(WishRegistry, WishPrivacy, WishClaims, WishFulfilment):
    """Each part is a `WishCore` (bot/domain/wishes/core.py): the same dependencies, lookups and
    rules about who may do what; this class only puts them together."""
