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


def test_rush_benchmark_runs_the_real_process_and_reports_every_key():
    from bot.practice.bench import rush

    scale = rush.Scale(
        lots=30,
        browse_lots=30,
        organisations=3,
        cadres=12,
        browsers=6,
        steps=(20, 40),
        step_seconds=1.0,
        browse_seconds=2.0,
        baseline_concurrency=8,
        quiet_seconds=0.5,
    )
    figures = json.loads(json.dumps(rush.run(scale)))  # one JSON line's worth
    assert figures["bench"] == "rush"
    step_keys = {"offered", "answered_per_s", "p50_ms", "p99_ms", "http_429", "query_too_old", "shed", "cpu_ms_per_tap"}
    assert [step["offered"] for step in figures["steps"]] == [20, 40]
    assert all(step_keys <= step.keys() for step in figures["steps"] + figures["baseline_steps"])
    assert {
        "peak_per_s",
        "baseline_peak_per_s",
        "double_claims",
        "cap_violations",
        "board_matches_db",
        "hub_msgs_per_min_max",
        "notice_p99_s",
        "page_turn_ms",
        "not_modified_errors",
    } <= figures.keys()
    assert {"p50", "p99"} == figures["page_turn_ms"].keys()
    assert {"page_turns_per_s", "notices_per_s", "needed_per_s", "telegram_per_s"} <= figures["message_budget"].keys()
    assert (figures["double_claims"], figures["cap_violations"], figures["board_matches_db"]) == (0, 0, True)
    assert (figures["bot_exit_code"], figures["bot_tracebacks"]) == (0, 0)
    assert sum(step["taps"] for step in figures["steps"]) == 60
