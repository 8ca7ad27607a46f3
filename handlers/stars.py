"""Star ratings (星级): /stars [period] and the monthly ranking posted to the hub.

A cadre sees each of their organisations' stars, score, the facts behind them and what would
earn the next star; a county admin picks an organisation (paged, or by typing part of a name) or
the ranking. The period is this year unless given in parse_period's grammar (本月, 2026-11,
2026-01-01..2026-06-30…). The monthly ranking is a system reminder (bot/domain/stars.py) whose text is
computed here when it is due.
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.formatting import period_label
from bot.domain.services import Services
from bot.domain.stars import FACT_OVERDUE, Rating, month_before, star_counts
from bot.domain.stats import Period
from bot.model.organisation import Organisation
from bot.model.reminder import ReminderRecord
from handlers.context import BotContext, Ui, group_t
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Raw, Translator


def star_bar(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars)


def _number(points: float) -> str:
    return f"{points:g}"


def rating_text(t: Translator, org: Organisation, period: Period, rating: Rating) -> str:
    lines = [
        t("stars.card_title", org=org.name, period=period_label(t, period)),
        t("stars.card_score", bar=star_bar(rating.stars), stars=rating.stars, score=rating.score),
    ]
    for fact in rating.facts:
        key = "stars.fact_line_overdue" if fact.name_key == FACT_OVERDUE else "stars.fact_line"
        lines.append(
            t(
                key,
                name=t(fact.name_key),
                value=fact.value,
                target=fact.target,
                points=_number(fact.points),
                weight=fact.weight,
            )
        )
    if not rating.facts:
        lines.append(t("stars.no_facts"))
    if rating.stars >= 5:
        lines.append(t("stars.next_top"))
    elif rating.next_star:
        hints = t("stars.hint_separator").join(
            t(f"stars.hint_{hint.name_key.rsplit('.', 1)[-1].removeprefix('fact_')}", n=hint.more)
            for hint in rating.next_star
        )
        lines.append(t("stars.next_hint", hints=Raw(hints), bar=star_bar(rating.stars + 1)))
    else:
        lines.append(t("stars.next_several", bar=star_bar(rating.stars + 1)))
    return "\n".join(lines)


def ranking_text(t: Translator, period: Period, ranking: list[tuple[Organisation, Rating]], top: int) -> str:
    counts = star_counts(ranking)
    lines = [
        t("stars.ranking_title", period=period_label(t, period), count=len(ranking)),
        t(
            "stars.ranking_levels",
            levels=Raw(
                t("stars.level_separator").join(
                    t("stars.ranking_level", bar="★" * stars, count=count) for stars, count in counts.items()
                )
            ),
        ),
    ]
    if ranking:
        lines.append(t("stars.ranking_top", top=min(top, len(ranking))))
    for place, (org, rating) in enumerate(ranking[:top], 1):
        lines.append(t("stars.ranking_line", place=place, org=org.name, bar=star_bar(rating.stars), score=rating.score))
    lines.append(t("stars.ranking_footer"))
    return "\n".join(lines)


def _period(ui: Ui, text: str) -> Period:
    stats = ui.services.stats
    if not text.strip():
        return Period.of_year(stats.today().year)
    return stats.parse_period(text)


class StarsFlow(Flow):
    """County admins: pick an organisation (or the ranking) for the period asked."""

    name = "sr"

    async def start(self, ui: Ui, period: Period | None = None, **kwargs: object) -> None:
        period = period or Period.of_year(ui.services.stats.today().year)
        data = {"start": period.start.isoformat(), "end": period.end.isoformat()}
        orgs = await ui.services.orgs.visible_to(ui.user_id)
        await self.go(ui, "org", data)
        await ui.reply("stars.pick_org", self._markup(ui, orgs, 0), period=period_label(ui.t, period), count=len(orgs))

    def _markup(self, ui: Ui, orgs: list[Organisation], page: int) -> InlineKeyboardMarkup:
        return self.paged(
            ui,
            "org",
            [(org.id, org.name) for org in orgs],
            page,
            [[self.choice(ui, "org", "rank", "stars.button_ranking")]],
        )

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        period = Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))
        page = page_number(value)
        if page is not None:
            orgs = await ui.services.orgs.visible_to(ui.user_id)
            await ui.edit(
                "stars.pick_org", self._markup(ui, orgs, page), period=period_label(ui.t, period), count=len(orgs)
            )
            return
        if value == "rank":
            ranking = await ui.services.stars.county_ranking(ui.user_id, period)
            await self.finish(ui)
            await ui.edit_text(ranking_text(ui.t, period, ranking, ui.services.stars.settings.ranking_top))
            return
        org, rating = await ui.services.stars.county_rating(ui.user_id, choice_id(value), period)
        await self.finish(ui)
        await ui.edit_text(rating_text(ui.t, org, period, rating))

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        found = await ui.services.orgs.visible_to(ui.user_id, text)
        if not found:
            raise DomainError("stars.search_nothing", text=text[:30])
        period = Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))
        await ui.reply(
            "stars.pick_org", self._markup(ui, found, 0), period=period_label(ui.t, period), count=len(found)
        )


async def stars_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    services = ui.services
    period = _period(ui, " ".join(context.args or ()))
    if await services.stars.ranks_county(ui.user_id):
        await flow_of(context, StarsFlow).start(ui, period=period)
        return
    ratings = await services.stars.ratings_for(ui.user_id, period)
    if not ratings:
        await ui.reply("stars.not_a_cadre")
        return
    for org, rating in ratings:
        await ui.send_text(rating_text(ui.t, org, period, rating))


async def render_monthly_ranking(services: Services, chat_id: int, reminder: ReminderRecord) -> str | None:
    """The previous month's ranking, for the hub; None when there is no organisation to rank."""
    period = month_before(reminder.due_at.astimezone(services.config.zone).date())
    ranking = await services.stars.ranking(period)
    if not ranking:
        return None
    t = group_t(services)
    return ranking_text(t, period, ranking, services.stars.settings.ranking_top)
