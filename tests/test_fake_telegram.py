"""The fake Telegram must be as strict as the real one, or bot bugs slip through."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.practice.emulator import FakeRequest, FakeTelegram, UserClient, serve

TOKEN = "123:ABC"
ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP = -4001
SUPERGROUP = -1001234567890


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeTelegram:
    world = FakeTelegram(monotonic=clock)
    world.add_user(ALICE, "Alice", username="alice")
    world.add_user(BOB, "Bob")
    world.add_user(CAROL, "Carol", started=False)
    world.add_group(GROUP, "Committee", admins=[ALICE], members=[BOB])
    world.add_group(SUPERGROUP, "League", supergroup=True, admins=[ALICE], members=[BOB], bot_is_admin=True)
    return world


@pytest.fixture
async def bot(fake: FakeTelegram):
    instance = Bot(TOKEN, request=FakeRequest(fake), get_updates_request=FakeRequest(fake))
    await instance.initialize()
    yield instance
    await instance.shutdown()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


# ----------------------------------------------------------------- sending & reading


async def test_bot_identity_comes_from_get_me(bot: Bot, fake: FakeTelegram) -> None:
    assert bot.id == fake.bot_id
    assert bot.username == "league_test_bot"


async def test_group_message_is_rendered_and_recorded(bot: Bot, fake: FakeTelegram) -> None:
    sent = await bot.send_message(
        GROUP,
        "<b>Meeting</b> at 5 &amp; bring notes",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(("Join", "join:1"), ("Skip", "skip:1")),
    )
    assert sent.text == "Meeting at 5 & bring notes"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == len("Meeting")
    assert sent.message_id == 1 and sent.chat.type == "group"

    fake.user_sends(BOB, GROUP, "ok")
    second = await bot.send_message(GROUP, "noted")
    assert second.message_id == 3  # ids are shared by user and bot messages of a chat

    transcript = fake.messages(GROUP)
    assert [m.text for m in transcript] == ["Meeting at 5 & bring notes", "ok", "noted"]
    assert [m.from_bot for m in transcript] == [True, False, True]
    first = transcript[0]
    assert first.parse_mode == "HTML"
    assert first.raw_text.startswith("<b>Meeting</b>")
    assert first.buttons() == [("Join", "join:1"), ("Skip", "skip:1")]
    assert first.button_labels() == ["Join", "Skip"]
    assert fake.last_bot_message(GROUP).text == "noted"
    assert fake.count_calls("sendMessage") == 2


async def test_text_length_limits(bot: Bot) -> None:
    await bot.send_message(ALICE, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ALICE, "  \n ")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ALICE, "<b></b>", parse_mode=ParseMode.HTML)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=keyboard(("A", "a" * 64)))
    await bot.send_message(ALICE, "ok", reply_markup=keyboard(("A", "中" * 21)))  # 63 bytes
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard(("A", "a" * 65)))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard(("A", "中" * 22)))  # 66 bytes


async def test_inline_keyboard_is_limited_to_100_buttons(bot: Bot) -> None:
    buttons = [(f"b{i}", f"d{i}") for i in range(100)]
    await bot.send_message(ALICE, "ok", reply_markup=keyboard(*buttons))
    with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard(*buttons, ("one", "more")))


async def test_button_without_action_is_rejected(bot: Bot, fake: FakeTelegram) -> None:
    status, body = fake.handle(
        "sendMessage",
        {
            "chat_id": ALICE,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "bare"}]]},
        },
    )
    assert status == 400 and "Text buttons are unallowed" in body["description"]


async def test_editing_identical_content_is_not_modified(bot: Bot, fake: FakeTelegram) -> None:
    markup = keyboard(("Yes", "y"))
    sent = await bot.send_message(GROUP, "Vote", reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("Vote", GROUP, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=markup)

    # Like Telegram, editing the text without reply_markup drops the keyboard.
    await bot.edit_message_text("Vote", GROUP, sent.message_id)
    stored = fake.last_bot_message(GROUP)
    assert stored.reply_markup is None and stored.edited == 1
    await bot.edit_message_text("<i>Vote</i>", GROUP, sent.message_id, parse_mode="HTML")
    assert fake.last_bot_message(GROUP).edited == 2


async def test_edit_and_delete_errors(bot: Bot, fake: FakeTelegram) -> None:
    user_message = fake.user_sends(BOB, GROUP, "hello")["message"]["message_id"]
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("hacked", GROUP, user_message)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", GROUP, 999)
    with pytest.raises(BadRequest, match="(?i)message can't be deleted"):
        await bot.delete_message(GROUP, user_message)  # not an admin in GROUP
    sent = await bot.send_message(GROUP, "temp")
    assert await bot.delete_message(GROUP, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(GROUP, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", GROUP, sent.message_id)
    assert [m.text for m in fake.messages(GROUP)] == ["hello"]
    assert fake.messages(GROUP, include_deleted=True)[-1].deleted


async def test_bad_html_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities: Unsupported start tag"):
        await bot.send_message(ALICE, "score <3 points", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't parse entities: Unmatched end tag"):
        await bot.send_message(ALICE, "<b>bold</i>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't parse entities: Can't find end tag"):
        await bot.send_message(ALICE, "<b>bold", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(ALICE, "Tom & Jerry", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(ALICE, '<span class="x">s</span>', parse_mode=ParseMode.HTML)
    ok = await bot.send_message(
        ALICE,
        '<a href="https://example.org/?a=1&amp;b=2">link</a> &lt;3 &#128512;',
        parse_mode=ParseMode.HTML,
    )
    assert ok.text == "link <3 \U0001f600"
    assert ok.entities[0].url == "https://example.org/?a=1&b=2"


async def test_markdown_v2_reserved_characters(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)Character '.' is reserved"):
        await bot.send_message(ALICE, "Done.", parse_mode=ParseMode.MARKDOWN_V2)
    ok = await bot.send_message(ALICE, "*Done*\\.", parse_mode=ParseMode.MARKDOWN_V2)
    assert ok.text == "Done." and ok.entities[0].type == "bold"


# --------------------------------------------------------------------- callbacks


async def test_callback_query_can_be_answered_once(bot: Bot, fake: FakeTelegram) -> None:
    sent = await bot.send_message(ALICE, "Pick", reply_markup=keyboard(("Yes", "y")))
    update = fake.user_taps(ALICE, ALICE, sent.message_id, "y")
    query_id = update["callback_query"]["id"]
    assert update["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y"
    assert fake.unanswered_callback_queries() == [query_id]

    assert await bot.answer_callback_query(query_id, text="Saved")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("12345")
    assert fake.unanswered_callback_queries() == []
    assert fake.callback_answers[0]["text"] == "Saved"


async def test_a_tap_answered_more_than_15_seconds_later_is_too_old(bot: Bot) -> None:
    tap_clock = FakeClock()
    world = FakeTelegram(callback_clock=tap_clock)
    world.add_user(ALICE, "Alice")
    late, in_time = (world.user_taps(ALICE, ALICE, 1, "x", forge=True)["callback_query"]["id"] for _ in range(2))
    tap_clock.advance(14.9)
    assert world.handle("answerCallbackQuery", {"callback_query_id": in_time})[0] == 200
    tap_clock.advance(0.2)
    status, body = world.handle("answerCallbackQuery", {"callback_query_id": late})
    assert (status, body["description"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert world.unanswered_callback_queries() == [late]


async def test_taps_must_match_a_real_button_unless_forged(bot: Bot, fake: FakeTelegram) -> None:
    sent = await bot.send_message(ALICE, "Pick", reply_markup=keyboard(("Yes", "y")))
    with pytest.raises(AssertionError, match="not on any button"):
        fake.user_taps(ALICE, ALICE, sent.message_id, "admin:delete_all")
    with pytest.raises(AssertionError, match="does not exist"):
        fake.user_taps(ALICE, ALICE, 999, "y")
    forged = fake.user_taps(ALICE, ALICE, sent.message_id, "admin:delete_all", forge=True)
    assert forged["callback_query"]["data"] == "admin:delete_all"
    query = Update.de_json(forged, bot).callback_query
    assert query.message.message_id == sent.message_id


# ------------------------------------------------------------ chat access rules


async def test_user_who_never_started_the_bot_is_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(Forbidden, match="(?i)bot can't initiate conversation with a user"):
        await bot.send_message(CAROL, "hi")
    fake.user_sends(CAROL, CAROL, "/start")
    await bot.send_message(CAROL, "welcome")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "nobody")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(-999, "no group")


async def test_kicked_bot_is_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    update = fake.bot_removed_from_group(GROUP, ALICE)
    member = Update.de_json(update, bot).my_chat_member
    assert member.old_chat_member.status == "member"
    assert member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="(?i)bot was kicked from the group chat"):
        await bot.send_message(GROUP, "still here?")
    readded = Update.de_json(fake.bot_added_to_group(GROUP, ALICE, status="administrator"), bot)
    assert readded.my_chat_member.old_chat_member.status == "kicked"
    assert readded.my_chat_member.new_chat_member.status == "administrator"
    await bot.send_message(GROUP, "back")


async def test_bot_added_after_add_group_is_a_real_join(bot: Bot, fake: FakeTelegram) -> None:
    fake.add_group(-4002, "New branch", admins=[BOB])
    joined = Update.de_json(fake.bot_added_to_group(-4002, BOB), bot).my_chat_member
    assert (joined.old_chat_member.status, joined.new_chat_member.status) == ("left", "member")
    assert joined.from_user.id == BOB


async def test_migrated_group_raises_chat_migrated(bot: Bot, fake: FakeTelegram) -> None:
    fake.pop_updates()
    new_id = fake.migrate_to_supergroup(GROUP)
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "hello")
    assert caught.value.new_chat_id == new_id
    sent = await bot.send_message(new_id, "hello supergroup")
    assert sent.chat.type == "supergroup"

    old_notice, new_notice = [Update.de_json(u, bot).message for u in fake.pop_updates()]
    assert old_notice.migrate_to_chat_id == new_id
    assert new_notice.migrate_from_chat_id == GROUP
    assert new_notice.chat.id == new_id


async def test_anonymous_admin_posts_as_the_group(bot: Bot, fake: FakeTelegram) -> None:
    update = Update.de_json(fake.user_sends(ALICE, GROUP, "/report", as_group=True), bot)
    assert update.effective_user.id == 1087968824
    assert update.effective_user.username == "GroupAnonymousBot"
    assert update.message.sender_chat.id == GROUP
    assert update.message.entities[0].type == "bot_command"


async def test_replies_and_locations_parse_in_ptb(bot: Bot, fake: FakeTelegram) -> None:
    command = Update.de_json(fake.user_sends(BOB, GROUP, "/join@league_test_bot now"), bot)
    assert command.message.entities[0].length == len("/join@league_test_bot")
    reply = await command.message.reply_text("joined")  # PTB quotes by default in groups
    assert reply.reply_to_message.message_id == command.message.message_id
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(GROUP, "x", reply_to_message_id=999)

    answer = Update.de_json(fake.user_sends(BOB, GROUP, "thanks", reply_to_message_id=reply.message_id), bot)
    assert answer.message.reply_to_message.from_user.id == fake.bot_id
    located = Update.de_json(fake.user_sends(ALICE, ALICE, location=(31.23, 121.47)), bot)
    assert (located.message.location.latitude, located.message.location.longitude) == (31.23, 121.47)


async def test_pinning_needs_admin_rights_in_groups(bot: Bot, fake: FakeTelegram) -> None:
    in_group = await bot.send_message(GROUP, "rules")
    with pytest.raises(BadRequest, match="(?i)not enough rights to manage pinned messages"):
        await bot.pin_chat_message(GROUP, in_group.message_id)
    in_super = await bot.send_message(SUPERGROUP, "rules")
    assert await bot.pin_chat_message(SUPERGROUP, in_super.message_id)
    assert fake.pinned_message(SUPERGROUP).text == "rules"
    assert await bot.unpin_chat_message(SUPERGROUP)
    assert fake.pinned_message(SUPERGROUP) is None


async def test_chat_and_member_queries(bot: Bot, fake: FakeTelegram) -> None:
    chat = await bot.get_chat(SUPERGROUP)
    assert chat.title == "League"
    admins = await bot.get_chat_administrators(SUPERGROUP)
    assert [a.user.id for a in admins] == [ALICE, fake.bot_id]
    assert admins[0].status == "creator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    assert (await bot.get_chat_member(GROUP, CAROL)).status == "left"
    assert await bot.send_chat_action(GROUP, "typing")
    with pytest.raises(BadRequest):
        await bot.send_chat_action(GROUP, "dancing")


async def test_reactions_are_recorded(bot: Bot, fake: FakeTelegram) -> None:
    message_id = fake.user_sends(ALICE, ALICE, "done")["message"]["message_id"]
    await bot.set_message_reaction(ALICE, message_id, ReactionTypeEmoji("👍"))
    assert fake.messages(ALICE)[0].reactions == ["👍"]
    with pytest.raises(BadRequest, match="(?i)REACTION_INVALID"):
        await bot.set_message_reaction(ALICE, message_id, ReactionTypeEmoji("🦖"))


async def test_bot_commands_are_validated(bot: Bot, fake: FakeTelegram) -> None:
    await bot.set_my_commands([("start", "Start the bot"), ("help", "Help")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start-Now", "bad name")])
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([("start", "")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


# -------------------------------------------------------------------- flood control

# PTB 22 itself warns about RetryAfter.retry_after becoming a timedelta when raising it.
_RETRY_AFTER_WARNING = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@_RETRY_AFTER_WARNING
async def test_group_flood_limit_is_20_per_minute(bot: Bot, fake: FakeTelegram, clock: FakeClock) -> None:
    for i in range(20):
        await bot.send_message(GROUP, f"m{i}")
        clock.advance(1.5)  # stay under the global per-second limit
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "one too many")
    # The first message leaves the window 60 s after it was sent: 60 - 20 * 1.5 = 30 s.
    assert "Retry in 30 seconds" in str(caught.value)
    assert fake.http_429 == 1
    assert fake.flood_events == [("sendMessage", GROUP, 30)]
    assert len(fake.bot_messages(GROUP)) == 20  # the rejected call had no effect

    await bot.send_message(ALICE, "private chats are not group-limited")
    clock.advance(30)
    await bot.send_message(GROUP, "allowed again")


@_RETRY_AFTER_WARNING
async def test_global_flood_limit_is_30_per_second(bot: Bot, fake: FakeTelegram, clock: FakeClock) -> None:
    for i in range(30):
        await bot.send_message(ALICE, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(BOB, "burst")
    assert "Retry in 1 seconds" in str(caught.value)
    assert fake.flood_events == [("sendMessage", BOB, 1)]
    clock.advance(1)
    await bot.send_message(BOB, "later")


# -------------------------------------------------------------------------- updates


async def test_get_updates_offset_semantics(bot: Bot, fake: FakeTelegram) -> None:
    ids = [fake.user_sends(ALICE, ALICE, f"m{i}")["update_id"] for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3

    first = await bot.get_updates()
    assert [u.update_id for u in first] == ids
    again = await bot.get_updates()  # not confirmed yet -> delivered again
    assert [u.update_id for u in again] == ids
    rest = await bot.get_updates(offset=ids[1])  # confirms everything before ids[1]
    assert [u.update_id for u in rest] == ids[1:]
    assert [u.message.text for u in rest] == ["m1", "m2"]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert fake.pending_updates() == []

    limited_ids = [fake.user_sends(ALICE, ALICE, f"n{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == limited_ids[:2]
    fake.bot_removed_from_group(GROUP, ALICE)
    only_members = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert [u.my_chat_member is not None for u in only_members] == [True]


def test_long_poll_waits_for_timeout_then_returns_empty(fake: FakeTelegram) -> None:
    started = time.monotonic()
    status, body = fake.handle("getUpdates", {"timeout": 0.2})
    assert status == 200 and body["result"] == []
    assert time.monotonic() - started >= 0.19


# ------------------------------------------------------------------------- files


async def test_document_round_trip(bot: Bot, fake: FakeTelegram) -> None:
    content = b"name,org\r\n\x00\xffalice,league\n"
    update = Update.de_json(
        fake.user_sends(
            ALICE,
            ALICE,
            "import",
            document={"file_name": "orgs.csv", "mime_type": "text/csv", "content": content},
        ),
        bot,
    )
    document = update.message.document
    assert (document.file_name, document.file_size) == ("orgs.csv", len(content))
    assert update.message.caption == "import"
    telegram_file = await bot.get_file(document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == content

    sent = await bot.send_document(
        ALICE, b"report-bytes", filename="report.txt", caption="<b>Report</b>", parse_mode="HTML"
    )
    assert sent.document.file_name == "report.txt" and sent.caption == "Report"
    stored = fake.last_bot_message(ALICE)
    assert stored.document["content"] == b"report-bytes"
    assert fake.file_bytes(sent.document.file_id) == b"report-bytes"
    # Re-sending by file_id is how bots forward stored files.
    resent = await bot.send_document(BOB, sent.document.file_id)
    assert resent.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(ALICE, "no-such-file-id")


async def test_photo_must_be_an_image(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    sent = await bot.send_photo(ALICE, png, caption="chart")
    assert sent.photo and fake.last_bot_message(ALICE).photo == png
    with pytest.raises(BadRequest, match="(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, b"not an image")


async def test_an_album_is_one_message_per_photo_sharing_a_media_group(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    sent = await bot.send_media_group(ALICE, [InputMediaPhoto(png, caption=f"chart {n}") for n in range(3)])
    assert [message.caption for message in sent] == ["chart 0", "chart 1", "chart 2"]
    assert len({message.media_group_id for message in sent}) == 1 and sent[0].media_group_id
    assert [m.kind for m in fake.bot_messages(ALICE)] == ["photo", "photo", "photo"]
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(png)])
    with pytest.raises(BadRequest, match="(?i)MEDIA_GROUP_INVALID"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(png), InputMediaDocument(b"x" * 10, filename="a.txt")])
    with pytest.raises(BadRequest, match="(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(png), InputMediaPhoto(b"not an image")])
    assert len(fake.bot_messages(ALICE)) == 3  # a refused album sends nothing


# -------------------------------------------------------------------- misc strictness


async def test_unknown_method_is_recorded(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", {"chat_id": ALICE})
    assert fake.unknown_methods == ["sendTelepathy"]
    with pytest.raises(AssertionError, match="sendTelepathy"):
        fake.assert_no_unknown_methods()


# ------------------------------------------------------------------------ user client


async def test_user_client_drives_a_real_application(fake: FakeTelegram) -> None:
    application = (
        Application.builder()
        .token(TOKEN)
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .updater(None)
        .build()
    )

    async def start(update, context):
        await update.effective_message.reply_text(
            "Join the league?",
            reply_markup=keyboard(("✅ Yes", "join:yes"), ("No", "join:no")),
        )

    async def answer(update, context):
        query = update.callback_query
        await query.answer("Saved" if query.data == "join:yes" else "Cancelled")
        await query.edit_message_text(f"You chose {query.data.split(':')[1]}")

    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(answer, pattern=r"^join:"))

    async def deliver(update: dict) -> None:
        await application.process_update(Update.de_json(update, application.bot))

    async with application:
        dave = UserClient(fake, 2001, deliver)
        await dave.send("/start")
        assert dave.last_reply().button_labels() == ["✅ Yes", "No"]
        await dave.tap("Yes")  # substring match
        assert dave.callback_answers == ["Saved"]
        assert dave.transcript() == ["/start", "You chose yes"]
        assert dave.last_reply().edited == 1 and dave.last_reply().buttons() == []
        with pytest.raises(AssertionError, match="no button labelled 'Maybe'"):
            await dave.tap("Maybe")
        await dave.send_document("a.txt", b"abc")
        assert dave.transcript()[-1] == "[document a.txt]"
    assert fake.pending_updates() == []
    assert fake.unanswered_callback_queries() == []
    fake.assert_no_unknown_methods()


# ------------------------------------------------------------------------------ HTTP


async def test_http_server_speaks_the_bot_api(fake: FakeTelegram) -> None:
    server = serve(fake)
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as http_bot:
            assert http_bot.username == "league_test_bot"
            sent = await http_bot.send_message(
                GROUP,
                "<b>hi</b> 👋",
                parse_mode="HTML",
                reply_markup=keyboard(("Go", "go")),
            )
            assert sent.text == "hi 👋"
            assert fake.last_bot_message(GROUP).buttons() == [("Go", "go")]
            with pytest.raises(BadRequest, match="(?i)message is too long"):
                await http_bot.send_message(GROUP, "y" * 5000)

            payload = bytes(range(256)) + b"\r\n--boundary-lookalike\r\n"
            document = await http_bot.send_document(
                ALICE,
                payload,
                filename="blob.bin",
                caption="binary",
            )
            assert fake.file_bytes(document.document.file_id) == payload
            downloaded = await (await http_bot.get_file(document.document.file_id)).download_as_bytearray()
            assert bytes(downloaded) == payload

            timer = threading.Timer(0.2, fake.user_sends, args=(ALICE, ALICE, "late"))
            timer.start()
            started = time.monotonic()
            updates = await http_bot.get_updates(timeout=1)
            timer.join()
            assert [u.message.text for u in updates] == ["late"]
            assert time.monotonic() - started < 1.0  # woke on arrival, not on timeout
    finally:
        server.close()


def test_http_control_endpoint_and_form_posts(fake: FakeTelegram) -> None:
    import json
    import urllib.request

    server = serve(fake)
    try:

        def post(path: str, data: bytes, content_type: str) -> dict:
            request = urllib.request.Request(server.root_url + path, data=data, headers={"Content-Type": content_type})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                return json.loads(error.read())

        result = post(
            "/_fake/user_sends",
            json.dumps({"user_id": ALICE, "chat_id": ALICE, "text": "/start"}).encode(),
            "application/json",
        )
        assert result["result"]["message"]["text"] == "/start"
        form = post(f"/bot{TOKEN}/sendMessage", b"chat_id=1001&text=form+post", "application/x-www-form-urlencoded")
        assert form["ok"] and form["result"]["text"] == "form post"
        denied = post(f"/bot{TOKEN}/sendMessage", b"chat_id=1003&text=x", "application/x-www-form-urlencoded")
        assert denied["error_code"] == 403
    finally:
        server.close()


async def test_request_latency_is_applied(fake: FakeTelegram) -> None:
    request = FakeRequest(fake, latency=0.05)
    async with Bot(TOKEN, request=request, get_updates_request=FakeRequest(fake)) as slow:
        started = asyncio.get_running_loop().time()
        await slow.send_message(ALICE, "slow")
        assert asyncio.get_running_loop().time() - started >= 0.05


def test_http_server_adds_the_round_trip_turns_nagle_off_and_batches_control_actions(fake: FakeTelegram) -> None:
    import http.client
    import json
    import socket

    seen: list[tuple[str, int]] = []
    server = serve(fake, round_trip=0.1, observer=lambda what, params, status, response: seen.append((what, status)))
    nagle_off: list[int] = []
    accept = server._httpd.process_request

    def noting_nodelay(request: socket.socket, address: object) -> None:
        nagle_off.append(request.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        accept(request, address)

    server._httpd.process_request = noting_nodelay
    try:
        assert server._httpd.request_queue_size >= 1024
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        started = time.monotonic()
        connection.request("POST", f"/bot{TOKEN}/getMe")
        assert json.loads(connection.getresponse().read())["ok"]
        assert 0.1 <= time.monotonic() - started < 0.5
        tap = {"user_id": ALICE, "chat_id": ALICE, "message_id": 1, "forge": True}
        batch = [{"action": "user_taps", "kwargs": {**tap, "callback_data": f"b:{i}"}} for i in range(3)]
        batch.append({"action": "pop_updates", "kwargs": {}})  # not a control action
        connection.request("POST", "/_fake/batch", body=json.dumps(batch), headers={"Content-Type": "application/json"})
        results = json.loads(connection.getresponse().read())["result"]
        connection.close()
        assert [r["result"]["callback_query"]["data"] for r in results[:3]] == ["b:0", "b:1", "b:2"]
        assert results[3]["ok"] is False
        assert seen == [("getMe", 200)] + [("_fake/user_taps", 200)] * 3
        assert nagle_off and all(nagle_off)
    finally:
        server.close()
