"""Property-based fuzzing of every conversation step: each registered `Flow` is started as someone
who may use it, explored step by step (its buttons, ordinary answers, a file or a location where
a step takes one) until every `text_<step>` and `choice_<step>` is reached, and then each reached
step is fed random input: dates such as `9999-12-31 23:59` and `00010101`, huge numbers, `3小时`,
non-ASCII digits, emoji, 5,000-character strings, and forged button values. Property: the person
always gets an answer (the next question, or what was wrong and an example) and no exception
reaches the error handler.

Budget: a systematic sweep (every nasty text at every text step, every forged value at every
choice step: about 7,900 inputs with the exploring), then `EXAMPLES_PER_FLOW` Hypothesis examples
for each of the 24 flows (6,000), each followed by up to four ordinary steps; derandomized, so CI
runs the same ones each time.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections import deque
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import org_import, wish_import
from bot.domain.sunshine import child_import
from bot.domain.visits import household_import as visit_import
from handlers.flow import Flow
from tests.fuzz_world import (
    ADMIN,
    DONOR,
    FUZZ,
    LI,
    NASTY_TEXTS,
    ODD_DIGITS,
    OUTSIDER,
    TEACHER,
    VOLUNTEER,
    Findings,
    FuzzWorld,
    mangled,
    nasty_text,
    scaled,
)

EXAMPLES_PER_FLOW = scaled(250)
KINDS = ("text", "choice", "document", "photo", "location")

# ---- how each conversation starts, and who starts it ----------------------------------------------
# Each launch: who, and what they do (text to send, or ("data", payload) for a tap on a card's
# button). Someone with one organisation skips the organisation step: 李老师 has two.
LAUNCHES: dict[str, list[tuple[int, list[object]]]] = {
    "jn": [(OUTSIDER, ["/join"])],
    "bd": [(ADMIN, ["/start bind_-100777"])],
    "no": [(ADMIN, ["/neworg"])],
    "eo": [(ADMIN, ["/editorg"])],
    "im": [(ADMIN, ["/importorgs"])],
    "mb": [(ADMIN, ["/members"])],
    "ho": [(LI, ["/handover"])],
    "lv": [(DONOR, ["/leave"]), (LI, ["/leave"])],
    "rd": [(LI, ["/remind"])],
    "pf": [(VOLUNTEER, ["/profile"])],
    "na": [(ADMIN, ["/newactivity"])],  # a county admin is also asked about the hub
    "ea": [(LI, [("data", "ao:2:edit:0")])],
    "ca": [(LI, [("data", "ao:2:cancel:0")])],
    "at": [(LI, [("data", "ao:1:fix:0")]), (LI, [("data", "ao:1:rm:0")])],
    "sd": [(LI, [("data", "sv:1:other")])],
    "au": [(ADMIN, ["/newauction"])],
    "nw": [(TEACHER, ["/newwish"]), (ADMIN, ["/newwish"])],  # the teacher's one school: no picker
    "we": [(TEACHER, [("data", "wsh:2:edit")])],
    "wx": [(TEACHER, [("data", "wsh:2:cancel")])],
    "wd": [(DONOR, [("data", "wsh:1:deliver")])],
    "wl": [(ADMIN, ["/wishes"])],
    "wm": [(TEACHER, ["/importwishes"])],
    "dd": [(LI, ["/deed"])],
    "sr": [(ADMIN, ["/stars"])],
    "rs": [(ADMIN, [("data", "rpo:20260101:20261231")])],
    "sc": [(TEACHER, ["/newchild"]), (LI, ["/newchild"])],  # 李老师 picks one of two organisations
    "sl": [(TEACHER, [("data", "sunc:1:leave")])],
    "si": [(TEACHER, ["/importchildren"])],
    "sp": [(TEACHER, ["/pair C0001"])],
    "se": [(TEACHER, ["/endpair P0001"])],
    "sk": [(VOLUNTEER, ["/contact"])],
    "sv": [(VOLUNTEER, ["/volunteer"])],
    # The funds ledger: 李书记 keeps the township's two funds; county admins set up and override.
    "frc": [(LI, ["/receipt"])],
    "fgr": [(ADMIN, ["/grant"]), (LI, ["/grant"])],
    "fpl": [(LI, ["/pledge"])],
    "fnd": [(ADMIN, ["/newdonor"])],
    "fnf": [(ADMIN, ["/newfund"])],
    "qr": [(VOLUNTEER, [("qr", "")])],  # a scanned check-in code (tests/fuzz_world.py qr_payload)
    "id": [(VOLUNTEER, ["/myid"])],
    # Verification campaigns (tests/visits_fuzz.py seeds them).
    "vn": [(ADMIN, ["/newcampaign"])],
    "vi": [(ADMIN, ["/importhouseholds"])],
    "vt": [(ADMIN, [("data", "vc:2:by_hand")])],
    "vv": [(DONOR, [("data", "vh:1:start")])],
    "vq": [(ADMIN, [("data", "vr:1:issues")])],
    "vg": [(ADMIN, [("data", "vh:3:reassign")])],
    "vx": [(ADMIN, [("data", "vc:1:private")])],
}

# Ordinary answers tried at every step while exploring (a step's own button values come first).
ANSWERS = (
    "周六学业辅导",
    "学业辅导",
    "明天 14:00",
    "17:00",
    "3小时",
    "第一村村委会",
    "跳过",
    "500",
    "20",
    "30",
    "小明",
    "三年级",
    "一个篮球",
    "80",
    "王小明",
    "13800138000",
    "城关镇幸福路 1 号",
    "无",
    "城关",
    "县第一小学",
    "新建的团委",
    "@li",
    "300002",
    "明天 09:00",
    "每周一 09:00",
    "请按时提交周报",
    "冬季微心愿认领会",
    "60",
    "W0002 W0003",
    "10 每 5 分钟",
    "14",
    "家里有事",
    "@li 10:05 11:30 补签",
    "@li 没来",
    "已完成",
)

CSV = "text/csv"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def csv(rows: list[tuple[object, ...]]) -> bytes:
    return ("\r\n".join(",".join(str(cell) for cell in row) for row in rows) + "\r\n").encode("utf-8-sig")


# A file each step that takes one accepts, so that the steps after it are reached too.
DOCUMENTS = {
    "im": ("orgs.csv", csv([org_import.HEADERS, ("新的镇团委", "乡镇团委", "", 10)]), CSV),
    "vi": (
        "households.csv",
        csv([visit_import.HEADERS, ("小新", "城关镇团委", "", "某大学", "", "", "", "", "", "", "")]),
        CSV,
    ),
    "wm": (
        "wishes.csv",
        csv([wish_import.HEADERS, ("县第一小学", "小刚", "四年级", "一套画笔", "学习用品", 60, "否", "", "", "", "")]),
        CSV,
    ),
}
DOCUMENTS["si"] = ("children.csv", csv([child_import.HEADERS[:5], ("县第一小学", "小刚", "三年级", "英语", "否")]), CSV)
PHOTO = ("photo.png", PNG, "image/png")
# Files no step should choke on: a broken XLSX, a CSV in no known encoding, a "PNG" that is text,
# an empty file, a file with no extension, a header-only CSV, a CSV with a ten-thousand-cell row.
JUNK_FILES = (
    (
        "orgs.xlsx",
        b"PK\x03\x04" + bytes(range(256)) * 4,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("orgs.csv", b"\xff\xfe\x00\xd8" * 64, CSV),
    ("photo.png", b"not a picture", "image/png"),
    ("empty.csv", b"", CSV),
    ("noextension", b"hello", "application/octet-stream"),
    ("header.csv", csv([org_import.HEADERS]), CSV),
    ("wide.csv", csv([org_import.HEADERS, tuple("x" * 10 for _ in range(10_000))]), CSV),
)
LOCATION = (26.08, 119.30)

ODD_VALUES = (  # the likeliest to break first: Hypothesis draws early entries more often
    "99999999999999999999",
    "p99999999999999999999",
    "²",
    "p²",
    "9007199254740992",
    "-1",
    "",
    "x",
    "yes",
    "no",
    "skip",
    "cancel",
    "p0",
    "p-1",
    "p99999",
    "0",
    "all",
    "none",
    "a" * 40,
)


# ---- exploring ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    user_id: int
    step: str
    data: dict
    values: tuple[str, ...]  # the step's button values on screen when it was reached


def flows(world: FuzzWorld) -> dict[str, Flow]:
    return world.harness.app.bot_data["flows"].flows


def steps_of(flow: Flow) -> dict[str, set[str]]:
    """step → the kinds of input it takes (`text`, `choice`, `document`…)."""
    found: dict[str, set[str]] = {}
    for name, _method in inspect.getmembers(flow, inspect.iscoroutinefunction):
        kind, _, step = name.partition("_")
        if kind in KINDS and step:
            found.setdefault(step, set()).add(kind)
    return found


def values_on_screen(world: FuzzWorld, user_id: int, flow: str, step: str) -> tuple[str, ...]:
    values: list[str] = []
    for message in world.fake.bot_messages(user_id)[-3:]:
        for data in message.callback_data():
            parts = data.split(":", 3)
            if len(parts) == 4 and parts[:3] == ["cv", flow, step] and parts[3] not in values:
                values.append(parts[3])
    return tuple(values)


async def perform(world: FuzzWorld, user_id: int, flow: str, step: str, action: object) -> list[str]:
    kind, value = action if isinstance(action, tuple) else ("text", action)
    if kind == "text":
        return await world.send(user_id, value)
    if kind == "qr":
        return await world.send(user_id, f"/start {world.qr_payload}")
    if kind == "data":
        return await world.tap(user_id, user_id, value)
    if kind == "choice":
        return await world.tap(user_id, user_id, f"cv:{flow}:{step}:{value}")
    client = world.client(user_id)
    before = len(world.fake.calls)
    if kind == "document":
        name, content, mime = value
        await client.send_document(name, content, mime_type=mime)
    else:
        await client.send_location(*value)
    return world.check(before)


async def restore(world: FuzzWorld, flow: str, snapshot: Snapshot) -> None:
    services = world.services
    now = services.clock.now()
    await services.conversations.save(snapshot.user_id, flow, snapshot.step, copy.deepcopy(snapshot.data), now)


async def where(world: FuzzWorld, user_id: int, flow: str) -> tuple[str, dict] | None:
    state = await world.services.conversations.get(user_id)
    if state is None or state.flow != flow:
        return None
    return state.step, copy.deepcopy(state.data)


def actions_at(flow: str, snapshot: Snapshot, kinds: set[str]) -> list[object]:
    actions: list[object] = [("choice", value) for value in snapshot.values if value != "cancel"]
    if "text" in kinds:
        actions.extend(ANSWERS)
    if "document" in kinds:
        actions.append(("document", DOCUMENTS.get(flow, PHOTO)))
    if "photo" in kinds:
        actions.append(("document", PHOTO))
    if "location" in kinds:
        actions.append(("location", LOCATION))
    return actions


async def explore(world: FuzzWorld, flow: Flow, findings: Findings) -> dict[str, Snapshot]:
    """Breadth first from the launch: the first time a step is reached its state is kept, and
    every action from it is tried (restoring that state before each)."""
    steps = steps_of(flow)
    reached: dict[str, Snapshot] = {}
    queue: deque[Snapshot] = deque()

    def keep(user_id: int, found: tuple[str, dict] | None) -> None:
        if found is None or found[0] in reached:
            return
        step, data = found
        snapshot = Snapshot(user_id, step, data, values_on_screen(world, user_id, flow.name, step))
        reached[step] = snapshot
        queue.append(snapshot)

    for user_id, launch in LAUNCHES[flow.name]:
        await world.services.conversations.clear(user_id)
        for action in launch:
            findings.add(f"launch {action!r}", await perform(world, user_id, flow.name, "", action))
        keep(user_id, await where(world, user_id, flow.name))
    while queue and set(steps) - set(reached):
        snapshot = queue.popleft()
        for action in actions_at(flow.name, snapshot, steps.get(snapshot.step, {"text"})):
            await restore(world, flow.name, snapshot)
            problems = await perform(world, snapshot.user_id, flow.name, snapshot.step, action)
            findings.add(f"exploring {flow.name}:{snapshot.step} with {action!r}"[:200], problems)
            keep(snapshot.user_id, await where(world, snapshot.user_id, flow.name))
    return reached


def forged_values(values: tuple[str, ...]) -> list[str]:
    """Each value on screen with each of its numbers swapped for each odd one (`w2` → `w²`,
    `w99999999999999999999`…), then the odd values on their own."""
    forged: list[str] = []
    for value in values:
        for number in set(re.findall(r"\d+", value)):
            forged.extend(value.replace(number, odd, 1) for odd in ODD_DIGITS)
    return [*dict.fromkeys(forged), *ODD_VALUES]


async def sweep(world: FuzzWorld, flow: str, snapshot: Snapshot, kinds: set[str], findings: Findings) -> None:
    """Every known-nasty text at a step that takes text, every forged value at one that takes a
    tap, every junk file at one that takes a file: the systematic half of the fuzzing (Hypothesis
    then combines at random)."""
    actions: list[object] = []
    if "text" in kinds:
        actions.extend(NASTY_TEXTS)
    if "choice" in kinds:
        actions.extend(("choice", value) for value in forged_values(snapshot.values))
    if kinds & {"document", "photo"}:
        actions.extend(("document", junk) for junk in JUNK_FILES)
    for action in actions:
        await restore(world, flow, snapshot)
        problems = await perform(world, snapshot.user_id, flow, snapshot.step, action)
        findings.add(f"{flow}:{snapshot.step} given {action!r}"[:200], problems)


# ---- the tests --------------------------------------------------------------------------------------------


def test_every_registered_flow_has_a_launch(fuzz_world):
    world = fuzz_world
    assert set(flows(world)) == set(LAUNCHES)


@pytest.mark.parametrize("flow_name", sorted(LAUNCHES))
def test_every_step_answers_any_input_without_a_crash(fuzz_world, flow_name):
    world = fuzz_world
    flow = flows(world)[flow_name]
    findings = Findings()
    reached = world.run(explore(world, flow, findings))
    steps = steps_of(flow)
    wanted = {step for step, kinds in steps.items() if kinds & {"text", "choice"}}
    assert wanted <= set(reached), f"{flow_name}: steps never reached: {sorted(wanted - set(reached))}"
    snapshots = [reached[step] for step in sorted(wanted)]
    for snapshot in snapshots:
        world.run(sweep(world, flow_name, snapshot, steps[snapshot.step], findings))

    @settings(FUZZ, max_examples=EXAMPLES_PER_FLOW)
    @given(
        snapshot=st.sampled_from(snapshots),
        kind=st.sampled_from(("text", "text", "choice")),
        text=nasty_text(ANSWERS),
        value=st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=12)),
        offered=st.integers(min_value=0, max_value=50),
        mangle=st.data(),
        then=st.lists(st.integers(min_value=0, max_value=10**6), max_size=4),
    )
    def step(snapshot, kind, text, value, offered, mangle, then):
        if kind == "choice" and snapshot.values and offered < 34:
            value = snapshot.values[offered % len(snapshot.values)]  # a real choice, a third of the time
            if offered >= 17:
                value = mangle.draw(mangled(value))  # or one with its number forged
        action = text if kind == "text" else ("choice", value)
        world.run(restore(world, flow_name, snapshot))
        problems = world.run(perform(world, snapshot.user_id, flow_name, snapshot.step, action))
        story = [f"{flow_name}:{snapshot.step} given {action!r}"[:200]]
        findings.add(" then ".join(story), problems)
        # Then a few ordinary steps on from there: a bad value accepted early may only fail at
        # the end (a reminder for 9999-12-31 is refused when it is saved, not when it is typed).
        for choice in then:
            found = world.run(where(world, snapshot.user_id, flow_name))
            if found is None:
                break
            now = Snapshot(
                snapshot.user_id, found[0], found[1], values_on_screen(world, snapshot.user_id, flow_name, found[0])
            )
            actions = actions_at(flow_name, now, steps.get(now.step, {"text"}))
            if not actions:
                break
            follow = actions[choice % len(actions)]
            story.append(f"{now.step} given {follow!r}"[:100])
            findings.add(" then ".join(story), world.run(perform(world, now.user_id, flow_name, now.step, follow)))

    step()
    assert findings.examples >= EXAMPLES_PER_FLOW
    assert not findings.by_problem, findings.report()
