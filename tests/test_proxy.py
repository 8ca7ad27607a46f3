"""The drills' reverse proxy (bot/practice/proxy.py): round robin, a refused backend skipped."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.practice.proxy import Backend, ProxyThread


class Instance:
    """A stand-in for one `league-bot run --webhook`: answers with its name and what it got."""

    def __init__(self, name: str, status: int = 200) -> None:
        self.name = name
        self.status = status
        self.bodies: list[bytes] = []
        self.hang_up = False  # close the connection without answering (a process killed mid-request)
        self.sockets: list[socket.socket] = []
        instance = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def setup(self) -> None:
                super().setup()
                instance.sockets.append(self.connection)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                instance.bodies.append(body)
                if instance.hang_up:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                answer = json.dumps(
                    {"instance": instance.name, "secret": self.headers.get("X-Telegram-Bot-Api-Secret-Token")}
                ).encode()
                self.send_response(instance.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.backend = Backend("127.0.0.1", self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """As SIGKILL leaves it: nothing listens on the port any more."""
        self.server.shutdown()
        self.server.server_close()
        for connection in self.sockets:
            with contextlib.suppress(OSError):  # closed already by its handler
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def instances():
    made = [Instance("a"), Instance("b")]
    yield made
    for instance in made:
        instance.stop()


def post(proxy: ProxyThread, body: dict, connection: http.client.HTTPConnection | None = None) -> tuple[int, dict]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", proxy.proxy.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/telegram",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret"},
        )
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload.startswith(b"{") else {"text": payload.decode()}
    finally:
        if own:
            connection.close()


def test_requests_go_round_robin_and_the_answers_come_back(instances):
    with ProxyThread([i.backend for i in instances]) as proxy:
        kept_alive = http.client.HTTPConnection("127.0.0.1", proxy.proxy.port, timeout=10)
        answers = [post(proxy, {"update_id": n}, kept_alive) for n in range(4)]
        kept_alive.close()
    assert [answer["instance"] for _, answer in answers] == ["a", "b", "a", "b"]
    assert {status for status, _ in answers} == {200}
    assert all(answer["secret"] == "s3cret" for _, answer in answers)  # headers pass through
    assert [json.loads(b)["update_id"] for b in instances[0].bodies] == [0, 2]
    assert [json.loads(b)["update_id"] for b in instances[1].bodies] == [1, 3]


def test_a_backend_s_error_status_is_returned_as_it_is(instances):
    instances[0].status = 500
    with ProxyThread([instances[0].backend]) as proxy:
        status, answer = post(proxy, {"update_id": 1})
    assert (status, answer["instance"]) == (500, "a")


def test_a_refused_backend_is_skipped_and_the_survivor_takes_everything(instances):
    with ProxyThread([i.backend for i in instances]) as proxy:
        kept_alive = http.client.HTTPConnection("127.0.0.1", proxy.proxy.port, timeout=10)
        assert {post(proxy, {"update_id": n}, kept_alive)[1]["instance"] for n in range(2)} == {"a", "b"}
        instances[0].stop()  # killed: its kept-alive connection and its port are gone
        answers = [post(proxy, {"update_id": n}, kept_alive) for n in range(2, 8)]
        kept_alive.close()
        refused = proxy.proxy.refused[instances[0].backend]
    assert [(status, answer["instance"]) for status, answer in answers] == [(200, "b")] * 6
    assert refused >= 3  # every other request tried the dead one first


def test_with_every_backend_down_the_answer_is_502(instances):
    for instance in instances:
        instance.stop()
    with ProxyThread([i.backend for i in instances]) as proxy:
        status, answer = post(proxy, {"update_id": 1})
        assert proxy.proxy.failed == 1
    assert status == 502 and "no backend" in answer["text"]


def test_a_backend_that_dies_mid_request_gets_a_502_not_a_resend(instances):
    instances[0].hang_up = True
    with ProxyThread([instances[0].backend, instances[1].backend]) as proxy:
        status, _ = post(proxy, {"update_id": 1})
    assert status == 502
    assert len(instances[0].bodies) == 1 and instances[1].bodies == []  # Telegram sends it again later


def test_a_backend_is_host_and_port():
    assert Backend.parse("127.0.0.1:9001") == Backend("127.0.0.1", 9001)
    with pytest.raises(ValueError, match="HOST:PORT"):
        Backend.parse("9001")
