"""An in-memory, deliberately strict model of the Telegram Bot API.

``FakeTelegram`` is the whole "world": users, groups, the messages in every chat, the
files, the pending-update queue and the Bot API methods the bot calls. It is synchronous
and guarded by one re-entrant lock because the same instance is driven from the test's
event loop (through ``FakeRequest``) and from HTTP server threads (through ``serve``).

Every API method answers with Telegram's own status codes and error descriptions, so
PTB raises the same ``BadRequest``/``Forbidden``/``RetryAfter``/``ChatMigrated`` it would
raise in production and a bot bug surfaces as a failing test instead of a silent pass.
"""

from __future__ import annotations

import base64
import bisect
import collections
import copy
import itertools
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .formatting import EntityParseError, parse_html, parse_text, strip_text, utf16_len
from .webhook import WebhookPusher, WebhookSettings, reachable

__all__ = ["ApiError", "FakeMessage", "FakeTelegram", "GROUP_ANONYMOUS_BOT_ID"]

GROUP_ANONYMOUS_BOT_ID = 1087968824
_GROUP_ANONYMOUS_BOT = {
    "id": GROUP_ANONYMOUS_BOT_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MIN_MEDIA_GROUP, MAX_MEDIA_GROUP = 2, 10
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
# Telegram refuses answerCallbackQuery this long after the tap ("query is too old").
CALLBACK_ANSWER_DEADLINE_SECONDS = 15.0
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

GROUP_WINDOW_SECONDS = 60.0
GROUP_WINDOW_LIMIT = 20
GLOBAL_WINDOW_SECONDS = 1.0
GLOBAL_WINDOW_LIMIT = 30
FLOOD_LIMITED_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "sendmediagroup", "editmessagetext", "editmessagereplymarkup"}
)

# What `fail_calls` fails by default: not the calls of a bot's start-up (a storm aimed at the
# running bot should not just delay its start; tests name them to fail them on purpose), and
# not getUpdates (PTB's polling backs off for up to 30 s after an error).
_UNFAULTED_METHODS = frozenset(
    {"getme", "getupdates", "setmycommands", "deletemycommands", "setwebhook", "deletewebhook", "getwebhookinfo"}
)

# Telegram leaves these out when allowed_updates is empty/unspecified.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BOT_COMMAND_ENTITY_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")

# Parameters whose HTTP form value is JSON / an integer / a boolean. The HTTP transport
# only ever delivers strings, so these are turned back into the types Telegram parses.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reaction",
        "media",
    }
)
_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "from_chat_id",
        "max_connections",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "is_big",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)

_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


class ApiError(Exception):
    """A Bot API error response; ``handle`` turns it into ``{"ok": false, ...}``."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _message_id(params: dict) -> int:
    """The `message_id` parameter as Telegram reads it: required, an integer."""
    value = params.get("message_id")
    if value is None:
        raise _bad_request("message identifier is not specified")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise _bad_request("message identifier is invalid")
    return int(value)


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class FakeMessage:
    """One message as the fake stores it; ``text`` is the rendered text (or caption)."""

    message_id: int
    chat_id: int
    from_bot: bool
    from_user_id: int | None
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: dict | None = None
    edited: int = 0
    deleted: bool = False
    reactions: list = field(default_factory=list)
    pinned: bool = False
    document: dict | None = None
    photo: bytes | None = None
    date: int = 0
    # Extensions beyond the brief's field list.
    entities: list = field(default_factory=list)
    raw_text: str | None = None
    kind: str = "text"  # text | document | photo | location | service
    location: tuple[float, float] | None = None
    reply_to_message_id: int | None = None
    sender_chat_id: int | None = None
    keyboard: dict | None = None  # reply keyboard / remove / force_reply sent with it
    service: dict | None = None
    edit_date: int | None = None
    file_id: str | None = None
    media_group_id: str | None = None

    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons, row by row, as ``(text, callback_data or url)``."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button.get("text"), button.get("callback_data", button.get("url"))) for row in rows for button in row]

    def button_labels(self) -> list[str]:
        return [label for label, _ in self.buttons()]

    def callback_data(self) -> list[str]:
        return [data for _, data in self.buttons() if data is not None]


@dataclass
class _User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    started: bool = True
    blocked_bot: bool = False

    def as_json(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class _Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    owner_id: int | None = None
    bot_status: str = "member"  # member | administrator | left | kicked
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    pin_order: list[int] = field(default_factory=list)


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # document | photo
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_path(self) -> str:
        return f"{'photos' if self.kind == 'photo' else 'documents'}/{self.file_id}"


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _coerce_param(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    if name in _INT_PARAMS or name == "chat_id":
        if re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if name == "chat_id":
            return value
        raise _bad_request(f"invalid {name} specified")
    if name in _BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    if name in ("latitude", "longitude"):
        return float(value)
    return value


class FakeTelegram:
    """The fake Telegram world plus the Bot API it answers; see the module docstring."""

    def __init__(
        self,
        bot_id: int = 7000000001,
        bot_username: str = "league_test_bot",
        bot_first_name: str = "LeagueBot",
        flood_limits: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        *,
        strict_html_ampersand: bool = True,
        callback_clock: Callable[[], float] = time.monotonic,
        webhook_retry: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.flood_limits = flood_limits
        self.strict_html_ampersand = strict_html_ampersand
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        # A tap's answer deadline runs on real time by default: the flood clock above may be a
        # test's counter that moves with every call, which says nothing about seconds waited.
        self._callback_clock = callback_clock

        self._lock = threading.RLock()
        self._updates_changed = threading.Condition(self._lock)
        self._poll_epoch = 0

        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._callback_queries: dict[str, dict] = {}
        self._pending_updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._webhook_url = ""
        # Pushes the updates to a webhook on this machine (bot/practice/emulator/webhook.py); None
        # while the bot long-polls or its webhook is out of the emulator's reach.
        self._pusher: WebhookPusher | None = None
        self.webhook_retry = webhook_retry  # first and longest wait before a failed push is retried
        self.webhook_round_trip = 0.0  # seconds on the network per push (serve() sets its round trip)
        self.webhook_observer: Callable[[str, dict, int, dict], None] | None = None
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._flood_global: collections.deque[float] = collections.deque()
        self._flood_per_chat: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)

        self.calls: list[tuple[str, dict]] = []
        self.unknown_methods: list[str] = []
        self.errors: list[tuple[str, int, str]] = []
        self.callback_answers: list[dict] = []
        self.http_429 = 0
        self.flood_events: list[tuple[str, int, int]] = []
        # Injected faults (`fail_calls`, `storm_429`): none unless a test asks for them.
        self._fault_rate = 0.0
        self._fault_methods: frozenset[str] = frozenset()
        self._fault_random = random.Random(0)
        self._storms: dict[int, tuple[float, int]] = {}  # chat id → (until, retry_after)
        self.injected: collections.Counter[str] = collections.Counter()  # "502 sendMessage": count
        # When each admitted flood-limited call (send, edit) reached a chat: the sandbox's
        # messages-per-minute gauge. Kept for GROUP_WINDOW_SECONDS * 5, whatever flood_limits is.
        self._admitted: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)

    # ------------------------------------------------------------------ identities

    @property
    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ----------------------------------------------------------------- world setup

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        started: bool = True,
    ) -> dict:
        if user_id <= 0:
            raise AssertionError(f"user ids are positive, got {user_id}")
        with self._lock:
            user = _User(user_id, first_name, last_name, username, language_code, started)
            self._users[user_id] = user
            return user.as_json()

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        supergroup: bool = False,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        bot_is_admin: bool = False,
        bot_member: bool = True,
        owner_id: int | None = None,
    ) -> dict:
        """Create a group the bot is already in (``bot_member=False`` for one it is not).

        ``owner_id`` defaults to the first admin, who is reported with status "creator".
        """
        if chat_id >= 0:
            raise AssertionError(f"group chat ids are negative, got {chat_id}")
        if supergroup and not str(chat_id).startswith("-100"):
            raise AssertionError(f"supergroup ids look like -100xxxxxxxxxx, got {chat_id}")
        admins = list(admins)
        with self._lock:
            for user_id in [*admins, *members]:
                self._require_user(user_id)
            chat = _Chat(
                id=chat_id,
                type="supergroup" if supergroup else "group",
                title=title,
                members=set(admins) | set(members),
                admins=set(admins),
                owner_id=owner_id if owner_id is not None else (admins[0] if admins else None),
                bot_status=(("administrator" if bot_is_admin else "member") if bot_member else "left"),
            )
            if chat.owner_id is not None:
                chat.members.add(chat.owner_id)
                chat.admins.add(chat.owner_id)
            self._chats[chat_id] = chat
            return self._chat_json(chat)

    def set_admin(self, chat_id: int, user_id: int, is_admin: bool = True) -> None:
        with self._lock:
            chat = self._require_group(chat_id)
            if user_id == self.bot_id:
                if chat.bot_status in ("member", "administrator"):
                    chat.bot_status = "administrator" if is_admin else "member"
                return
            self._require_user(user_id)
            chat.members.add(user_id)
            if is_admin:
                chat.admins.add(user_id)
            else:
                chat.admins.discard(user_id)

    def add_member(self, chat_id: int, user_id: int) -> None:
        with self._lock:
            self._require_user(user_id)
            self._require_group(chat_id).members.add(user_id)

    def chat_title(self, chat_id: int) -> str | None:
        """A group's title (None for a private chat or an unknown one)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return chat.title if chat is not None else None

    def has_user(self, user_id: int) -> bool:
        with self._lock:
            return user_id in self._users

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: private sends now fail with 403 like in production."""
        with self._lock:
            self._require_user(user_id).blocked_bot = True

    # ----------------------------------------------------------------- user actions

    def user_sends(
        self,
        user_id: int,
        chat_id: int,
        text: str | None = None,
        *,
        document: dict | None = None,
        location: tuple[float, float] | None = None,
        reply_to_message_id: int | None = None,
        as_group: bool = False,
    ) -> dict:
        """A user posts a message; returns the update and queues it for getUpdates.

        ``document`` is ``{"file_name", "mime_type", "content": bytes}``; ``text`` is then
        the caption. ``as_group`` posts as the anonymous group admin.
        """
        with self._lock:
            user = self._require_user(user_id)
            chat = self._chat_for_user(user, chat_id)
            if as_group:
                if chat.type == "private":
                    raise AssertionError("as_group only makes sense in a group chat")
                if user_id not in chat.admins:
                    raise AssertionError(f"user {user_id} is not an admin of {chat_id}, so cannot post anonymously")
            if not text and document is None and location is None:
                raise AssertionError("user_sends needs text, a document or a location")
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is None or target.deleted:
                    raise AssertionError(f"cannot reply to message {reply_to_message_id}: not in chat {chat_id}")
            if chat.type == "private":
                user.started = True

            entities = self._user_entities(text) if text else []
            message = FakeMessage(
                message_id=self._next_message_id(chat),
                chat_id=chat.id,
                from_bot=False,
                from_user_id=GROUP_ANONYMOUS_BOT_ID if as_group else user_id,
                text=text,
                raw_text=text,
                entities=entities,
                date=self._now(),
                reply_to_message_id=reply_to_message_id,
                sender_chat_id=chat.id if as_group else None,
            )
            if document is not None:
                missing = {"file_name", "content"} - set(document)
                if missing:
                    raise AssertionError(f"document needs {sorted(missing)}")
                stored = self._store_file(
                    "document",
                    bytes(document["content"]),
                    document["file_name"],
                    document.get("mime_type", "application/octet-stream"),
                )
                message.kind = "document"
                message.file_id = stored.file_id
                message.document = {
                    "file_name": stored.file_name,
                    "mime_type": stored.mime_type,
                    "content": stored.content,
                    "file_id": stored.file_id,
                }
            elif location is not None:
                message.kind = "location"
                message.location = (float(location[0]), float(location[1]))
            chat.messages[message.message_id] = message
            return self._queue_update({"message": self._message_json(message)})

    def user_taps(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        forge: bool = False,
    ) -> dict:
        """A user presses an inline button; returns the callback_query update.

        Only data that is really on a button of that message can be tapped, unless
        ``forge`` is set: then arbitrary data (even for a missing message, which arrives as
        an inaccessible message like Telegram's) is sent, to test server-side validation.
        """
        with self._lock:
            user = self._require_user(user_id)
            chat = self._chat_for_user(user, chat_id)
            message = chat.messages.get(message_id)
            if not forge:
                if message is None or message.deleted:
                    raise AssertionError(f"message {message_id} does not exist in chat {chat_id}; cannot tap it")
                available = message.callback_data()
                if callback_data not in available:
                    raise AssertionError(
                        f"callback_data {callback_data!r} is not on any button of message "
                        f"{message_id} in chat {chat_id}; buttons: {message.buttons()}"
                    )
            query_id = str(4_000_000_000_000_000 + next(self._callback_counter))
            if message is None or message.deleted:
                message_json = {"chat": self._chat_json(chat), "message_id": message_id, "date": 0}
            else:
                message_json = self._message_json(message)
            self._callback_queries[query_id] = {
                "user_id": user_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "data": callback_data,
                "answered": False,
                "tapped_at": self._callback_clock(),
            }
            return self._queue_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": user.as_json(),
                        "message": message_json,
                        "chat_instance": self._chat_instance(chat.id),
                        "data": callback_data,
                    }
                }
            )

    def bot_added_to_group(self, chat_id: int, by_user_id: int, *, status: str = "member") -> dict:
        """Someone adds the bot; returns the my_chat_member update.

        The update always shows a transition from outside the group (``left``, or
        ``kicked`` if it was kicked), also right after ``add_group`` - which puts the bot in
        the group silently - so "was I just added?" checks in the bot see a real join.
        """
        if status not in ("member", "administrator"):
            raise AssertionError(f"status must be member/administrator, got {status!r}")
        with self._lock:
            chat = self._require_group(chat_id)
            user = self._require_user(by_user_id)
            chat.members.add(by_user_id)
            old_status = chat.bot_status if chat.bot_status in ("left", "kicked") else "left"
            chat.bot_status = status
            return self._queue_my_chat_member(chat, user.as_json(), old_status, status)

    def bot_removed_from_group(self, chat_id: int, by_user_id: int, *, status: str = "kicked") -> dict:
        """Someone kicks the bot (or it is made to leave); later sends fail with 403."""
        if status not in ("kicked", "left"):
            raise AssertionError(f"status must be kicked/left, got {status!r}")
        with self._lock:
            chat = self._require_group(chat_id)
            user = self._require_user(by_user_id)
            old_status = chat.bot_status
            chat.bot_status = status
            return self._queue_my_chat_member(chat, user.as_json(), old_status, status)

    def migrate_to_supergroup(self, chat_id: int, *, by_user_id: int | None = None) -> int:
        """Upgrade a basic group; returns the new supergroup id.

        Queues the two service messages Telegram sends (``migrate_to_chat_id`` in the old
        chat, ``migrate_from_chat_id`` in the new one); afterwards every bot call on the old
        id fails with 400 + ``migrate_to_chat_id``.
        """
        with self._lock:
            old = self._require_group(chat_id)
            if old.type != "group":
                raise AssertionError(f"chat {chat_id} is not a basic group")
            if old.migrated_to is not None:
                raise AssertionError(f"chat {chat_id} was already migrated")
            new_id = -(1_000_000_000_000 + abs(chat_id) % 10_000_000_000)
            while new_id in self._chats:
                new_id -= 1
            actor_id = by_user_id if by_user_id is not None else old.owner_id
            if actor_id is None:
                raise AssertionError("migration needs by_user_id when the group has no owner")
            actor = self._require_user(actor_id)
            new = _Chat(
                id=new_id,
                type="supergroup",
                title=old.title,
                members=set(old.members),
                admins=set(old.admins),
                owner_id=old.owner_id,
                bot_status=old.bot_status,
            )
            self._chats[new_id] = new
            old.migrated_to = new_id
            old_service = self._add_service_message(old, actor.id, {"migrate_to_chat_id": new_id})
            new_service = self._add_service_message(new, actor.id, {"migrate_from_chat_id": chat_id})
            self._queue_update({"message": self._message_json(old_service)})
            self._queue_update({"message": self._message_json(new_service)})
            return new_id

    # ------------------------------------------------------------ transcript access

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [m for m in chat.messages.values() if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int) -> list[FakeMessage]:
        return [m for m in self.messages(chat_id) if m.from_bot and m.kind != "service"]

    def last_bot_message(self, chat_id: int) -> FakeMessage | None:
        sent = self.bot_messages(chat_id)
        return sent[-1] if sent else None

    def pinned_message(self, chat_id: int) -> FakeMessage | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return None
            for message_id in reversed(chat.pin_order):
                message = chat.messages[message_id]
                if message.pinned and not message.deleted:
                    return message
            return None

    def count_calls(self, method: str) -> int:
        wanted = method.lower()
        with self._lock:
            return sum(1 for name, _ in self.calls if name.lower() == wanted)

    def calls_to(self, method: str) -> list[dict]:
        wanted = method.lower()
        with self._lock:
            return [params for name, params in self.calls if name.lower() == wanted]

    def commands(self, *, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def unanswered_callback_queries(self) -> list[str]:
        with self._lock:
            return [qid for qid, q in self._callback_queries.items() if not q["answered"]]

    def assert_no_unknown_methods(self) -> None:
        if self.unknown_methods:
            raise AssertionError(f"bot called unknown Bot API methods: {self.unknown_methods}")

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].content

    def file_bytes_by_path(self, file_path: str) -> bytes | None:
        with self._lock:
            stored = self._files_by_path.get(file_path)
            return stored.content if stored else None

    # -------------------------------------------------------------------- updates

    def pop_updates(self) -> list[dict]:
        """Take every pending update (what a direct-delivery test feeds to the bot)."""
        with self._lock:
            updates, self._pending_updates = self._pending_updates, []
            if self._pusher is not None:
                for update in self._pusher.pending():
                    self._pusher.forget(update["update_id"])
                    updates.append(update)
            return updates

    def pending_updates(self) -> list[dict]:
        with self._lock:
            pushed = self._pusher.pending() if self._pusher is not None else []
            return list(self._pending_updates) + pushed

    def discard_update(self, update_id: int) -> None:
        """Forget a queued update that the test delivered to the bot itself."""
        with self._lock:
            self._pending_updates = [u for u in self._pending_updates if u["update_id"] != update_id]
            if self._pusher is not None:
                self._pusher.forget(update_id)

    @property
    def webhook_pusher(self) -> WebhookPusher | None:
        """What delivers to the webhook now (its counts: `delivered`, `attempts`, `in_flight_max`)."""
        return self._pusher

    def close(self) -> None:
        """Stop pushing to a webhook (the server's close calls it); the fake stays usable."""
        with self._lock:
            pusher, self._pusher = self._pusher, None
            if pusher is not None:
                self._pending_updates = _merged(self._pending_updates, pusher.stop())
        if pusher is not None:
            pusher.join()

    def interrupt_long_polls(self) -> None:
        """Make getUpdates calls that are currently waiting return at once (for shutdown)."""
        with self._lock:
            self._poll_epoch += 1
            self._updates_changed.notify_all()

    # ------------------------------------------------------------------ injected faults

    def fail_calls(self, rate: float, *, methods: Iterable[str] | None = None, seed: int = 0) -> None:
        """Answer `rate` of the calls to `methods` (default: every method but the start-up ones
        and getUpdates) with 502 Bad Gateway, before anything happens, as a proxy in front of
        Telegram would: the call has no effect. Deterministic for a given seed; 0 switches off."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        chosen = _FAULTABLE_METHODS if methods is None else frozenset(m.lower() for m in methods)
        with self._lock:
            self._fault_rate = rate
            self._fault_methods = chosen
            self._fault_random = random.Random(seed)

    def storm_429(self, chat_id: int, seconds: float, *, retry_after: int = 3) -> None:
        """For `seconds` (on the fake's monotonic clock), every flood-limited call to `chat_id`
        (a send or an edit) is refused with 429 and `retry_after`, whatever its pace."""
        with self._lock:
            self._storms[chat_id] = (self._monotonic() + seconds, retry_after)

    def stop_faults(self) -> None:
        with self._lock:
            self._fault_rate = 0.0
            self._storms.clear()

    def _inject_fault(self, method: str, params: dict) -> None:
        name = method.lower()
        if self._fault_rate and name in self._fault_methods and self._fault_random.random() < self._fault_rate:
            self.injected[f"502 {method}"] += 1
            raise ApiError(502, "Bad Gateway")
        chat_id = params.get("chat_id")
        storm = self._storms.get(chat_id) if isinstance(chat_id, int) else None
        if storm is not None and name in FLOOD_LIMITED_METHODS:
            until, retry_after = storm
            if self._monotonic() < until:
                self.injected[f"429 {method}"] += 1
                self.http_429 += 1
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    # ------------------------------------------------------------------ dispatcher

    def handle(
        self, method: str, params: dict | None = None, files: dict[str, tuple[str, bytes, str]] | None = None
    ) -> tuple[int, dict]:
        """Answer one Bot API call -> ``(http_status, response_json)``.

        ``params`` may hold real JSON values or the strings an HTTP form carries; ``files``
        maps multipart part names to ``(filename, content, mimetype)``.
        """
        params = dict(params or {})
        files = dict(files or {})
        handler = getattr(self, f"_api_{method.lower()}", None) if method else None
        with self._lock:
            self.calls.append((method, self._call_record(params, files)))
            if handler is None:
                self.unknown_methods.append(method)
                self.errors.append((method, 404, "Not Found: method not found"))
                return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            try:
                coerced = {name: _coerce_param(name, value) for name, value in params.items()}
                self._inject_fault(method, coerced)
                result = handler(coerced, files)
            except ApiError as exc:
                self.errors.append((method, exc.code, exc.description))
                body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
                if exc.parameters:
                    body["parameters"] = exc.parameters
                return exc.code, body
            return 200, {"ok": True, "result": result}

    @staticmethod
    def _call_record(params: dict, files: dict) -> dict:
        record = dict(params)
        for name, (filename, content, mimetype) in files.items():
            record[f"<file:{name}>"] = {"file_name": filename, "size": len(content), "mime_type": mimetype}
        return record

    # -------------------------------------------------------------- API: plumbing

    def _api_getme(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getupdates(self, params: dict, files: dict) -> list[dict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        if not isinstance(limit, int) or limit < 1:
            limit = 100
        limit = min(limit, 100)
        timeout = params.get("timeout") or 0
        if "allowed_updates" in params and params["allowed_updates"] is not None:
            allowed = params["allowed_updates"]
            if not isinstance(allowed, list):
                raise _bad_request("can't parse allowed_updates JSON array")
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset:
            if offset < 0:
                self._pending_updates = self._pending_updates[offset:]
            else:
                # Kept in update_id order, so the confirmed ones are a prefix.
                first = bisect.bisect_left(self._pending_updates, offset, key=lambda u: u["update_id"])
                del self._pending_updates[:first]
        # Long-poll deadline uses the real clock: an injected fake monotonic may never move.
        deadline = time.monotonic() + float(timeout)
        epoch = self._poll_epoch
        while True:
            # The first `limit` allowed ones only: a bot far behind leaves thousands queued.
            ready = list(itertools.islice((u for u in self._pending_updates if self._is_allowed(u)), limit))
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or epoch != self._poll_epoch:
                # No copy: a queued update is never changed (it was built from copies), and
                # every caller serialises the answer. Copying 100 taps, each with its message
                # and keyboard, took the emulator longer than Telegram takes to answer.
                return ready
            self._updates_changed.wait(remaining)

    def _is_allowed(self, update: dict) -> bool:
        kind = next((k for k in _UPDATE_KINDS if k in update), None)
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _api_setwebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url", "")
        # HTTPS as Telegram demands, except to this machine (a reverse proxy there ends TLS).
        if url and not (url.startswith("https://") or (url.startswith("http://") and reachable(url))):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        max_connections = params.get("max_connections", 40)
        if not isinstance(max_connections, int) or not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        secret = params.get("secret_token") or ""
        if not isinstance(secret, str) or len(secret) > 256 or re.search(r"[^A-Za-z0-9_-]", secret):
            raise _bad_request("secret token contains unallowed characters")
        if "allowed_updates" in params and params["allowed_updates"] is not None:
            allowed = params["allowed_updates"]
            if not isinstance(allowed, list):
                raise _bad_request("can't parse allowed_updates JSON array")
            self._allowed_updates = frozenset(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook_url = url
        if not (url and reachable(url)):
            self._stop_pushing()  # long polling again, or a host the emulator cannot reach
            return True
        settings = WebhookSettings(url, secret, max_connections, self.webhook_round_trip, self.webhook_retry)
        if self._pusher is None:
            self._pusher = WebhookPusher(
                self._lock, settings, self.handle, allowed=self._is_allowed, observer=self.webhook_observer
            )
            for update in self._pending_updates:
                self._pusher.add(update)
            self._pending_updates = []
        else:
            self._pusher.configure(settings)
        return True

    def _api_deletewebhook(self, params: dict, files: dict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._stop_pushing()
        return True

    def _api_getwebhookinfo(self, params: dict, files: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending_updates),
        }
        pusher = self._pusher
        if pusher is not None:
            info["pending_update_count"] += pusher.pending_count
            info["max_connections"] = pusher.settings.max_connections
            if pusher.last_error_message:
                info["last_error_date"] = pusher.last_error_date
                info["last_error_message"] = pusher.last_error_message
        if self._webhook_url and self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _drop_pending(self) -> None:
        self._pending_updates = []
        if self._pusher is not None:
            for update in self._pusher.pending():
                self._pusher.forget(update["update_id"])

    def _stop_pushing(self) -> None:
        # Called under the lock: the workers finish what is in flight on their own.
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            self._pending_updates = _merged(self._pending_updates, pusher.stop())

    # ------------------------------------------------------------- API: commands

    @staticmethod
    def _commands_key(scope: dict | None, language_code: str | None) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""

    def _command_scope(self, params: dict) -> tuple[str, str]:
        scope = params.get("scope")
        if scope is not None:
            if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
                raise _bad_request("can't parse BotCommandScope JSON object")
            if scope["type"].startswith("chat"):
                self._chat_for_bot(scope.get("chat_id"), purpose="read")
        language_code = params.get("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise _bad_request("invalid language code specified")
        return self._commands_key(scope, language_code)

    def _api_setmycommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_scope(params)
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _api_getmycommands(self, params: dict, files: dict) -> list[dict]:
        return copy.deepcopy(self._commands.get(self._command_scope(params), []))

    def _api_deletemycommands(self, params: dict, files: dict) -> bool:
        self._commands.pop(self._command_scope(params), None)
        return True

    # ------------------------------------------------------------- API: messages

    def _api_sendmessage(self, params: dict, files: dict) -> dict:
        chat = self._chat_for_bot(params.get("chat_id"))
        if "text" not in params:
            raise _bad_request("message text is empty")
        text, entities = self._render(params.get("text"), params)
        self._check_text_length(text)
        inline, keyboard = self._parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self._take_flood_slot("sendMessage", chat.id)
        message = self._new_bot_message(chat, params, reply_to)
        message.text, message.entities, message.raw_text = text, entities, params.get("text")
        message.parse_mode = params.get("parse_mode")
        message.reply_markup, message.keyboard = inline, keyboard
        return self._message_json(message)

    def _api_senddocument(self, params: dict, files: dict) -> dict:
        return self._send_media("document", params, files)

    def _api_sendphoto(self, params: dict, files: dict) -> dict:
        return self._send_media("photo", params, files)

    def _api_sendmediagroup(self, params: dict, files: dict) -> list[dict]:
        """An album: 2-10 photos (or 2-10 documents), each its own message sharing a
        media_group_id; each counts against the flood limits like a single send."""
        chat = self._chat_for_bot(params.get("chat_id"))
        media = params.get("media")
        if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
            raise _bad_request("can't parse media JSON object")
        if not MIN_MEDIA_GROUP <= len(media) <= MAX_MEDIA_GROUP:
            raise _bad_request("wrong number of media in the group: it must have 2-10 items")
        kinds = {item.get("type") for item in media}
        if not (kinds <= {"photo"} or kinds == {"document"}):
            raise _bad_request("MEDIA_GROUP_INVALID: photos and documents can't be mixed here")
        reply_to = self._reply_target(chat, params)
        items = []
        for item in media:
            kind = item["type"]
            stored = self._input_file(kind, {kind: item.get("media")}, files)
            caption, entities = self._caption(item)
            items.append((kind, stored, caption, entities, item))
        group_id = str(next(self._file_counter) * 7919)
        sent = []
        for kind, stored, caption, entities, item in items:
            self._take_flood_slot("sendMediaGroup", chat.id)
            self._register_file(stored)
            message = self._new_bot_message(chat, params, reply_to)
            self._fill_media(message, kind, stored, caption, entities, item, None, None)
            message.media_group_id = group_id
            sent.append(self._message_json(message))
        return sent

    def _caption(self, params: dict) -> tuple[str | None, list]:
        if params.get("caption") is None:
            return None, []
        caption, entities = self._render(params["caption"], params, caption=True)
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return caption, entities

    def _send_media(self, kind: str, params: dict, files: dict) -> dict:
        chat = self._chat_for_bot(params.get("chat_id"))
        stored = self._input_file(kind, params, files)
        caption, entities = self._caption(params)
        inline, keyboard = self._parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self._take_flood_slot("sendPhoto" if kind == "photo" else "sendDocument", chat.id)
        self._register_file(stored)
        message = self._new_bot_message(chat, params, reply_to)
        self._fill_media(message, kind, stored, caption, entities, params, inline, keyboard)
        return self._message_json(message)

    @staticmethod
    def _fill_media(
        message: FakeMessage,
        kind: str,
        stored: _StoredFile,
        caption: str | None,
        entities: list,
        params: dict,
        inline: dict | None,
        keyboard: dict | None,
    ) -> None:
        message.kind = kind
        message.file_id = stored.file_id
        message.text = caption or None
        message.raw_text = params.get("caption")
        message.entities = entities
        message.parse_mode = params.get("parse_mode")
        message.reply_markup, message.keyboard = inline, keyboard
        if kind == "photo":
            message.photo = stored.content
        else:
            message.document = {
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "content": stored.content,
                "file_id": stored.file_id,
            }

    def _api_editmessagetext(self, params: dict, files: dict) -> dict:
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        if "text" not in params:
            raise _bad_request("message text is empty")
        text, entities = self._render(params.get("text"), params)
        self._check_text_length(text)
        inline = self._parse_inline_markup_for_edit(params.get("reply_markup"))
        # Omitting reply_markup removes the keyboard, exactly like Telegram does.
        if (text, entities, inline) == (message.text, message.entities, message.reply_markup):
            raise self._not_modified()
        self._take_flood_slot("editMessageText", chat.id)
        message.text, message.entities, message.raw_text = text, entities, params.get("text")
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = inline
        self._mark_edited(message)
        return self._message_json(message)

    def _api_editmessagereplymarkup(self, params: dict, files: dict) -> dict:
        chat, message = self._message_to_edit(params)
        inline = self._parse_inline_markup_for_edit(params.get("reply_markup"))
        if inline == message.reply_markup:
            raise self._not_modified()
        self._take_flood_slot("editMessageReplyMarkup", chat.id)
        message.reply_markup = inline
        self._mark_edited(message)
        return self._message_json(message)

    @staticmethod
    def _not_modified() -> ApiError:
        return _bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )

    def _mark_edited(self, message: FakeMessage) -> None:
        message.edited += 1
        message.edit_date = self._now()

    def _message_to_edit(self, params: dict) -> tuple[_Chat, FakeMessage]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_for_bot(params.get("chat_id"))
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        if not message.from_bot or message.kind == "service":
            raise _bad_request("message can't be edited")
        return chat, message

    def _api_deletemessage(self, params: dict, files: dict) -> bool:
        chat = self._chat_for_bot(params.get("chat_id"))
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        may_delete = message.from_bot or chat.type == "private" or chat.bot_status == "administrator"
        if not may_delete:
            raise _bad_request("message can't be deleted")
        message.deleted = True
        message.pinned = False
        return True

    def _api_answercallbackquery(self, params: dict, files: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if self._callback_clock() - query["tapped_at"] > CALLBACK_ANSWER_DEADLINE_SECONDS:
            # The person's spinner has long stopped: Telegram refuses the late answer.
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "user_id": query["user_id"],
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
            }
        )
        return True

    def _api_setmessagereaction(self, params: dict, files: dict) -> bool:
        from telegram.constants import ReactionEmoji

        chat = self._chat_for_bot(params.get("chat_id"))
        message = chat.messages.get(_message_id(params))
        if message is None or message.deleted:
            raise _bad_request("message to react not found")
        reactions = params.get("reaction") or []
        if not isinstance(reactions, list):
            raise _bad_request("can't parse reaction JSON array")
        if len(reactions) > 1:
            raise _bad_request("REACTIONS_TOO_MANY")
        allowed = {emoji.value for emoji in ReactionEmoji}
        emojis = []
        for reaction in reactions:
            if (
                not isinstance(reaction, dict)
                or reaction.get("type") != "emoji"
                or reaction.get("emoji") not in allowed
            ):
                raise _bad_request("REACTION_INVALID")
            emojis.append(reaction["emoji"])
        message.reactions = emojis
        return True

    # ---------------------------------------------------------------- API: files

    def _api_getfile(self, params: dict, files: dict) -> dict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _input_file(self, kind: str, params: dict, files: dict) -> _StoredFile:
        value = params.get(kind)
        part = None
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value[len("attach://") :])
            if part is None:
                raise _bad_request(f"file {value} not found in the request")
        elif value is None and kind in files:
            part = files[kind]
        elif isinstance(value, str) and value:
            existing = self._files.get(value)
            if existing is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad_request(f"can't use file of type {existing.kind.capitalize()} as {kind.capitalize()}")
            return existing
        else:
            raise _bad_request(f"there is no {kind} in the request")
        filename, content, mimetype = part
        if not content:
            raise _bad_request("file must be non-empty")
        if len(content) > (MAX_PHOTO_BYTES if kind == "photo" else MAX_UPLOAD_BYTES):
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo" and not (
            content.startswith(_IMAGE_SIGNATURES) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")
        ):
            raise _bad_request("IMAGE_PROCESS_FAILED")
        return self._make_file(kind, bytes(content), filename, mimetype)

    def _make_file(self, kind: str, content: bytes, file_name: str | None, mime_type: str | None) -> _StoredFile:
        number = next(self._file_counter)
        prefix = "AgACAgIAAxkBAAI" if kind == "photo" else "BQACAgIAAxkBAAI"
        token = base64.urlsafe_b64encode(number.to_bytes(6, "big")).decode().rstrip("=")
        return _StoredFile(
            file_id=f"{prefix}{token}{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            kind=kind,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )

    def _register_file(self, stored: _StoredFile) -> None:
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored

    def _store_file(self, kind: str, content: bytes, file_name: str | None, mime_type: str | None) -> _StoredFile:
        stored = self._make_file(kind, content, file_name, mime_type)
        self._register_file(stored)
        return stored

    # ---------------------------------------------------------------- API: chats

    def _api_getchat(self, params: dict, files: dict) -> dict:
        chat = self._chat_for_bot(params.get("chat_id"), purpose="read")
        return {
            **self._chat_json(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getchatmember(self, params: dict, files: dict) -> dict:
        chat = self._chat_for_bot(params.get("chat_id"), purpose="read")
        user_id = params.get("user_id")
        if user_id == self.bot_id:
            return self._member_json(self.bot_user, self._bot_member_status(chat))
        user = self._users.get(user_id) if isinstance(user_id, int) else None
        if user is None:
            raise _bad_request("user not found")
        if chat.type == "private":
            if user_id != chat.id:
                raise _bad_request("user not found")
            return self._member_json(user.as_json(), "member")
        return self._member_json(user.as_json(), self._user_status(chat, user.id))

    def _api_getchatadministrators(self, params: dict, files: dict) -> list[dict]:
        chat = self._chat_for_bot(params.get("chat_id"), purpose="read")
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        result = []
        for user_id in sorted(chat.admins, key=lambda uid: (uid != chat.owner_id, uid)):
            user = self._users[user_id]
            result.append(self._member_json(user.as_json(), self._user_status(chat, user_id)))
        if chat.bot_status == "administrator":
            result.append(self._member_json(self.bot_user, "administrator"))
        return result

    def _user_status(self, chat: _Chat, user_id: int) -> str:
        if user_id == chat.owner_id:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        if user_id in chat.members:
            return "member"
        return "left"

    def _bot_member_status(self, chat: _Chat) -> str:
        return "member" if chat.type == "private" else chat.bot_status

    def _api_pinchatmessage(self, params: dict, files: dict) -> bool:
        chat = self._chat_for_bot(params.get("chat_id"))
        self._require_pin_rights(chat)
        message = chat.messages.get(_message_id(params))
        if message is None or message.deleted:
            raise _bad_request("message to pin not found")
        message.pinned = True
        if message.message_id in chat.pin_order:
            chat.pin_order.remove(message.message_id)
        chat.pin_order.append(message.message_id)
        return True

    def _api_unpinchatmessage(self, params: dict, files: dict) -> bool:
        chat = self._chat_for_bot(params.get("chat_id"))
        self._require_pin_rights(chat)
        message_id = params.get("message_id")
        if message_id is None:
            pinned = self.pinned_message(chat.id)
            message_id = pinned.message_id if pinned else None
        if message_id is not None:
            message = chat.messages.get(message_id)
            if message is None or message.deleted:
                raise _bad_request("message to unpin not found")
            message.pinned = False
        return True

    @staticmethod
    def _require_pin_rights(chat: _Chat) -> None:
        if chat.type != "private" and chat.bot_status != "administrator":
            raise _bad_request("not enough rights to manage pinned messages in the chat")

    def _api_leavechat(self, params: dict, files: dict) -> bool:
        chat = self._chat_for_bot(params.get("chat_id"), purpose="read")
        if chat.type == "private":
            raise _bad_request("chat member status can't be changed in private chats")
        old_status = chat.bot_status
        chat.bot_status = "left"
        self._queue_my_chat_member(chat, self.bot_user, old_status, "left")
        return True

    def _api_sendchataction(self, params: dict, files: dict) -> bool:
        self._chat_for_bot(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    # --------------------------------------------------------- validation helpers

    def _chat_for_bot(self, chat_id: Any, *, purpose: str = "send") -> _Chat:
        """Resolve ``chat_id`` the way Telegram does for a bot, raising its errors."""
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat_id = self._chat_id_by_username(chat_id)
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        if chat_id > 0:
            user = self._users.get(chat_id)
            if user is None:
                raise _bad_request("chat not found")
            if not user.started:
                if purpose == "read":
                    raise _bad_request("chat not found")
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if user.blocked_bot and purpose == "send":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return self._private_chat(user)
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")
        return chat

    @staticmethod
    def _chat_id_by_username(value: str) -> int:
        # Only public channels/supergroups can be addressed as @username, and the fake has
        # none; users never can be.
        raise _bad_request("chat not found")

    def _render(self, raw: Any, params: dict, *, caption: bool = False) -> tuple[str, list[dict]]:
        if not isinstance(raw, str):
            raise _bad_request("message text is empty" if not caption else "can't parse caption")
        parse_mode = params.get("parse_mode")
        explicit = params.get("caption_entities" if caption else "entities")
        try:
            if parse_mode and parse_mode.lower() == "html":
                text, entities = parse_html(raw, strict_ampersand=self.strict_html_ampersand)
            else:
                text, entities = parse_text(raw, parse_mode or None)
        except EntityParseError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise _bad_request("unsupported parse_mode") from None
        if explicit and not parse_mode:
            entities = _json_copy(explicit)
        return strip_text(text, entities)

    @staticmethod
    def _check_text_length(text: str) -> None:
        if not text:
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")

    def _parse_reply_markup(self, markup: Any) -> tuple[dict | None, dict | None]:
        """-> (inline keyboard to store on the message, any other keyboard sent)."""
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return self._validate_inline_keyboard(markup), None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str) or not text:
                        raise _bad_request("can't parse keyboard button: text must be non-empty")
            return None, _json_copy(markup)
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return None, _json_copy(markup)
        raise _bad_request("can't parse reply keyboard markup JSON object")

    def _parse_inline_markup_for_edit(self, markup: Any) -> dict | None:
        inline, other = self._parse_reply_markup(markup)
        if other is not None:
            raise _bad_request("inline keyboard expected")
        return inline

    @staticmethod
    def _validate_inline_keyboard(markup: dict) -> dict | None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("can't parse inline keyboard markup JSON object")
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise _bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
                if not button["text"].strip():
                    raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
                actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
                if not actions:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if len(actions) > 1:
                    raise _bad_request(f"can't parse inline keyboard button: exactly one of {actions} must be used")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not re.match(r"^(https?://[^/\s]+\.[^/\s]+|tg://\S+)", url):
                        raise _bad_request("BUTTON_URL_INVALID")
        if not any(rows):
            return None
        return _json_copy({"inline_keyboard": rows})

    def _reply_target(self, chat: _Chat, params: dict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.id):
                raise _bad_request("replies to other chats are not supported by the fake")
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return message_id

    # ------------------------------------------------------------------ flooding

    def sends_in_last(self, chat_id: int, seconds: float = GROUP_WINDOW_SECONDS) -> int:
        """How many flood-limited calls (sendMessage, editMessageText, ...) reached the chat in the
        last `seconds` (on the fake's monotonic clock); 429-refused calls are not counted."""
        with self._lock:
            since = self._monotonic() - seconds
            return sum(1 for stamp in self._admitted.get(chat_id, ()) if stamp > since)

    def _note_admitted(self, chat_id: int) -> None:
        now = self._monotonic()
        stamps = self._admitted[chat_id]
        stamps.append(now)
        while stamps and stamps[0] <= now - GROUP_WINDOW_SECONDS * 5:
            stamps.popleft()

    def _take_flood_slot(self, method: str, chat_id: int) -> None:
        """Admit one flood-limited call or raise 429; a rejected call consumes nothing."""
        if not self.flood_limits:
            self._note_admitted(chat_id)
            return
        now = self._monotonic()
        global_window = self._flood_global
        while global_window and global_window[0] <= now - GLOBAL_WINDOW_SECONDS:
            global_window.popleft()
        wait = 0.0
        if len(global_window) >= GLOBAL_WINDOW_LIMIT:
            wait = global_window[-GLOBAL_WINDOW_LIMIT] + GLOBAL_WINDOW_SECONDS - now
        chat_window = self._flood_per_chat[chat_id] if chat_id < 0 else None
        if chat_window is not None:
            while chat_window and chat_window[0] <= now - GROUP_WINDOW_SECONDS:
                chat_window.popleft()
            if len(chat_window) >= GROUP_WINDOW_LIMIT:
                wait = max(wait, chat_window[-GROUP_WINDOW_LIMIT] + GROUP_WINDOW_SECONDS - now)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.http_429 += 1
            self.flood_events.append((method, chat_id, retry_after))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        global_window.append(now)
        if chat_window is not None:
            chat_window.append(now)
        self._note_admitted(chat_id)

    # ------------------------------------------------------------- construction

    def _now(self) -> int:
        return int(self._wall_clock())

    def _next_message_id(self, chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _new_bot_message(self, chat: _Chat, params: dict, reply_to: int | None) -> FakeMessage:
        message = FakeMessage(
            message_id=self._next_message_id(chat),
            chat_id=chat.id,
            from_bot=True,
            from_user_id=self.bot_id,
            date=self._now(),
            reply_to_message_id=reply_to,
        )
        chat.messages[message.message_id] = message
        return message

    def _add_service_message(self, chat: _Chat, user_id: int, service: dict) -> FakeMessage:
        message = FakeMessage(
            message_id=self._next_message_id(chat),
            chat_id=chat.id,
            from_bot=False,
            from_user_id=user_id,
            date=self._now(),
            kind="service",
            service=service,
        )
        chat.messages[message.message_id] = message
        return message

    def _user_entities(self, text: str) -> list[dict]:
        match = _BOT_COMMAND_ENTITY_RE.match(text)
        if not match:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    def _queue_update(self, payload: dict) -> dict:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        if self._pusher is not None:
            self._pusher.add(update)
        else:
            self._pending_updates.append(update)
            self._updates_changed.notify_all()
        return copy.deepcopy(update)

    def _queue_my_chat_member(self, chat: _Chat, actor: dict, old: str, new: str) -> dict:
        return self._queue_update(
            {
                "my_chat_member": {
                    "chat": self._chat_json(chat),
                    "from": actor,
                    "date": self._now(),
                    "old_chat_member": self._member_json(self.bot_user, old),
                    "new_chat_member": self._member_json(self.bot_user, new),
                }
            }
        )

    @staticmethod
    def _chat_instance(chat_id: int) -> str:
        return str(abs(chat_id) * 7919 + 1_000_003)

    def _private_chat(self, user: _User) -> _Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = _Chat(id=user.id, type="private", members={user.id})
            self._chats[user.id] = chat
        return chat

    def _require_user(self, user_id: int) -> _User:
        user = self._users.get(user_id)
        if user is None:
            raise AssertionError(f"unknown user {user_id}; call add_user() first")
        return user

    def _require_group(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise AssertionError(f"unknown group {chat_id}; call add_group() first")
        return chat

    def _chat_for_user(self, user: _User, chat_id: int) -> _Chat:
        if chat_id > 0:
            if chat_id != user.id:
                raise AssertionError(f"user {user.id} cannot write in the private chat of {chat_id}")
            return self._private_chat(user)
        chat = self._require_group(chat_id)
        if chat.migrated_to is not None:
            raise AssertionError(f"group {chat_id} was migrated to {chat.migrated_to}")
        if user.id not in chat.members:
            raise AssertionError(f"user {user.id} is not a member of group {chat_id}")
        if chat.bot_status in ("left", "kicked"):
            raise AssertionError(f"the bot is not in group {chat_id} ({chat.bot_status}), it would not see this")
        return chat

    # ---------------------------------------------------------------- JSON views

    def _chat_json(self, chat: _Chat) -> dict:
        if chat.type == "private":
            user = self._users[chat.id]
            data = {"id": chat.id, "type": "private", "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        return {"id": chat.id, "type": chat.type, "title": chat.title}

    def _user_json(self, user_id: int | None) -> dict:
        if user_id == self.bot_id:
            return self.bot_user
        if user_id == GROUP_ANONYMOUS_BOT_ID:
            return dict(_GROUP_ANONYMOUS_BOT)
        if user_id is None:
            raise ValueError("a message from nobody has no sender to show")
        return self._users[user_id].as_json()

    @staticmethod
    def _member_json(user: dict, status: str) -> dict:
        member: dict[str, Any] = {"user": user, "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _message_json(self, message: FakeMessage, *, with_reply: bool = True) -> dict:
        chat = self._chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._user_json(message.from_user_id),
            "chat": self._chat_json(chat),
            "date": message.date,
        }
        if message.sender_chat_id is not None:
            data["sender_chat"] = self._chat_json(self._chats[message.sender_chat_id])
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.media_group_id is not None:
            data["media_group_id"] = message.media_group_id
        if with_reply and message.reply_to_message_id is not None:
            target = chat.messages.get(message.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self._message_json(target, with_reply=False)
        if message.kind == "service":
            data.update(message.service or {})
        elif message.kind == "location" and message.location is not None:
            data["location"] = {"latitude": message.location[0], "longitude": message.location[1]}
        elif message.kind in ("document", "photo") and message.file_id is not None:
            stored = self._files[message.file_id]
            if message.kind == "document":
                document = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(stored.content),
                }
                if stored.file_name:
                    document["file_name"] = stored.file_name
                if stored.mime_type:
                    document["mime_type"] = stored.mime_type
                data["document"] = document
            else:
                data["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "file_size": len(stored.content),
                        "width": 320,
                        "height": 320,
                    }
                ]
            if message.text:
                data["caption"] = message.text
                if message.entities:
                    data["caption_entities"] = copy.deepcopy(message.entities)
        elif message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = copy.deepcopy(message.entities)
        if message.reply_markup:
            data["reply_markup"] = copy.deepcopy(message.reply_markup)
        return data


_FAULTABLE_METHODS = (
    frozenset(name.removeprefix("_api_") for name in dir(FakeTelegram) if name.startswith("_api_")) - _UNFAULTED_METHODS
)


def _merged(queued: list[dict], undelivered: list[dict]) -> list[dict]:
    """Two lists of pending updates as one, in update_id order (getUpdates relies on it)."""
    return sorted(queued + undelivered, key=lambda update: update["update_id"])
