"""Organisations repository."""

from __future__ import annotations

from datetime import datetime

from bot.model.organisation import Organisation, OrgKind
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_COLUMNS = "id, name, kind, parent_id, deeds_quota, archived_at, created_at"


def _organisation(row: Row) -> Organisation:
    return Organisation(
        id=row["id"],
        name=row["name"],
        kind=OrgKind(row["kind"]),
        parent_id=row["parent_id"],
        deeds_quota=row["deeds_quota"],
        archived_at=from_db_time(row["archived_at"]),
        created_at=db_time(row["created_at"]),
    )


class OrganisationRepository:
    """Organisations change rarely and are read on hot paths (who took a lot, the board), so
    `get` is cached and the cache is dropped on every write here and on a rollback."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_id: dict[int, Organisation] = db.row_cache()

    async def add(
        self, name: str, kind: OrgKind, parent_id: int | None, deeds_quota: int, now: datetime
    ) -> Organisation:
        new_id = await self.db.execute(
            "INSERT INTO organisations (name, kind, parent_id, deeds_quota, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, kind.value, parent_id, deeds_quota, to_db_time(now)),
        )
        return written(await self.get(new_id), f"organisation {new_id}")

    async def get(self, org_id: int) -> Organisation | None:
        if org_id in self._by_id:
            return self._by_id[org_id]
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM organisations WHERE id = ?", (org_id,))
        if row is None:
            return None
        org = self._by_id[org_id] = _organisation(row)
        return org

    async def by_name(self, name: str) -> Organisation | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM organisations WHERE name = ?", (name,))
        return None if row is None else _organisation(row)

    async def list(self, *, include_archived: bool = False) -> list[Organisation]:
        where = "" if include_archived else " WHERE archived_at IS NULL"
        rows = await self.db.fetch_all(f"SELECT {_COLUMNS} FROM organisations{where} ORDER BY id")
        return [_organisation(row) for row in rows]

    async def names(self) -> set[str]:
        rows = await self.db.fetch_all("SELECT name FROM organisations")
        return {row["name"] for row in rows}

    async def rename(self, org_id: int, name: str) -> None:
        self._by_id.pop(org_id, None)
        await self.db.execute("UPDATE organisations SET name = ? WHERE id = ?", (name, org_id))

    async def set_kind(self, org_id: int, kind: OrgKind) -> None:
        self._by_id.pop(org_id, None)
        await self.db.execute("UPDATE organisations SET kind = ? WHERE id = ?", (kind.value, org_id))

    async def set_parent(self, org_id: int, parent_id: int | None) -> None:
        self._by_id.pop(org_id, None)
        await self.db.execute("UPDATE organisations SET parent_id = ? WHERE id = ?", (parent_id, org_id))

    async def set_quota(self, org_id: int, quota: int) -> None:
        self._by_id.pop(org_id, None)
        await self.db.execute("UPDATE organisations SET deeds_quota = ? WHERE id = ?", (quota, org_id))

    async def set_archived(self, org_id: int, archived_at: datetime | None) -> None:
        self._by_id.pop(org_id, None)
        await self.db.execute(
            "UPDATE organisations SET archived_at = ? WHERE id = ?", (to_db_time(archived_at), org_id)
        )
