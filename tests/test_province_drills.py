"""Province drills (issue #20): two real `league-bot run --webhook` processes on one PostgreSQL
database, behind the drills' reverse proxy, against the emulator pushing over HTTP.

- an auction rush of 2,000 taps spread over both, one instance SIGKILLed mid-rush: 0 double
  claims, 0 cap violations, no acknowledged claim lost, every tap handled, every winner told;
- a reminder due while the leader is killed: delivered exactly once, by the other;
- a broadcast to 1,000 groups from two instances: 0 x 429, within 1.15x Telegram's floor once
  sending began.

They run in the suite's PostgreSQL pass (`pytest --db postgresql`), each on its own database.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest

from bot.practice.emulator import FakeTelegram, serve
from bot.practice.proxy import Backend, ProxyThread
from tests.pg_server import SERVER_ENV, fresh_database_url
from tests.test_drills import ADMIN, HUB, auction_world, broadcast_world, reminders_in, wait_for
from tests.test_end_to_end import free_port
from tests.test_webhook_mode import WebhookBot

pytestmark = pytest.mark.skipif(not os.environ.get(SERVER_ENV), reason="the suite's PostgreSQL pass (--db postgresql)")

CADRES = range(610_000, 610_100)
DONORS = 10  # tests/test_drills.py's auction_world: ten donor organisations
CAP_PER_ORG = 5
LOTS = 45
TAPS = 2000


class ProvinceBot(WebhookBot):
    """One instance: the shared config (the same database URL), its own port and log."""

    def __init__(self, tmp_path, server, proxy_url: str, port: int, url: str, name: str) -> None:
        self.database_url_given = url
        self.name = name
        super().__init__(tmp_path, server, proxy_url, port)
        self.log = tmp_path / f"{name}.log"

    def write_config(self) -> None:
        self.database_url = self.database_url_given  # Bot writes it into [storage]
        super().write_config()


@pytest.fixture
def province(tmp_path):
    """Two instances behind the proxy on one fresh PostgreSQL database; neither started yet."""
    fake = FakeTelegram(webhook_retry=(0.2, 1.0))
    server = serve(fake)
    url = fresh_database_url(tmp_path)
    ports = (free_port(), free_port())
    proxy = ProxyThread([Backend("127.0.0.1", port) for port in ports])
    bots = [ProvinceBot(tmp_path, server, proxy.url, port, url, f"instance{i + 1}") for i, port in enumerate(ports)]
    fake.add_user(ADMIN, "县管理员", username="county_admin")
    yield fake, bots, proxy
    for bot in bots:
        bot.close()
    proxy.close()
    server.close()
    for bot in bots:
        if bot.log.exists():  # shown when the test failed
            print(f"---- {bot.name}\n" + bot.log.read_text(encoding="utf-8")[-4000:])


def _both_up(fake: FakeTelegram, bots: list[ProvinceBot]) -> None:
    for started, bot in enumerate(bots, start=1):
        bot.start()
        # One at a time: the first to start leads (it holds the advisory lock first). Each sets
        # the webhook once up (the same URL, the proxy's).
        wait_for(lambda n=started: fake.count_calls("setWebhook") >= n, f"{bot.name} up", timeout=30)


def test_a_rush_split_over_two_instances_one_killed_keeps_every_claim_exactly_once(province):
    fake, bots, proxy = province
    first, second = bots
    session_id, lots = auction_world(
        fake, first, cadres=CADRES, lots=LOTS, title="全省联合认领会", cap_per_org=CAP_PER_ORG
    )
    _both_up(fake, bots)
    board = wait_for(
        lambda: next((m for m in fake.bot_messages(HUB) if "全省联合认领会" in (m.text or "")), None), "the board"
    )
    taps = []
    for index in range(TAPS):
        user_id = CADRES[index * 7 % len(CADRES)]
        wish_id = lots[index * 13 % LOTS]
        raw = fake.user_taps(user_id, HUB, board.message_id, f"ac:{session_id}:{wish_id}", forge=True)
        taps.append((raw["update_id"], raw["callback_query"]["id"], user_id, wish_id))
    wait_for(lambda: len(fake.callback_answers) >= TAPS // 4, "a quarter of the taps answered", every=0.005)
    first.kill()  # the leader, mid-rush: its pushes in flight fail (502) and go to the other
    answered_at_kill = len(fake.callback_answers)
    assert answered_at_kill < TAPS, "the kill came too late to test anything"

    wait_for(lambda: second.all_handled([tap[0] for tap in taps]), "every tap handled", timeout=120)
    wait_for(second.nothing_owed, "every winner's message sent", timeout=60)
    second.stop()

    holders = dict(second.query("SELECT id, claimed_by_user FROM wishes WHERE claimed_by_user IS NOT NULL"))
    org_of = dict(second.query("SELECT user_id, org_id FROM memberships WHERE ended_at IS NULL"))
    claims = Counter(
        dict(second.query("SELECT subject, COUNT(*) FROM audit_log WHERE action = 'wish.claim' GROUP BY subject"))
    )
    assert set(claims.values()) == {1}, "a wish claimed twice"
    per_org = Counter(org_of[user_id] for user_id in holders.values())
    assert max(per_org.values()) <= CAP_PER_ORG, f"cap passed: {per_org}"
    assert len(holders) == min(LOTS, DONORS * CAP_PER_ORG)
    # An acknowledged claim is one whose toast said so: each is in the database, with that person.
    wins = {answer["callback_query_id"] for answer in fake.callback_answers if "认领成功" in (answer["text"] or "")}
    for _, query_id, user_id, wish_id in taps:
        if query_id in wins:
            assert holders.get(wish_id) == user_id, f"an acknowledged claim of {wish_id} was lost"
    forwarded = proxy.proxy.forwarded
    assert min(forwarded[Backend("127.0.0.1", bot.port)] for bot in bots) > 100, "the rush was not split"
    print(
        f"province rush: {answered_at_kill}/{TAPS} answered at the kill, {len(fake.callback_answers)} after;"
        f" {len(holders)} wins, per instance {[forwarded[Backend('127.0.0.1', bot.port)] for bot in bots]}"
    )
    for bot in bots:
        assert "Traceback" not in bot.log.read_text(encoding="utf-8")


def test_a_reminder_due_while_the_leader_is_killed_is_sent_once_by_the_other(province):
    fake, bots, _ = province
    first, second = bots
    groups = [-1_007_000_000 - index for index in range(20)]
    broadcast_world(fake, first, groups, due_in=timedelta(seconds=8))
    _both_up(fake, bots)
    first.kill()  # the leader, before the reminder is due
    wait_for(lambda: all(reminders_in(fake, groups)), "the reminder in every group", timeout=60)
    time.sleep(2)  # a second send would come within the next polls
    second.stop()
    assert reminders_in(fake, groups) == [1] * len(groups)


def test_a_broadcast_from_two_instances_keeps_telegrams_limits(province):
    fake, bots, _ = province
    groups = [-1_008_000_000 - index for index in range(1000)]
    broadcast_world(fake, bots[1], groups, due_in=timedelta(seconds=6))
    _both_up(fake, bots)
    first_seen = wait_for(
        lambda: any(reminders_in(fake, groups)) and time.monotonic(), "the first reminder", every=0.01
    )
    wait_for(lambda: all(reminders_in(fake, groups)), "the reminder in every group", timeout=90, every=0.01)
    took = time.monotonic() - first_seen
    for bot in bots:
        bot.stop()
    floor = (len(groups) - 1) / 30
    print(f"province broadcast: {len(groups)} groups in {took:.1f} s, floor {floor:.1f} s, 429s {fake.http_429}")
    assert reminders_in(fake, groups) == [1] * len(groups)
    assert fake.http_429 == 0
    assert took <= 1.15 * floor
