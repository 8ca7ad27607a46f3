"""Configuration: one TOML file, checked strictly, loaded into frozen dataclasses (the core's
sections here, the programmes' in bot/domain/feature_config.py).

Every problem becomes a `ConfigError` whose message is one line that names the key (or the
line and column of a syntax error) and says how to fix it; the CLI prints it and exits 2.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.config_rules import GENERATE_SECRET, ConfigError, is_recurring
from bot.domain.feature_config import (
    CatchUpConfig,
    FundsConfig,
    RecordsConfig,
    SunshineConfig,
    VisitsConfig,
    check_features,
    records_config,
)

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
CONFIG_ENV = "LEAGUE_BOT_CONFIG"
DATABASE_URL_ENV = "LEAGUE_BOT_DATABASE_URL"
DEFAULT_CONFIG_PATH = "config.toml"
SUPPORTED_LANGUAGES = ("zh-Hans", "zh-Hant", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Telegram accepts 1-256 characters of A-Z a-z 0-9 _ -; 32 is too many to guess.
WEBHOOK_SECRET_MIN_LENGTH = 32
_WEBHOOK_SECRET_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class WebhookConfig:
    enabled: bool = False
    listen: str = "0.0.0.0"
    port: int = 8443
    url: str = ""
    url_path: str = "telegram"
    secret_token: str = ""
    # Updates Telegram sends at once (setWebhook's max_connections, 1-100).
    max_connections: int = 40


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    rate_limit: bool = True
    # Under a rush (bot/runtime/updates.py): updates processed at once, connections to the Bot
    # API (in-flight updates plus the messages sent beside them), how long a request may wait
    # for a free connection, and how long a button tap may wait for its turn before it is
    # dropped unanswered (Telegram refuses an answer ~15 s after the tap).
    max_concurrent_updates: int = 64
    connection_pool_size: int = 128
    pool_timeout_seconds: float = 10.0
    callback_max_wait_seconds: float = 4.0
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass(frozen=True)
class StorageConfig:
    """`url` picks the engine: empty or `sqlite:///path` is SQLite (one instance, the default);
    `postgresql://user:password@host:port/name` is PostgreSQL (several instances may share it).
    The environment's LEAGUE_BOT_DATABASE_URL wins (it may carry a password)."""

    path: str = "data/league-bot.db"
    busy_timeout_ms: int = 5000
    url: str = ""

    @property
    def database_url(self) -> str:
        return self.url or "sqlite:///" + self.path

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class InboxConfig:
    """Every update is stored before it is handled; once handled, only its id is kept (so that a
    repeated delivery is recognised) this long."""

    keep_days: int = 7


# More than this in flight buys no speed within Telegram's 30 messages a second (it would take a
# round trip of over a quarter second) and only widens what a crash can send twice.
MAX_OUTBOX_IN_FLIGHT = 8


@dataclass(frozen=True)
class OutboxConfig:
    """Messages the bot owes wait in the database until Telegram accepts them. One that failed on
    the network, a 5xx or a 429 is tried again after retry_first_seconds, then twice as long each
    time up to retry_longest_seconds (a 429 waits what Telegram asks). Sent and given-up ones
    stay keep_days. At most in_flight messages are on their way at once, never two to one chat:
    a crash can send those again (so in_flight = 1: at most one duplicate per crash)."""

    keep_days: int = 30
    retry_first_seconds: int = 1
    retry_longest_seconds: int = 300
    in_flight: int = 4


@dataclass(frozen=True)
class RemindersConfig:
    # No longer used: `[catch_up] window_hours` decides how late a missed occurrence is still sent
    # (bot/domain/reminders.py). Kept so that a config that sets it still loads.
    grace_minutes: int = 60
    quiet_start: str = "22:00"
    quiet_end: str = "07:00"
    weekly_digest: str = "every monday 9:00"


@dataclass(frozen=True)
class ActivitiesConfig:
    checkin_opens_before_minutes: int = 30
    checkin_closes_after_minutes: int = 30
    credit_rounding_minutes: int = 15
    credit_missing_checkout: bool = True


@dataclass(frozen=True)
class WishesConfig:
    purge_after_days: int = 90


@dataclass(frozen=True)
class ConversationsConfig:
    """A conversation (a half-typed /newwish, say) untouched this long is deleted with what was
    typed into it: private details are kept only as long as the conversation."""

    expire_after_hours: int = 24


@dataclass(frozen=True)
class StarsConfig:
    """Star ratings (bot/domain/stars.py): weights of the facts (points out of their sum), yearly targets
    (scaled to the period's length), and the score (0..100) each star from the second needs."""

    weight_deeds: int = 25
    weight_activities: int = 15
    weight_person_times: int = 15
    weight_served: int = 15
    weight_wishes_on_time: int = 15
    weight_overdue: int = 15
    target_activities_per_year: int = 12
    target_person_times_per_year: int = 120
    target_served_per_year: int = 300
    target_wishes_on_time_per_year: int = 10
    # "Money to serve" (有钱服务): applies to organisations that own a fund (bot/domain/funds/).
    weight_money: int = 10
    target_money_per_year_yuan: int = 10000
    two_stars: int = 20
    three_stars: int = 40
    four_stars: int = 60
    five_stars: int = 80
    # The monthly ranking posted to the hub: a recurring time in the reminder grammar, "" = off.
    ranking: str = "每月1日 9:00"
    ranking_top: int = 10


# The numeric keys of [stars]; `ranking` is a schedule string.
_STARS_NUMBERS = tuple(name for name in StarsConfig.__dataclass_fields__ if name != "ranking")


@dataclass(frozen=True)
class DeedsConfig:
    """Behind-pace reminders (bot/domain/deeds.py): when organisations behind their yearly deeds pace are
    told, as a recurring time in the reminder grammar (default: 09:00 on 1 July and 1 October);
    "" switches them off."""

    behind_reminders: str = "cron 0 9 1 7,10 *"


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    inbox: InboxConfig = field(default_factory=InboxConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    activities: ActivitiesConfig = field(default_factory=ActivitiesConfig)
    wishes: WishesConfig = field(default_factory=WishesConfig)
    conversations: ConversationsConfig = field(default_factory=ConversationsConfig)
    stars: StarsConfig = field(default_factory=StarsConfig)
    deeds: DeedsConfig = field(default_factory=DeedsConfig)
    sunshine: SunshineConfig = field(default_factory=SunshineConfig)
    funds: FundsConfig = field(default_factory=FundsConfig)
    records: RecordsConfig = field(default_factory=RecordsConfig)
    visits: VisitsConfig = field(default_factory=VisitsConfig)
    catch_up: CatchUpConfig = field(default_factory=CatchUpConfig)
    timezone: str = "Asia/Shanghai"
    language: str = "zh-Hans"
    county_admins: tuple[int, ...] = ()
    log_level: str = "INFO"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# The schema: section -> key -> expected python type. Kept beside the dataclasses so that an
# unknown key is reported with the closest known one.
_SCHEMA: dict[str, dict[str, type]] = {
    "": {"timezone": str, "language": str, "county_admins": list, "log_level": str},
    "telegram": {
        "token": str,
        "base_url": str,
        "base_file_url": str,
        "rate_limit": bool,
        "max_concurrent_updates": int,
        "connection_pool_size": int,
        "pool_timeout_seconds": float,
        "callback_max_wait_seconds": float,
    },
    "telegram.webhook": {
        "enabled": bool,
        "listen": str,
        "port": int,
        "url": str,
        "url_path": str,
        "secret_token": str,
        "max_connections": int,
    },
    "storage": {"path": str, "busy_timeout_ms": int, "url": str},
    "inbox": {"keep_days": int},
    "outbox": {"keep_days": int, "retry_first_seconds": int, "retry_longest_seconds": int, "in_flight": int},
    "reminders": {"grace_minutes": int, "quiet_start": str, "quiet_end": str, "weekly_digest": str},
    "activities": {
        "checkin_opens_before_minutes": int,
        "checkin_closes_after_minutes": int,
        "credit_rounding_minutes": int,
        "credit_missing_checkout": bool,
    },
    "wishes": {"purge_after_days": int},
    "conversations": {"expire_after_hours": int},
    "stars": {**{name: int for name in _STARS_NUMBERS}, "ranking": str},
    "deeds": {"behind_reminders": str},
    "sunshine": {"purge_after_days": int, "max_pairs_per_volunteer": int, "daily": str},
    "funds": {"approval_above_yuan": int, "pledge_reminders": str},
    "records": {
        "committee_name": str,
        "secret": str,
        "wish_delivery_minutes": int,
        "visit_minutes": int,
        "export_columns": list,
        "qr_rotate_minutes": int,
        "verify_per_hour": int,
    },
    "visits": {"purge_after_days": int, "far_km": float, "revisit_after_hours": int, "reminder": str},
    "catch_up": {"window_hours": int},
}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}


def _type_name(value: object) -> str:
    for python_type, name in (
        (bool, "true/false"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a table"),
    ):
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _check_section(section: str, table: Mapping[str, object]) -> None:
    known = _SCHEMA[section]
    prefix = f"{section}." if section else ""
    subsections = {
        name[len(prefix) :] for name in _SCHEMA if name and name.startswith(prefix) and "." not in name[len(prefix) :]
    }
    for key, value in table.items():
        dotted = f"{section}.{key}" if section else key
        if key in subsections:
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted}: must be a table ([{dotted}]), got {_type_name(value)}")
            _check_section(dotted, value)
            continue
        if key not in known:
            candidates = list(known) + sorted(subsections)
            close = difflib.get_close_matches(key, candidates, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{dotted}: unknown key{hint} Remove it, or see config.example.toml for every key")
        expected = known[key]
        # bool is a subclass of int in Python; TOML keeps them apart, and so do we. A number of
        # seconds may be written without a decimal point.
        accepted = (int, float) if expected is float else expected
        wrong = not isinstance(value, accepted) or (expected in (int, float) and isinstance(value, bool))
        if wrong:
            raise ConfigError(
                f"{dotted}: must be {_TYPE_NAMES[expected]}, got {_type_name(value)}"
                f" (for example: {dotted.split('.')[-1]} = {_example(expected)})"
            )


def _example(expected: type) -> str:
    return {str: '"text"', int: "5000", float: "4.0", bool: "true", list: "[123456789]"}[expected]


def parse_config(text: str, *, source: str = "config", environ: Mapping[str, str] | None = None) -> Config:
    """Parse and check configuration text; the token from the environment wins."""
    env = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: TOML syntax error: {error}. Fix that line, then try again") from None
    _check_section("", raw)

    telegram_raw = dict(raw.get("telegram", {}))
    webhook = WebhookConfig(**telegram_raw.pop("webhook", {}))
    token = env.get(TOKEN_ENV) or telegram_raw.pop("token", "")
    telegram_raw.pop("token", None)
    telegram = TelegramConfig(token=token.strip(), webhook=webhook, **telegram_raw)
    storage_raw = dict(raw.get("storage", {}))
    if env.get(DATABASE_URL_ENV):
        storage_raw["url"] = env[DATABASE_URL_ENV].strip()
    storage = StorageConfig(**storage_raw)
    inbox = InboxConfig(**raw.get("inbox", {}))
    outbox = OutboxConfig(**raw.get("outbox", {}))
    reminders = RemindersConfig(**raw.get("reminders", {}))
    activities = ActivitiesConfig(**raw.get("activities", {}))
    wishes = WishesConfig(**raw.get("wishes", {}))
    conversations = ConversationsConfig(**raw.get("conversations", {}))
    stars = StarsConfig(**raw.get("stars", {}))
    deeds = DeedsConfig(**raw.get("deeds", {}))
    sunshine = SunshineConfig(**raw.get("sunshine", {}))
    funds = FundsConfig(**raw.get("funds", {}))
    records = records_config(raw.get("records", {}), env)
    visits = VisitsConfig(**raw.get("visits", {}))
    catch_up = CatchUpConfig(**raw.get("catch_up", {}))

    admins = raw.get("county_admins", [])
    for position, admin in enumerate(admins):
        if isinstance(admin, bool) or not isinstance(admin, int):
            raise ConfigError(
                f"county_admins[{position}]: must be a Telegram user id (an integer), got "
                f"{_type_name(admin)}; send /start to the bot and it tells you your id"
            )
    config = Config(
        telegram=telegram,
        storage=storage,
        inbox=inbox,
        outbox=outbox,
        reminders=reminders,
        activities=activities,
        wishes=wishes,
        conversations=conversations,
        stars=stars,
        deeds=deeds,
        sunshine=sunshine,
        funds=funds,
        records=records,
        visits=visits,
        catch_up=catch_up,
        timezone=raw.get("timezone", Config.timezone),
        language=raw.get("language", Config.language),
        county_admins=tuple(admins),
        log_level=raw.get("log_level", Config.log_level).upper(),
    )
    _check_values(config)
    return config


def _check_values(config: Config) -> None:
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'timezone: unknown time zone "{config.timezone}"; use an IANA name such as "Asia/Shanghai"'
        ) from None
    if config.language not in SUPPORTED_LANGUAGES:
        raise ConfigError(
            f'language: "{config.language}" is not supported; use one of {", ".join(SUPPORTED_LANGUAGES)}'
        )
    if config.log_level not in LOG_LEVELS:
        raise ConfigError(f'log_level: "{config.log_level}" is not a level; use one of {", ".join(LOG_LEVELS)}')
    if config.storage.busy_timeout_ms < 0:
        raise ConfigError("storage.busy_timeout_ms: must not be negative (for example: busy_timeout_ms = 5000)")
    if not config.storage.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            "storage.url: use sqlite:///path or postgresql://user:password@host:5432/name"
            ' (for example: url = "postgresql://league:secret@127.0.0.1:5432/league_bot")'
        )
    for section, days in (("inbox", config.inbox.keep_days), ("outbox", config.outbox.keep_days)):
        if not 1 <= days <= 3650:
            raise ConfigError(f"{section}.keep_days: must be 1 to 3650 (for example: keep_days = 7)")
    retry = config.outbox
    if not 1 <= retry.retry_first_seconds <= retry.retry_longest_seconds <= 86400:
        raise ConfigError(
            "outbox.retry_first_seconds / retry_longest_seconds: need 1 <= first <= longest <= 86400"
            " (for example: retry_first_seconds = 1, retry_longest_seconds = 300)"
        )
    if not 1 <= retry.in_flight <= MAX_OUTBOX_IN_FLIGHT:
        raise ConfigError(f"outbox.in_flight: must be 1 to {MAX_OUTBOX_IN_FLIGHT} (for example: in_flight = 4)")
    quiet = (config.reminders.quiet_start, config.reminders.quiet_end)
    if any(quiet) and not all(parse_clock(value) for value in quiet):
        raise ConfigError(
            'reminders.quiet_start/quiet_end: use 24-hour "HH:MM" for both (e.g. "22:00" and "07:00"),'
            ' or "" for both to turn quiet hours off'
        )
    _check_digest_schedule(config)
    checkin = config.activities
    if min(checkin.checkin_opens_before_minutes, checkin.checkin_closes_after_minutes) < 0:
        raise ConfigError("activities.checkin_*_minutes: must not be negative (for example: 30)")
    if not 1 <= checkin.credit_rounding_minutes <= 60:
        raise ConfigError("activities.credit_rounding_minutes: must be 1 to 60 (for example: 15)")
    check_features(config.funds, config.visits, config.sunshine, config.catch_up, config.timezone)
    if not 1 <= config.wishes.purge_after_days <= 3650:
        raise ConfigError("wishes.purge_after_days: must be 1 to 3650 (for example: purge_after_days = 90)")
    if not 1 <= config.conversations.expire_after_hours <= 24 * 30:
        raise ConfigError("conversations.expire_after_hours: must be 1 to 720 (for example: expire_after_hours = 24)")
    _check_stars(config.stars)
    _check_ranking_and_pace_schedules(config)
    if config.reminders.grace_minutes < 0:
        raise ConfigError(
            "reminders.grace_minutes: no longer used ([catch_up] window_hours decides how late a missed"
            " reminder is still sent); remove the line, or make it a number not below 0"
            " (for example: grace_minutes = 60)"
        )
    check_webhook(config.telegram.webhook)
    _check_rush_limits(config.telegram)


# Telegram refuses to answer a button tap about 15 s after it was made; a dropped tap must
# leave the person time to see nothing happened and tap again.
MAX_CALLBACK_WAIT_SECONDS = 12.0


def _check_rush_limits(telegram: TelegramConfig) -> None:
    if not 1 <= telegram.max_concurrent_updates <= 10_000:
        raise ConfigError(
            "telegram.max_concurrent_updates: must be 1 to 10000 (for example: max_concurrent_updates = 64)"
        )
    if telegram.connection_pool_size < telegram.max_concurrent_updates:
        raise ConfigError(
            "telegram.connection_pool_size: must be at least max_concurrent_updates"
            f" ({telegram.max_concurrent_updates}), or updates wait for connections"
            " (for example: connection_pool_size = 128)"
        )
    if telegram.pool_timeout_seconds <= 0:
        raise ConfigError("telegram.pool_timeout_seconds: must be above 0 (for example: pool_timeout_seconds = 10)")
    if not 0 < telegram.callback_max_wait_seconds <= MAX_CALLBACK_WAIT_SECONDS:
        raise ConfigError(
            f"telegram.callback_max_wait_seconds: must be above 0 and at most {MAX_CALLBACK_WAIT_SECONDS:g}"
            " (Telegram refuses an answer ~15 s after the tap; for example: callback_max_wait_seconds = 4)"
        )


_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def check_webhook(hook: WebhookConfig) -> None:
    # http:// only to this machine: a drill behind a local proxy, against the emulator.
    local = hook.url.startswith(tuple(f"http://{host}{end}" for host in _LOOPBACK for end in ":/"))
    if hook.enabled and not (hook.url.startswith("https://") or local):
        raise ConfigError(
            "telegram.webhook.url: a webhook needs the public https:// address Telegram will call,"
            ' for example url = "https://bot.example.org/telegram"'
        )
    if not 0 < hook.port < 65536:
        raise ConfigError("telegram.webhook.port: must be between 1 and 65535")
    if not 1 <= hook.max_connections <= 100:
        raise ConfigError(
            "telegram.webhook.max_connections: Telegram allows 1 to 100 (for example: max_connections = 40)"
        )
    if hook.enabled:
        _check_webhook_secret(hook.secret_token)


def _check_webhook_secret(secret: str) -> None:
    """Without the secret anyone who finds the address can post updates as any user."""
    if len(secret) < WEBHOOK_SECRET_MIN_LENGTH:
        raise ConfigError(
            f"telegram.webhook.secret_token: webhook mode needs a secret of at least {WEBHOOK_SECRET_MIN_LENGTH}"
            f" characters (this one has {len(secret)}), or anyone could post forged updates;"
            f" generate one with: {GENERATE_SECRET}"
        )
    if len(secret) > 256 or not set(secret) <= _WEBHOOK_SECRET_CHARACTERS:
        raise ConfigError(
            "telegram.webhook.secret_token: use at most 256 of the characters A-Z a-z 0-9 _ -"
            f" (what Telegram accepts); generate one with: {GENERATE_SECRET}"
        )


def _check_stars(stars: StarsConfig) -> None:
    weights = {name: value for name, value in vars(stars).items() if name.startswith("weight_")}
    numbers = {name: getattr(stars, name) for name in _STARS_NUMBERS}
    for name, value in numbers.items():
        if value < 0:
            raise ConfigError(f"stars.{name}: must not be negative (for example: {name} = 15)")
    if sum(weights.values()) == 0:
        raise ConfigError("stars.weight_*: at least one weight must be above 0 (for example: weight_deeds = 25)")
    for name, value in numbers.items():
        if name.startswith("target_") and value == 0:
            raise ConfigError(f"stars.{name}: must be at least 1 (for example: {name} = 12)")
    thresholds = (stars.two_stars, stars.three_stars, stars.four_stars, stars.five_stars)
    if not 0 < thresholds[0] < thresholds[1] < thresholds[2] < thresholds[3] <= 100:
        raise ConfigError(
            "stars.two_stars/three_stars/four_stars/five_stars: must rise strictly between 1 and 100"
            " (for example: 20, 40, 60, 80)"
        )
    if not 1 <= stars.ranking_top <= 50:
        raise ConfigError("stars.ranking_top: must be 1 to 50 (for example: ranking_top = 10)")


def _check_ranking_and_pace_schedules(config: Config) -> None:
    when = config.stars.ranking
    if when and not is_recurring(when, config.timezone):
        raise ConfigError(
            f'stars.ranking: "{when}" is not a recurring time; write e.g. "每月1日 9:00"'
            ' (or "every month on the 1st 9:00"), or "" to switch the monthly ranking off'
        )
    when = config.deeds.behind_reminders
    if when and not is_recurring(when, config.timezone):
        raise ConfigError(
            f'deeds.behind_reminders: "{when}" is not a recurring time; write e.g. "cron 0 9 1 7,10 *"'
            ' (09:00 on 1 July and 1 October) or "每月1日 9:00", or "" to switch the reminders off'
        )


def _check_digest_schedule(config: Config) -> None:
    from datetime import UTC, datetime

    from bot.domain.errors import DomainError
    from bot.domain.schedule_grammar import parse_schedule

    when = config.reminders.weekly_digest
    if not when:
        return
    try:
        schedule = parse_schedule(when, now=datetime.now(UTC), zone=ZoneInfo(config.timezone))
    except DomainError:
        schedule = None
    if schedule is None or not schedule.recurring:
        raise ConfigError(
            f'reminders.weekly_digest: "{when}" is not a recurring time; write e.g.'
            ' "every monday 9:00" (or the same in Chinese), or "" to switch the digest off'
        )


def parse_clock(text: str) -> time | None:
    """ "HH:MM" → time, or None when it is not one."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def require_token(config: Config) -> None:
    if not config.telegram.token:
        raise ConfigError(
            f"telegram.token: missing. Set the environment variable {TOKEN_ENV}=<token from @BotFather>"
            ' or put token = "<token>" under [telegram] in the config file'
        )


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(cli_path or env.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found. Copy config.example.toml to {path}, or pass --config PATH"
            f" or set {CONFIG_ENV}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    return parse_config(text, source=str(path), environ=environ)
