"""The XLSX export of a period: one sheet each for activities, attendance, wishes, deeds, and the
organisations with their stars.

Two halves, so the bot keeps answering while a big workbook is written:
- `ExportService.gather` (async): who may have it, the small parts (deeds, the star ratings,
  the townships) and — only when asked for and allowed — the children's private details, each
  read audited; the big sheets (activities, attendance, wishes: half a million rows for a
  province-year) are only described (`SheetSource`), not read;
- `write_workbook(data, labels)` (bot/domain/export_workbook.py): the big sheets streamed from the
  database in batches into XlsxWriter's constant-memory mode, written in a worker thread, with
  progress; headers and words from the `labels` translator, times as local-zone dates and times
  (the configured zone; real Excel dates, not text), bytes out.

Who gets what (bot/domain/permissions.py):
- the county (org_id None): county admins; one organisation: its members and county admins.
  An organisation's export holds only its rows: its activities and their attendance, the wishes
  it collected or claimed, its deeds, its own star rating.
- private wish columns (child's real name, guardian's phone, address): only in one
  organisation's export asked for by one of its members (`can_export_child_details`), and then
  only for the wishes that organisation collected: never for the wishes it claimed, whoever
  claimed them, and never county-wide (county admins are refused: not needed to run the
  county, PIPL). Every such read goes through WishService.private_details, which audits it
  ("wish.private_view"); the export itself is audited too ("report.export").

Catalog keys raised: reports.err_county_only, reports.err_not_member, reports.err_private_refused;
errors.county_admin_only (the year-end report and the county's organisation picker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.attendance import AttendanceService
from bot.domain.clock import Clock
from bot.domain.errors import PermissionDenied
from bot.domain.permissions import Permissions
from bot.domain.stars import Rating, StarsService, rate_facts
from bot.domain.stats import OrgFacts, Period, StatsService
from bot.domain.wishes import WishService
from bot.domain.year_report import YearReport, YearReportService
from bot.model.organisation import Organisation
from bot.model.report import ActivitySheetRow, AttendanceSheetRow, DeedSheetRow, WishSheetRow
from bot.model.wish import PrivateDetails
from storage.audit import AuditRepository
from storage.report_rows import SheetRowRepository
from storage.reports import DetailRepository, OrgScope

if TYPE_CHECKING:  # Services builds every service; this module only reads it
    from bot.domain.services import Services

Labels = Callable[..., str]


@dataclass(frozen=True)
class SheetSource:
    """The big sheets' rows, read only while the workbook is written: batches from the database."""

    rows: SheetRowRepository
    start: datetime  # UTC bounds of the period
    before: datetime
    scope: OrgScope
    rounding_minutes: int  # the credit rule's settings (the attendance sheet's minutes)
    credit_missing_checkout: bool

    def activities(self) -> AsyncIterator[list[ActivitySheetRow]]:
        return self.rows.activities(self.start, self.before, self.scope)

    def attendance(self) -> AsyncIterator[list[AttendanceSheetRow]]:
        return self.rows.attendance(
            self.start,
            self.before,
            self.scope,
            rounding_minutes=self.rounding_minutes,
            credit_missing_checkout=self.credit_missing_checkout,
        )

    def wishes(self) -> AsyncIterator[list[WishSheetRow]]:
        return self.rows.wishes(self.start, self.before, self.scope)


@dataclass
class ExportData:
    period: Period
    org_id: int | None
    zone: ZoneInfo
    now: datetime
    source: SheetSource
    deeds: list[DeedSheetRow]  # a few per organisation a year: read whole
    orgs: list[tuple[OrgFacts, Rating]]
    include_private: bool = False
    private: dict[int, PrivateDetails] = field(default_factory=dict)
    townships: dict[int, str] = field(default_factory=dict)  # a village branch's township, by org id


class ExportService:
    def __init__(
        self,
        details: DetailRepository,
        rows: SheetRowRepository,
        stats: StatsService,
        stars: StarsService,  # its settings
        wishes: WishService,  # private reads, audited
        attendance: AttendanceService,  # the credit rule
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
    ) -> None:
        self.details = details
        self.rows = rows
        self.stats = stats
        self.stars = stars
        self.wishes = wishes
        self.attendance = attendance
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone

    @classmethod
    def of(cls, services: Services) -> ExportService:
        """Built from the running bot's Services."""
        return cls(
            DetailRepository(services.db),
            SheetRowRepository(services.db),
            services.stats,
            services.stars,
            services.wishes,
            services.attendance,
            services.permissions,
            AuditRepository(services.db),
            services.clock,
            services.config.zone,
        )

    async def check(self, user_id: int, org_id: int | None, include_private: bool = False) -> None:
        """Refuse before any work: the scope, then the private columns."""
        if not await self.permissions.can_see_stats(user_id, org_id):
            if org_id is None:
                raise PermissionDenied("reports.err_county_only")
            org = await self.stats.orgs.get(org_id)
            raise PermissionDenied("reports.err_not_member", org=org.name)
        if include_private and not await self.permissions.can_export_child_details(user_id, org_id):
            raise PermissionDenied("reports.err_private_refused")

    async def gather(
        self,
        user_id: int,
        period: Period,
        org_id: int | None = None,
        include_private: bool = False,
        *,
        with_villages: bool = False,
    ) -> ExportData:
        """`with_villages`: a township committee with its village branches (the private columns
        still only for the wishes the township itself collected)."""
        await self.check(user_id, org_id, include_private)
        scope = await self.stats.orgs.scope_ids(org_id, with_villages)
        members = None if scope is None else {scope} if isinstance(scope, int) else set(scope)
        start, before = period.bounds(self.zone)
        now = self.clock.now()
        facts = await self.stats.org_facts(period)
        if members is not None:
            facts = {key: value for key, value in facts.items() if key in members}
        rated = [(fact, rate_facts(fact, period, self.stars.settings)) for fact in facts.values()]
        rated.sort(key=lambda item: (-item[1].score, item[0].org.name))
        settings = self.attendance.settings
        data = ExportData(
            period=period,
            org_id=org_id,
            zone=self.zone,
            now=now,
            source=SheetSource(
                self.rows,
                start,
                before,
                scope,
                settings.credit_rounding_minutes,
                settings.credit_missing_checkout,
            ),
            deeds=await self.details.deeds(period.start, period.end, scope),
            orgs=rated,
            include_private=include_private,
            townships=await self.stats.orgs.township_names(),
        )
        if include_private and org_id is not None:
            data.private = await self._private(user_id, await self.rows.consented_collected(start, before, org_id))
        subject = "report:county" if org_id is None else f"report:org:{org_id}"
        subject += ":villages" if with_villages and org_id is not None else ""
        await self.audit.record(
            now,
            user_id,
            "report.export",
            subject,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            private=include_private,
            private_wishes=len(data.private),
        )
        return data

    async def _private(self, user_id: int, wish_ids: list[int]) -> dict[int, PrivateDetails]:
        """The details of the wishes the exporting organisation collected (with consent), for its
        cadres only (`check` has made sure the person is one). Not the claimer's view rule of
        /wish: a claiming organisation's cadre sees one child's details while delivering, but a
        spreadsheet of them would outlive the delivery. Each read audited by the wish service."""
        found: dict[int, PrivateDetails] = {}
        for wish_id in wish_ids:
            details = await self.wishes.private_details(user_id, wish_id)
            if details is not None and not details.empty:
                found[wish_id] = details
        return found

    # ---- whose figures: what /stats, /export and /report offer -------------------------------
    async def sees_county(self, user_id: int) -> bool:
        """Whether the county's own figures and export are this person's to see."""
        return await self.permissions.can_see_stats(user_id, None)

    async def export_orgs(self, user_id: int, include_private: bool = False) -> list[Organisation]:
        """The organisations whose export this person may have (none: they belong nowhere). With
        the children's details, only those whose details they may export; refused when that
        leaves none to someone who sees some (or the county)."""
        orgs = await self.stats.orgs.visible_to(user_id)
        if not include_private:
            return orgs
        allowed = [org for org in orgs if await self.permissions.can_export_child_details(user_id, org.id)]
        if not allowed and (orgs or await self.sees_county(user_id)):
            raise PermissionDenied("reports.err_private_refused")
        return allowed

    async def check_county_reports(self, user_id: int) -> None:
        """The year-end report and the picker of any organisation's figures: county admins only."""
        await self.permissions.require_county_admin(user_id)

    async def year_report(
        self, user_id: int, year: int, org_id: int | None = None, *, with_villages: bool = False
    ) -> YearReport:
        """The county's (county admins), or a scope's (those who may see its figures)."""
        if org_id is None:
            await self.check_county_reports(user_id)
        else:
            await self.check(user_id, org_id)
        return await YearReportService(self.stats, self.stars).build(year, org_id, with_villages=with_villages)
