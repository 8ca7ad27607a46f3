"""Domain errors carry a message-catalog key and its parameters, never a sentence."""

from __future__ import annotations

# A transaction whose update another instance handled already (storage/db.py): its writes were
# rolled back and there is nothing to say; the error handler only logs it.
from storage.db import AlreadyDone as AlreadyDone


class DomainError(Exception):
    """A rule said no. `key` names the catalog entry that explains why and what to do."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class PermissionDenied(DomainError):
    """The actor lacks the role the action needs."""

    audited = False  # written to the audit log where it was raised (Permissions.refused)


def one_line(text: object, *, max_length: int, empty_key: str, too_long_key: str) -> str:
    """Typed text as one tidy line (runs of spaces as one), refused when empty or too long;
    the too-long message gets `length` and `max`."""
    line = " ".join(str(text).split())
    if not line:
        raise DomainError(empty_key)
    if len(line) > max_length:
        raise DomainError(too_long_key, length=len(line), max=max_length)
    return line
