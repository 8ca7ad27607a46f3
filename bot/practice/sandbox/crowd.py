"""Crowds: many virtual people acting at once, so a person can feel the race.

- `auction`: N seeded cadres of other organisations (one per organisation) open the live
  session's browsing page in their private chat (`/start auc_<id>`, as the board's button does)
  and tap claim buttons that are really on their page (or on the board, when it has them), at
  a chosen pace in taps per minute for the whole crowd, until the session closes or the crowd
  is stopped. Taps on taken lots, caps reached: the bot answers them as it would anyone.
- `checkin`: N new volunteers join the organisation's group and send `签到` there, at a chosen
  pace; the bot reacts 👍 to each one it records.

Everything goes through the emulator's world (user_sends / user_taps), so the bot receives
the updates by long polling like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from dataclasses import dataclass, field

from bot.practice.sandbox.world import (
    FIRST_CROWD_VOLUNTEER_ID,
    Cadre,
    crowd_volunteer_name,
)

log = logging.getLogger(__name__)

MAX_CROWD = 200
MAX_PER_MINUTE = 1200
PAGE_WAIT_SECONDS = 10.0


class CrowdError(Exception):
    """The crowd cannot start; `code` is for the page (which words it in Chinese and English)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Crowd:
    id: int
    kind: str  # auction | checkin
    size: int
    per_minute: int
    user_ids: list[int] = field(default_factory=list)
    sent: int = 0
    finished: bool = False
    stop_reason: str = ""
    query_ids: list[str] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    task: asyncio.Task | None = None


class Crowds:
    def __init__(self, sandbox) -> None:  # noqa: ANN001 - bot.practice.sandbox.runtime.Sandbox
        self.sandbox = sandbox
        self.crowds: dict[int, Crowd] = {}
        self._ids = itertools.count(1)
        self._chance = random.Random(7)

    # ---- starting and stopping -------------------------------------------------------------------
    async def start(self, kind: str, size: int, per_minute: int) -> Crowd:
        if kind not in ("auction", "checkin"):
            raise CrowdError("unknown_kind")
        if not 1 <= size <= MAX_CROWD:
            raise CrowdError("bad_size")
        if not 1 <= per_minute <= MAX_PER_MINUTE:
            raise CrowdError("bad_pace")
        crowd = Crowd(next(self._ids), kind, size, per_minute)
        if kind == "auction":
            sessions = await self.sandbox.services.auction.live_sessions()
            if not sessions:
                raise CrowdError("no_live_auction")
            cadres = self._auction_cadres(size)
            if len(cadres) < size:
                raise CrowdError("not_enough_cadres")
            crowd.user_ids = [c.user_id for c in cadres]
            work = self._auction(crowd, sessions[0].id)
        else:
            crowd.user_ids = self._new_volunteers(size)
            work = self._checkin(crowd)
        self.crowds[crowd.id] = crowd
        crowd.task = asyncio.get_running_loop().create_task(self._run(crowd, work))
        return crowd

    async def stop(self, crowd_id: int) -> bool:
        crowd = self.crowds.get(crowd_id)
        if crowd is None or crowd.task is None or crowd.task.done():
            return False
        crowd.task.cancel()
        await asyncio.gather(crowd.task, return_exceptions=True)
        return True

    async def stop_all(self) -> None:
        for crowd_id in list(self.crowds):
            await self.stop(crowd_id)

    async def _run(self, crowd: Crowd, work) -> None:  # noqa: ANN001 - a coroutine
        try:
            await work
            crowd.stop_reason = crowd.stop_reason or "done"
        except asyncio.CancelledError:
            crowd.stop_reason = "stopped"
            raise
        except Exception:  # a crowd is a toy: log it, never take the sandbox down
            log.exception("crowd %s failed", crowd.id)
            crowd.stop_reason = "failed"
        finally:
            crowd.finished = True

    async def _paced(self, crowd: Crowd, index: int, started: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, started + index * 60.0 / crowd.per_minute - loop.time()))

    # ---- the auction crowd --------------------------------------------------------------------------
    def _auction_cadres(self, size: int) -> list[Cadre]:
        """One cadre per organisation, not of the organisations the personas stand for."""
        world = self.sandbox.world
        busy = {
            uid
            for crowd in self.crowds.values()
            if not crowd.finished and crowd.kind == "auction"
            for uid in crowd.user_ids
        }
        chosen, orgs = [], {world.org_group_org_id}
        # Non-admin cadres first (the admins are the "cadre" personas a person may pick).
        for cadre in sorted(world.cadres, key=lambda c: (c.admin, c.user_id)):
            if cadre.org_id in orgs or cadre.user_id in busy:
                continue
            chosen.append(cadre)
            orgs.add(cadre.org_id)
            if len(chosen) == size:
                break
        return chosen

    async def _auction(self, crowd: Crowd, session_id: int) -> None:
        fake = self.sandbox.fake
        services = self.sandbox.services
        for user_id in crowd.user_ids:
            fake.user_sends(user_id, user_id, f"/start auc_{session_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PAGE_WAIT_SECONDS
        while loop.time() < deadline and any(self._claim_page(u) is None for u in crowd.user_ids):
            await asyncio.sleep(0.1)
        started = loop.time()
        for index in itertools.count():
            await self._paced(crowd, index, started)
            if index % 20 == 0 and (await services.auction.get(session_id)).state != "live":
                crowd.stop_reason = "auction_closed"
                return
            user_id = crowd.user_ids[index % len(crowd.user_ids)]
            target = self._tap_target(user_id)
            if target is None:
                continue
            chat_id, message_id, data = target
            try:
                update = fake.user_taps(user_id, chat_id, message_id, data)
            except AssertionError:  # the page was edited between reading and tapping: next one
                continue
            crowd.query_ids.append(update["callback_query"]["id"])
            crowd.sent += 1

    def _claim_page(self, user_id: int):  # noqa: ANN202
        for message in reversed(self.sandbox.fake.bot_messages(user_id)):
            if any(data and data.startswith("ac:") for data in message.callback_data()):
                return message
        return None

    def _tap_target(self, user_id: int) -> tuple[int, int, str] | None:
        fake = self.sandbox.fake
        hub = self.sandbox.world.hub_chat_id
        board = fake.pinned_message(hub)
        if board is not None and self._chance.random() < 0.1:
            claims = [d for d in board.callback_data() if d.startswith("ac:")]
            if claims:
                return hub, board.message_id, self._chance.choice(claims)
        page = self._claim_page(user_id)
        if page is None:
            return None
        claims = [d for d in page.callback_data() if d.startswith("ac:")]
        return user_id, page.message_id, self._chance.choice(claims)

    # ---- the check-in crowd -------------------------------------------------------------------------
    def _new_volunteers(self, size: int) -> list[int]:
        world = self.sandbox.world
        fake = self.sandbox.fake
        users = []
        for _ in range(size):
            user_id = world.next_crowd_volunteer
            world.next_crowd_volunteer += 1
            name = crowd_volunteer_name(user_id - FIRST_CROWD_VOLUNTEER_ID + 1)
            fake.add_user(user_id, name)
            fake.add_member(world.org_chat_id, user_id)
            world.extra_names[user_id] = name
            users.append(user_id)
        return users

    async def _checkin(self, crowd: Crowd) -> None:
        fake = self.sandbox.fake
        chat_id = self.sandbox.world.org_chat_id
        started = asyncio.get_running_loop().time()
        for index, user_id in enumerate(crowd.user_ids):
            await self._paced(crowd, index, started)
            update = fake.user_sends(user_id, chat_id, "签到")
            crowd.message_ids.append(update["message"]["message_id"])
            crowd.sent += 1

    # ---- what the page shows --------------------------------------------------------------------------
    def view(self, crowd: Crowd) -> dict:
        fake = self.sandbox.fake
        if crowd.kind == "auction":
            mine = set(crowd.query_ids)
            answers = [a for a in fake.callback_answers if a["callback_query_id"] in mine]
            answered = len(answers)
            won = sum(1 for a in answers if (a.get("text") or "").startswith("🎉"))
        else:
            wanted = set(crowd.message_ids)
            messages = [m for m in fake.messages(self.sandbox.world.org_chat_id) if m.message_id in wanted]
            answered = sum(1 for m in messages if m.reactions)
            won = answered
        return {
            "id": crowd.id,
            "kind": crowd.kind,
            "size": crowd.size,
            "per_minute": crowd.per_minute,
            "sent": crowd.sent,
            "answered": answered,
            "succeeded": won,
            "running": not crowd.finished,
            "stop_reason": crowd.stop_reason,
        }

    def views(self) -> list[dict]:
        return [self.view(crowd) for crowd in self.crowds.values()]
