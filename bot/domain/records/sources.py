"""Where a service record's lines come from: one source per kind of service.

The protocol (for the lead, to add the pairing-contact and verification-visit sources):

    class ServiceSource(Protocol):
        kind: ServiceKind
        async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime)
            -> list[ServiceLine]

`lines` gives the service that happened in [starts_from, starts_before) (UTC), of one person
(`user_id`) or of everyone (None: the national platforms' export). Each line carries its kind,
the person, the local date, the minutes credited, the organisation's name, a reference that
traces it (an activity's code, a wish's code, a contact's id…), a title, and the reason of an
organiser's latest correction if there was one. Register a new source in `RecordService`'s list
(bot/domain/services.py); the record, /me, the certificates, /verify and the export then count
it with no other change (its kind's name is `records.kind_<kind>` in the catalogs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.attendance import AttendanceService
from bot.model.records import ServiceKind, ServiceLine
from bot.model.wish import wish_code
from storage.records import RecordRepository


class ServiceSource(Protocol):
    @property
    def kind(self) -> ServiceKind: ...

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        """Service in [starts_from, starts_before), of one person or (None) of everyone."""
        ...


class ActivityLines:
    """Activities attended (checked in, not a no-show, not removed), credited by the attendance rule;
    an organiser's correction (bot/domain/attendance/corrections.py) brings its reason along."""

    kind = ServiceKind.ACTIVITY

    def __init__(self, repo: RecordRepository, attendance: AttendanceService, zone: ZoneInfo) -> None:
        self.repo = repo
        self.attendance = attendance
        self.zone = zone

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        rows = await self.repo.attended(user_id, starts_from, starts_before)
        reasons = await self.repo.corrections(sorted({row.activity_id for row in rows}))
        return [
            ServiceLine(
                kind=self.kind,
                user_id=row.user_id,
                day=row.starts_at.astimezone(self.zone).date(),
                minutes=self.attendance.credited_minutes(row, row.checked_in_at, row.checked_out_at),
                org_name=row.org_name,
                reference=row.code,
                title=row.title,
                correction=reasons.get((row.activity_id, row.user_id)),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
            )
            for row in rows
        ]


class WishDeliveryLines:
    """Micro-wishes the person delivered (and that were not cancelled since): one person-time each,
    `minutes` each (config [records] wish_delivery_minutes; 0 by default: a delivery's length is
    not recorded, so no hours are claimed for it unless the committee sets a figure)."""

    kind = ServiceKind.WISH

    def __init__(self, repo: RecordRepository, zone: ZoneInfo, minutes: int) -> None:
        self.repo = repo
        self.zone = zone
        self.minutes = minutes

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        return [
            ServiceLine(
                kind=self.kind,
                user_id=row.user_id,
                day=row.delivered_at.astimezone(self.zone).date(),
                minutes=self.minutes,
                org_name=row.org_name,
                reference=wish_code(row.wish_id),
                title=row.text,
            )
            for row in await self.repo.delivered(user_id, starts_from, starts_before)
        ]
