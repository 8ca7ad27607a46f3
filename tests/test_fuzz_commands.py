"""Property-based fuzzing of typed commands and their arguments: every command of the bot's menu,
in the private chat and in groups, from each kind of person, with arguments made of codes
(`W0002`, `A2`, `o1`, `v-1`, `w99999999999999999999`), dates and ranges, years, @names, ids and
junk. Property: each gets an answer and no exception reaches the error handler.

Budget: 1,500 examples (the year-end /report, which draws charts, 60 on its own).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.commands import COMMANDS
from tests.fuzz_world import FUZZ, SEATS, Findings, nasty_text, scaled

ARGUMENTS = (
    "W0001",
    "W0002",
    "w2",
    "W99999999999999999999",
    "W²",
    "A1",
    "A2",
    "a2",
    "A99999999999999999999",
    "o1",
    "o4",
    "o0",
    "o99999999999999999999",
    "o²",
    "v1",
    "v-1",
    "v99999999999999999999",
    "c1",
    "2026",
    "9999",
    "0001",
    "2026-11",
    "2026-01-01..2026-12-31",
    "9999-12-01..9999-12-31",
    "00010101..99991231",
    "2026-12-31..2026-01-01",
    "@li",
    "@nobody",
    "300002",
    "9007199254740992",
    "-100100",
    "含隐私",
    "城关镇团委",
    "原因",
    "全部",
    "50-100",
    "100-50",
    "-",
    "0-99999999999999999999",
)
KNOWN = frozenset(command.name for command in COMMANDS)
HEAVY = ("report",)  # the year-end report draws a dozen charts: fuzzed with fewer examples


def arguments() -> st.SearchStrategy[str]:
    one = st.one_of(st.sampled_from(ARGUMENTS), nasty_text(ARGUMENTS))
    return st.lists(one, max_size=3).map(" ".join)


def fuzz_commands(world, names: list[str], examples: int) -> Findings:
    findings = Findings()

    @settings(FUZZ, max_examples=scaled(examples))
    @given(seat=st.sampled_from(SEATS), name=st.sampled_from(names), args=arguments())
    def command(seat, name, args):
        user_id, chat_id = seat
        text = f"/{name} {args}".strip()
        # In a group an unknown command may be another bot's: silence is the right answer there.
        quiet_ok = chat_id < 0 and name not in KNOWN
        problems = world.run(world.send(user_id, text, chat_id, quiet_ok=quiet_ok))
        findings.add(f"{user_id} sent {text!r} in {chat_id}", problems)
        world.run(world.services.conversations.clear(user_id))

    command()
    return findings


def test_typed_commands_with_any_arguments_are_answered_without_a_crash(fuzz_world):
    world = fuzz_world
    names = sorted(KNOWN - set(HEAVY) | {"nosuchcommand"})
    findings = fuzz_commands(world, names, 1440)
    assert findings.examples >= scaled(1440)
    assert not findings.by_problem, findings.report()


def test_the_year_end_report_with_any_arguments(fuzz_world):
    world = fuzz_world
    findings = fuzz_commands(world, list(HEAVY), 60)
    assert not findings.by_problem, findings.report()
