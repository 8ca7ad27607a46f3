"""Per-person flood control: one member's 200 `/help` in a group cost the group one answer, not
ten minutes of its sending budget; a flood in private is slowed down; check-ins, taps and
conversation input are never held back."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.flood import FloodControl, FloodRules, Verdict
from handlers.flood import command_of
from tests.harness import FakeClock
from tests.test_activities import GROUP, LI, arranged, post_of, step_of, township, volunteer

FLOODER, NEIGHBOUR = 400001, 400002


# ---- the rule ---------------------------------------------------------------------------------
def test_a_repeated_group_command_is_answered_once_a_minute():
    clock = FakeClock()
    control = FloodControl(clock)

    def help_from(user_id: int, chat_id: int = -100) -> Verdict:
        return control.command(chat_id=chat_id, user_id=user_id, command="help", private=False)

    assert help_from(1) is Verdict.ANSWER
    assert [help_from(1) for _ in range(50)] == [Verdict.IGNORE] * 50
    assert help_from(2) is Verdict.ANSWER  # another person
    assert help_from(1, chat_id=-200) is Verdict.ANSWER  # another group
    clock.advance(seconds=59)
    assert help_from(1) is Verdict.IGNORE
    clock.advance(seconds=1)
    assert help_from(1) is Verdict.ANSWER


def test_varied_commands_from_one_person_in_a_group_are_capped_too():
    clock = FakeClock()
    control = FloodControl(clock)
    names = [f"c{n}" for n in range(20)]
    verdicts = [control.command(chat_id=-100, user_id=1, command=name, private=False) for name in names]
    assert verdicts.count(Verdict.ANSWER) == FloodRules().group_burst
    clock.advance(seconds=12)
    assert control.command(chat_id=-100, user_id=1, command="late", private=False) is Verdict.ANSWER


def test_check_in_commands_are_never_held_back():
    control = FloodControl(FakeClock())
    for command in ("checkin", "checkout"):
        assert {control.command(chat_id=-100, user_id=1, command=command, private=False) for _ in range(30)} == {
            Verdict.ANSWER
        }


def test_a_private_flood_is_slowed_down_and_told_once():
    clock = FakeClock()
    control = FloodControl(clock)
    verdicts = [control.command(chat_id=1, user_id=1, command="help", private=True) for _ in range(40)]
    assert verdicts[:10] == [Verdict.ANSWER] * 10
    assert verdicts[10] is Verdict.SLOW_DOWN and set(verdicts[11:]) == {Verdict.IGNORE}
    clock.advance(seconds=3)
    assert control.command(chat_id=1, user_id=1, command="help", private=True) is Verdict.ANSWER
    assert control.command(chat_id=1, user_id=1, command="help", private=True) is Verdict.IGNORE  # told already


def test_stale_entries_are_forgotten():
    clock = FakeClock()
    control = FloodControl(clock)
    for user_id in range(6_000):
        control.command(chat_id=-100, user_id=user_id, command="help", private=False)
    clock.advance(minutes=5)
    control.command(chat_id=-100, user_id=1, command="help", private=False)
    assert len(control._answered) + len(control._buckets) == 2


def test_only_this_bots_commands_are_looked_at():
    assert command_of("/help", "league_bot") == "help"
    assert command_of("/HELP@League_Bot now", "league_bot") == "help"
    assert command_of("/help@other_bot", "league_bot") is None
    assert command_of("签到", "league_bot") is None
    assert command_of("/", "league_bot") is None


# ---- through the bot ----------------------------------------------------------------------------
async def test_two_hundred_help_commands_cost_the_group_one_answer(harness):
    await township(harness)
    flooder = volunteer(harness, FLOODER, "刷屏的人")
    neighbour = volunteer(harness, NEIGHBOUR, "邻居")
    before = len(harness.fake.bot_messages(GROUP))
    for _ in range(200):
        await flooder.send("/help", GROUP)
    answers = harness.fake.bot_messages(GROUP)[before:]
    assert 1 <= len(answers) <= 2
    await neighbour.send("/help", GROUP)
    assert len(harness.fake.bot_messages(GROUP)) == before + len(answers) + 1  # still answered
    harness.clock.advance(minutes=1)
    await flooder.send("/help", GROUP)
    assert len(harness.fake.bot_messages(GROUP)) == before + len(answers) + 2


async def test_check_ins_are_never_held_back(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=10), slots=20)
    post_of(harness, activity)
    flooder = volunteer(harness, FLOODER, "刷屏的人")
    for _ in range(30):
        await flooder.send("/help", GROUP)
    people = [flooder] + [volunteer(harness, 410000 + n, f"志愿者{n}") for n in range(12)]
    for person in people:
        await person.send("签到", GROUP)
        await person.send("/checkin", GROUP)  # the command form too: answered every time
    sheet = await harness.services.attendance.sheet(activity.id)
    assert len([line for line in sheet if line.checked_in_at is not None]) == len(people)


async def test_a_private_command_flood_is_slowed_but_conversation_input_is_not(harness):
    _org, li = await township(harness)
    harness.clock.advance(minutes=1)  # the /start of the set-up is forgotten
    before = len(li.replies())
    for _ in range(30):
        await li.send("/help")
    replies = li.replies()[before:]
    assert len(replies) == 11
    assert "命令发得太快了，请 3 秒后再发下一条命令" in replies[-1].text
    harness.clock.advance(seconds=3)
    await li.send("/newactivity")  # answered again after the wait
    assert "请发送活动名称" in li.last_reply().text
    for title in ["周六学业辅导"] * 15:  # typed answers, however fast, are the conversation's
        await li.send(title)
    assert await step_of(harness, LI) is not None
    assert "命令发得太快了" not in li.last_reply().text
