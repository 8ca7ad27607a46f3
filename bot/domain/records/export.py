"""The national platforms' export: one row per person per piece of service, as XLSX.

County admins only. The columns and their order come from `[records] export_columns` (names in
bot/domain/feature_config.py RECORD_COLUMNS; the default is DEFAULT_RECORD_COLUMNS), so staff can paste
the rows into the platform they use. The name is the real name the person gave in /profile, else
their Telegram name. The identity fields are filled only for people who supplied them with their
consent (/myid), and reading them is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import PermissionDenied
from bot.domain.people import PeopleService
from bot.domain.permissions import Permissions
from bot.domain.records.service import RecordService
from bot.domain.stats import Period
from bot.domain.xlsx import Cell, XlsxWriter
from bot.model.records import Identity, ServiceLine
from storage.audit import AuditRepository
from storage.records import RecordRepository

Labels = Callable[..., str]
_WIDTHS = {"name": 14, "id_number": 22, "organisation": 22, "activity": 28, "reference": 10, "start": 17, "end": 17}


@dataclass(frozen=True)
class ExportRow:
    line: ServiceLine
    name: str
    identity: Identity | None


class RecordExport:
    def __init__(
        self,
        records: RecordService,
        repo: RecordRepository,
        people: PeopleService,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
        columns: tuple[str, ...],
    ) -> None:
        self.records = records
        self.repo = repo
        self.people = people
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.columns = columns

    async def gather(self, actor_id: int, period: Period) -> list[ExportRow]:
        if not await self.permissions.is_county_admin(actor_id):
            raise PermissionDenied("records.err_not_county_admin")
        records = await self.records.record(None, period)
        user_ids = [record.user_id for record in records]
        people = await self.people.many(user_ids)
        wanted = {"id_type", "id_number"} & set(self.columns)
        identities = await self.repo.identities(user_ids) if wanted else {}
        await self.audit.record(
            self.clock.now(),
            actor_id,
            "records.export",
            "records:export",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            people=len(user_ids),
            identities_read=len(identities),
        )
        rows: list[ExportRow] = []
        for record in records:
            person = people.get(record.user_id)
            name = (person.real_name or person.display_name) if person else str(record.user_id)
            rows.extend(ExportRow(line, name, identities.get(record.user_id)) for line in record.lines)
        return rows

    def _cell(self, column: str, row: ExportRow, labels: Labels) -> Cell:
        line = row.line
        local: Callable[[datetime | None], Cell] = lambda moment: (  # noqa: E731 - one use, here
            None if moment is None else moment.astimezone(self.zone).replace(tzinfo=None)
        )
        values: dict[str, Cell] = {
            "name": row.name,
            "id_type": labels(f"records.id_type_{row.identity.id_type}") if row.identity else None,
            "id_number": row.identity.id_number if row.identity else None,
            "organisation": line.org_name,
            "kind": labels(f"records.kind_{line.kind.value}"),
            "reference": line.reference,
            "activity": line.title,
            "date": line.day,
            "start": local(line.starts_at),
            "end": local(line.ends_at),
            "hours": round(line.minutes / 60, 2),
            "minutes": line.minutes,
        }
        return values[column]

    def workbook(self, rows: list[ExportRow], labels: Labels) -> bytes:
        """The XLSX (in a worker thread: a county-year is many rows)."""
        book = XlsxWriter()
        header = [labels(f"records.col_{column}") for column in self.columns]
        widths = [float(_WIDTHS.get(column, 12)) for column in self.columns]
        with book.sheet(labels("records.export_sheet"), header, widths) as sheet:
            for row in rows:
                sheet.row([self._cell(column, row, labels) for column in self.columns])
        return book.close()
