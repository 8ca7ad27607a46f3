"""The XLSX export of a period: one sheet each for activities, attendance, wishes, deeds, and the
organisations with their stars.

Two halves, so the bot keeps answering while a big workbook is written:
- `ExportService.gather` (async): who may have it, the rows (one query per sheet, storage/
  reports.py DetailRepository), the star ratings, and — only when asked for and allowed —
  the children's private details, each read audited;
- `build_workbook(data, labels)` (CPU, for asyncio.to_thread): the workbook streamed row by row
  into the zip (XlsxWriter below: openpyxl's write-only mode was too slow at a county-year's
  scale), headers and words from the `labels` translator, times as local-zone dates and times
  (the configured zone; real Excel dates, not text), bytes out.

Who gets what (bot/permissions.py):
- the county (org_id None): county admins; one organisation: its members and county admins.
  An organisation's export holds only its rows: its activities and their attendance, the wishes
  it collected or claimed, its deeds, its own star rating.
- private wish columns (child's real name, guardian's phone, address): only in one
  organisation's export asked for by one of its members (`can_export_child_details`), and then
  only for the wishes that person may see (`can_see_child_details`: the collector's members,
  the claimer while fulfilling). Every such read goes through WishService.private_details,
  which audits it ("wish.private_view"); the export itself is audited too ("report.export").

Catalog keys raised: reports.err_county_only, reports.err_not_member, reports.err_private_refused.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.errors import PermissionDenied
from bot.stars import Rating, rate_facts
from bot.stats import OrgFacts, Period
from storage.reports import (
    ActivitySheetRow,
    AttendanceSheetRow,
    DeedSheetRow,
    DetailRepository,
    WishSheetRow,
)
from storage.wishes import PrivateDetails

Labels = Callable[..., str]

SHEETS = ("activities", "attendance", "wishes", "deeds", "orgs")
_FULFILLING = ("claimed", "purchased", "delivered")
_IN_PROGRESS = ("claimed", "purchased")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"

COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": ("code", "org", "title", "category", "starts", "ends", "place", "state", "slots",
                   "person_times", "expected_served", "served_confirmed", "deed"),
    "attendance": ("activity_code", "activity_title", "org", "volunteer", "user_id", "checked_in",
                   "checked_out", "credited_minutes", "attendance_state", "walk_in"),
    "wishes": ("wish_code", "alias", "grade", "wish", "wish_category", "value_yuan", "collector", "wish_status",
               "claimer", "claimed_at", "deadline", "delivered_at", "confirmed_at", "overdue"),
    "deeds": ("done_on", "org", "deed_title", "from_activity", "evidence", "note"),
    "orgs": ("org", "kind", "quota", "deeds_done", "activities_count", "person_times", "served",
             "wishes_on_time", "claims", "claims_overdue", "score", "stars"),
}
PRIVATE_COLUMNS = ("real_name", "guardian_phone", "address")
WIDTHS = {"title": 28, "activity_title": 28, "wish": 28, "deed_title": 28, "org": 22, "collector": 22,
          "claimer": 22, "place": 20, "note": 30, "address": 30, "volunteer": 16}


@dataclass
class ExportData:
    period: Period
    org_id: int | None
    zone: ZoneInfo
    now: datetime
    activities: list[ActivitySheetRow]
    attendance: list[tuple[AttendanceSheetRow, int]]            # with the credited minutes
    wishes: list[WishSheetRow]
    deeds: list[DeedSheetRow]
    orgs: list[tuple[OrgFacts, Rating]]
    include_private: bool = False
    private: dict[int, PrivateDetails] = field(default_factory=dict)


@dataclass(frozen=True)
class _Span:
    starts_at: datetime
    ends_at: datetime


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


class ExportService:
    def __init__(self, details: DetailRepository, stats, stars, wishes, attendance, permissions, audit, clock,
                 zone: ZoneInfo) -> None:
        self.details = details
        self.stats = stats            # bot.stats.StatsService
        self.stars = stars            # bot.stars.StarsService (its settings)
        self.wishes = wishes          # bot.wishes.WishService (private reads, audited)
        self.attendance = attendance  # bot.attendance.AttendanceService (the credit rule)
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone

    @classmethod
    def of(cls, services) -> ExportService:
        """Built from the running bot's Services."""
        from storage.audit import AuditRepository

        return cls(DetailRepository(services.db), services.stats, services.stars, services.wishes,
                   services.attendance, services.permissions, AuditRepository(services.db), services.clock,
                   services.config.zone)

    async def check(self, user_id: int, org_id: int | None, include_private: bool = False) -> None:
        """Refuse before any work: the scope, then the private columns."""
        if not await self.permissions.can_see_stats(user_id, org_id):
            if org_id is None:
                raise PermissionDenied("reports.err_county_only")
            org = await self.stats.orgs.get(org_id)
            raise PermissionDenied("reports.err_not_member", org=org.name)
        if include_private and not await self.permissions.can_export_child_details(user_id, org_id):
            raise PermissionDenied("reports.err_private_refused")

    async def gather(self, user_id: int, period: Period, org_id: int | None = None,
                     include_private: bool = False) -> ExportData:
        await self.check(user_id, org_id, include_private)
        start, before = period.bounds(self.zone)
        now = self.clock.now()
        attendance = [(row, self._credited(row)) for row in await self.details.attendance(start, before, org_id)]
        facts = await self.stats.org_facts(period)
        if org_id is not None:
            facts = {key: value for key, value in facts.items() if key == org_id}
        rated = [(fact, rate_facts(fact, period, self.stars.settings)) for fact in facts.values()]
        rated.sort(key=lambda item: (-item[1].score, item[0].org.name))
        data = ExportData(
            period=period, org_id=org_id, zone=self.zone, now=now,
            activities=await self.details.activities(start, before, org_id),
            attendance=attendance,
            wishes=await self.details.wishes(start, before, org_id),
            deeds=await self.details.deeds(period.start, period.end, org_id),
            orgs=rated, include_private=include_private,
        )
        if include_private:
            data.private = await self._private(user_id, data.wishes)
        subject = "report:county" if org_id is None else f"report:org:{org_id}"
        await self.audit.record(now, user_id, "report.export", subject,
                                start=period.start.isoformat(), end=period.end.isoformat(),
                                private=include_private, private_wishes=len(data.private))
        return data

    async def _private(self, user_id: int, wishes: list[WishSheetRow]) -> dict[int, PrivateDetails]:
        """The details of each wish this person may see; each read audited by the wish service."""
        found: dict[int, PrivateDetails] = {}
        for wish in wishes:
            if not wish.consent:
                continue
            claimer = wish.claimed_by_user if wish.status in _FULFILLING else None
            if not await self.permissions.can_see_child_details(user_id, wish.collector_org_id, claimed_by=claimer):
                continue
            details = await self.wishes.private_details(user_id, wish.id)
            if details is not None and not details.empty:
                found[wish.id] = details
        return found

    def _credited(self, row: AttendanceSheetRow) -> int:
        if row.no_show or row.removed or row.checked_in_at is None:
            return 0
        span = _Span(_utc(row.starts_at), _utc(row.ends_at))
        return self.attendance.credited_minutes(span, _utc(row.checked_in_at), _utc(row.checked_out_at))


# ---- the workbook (CPU only) ----------------------------------------------------------------------
def build_workbook(data: ExportData, labels: Labels) -> bytes:
    """The XLSX bytes. Pure CPU over `data`: run it through asyncio.to_thread."""
    zone = data.zone
    cache: dict[str, datetime] = {}

    def local(text: str | None) -> datetime | None:
        """Stored UTC text → a local date and time without zone (what a spreadsheet shows)."""
        if text is None:
            return None
        value = cache.get(text)
        if value is None:
            value = cache[text] = datetime.fromisoformat(text).astimezone(zone).replace(tzinfo=None)
        return value

    yes, no = labels("reports.yes"), labels("reports.no")
    words: dict[str, str] = {}

    def word(key: str) -> str:
        text = words.get(key)
        if text is None:
            text = words[key] = labels(key)
        return text

    def headers(columns: tuple[str, ...]) -> tuple[list[str], list[float]]:
        return [labels(f"reports.col_{column}") for column in columns], [WIDTHS.get(c, 14) for c in columns]

    book = XlsxWriter()
    with book.sheet(labels("reports.sheet_activities"), *headers(COLUMNS["activities"])) as sheet:
        for row in data.activities:
            sheet.row([
                row.code, row.org_name, row.title, word(f"activities.category.{row.category}"),
                local(row.starts_at), local(row.ends_at), row.place, word(f"reports.activity_state_{row.state}"),
                row.slots, row.person_times, row.expected_served, row.served_confirmed,
                yes if row.counts_as_deed else no,
            ])

    counted, no_show, removed = (word("reports.attendance_counted"), word("reports.attendance_no_show"),
                                 word("reports.attendance_removed"))
    with book.sheet(labels("reports.sheet_attendance"), *headers(COLUMNS["attendance"])) as sheet:
        for row, minutes in data.attendance:
            sheet.row([
                row.code, row.title, row.org_name, row.display_name, row.user_id, local(row.checked_in_at),
                local(row.checked_out_at), minutes, removed if row.removed else no_show if row.no_show else counted,
                yes if row.walk_in else no,
            ])

    wish_columns = COLUMNS["wishes"] + (PRIVATE_COLUMNS if data.include_private else ())
    now_text = data.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with book.sheet(labels("reports.sheet_wishes"), *headers(wish_columns)) as sheet:
        for row in data.wishes:
            overdue = row.status in _IN_PROGRESS and row.deadline is not None and row.deadline < now_text
            values = [
                f"W{row.id:04d}", row.alias, row.grade, row.text, word(f"wishes.category.{row.category}"),
                row.value_yuan, row.collector_name, word(f"wishes.status.{row.status}"), row.claimer_name,
                local(row.claimed_at), local(row.deadline), local(row.delivered_at), local(row.confirmed_at),
                yes if overdue else no,
            ]
            if data.include_private:
                details = data.private.get(row.id)
                values += [details.real_name, details.guardian_phone, details.address] if details else []
            sheet.row(values)

    with book.sheet(labels("reports.sheet_deeds"), *headers(COLUMNS["deeds"])) as sheet:
        for row in data.deeds:
            sheet.row([date.fromisoformat(row.done_on), row.org_name, row.title, row.activity_code,
                       yes if row.has_evidence else no, row.note])

    with book.sheet(labels("reports.sheet_orgs"), *headers(COLUMNS["orgs"])) as sheet:
        for facts, rating in data.orgs:
            org = facts.org
            sheet.row([
                org.name, word(f"orgs.kind.{org.kind.value}"), org.deeds_quota, facts.deeds_done, facts.activities,
                facts.person_times, facts.served, facts.fulfilled_on_time, facts.claims, facts.overdue,
                rating.score, "★" * rating.stars + "☆" * (5 - rating.stars),
            ])
    return book.close()


# ---- a streaming XLSX writer ----------------------------------------------------------------------
# openpyxl's write-only mode spends ~35 µs a cell serialising XML in pure Python (without lxml):
# 8 s for a county-year's 600,000 cells. This writes the same SpreadsheetML (inline strings, one
# style each for header, date-time and date) straight into the zip, ~15× faster; openpyxl reads
# it back in the tests.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = datetime(1899, 12, 30)
_STYLE_HEADER, _STYLE_DATETIME, _STYLE_DATE = 1, 2, 3
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATETIME_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ILLEGAL.sub("", text) if _ILLEGAL.search(text) else text


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Sheet:
    def __init__(self, stream, columns: int) -> None:
        self._stream = stream
        self._letters = [_column_letter(index) for index in range(1, columns + 1)]
        self._number = 0
        self._pending: list[str] = []

    def row(self, values, style: int = 0) -> None:
        self._number += 1
        number = self._number
        cells = []
        for letter, value in zip(self._letters, values):
            if value is None or value == "":
                continue
            reference = f"{letter}{number}"
            if isinstance(value, str):
                head = f'<c r="{reference}" s="{style}" t="inlineStr">' if style else f'<c r="{reference}" t="inlineStr">'
                cells.append(f'{head}<is><t xml:space="preserve">{_escape(value)}</t></is></c>')
            elif isinstance(value, datetime):
                serial = (value - _EPOCH).total_seconds() / 86400
                cells.append(f'<c r="{reference}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>')
            elif isinstance(value, date):
                cells.append(f'<c r="{reference}" s="{_STYLE_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>')
            else:  # int, float
                cells.append(f'<c r="{reference}"><v>{value}</v></c>')
        self._pending.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(self._pending) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._stream.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()


class XlsxWriter:
    """Sheets written one after the other, rows streamed into the zip; `close()` gives the bytes."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=5)
        self._names: list[str] = []

    @contextmanager
    def sheet(self, title: str, header: list[str], widths: list[float]):
        name = _SHEET_NAME_BAD.sub(" ", title)[:31] or f"Sheet{len(self._names) + 1}"
        self._names.append(name)
        with self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w", force_zip64=True) as stream:
            columns = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                              for i, w in enumerate(widths, 1))
            stream.write((
                f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>'
            ).encode())
            sheet = _Sheet(stream, len(header))
            sheet.row(header, _STYLE_HEADER)
            yield sheet
            sheet.flush()
            stream.write(b"</sheetData></worksheet>")

    def close(self) -> bytes:
        count = len(self._names)
        sheets = "".join(f'<sheet name="{_escape(name).replace(chr(34), "&quot;")}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(self._names, 1))
        self._zip.writestr("[Content_Types].xml", (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml"'
            ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml"'
            ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml"'
                      ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, count + 1))
            + "</Types>"))
        self._zip.writestr("_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_REL}"><Relationship Id="rId1"'
            ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>'))
        self._zip.writestr("xl/workbook.xml", (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_REL}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, count + 1))
            + f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()
        return self._buffer.getvalue()
