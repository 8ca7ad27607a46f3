"""The verified-students port before the campaign service exists on this branch."""

from __future__ import annotations

from bot.model.verification import VerifiedStudent


class NoCampaignsYet:
    """Reads no campaign: every student is unverified (grants to students then need a county
    admin's override). Wired to the campaign service at merge."""

    async def verified(self, household_id: int) -> VerifiedStudent | None:
        return None

    async def all_verified(self, *, campaign_id: int | None = None) -> list[VerifiedStudent]:
        return []
