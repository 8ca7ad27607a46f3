"""What volunteers take home (#19): service records, certificates, verification, the national
platforms' export, QR check-in.

sources.py: where a record's lines come from, one source per kind of service (the protocol the
pairing-contact and verification-visit sources implement; see its docstring). service.py:
`RecordService` (the record, certificates: issue, verify, revoke). signing.py: the key and the
HMAC signatures of serials and QR codes. qr.py: `QrCheckIns`. pdf.py: certificates and QR posters
as A4 PDF. export.py: `RecordExport` (XLSX). identity.py: `Identities` (ID documents given
with consent, for the export).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityService
from bot.domain.attendance import AttendanceService
from bot.domain.clock import Clock
from bot.domain.feature_config import RecordsConfig
from bot.domain.people import PeopleService
from bot.domain.permissions import Permissions
from bot.domain.records.export import RecordExport
from bot.domain.records.identity import Identities
from bot.domain.records.qr import QrCheckIns
from bot.domain.records.service import ALL_TIME, RecordService
from bot.domain.records.signing import Signer
from bot.domain.records.sources import ActivityLines, ContactLines, ServiceSource, VisitLines, WishDeliveryLines
from storage.audit import AuditRepository
from storage.db import Database
from storage.records import RecordRepository

__all__ = ["ALL_TIME", "Identities", "QrCheckIns", "RecordExport", "RecordService", "Records", "ServiceSource"]


@dataclass
class Records:
    """The records feature's services, built over one database."""

    service: RecordService
    qr: QrCheckIns
    export: RecordExport
    identities: Identities

    @classmethod
    def build(
        cls,
        db: Database,
        people: PeopleService,
        permissions: Permissions,
        activities: ActivityService,
        attendance: AttendanceService,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
        settings: RecordsConfig,
    ) -> Records:
        repo = RecordRepository(db)
        signer = Signer(repo, settings.secret, clock)
        sources: list[ServiceSource] = [
            ActivityLines(repo, attendance, zone),
            ContactLines(repo, zone),
            WishDeliveryLines(repo, zone, settings.wish_delivery_minutes),
            VisitLines(repo, zone, settings.visit_minutes),
        ]
        service = RecordService(db, repo, sources, signer, people, permissions, audit, clock, zone, settings)
        return cls(
            service=service,
            qr=QrCheckIns(repo, signer, activities, attendance, audit, clock, settings.qr_rotate_minutes),
            export=RecordExport(service, repo, people, permissions, audit, clock, zone, settings.export_columns),
            identities=Identities(db, repo, audit, clock),
        )
