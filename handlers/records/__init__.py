"""What volunteers take home (#19), Telegram side.

me.py: /me (the service record, certificate buttons). certificate.py: a certificate, worded and
drawn. verify.py: /verify, /revokecert. qr.py: /qr, a scanned code, the location step, check-out.
export.py: /records. identity.py: /myid. buttons.py: the button payloads.
"""

from __future__ import annotations

from handlers.records.buttons import CertificateTap, QrCheckoutTap
from handlers.records.certificate import certificate_button, certificates_sent
from handlers.records.export import records_command
from handlers.records.identity import IdentityFlow, myid_command
from handlers.records.me import me_command, show_record
from handlers.records.qr import QrLocationFlow, checkout_button, qr_command, scanned
from handlers.records.verify import answer_verification, revoke_command, verify_command

__all__ = [
    "CertificateTap",
    "IdentityFlow",
    "QrCheckoutTap",
    "QrLocationFlow",
    "answer_verification",
    "certificate_button",
    "certificates_sent",
    "checkout_button",
    "me_command",
    "myid_command",
    "qr_command",
    "records_command",
    "revoke_command",
    "scanned",
    "show_record",
    "verify_command",
]
