"""The XLSX export's workbook (the data: bot/domain/exports.py `ExportService.gather`): one sheet
each for activities, attendance, wishes, deeds, and the organisations with their stars, then a
feature's own sheets (Sunshine Home's).

The big sheets are streamed: rows come from the database in batches (storage/report_rows.py,
`Database.stream`) and go into XlsxWriter's constant-memory mode batch by batch in a worker
thread (bot/domain/xlsx.py `StreamedBook`), sheet after sheet, so a province-year (half a million
attendance rows) is written in constant memory while the bot keeps answering. `on_progress`
hears after every batch (the handler edits a "正在生成…" message with it, throttled).

Catalog keys used: reports.sheet_<sheet>, reports.col_<column>, reports.yes / reports.no,
reports.activity_state_<state>, reports.attendance_<state>, activities.category.<category>,
wishes.category.<category>, wishes.status.<status>, orgs.kind.<kind>.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.domain.exports import ExportData, Labels
from bot.domain.stars import Rating
from bot.domain.stats import OrgFacts
from bot.domain.xlsx import Cell, OnProgress, StreamedBook, in_batches
from bot.model.report import ActivitySheetRow, AttendanceSheetRow, DeedSheetRow, WishSheetRow

_IN_PROGRESS = ("claimed", "purchased")
SHEETS = 5  # activities, attendance, wishes, deeds, organisations
# A feature's own sheets after these: how many, and the writer (Sunshine Home's).
MoreSheets = tuple[int, Callable[[StreamedBook], Awaitable[None]]]

COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": (
        "code",
        "org",
        "title",
        "category",
        "starts",
        "ends",
        "place",
        "state",
        "slots",
        "person_times",
        "expected_served",
        "served_confirmed",
        "deed",
    ),
    "attendance": (
        "activity_code",
        "activity_title",
        "org",
        "volunteer",
        "user_id",
        "checked_in",
        "checked_out",
        "credited_minutes",
        "attendance_state",
        "walk_in",
    ),
    "wishes": (
        "wish_code",
        "alias",
        "grade",
        "wish",
        "wish_category",
        "value_yuan",
        "collector",
        "wish_status",
        "claimer",
        "claimed_at",
        "deadline",
        "delivered_at",
        "confirmed_at",
        "overdue",
    ),
    "deeds": ("done_on", "org", "deed_title", "from_activity", "evidence", "note"),
    "orgs": (
        "org",
        "kind",
        "township",
        "quota",
        "deeds_done",
        "activities_count",
        "person_times",
        "served",
        "wishes_on_time",
        "claims",
        "claims_overdue",
        "score",
        "stars",
    ),
}
WIDTHS = {
    "title": 28,
    "activity_title": 28,
    "wish": 28,
    "deed_title": 28,
    "org": 22,
    "collector": 22,
    "claimer": 22,
    "place": 20,
    "note": 30,
    "address": 30,
    "volunteer": 16,
}
PRIVATE_COLUMNS = ("real_name", "guardian_phone", "address")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    activities: int  # rows of each sheet
    attendance: int
    wishes: int
    deeds: int


class _Words:
    """Catalog texts looked up once each (a sheet of half a million rows repeats a handful)."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self._seen: dict[str, str] = {}
        self.yes, self.no = labels("reports.yes"), labels("reports.no")

    def __call__(self, key: str) -> str:
        text = self._seen.get(key)
        if text is None:
            text = self._seen[key] = self.labels(key)
        return text

    def headers(self, columns: tuple[str, ...]) -> tuple[list[str], list[float]]:
        return [self.labels(f"reports.col_{column}") for column in columns], [WIDTHS.get(c, 14) for c in columns]


class _Local:
    """Stored UTC text → a local date and time without zone (what a spreadsheet shows)."""

    def __init__(self, data: ExportData) -> None:
        self.zone = data.zone
        self._seen: dict[str, datetime] = {}

    def __call__(self, text: str | None) -> datetime | None:
        if text is None:
            return None
        value = self._seen.get(text)
        if value is None:
            if len(self._seen) > 100_000:  # a province-year has millions of distinct times
                self._seen.clear()
            value = self._seen[text] = datetime.fromisoformat(text).astimezone(self.zone).replace(tzinfo=None)
        return value


async def write_workbook(
    data: ExportData, labels: Labels, more: MoreSheets | None = None, on_progress: OnProgress | None = None
) -> ExportFile:
    """The XLSX bytes and how many rows each sheet got."""
    word, local = _Words(labels), _Local(data)
    yes, no = word.yes, word.no
    book = StreamedBook(SHEETS + (more[0] if more else 0), on_progress)

    def activity(row: ActivitySheetRow) -> list[Cell]:
        return [
            row.code,
            row.org_name,
            row.title,
            word(f"activities.category.{row.category}"),
            local(row.starts_at),
            local(row.ends_at),
            row.place,
            word(f"reports.activity_state_{row.state}"),
            row.slots,
            row.person_times,
            row.expected_served,
            row.served_confirmed,
            yes if row.counts_as_deed else no,
        ]

    counted, no_show, removed = (
        word("reports.attendance_counted"),
        word("reports.attendance_no_show"),
        word("reports.attendance_removed"),
    )

    def attendance(row: AttendanceSheetRow) -> list[Cell]:
        return [
            row.code,
            row.title,
            row.org_name,
            row.display_name,
            row.user_id,
            local(row.checked_in_at),
            local(row.checked_out_at),
            row.credited_minutes,
            removed if row.removed else no_show if row.no_show else counted,
            yes if row.walk_in else no,
        ]

    now_text = data.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def wish(row: WishSheetRow) -> list[Cell]:
        overdue = row.status in _IN_PROGRESS and row.deadline is not None and row.deadline < now_text
        values: list[Cell] = [
            f"W{row.id:04d}",
            row.alias,
            row.grade,
            row.text,
            word(f"wishes.category.{row.category}"),
            row.value_yuan,
            row.collector_name,
            word(f"wishes.status.{row.status}"),
            row.claimer_name,
            local(row.claimed_at),
            local(row.deadline),
            local(row.delivered_at),
            local(row.confirmed_at),
            yes if overdue else no,
        ]
        if data.include_private:
            details = data.private.get(row.id)
            values += [details.real_name, details.guardian_phone, details.address] if details else []
        return values

    def deed(row: DeedSheetRow) -> list[Cell]:
        return [
            date.fromisoformat(row.done_on),
            row.org_name,
            row.title,
            row.activity_code,
            yes if row.has_evidence else no,
            row.note,
        ]

    def org(item: tuple[OrgFacts, Rating]) -> list[Cell]:
        facts, rating = item
        return [
            facts.org.name,
            word(f"orgs.kind.{facts.org.kind.value}"),
            data.townships.get(facts.org.id),
            facts.org.deeds_quota,
            facts.deeds_done,
            facts.activities,
            facts.person_times,
            facts.served,
            facts.fulfilled_on_time,
            facts.claims,
            facts.overdue,
            rating.score,
            "★" * rating.stars + "☆" * (5 - rating.stars),
        ]

    source = data.source
    headers = word.headers
    wish_columns = COLUMNS["wishes"] + (PRIVATE_COLUMNS if data.include_private else ())
    sheet = book.sheet
    activities = await sheet(
        labels("reports.sheet_activities"), *headers(COLUMNS["activities"]), source.activities(), activity
    )
    present = await sheet(
        labels("reports.sheet_attendance"), *headers(COLUMNS["attendance"]), source.attendance(), attendance
    )
    wishes = await sheet(labels("reports.sheet_wishes"), *headers(wish_columns), source.wishes(), wish)
    deeds = await sheet(labels("reports.sheet_deeds"), *headers(COLUMNS["deeds"]), in_batches(data.deeds), deed)
    await sheet(labels("reports.sheet_orgs"), *headers(COLUMNS["orgs"]), in_batches(data.orgs), org)
    if more is not None:
        await more[1](book)
    return ExportFile(await book.close(), activities, present, wishes, deeds)
