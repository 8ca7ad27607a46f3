"""The year-end report (年度工作总结) of the county: the figures a work summary quotes, for one
calendar year in the configured zone.

Every figure is StatsService.figures over the year (bot/domain/stats.py says where each comes from):
activities held (not cancelled, by category), volunteers (distinct people) and volunteer
person-times (attendances that count), hours (the credit rule), people served (confirmed, else
expected, of ended activities), wishes collected / claimed / fulfilled (on time) / overdue, deeds
done against the quotas. Beside them: the organisations' star levels over the year (the star
ranking of every active organisation) and how many organisations are behind their deeds pace.
The message itself is the handler's (catalog text), in the style of the source document:
"全年开展活动 N 场，志愿者 N 人次，服务 N 人次，认领微心愿 N 个，完成实事 N/N 件".
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.stars import Rating, StarsService, rate_facts
from bot.domain.stats import Figures, Period, StatsService
from bot.model.organisation import Organisation


@dataclass(frozen=True)
class YearReport:
    year: int
    figures: Figures
    organisations: int  # active organisations
    stars: dict[int, int]  # star level (1..5) → organisations
    best: list[tuple[Organisation, Rating]]  # the top of the ranking (at most TOP)
    deeds_orgs_done: int  # organisations owing deeds that met their quota
    deeds_orgs_owing: int  # organisations owing deeds


TOP = 3


class YearReportService:
    def __init__(self, stats: StatsService, stars: StarsService) -> None:
        self.stats = stats
        self.stars = stars  # its settings

    async def build(self, year: int, org_id: int | None = None, *, with_villages: bool = False) -> YearReport:
        """The county's report, or (a scope) one organisation's, or a township committee's with
        its village branches added up."""
        period = Period.of_year(year)
        grouped = await self.stats.grouped(period)  # read once for both
        figures = await self.stats.figures(period, org_id, with_villages=with_villages, grouped=grouped)
        facts = await self.stats.org_facts(period, grouped)
        scope = await self.stats.orgs.scope_ids(org_id, with_villages)
        if scope is not None:
            members = {scope} if isinstance(scope, int) else set(scope)
            facts = {key: item for key, item in facts.items() if key in members}
        # StarsService.ranking's order, rated from the same facts (one pass of the grouped queries).
        ranking = [(item.org, rate_facts(item, period, self.stars.settings)) for item in facts.values()]
        ranking.sort(key=lambda pair: (-pair[1].score, pair[0].name))
        levels = {level: 0 for level in range(5, 0, -1)}
        for _, rating in ranking:
            levels[rating.stars] += 1
        owing = [item for item in facts.values() if item.org.deeds_quota > 0]
        return YearReport(
            year=year,
            figures=figures,
            organisations=len(ranking),
            stars=levels,
            best=ranking[:TOP],
            deeds_orgs_done=sum(1 for item in owing if item.deeds_done >= item.org.deeds_quota),
            deeds_orgs_owing=len(owing),
        )
