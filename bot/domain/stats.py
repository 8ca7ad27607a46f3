"""Statistics over a period: the figures of /stats, the year-end report and the star ratings.

A period is a range of local calendar dates, both ends included; an activity belongs to the
period its start falls in, in the configured zone (23:30 on 31 December in Shanghai is still
that year, though it is 15:30 UTC). Where each figure comes from:

- activities (by category): activities not cancelled starting in the period;
- person-times (志愿者人次): attendances at those activities that count, i.e. checked in, not a
  no-show, not removed by the organiser: the same rule as AttendanceService.summary's volunteers;
- volunteers: distinct people among those person-times;
- hours: their credited minutes (AttendanceService.credited_minutes, the configured credit rule:
  clipped to the activity, a missing check-out per `credit_missing_checkout`, rounded down) / 60;
- served (服务人次): confirmed number served, else the expected number, of those activities that
  have ended;
- wishes collected: created in the period (for an organisation: as collector); claimed: claim made
  in the period and still held, not cancelled (for an organisation: as the claiming one);
  fulfilled: confirmed received in the period (by the claiming organisation), on time when it was
  delivered by its deadline; overdue: of the claims made in the period, those past their deadline
  now and still not delivered;
- deeds: done (done_on) in the period's year (the year of its last day) against the quotas.

Everything comes from a few grouped queries (storage/reports.py), the credited minutes too: the
attendance service's credit rule as one SQL expression (storage/credit_sql.py), summed in the
database, so a province-year (half a million attendances) is never fetched row by row.

Catalog keys raised (handlers/locales/<lang>/stats_errors.toml, table [stats]):

    stats.err_bad_period        text
    stats.err_period_reversed   start, end
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import bounds
from bot.domain.attendance import AttendanceService
from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.orgs import OrganisationService
from bot.model.activity import Category
from bot.model.organisation import Organisation
from storage.reports import DeedRepository, ReportRepository

MIN_YEAR, MAX_YEAR = bounds.MIN_YEAR, bounds.MAX_YEAR  # the dates the bot accepts anywhere


@dataclass(frozen=True)
class Period:
    """Local calendar dates, both ends included."""

    start: date
    end: date

    @property
    def year(self) -> int:
        """The year the deeds figures are counted for: that of the period's last day."""
        return self.end.year

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, before) in UTC: local midnight of the first day to local midnight after the last."""
        first = datetime(self.start.year, self.start.month, self.start.day, tzinfo=zone)
        after = self.end + timedelta(days=1)
        before = datetime(after.year, after.month, after.day, tzinfo=zone)
        return first.astimezone(UTC), before.astimezone(UTC)

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


_THIS_MONTH = {"本月", "这个月", "這個月", "this month", "month"}
_LAST_MONTH = {"上月", "上个月", "上個月", "last month"}
_THIS_YEAR = {"今年", "本年", "this year", "year"}
_LAST_YEAR = {"去年", "last year"}
# [0-9], not \d: \d also matches other scripts' digits (NFKC has folded the full-width ones).
_DATE = r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?"
_RANGE = re.compile(rf"{_DATE}\s*(?:\.\.|至|到|~|to)\s*{_DATE}")
_MONTH = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})月?")
_YEAR = re.compile(r"([0-9]{4})年?")


def parse_period(text: str, today: date, zone: ZoneInfo | None = None) -> Period:
    """本月 / this month, 上月 / last month, 今年 / 本年 / this year, 去年, 2026, 2026-11,
    2026-01-01..2026-06-30 (or "2026-01-01 至 2026-06-30"). `today` is the local date (in `zone`,
    which the caller used to compute it); relative words are resolved against it."""
    cleaned = " ".join(unicodedata.normalize("NFKC", str(text)).strip().lower().split())
    if cleaned in _THIS_MONTH:
        return Period.of_month(today.year, today.month)
    if cleaned in _LAST_MONTH:
        first = date(today.year, today.month, 1) - timedelta(days=1)
        return Period.of_month(first.year, first.month)
    if cleaned in _THIS_YEAR:
        return Period.of_year(today.year)
    if cleaned in _LAST_YEAR:
        return Period.of_year(today.year - 1)
    try:
        if match := _RANGE.fullmatch(cleaned):
            numbers = [int(part) for part in match.groups()]
            start, end = date(*numbers[:3]), date(*numbers[3:])
            _check_year(start.year, text)
            _check_year(end.year, text)
            if end < start:
                raise DomainError("stats.err_period_reversed", start=start.isoformat(), end=end.isoformat())
            return Period(start, end)
        if match := _MONTH.fullmatch(cleaned):
            year, month = int(match.group(1)), int(match.group(2))
            _check_year(year, text)
            return Period.of_month(year, month)
        if match := _YEAR.fullmatch(cleaned):
            year = int(match.group(1))
            _check_year(year, text)
            return Period.of_year(year)
    except ValueError:  # a month 13, a 31 February…
        pass
    raise DomainError("stats.err_bad_period", text=str(text).strip()[:40])


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError("stats.err_bad_period", text=str(text).strip()[:40])


@dataclass(frozen=True)
class Figures:
    period: Period
    org_id: int | None
    activities_by_category: dict[Category, int]
    activities: int
    volunteers: int
    person_times: int
    volunteer_minutes: int
    served: int
    wishes_collected: int
    wishes_claimed: int
    wishes_fulfilled: int
    wishes_fulfilled_on_time: int
    wishes_overdue: int
    deeds_done: int
    deeds_quota: int

    @property
    def hours(self) -> float:
        """Volunteer hours, to one decimal."""
        return round(self.volunteer_minutes / 60, 1)


@dataclass
class OrgFacts:
    """One organisation's measurable facts over a period (the inputs of its star rating)."""

    org: Organisation
    activities: int = 0
    person_times: int = 0
    served: int = 0
    claims: int = 0
    overdue: int = 0
    fulfilled: int = 0
    fulfilled_on_time: int = 0
    deeds_done: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    # "Money to serve": money received into the funds it owns (net of corrections); None: owns no fund.
    money_fen: int | None = None


@dataclass(frozen=True)
class Grouped:
    """The grouped counts of one period that both the figures and the organisations' facts use,
    read once when a report needs both (`StatsService.grouped`)."""

    by_category: dict[tuple[int, str], int]  # (organisation, category) → activities
    served: dict[int, int]
    claims: dict[int, tuple[int, int]]  # claims, of those overdue
    fulfilled: dict[int, tuple[int, int]]  # fulfilled, of those on time
    deeds: dict[int, int]  # done in the period's year


class StatsService:
    def __init__(
        self,
        reports: ReportRepository,
        deeds: DeedRepository,
        orgs: OrganisationService,
        attendance: AttendanceService,
        clock: Clock,
        zone: ZoneInfo,
    ) -> None:
        self.reports = reports
        self.deeds = deeds
        self.orgs = orgs
        self.attendance = attendance
        self.clock = clock
        self.zone = zone
        # The funds ledger's money received per owning organisation in [start, end): wired by
        # Services.build; None leaves the "money to serve" fact out.
        self.money_by_owner: Callable[[date, date], Awaitable[dict[int, int]]] | None = None

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def parse_period(self, text: str) -> Period:
        return parse_period(text, self.today(), self.zone)

    async def grouped(self, period: Period) -> Grouped:
        start, before = period.bounds(self.zone)
        now = self.clock.now()
        year = Period.of_year(period.year)
        return Grouped(
            by_category=await self.reports.activities_by_org_category(start, before),
            served=await self.reports.served_by_org(start, before, now),
            claims=await self.reports.claims(start, before, now),
            fulfilled=await self.reports.fulfilled(start, before),
            deeds=await self.deeds.counts(year.start, year.end),
        )

    async def figures(
        self, period: Period, org_id: int | None = None, *, with_villages: bool = False, grouped: Grouped | None = None
    ) -> Figures:
        """The county's figures (org_id None), one organisation's, or (`with_villages`) a
        township committee's with its village branches added up. `grouped`: the period's grouped
        counts when the caller has read them already (the year-end report)."""
        grouped = grouped or await self.grouped(period)
        org = None if org_id is None else await self.orgs.get(org_id)
        scope = await self.orgs.scope_ids(org_id, with_villages)
        members = None if scope is None else {scope} if isinstance(scope, int) else set(scope)
        start, before = period.bounds(self.zone)

        def pick(counts: dict[int, int]) -> int:
            return sum(counts.values()) if members is None else sum(counts.get(one, 0) for one in members)

        by_category: dict[Category, int] = {}
        for (owner, category), count in grouped.by_category.items():
            if members is None or owner in members:
                by_category[Category(category)] = by_category.get(Category(category), 0) + count
        settings = self.attendance.settings
        presence = await self.reports.presence(
            start,
            before,
            scope,
            rounding_minutes=settings.credit_rounding_minutes,
            credit_missing_checkout=settings.credit_missing_checkout,
        )
        claims, fulfilled, done = grouped.claims, grouped.fulfilled, grouped.deeds
        if org is None:
            quota = sum(o.deeds_quota for o in await self.orgs.list())
        elif members is not None and len(members) > 1:
            quota = sum(o.deeds_quota for o in await self.orgs.list() if o.id in members)
        else:
            quota = org.deeds_quota
        return Figures(
            period=period,
            org_id=org_id,
            activities_by_category=dict(sorted(by_category.items(), key=lambda item: list(Category).index(item[0]))),
            activities=sum(by_category.values()),
            volunteers=presence.volunteers,
            person_times=presence.person_times,
            volunteer_minutes=presence.credited_minutes,
            served=pick(grouped.served),
            wishes_collected=pick(await self.reports.wishes_collected(start, before)),
            wishes_claimed=pick({k: v[0] for k, v in claims.items()}),
            wishes_fulfilled=pick({k: v[0] for k, v in fulfilled.items() if k is not None}),
            wishes_fulfilled_on_time=pick({k: v[1] for k, v in fulfilled.items() if k is not None}),
            wishes_overdue=pick({k: v[1] for k, v in claims.items()}),
            deeds_done=pick(done),
            deeds_quota=quota,
        )

    async def org_facts(self, period: Period, grouped: Grouped | None = None) -> dict[int, OrgFacts]:
        """Every active organisation's facts over the period, from the grouped queries in bulk."""
        start, before = period.bounds(self.zone)
        grouped = grouped or await self.grouped(period)
        facts = {org.id: OrgFacts(org) for org in await self.orgs.list()}
        for (owner, category), count in grouped.by_category.items():
            if owner in facts:
                facts[owner].activities += count
                facts[owner].by_category[category] = count
        for owner, count in (await self.reports.person_times_by_org(start, before)).items():
            if owner in facts:
                facts[owner].person_times = count
        for owner, served in grouped.served.items():
            if owner in facts:
                facts[owner].served = served
        for owner, (claims, late) in grouped.claims.items():
            if owner in facts:
                facts[owner].claims, facts[owner].overdue = claims, late
        for owner, (done, on_time) in grouped.fulfilled.items():
            if owner in facts:
                facts[owner].fulfilled, facts[owner].fulfilled_on_time = done, on_time
        for owner, done in grouped.deeds.items():
            if owner in facts:
                facts[owner].deeds_done = done
        if self.money_by_owner is not None:  # set by Services.build once the funds ledger exists
            for owner, money in (await self.money_by_owner(period.start, period.end + timedelta(days=1))).items():
                if owner in facts:
                    facts[owner].money_fen = money
        return facts
