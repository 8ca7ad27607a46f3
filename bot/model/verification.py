"""A student a verification-visit campaign (走访核实) has verified: what the funds ledger pays
grants against. The campaign domain produces these; the funds domain only reads them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerifiedStudent:
    household_id: int
    campaign_id: int
    campaign_title: str
    # The public alias only (e.g. 小李 · 某大学): never a private detail.
    alias: str
    township_org_id: int
    # True once the campaign is closed; grants need a closed campaign (or an override).
    campaign_closed: bool
