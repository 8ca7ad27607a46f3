"""The configuration sections of the county's programmes beyond the core bot: service records and
certificates, the funds ledger, verification visits, the Sunshine Home and the catch-up after
downtime; each a frozen dataclass with its checks (bot/domain/config.py reads the file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.config_rules import GENERATE_SECRET, ConfigError, is_recurring

# The national platforms' export (bot/domain/records/export.py): the columns, in this order, by name.
RECORD_COLUMNS = (
    "name",
    "id_type",
    "id_number",
    "organisation",
    "kind",
    "reference",
    "activity",
    "date",
    "start",
    "end",
    "hours",
    "minutes",
)
DEFAULT_RECORD_COLUMNS = ("name", "id_type", "id_number", "activity", "organisation", "date", "hours")
RECORDS_SECRET_ENV = "LEAGUE_BOT_RECORDS_SECRET"


@dataclass(frozen=True)
class RecordsConfig:
    """Service records and certificates (bot/domain/records/): the committee named on certificates
    ("" = the catalog's wording), the key that signs serials and QR codes (the environment's
    LEAGUE_BOT_RECORDS_SECRET wins; with neither, one is generated and kept in the database),
    the minutes a delivered wish and an approved verification visit count, the export's columns,
    how often an activity's QR code changes (0 = one code per activity until the organiser makes
    a new one) and how many /verify a person may ask an hour."""

    committee_name: str = ""
    secret: str = ""
    wish_delivery_minutes: int = 0
    visit_minutes: int = 0
    export_columns: tuple[str, ...] = DEFAULT_RECORD_COLUMNS
    qr_rotate_minutes: int = 0
    verify_per_hour: int = 20


@dataclass(frozen=True)
class FundsConfig:
    """The funds ledger (bot/domain/funds/): grants and expenses above `approval_above_yuan` need a
    second county admin's approval; `pledge_reminders` is when due pledge instalments are
    reminded and overdue ones listed to the county admins ("" switches that off)."""

    approval_above_yuan: int = 5000
    pledge_reminders: str = "每天 9:00"


@dataclass(frozen=True)
class VisitsConfig:
    """Verification-visit campaigns (bot/domain/visits): households' private details are deleted
    purge_after_days after the campaign closes; a visit filed farther than far_km from its
    township is flagged to the reviewer; an unreached household may be visited again after
    revisit_after_hours; the daily reminder (a recurring time in the reminder grammar, "" = off)."""

    purge_after_days: int = 90
    far_km: float = 15.0
    revisit_after_hours: int = 24
    reminder: str = "每天 9:00"


@dataclass(frozen=True)
class SunshineConfig:
    """Sunshine Home (bot/domain/sunshine/): a child's private details are deleted this many days
    after the child leaves the programme; a volunteer holds at most this many pairs; the daily
    job (quiet-pair reminders, the purge) runs at this recurring time ("" = off)."""

    purge_after_days: int = 90
    max_pairs_per_volunteer: int = 3
    daily: str = "cron 0 9 * * *"


@dataclass(frozen=True)
class CatchUpConfig:
    """After downtime (bot/domain/catch_up.py, bot/domain/reminders.py): activity summaries are
    still sent for activities that ended at most window_hours ago, and reminder occurrences at most
    window_hours late, grouped per chat; older ones are listed to the county admins."""

    window_hours: int = 24


def records_config(table: Mapping[str, object], env: Mapping[str, str]) -> RecordsConfig:
    values = dict(table)
    columns = values.pop("export_columns", list(DEFAULT_RECORD_COLUMNS))
    if not isinstance(columns, list) or not columns or not all(column in RECORD_COLUMNS for column in columns):
        raise ConfigError(
            f"records.export_columns: a list of column names from {', '.join(RECORD_COLUMNS)}"
            f' (for example: export_columns = ["name", "id_number", "activity", "date", "hours"])'
        )
    secret = env.get(RECORDS_SECRET_ENV) or str(values.pop("secret", ""))
    values.pop("secret", None)
    # The schema check has made sure of each type; the defaults stand in for what is left out.
    default = RecordsConfig()
    config = RecordsConfig(
        committee_name=str(values.get("committee_name", default.committee_name)).strip(),
        secret=secret.strip(),
        wish_delivery_minutes=int(str(values.get("wish_delivery_minutes", default.wish_delivery_minutes))),
        visit_minutes=int(str(values.get("visit_minutes", default.visit_minutes))),
        export_columns=tuple(str(column) for column in columns),
        qr_rotate_minutes=int(str(values.get("qr_rotate_minutes", default.qr_rotate_minutes))),
        verify_per_hour=int(str(values.get("verify_per_hour", default.verify_per_hour))),
    )
    if secret and len(config.secret) < 16:
        raise ConfigError(
            f"records.secret: at least 16 characters (or set {RECORDS_SECRET_ENV});"
            f" generate one with: {GENERATE_SECRET}"
        )
    if not 0 <= config.wish_delivery_minutes <= 24 * 60:
        raise ConfigError("records.wish_delivery_minutes: must be 0 to 1440 (for example: wish_delivery_minutes = 60)")
    if not 0 <= config.visit_minutes <= 24 * 60:
        raise ConfigError("records.visit_minutes: must be 0 to 1440 (for example: visit_minutes = 120)")
    if not 0 <= config.qr_rotate_minutes <= 24 * 60:
        raise ConfigError("records.qr_rotate_minutes: must be 0 (one code per activity) to 1440 (for example: 60)")
    if not 1 <= config.verify_per_hour <= 1000:
        raise ConfigError("records.verify_per_hour: must be 1 to 1000 (for example: verify_per_hour = 20)")
    return config


def check_features(
    funds: FundsConfig, visits: VisitsConfig, sunshine: SunshineConfig, catch_up: CatchUpConfig, timezone: str
) -> None:
    if funds.approval_above_yuan < 0:
        raise ConfigError("funds.approval_above_yuan: must not be negative (for example: approval_above_yuan = 5000)")
    if funds.pledge_reminders and not is_recurring(funds.pledge_reminders, timezone):
        raise ConfigError(
            f'funds.pledge_reminders: "{funds.pledge_reminders}" is not a recurring time;'
            ' write e.g. "每天 9:00", or "" to switch the pledge reminders off'
        )
    if not 1 <= visits.purge_after_days <= 3650 or visits.far_km <= 0 or visits.revisit_after_hours < 1:
        raise ConfigError(
            "visits: purge_after_days must be 1 to 3650, far_km above 0, revisit_after_hours at least 1"
            " (for example: purge_after_days = 90, far_km = 15, revisit_after_hours = 24)"
        )
    if visits.reminder and not is_recurring(visits.reminder, timezone):
        raise ConfigError(
            f'visits.reminder: "{visits.reminder}" is not a recurring time; write e.g. "每天 9:00"'
            ' (or "every day 9:00"), or "" to switch the daily visit reminders off'
        )
    if not 1 <= sunshine.purge_after_days <= 3650:
        raise ConfigError("sunshine.purge_after_days: must be 1 to 3650 (for example: purge_after_days = 90)")
    if not 1 <= sunshine.max_pairs_per_volunteer <= 50:
        raise ConfigError(
            "sunshine.max_pairs_per_volunteer: must be 1 to 50 (for example: max_pairs_per_volunteer = 3)"
        )
    if sunshine.daily and not is_recurring(sunshine.daily, timezone):
        raise ConfigError(
            f'sunshine.daily: "{sunshine.daily}" is not a recurring time; write e.g. "cron 0 9 * * *"'
            ' (09:00 every day), or "" to switch the daily job off'
        )
    if catch_up.window_hours < 0:
        raise ConfigError(
            "catch_up.window_hours: must not be negative (for example: window_hours = 24: summaries and"
            " reminders missed while the bot was down are still sent if at most 24 hours late)"
        )
