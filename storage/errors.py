"""The storage layer's one error for a database that cannot be used as configured."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be used as configured (path, version, corruption)."""
