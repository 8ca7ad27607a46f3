"""The records feature's button payloads."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.callback_data import CallbackData

ALL_YEARS = 0  # CertificateTap.year for every year of service


@dataclass(frozen=True)
class CertificateTap(CallbackData, prefix="rc"):
    """/me: a certificate for a year (or ALL_YEARS)."""

    year: int


@dataclass(frozen=True)
class QrCheckoutTap(CallbackData, prefix="rq"):
    """Under a QR check-in: check out of that activity."""

    activity: int
