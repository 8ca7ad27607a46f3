"""`league-bot bench certificates` runs and counts right (timings are printed, never asserted)."""

from __future__ import annotations

import json

from bot.cli import main


def test_certificates_bench_sends_each_certificate_once_and_answers_the_other_taps(capsys):
    assert main(["bench", "certificates", "--certificates", "12", "--latency-ms", "5"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["bench"] == "certificates"
    assert figures["certificates_issued"] == figures["certificates_sent"] == 12
    assert figures["other_taps"] == figures["other_taps_answered"] > 0
    assert set(figures["tap_answer_ms"]) == {"p50", "p99"}
