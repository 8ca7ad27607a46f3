"""The XLSX export of a period: one sheet each for activities, attendance, wishes, deeds, and the
organisations with their stars.

Two halves, so the bot keeps answering while a big workbook is written:
- `ExportService.gather` (async): who may have it, the rows (one query per sheet, storage/
  reports.py DetailRepository), the star ratings, and — only when asked for and allowed —
  the children's private details, each read audited;
- `build_workbook(data, labels)` (CPU, for asyncio.to_thread): the workbook streamed row by row
  (bot/domain/xlsx.py), headers and words from the `labels` translator, times as local-zone dates and
  times (the configured zone; real Excel dates, not text), bytes out.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.attendance import AttendanceService
from bot.domain.clock import Clock
from bot.domain.errors import PermissionDenied
from bot.domain.permissions import Permissions
from bot.domain.stars import Rating, StarsService, rate_facts
from bot.domain.stats import OrgFacts, Period, StatsService
from bot.domain.wishes import WishService
from bot.domain.xlsx import Cell, XlsxWriter
from bot.domain.year_report import YearReport, YearReportService
from bot.model.activity import Span
from bot.model.organisation import Organisation
from bot.model.report import (
    ActivitySheetRow,
    AttendanceSheetRow,
    DeedSheetRow,
    WishSheetRow,
)
from bot.model.wish import PrivateDetails
from storage.audit import AuditRepository
from storage.reports import DetailRepository

if TYPE_CHECKING:  # Services builds every service; this module only reads it
    from bot.domain.services import Services

Labels = Callable[..., str]

_IN_PROGRESS = ("claimed", "purchased")

COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": (
        "code",
        "org",
        "title",
        "category",
        "starts",
        "ends",
        "place",
        "state",
        "slots",
        "person_times",
        "expected_served",
        "served_confirmed",
        "deed",
    ),
    "attendance": (
        "activity_code",
        "activity_title",
        "org",
        "volunteer",
        "user_id",
        "checked_in",
        "checked_out",
        "credited_minutes",
        "attendance_state",
        "walk_in",
    ),
    "wishes": (
        "wish_code",
        "alias",
        "grade",
        "wish",
        "wish_category",
        "value_yuan",
        "collector",
        "wish_status",
        "claimer",
        "claimed_at",
        "deadline",
        "delivered_at",
        "confirmed_at",
        "overdue",
    ),
    "deeds": ("done_on", "org", "deed_title", "from_activity", "evidence", "note"),
    "orgs": (
        "org",
        "kind",
        "township",
        "quota",
        "deeds_done",
        "activities_count",
        "person_times",
        "served",
        "wishes_on_time",
        "claims",
        "claims_overdue",
        "score",
        "stars",
    ),
}
PRIVATE_COLUMNS = ("real_name", "guardian_phone", "address")
WIDTHS = {
    "title": 28,
    "activity_title": 28,
    "wish": 28,
    "deed_title": 28,
    "org": 22,
    "collector": 22,
    "claimer": 22,
    "place": 20,
    "note": 30,
    "address": 30,
    "volunteer": 16,
}


@dataclass
class ExportData:
    period: Period
    org_id: int | None
    zone: ZoneInfo
    now: datetime
    activities: list[ActivitySheetRow]
    attendance: list[tuple[AttendanceSheetRow, int]]  # with the credited minutes
    wishes: list[WishSheetRow]
    deeds: list[DeedSheetRow]
    orgs: list[tuple[OrgFacts, Rating]]
    include_private: bool = False
    private: dict[int, PrivateDetails] = field(default_factory=dict)
    townships: dict[int, str] = field(default_factory=dict)  # a village branch's township, by org id


def _utc(text: str) -> datetime:
    """Stored UTC text → an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class ExportService:
    def __init__(
        self,
        details: DetailRepository,
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
        attendance = [(row, self._credited(row)) for row in await self.details.attendance(start, before, scope)]
        facts = await self.stats.org_facts(period)
        if members is not None:
            facts = {key: value for key, value in facts.items() if key in members}
        rated = [(fact, rate_facts(fact, period, self.stars.settings)) for fact in facts.values()]
        rated.sort(key=lambda item: (-item[1].score, item[0].org.name))
        data = ExportData(
            period=period,
            org_id=org_id,
            zone=self.zone,
            now=now,
            activities=await self.details.activities(start, before, scope),
            attendance=attendance,
            wishes=await self.details.wishes(start, before, scope),
            deeds=await self.details.deeds(period.start, period.end, scope),
            orgs=rated,
            include_private=include_private,
            townships=await self.stats.orgs.township_names(),
        )
        if include_private:
            data.private = await self._private(user_id, org_id, data.wishes)
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

    async def _private(self, user_id: int, org_id: int | None, wishes: list[WishSheetRow]) -> dict[int, PrivateDetails]:
        """The details of the wishes the exporting organisation collected, for its cadres only
        (`check` has made sure the person is one). Not the claimer's view rule of /wish: a
        claiming organisation's cadre sees one child's details while delivering, but a
        spreadsheet of them would outlive the delivery. Each read audited by the wish service."""
        found: dict[int, PrivateDetails] = {}
        for wish in wishes:
            if not wish.consent or org_id is None or wish.collector_org_id != org_id:
                continue
            details = await self.wishes.private_details(user_id, wish.id)
            if details is not None and not details.empty:
                found[wish.id] = details
        return found

    def _credited(self, row: AttendanceSheetRow) -> int:
        if row.no_show or row.removed or row.checked_in_at is None:
            return 0
        span = Span(_utc(row.starts_at), _utc(row.ends_at))
        checked_out = None if row.checked_out_at is None else _utc(row.checked_out_at)
        return self.attendance.credited_minutes(span, _utc(row.checked_in_at), checked_out)

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


# ---- the workbook (CPU only) ----------------------------------------------------------------------
def build_workbook(data: ExportData, labels: Labels) -> bytes:
    """The XLSX bytes. Pure CPU over `data`: run it through asyncio.to_thread."""
    zone = data.zone
    cache: dict[str, datetime] = {}

    def local(text: str | None) -> datetime | None:
        """Stored UTC text → a local date and time without zone (what a spreadsheet shows)."""
        if text is None:
            return None
        value = cache.get(text)
        if value is None:
            value = cache[text] = datetime.fromisoformat(text).astimezone(zone).replace(tzinfo=None)
        return value

    yes, no = labels("reports.yes"), labels("reports.no")
    words: dict[str, str] = {}

    def word(key: str) -> str:
        text = words.get(key)
        if text is None:
            text = words[key] = labels(key)
        return text

    def headers(columns: tuple[str, ...]) -> tuple[list[str], list[float]]:
        return [labels(f"reports.col_{column}") for column in columns], [WIDTHS.get(c, 14) for c in columns]

    book = XlsxWriter()
    with book.sheet(labels("reports.sheet_activities"), *headers(COLUMNS["activities"])) as sheet:
        for activity in data.activities:
            sheet.row(
                [
                    activity.code,
                    activity.org_name,
                    activity.title,
                    word(f"activities.category.{activity.category}"),
                    local(activity.starts_at),
                    local(activity.ends_at),
                    activity.place,
                    word(f"reports.activity_state_{activity.state}"),
                    activity.slots,
                    activity.person_times,
                    activity.expected_served,
                    activity.served_confirmed,
                    yes if activity.counts_as_deed else no,
                ]
            )

    counted, no_show, removed = (
        word("reports.attendance_counted"),
        word("reports.attendance_no_show"),
        word("reports.attendance_removed"),
    )
    with book.sheet(labels("reports.sheet_attendance"), *headers(COLUMNS["attendance"])) as sheet:
        for present, minutes in data.attendance:
            sheet.row(
                [
                    present.code,
                    present.title,
                    present.org_name,
                    present.display_name,
                    present.user_id,
                    local(present.checked_in_at),
                    local(present.checked_out_at),
                    minutes,
                    removed if present.removed else no_show if present.no_show else counted,
                    yes if present.walk_in else no,
                ]
            )

    wish_columns = COLUMNS["wishes"] + (PRIVATE_COLUMNS if data.include_private else ())
    now_text = data.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with book.sheet(labels("reports.sheet_wishes"), *headers(wish_columns)) as sheet:
        for wish in data.wishes:
            overdue = wish.status in _IN_PROGRESS and wish.deadline is not None and wish.deadline < now_text
            values: list[Cell] = [
                f"W{wish.id:04d}",
                wish.alias,
                wish.grade,
                wish.text,
                word(f"wishes.category.{wish.category}"),
                wish.value_yuan,
                wish.collector_name,
                word(f"wishes.status.{wish.status}"),
                wish.claimer_name,
                local(wish.claimed_at),
                local(wish.deadline),
                local(wish.delivered_at),
                local(wish.confirmed_at),
                yes if overdue else no,
            ]
            if data.include_private:
                details = data.private.get(wish.id)
                values += [details.real_name, details.guardian_phone, details.address] if details else []
            sheet.row(values)

    with book.sheet(labels("reports.sheet_deeds"), *headers(COLUMNS["deeds"])) as sheet:
        for deed in data.deeds:
            sheet.row(
                [
                    date.fromisoformat(deed.done_on),
                    deed.org_name,
                    deed.title,
                    deed.activity_code,
                    yes if deed.has_evidence else no,
                    deed.note,
                ]
            )

    with book.sheet(labels("reports.sheet_orgs"), *headers(COLUMNS["orgs"])) as sheet:
        for facts, rating in data.orgs:
            org = facts.org
            sheet.row(
                [
                    org.name,
                    word(f"orgs.kind.{org.kind.value}"),
                    data.townships.get(org.id),
                    org.deeds_quota,
                    facts.deeds_done,
                    facts.activities,
                    facts.person_times,
                    facts.served,
                    facts.fulfilled_on_time,
                    facts.claims,
                    facts.overdue,
                    rating.score,
                    "★" * rating.stars + "☆" * (5 - rating.stars),
                ]
            )
    return book.close()
