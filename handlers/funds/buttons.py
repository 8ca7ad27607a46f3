"""The ledger's buttons outside conversations."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.callback_data import CallbackData


@dataclass(frozen=True)
class FundDecision(CallbackData, prefix="fd"):
    """A second county admin approves (1) or refuses (0) a grant waiting for them."""

    entry: int
    approve: int


@dataclass(frozen=True)
class DonorContactTap(CallbackData, prefix="fdc"):
    """A county admin asks for a donor's contact details (each view audited)."""

    donor: int
