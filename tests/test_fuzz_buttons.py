"""Property-based fuzzing of everything a client can forge without typing: every button payload
(each `CallbackData` subclass with mangled fields, real payloads tapped by the wrong person or in
the wrong chat, and raw strings) and every `/start` deep link. Property: the bot answers every one
of them sensibly (a refusal, the expired-button notice, the thing asked for) and never reaches the
error handler with an exception or shows the generic apology.

Budget: 9,000 examples here (6,000 forged payloads, 1,500 raw strings, 1,500 deep links), fixed
and derandomized (tests/fuzz_world.FUZZ), so CI runs the same examples every time; with the typed
commands (tests/test_fuzz_commands.py) and the conversations (tests/test_fuzz_conversations.py),
about 24,000 inputs in all, over a minute of CI time.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

import handlers
from handlers.callback_data import MAX_BYTES, SEPARATOR, CallbackData, payload_classes
from handlers.common import LanguageButton
from tests.fuzz_world import FUZZ, HUB, MEMBERS, SEATS, Findings, mangled, scaled
from tests.harness import COUNTY_ADMIN_ID

# Values that broke or nearly broke parsers: the 53- and 63-bit edges, "digits" that are not
# ASCII (`"²".isdigit()` is True), signs, spaces, floats, hex, leading zeros, the separator.
# The likeliest to break come first in each list: Hypothesis draws early entries more often.
EDGE_INTEGERS = (10**20, 2**63, 2**53, 0, -1, 1, 2, 3, 4, 5, 7, -2, 2**31, 2**53 - 1, 2**53 + 1, 2**63 - 1, 2**64)
ODD_NUMBERS = (
    "²",
    "",
    "١٢",
    "１２",
    "٣",
    "-0",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "1e3",
    "1.5",
    "NaN",
    "∞",
    "-",
    "--1",
    "00000001",
    "0" * 20,
    "-" + "9" * 19,
)
ODD_TOKENS = (
    "o99999999999999999999",
    "w99999999999999999999",
    "v99999999999999999999",
    "p99999999999999999999",
    "o²",
    "v²",
    "",
    "x",
    "in",
    "out",
    "yes",
    "no",
    "all",
    "cancel",
    "p0",
    "p1",
    "p-1",
    "p²",
    "p99999999999999999999",
    "_",
    "-",
    "a" * 40,
    "a" * 41,
    "é",
    "W0001",
    "A0001",
    "o1",
    "v1",
    "v-1",
    "w1",
    "c0",
    "none",
)
TOKEN_ALPHABET = string.ascii_letters + string.digits + "_-"


def callback_classes() -> list[type[CallbackData]]:
    """Every button payload the bot defines (found, not listed, so a new one is fuzzed too)."""
    assert handlers.register  # the import defines every feature's payload classes
    return payload_classes()


CLASSES = callback_classes()


def test_every_payload_class_is_found():
    prefixes = {kind.prefix for kind in CLASSES}
    assert {"as", "ao", "sv", "ac", "ar", "ab", "lang", "dpg", "cv", "jd", "ha", "rm", "rpc", "rpx", "rpo"} <= prefixes
    assert "wsh" in prefixes and len(prefixes) == len(CLASSES)


def test_only_payloads_meant_for_groups_are_posted_there(fuzz_world):
    """What handlers/gate.py relies on: a payload class not marked `in_groups` never appears on
    a button in a group, so a tap of one there is forged."""
    world = fuzz_world
    classes = {kind.prefix: kind for kind in payload_classes()}
    for chat_id in MEMBERS:
        for message in world.fake.bot_messages(chat_id):
            for data in message.callback_data():
                kind = classes.get(data.split(SEPARATOR, 1)[0])
                assert "://" in data or (kind is not None and kind.in_groups), (chat_id, data)


async def test_a_private_button_tapped_in_a_group_changes_nothing_there(harness):
    """A forged /lang button in the hub used to turn the pinned auction board into "language
    changed" (or fail on a message without text): now it is refused as expired."""
    admin = harness.admin()
    await harness.group_with_bot(HUB, "团县委工作群", admins=(COUNTY_ADMIN_ID,))
    await admin.send("/help", HUB)
    board = admin.last_reply(HUB)
    await harness.deliver(
        harness.fake.user_taps(COUNTY_ADMIN_ID, HUB, board.message_id, LanguageButton(code="en").pack(), forge=True)
    )
    assert harness.fake.callback_answers[-1]["text"] == "这个按钮已过期或无效。请重新发送命令开始。"
    assert admin.last_reply(HUB).text == board.text
    assert (await harness.services.people.get(COUNTY_ADMIN_ID)).language is None


def integer_text(seen: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([str(number) for number in EDGE_INTEGERS]),
        st.sampled_from(ODD_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(seen or ["1"]),
    )


def token_text(seen: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(seen or ["x"]),
        st.sampled_from(ODD_TOKENS),
        st.text(alphabet=TOKEN_ALPHABET, max_size=45),
        st.text(max_size=20),
    )


@st.composite
def forged_payload(draw, seen_by_prefix: dict[str, list[list[str]]]) -> str:
    """A payload of some class: each field from real values seen on buttons, edge numbers and
    junk; sometimes a field too few or too many, sometimes padded to the 64-byte edge."""
    kind = draw(st.sampled_from(CLASSES))
    seen = seen_by_prefix.get(kind.prefix, [])
    parts = []
    for index, (_name, field_kind) in enumerate(kind.fields()):
        values = sorted({fields[index] for fields in seen if len(fields) > index})
        parts.append(draw(integer_text(values) if field_kind is int else token_text(values)))
    shape = draw(st.sampled_from(("exact", "exact", "exact", "fewer", "more", "pad")))
    if shape == "fewer" and parts:
        parts.pop()
    elif shape == "more":
        parts.append(draw(st.sampled_from(("1", "x", ""))))
    data = SEPARATOR.join([kind.prefix, *parts])
    if shape == "pad":
        target = draw(st.sampled_from((MAX_BYTES - 1, MAX_BYTES, MAX_BYTES + 1)))
        filler = draw(st.sampled_from(("9", "x", "é", "９")))
        while len(data.encode()) + len(filler.encode()) <= target:
            data += filler
    return data


@st.composite
def one_field_changed(draw, genuine: list[str]) -> str:
    """A payload the bot really sent with one field forged: the likeliest forgery, and the one
    that reaches furthest (every other field is valid)."""
    prefix, *fields = draw(st.sampled_from(genuine)).split(SEPARATOR)
    if not fields:
        return prefix
    index = draw(st.integers(0, len(fields) - 1))
    fields[index] = draw(
        st.one_of(mangled(fields[index]), integer_text([]), st.sampled_from(ODD_TOKENS), st.text(max_size=12))
    )
    return SEPARATOR.join([prefix, *fields])


def raw_payload(prefixes: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=70),
        st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(prefixes), st.text(max_size=60)),
        st.builds(
            lambda prefix, rest: f"{prefix}{SEPARATOR}{rest}",
            st.sampled_from(prefixes),
            st.text(alphabet=TOKEN_ALPHABET + ":²", max_size=60),
        ),
    )


def seen_payloads(world) -> dict[str, list[list[str]]]:
    by_prefix: dict[str, list[list[str]]] = {}
    for data in world.callback_data_seen():
        if "://" in data:
            continue
        prefix, *fields = data.split(SEPARATOR)
        by_prefix.setdefault(prefix, []).append(fields)
    return by_prefix


def fuzz_taps(world, payloads: st.SearchStrategy[str], examples: int) -> Findings:
    """`examples` taps of `payloads`, each by someone in a chat they are in."""
    findings = Findings()

    @settings(FUZZ, max_examples=scaled(examples))
    @given(seat=st.sampled_from(SEATS), data=payloads)
    def tap(seat, data):
        user_id, chat_id = seat
        findings.add(f"{user_id} tapped {data!r} in {chat_id}", world.run(world.tap(user_id, chat_id, data)))

    tap()
    assert findings.examples >= scaled(examples)
    return findings


def test_forged_button_payloads_are_answered_without_a_crash(fuzz_world):
    seen = seen_payloads(fuzz_world)
    assert len(seen) >= 8, f"the world shows too few kinds of buttons to fuzz: {sorted(seen)}"
    genuine = sorted(SEPARATOR.join([prefix, *fields]) for prefix, rows in seen.items() for fields in rows)
    payloads = st.one_of(forged_payload(seen), one_field_changed(genuine), st.sampled_from(genuine))
    findings = fuzz_taps(fuzz_world, payloads, 6000)
    assert not findings.by_problem, findings.report()


def test_raw_callback_strings_are_answered_without_a_crash(fuzz_world):
    prefixes = sorted({kind.prefix for kind in CLASSES} | {"", ":", "cv:", "x"})
    findings = fuzz_taps(fuzz_world, raw_payload(prefixes), 1500)
    assert not findings.by_problem, findings.report()


DEEP_LINK_PREFIXES = ("join_", "bind_", "auc_", "bind_-", "join_-", "", "start_", "JOIN_", "join", "bind_--")


@st.composite
def deep_link(draw) -> str:
    prefix = draw(st.sampled_from(DEEP_LINK_PREFIXES))
    rest = draw(
        st.one_of(
            st.sampled_from([str(number) for number in EDGE_INTEGERS]),
            st.sampled_from(ODD_NUMBERS),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.text(alphabet=TOKEN_ALPHABET, max_size=64),
            st.text(max_size=30),
        )
    )
    return prefix + rest


def test_deep_links_are_answered_without_a_crash(fuzz_world):
    world = fuzz_world
    findings = Findings()
    people = sorted({user_id for user_id, chat_id in SEATS if user_id == chat_id})
    chats = [str(chat_id) for _user, chat_id in SEATS if chat_id < 0]

    @settings(FUZZ, max_examples=scaled(1500))
    @given(
        user_id=st.sampled_from(people),
        payload=st.one_of(
            deep_link(),
            st.sampled_from([f"bind_{chat}" for chat in chats] + [f"join_{n}" for n in range(5)] + ["auc_1"]),
        ),
        extra=st.sampled_from(("", " x", " 1 2")),
    )
    def start(user_id, payload, extra):
        text = f"/start {payload}{extra}"
        findings.add(f"{user_id} sent {text!r}", world.run(world.send(user_id, text)))
        world.run(world.send(user_id, "/cancel"))  # leave whatever conversation the link opened

    start()
    assert findings.examples >= scaled(1500)
    assert not findings.by_problem, findings.report()
