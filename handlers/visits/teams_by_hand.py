"""自己分组: the county admin types each team: its townships, then its organisations (the first
one's head leads the team; any organisation of the tree, though usually county-level ones);
"完成" stores them all (every township with households must have a team, none two). A name may
be shortened while only one organisation holds it. The conversation keeps only ids."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.domain.visits.rules import normalise
from handlers.context import Ui, clean
from handlers.flow import Flow
from handlers.visits.hub import post_progress

_SEPARATORS = "、,，;；\n"


def _names(text: str) -> list[str]:
    for separator in _SEPARATORS:
        text = text.replace(separator, "|")
    return [normalise(name) for name in text.split("|") if normalise(name)]


def _one(name: str, known: dict[str, int]) -> int | None:
    """The organisation a typed name means: its full name, or a part only one name holds
    (城关镇 for 城关镇团委)."""
    folded = name.casefold()
    by_name = {known_name.casefold(): org_id for known_name, org_id in known.items()}
    if folded in by_name:
        return by_name[folded]
    partial = [org_id for known_name, org_id in by_name.items() if folded in known_name]
    return partial[0] if len(partial) == 1 else None


def _resolve(text: str, known: dict[str, int], key: str) -> list[int]:
    found = []
    for name in _names(clean(text)):
        org_id = _one(name, known)
        if org_id is None:
            raise DomainError(key, name=name[:40], example=next(iter(known), ""))
        found.append(org_id)
    if not found:
        raise DomainError(key, name="", example=next(iter(known), ""))
    return list(dict.fromkeys(found))


class TeamsByHandFlow(Flow):
    name = "vt"

    async def start(self, ui: Ui, campaign_id: int, **kwargs: object) -> None:
        await ui.services.visits.require_admin(ui.user_id)
        await self._ask_townships(ui, {"campaign": campaign_id, "teams": []})

    async def _ask_townships(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "townships", data)
        rows = [self.cancel_row(ui)]
        if data["teams"]:
            rows.insert(0, [self.choice(ui, "townships", "done", "visits.button_teams_done")])
        await ui.reply("visits.ask_team_townships", InlineKeyboardMarkup(rows), number=len(data["teams"]) + 1)

    async def text_townships(self, ui: Ui, data: dict, text: str) -> None:
        townships, _ = await ui.services.visits.name_lookup(ui.user_id)
        ids = _resolve(text, townships, "visits.township_name_unknown")
        await self.go(ui, "orgs", {**data, "townships": ids})
        await ui.reply(
            "visits.ask_team_orgs", InlineKeyboardMarkup([self.cancel_row(ui)]), number=len(data["teams"]) + 1
        )

    async def choice_townships(self, ui: Ui, data: dict, value: str) -> None:
        if value != "done" or not data["teams"]:
            raise DomainError("common.button_expired")
        visits = ui.services.visits
        teams = await visits.teams_by_hand(
            ui.user_id, int(data["campaign"]), [(team["townships"], team["orgs"]) for team in data["teams"]]
        )
        await self.finish(ui)
        await ui.reply("visits.teams_formed", teams=len(teams), members=sum(len(t.members) for t in teams))
        if not await post_progress(ui.context.application, int(data["campaign"])):
            await ui.reply("visits.no_hub")

    async def text_orgs(self, ui: Ui, data: dict, text: str) -> None:
        _, orgs = await ui.services.visits.name_lookup(ui.user_id)
        ids = _resolve(text, orgs, "visits.org_name_unknown")
        team = {"townships": data["townships"], "orgs": ids}
        await self._ask_townships(ui, {"campaign": data["campaign"], "teams": [*data["teams"], team]})
