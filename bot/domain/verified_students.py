"""The port through which the funds ledger asks the verification campaigns whom they verified.

The campaign domain implements it; the ledger depends on this protocol only, so neither domain
imports the other."""

from __future__ import annotations

from typing import Protocol

from bot.model.verification import VerifiedStudent


class VerifiedStudents(Protocol):
    async def verified(self, household_id: int) -> VerifiedStudent | None:
        """The household's student if a campaign approved the visit, else None."""
        ...

    async def all_verified(self, *, campaign_id: int | None = None) -> list[VerifiedStudent]:
        """Every approved household's student, of one campaign or of all."""
        ...
