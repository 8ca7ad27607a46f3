"""The practice sandbox without a browser: its database guard, its address, its seed, its page API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.stats import Period
from bot.model.organisation import OrgKind
from bot.practice.sandbox.runtime import Sandbox, SandboxRefused
from bot.practice.sandbox.server import serve_page
from storage.demo_seed import SANDBOX_APPLICATION_ID, application_id

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LEAGUE_BOT_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def call(sandbox: Sandbox, path: str, body: dict | None = None) -> dict:
    """The page's API, as the page calls it (over HTTP, from another thread)."""

    def request() -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            sandbox.page_url.rstrip("/") + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    return await asyncio.to_thread(request)


async def wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def chat(sandbox: Sandbox, chat_id: int) -> list[dict]:
    return (await call(sandbox, f"/api/messages?chat_id={chat_id}"))["messages"]


@pytest.fixture
async def sandbox(tmp_path):
    async with Sandbox(tmp_path / "data", port=0, config_path=tmp_path / "no-config.toml") as running:
        yield running


# ---- the database guard -----------------------------------------------------------------------------
def test_refuses_a_database_that_is_not_its_own_and_leaves_it_untouched(tmp_path):
    import sqlite3

    data = tmp_path / "deployment"
    data.mkdir()
    real = data / "sandbox.db"  # e.g. a real bot.db renamed
    connection = sqlite3.connect(real)
    connection.execute("CREATE TABLE organisations (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO organisations (name) VALUES ('县教育局团委')")
    connection.commit()
    connection.close()
    before = real.read_bytes()

    result = run_cli("--data", str(data), cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a sandbox database" in lines[0] and str(real) in lines[0]
    assert "sandbox ready" not in result.stdout
    assert real.read_bytes() == before


def test_a_taken_port_is_one_line_before_the_bot_starts(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port), "--data", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        f"league-bot sandbox: cannot listen on 127.0.0.1:{port} (Address already in use); try --port 0 (any free port)"
    ]
    assert result.stdout == ""


def test_refuses_a_file_that_is_no_database_and_the_configured_real_database(tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "sandbox.db").write_text("not sqlite at all", encoding="utf-8")
    assert run_cli("--data", str(junk), cwd=tmp_path).returncode == 2

    # config.toml's storage.path is the very file the sandbox would use (it does not exist yet).
    (tmp_path / "config.toml").write_text(
        '[telegram]\ntoken = "123:REAL"\n[storage]\npath = "live/sandbox.db"\n', encoding="utf-8"
    )
    result = run_cli("--data", "live", cwd=tmp_path)
    assert result.returncode == 2
    assert "real bot's database" in result.stderr
    assert "123:REAL" not in result.stderr + result.stdout
    assert not (tmp_path / "live" / "sandbox.db").exists()


async def test_its_own_database_is_marked_and_a_restart_begins_afresh(tmp_path):
    data = tmp_path / "data"
    async with Sandbox(data, port=0, empty=True, config_path=tmp_path / "none.toml") as first:
        await first.services.orgs.orgs.add("练习组织", OrgKind.OTHER, None, 0, first.clock.now())
    assert application_id(data / "sandbox.db") == SANDBOX_APPLICATION_ID
    async with Sandbox(data, port=0, empty=True, config_path=tmp_path / "none.toml") as second:
        assert await second.services.orgs.list() == []


async def test_a_second_sandbox_on_the_same_folder_is_refused_and_the_first_keeps_its_data(tmp_path):
    data = tmp_path / "data"
    async with Sandbox(data, port=0, empty=True, config_path=tmp_path / "none.toml") as first:
        await first.services.orgs.orgs.add("练习组织", OrgKind.OTHER, None, 0, first.clock.now())
        with pytest.raises(SandboxRefused, match="another sandbox is running"):
            async with Sandbox(data, port=0, empty=True, config_path=tmp_path / "none.toml"):
                pass
        assert [org.name for org in await first.services.orgs.list()] == ["练习组织"]
    async with Sandbox(data, port=0, empty=True, config_path=tmp_path / "none.toml"):
        pass  # the folder is free again once the first has stopped


# ---- the address ----------------------------------------------------------------------------------------
async def test_binds_only_to_loopback(sandbox):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", sandbox.page_url)
    assert sandbox._emulator.host == "127.0.0.1"
    assert sandbox.application.bot.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError):
        serve_page(sandbox, "0.0.0.0", 0)
    from bot.cli import parser

    with pytest.raises(SystemExit):
        parser().parse_args(["sandbox", "--host", "0.0.0.0"])


async def test_requests_another_web_site_makes_the_browser_send_are_refused(sandbox):
    def status(path: str, headers: dict, body: bytes | None = None) -> int:
        request = urllib.request.Request(sandbox.page_url.rstrip("/") + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    port = sandbox.page_url.rsplit(":", 1)[1].rstrip("/")
    offset = sandbox.clock.offset
    assert await asyncio.to_thread(status, "/api/state", {"Host": f"localhost:{port}"}) == 200
    # DNS rebinding: the browser names the attacker's host.
    assert await asyncio.to_thread(status, "/api/state", {"Host": f"evil.example:{port}"}) == 403
    # A cross-site form post (no preflight) cannot send JSON.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert await asyncio.to_thread(status, "/api/clock/jump", form, b"at=x") == 415
    assert sandbox.clock.offset == offset


# ---- the seed ----------------------------------------------------------------------------------------------
async def test_seeded_county_has_sunshine_home_villages_with_aliases_only(sandbox):
    services = sandbox.services
    villages = [org for org in await services.orgs.list() if org.kind is OrgKind.VILLAGE_BRANCH]
    assert len(villages) == 3 and all(org.parent_id is not None for org in villages)
    children = await services.sunshine.children.of_orgs([org.id for org in villages])
    assert len(children) == 18 and not any(child.consent for child in children)
    assert [await services.sunshine.children.get_private(child.id) for child in children] == [None] * 18
    today = services.stats.today()
    figures = await services.sunshine.figures(Period(today - timedelta(weeks=10), today))
    assert figures.pairs_active == 18 and figures.contacts > 0 and figures.pairs_quiet == 6


async def test_seeded_county_has_the_source_documents_sizes_and_no_private_details(sandbox):
    services, world = sandbox.services, sandbox.world
    kinds = [org.kind for org in await services.orgs.list()]
    assert kinds.count(OrgKind.COUNTY_LEVEL) == 44
    assert kinds.count(OrgKind.TOWNSHIP) == 172
    assert kinds.count(OrgKind.SCHOOL) == 24
    wishes = await services.wishes.find(page_size=1000)
    assert wishes.total == 800
    assert all(re.fullmatch(r"小.+ · .+", wish.public_label) for wish in wishes.items)
    sample = wishes.items[::10]
    assert sample and [await services.wishes.wishes.get_private(wish.id) for wish in sample] == [None] * len(sample)
    cadres = await services.people.many([c.user_id for c in world.cadres])
    assert len(cadres) == len(world.cadres) >= 240
    assert all(person.real_name is None and person.phone is None for person in cadres.values())
    # One session about to open in the hub, with its announcement there.
    [session] = await services.auction.upcoming_sessions()
    assert session.state == "scheduled"
    assert timedelta(minutes=9) < session.starts_at - services.clock.now() <= timedelta(minutes=10)
    hub = [m["text"] for m in await chat(sandbox, world.hub_chat_id)]
    assert any("微心愿认领会（练习场）" in text and "305" in text for text in hub)
    # Activities this week, published in the organisation's group; today's is open for 签到.
    activities = await services.activities.repo.upcoming(services.clock.now())
    assert len(activities) == 3
    assert activities[0].starts_at - services.clock.now() < timedelta(minutes=30)
    posts = [m for m in await chat(sandbox, world.org_chat_id) if "志愿服务活动" in (m["text"] or "")]
    assert len(posts) == 3 and posts[0]["buttons"][0][0]["text"] == "报名 0/30"
    # In the sandbox's working day, each named after its real day (no 周六 on a Tuesday).
    zone = services.config.zone
    for activity in activities:
        assert 8 <= activity.starts_at.astimezone(zone).hour < 18, activity
    tutoring = next(a for a in activities if a.category.value == "tutoring")
    weekday = "一二三四五六日"[tutoring.starts_at.astimezone(zone).weekday()]
    assert tutoring.title.startswith(f"周{weekday}") and weekday == "六"
    visit = next(a for a in activities if a.category.value == "elder_care")
    assert visit.title.startswith(f"{visit.starts_at.astimezone(zone).month}月") and "新春" not in visit.title
    assert (await services.groups.hub()).chat_id == world.hub_chat_id
    assert (await services.groups.of_org(world.org_group_org_id)).chat_id == world.org_chat_id


async def test_empty_starts_bare_with_the_hub_bound(tmp_path):
    async with Sandbox(tmp_path / "d", port=0, empty=True, config_path=tmp_path / "none.toml") as bare:
        assert await bare.services.orgs.list() == []
        assert (await bare.services.groups.hub()).chat_id == bare.world.hub_chat_id
        state = await call(bare, "/api/state")
        assert state["personas"]["cadres"] == []
        assert {event["kind"] for event in state["events"]} <= {"reminder"}  # the weekly digest at most


# ---- the page's API ------------------------------------------------------------------------------------------
async def test_a_persona_sends_start_and_gets_the_welcome(sandbox):
    volunteer = sandbox.world.volunteer.user_id
    assert (await call(sandbox, "/api/persona", {"user_id": volunteer}))["ok"]
    sent = await call(sandbox, "/api/send", {"user_id": volunteer, "chat_id": volunteer, "text": "/start"})
    assert sent["ok"]

    async def welcome():
        return [m for m in await chat(sandbox, volunteer) if m["from_bot"] and "团县委的工作助手" in (m["text"] or "")]

    [message] = await wait_for(welcome, "the welcome")
    assert "新志愿者小林（示例）" in message["text"]
    # Nobody may write in someone else's private chat.
    refused = await call(
        sandbox, "/api/send", {"user_id": volunteer, "chat_id": sandbox.world.admin.user_id, "text": "hi"}
    )
    assert refused == {"ok": False, "error": "refused", "detail": refused["detail"]}


async def test_clock_jump_opens_the_auction_and_a_cadre_claims_from_the_board_link(sandbox):
    world = sandbox.world
    hub = world.hub_chat_id
    state = await call(sandbox, "/api/state")
    kinds = [event["kind"] for event in state["events"]]
    assert kinds[:2] == ["reminder", "auction_start"]  # the 5-minute reminder, then the start

    first = await call(sandbox, "/api/clock/jump", {})
    assert first["event"]["kind"] == "reminder" and 200 < first["moved_seconds"] <= 300
    await wait_for(lambda: _any_text(sandbox, hub, "5 分钟后开始认领会"), "the 5-minute reminder in the hub")
    second = await call(sandbox, "/api/clock/jump", {})
    assert second["event"]["kind"] == "auction_start"

    async def board():
        messages = await call(sandbox, f"/api/messages?chat_id={hub}")
        pinned = [m for m in messages["messages"] if m["id"] == messages["pinned"]]
        return pinned and "认领进行中" in pinned[0]["text"] and pinned[0]

    board_message = await wait_for(board, "the live board, pinned in the hub")
    assert "已认领 0" in board_message["text"]
    state = await call(sandbox, "/api/state")
    assert "auction_start" not in [event["kind"] for event in state["events"]]
    assert state["clock"]["offset_seconds"] >= 590

    # A cadre (the shown organisation's admin) follows the board's link and claims one lot.
    cadre = next(p for p in world.cadre_personas() if p.org_id == world.org_group_org_id)
    url = board_message["buttons"][0][0]["url"]
    opened = await call(sandbox, "/api/open_url", {"user_id": cadre.user_id, "url": url})
    assert opened == {"ok": True, "opened": True, "chat_id": cadre.user_id}

    async def lots_page():
        pages = [
            m
            for m in await chat(sandbox, cadre.user_id)
            if any((b["data"] or "").startswith("ac:") for row in m["buttons"] for b in row)
        ]
        return pages and pages[-1]

    page = await wait_for(lots_page, "the lots page in private")
    claim = page["buttons"][0][0]
    tapped = await call(
        sandbox,
        "/api/tap",
        {"user_id": cadre.user_id, "chat_id": cadre.user_id, "message_id": page["id"], "data": claim["data"]},
    )
    assert tapped["answer"]["text"].startswith("🎉 认领成功")
    await wait_for(lambda: _any_text(sandbox, cadre.user_id, "释放"), "the winner's private message", timeout=10)


async def test_jumping_to_the_auction_sends_the_reminder_on_the_way_on_time_then_the_board(sandbox):
    hub = sandbox.world.hub_chat_id
    events = (await call(sandbox, "/api/state"))["events"]
    start = next(event for event in events if event["kind"] == "auction_start")
    jumped = await call(sandbox, "/api/clock/jump", {"at": start["at"]})
    assert jumped["event"]["kind"] == "auction_start" and jumped["moved_seconds"] >= 590

    async def both():
        texts = [m["text"] for m in await chat(sandbox, hub)]
        reminder = [i for i, t in enumerate(texts) if "5 分钟后开始认领会" in t]
        board = [i for i, t in enumerate(texts) if "认领进行中" in t]
        return reminder and board and (reminder, board, texts)

    reminder, board, texts = await wait_for(both, "the reminder and the board")
    assert reminder[0] < board[0]
    assert "晚送达" not in texts[reminder[0]]


async def test_jumping_past_todays_activity_brings_its_summary_to_the_group(sandbox):
    events = (await call(sandbox, "/api/state"))["events"]
    end = next(event for event in events if event["kind"] == "activity_end")
    summary = next(event for event in events if event["kind"] == "activity_summary")
    assert summary["title"] == end["title"] and summary["at"] > end["at"]  # once check-out has closed
    jumped = await call(sandbox, "/api/clock/jump", {"at": summary["at"]})
    assert jumped["event"]["kind"] == "activity_summary"

    async def posted():
        return any("活动小结" in (m["text"] or "") for m in await chat(sandbox, sandbox.world.org_chat_id))

    await wait_for(posted, "the activity's summary in its group")


async def test_crowds_claim_within_the_groups_limit_and_check_in_with_reactions(sandbox):
    world = sandbox.world
    for _ in range(2):
        await call(sandbox, "/api/clock/jump", {})
    refused = await call(sandbox, "/api/crowd", {"kind": "auction", "size": 0, "per_minute": 60})
    assert refused["error"] == "bad_size"
    started = await call(sandbox, "/api/crowd", {"kind": "auction", "size": 12, "per_minute": 600})
    crowd_id = started["crowd"]["id"]
    checkin = await call(sandbox, "/api/crowd", {"kind": "checkin", "size": 6, "per_minute": 600})

    async def progress():
        crowds = {c["id"]: c for c in (await call(sandbox, "/api/state"))["crowds"]}
        auction, volunteers = crowds[crowd_id], crowds[checkin["crowd"]["id"]]
        return auction["succeeded"] >= 5 and volunteers["succeeded"] == 6 and crowds

    crowds = await wait_for(progress, "claims and check-ins", timeout=30)
    session = (await sandbox.services.auction.live_sessions())[0]
    board = await sandbox.services.auction.board(session.id, sandbox.clock.now())
    assert board.claimed >= crowds[crowd_id]["succeeded"]
    sheet = await sandbox.services.attendance.sheet(
        (await sandbox.services.activities.repo.upcoming(sandbox.clock.now()))[0].id
    )
    assert len([line for line in sheet if line.checked_in_at is not None]) == 6
    reacted = [m for m in await chat(sandbox, world.org_chat_id) if m["text"] == "签到"]
    assert len(reacted) == 6 and all(m["reactions"] == ["👍"] for m in reacted)
    state = await call(sandbox, "/api/state")
    assert 0 < state["rate"]["hub"] <= 20 and state["rate"]["limit"] == 20
    assert (await call(sandbox, "/api/crowd/stop", {"id": crowd_id}))["stopped"] is True
    assert sandbox.fake.http_429 == 0


async def _any_text(sandbox: Sandbox, chat_id: int, needle: str) -> bool:
    return any(needle in (m["text"] or "") for m in await chat(sandbox, chat_id))


# ---- the clock ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("local", "starts"),
    [
        ("2026-12-08 01:59", "2026-12-08 09:00"),
        ("2026-12-08 07:59", "2026-12-08 09:00"),
        ("2026-12-08 08:00", "2026-12-08 08:00"),
        ("2026-12-08 16:59", "2026-12-08 16:59"),
        ("2026-12-08 17:00", "2026-12-09 09:00"),
        ("2026-12-31 23:30", "2027-01-01 09:00"),
    ],
)
def test_the_sandbox_starts_in_its_working_day(local, starts):
    from zoneinfo import ZoneInfo

    from bot.practice.sandbox.clock import daytime

    zone = ZoneInfo("Asia/Shanghai")
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    assert daytime(moment, zone).astimezone(zone).strftime("%Y-%m-%d %H:%M") == starts


def test_the_clock_only_moves_forward():
    from datetime import UTC, datetime

    from bot.practice.sandbox.clock import SandboxClock

    clock = SandboxClock()
    moved = clock.jump_to(datetime.now(UTC) + timedelta(hours=5))
    assert timedelta(hours=4, minutes=59) < moved <= timedelta(hours=5)
    assert clock.jump_to(datetime.now(UTC)) == timedelta()  # never backwards
    assert clock.now() - datetime.now(UTC) > timedelta(hours=4, minutes=59)


async def test_documents_download_and_upload_and_a_location_checks_in(sandbox):
    world = sandbox.world
    admin = world.admin.user_id
    await call(sandbox, "/api/persona", {"user_id": admin})
    await call(sandbox, "/api/send", {"user_id": admin, "chat_id": admin, "text": "/orgtemplate"})

    async def template():
        return [m for m in await chat(sandbox, admin) if m.get("file")]

    [message] = await wait_for(template, "the template file")
    assert message["file"]["name"].endswith(".xlsx")

    def download() -> tuple[bytes, str]:
        with urllib.request.urlopen(sandbox.page_url.rstrip("/") + message["file"]["url"]) as response:
            return response.read(), response.headers["Content-Disposition"]

    content, disposition = await asyncio.to_thread(download)
    assert content.startswith(b"PK") and "attachment" in disposition
    before = len([m for m in await chat(sandbox, admin) if m["from_bot"]])
    await call(sandbox, "/api/send", {"user_id": admin, "chat_id": admin, "text": "/importorgs"})
    await wait_for(lambda: _count_bot(sandbox, admin, before + 1), "the import's question")
    import base64

    sent = await call(
        sandbox,
        "/api/document",
        {
            "user_id": admin,
            "chat_id": admin,
            "file_name": "orgs.xlsx",
            "mime_type": "application/octet-stream",
            "content_base64": base64.b64encode(content).decode(),
        },
    )
    assert sent["ok"]
    await wait_for(lambda: _count_bot(sandbox, admin, before + 2), "the bot's answer to the file")

    # A volunteer shares the activity's location in the organisation's group: checked in, 👍.
    volunteer = world.volunteer.user_id
    await call(sandbox, "/api/persona", {"user_id": volunteer})
    [place] = (await call(sandbox, "/api/state"))["locations"]
    shared = await call(
        sandbox,
        "/api/location",
        {
            "user_id": volunteer,
            "chat_id": world.org_chat_id,
            "latitude": place["latitude"],
            "longitude": place["longitude"],
        },
    )

    async def reacted():
        return [m for m in await chat(sandbox, world.org_chat_id) if m["id"] == shared["message_id"] and m["reactions"]]

    [location] = await wait_for(reacted, "the 👍 on the shared location")
    assert location["reactions"] == ["👍"] and location["location"]["latitude"] == place["latitude"]
    bad = await call(
        sandbox, "/api/location", {"user_id": volunteer, "chat_id": world.org_chat_id, "latitude": 200, "longitude": 0}
    )
    assert bad["error"] == "bad_location"


async def _count_bot(sandbox: Sandbox, chat_id: int, count: int) -> bool:
    return len([m for m in await chat(sandbox, chat_id) if m["from_bot"]]) >= count


def test_the_emulator_counts_a_groups_bot_messages_in_the_last_minute_without_refused_ones():
    from bot.practice.emulator import FakeTelegram

    moment = [0.0]
    fake = FakeTelegram(monotonic=lambda: moment[0])
    fake.add_user(1, "管理员")
    fake.add_group(-100, "练习群", admins=(1,))
    statuses = []
    for _ in range(22):
        statuses.append(fake.handle("sendMessage", {"chat_id": -100, "text": "hello"})[0])
        moment[0] += 1.0
    assert statuses.count(429) == 2
    assert fake.sends_in_last(-100, 60.0) == 20
    assert fake.chat_title(-100) == "练习群" and fake.chat_title(1) is None
    moment[0] += 45.0
    assert fake.sends_in_last(-100, 60.0) == 20 - 8  # those of the first 8 seconds left the window
