"""Star ratings (星级): 1 to 5 stars per organisation per period, from measurable facts.

Each fact earns points up to its weight (StarsConfig): `weight × min(1, value / target)`, except
overdue claims, which earn `weight × (1 − overdue / claims)`. The targets of activities,
person-times, people served and wishes fulfilled on time are yearly (configured), scaled to the
period's length and rounded up (at least 1); the deeds' target is the organisation's yearly
quota, counted over the period's year. A fact that does not apply (no quota; no claims made in
the period) is left out and the score is taken over the weights that apply:

    score = 100 × points / applicable weights      (rounded to a whole number)

Stars: 1, then 2/3/4/5 from the thresholds `two_stars`… (defaults 20/40/60/80). The next-star
hints say, per fact, how much more of it alone would reach the next threshold (for overdue
claims: how many of them to deliver).

Fact names are catalog keys (stats.fact_*), for the handlers to render.

Who sees what: an organisation's members see its rating; county admins pick any organisation's,
or the county's ranking (`county_rating`, `county_ranking`: refused to anyone else).

The monthly ranking: one recurring system reminder to the hub (subject `stars:ranking`, schedule
`[stars] ranking`, default "每月1日 9:00", "" switches it off) whose text is computed when it is
due: the previous month's ranking (`ranking_top` best, and how many organisations have each star
count). Delivery is the reminder scheduler's: exactly once, restart-safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.config import StarsConfig
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import parse_schedule
from bot.domain.stats import OrgFacts, Period, StatsService
from bot.model.organisation import Organisation

RANKING_SUBJECT = "stars:ranking"

FACT_DEEDS = "stats.fact_deeds"
FACT_ACTIVITIES = "stats.fact_activities"
FACT_PERSON_TIMES = "stats.fact_person_times"
FACT_SERVED = "stats.fact_served"
FACT_WISHES_ON_TIME = "stats.fact_wishes_on_time"
FACT_OVERDUE = "stats.fact_overdue"
FACT_MONEY = "stats.fact_money"


@dataclass(frozen=True)
class Fact:
    name_key: str
    value: int
    target: int  # for overdue claims: the claims made (the value is how many of them are overdue)
    points: float
    weight: int


@dataclass(frozen=True)
class Hint:
    name_key: str
    more: int  # for overdue claims: how many fewer overdue


@dataclass(frozen=True)
class Rating:
    stars: int
    score: int
    facts: list[Fact]
    next_star: list[Hint]  # empty at five stars


def scaled(yearly: int, period: Period) -> int:
    return max(1, math.ceil(yearly * period.days / 365))


def _ratio_points(weight: int, value: int, target: int) -> float:
    return weight * min(1.0, value / target)


def stars_for(score: float, settings: StarsConfig) -> int:
    thresholds = (settings.two_stars, settings.three_stars, settings.four_stars, settings.five_stars)
    return 1 + sum(1 for threshold in thresholds if score >= threshold)


def rate_facts(facts: OrgFacts, period: Period, settings: StarsConfig) -> Rating:
    """The rating of one organisation's facts: pure, so a ranking rates hundreds in one pass."""
    found: list[Fact] = []
    if facts.org.deeds_quota > 0 and settings.weight_deeds:
        found.append(
            Fact(
                FACT_DEEDS,
                facts.deeds_done,
                facts.org.deeds_quota,
                _ratio_points(settings.weight_deeds, facts.deeds_done, facts.org.deeds_quota),
                settings.weight_deeds,
            )
        )
    for key, weight, value, yearly in (
        (FACT_ACTIVITIES, settings.weight_activities, facts.activities, settings.target_activities_per_year),
        (FACT_PERSON_TIMES, settings.weight_person_times, facts.person_times, settings.target_person_times_per_year),
        (FACT_SERVED, settings.weight_served, facts.served, settings.target_served_per_year),
        (
            FACT_WISHES_ON_TIME,
            settings.weight_wishes_on_time,
            facts.fulfilled_on_time,
            settings.target_wishes_on_time_per_year,
        ),
    ):
        if weight:
            target = scaled(yearly, period)
            found.append(Fact(key, value, target, _ratio_points(weight, value, target), weight))
    if facts.money_fen is not None and settings.weight_money:  # only organisations owning a fund
        target, value = scaled(settings.target_money_per_year_yuan, period), facts.money_fen // 100
        found.append(
            Fact(FACT_MONEY, value, target, _ratio_points(settings.weight_money, value, target), settings.weight_money)
        )
    if facts.claims > 0 and settings.weight_overdue:
        share = facts.overdue / facts.claims
        found.append(
            Fact(
                FACT_OVERDUE,
                facts.overdue,
                facts.claims,
                settings.weight_overdue * (1 - share),
                settings.weight_overdue,
            )
        )
    total_weight = sum(fact.weight for fact in found)
    points = sum(fact.points for fact in found)
    score = round(100 * points / total_weight) if total_weight else 0
    stars = stars_for(score, settings)
    rounded = [Fact(f.name_key, f.value, f.target, round(f.points, 1), f.weight) for f in found]
    return Rating(stars, score, rounded, _hints(found, points, total_weight, stars, settings))


def _hints(facts: list[Fact], points: float, total_weight: int, stars: int, settings: StarsConfig) -> list[Hint]:
    """Per fact, the least more of it alone that lifts the score to the next star (when it can)."""
    if stars >= 5 or not total_weight:
        return []
    threshold = (settings.two_stars, settings.three_stars, settings.four_stars, settings.five_stars)[stars - 1]
    # The score is rounded: reaching threshold − 0.5 is enough; keep a small margin for float error.
    needed = (threshold - 0.5) * total_weight / 100 - points + 1e-9
    hints = []
    for fact in facts:
        room = fact.weight - fact.points
        if room < needed or room <= 0:
            continue
        if fact.name_key == FACT_OVERDUE:
            # Each overdue claim delivered earns weight / claims.
            more = math.ceil(needed * fact.target / fact.weight)
        else:
            target_value = fact.points / fact.weight * fact.target + needed * fact.target / fact.weight
            more = max(1, math.ceil(target_value - fact.value - 1e-9))
        hints.append(Hint(fact.name_key, more))
    return hints


class StarsService:
    def __init__(self, stats: StatsService, settings: StarsConfig, permissions: Permissions) -> None:
        self.stats = stats
        self.settings = settings
        self.permissions = permissions

    async def rate(self, org_id: int, period: Period) -> Rating:
        org = await self.stats.orgs.get(org_id)
        facts = (await self.stats.org_facts(period)).get(org_id, OrgFacts(org))
        return rate_facts(facts, period, self.settings)

    async def ranking(self, period: Period) -> list[tuple[Organisation, Rating]]:
        """Every active organisation, best first (score, then name)."""
        rated = [
            (facts.org, rate_facts(facts, period, self.settings))
            for facts in (await self.stats.org_facts(period)).values()
        ]
        rated.sort(key=lambda item: (-item[1].score, item[0].name))
        return rated

    # ---- asked by a person ----------------------------------------------------------------------
    async def ranks_county(self, user_id: int) -> bool:
        """Whether /stars offers this person every organisation and the ranking (county admins)."""
        return await self.permissions.is_county_admin(user_id)

    async def county_ranking(self, actor_id: int, period: Period) -> list[tuple[Organisation, Rating]]:
        await self.permissions.require_county_admin(actor_id)
        return await self.ranking(period)

    async def county_rating(self, actor_id: int, org_id: int, period: Period) -> tuple[Organisation, Rating]:
        """Any active organisation's rating, for a county admin."""
        await self.permissions.require_county_admin(actor_id)
        org = await self.stats.orgs.get_active(org_id)
        return org, await self.rate(org.id, period)

    async def ratings_for(self, user_id: int, period: Period) -> list[tuple[Organisation, Rating]]:
        """The rating of each active organisation this person may see (a cadre: their own), by id."""
        orgs = await self.stats.orgs.visible_to(user_id)
        if not orgs:
            return []
        facts = await self.stats.org_facts(period)
        return [(org, rate_facts(facts.get(org.id, OrgFacts(org)), period, self.settings)) for org in orgs]


def month_before(day: date) -> Period:
    """The calendar month before the one `day` falls in."""
    last = date(day.year, day.month, 1) - timedelta(days=1)
    return Period.of_month(last.year, last.month)


def star_counts(ranking: list[tuple[Organisation, Rating]]) -> dict[int, int]:
    """How many organisations have 5, 4, … 1 stars (every level, best first)."""
    counts = {stars: 0 for stars in range(5, 0, -1)}
    for _, rating in ranking:
        counts[rating.stars] += 1
    return counts


async def keep_monthly_ranking(reminders: ReminderService, when: str) -> None:
    """The ranking is a system reminder to the hub; "" in the configuration switches it off."""
    if not when:
        await reminders.cancel_subject(RANKING_SUBJECT)
        return
    schedule = parse_schedule(when, now=reminders.clock.now(), zone=reminders.zone)
    await reminders.set_for_subject(RANKING_SUBJECT, "hub", None, "", schedule)
