"""`league-bot bench rush`: the real `league-bot run` process under an auction rush, end to end.

Three processes on 127.0.0.1, none of them sharing an event loop:
- this one serves the emulator (bot/practice/emulator) over HTTP with a round trip on every
  Bot API call (50 ms by default), and watches every call through the server's observer;
- the bot: `python -m bot run --config …`, long polling, exactly as in production; or with
  `mode="webhook"` (`league-bot bench rush --mode webhook`), the emulator pushes every update
  through the reverse proxy to the bot's webhook (bot/practice/bench/rush_webhook.py), the
  baseline's too;
- the load: `python -m bot.practice.bench.rush load …`, which makes the taps (in batches every
  10 ms, through the emulator's control endpoint) at the offered rate of each step.

The county: a hub, 44 organisations, 700 cadres, a live session of 500 lots (the rush) and
one of 800 (the browsing scenario). Every cadre first opens a private browsing page from the
board's deep link. Then:
1. browsing: 160 cadres open the second session's page and, at a person's pace (a tap every
   2-4 s), turn pages and claim from it: the winner's notice after the toast, and a page turn
   from the tap to the edit that shows it;
2. the rush: claim taps (and some page turns) from the private pages at 100, 200, 400, 800
   and 1,600 taps a second, 10 s each: per step, taps answered per second, tap-to-answer p50
   and p99, 429s, "query is too old", taps shed (never answered), the bot's CPU per answer.
Then the bot is stopped (SIGTERM) and the database checked: double claims, cap violations,
the board against the database. Last, a bare PTB application (same transport and round
trip, a handler that only answers) goes through the same steps: `baseline_peak_per_s`.

One JSON line; timings are printed, never asserted (tests check the keys and correctness).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from bot.practice.bench.common import add_lot_wishes
from bot.practice.bench.rush_webhook import Front, delivery_figures

TOKEN = "4242:RUSH-BENCH"
HUB = -5_000_001
COUNTY_ADMIN = 1
FIRST_CADRE = 10_000
CAP_PER_ORG = 15
SCHOOLS = 24
PAGE_TURN_SHARE = 0.15  # of the rush's taps; the rest are claims
BATCH_SECONDS = 0.01  # the load sends its taps in batches this far apart
DRAIN_SECONDS = 16.0  # after the last tap: every tap is answered, or too old to be
QUIET_SECONDS = 2.0  # no Bot API call for this long: the bot has settled
SETTLE_LIMIT_SECONDS = 30.0
BASELINE_CONCURRENCY = 32  # the bare application's best peak on this machine (16, 24, 32, 64, 256 tried)


@dataclass(frozen=True)
class Scale:
    lots: int = 500
    browse_lots: int = 800
    organisations: int = 44
    cadres: int = 700
    browsers: int = 160
    steps: tuple[int, ...] = (100, 200, 400, 800, 1600)
    step_seconds: float = 10.0
    browse_seconds: float = 30.0
    round_trip: float = 0.05
    baseline_concurrency: int = BASELINE_CONCURRENCY  # 0: no bare application
    logs: str | None = None  # a folder to keep the processes' logs in
    profile: str | None = None  # a file for the bot's cProfile statistics
    quiet_seconds: float = QUIET_SECONDS  # no Bot API call for this long: the bot has settled
    # The bot's [telegram] settings under test; None keeps the configured defaults.
    max_concurrent_updates: int | None = None
    callback_max_wait_seconds: float | None = None
    mode: str = "polling"  # or "webhook": Telegram (the emulator) pushes, through the proxy
    webhook_connections: int = 100  # setWebhook's max_connections (Telegram allows 1-100)

    def __post_init__(self) -> None:
        if self.mode not in ("polling", "webhook"):
            raise ValueError(f"bench rush: mode is polling or webhook, not {self.mode!r}")


# ---- what the emulator saw ------------------------------------------------------------------------
@dataclass
class Recorder:
    """Every call the bot made (and every tap the load made), with its time; filled from the
    emulator's request threads (list.append is atomic)."""

    # query id -> (time, user, data, message id)
    taps: dict[str, tuple[float, int, str, int]] = field(default_factory=dict)
    # query id -> (time, status, the toast's text or the error's description)
    answers: dict[str, tuple[float, int, str]] = field(default_factory=dict)
    messages: list[tuple[float, str, int, int, int, str]] = field(default_factory=list)
    errors: list[tuple[float, str, int, str]] = field(default_factory=list)
    last_call: float = 0.0
    wall_of_hub_edit: float = 0.0

    def __call__(self, what: str, params: dict, status: int, response: dict) -> None:
        now = time.monotonic()
        if what == "_fake/user_taps":
            if status == 200:
                query = response["result"]["callback_query"]
                self.taps[query["id"]] = (now, query["from"]["id"], query["data"], int(params["message_id"]))
            return
        self.last_call = now
        if status != 200:
            self.errors.append((now, what, status, str(response.get("description", ""))))
        if what == "answerCallbackQuery":
            text = str(params.get("text") or "") if status == 200 else str(response.get("description", ""))
            self.answers.setdefault(str(params.get("callback_query_id")), (now, status, text))
        elif what in ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"):
            chat = int(params.get("chat_id", 0))
            result = response.get("result") if status == 200 else None
            message_id = result.get("message_id", 0) if isinstance(result, dict) else int(params.get("message_id", 0))
            markup = str(params.get("reply_markup") or "")
            self.messages.append((now, what, status, chat, message_id, markup))
            if chat == HUB and what == "editMessageText" and status == 200:
                self.wall_of_hub_edit = time.time()


# ---- the county -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class County:
    rush_session: int
    browse_session: int
    rush_lots: list[int]
    browse_lots: list[int]
    cadres: list[int]
    org_of: dict[int, int]


async def seed(db_path: Path, scale: Scale) -> County:
    from bot.domain.auction import LotSelection, SessionDraft
    from bot.domain.clock import SystemClock
    from bot.domain.config import Config, StorageConfig
    from bot.domain.services import Services
    from bot.model.organisation import OrgKind, Role
    from handlers.i18n import plain_text_renderer
    from storage.db import Database

    config = replace(Config(), storage=StorageConfig(path=str(db_path)), county_admins=(COUNTY_ADMIN,))
    db = Database(config.storage.path)
    await db.open()
    try:
        services = Services.build(config, db, SystemClock(), render=plain_text_renderer(config.language))
        now = services.clock.now()
        await services.people.seen(COUNTY_ADMIN, "county admin", None, "zh-hans", private=True)
        await services.groups.seen(HUB, "county hub", "group")
        await services.groups.bind_hub(COUNTY_ADMIN, HUB)
        orgs = services.orgs.orgs
        schools = [await orgs.add(f"school {i}", OrgKind.SCHOOL, None, 0, now) for i in range(SCHOOLS)]
        donors = [
            await orgs.add(f"organisation {i}", OrgKind.COUNTY_LEVEL, None, 3, now) for i in range(scale.organisations)
        ]
        cadres = list(range(FIRST_CADRE, FIRST_CADRE + scale.cadres))
        org_of = {}
        async with services.db.transaction():
            for index, user_id in enumerate(cadres):
                await services.people.seen(user_id, f"cadre {user_id}", None, "zh-hans", private=True)
                org_of[user_id] = donors[index % len(donors)].id
                await services.membership.memberships.grant(org_of[user_id], user_id, Role.CADRE, COUNTY_ADMIN, now)

        async def session(title: str, count: int, collectors: list) -> tuple[int, list[int]]:
            lots = await add_lot_wishes(services, COUNTY_ADMIN, collectors, count)
            created = await services.auction.create(
                COUNTY_ADMIN,
                SessionDraft(
                    title=title,
                    starts_at=services.clock.now(),
                    duration_minutes=60,
                    selection=LotSelection(collector_org_ids=tuple(c.id for c in collectors)),
                    cap_per_org=CAP_PER_ORG,
                ),
            )
            return created.id, lots

        half = SCHOOLS // 2
        browse_session, browse_lots = await session("browsing", scale.browse_lots, schools[half:])
        rush_session, rush_lots = await session("rush", scale.lots, schools[:half])
    finally:
        await db.close()
    return County(rush_session, browse_session, rush_lots, browse_lots, cadres, org_of)


def world(fake, county: County) -> None:
    fake.add_user(COUNTY_ADMIN, "county admin")
    for user_id in county.cadres:
        fake.add_user(user_id, f"cadre {user_id}")
    fake.add_group(HUB, "county hub", admins=(COUNTY_ADMIN,), members=county.cadres, bot_is_admin=True)


# ---- the processes --------------------------------------------------------------------------------
def _python() -> list[str]:
    return [sys.executable]


def _env() -> dict[str, str]:
    here = str(Path(__file__).resolve().parents[3])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{here}{os.pathsep}{path}" if path else here, "TELEGRAM_BOT_TOKEN": TOKEN}


def start_bot(folder: Path, server, scale: Scale, db_path: Path, front: Front | None = None) -> subprocess.Popen:
    telegram = [f'base_url = "{server.base_url}"', f'base_file_url = "{server.base_file_url}"']
    if scale.max_concurrent_updates is not None:
        pool = max(128, scale.max_concurrent_updates * 2)
        telegram += [f"max_concurrent_updates = {scale.max_concurrent_updates}", f"connection_pool_size = {pool}"]
    if scale.callback_max_wait_seconds is not None:
        telegram.append(f"callback_max_wait_seconds = {scale.callback_max_wait_seconds}")
    config = folder / "config.toml"
    config.write_text(
        f'county_admins = [{COUNTY_ADMIN}]\nlog_level = "WARNING"\n'
        "[telegram]\n" + "\n".join(telegram) + "\n"
        f'[storage]\npath = "{db_path}"\n'
        '[reminders]\nquiet_start = ""\nquiet_end = ""\nweekly_digest = ""\n'
        '[stars]\nranking = ""\n[deeds]\nbehind_reminders = ""\n'
        + (front.config_section(scale.webhook_connections) if front is not None else ""),
        encoding="utf-8",
    )
    profiler = ["-m", "cProfile", "-o", scale.profile] if scale.profile else []
    return subprocess.Popen(
        [*_python(), *profiler, "-m", "bot", "run", "--config", str(config)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "bot.log", "w"),  # noqa: SIM115 - closed with the process
    )


def stop(process: subprocess.Popen, timeout: float = 30.0) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.monotonic(), cpu_seconds(self.pid)))
            self.done.wait(0.25)

    def at(self, moment: float) -> float:
        before = [cpu for stamp, cpu in self.samples if stamp <= moment]
        return before[-1] if before else 0.0


def run_load(server, plan: dict) -> list[dict]:
    """The load process: makes the planned taps; returns when each step began and ended."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(plan, handle)
    try:
        done = subprocess.run(
            [*_python(), "-m", "bot.practice.bench.rush", "load", handle.name, server.root_url],
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    return json.loads(done.stdout.strip().splitlines()[-1])["steps"]


def progress(what: str, since: float) -> None:
    print(f"bench rush: {what} ({time.monotonic() - since:.1f} s)", file=sys.stderr, flush=True)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench rush: timed out waiting for {what}")
        time.sleep(0.05)


def settle(recorder: Recorder, since: float, quiet: float = QUIET_SECONDS) -> None:
    """Wait until every tap since `since` is answered or too old, then for a quiet spell."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        waiting = [q for q, tap in list(recorder.taps.items()) if tap[0] >= since and q not in recorder.answers]
        if not waiting:
            break
        time.sleep(0.1)
    limit = time.monotonic() + SETTLE_LIMIT_SECONDS
    while time.monotonic() - recorder.last_call < quiet and time.monotonic() < limit:
        time.sleep(0.1)


# ---- the figures ----------------------------------------------------------------------------------
def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _max_per_window(stamps: list[float], window: float) -> int:
    stamps, best, first = sorted(stamps), 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def step_figures(
    recorder: Recorder, steps: list[dict], cpu: CpuSampler | None, end: float, emulator: CpuSampler | None = None
) -> list[dict]:
    taps_made, answers = dict(recorder.taps), dict(recorder.answers)  # the server may still be writing
    figures = []
    for index, step in enumerate(steps):
        start, stop_at = step["start"], step["end"]
        until = steps[index + 1]["start"] if index + 1 < len(steps) else end
        taps = {q: tap for q, tap in taps_made.items() if start <= tap[0] < stop_at and tap[2].startswith("a")}
        answered, too_old = [], 0
        for query, tap in taps.items():
            answer = answers.get(query)
            if answer is None:
                continue
            if answer[1] == 200:
                answered.append((answer[0] - tap[0]) * 1000)
            elif "too old" in answer[2]:
                too_old += 1
        in_window = sum(1 for at, status, _ in answers.values() if status == 200 and start <= at < until)
        # The step's throughput: answers the bot gave while the step lasted, whichever tap.
        served = sum(1 for at, status, _ in answers.values() if status == 200 and start <= at < stop_at)
        spent = (cpu.at(until) - cpu.at(start)) if cpu is not None else 0.0
        figures.append(
            {
                "offered": step["offered"],
                "taps": len(taps),
                "answered_per_s": round(served / (stop_at - start), 1),
                "p50_ms": round(_percentile(answered, 0.5)),
                "p99_ms": round(_percentile(answered, 0.99)),
                "http_429": sum(
                    1 for at, _, status, _ in list(recorder.errors) if status == 429 and start <= at < until
                ),
                "query_too_old": too_old,
                "shed": len(taps) - len(answered) - too_old,
                "cpu_ms_per_tap": round(spent * 1000 / in_window, 2) if in_window and cpu is not None else None,
                # The emulator's own share of a core (it and the load share the machine with the bot).
                "emulator_cpu": round((emulator.at(stop_at) - emulator.at(start)) / (stop_at - start), 2)
                if emulator is not None
                else None,
            }
        )
    return figures


def browse_figures(recorder: Recorder, county: County, start: float, end: float) -> dict:
    """Winner's notice after the toast; a page turn from the tap to the edit that shows it."""
    messages = [m for m in recorder.messages if m[0] >= start and m[2] == 200]
    notices: dict[tuple[int, str], float] = {}
    shows: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for at, what, _, chat, message_id, markup in messages:
        if what == "sendMessage" and chat > 0:
            for wish in re.findall(r'"ar:(\d+)"', markup):
                notices.setdefault((chat, wish), at)
        if what in ("editMessageText", "sendMessage") and chat > 0:
            for shown in re.findall(r'"(ab:\d+:r:[^"]*)"', markup):
                shows.setdefault((chat, message_id), []).append((at, shown))
    notice_delays, page_turns, lost_turns = [], [], 0
    prefix_claim, prefix_turn = f"ac:{county.browse_session}:", f"ab:{county.browse_session}:l:"
    for query, (tapped, user, data, message_id) in recorder.taps.items():
        if not start <= tapped < end:
            continue
        answer = recorder.answers.get(query)
        if data.startswith(prefix_claim) and answer is not None and answer[1] == 200:
            sent = notices.get((user, data.rsplit(":", 1)[1]))
            if sent is not None:
                notice_delays.append(max(0.0, sent - answer[0]))
        elif data.startswith(prefix_turn) and answer is not None and answer[1] == 200:
            wanted = data.replace(":l:", ":r:", 1)
            seen = [at for at, shown in shows.get((user, message_id), []) if at >= tapped and shown == wanted]
            if seen:
                page_turns.append((seen[0] - tapped) * 1000)
            elif not answer[2]:
                lost_turns += 1  # answered without "up to date", never shown
    # The message budget the scenario asks for, against Telegram's ~30 messages a second (the
    # emulator enforces it): each page turn wants an edit, each claim won a notice, besides the
    # refreshes of pages that show a lot someone else took.
    seconds = max(end - start, 1e-9)
    turns = sum(
        1 for tapped, _, data, _ in recorder.taps.values() if start <= tapped < end and data.startswith(prefix_turn)
    )
    claims = sum(
        1 for tapped, _, data, _ in recorder.taps.values() if start <= tapped < end and data.startswith(prefix_claim)
    )
    made = [m for m in messages if m[0] < end + DRAIN_SECONDS and m[3] > 0]
    budget = {
        "page_turns_per_s": round(turns / seconds, 1),
        "claims_per_s": round(claims / seconds, 1),
        "notices_per_s": round(len(notice_delays) / seconds, 1),
        "needed_per_s": round((turns + len(notice_delays)) / seconds, 1),
        "edits_per_s": round(sum(1 for m in made if m[1] != "sendMessage") / seconds, 1),
        "sends_per_s": round(sum(1 for m in made if m[1] == "sendMessage") / seconds, 1),
        "telegram_per_s": 30,
    }
    return {
        "notice_p99_s": round(_percentile(notice_delays, 0.99), 2),
        "message_budget": budget,
        "notices": len(notice_delays),
        "page_turn_ms": {"p50": round(_percentile(page_turns, 0.5)), "p99": round(_percentile(page_turns, 0.99))},
        "page_turns": len(page_turns),
        "page_turns_never_shown": lost_turns,
    }


async def database_figures(db_path: Path, county: County, board_text: str, board_wall: float) -> dict:
    from datetime import UTC, datetime

    from telegram.ext import ApplicationBuilder

    from bot.domain.config import Config, StorageConfig
    from bot.domain.services import Services
    from bot.practice.emulator import FakeRequest, FakeTelegram
    from handlers.auction import board_view
    from handlers.i18n import plain_text_renderer
    from storage.audit import AuditRepository
    from storage.db import Database

    class Fixed:
        def __init__(self, moment: float) -> None:
            self.moment = moment

        def now(self) -> datetime:
            return datetime.fromtimestamp(self.moment, UTC)

        def monotonic(self) -> float:
            return self.moment

    config = replace(Config(), storage=StorageConfig(path=str(db_path)), county_admins=(COUNTY_ADMIN,))
    db = Database(config.storage.path)
    await db.open()
    app = ApplicationBuilder().token(TOKEN).request(FakeRequest(FakeTelegram())).build()
    await app.bot.initialize()
    try:
        audit = AuditRepository(db)
        double = per_org = 0
        counts: dict[int, int] = {}
        clock = Fixed(board_wall)
        services = Services.build(config, db, clock, render=plain_text_renderer(config.language))
        app.bot_data["services"] = services
        for wish_id in county.rush_lots + county.browse_lots:
            claims = sum(1 for entry in await audit.for_subject(f"wish:{wish_id}") if entry[2] == "wish.claim")
            double += max(0, claims - 1)
        for session_id in (county.rush_session, county.browse_session):
            counts.clear()
            lots = county.rush_lots if session_id == county.rush_session else county.browse_lots
            for wish_id in lots:
                wish = await services.wishes.get(wish_id)
                if wish.claimed_by_org is not None:
                    counts[wish.claimed_by_org] = counts.get(wish.claimed_by_org, 0) + 1
            per_org += sum(count - CAP_PER_ORG for count in counts.values() if count > CAP_PER_ORG)
        matches = False
        # The board says how many minutes are left: render it as of the last edit (and a few
        # seconds before, as it was rendered before it waited for its turn to be sent).
        for back in (0, 1, 2, 3, 5, 8):
            clock.moment = board_wall - back
            expected, _ = await board_view(app, county.rush_session)
            if expected == board_text:
                matches = True
                break
        claimed = (await services.auction.board(county.rush_session, clock.now())).claimed
    finally:
        await app.bot.shutdown()
        await db.close()
    return {"double_claims": double, "cap_violations": per_org, "board_matches_db": matches, "claims_won": claimed}


# ---- the plans the load process follows ---------------------------------------------------------
def rush_plan(county: County, pages: dict[int, int], scale: Scale) -> dict:
    return {
        "kind": "rush",
        "steps": list(scale.steps),
        "seconds": scale.step_seconds,
        "session": county.rush_session,
        "lots": county.rush_lots,
        "pages": {str(user): message for user, message in pages.items()},
    }


def browse_plan(county: County, pages: dict[int, int], scale: Scale) -> dict:
    return {
        "kind": "browse",
        "seconds": scale.browse_seconds,
        "session": county.browse_session,
        "lots": county.browse_lots,
        "pages": {str(user): message for user, message in pages.items()},
    }


def open_pages(fake, recorder: Recorder, users: list[int], session_id: int, timeout: float) -> dict[int, int]:
    """Each user opens a browsing page from the board's deep link; their page's message id."""
    before = {user: len(fake.bot_messages(user)) for user in users}
    for user in users:
        fake.user_sends(user, user, f"/start auc_{session_id}")
    wait_until(lambda: all(len(fake.bot_messages(u)) > before[u] for u in users), timeout, "the browsing pages")
    return {user: fake.bot_messages(user)[before[user]].message_id for user in users}


# ---- the run ---------------------------------------------------------------------------------------
def bot_run(scale: Scale, folder: Path) -> dict:
    from bot.practice.emulator import FakeTelegram, serve

    db_path = folder / "rush.db"
    began = time.monotonic()
    county = asyncio.run(seed(db_path, scale))
    progress("county seeded", began)
    fake = FakeTelegram(flood_limits=True)
    world(fake, county)
    recorder = Recorder()
    server = serve(fake, round_trip=scale.round_trip, observer=recorder)
    front = Front(_python(), _env(), folder / "proxy.log") if scale.mode == "webhook" else None
    process = start_bot(folder, server, scale, db_path, front)
    cpu = CpuSampler(process.pid)
    cpu.start()
    emulator = CpuSampler(os.getpid())
    emulator.start()
    try:

        def board_of(session_id: int):
            link = f"auc_{session_id}"
            return next((m for m in fake.bot_messages(HUB) if link in json.dumps(m.reply_markup)), None)

        wait_until(lambda: board_of(county.rush_session) and board_of(county.browse_session), 60, "the boards")
        board = board_of(county.rush_session)
        progress("the bot is up", began)
        pages = open_pages(fake, recorder, county.cadres, county.rush_session, 30 + len(county.cadres) / 10)
        settle(recorder, time.monotonic(), scale.quiet_seconds)
        progress("every cadre has a browsing page", began)
        # 1. browsing at a person's pace
        browsers = county.cadres[: scale.browsers]
        browse_start = time.monotonic()
        if scale.browse_seconds:
            browse_pages = open_pages(fake, recorder, browsers, county.browse_session, 30 + len(browsers) / 10)
            run_load(server, browse_plan(county, browse_pages, scale))
        browse_end = time.monotonic()
        settle(recorder, browse_start, scale.quiet_seconds)
        browsing = browse_figures(recorder, county, browse_start, browse_end)
        progress("browsing done", began)
        # 2. the rush
        steps = run_load(server, rush_plan(county, pages, scale))
        settle(recorder, steps[0]["start"], scale.quiet_seconds)
        end = time.monotonic()
        progress("the rush done", began)
        pushed = delivery_figures(fake)
        if front is not None:
            # Telegram (the emulator) may still hold thousands of taps once the rush is over:
            # counted above, then no longer pushed, so that the bot settles on what it has before
            # the SIGTERM (which finishes the updates in hand; `stop_s` says how long that took).
            fake.close()
            settle(recorder, end, scale.quiet_seconds)
        stopping = time.monotonic()
        code = stop(process)
        stop_seconds = round(time.monotonic() - stopping, 1)
        cpu.done.set()
        emulator.done.set()
        log = (folder / "bot.log").read_text(encoding="utf-8", errors="replace")
        if scale.logs:
            Path(scale.logs, "bot.log").write_text(log, encoding="utf-8")
        board_now = next(m for m in fake.messages(HUB) if m.message_id == board.message_id)
        checks = asyncio.run(
            database_figures(db_path, county, board_now.raw_text or "", recorder.wall_of_hub_edit or time.time())
        )
    finally:
        if process.poll() is None:
            stop(process)
        cpu.done.set()
        if front is not None:
            front.close(stop)
        server.close()
    hub = [at for at, what, status, chat, _, _ in recorder.messages if chat == HUB and status == 200]
    return {
        "steps": step_figures(recorder, steps, cpu, end, emulator),
        "browsing": browsing,
        "hub_msgs_per_min_max": _max_per_window(hub, 60.0),
        "not_modified_errors": sum(1 for *_, text in recorder.errors if "not modified" in text.lower()),
        "http_429_total": fake.http_429,
        "bot_exit_code": code,
        "stop_s": stop_seconds,
        "bot_tracebacks": log.count("Traceback"),
        "shed_logged": len(re.findall(r"Overloaded: button taps", log)),
        **({"webhook": pushed} if front is not None else {}),
        **checks,
    }


def baseline_run(scale: Scale, folder: Path) -> list[dict]:
    from bot.practice.emulator import FakeTelegram, serve

    fake = FakeTelegram(flood_limits=True)
    users = list(range(FIRST_CADRE, FIRST_CADRE + scale.cadres))
    for user_id in users:
        fake.add_user(user_id, f"cadre {user_id}")
    recorder = Recorder()
    server = serve(fake, round_trip=scale.round_trip, observer=recorder)
    front = Front(_python(), _env(), folder / "baseline-proxy.log") if scale.mode == "webhook" else None
    pushed = []
    if front is not None:
        pushed = ["--webhook", front.webhook_url, str(front.bot_port), str(scale.webhook_connections)]
    process = subprocess.Popen(
        [
            *_python(),
            *("-m", "bot.practice.bench.rush", "baseline", server.base_url, str(scale.baseline_concurrency)),
            *pushed,
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "baseline.log", "w"),  # noqa: SIM115 - closed with the process
    )
    cpu = CpuSampler(process.pid)
    cpu.start()
    emulator = CpuSampler(os.getpid())
    emulator.start()
    try:
        first = "setWebhook" if front is not None else "getUpdates"
        wait_until(lambda: fake.count_calls(first) > 0, 30, "the bare application's first poll or webhook")
        pages = {user: 1 for user in users}
        plan = {"kind": "rush", "steps": list(scale.steps), "seconds": scale.step_seconds, "session": 1}
        steps = run_load(
            server, {**plan, "lots": list(range(1, scale.lots + 1)), "pages": {str(u): m for u, m in pages.items()}}
        )
        settle(recorder, steps[0]["start"], scale.quiet_seconds)
        end = time.monotonic()
    finally:
        stop(process)
        cpu.done.set()
        if front is not None:
            front.close(stop)
        server.close()
    emulator.done.set()
    return step_figures(recorder, steps, cpu, end, emulator)


def run(scale: Scale | None = None) -> dict:
    scale = scale or Scale()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        real = bot_run(scale, Path(folder))
        baseline = baseline_run(scale, Path(folder)) if scale.baseline_concurrency else []
    peak = max((step["answered_per_s"] for step in real["steps"]), default=0.0)
    base_peak = max((step["answered_per_s"] for step in baseline), default=0.0)
    browsing = real.pop("browsing")
    return {
        "bench": "rush",
        "mode": "webhook" if scale.mode == "webhook" else "long_polling",
        "round_trip_ms": round(scale.round_trip * 1000),
        "lots": scale.lots,
        "organisations": scale.organisations,
        "cadres": scale.cadres,
        "steps": real.pop("steps"),
        "peak_per_s": peak,
        "baseline_peak_per_s": base_peak,
        "ratio_to_baseline": round(peak / base_peak, 3) if base_peak else None,
        "double_claims": real.pop("double_claims"),
        "cap_violations": real.pop("cap_violations"),
        "board_matches_db": real.pop("board_matches_db"),
        "hub_msgs_per_min_max": real.pop("hub_msgs_per_min_max"),
        "notice_p99_s": browsing.pop("notice_p99_s"),
        "page_turn_ms": browsing.pop("page_turn_ms"),
        "message_budget": browsing.pop("message_budget"),
        "not_modified_errors": real.pop("not_modified_errors"),
        "browsing": browsing,
        **real,
        "baseline_concurrency": scale.baseline_concurrency,
        "baseline_steps": baseline,
        "scale": asdict(scale),
        "duration_s": round(time.monotonic() - started, 1),
    }


# ---- the load process -----------------------------------------------------------------------------
def load(plan_path: str, root_url: str) -> None:
    """Make the planned taps through the emulator's control endpoint, in batches."""
    import http.client
    from urllib.parse import urlsplit

    plan = json.loads(Path(plan_path).read_text())
    where = urlsplit(root_url)
    connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
    chance = random.Random(2026)
    pages = {int(user): message for user, message in plan["pages"].items()}
    users = sorted(pages)
    session, lots = plan["session"], plan["lots"]

    def post(batch: list[dict]) -> None:
        if not batch:
            return
        connection.request("POST", "/_fake/batch", body=json.dumps(batch), headers={"Content-Type": "application/json"})
        connection.getresponse().read()

    def tap(user: int, data: str) -> dict:
        kwargs = {"user_id": user, "chat_id": user, "message_id": pages[user], "callback_data": data, "forge": True}
        return {"action": "user_taps", "kwargs": kwargs}

    if plan["kind"] == "browse":
        browse(plan, pages, users, session, lots, chance, post, tap)
        return
    steps = []
    for offered in plan["steps"]:
        start = time.monotonic()
        count = int(offered * plan["seconds"])
        sent = 0
        while sent < count:
            due = min(count, int((time.monotonic() - start) * offered) + 1)
            batch = []
            for _ in range(due - sent):
                user = chance.choice(users)
                if chance.random() < PAGE_TURN_SHARE:
                    batch.append(tap(user, f"ab:{session}:l:x:{chance.randrange(5)}"))
                else:
                    wish = chance.choice(lots[:100]) if chance.random() < 0.7 else chance.choice(lots)
                    batch.append(tap(user, f"ac:{session}:{wish}"))
            post(batch)
            sent = due
            time.sleep(max(0.0, start + sent / offered - time.monotonic(), BATCH_SECONDS / 4))
        steps.append({"offered": offered, "start": start, "end": time.monotonic()})
    print(json.dumps({"steps": steps}), flush=True)


def browse(plan, pages, users, session, lots, chance, post, tap) -> None:
    """Each person taps every 2-4 s: turns a page (60%) or claims a lot (40%)."""
    start = time.monotonic()
    page = dict.fromkeys(users, 0)
    due = {user: start + chance.uniform(0, 3) for user in users}
    while True:
        now = time.monotonic()
        if now - start >= plan["seconds"]:
            break
        batch = []
        for user in users:
            if due[user] > now:
                continue
            due[user] = now + chance.uniform(2, 4)
            if chance.random() < 0.6:
                page[user] = max(0, page[user] + (1 if page[user] == 0 or chance.random() < 0.7 else -1))
                batch.append(tap(user, f"ab:{session}:l:x:{page[user]}"))
            else:
                batch.append(tap(user, f"ac:{session}:{chance.choice(lots)}"))
        post(batch)
        time.sleep(BATCH_SECONDS)
    print(json.dumps({"steps": [{"offered": 0, "start": start, "end": time.monotonic()}]}), flush=True)


# ---- the bare application ---------------------------------------------------------------------------
def baseline(base_url: str, concurrency: int, webhook: list[str] | None = None) -> None:
    """A bare PTB application that only answers taps, long polling the emulator, or taking them
    by webhook (`webhook`: the URL registered, the port to listen on, max_connections)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .concurrent_updates(concurrency)
        .connection_pool_size(max(concurrency, 256))
        .build()
    )

    async def answer(update: Update, context: object) -> None:
        assert update.callback_query is not None  # a CallbackQueryHandler's update
        await update.callback_query.answer()

    app.add_handler(CallbackQueryHandler(answer))
    if webhook:
        from bot.practice.bench.rush_webhook import SECRET, URL_PATH

        url, port, connections = webhook
        app.run_webhook(
            listen="127.0.0.1",
            port=int(port),
            url_path=URL_PATH,
            webhook_url=url,
            secret_token=SECRET,
            max_connections=int(connections),
            allowed_updates=Update.ALL_TYPES,
        )
        return
    app.run_polling(allowed_updates=Update.ALL_TYPES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.practice.bench.rush")
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load")
    loading.add_argument("plan")
    loading.add_argument("root_url")
    bare = commands.add_parser("baseline")
    bare.add_argument("base_url")
    bare.add_argument("concurrency", type=int)
    bare.add_argument("--webhook", nargs=3, metavar=("URL", "PORT", "CONNECTIONS"))
    args = parser.parse_args(argv)
    if args.command == "load":
        load(args.plan, args.root_url)
    else:
        baseline(args.base_url, args.concurrency, args.webhook)


if __name__ == "__main__":
    main()
