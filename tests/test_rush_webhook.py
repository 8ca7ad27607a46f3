"""`bench rush --mode webhook`: the same steps and keys as long polling, the emulator pushing."""

from __future__ import annotations

import json

import pytest

from bot.practice.bench import rush


def test_rush_in_webhook_mode_reports_the_same_keys_and_every_push_delivered():
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
        mode="webhook",
    )
    figures = json.loads(json.dumps(rush.run(scale)))
    assert (figures["bench"], figures["mode"]) == ("rush", "webhook")
    step_keys = {"offered", "answered_per_s", "p50_ms", "p99_ms", "http_429", "query_too_old", "shed", "cpu_ms_per_tap"}
    assert [step["offered"] for step in figures["steps"]] == [20, 40]
    assert all(step_keys <= step.keys() for step in figures["steps"] + figures["baseline_steps"])
    run_keys = {"peak_per_s", "baseline_peak_per_s", "notice_p99_s", "page_turn_ms", "not_modified_errors"}
    assert run_keys <= figures.keys()
    assert (figures["double_claims"], figures["cap_violations"], figures["board_matches_db"]) == (0, 0, True)
    assert (figures["bot_exit_code"], figures["bot_tracebacks"]) == (0, 0)
    assert sum(step["taps"] for step in figures["steps"]) == 60
    pushed = figures["webhook"]
    assert pushed["pending_at_end"] == 0 and pushed["delivered"] >= 60 + 12  # the taps and the pages opened
    assert 1 <= pushed["in_flight_max"] <= scale.webhook_connections
    assert figures["baseline_peak_per_s"] > 0  # the bare application took its taps by webhook too


def test_rush_mode_is_polling_or_webhook():
    assert rush.Scale().mode == "polling"
    with pytest.raises(ValueError, match="polling or webhook"):
        rush.Scale(mode="push")
