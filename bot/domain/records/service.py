"""`RecordService`: a person's service record, certificates (issue, verify, revoke).

A certificate is a snapshot: its totals and lines are stored at issue and never recomputed. On
/verify the live record for the same period is compared with it; if an organiser corrected
something since, the certificate is still shown as genuine at issue but "superseded", with the
serials issued after it.

Catalog keys raised (handlers/locales/<lang>/records.toml): records.err_no_service (start, end),
records.verify_too_many (minutes), records.err_not_found, records.err_reason_required,
records.err_reason_too_long (length, max); permissions: records.err_not_county_admin.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Sequence
from datetime import UTC, date
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied, one_line
from bot.domain.feature_config import RecordsConfig
from bot.domain.people import PeopleService
from bot.domain.permissions import Permissions
from bot.domain.records.signing import Signer
from bot.domain.records.sources import ServiceSource
from bot.domain.stats import Period
from bot.model.records import Certificate, ServiceLine, ServiceRecord, Verification, VerifyOutcome
from storage.audit import AuditRepository
from storage.db import Database
from storage.records import RecordRepository

# All of a person's service: the bot refuses activity times outside these years.
ALL_TIME = Period(date(2000, 1, 1), date(2100, 12, 31))
SERIAL_TAG = 12  # digits (~40 bits): not to be guessed, and no O/0 or I/1 to confuse
_SERIAL = re.compile(r"^([0-9]{4})-([0-9]{6,9})-([0-9]{12})$")
MAX_REASON = 200
RATE_WINDOW_SECONDS = 3600.0


def normal_serial(text: str) -> str:
    """A serial as typed or scanned: full-width folded, spaces dropped, any dash as "-"."""
    folded = "".join(unicodedata.normalize("NFKC", text).upper().split())
    return re.sub(r"[\u2010-\u2015\u2212_]", "-", folded)


class RecordService:
    def __init__(
        self,
        db: Database,
        repo: RecordRepository,
        sources: Sequence[ServiceSource],
        signer: Signer,
        people: PeopleService,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
        settings: RecordsConfig,
    ) -> None:
        self.db = db
        self.repo = repo
        self.sources = list(sources)
        self.signer = signer
        self.people = people
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.settings = settings
        self._asked: dict[int, deque[float]] = {}

    def add_source(self, source: ServiceSource) -> None:
        """Another kind of service (pairing contacts, verification visits): counted everywhere."""
        self.sources.append(source)

    # ---- the record -----------------------------------------------------------------------------
    async def record(self, user_id: int | None, period: Period = ALL_TIME) -> list[ServiceRecord]:
        """The records in the period: one person's (a list of one, possibly without lines), or
        everyone's with any service (None), people in order of id."""
        starts_from, starts_before = period.bounds(self.zone)
        by_person: dict[int, list[ServiceLine]] = {} if user_id is None else {user_id: []}
        for source in self.sources:
            for line in await source.lines(user_id, starts_from, starts_before):
                by_person.setdefault(line.user_id, []).append(line)
        return [
            ServiceRecord(person, tuple(sorted(lines, key=lambda line: line.key())))
            for person, lines in sorted(by_person.items())
        ]

    async def record_of(self, user_id: int, period: Period = ALL_TIME) -> ServiceRecord:
        return (await self.record(user_id, period))[0]

    # ---- certificates ----------------------------------------------------------------------------
    async def period_for(self, user_id: int, year: int | None) -> Period:
        """A year's period (None: from the first year of service), never past today: a
        certificate does not vouch for days still to come."""
        today = self.clock.now().astimezone(self.zone).date()
        if year is None:
            record = await self.record_of(user_id)
            year = record.lines[0].day.year if record.lines else today.year
            return Period(date(year, 1, 1), max(today, date(year, 1, 1)))
        if not ALL_TIME.start.year <= year <= today.year:
            raise DomainError("records.err_no_service", start=f"{year}-01-01", end=f"{year}-12-31")
        return Period(date(year, 1, 1), min(today, date(year, 12, 31)))

    async def issue(self, user_id: int, period: Period) -> Certificate:
        """A certificate for the period (cut at today), with a new signed serial; refused when
        there was no service."""
        today = self.clock.now().astimezone(self.zone).date()
        if period.end > today >= period.start:
            period = Period(period.start, today)
        record = await self.record_of(user_id, period)
        if not record.lines:
            raise DomainError("records.err_no_service", start=period.start.isoformat(), end=period.end.isoformat())
        person = await self.people.known(user_id)
        key = await self.signer.key()
        now = self.clock.now()
        async with self.db.transaction():
            number = await self.repo.next_certificate_id()
            body = f"{now.astimezone(self.zone).year}-{number:06d}"
            certificate = Certificate(
                id=number,
                serial=f"{body}-{Signer.digits(key, body, SERIAL_TAG)}",
                user_id=user_id,
                period_start=period.start,
                period_end=period.end,
                name_shown=person.real_name or person.display_name,
                real_name=bool(person.real_name),
                totals=record.totals,
                lines=record.lines,
                fingerprint=record.fingerprint(),
                issued_at=now.astimezone(UTC).replace(microsecond=0),
            )
            await self.repo.add_certificate(certificate)
            await self.audit.record(
                now,
                user_id,
                "certificate.issue",
                f"certificate:{certificate.serial}",
                start=period.start.isoformat(),
                end=period.end.isoformat(),
                minutes=certificate.minutes,
                person_times=certificate.person_times,
            )
        return certificate

    def _limit(self, asker_id: int) -> None:
        """At most `verify_per_hour` checks an hour per person: serials cannot be tried in bulk."""
        now = self.clock.monotonic()
        asked = self._asked.setdefault(asker_id, deque())
        while asked and asked[0] <= now - RATE_WINDOW_SECONDS:
            asked.popleft()
        if len(asked) >= self.settings.verify_per_hour:
            wait = int((asked[0] + RATE_WINDOW_SECONDS - now) // 60) + 1
            raise DomainError("records.verify_too_many", minutes=wait)
        asked.append(now)

    async def _signed(self, text: str) -> Certificate | None:
        """The certificate a serial names, if the serial's signature holds and it was issued."""
        match = _SERIAL.match(normal_serial(text)[:40])
        if match is None:
            return None
        body = f"{match.group(1)}-{match.group(2)}"
        if not Signer.same(Signer.digits(await self.signer.key(), body, SERIAL_TAG), match.group(3)):
            return None
        return await self.repo.certificate(f"{body}-{match.group(3)}")

    async def verify(self, asker_id: int, text: str) -> Verification:
        """Anyone, any chat: genuine (or superseded, or revoked), else "not found" for anything else."""
        self._limit(asker_id)
        certificate = await self._signed(text)
        if certificate is None:
            return Verification(VerifyOutcome.NOT_FOUND)
        await self.audit.record(self.clock.now(), asker_id, "certificate.verify", f"certificate:{certificate.serial}")
        if certificate.revoked_at is not None:
            return Verification(VerifyOutcome.REVOKED, certificate)
        newer = tuple(await self.repo.later_serials(certificate))
        live = await self.record_of(certificate.user_id, Period(certificate.period_start, certificate.period_end))
        if newer or live.fingerprint() != certificate.fingerprint:
            return Verification(VerifyOutcome.SUPERSEDED, certificate, newer)
        return Verification(VerifyOutcome.GENUINE, certificate)

    async def revoke(self, actor_id: int, text: str, reason: str) -> Certificate:
        """County admins: withdraw a certificate (issued in error); /verify then says so."""
        if not await self.permissions.is_county_admin(actor_id):
            raise PermissionDenied("records.err_not_county_admin")
        reason = one_line(
            reason,
            max_length=MAX_REASON,
            empty_key="records.err_reason_required",
            too_long_key="records.err_reason_too_long",
        )
        certificate = await self._signed(text)
        if certificate is None:
            raise DomainError("records.err_not_found")
        now = self.clock.now()
        async with self.db.transaction():
            if await self.repo.revoke(certificate.serial, actor_id, reason, now):
                await self.audit.record(
                    now, actor_id, "certificate.revoke", f"certificate:{certificate.serial}", reason=reason
                )
        return await self.repo.certificate_written(certificate.serial)
