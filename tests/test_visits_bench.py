"""`league-bot bench visits` at a small scale: every key, every visit recorded once, the hub's
progress message equal to the database (timings are printed, never asserted)."""

from __future__ import annotations

import json

from bot.practice.bench import visits


def test_visits_benchmark_records_every_visit_once_and_the_hub_matches_the_database():
    scale = visits.Scale(households=30, organisations=14, teams=7, think=0.01)
    figures = json.loads(json.dumps(visits.run(0.005, scale=scale)))  # one JSON line's worth
    assert figures["bench"] == "visits"
    assert (figures["households"], figures["teams"], figures["visitors"]) == (30, 7, 14)
    assert (figures["visits_recorded"], figures["duplicates"]) == (30, 0)
    assert figures["progress_matches_db"] is True
    assert figures["hub_msgs_per_min_max"] <= 20
    assert {"p50", "p99"} == figures["step_answer_ms"].keys()
