"""The emulator pushes updates to a webhook on 127.0.0.1 as Telegram does (bot/practice/emulator/webhook.py)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.practice.emulator import FakeTelegram

ALICE, BOB = 1001, 1002
SECRET = "hook-secret_" + "x" * 20
FAST_RETRY = (0.05, 0.2)


def wait_for(predicate, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Receiver:
    """A webhook endpoint that records what it gets; `answer(update)` gives (status, body), and
    `gate` (when set) holds every request until it is opened."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, dict]] = []  # (update, headers)
        self.in_flight = 0
        self.in_flight_max = 0
        self.gate: threading.Event | None = None
        self.answer = lambda update: (200, b"")
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                update = json.loads(body)
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.in_flight_max = max(receiver.in_flight_max, receiver.in_flight)
                    receiver.received.append((update, dict(self.headers)))
                if receiver.gate is not None:
                    receiver.gate.wait(10)
                status, answer = receiver.answer(update)
                with receiver._lock:
                    receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def ids(self) -> list[int]:
        return [update["update_id"] for update, _ in self.received]

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    fake = FakeTelegram(webhook_retry=FAST_RETRY)
    fake.add_user(ALICE, "Alice")
    fake.add_user(BOB, "Bob")
    yield fake
    fake.close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def set_webhook(fake: FakeTelegram, url: str, **params) -> tuple[int, dict]:
    return fake.handle("setWebhook", {"url": url, **params})


def info(fake: FakeTelegram) -> dict:
    status, body = fake.handle("getWebhookInfo", {})
    assert status == 200
    return body["result"]


def test_each_update_is_posted_as_json_with_the_secret_header(fake, receiver):
    waiting = fake.user_sends(ALICE, ALICE, "/start")  # sent before the webhook: delivered too
    assert set_webhook(fake, receiver.url, secret_token=SECRET)[0] == 200
    later = fake.user_sends(BOB, BOB, "/help")
    wait_for(lambda: len(receiver.received) == 2, "both updates")
    assert sorted(receiver.ids()) == [waiting["update_id"], later["update_id"]]
    for update, headers in receiver.received:
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET
        assert headers["Content-Type"] == "application/json"
        assert update["message"]["text"] in ("/start", "/help")
    wait_for(lambda: info(fake)["pending_update_count"] == 0, "nothing pending")
    assert info(fake)["url"] == receiver.url and "last_error_message" not in info(fake)


def test_no_secret_no_header(fake, receiver):
    set_webhook(fake, receiver.url)
    fake.user_sends(ALICE, ALICE, "hi")
    wait_for(lambda: receiver.received, "the update")
    assert "X-Telegram-Bot-Api-Secret-Token" not in receiver.received[0][1]


def test_a_500_keeps_the_update_pending_and_it_is_retried(fake, receiver):
    failures = iter([500, 500])
    receiver.answer = lambda update: (next(failures, 200), b"")
    set_webhook(fake, receiver.url, secret_token=SECRET)
    update = fake.user_sends(ALICE, ALICE, "/start")
    wait_for(lambda: len(receiver.received) >= 2, "a second attempt")
    seen = info(fake)
    assert seen["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert isinstance(seen["last_error_date"], int)
    wait_for(lambda: len(receiver.received) == 3, "the third attempt")
    wait_for(lambda: info(fake)["pending_update_count"] == 0, "the update delivered")
    assert receiver.ids() == [update["update_id"]] * 3
    time.sleep(0.3)  # longer than the back-off: no further attempt once a 2xx came
    assert len(receiver.received) == 3


def test_a_refused_connection_keeps_updates_until_the_bot_listens(fake):
    gone = Receiver()
    gone.close()  # nothing listens on its port any more
    set_webhook(fake, gone.url)
    update = fake.user_sends(ALICE, ALICE, "/start")
    wait_for(lambda: info(fake).get("last_error_message") == "Connection refused", "the refusal reported")
    assert info(fake)["pending_update_count"] == 1
    back = Receiver()
    try:
        set_webhook(fake, back.url)  # the bot is back (on another port) and set its webhook again
        wait_for(lambda: back.ids() == [update["update_id"]], "the update delivered")
        wait_for(lambda: info(fake)["pending_update_count"] == 0, "nothing pending")
    finally:
        back.close()


def test_at_most_max_connections_requests_in_flight(fake, receiver):
    receiver.gate = threading.Event()
    set_webhook(fake, receiver.url, max_connections=3)
    people = range(2000, 2010)
    for user_id in people:  # ten people: ten queues that may all go at once, but for the bound
        fake.add_user(user_id, f"U{user_id}")
        fake.user_sends(user_id, user_id, "hello")
    wait_for(lambda: receiver.in_flight == 3, "three requests held")
    time.sleep(0.2)
    assert receiver.in_flight == 3 and len(receiver.received) == 3
    assert info(fake)["max_connections"] == 3
    receiver.gate.set()
    wait_for(lambda: len(receiver.received) == 10, "all ten delivered")
    assert receiver.in_flight_max == 3
    assert fake.webhook_pusher is not None and fake.webhook_pusher.in_flight_max == 3


def test_one_chat_in_order_while_other_chats_go_on(fake, receiver):
    held = threading.Event()
    first_of_alice: list[int] = []

    def answer(update: dict) -> tuple[int, bytes]:
        if update["update_id"] in first_of_alice:
            held.wait(10)
        return 200, b""

    receiver.answer = answer
    set_webhook(fake, receiver.url)
    first_of_alice.append(fake.user_sends(ALICE, ALICE, "one")["update_id"])
    second = fake.user_sends(ALICE, ALICE, "two")
    bob = fake.user_sends(BOB, BOB, "bob")
    wait_for(lambda: bob["update_id"] in receiver.ids(), "another chat's update, while Alice's first is held")
    assert second["update_id"] not in receiver.ids()  # waits for the one before it in its chat
    held.set()
    wait_for(lambda: second["update_id"] in receiver.ids(), "Alice's second update")
    assert receiver.ids().index(first_of_alice[0]) < receiver.ids().index(second["update_id"])


def test_a_method_in_the_answer_is_executed(fake, receiver):
    def answer(update: dict) -> tuple[int, bytes]:
        chat = update["message"]["chat"]["id"]
        text = update["message"]["text"]
        if text == "ping":
            return 200, json.dumps({"method": "sendMessage", "chat_id": chat, "text": "pong"}).encode()
        return 200, json.dumps({"method": "getMe"}).encode()  # Telegram runs no get… method from here

    receiver.answer = answer
    seen: list[str] = []
    fake.webhook_observer = lambda method, params, status, response: seen.append(f"{method} {status}")
    set_webhook(fake, receiver.url)
    fake.user_sends(ALICE, ALICE, "ping")
    wait_for(lambda: [m.text for m in fake.bot_messages(ALICE)] == ["pong"], "the answer's sendMessage")
    assert seen == ["sendMessage 200"]
    fake.user_sends(ALICE, ALICE, "who")
    wait_for(lambda: len(receiver.received) == 2 and info(fake)["pending_update_count"] == 0, "the second update")
    assert fake.count_calls("getMe") == 0


def test_a_tap_answered_in_the_webhook_response(fake, receiver):
    fake.handle("sendMessage", {"chat_id": ALICE, "text": "pick", "reply_markup": _one_button("go")})
    message = fake.last_bot_message(ALICE)
    assert message is not None

    def answer(update: dict) -> tuple[int, bytes]:
        query = update["callback_query"]["id"]
        return 200, json.dumps({"method": "answerCallbackQuery", "callback_query_id": query, "text": "ok"}).encode()

    receiver.answer = answer
    set_webhook(fake, receiver.url)
    fake.user_taps(ALICE, ALICE, message.message_id, "go")
    wait_for(lambda: fake.callback_answers, "the tap answered")
    assert fake.unanswered_callback_queries() == []


def test_getupdates_conflicts_while_a_webhook_is_set_and_undelivered_updates_return_to_it(fake, receiver):
    receiver.answer = lambda update: (503, b"")
    set_webhook(fake, receiver.url)
    update = fake.user_sends(ALICE, ALICE, "/start")
    status, body = fake.handle("getUpdates", {})
    assert status == 409 and body["description"].startswith("Conflict: can't use getUpdates method")
    wait_for(lambda: receiver.received, "a first attempt")
    assert fake.handle("deleteWebhook", {})[0] == 200
    status, body = fake.handle("getUpdates", {})
    assert status == 200 and [u["update_id"] for u in body["result"]] == [update["update_id"]]


def test_only_https_beyond_this_machine_and_nothing_pushed_there(fake):
    status, body = set_webhook(fake, "http://bot.example.org/hook")
    assert status == 400
    assert body["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    assert set_webhook(fake, "https://bot.example.org/hook")[0] == 200
    fake.user_sends(ALICE, ALICE, "/start")
    assert fake.webhook_pusher is None and info(fake)["pending_update_count"] == 1
    assert set_webhook(fake, "http://localhost:1/hook", max_connections=101)[0] == 400
    assert set_webhook(fake, "http://localhost:1/hook", secret_token="no spaces")[0] == 400


def test_drop_pending_updates_forgets_the_undelivered(fake, receiver):
    receiver.answer = lambda update: (500, b"")
    set_webhook(fake, receiver.url)
    fake.user_sends(ALICE, ALICE, "/start")
    wait_for(lambda: receiver.received, "a first attempt")
    set_webhook(fake, receiver.url, drop_pending_updates=True)
    wait_for(lambda: info(fake)["pending_update_count"] == 0, "nothing pending")


def _one_button(data: str) -> str:
    return json.dumps({"inline_keyboard": [[{"text": data, "callback_data": data}]]})
