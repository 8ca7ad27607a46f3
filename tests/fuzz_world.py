"""A small county for the fuzz tests (tests/test_fuzz_*.py): every role, a bound group with a
published activity (and one that has ended), wishes in each state, the hub with a live auction and
a reminder, so that forged input reaches each handler's real checks rather than stopping at
"nothing here".

One `FuzzWorld` lives for a whole test function: building it takes about a second, an example
then costs a millisecond or two. Each example's input goes through the production Application on
the strict fake Telegram; `check` tells what went wrong with it: an exception that reached the
error handler (other than a rule's refusal), the generic apology, a tap left unanswered, or no
answer at all. (A Bot API call that fails is not one: the bot may ask Telegram and take a refusal
as the answer, as `/start bind_<chat>` does for a chat it does not know.)
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from bot.domain.activities import ActivityDraft
from bot.domain.auction import LotSelection, SessionDraft
from bot.domain.flood import FloodControl, FloodRules
from bot.domain.people import LANGUAGES
from bot.domain.wishes import WishDraft
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind, Role
from bot.model.sunshine import ChildDraft, Support
from bot.model.wish import PrivateDetails, WishCategory
from bot.practice.emulator import FakeTelegram, UserClient
from handlers.activities import publish, send_due_summaries
from handlers.auction import auction_tick, settle
from handlers.flood import FLOOD
from handlers.i18n import translate
from tests.fuzz_funds import seed_fuzz_funds
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness, test_config
from tests.visits_fuzz import seed_visit_campaigns

ADMIN = COUNTY_ADMIN_ID
LI = 300001  # the township's and its village branch's org admin, admin of the township's group
ZHOU = 300002  # a cadre of the township
TEACHER = 300003  # the school's org admin, who collects wishes
DONOR = 300004  # a cadre of a county-level organisation, who claims wishes
VOLUNTEER = 300005  # in the township's group, in no organisation
OUTSIDER = 300009  # in no group and no organisation
PEOPLE = {
    ADMIN: "县管理员",
    LI: "李老师",
    ZHOU: "周干事",
    TEACHER: "王老师",
    DONOR: "张书记",
    VOLUNTEER: "小刘",
    OUTSIDER: "路人",
}
GROUP = -100100
HUB = -100900
STRANGE_GROUP = -100777  # a group the bot is in, bound to nothing, where only the volunteer is
# Who is in which group (the private chats aside): a tap or a message comes only from a member.
MEMBERS = {
    GROUP: (LI, ZHOU, VOLUNTEER),
    HUB: (ADMIN, LI, ZHOU, TEACHER, DONOR),
    STRANGE_GROUP: (VOLUNTEER,),
}
SEATS = tuple((user_id, user_id) for user_id in PEOPLE) + tuple(
    (user_id, chat_id) for chat_id, members in MEMBERS.items() for user_id in members
)  # (person, chat) pairs someone can act from
PRIVATE = PrivateDetails(real_name="王小明", guardian_phone="13800138000", address="城关镇幸福路 1 号", notes="")

# CI runs the fixed budget; `LEAGUE_FUZZ_SCALE=10 pytest tests/test_fuzz_*.py` runs ten times as
# many examples (the same first ones, then more) for a deeper search before a release. The
# suite's PostgreSQL pass runs a fifth (the first ones): the input handling is the same on both
# engines, and each example's statements take ~5x as long over a socket.
SCALE = max(0.01, float(os.environ.get("LEAGUE_FUZZ_SCALE", "1")))


def scaled(examples: int) -> int:
    """A fuzz test's example budget at this run's SCALE."""
    return max(1, int(examples * SCALE))


# Every fuzz test's settings (each adds its own max_examples): the same examples on every run,
# no deadline (CI machines vary), no shrinking (the world changes as examples run, so a shrunk
# example would not fail the same way; each failure is reported with the input that showed it).
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)

# ---- what the fuzzers type -------------------------------------------------------------------------
NASTY_TEXTS = (
    "9999-12-31 23:59",
    "9999-12-31 22:00",
    "9999-12-31",
    "00010101",
    "99991231",
    "0001-01-01 00:00",
    "2100-12-31 23:59",
    "2101-01-01 00:00",
    "1999-12-31 23:59",
    "2026-02-30 10:00",
    "明天 25:61",
    "每天 24:00",
    "每月32日 10:00",
    "每周八 10:00",
    "3小时",
    "9999小时",
    "99999999999999999999小时",
    "0小时",
    "0.0001小时",
    "1e309",
    "1e99999",
    "1e999999999",
    "9" * 5000,
    "99999999999小时",
    "nan",
    "inf",
    "-1",
    "0",
    "-0",
    "3.5",
    "9007199254740991",
    "9007199254740992",
    "9223372036854775808",
    "99999999999999999999",
    "-99999999999999999999",
    "²",
    "١٢",
    "１２",
    "٣٠ 人",
    "约 99999999999999999999 人",
    "🎉",
    "👍🏽" * 50,
    "\u200b",
    " ",
    "A" * 5000,
    "中" * 5000,
    "<b>x</b>",
    "&amp; <",
    "@",
    "@" + "a" * 40,
    "=1+1",
    "W99999999999999999999",
    "A99999999999999999999",
    "W²",
    "A0",
    "o99999999999999999999",
    "v-1",
    "+86 138 0013 8000",
    "12:00-13:00",
    "每周一 09:00 9999-12-31",
    "/cancel",
)
DATE_PIECES = ("9999-12-31", "0001-01-01", "2026-12-31", "明天", "今天", "12-31", "2100-12-31", "00010101")
TIME_PIECES = ("23:59", "00:00", "24:00", "99:99", "22:00", "3小时", "")
# The likeliest to break first: Hypothesis draws early entries of a list more often.
ODD_DIGITS = ("99999999999999999999", "²", "9007199254740992", "-1", "١٢", "１２", "9007199254740991", "0", "", "00")


@st.composite
def mangled(draw, value: str) -> str:
    """A real value with its numbers swapped for odd ones (`w12` → `w²`, `o3-v1` → `o3-v-1`),
    or cut short: what a forger edits first."""
    numbers = re.findall(r"\d+", value)
    if not numbers or draw(st.integers(0, 5)) == 0:
        return value[: draw(st.integers(0, max(0, len(value) - 1)))]
    target = draw(st.sampled_from(numbers))
    return value.replace(target, draw(st.sampled_from(ODD_DIGITS)), 1)


def nasty_text(hints: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Typed text that broke or nearly broke parsers, built up from its pieces, plus `hints`."""
    return st.one_of(
        st.sampled_from(NASTY_TEXTS),
        st.builds(
            lambda day, time: f"{day} {time}".strip(), st.sampled_from(DATE_PIECES), st.sampled_from(TIME_PIECES)
        ),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.builds(
            lambda n, unit: f"{n}{unit}",
            st.integers(-(2**65), 2**65),
            st.sampled_from(("小时", "分钟", "人", "元", "天")),
        ),
        st.text(min_size=1, max_size=60).filter(str.strip),
        st.sampled_from(hints or ("x",)),
    )


# What the bot must never answer: the generic apology of handlers/errors.py, in any language.
APOLOGY_KEY = "common.internal_error"

# The Bot API calls by which the bot answers someone.
ANSWERS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "answercallbackquery",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "setmessagereaction",
        "deletemessage",
    }
)


@dataclass
class FuzzWorld:
    harness: Harness
    orgs: dict[str, int]
    activity_id: int
    ended_activity_id: int
    wish_ids: list[int]
    session_id: int
    clients: dict[int, UserClient] = field(default_factory=dict)
    apologies: frozenset[str] = frozenset()
    # The /start parameter of a check-in QR code for an activity open now, with a radius (#19).
    qr_payload: str = ""

    @property
    def fake(self) -> FakeTelegram:
        return self.harness.fake

    @property
    def services(self):
        return self.harness.services

    def client(self, user_id: int) -> UserClient:
        return self.clients[user_id]

    def anchor(self, chat_id: int) -> int:
        """The newest bot message in that chat, to hang a forged tap on."""
        message = self.fake.last_bot_message(chat_id)
        return 1 if message is None else message.message_id  # none: Telegram's inaccessible message

    async def tap(self, user_id: int, chat_id: int, data: str) -> list[str]:
        """A forged tap of `data` on the newest bot message there; what went wrong, if anything."""
        before = len(self.fake.calls)
        update = self.fake.user_taps(user_id, chat_id, self.anchor(chat_id), data, forge=True)
        query_id = update["callback_query"]["id"]
        await self.harness.deliver(update)
        problems = self.check(before)
        if query_id in self.fake.unanswered_callback_queries():
            problems.append("the tap was never answered")
        return problems

    async def send(self, user_id: int, text: str, chat_id: int | None = None, *, quiet_ok: bool = False) -> list[str]:
        """`text` from that person (private chat by default); what went wrong, if anything.
        `quiet_ok`: silence is a fine answer (plain text in a group)."""
        before = len(self.fake.calls)
        chat = user_id if chat_id is None else chat_id
        update = self.fake.user_sends(user_id, chat, text)
        await self.harness.deliver(update)
        problems = self.check(before, quiet_ok=quiet_ok)
        return problems

    def check(self, before: int, *, quiet_ok: bool = False) -> list[str]:
        problems = [f"{type(error).__name__}: {error}" for error in self.harness.errors]
        self.harness.errors.clear()
        calls = self.fake.calls[before:]
        for method, params in calls:
            text = str(params.get("text", ""))
            if text and any(text.startswith(apology[:20]) for apology in self.apologies):
                problems.append(f"the generic apology via {method}")
        if not quiet_ok and not any(method.lower() in ANSWERS for method, _ in calls):
            problems.append("no answer at all")
        return problems

    run: Callable[[Awaitable], object] = asyncio.run  # replaced by the world's own loop

    def callback_data_seen(self) -> set[str]:
        """Every button payload the bot has sent so far, in any chat."""
        seen: set[str] = set()
        for chat_id in (*PEOPLE, *MEMBERS):
            for message in self.fake.bot_messages(chat_id):
                seen.update(data for data in message.callback_data() if data)
        return seen


@contextmanager
def running_world(tmp_path: Path) -> Iterator[FuzzWorld]:
    """The world on its own event loop, so that Hypothesis's (synchronous) examples can each run
    a step of it with `world.run(...)` while the bot and its database stay up between them."""
    with asyncio.Runner() as runner:
        harness = runner.run(started_harness(tmp_path))
        try:
            world = runner.run(build_world(harness))
            world.run = runner.run
            yield world
        finally:
            try:
                runner.run(settle(harness.app))
                runner.run(harness.stop())
            finally:
                # Closed even when stopping failed: an open aiosqlite thread would hang the run.
                runner.run(harness.services.close())


async def started_harness(tmp_path: Path) -> Harness:
    # No flood limits: thousands of answers go to three groups in a few seconds, and without the
    # production rate limiter (off in tests) Telegram's 429 would reach the error handler.
    fake = FakeTelegram(flood_limits=False)
    harness = Harness(test_config(tmp_path), fake, FakeClock())
    await harness.start()
    # One person sends thousands of commands here: the per-person flood control (tested in
    # tests/test_flood.py) would rightly hold most of them back before any parser ran.
    harness.app.bot_data[FLOOD] = FloodControl(
        harness.clock, FloodRules(repeat_seconds=0, group_burst=10**9, private_burst=10**9)
    )
    return harness


async def build_world(harness: Harness) -> FuzzWorld:
    fake = harness.fake
    services = harness.services
    clients = {user_id: harness.user(user_id, name) for user_id, name in PEOPLE.items()}
    for user_id, name in PEOPLE.items():
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    orgs = {}
    for name, kind in (
        ("城关镇团委", OrgKind.TOWNSHIP),
        ("县第一小学", OrgKind.SCHOOL),
        ("县教育局团委", OrgKind.COUNTY_LEVEL),
    ):
        orgs[name] = (await services.orgs.create(ADMIN, name, kind, None)).id
    village = await services.orgs.create(ADMIN, "第一村团支部", OrgKind.VILLAGE_BRANCH, orgs["城关镇团委"])
    orgs[village.name] = village.id
    for user_id, org, role in (
        (LI, "城关镇团委", Role.ORG_ADMIN),
        (LI, "第一村团支部", Role.ORG_ADMIN),  # two organisations: conversations ask which one
        (ZHOU, "城关镇团委", Role.CADRE),
        (TEACHER, "县第一小学", Role.ORG_ADMIN),
        (DONOR, "县教育局团委", Role.CADRE),
    ):
        await services.membership.memberships.grant(orgs[org], user_id, role, ADMIN, harness.clock.now())
    await harness.group_with_bot(GROUP, "城关镇志愿者群", admins=(LI,), members=MEMBERS[GROUP])
    await services.groups.bind_org(ADMIN, GROUP, orgs["城关镇团委"], is_chat_admin=True)
    await harness.group_with_bot(HUB, "团县委工作群", admins=(ADMIN,), members=MEMBERS[HUB])
    fake.set_admin(HUB, fake.bot_id)  # it pins the auction board there
    await services.groups.bind_hub(ADMIN, HUB)
    await harness.group_with_bot(STRANGE_GROUP, "别的群", members=MEMBERS[STRANGE_GROUP])

    now = harness.clock.now()
    # One activity over by the time the fuzzing starts (its summary asks the served number), one
    # ahead; made while both are ahead, since the domain refuses an activity in the past.
    ended = await _activity(harness, orgs["城关镇团委"], now + timedelta(minutes=10), "环境整治", hours=1)
    activity = await _activity(harness, orgs["城关镇团委"], now + timedelta(days=2), "周六学业辅导")
    wish_ids = [await _wish(harness, orgs["县第一小学"], index) for index in range(4)]
    # W0001 claimed by the donor's organisation; the others open, lots of a live auction.
    assert await services.wishes.claim(DONOR, orgs["县教育局团委"], wish_ids[0], now, deadline=now + timedelta(days=14))
    session = await services.auction.create(
        ADMIN,
        SessionDraft(
            title="冬季微心愿认领会",
            starts_at=now + timedelta(minutes=1),
            duration_minutes=240,
            selection=LotSelection(),
            cap_per_org=None,
            cap_per_person=None,
            wave_size=None,
            wave_every_minutes=None,
        ),
    )
    await seed_visit_campaigns(harness, orgs, ADMIN, DONOR)
    harness.clock.moment = session.starts_at
    await auction_tick(harness.app)
    wish_ids += [await _wish(harness, orgs["县第一小学"], index) for index in range(4, 6)]  # lots for a new auction
    harness.clock.advance(hours=3)
    await send_due_summaries(harness.app)
    await auction_tick(harness.app)
    # Sunshine Home: two children of the school (C0001, C0002) paired with the volunteer (P0001,
    # P0002, active: logging a contact asks which).
    for alias, support in (("小华", Support.TUTORING), ("小军", Support.COUNSELLING)):
        child = await services.sunshine.add(TEACHER, ChildDraft(orgs["县第一小学"], alias, "五年级", ("数学",), False))
        pair = await services.sunshine.propose(TEACHER, child.id, VOLUNTEER, support, 7)
        await services.sunshine.answer(VOLUNTEER, pair.id, True)
    await harness.send_queued()
    await seed_fuzz_funds(services, ADMIN, orgs["城关镇团委"])
    qr_payload = await _qr_activity(harness, orgs["县第一小学"])
    apologies = frozenset(translate(language, APOLOGY_KEY) for language in LANGUAGES)
    world = FuzzWorld(
        harness=harness,
        orgs=orgs,
        activity_id=activity,
        ended_activity_id=ended,
        wish_ids=wish_ids,
        session_id=session.id,
        clients=clients,
        apologies=apologies,
        qr_payload=qr_payload,
    )
    for user_id in PEOPLE:
        await clients[user_id].send("/start")  # every private chat has a bot message to tap on
    await tour(world)
    world.check(0, quiet_ok=True)
    world.harness.errors.clear()
    return world


# Commands that leave buttons on screen, so that the fuzzers can start from real payloads.
TOUR = (
    (ADMIN, "/lang"),
    (ADMIN, "/stats"),
    (ADMIN, "/deeds"),
    (ADMIN, "/reminders"),
    (ADMIN, "/auction"),
    (ADMIN, "/wish W0002"),
    (TEACHER, "/wish W0003"),
    (DONOR, "/wish W0001"),
    (DONOR, "/auction"),
    (LI, "/activities"),
    (LI, "/attendance A0002"),
    (LI, "/reminders"),
    (VOLUNTEER, "/me"),
    (VOLUNTEER, "/join"),
    (VOLUNTEER, "/start join_1"),
    (TEACHER, "/child C0001"),
)


async def tour(world: FuzzWorld) -> None:
    for user_id, text in TOUR:
        await world.client(user_id).send(text)
        if text.startswith("/start join_"):
            await world.client(user_id).tap("提交申请")
    await world.client(ADMIN).send("/cancel")


async def _wish(harness: Harness, org_id: int, index: int) -> int:
    draft = WishDraft(
        collector_org_id=org_id,
        alias=f"小{index}",
        grade="三年级",
        text=f"心愿{index}号",
        category=WishCategory.SPORTS,
        value_yuan=80 + index,
        consent=True,
        private=PRIVATE,
    )
    return (await harness.services.wishes.add(TEACHER, draft)).id


async def _activity(harness: Harness, org_id: int, starts_at, title: str, hours: int = 3) -> int:
    draft = ActivityDraft(
        org_id=org_id,
        title=title,
        category=Category.TUTORING,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        place=Place("第一村村委会"),
        slots=3,
        expected_served=30,
        counts_as_deed=True,
        also_hub=False,
    )
    activity = await harness.services.activities.create(LI, draft)
    await publish(harness.app, activity)
    return activity.id


async def _qr_activity(harness: Harness, org_id: int) -> str:
    """An activity open for check-in now, with a place on the map (a QR scan asks for a location),
    in an organisation without a group; its QR code's /start parameter."""
    starts_at = harness.clock.now() + timedelta(minutes=10)
    draft = ActivityDraft(
        org_id=org_id,
        title="广场义诊",
        category=Category.CLINIC,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        place=Place("村小广场", 25.04, 117.48, 200),
        slots=3,
        expected_served=30,
        counts_as_deed=False,
        also_hub=False,
    )
    activity = await harness.services.activities.create(ADMIN, draft)
    issued = await harness.services.records.qr.code(ADMIN, activity.code)
    return issued.ticket.payload()


class Findings:
    """What went wrong, by kind, with the first input that showed it: every distinct problem is
    reported at the end, so one run lists them all rather than stopping at the first."""

    def __init__(self) -> None:
        self.by_problem: dict[str, str] = {}
        self.examples = 0

    def add(self, what: str, problems: list[str]) -> None:
        self.examples += 1
        for problem in problems:
            self.by_problem.setdefault(problem[:300], what[:300])

    def report(self) -> str:
        return "\n".join(f"{problem}\n    after {what}" for problem, what in sorted(self.by_problem.items()))
