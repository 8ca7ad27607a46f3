"""`league-bot bench visits`: a verification campaign at 10x the seed, filed at once.

The production Application (rate limiter on; the strict fake with flood limits on and a
per-call latency, 50 ms by default) runs a campaign of 1,480 households in 7 townships, its 7
teams formed by the bot from 44 county-level organisations, and the progress message in the
hub. The 44 heads of those organisations (the visitors) all file at once, each at a person's
pace (a step every `think` seconds on average): for every household of their pair, the visit's
start, 6 steps (met, circumstances match, note skipped, location, photos done, outcome) and 2
photos. A visitor whose pair-mate took a household moves on to the next one.

One JSON line: `households`, `teams`, `visitors`, `visits_recorded` (submitted visits),
`duplicates` (households with more than one visit), `hub_msgs_per_min_max` (messages and edits
in the hub in any 60 s), `progress_matches_db` (the hub message at the end against the
database), `step_answer_ms` (`p50`, `p99`: from a step's update to the bot's first answer to
that visitor), and `seconds`. Timings are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.config import Config, StorageConfig, TelegramConfig
from bot.practice.bench.common import _fake_telegram, _max_per_window, _percentile, timed_request_class

if TYPE_CHECKING:
    from bot.domain.services import Services

HUB = -5_000_017
COUNTY_ADMIN = 1
FIRST_HEAD = 20_000
TOWNSHIPS = 7
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@dataclass(frozen=True)
class Scale:
    households: int = 1480
    organisations: int = 44
    teams: int = 7
    latency: float = 0.05
    think: float = 1.8  # seconds between one visitor's steps, on average
    seed: int = 17


async def seed_campaign(services: Services, *, households: int, organisations: int, teams: int, title: str) -> int:
    """A county (townships, county-level organisations each with a head) and an open campaign
    with its households and teams. Returns the campaign's id. Also the sandbox's demo."""
    from datetime import timedelta

    from bot.domain.visits.household_import import HouseholdRow
    from bot.model.organisation import OrgKind, Role
    from bot.model.visits import HouseholdDetails, HouseholdDraft

    now = services.clock.now()
    await services.people.seen(COUNTY_ADMIN, "county admin", None, "zh-hans", private=True)
    towns = []
    for index in range(TOWNSHIPS):
        towns.append((await services.orgs.create(COUNTY_ADMIN, f"township {index + 1}", OrgKind.TOWNSHIP, None)).id)
    orgs = []
    for index in range(organisations):
        org = await services.orgs.create(COUNTY_ADMIN, f"county org {index + 1:02d}", OrgKind.COUNTY_LEVEL, None)
        head = FIRST_HEAD + index
        await services.people.seen(head, f"head {index + 1}", None, "zh-hans", private=True)
        await services.membership.memberships.grant(org.id, head, Role.ORG_ADMIN, COUNTY_ADMIN, now)
        orgs.append(org.id)
    campaign = await services.visits.create_campaign(
        COUNTY_ADMIN, title, "verification before grants", now, now + timedelta(days=5), ()
    )
    rows = [
        HouseholdRow(
            index + 2,
            HouseholdDraft(
                alias=f"S{index + 1}",
                township_id=towns[index % len(towns)],
                details=HouseholdDetails(school=f"university {index % 40}", phone="13800000000"),
            ),
        )
        for index in range(households)
    ]
    await services.visits.import_households(COUNTY_ADMIN, campaign.id, rows)
    await services.visits.form_teams(COUNTY_ADMIN, campaign.id, teams=teams, org_ids=orgs)
    return campaign.id


def _labels(app) -> dict[str, str]:
    """The buttons a visitor taps, as the bot words them (the configured language)."""
    from handlers.context import group_t

    t = group_t(app.bot_data["services"])
    return {
        "met": t("visits.button_met_yes"),
        "matches": t("visits.matches_yes"),
        "skip": t("visits.button_skip"),
        "photos_done": t("visits.button_photos_done"),
        "verified": t("visits.button_outcome_verified"),
    }


def _request_class(base: type) -> type:
    """The timed request, also noting when each private chat is answered."""

    class VisitRequest(timed_request_class(base, HUB)):  # type: ignore[misc]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.to_chat: dict[int, list[float]] = {}

        async def do_request(self, url, method, request_data=None, **kwargs):
            result = await super().do_request(url, method, request_data, **kwargs)
            params = request_data.parameters if request_data is not None else {}
            chat = params.get("chat_id")
            if chat is not None and int(chat) > 0:
                self.to_chat.setdefault(int(chat), []).append(time.monotonic())
            return result

    return VisitRequest


class _Visitor:
    def __init__(self, user_id: int, fake, app, request, rng: random.Random, think: float) -> None:
        from bot.practice.emulator import UserClient

        self.user_id = user_id
        self.fake = fake
        self.app = app
        self.request = request
        self.rng = rng
        self.think = think
        self.answers: list[float] = []
        self.client = UserClient(fake, user_id, self._deliver)
        self.labels = _labels(app)

    async def _deliver(self, update: dict) -> None:
        from telegram import Update

        self.fake.discard_update(update["update_id"])
        query = update.get("callback_query")
        started = time.monotonic()
        await self.app.process_update(Update.de_json(update, self.app.bot))
        answered = [at for at in self.request.to_chat.get(self.user_id, []) if at >= started]
        if query is not None and query["id"] in self.request.answered:
            answered.append(self.request.answered[query["id"]])
        if answered:
            self.answers.append((min(answered) - started) * 1000)

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    async def photo(self, file_id: str) -> None:
        update = self.fake.user_sends(
            self.user_id, self.user_id, document={"file_name": "p.png", "mime_type": "image/png", "content": PNG}
        )
        message = update["message"]
        del message["document"]
        message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 320, "height": 320}]
        await self._deliver(update)

    async def file(self, household_ids: list[int]) -> None:
        from handlers.visits.buttons import HouseholdChoice, HouseholdTap

        await self.client.send("/start")
        for household_id in household_ids:
            await self.pause()
            await self.client.tap_data(
                HouseholdTap(household=household_id, action=HouseholdChoice.START).pack(), forge=True
            )
            rows = (self.client.last_reply().reply_markup or {}).get("inline_keyboard", [])
            if self.labels["met"] not in {button["text"] for row in rows for button in row}:
                continue  # the pair-mate has it (or filed it already): the next one
            for key in ("met", "matches", "skip"):
                await self.pause()
                await self.client.tap(self.labels[key])
            await self.pause()
            await self.client.send_location(27.0 + self.rng.random() / 10, 114.0 + self.rng.random() / 10)
            for number in (1, 2):
                await self.pause()
                await self.photo(f"h{household_id}p{number}")
            for key in ("photos_done", "verified"):
                await self.pause()
                await self.client.tap(self.labels[key])


async def bench(scale: Scale) -> dict:
    from bot.runtime.application import build_application, on_shutdown, on_startup, on_stop
    from handlers.i18n import Translator
    from handlers.live_message import flush_refreshes
    from handlers.visits.hub import post_progress, progress_text

    FakeTelegram, FakeRequest = _fake_telegram()
    fake = FakeTelegram(flood_limits=True)
    request = _request_class(FakeRequest)(fake, latency=scale.latency)
    rng = random.Random(scale.seed)
    with tempfile.TemporaryDirectory() as folder:
        config = replace(
            Config(),
            telegram=TelegramConfig(token="1:BENCH", rate_limit=True),
            storage=StorageConfig(path=str(Path(folder) / "bench.db")),
            county_admins=(COUNTY_ADMIN,),
        )
        config = replace(config, visits=replace(config.visits, reminder=""))
        app = build_application(config, request)
        services = app.bot_data["services"]
        await app.initialize()
        await on_startup(app)
        await app.start()
        try:
            fake.add_user(COUNTY_ADMIN, "county admin")
            heads = [FIRST_HEAD + index for index in range(scale.organisations)]
            for head in heads:
                fake.add_user(head, f"head {head}")
            fake.add_group(HUB, "county cadres", admins=(COUNTY_ADMIN,), members=heads)
            await services.groups.seen(HUB, "county cadres", "supergroup")
            await services.groups.bind_hub(COUNTY_ADMIN, HUB)
            campaign_id = await seed_campaign(
                services,
                households=scale.households,
                organisations=scale.organisations,
                teams=scale.teams,
                title="bench campaign",
            )
            await post_progress(app, campaign_id)
            visitors = []
            work = []
            for team in await services.visits.teams(campaign_id):
                for member in team.members:
                    mates = [m for m in team.members if m.pair == member.pair]
                    mine = [
                        h
                        for h in await services.visits.repo.households(campaign_id)
                        if h.team_id == team.id and h.pair == member.pair
                    ]
                    offset = (mates.index(member) * len(mine)) // max(1, len(mates))
                    visitor = _Visitor(member.user_id, fake, app, request, random.Random(rng.random()), scale.think)
                    visitors.append(visitor)
                    work.append(visitor.file([h.id for h in mine[offset:] + mine[:offset]]))
            started = time.monotonic()
            await asyncio.gather(*work)
            seconds = time.monotonic() - started
            await flush_refreshes(app)  # what is still coalescing is shown now
            progress = await services.visits.progress(campaign_id)
            shown = fake.bot_messages(HUB)[-1].text or ""
            expected = progress_text(Translator("zh-Hans", services.clock, config.zone), progress)
            recorded = await services.db.fetch_value("SELECT COUNT(*) FROM visits WHERE status = 'submitted'")
            duplicates = await services.db.fetch_value(
                "SELECT COUNT(*) FROM (SELECT household_id FROM visits GROUP BY household_id HAVING COUNT(*) > 1)"
                " AS repeated"
            )
        finally:
            await app.stop()
            await on_stop(app)
            await on_shutdown(app)
            await app.shutdown()
    answers = [answer for visitor in visitors for answer in visitor.answers]
    return {
        "bench": "visits",
        "households": scale.households,
        "teams": len(progress.teams),
        "visitors": len(visitors),
        "visits_recorded": recorded,
        "duplicates": duplicates,
        "hub_msgs_per_min_max": _max_per_window(request.group_messages, 60.0),
        "progress_matches_db": shown.replace(" ", "") == _plain(expected),
        "step_answer_ms": {"p50": round(_percentile(answers, 0.5)), "p99": round(_percentile(answers, 0.99))},
        "steps": len(answers),
        "api_latency_ms": round(scale.latency * 1000),
        "seconds": round(seconds, 1),
    }


def _plain(html_text: str) -> str:
    """The fake stores the rendered text: the catalog's HTML without its tags, spaces aside."""
    return html_text.replace("<b>", "").replace("</b>", "").replace(" ", "")


def run(latency: float, *, scale: Scale | None = None) -> dict:
    return asyncio.run(bench(replace(scale or Scale(), latency=latency)))
