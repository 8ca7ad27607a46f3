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

from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.attendance import AttendanceService
from bot.model.records import ServiceKind, ServiceLine
from bot.model.sunshine import pair_code
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


class ContactLines:
    """Contacts a paired volunteer logged with their child (Sunshine Home, 结对帮扶): the minutes
    they logged. The line names the pair (P0001), never the child."""

    kind = ServiceKind.CONTACT

    def __init__(self, repo: RecordRepository, zone: ZoneInfo) -> None:
        self.repo = repo
        self.zone = zone

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        # Contacts are dated by local day: the days that start within the period.
        first = _first_day_from(starts_from, self.zone)
        after = _first_day_from(starts_before, self.zone)
        return [
            ServiceLine(
                self.kind,
                row.user_id,
                row.day,
                row.minutes,
                row.org_name,
                f"{pair_code(row.pair_id)}-{row.contact_id}",
                pair_code(row.pair_id),
            )
            for row in await self.repo.contacts(user_id, first, after)
        ]


def _first_day_from(moment: datetime, zone: ZoneInfo) -> date:
    """The first local day that starts at or after `moment`."""
    local = moment.astimezone(zone)
    day = local.date()
    return day if local.time() == time(0) else day + timedelta(days=1)


class _FixedMinutesLines:
    """A kind whose length is not recorded: each piece counts one person-time and a configured
    number of minutes (0 by default, so no hours are claimed unless the committee sets a figure)."""

    kind: ServiceKind

    def __init__(self, repo: RecordRepository, zone: ZoneInfo, minutes: int) -> None:
        self.repo = repo
        self.zone = zone
        self.minutes = minutes

    def _line(self, user_id: int, moment: datetime, org_name: str, reference: str, title: str) -> ServiceLine:
        day = moment.astimezone(self.zone).date()
        return ServiceLine(self.kind, user_id, day, self.minutes, org_name, reference, title)


class WishDeliveryLines(_FixedMinutesLines):
    """Micro-wishes the person delivered (and that were not cancelled since), `minutes` each
    (config [records] wish_delivery_minutes)."""

    kind = ServiceKind.WISH

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        return [
            self._line(row.user_id, row.delivered_at, row.org_name, wish_code(row.wish_id), row.text)
            for row in await self.repo.delivered(user_id, starts_from, starts_before)
        ]


class VisitLines(_FixedMinutesLines):
    """Verification visits (走访核实) the person filed, once a reviewer approved them, `minutes`
    each (config [records] visit_minutes). Rejected or unreviewed visits do not count. The line
    names the campaign, never the household: a certificate carries no student's details."""

    kind = ServiceKind.VISIT

    async def lines(self, user_id: int | None, starts_from: datetime, starts_before: datetime) -> list[ServiceLine]:
        return [
            self._line(row.user_id, row.submitted_at, row.org_name, f"V{row.visit_id:05d}", row.campaign_title)
            for row in await self.repo.visited(user_id, starts_from, starts_before)
        ]
