"""Domain errors carry a message-catalog key and its parameters, never a sentence."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `key` names the catalog entry that explains why and what to do."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class PermissionDenied(DomainError):
    """The actor lacks the role the action needs."""
