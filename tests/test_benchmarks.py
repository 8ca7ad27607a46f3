"""The benchmarks run and report correct counts (their timings are printed, never asserted)."""

from __future__ import annotations

import json

from bot.cli import main


def run_bench(capsys, *args: str) -> dict:
    assert main(["bench", *args]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_broadcast_benchmark_reports_every_group_reached_once(capsys):
    figures = run_bench(capsys, "broadcast", "--groups", "40", "--latency-ms", "5")
    assert (figures["groups"], figures["delivered"], figures["duplicates"], figures["http_429"]) == (40, 40, 0, 0)
    assert {"duration_s", "limit_s", "ratio_to_limit"} <= figures.keys()


def test_checkin_benchmark_records_each_volunteer_once_without_group_messages(capsys):
    figures = run_bench(capsys, "checkin", "--volunteers", "40", "--seconds", "1", "--latency-ms", "5")
    assert (figures["checkins"], figures["recorded"], figures["duplicates"]) == (40, 40, 0)
    assert figures["reactions"] == figures["messages"] == 44  # every tenth volunteer said 签到 twice
    assert figures["group_msgs_per_min_max"] == 0
    assert {"p50", "p99"} == figures["latency_ms"].keys()
