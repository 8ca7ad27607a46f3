"""Organisations: create, edit, archive, import. County admins only."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import bounds
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, one_line
from bot.domain.permissions import Permissions
from bot.model.organisation import Organisation, OrgKind, OrgRow
from storage.audit import AuditRepository
from storage.db import Database
from storage.organisations import OrganisationRepository

MAX_NAME_LENGTH = 60
MAX_QUOTA = 50
DEFAULT_QUOTAS = {OrgKind.COUNTY_LEVEL: 3, OrgKind.TOWNSHIP: 1}


# The tree (county → county-level / township → village branch, schools): the kinds a kind may
# not sit under. A village branch belongs to a township committee (乡镇大团委), whose admins act
# for it (bot/domain/permissions.py); never to a county-level organisation.
_PARENT_REFUSED: dict[OrgKind, frozenset[OrgKind]] = {
    OrgKind.VILLAGE_BRANCH: frozenset({OrgKind.COUNTY_LEVEL, OrgKind.VILLAGE_BRANCH, OrgKind.SCHOOL}),
    OrgKind.TOWNSHIP: frozenset({OrgKind.VILLAGE_BRANCH, OrgKind.SCHOOL}),
    OrgKind.COUNTY_LEVEL: frozenset({OrgKind.VILLAGE_BRANCH, OrgKind.SCHOOL, OrgKind.TOWNSHIP}),
}


def parent_kind_allowed(kind: OrgKind, parent_kind: OrgKind) -> bool:
    return parent_kind not in _PARENT_REFUSED.get(kind, frozenset())


def default_quota(kind: OrgKind) -> int:
    """Yearly deeds (实事): 3 for a county-level organisation, 1 for a township committee."""
    return DEFAULT_QUOTAS.get(kind, 0)


def clean_name(text: str) -> str:
    return one_line(text, max_length=MAX_NAME_LENGTH, empty_key="orgs.name_empty", too_long_key="orgs.name_too_long")


def parse_quota(text: str) -> int:
    quota = bounds.whole_number(text)
    if quota is None:
        raise DomainError("orgs.quota_not_number", value=text.strip()[:20])
    if not 0 <= quota <= MAX_QUOTA:
        raise DomainError("orgs.quota_out_of_range", value=quota, max=MAX_QUOTA)
    return quota


class OrganisationService:
    def __init__(
        self, db: Database, orgs: OrganisationRepository, audit: AuditRepository, permissions: Permissions, clock: Clock
    ) -> None:
        self.db = db
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock

    async def check_editor(self, actor_id: int) -> None:
        """Creating, editing, archiving and importing organisations is for county admins; asked
        before a form or a file is asked for (each change checks again)."""
        await self.permissions.require_county_admin(actor_id)

    async def get(self, org_id: int) -> Organisation:
        org = await self.orgs.get(org_id)
        if org is None:
            raise DomainError("orgs.not_found")
        return org

    async def get_active(self, org_id: int) -> Organisation:
        org = await self.get(org_id)
        if not org.active:
            raise DomainError("orgs.archived", name=org.name)
        return org

    async def search(self, text: str, *, limit: int = 20) -> list[Organisation]:
        return await self._search(text, limit=limit, include_archived=False)

    async def search_all(self, text: str, *, limit: int = 20) -> list[Organisation]:
        """Like `search`, archived organisations included (to edit or restore them)."""
        return await self._search(text, limit=limit, include_archived=True)

    # ---- scope: the one rule for which organisations a person sees and manages ----------------
    async def visible_to(self, user_id: int, search: str | None = None, *, limit: int = 40) -> list[Organisation]:
        """The active organisations a person may see and act for: every one for a county admin,
        otherwise those they are a member of (any role) and the village branches of the township
        committees they administer (bot/domain/permissions.py's tree rule). `search` narrows by name."""
        if await self.permissions.is_county_admin(user_id):
            return await (self.search(search, limit=limit) if search else self.list())
        return self._narrow(await self._of(await self.permissions.acting_org_ids(user_id)), search)

    async def managed_by(self, user_id: int, search: str | None = None, *, limit: int = 40) -> list[Organisation]:
        """The active organisations a person may manage: every one for a county admin, otherwise
        those they administer and their township's village branches. `search` narrows by name."""
        if await self.permissions.is_county_admin(user_id):
            return await (self.search(search, limit=limit) if search else self.list())
        return self._narrow(await self._of(await self.permissions.managed_org_ids(user_id)), search)

    async def villages_of(self, township_id: int) -> list[Organisation]:
        """The active village branches of a township committee (whose admins act for them)."""
        return [
            org
            for org in await self.orgs.list()
            if org.parent_id == township_id and await self.permissions.township_of(org.id) == township_id
        ]

    async def scope_ids(self, org_id: int | None, with_villages: bool = False) -> int | tuple[int, ...] | None:
        """The organisations figures cover (storage/reports.OrgScope): None the county, the one
        organisation, or a township committee and its village branches."""
        if org_id is None or not with_villages:
            return org_id
        return (org_id, *[village.id for village in await self.villages_of(org_id)])

    async def township_names(self) -> dict[int, str]:
        """For every village branch in a township, the township's name (the export's column)."""
        names: dict[int, str] = {}
        for org in await self.orgs.list(include_archived=True):
            township = await self.permissions.township_of(org.id)
            if township is not None:
                names[org.id] = (await self.get(township)).name
        return names

    async def _of(self, org_ids: list[int]) -> list[Organisation]:
        wanted = set(org_ids)
        return [org for org in await self.orgs.list() if org.id in wanted]

    @staticmethod
    def _narrow(orgs: list[Organisation], search: str | None) -> list[Organisation]:
        if not search:
            return orgs
        needle = search.strip().lower()
        return [org for org in orgs if needle in org.name.lower()]

    async def _search(self, text: str, *, limit: int, include_archived: bool) -> list[Organisation]:
        return self._narrow(await self.orgs.list(include_archived=include_archived), text)[:limit]

    async def names(self) -> set[str]:
        """Every organisation's name, archived ones included: an import may reuse none of them."""
        return await self.orgs.names()

    async def check_new_name(self, text: str, *, current_id: int | None = None) -> str:
        name = clean_name(text)
        existing = await self.orgs.by_name(name)
        if existing is not None and existing.id != current_id:
            raise DomainError("orgs.name_taken", name=name)
        return name

    async def create(
        self, actor_id: int, name: str, kind: OrgKind, parent_id: int | None, deeds_quota: int | None = None
    ) -> Organisation:
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            name = await self.check_new_name(name)
            if parent_id is not None:
                await self._check_parent_kind(kind, await self.get_active(parent_id))
            quota = default_quota(kind) if deeds_quota is None else deeds_quota
            org = await self.orgs.add(name, kind, parent_id, quota, self.clock.now())
            await self.audit.record(
                self.clock.now(), actor_id, "org.create", f"org:{org.id}", name=name, kind=kind.value, quota=quota
            )
        return org

    async def rename(self, actor_id: int, org_id: int, text: str) -> Organisation:
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            org = await self.get(org_id)
            name = await self.check_new_name(text, current_id=org_id)
            await self.orgs.rename(org_id, name)
            await self.audit.record(self.clock.now(), actor_id, "org.rename", f"org:{org_id}", old=org.name, new=name)
        return await self.get(org_id)

    async def change_kind(self, actor_id: int, org_id: int, kind: OrgKind) -> Organisation:
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            org = await self.get(org_id)
            await self.orgs.set_kind(org_id, kind)
            await self.audit.record(
                self.clock.now(), actor_id, "org.kind", f"org:{org_id}", old=org.kind.value, new=kind.value
            )
        return await self.get(org_id)

    async def change_parent(self, actor_id: int, org_id: int, parent_id: int | None) -> Organisation:
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            org = await self.get(org_id)
            if parent_id is not None:
                await self._refuse_cycle(org_id, parent_id)
                await self._check_parent_kind(org.kind, await self.get(parent_id))
            await self.orgs.set_parent(org_id, parent_id)
            await self.audit.record(self.clock.now(), actor_id, "org.parent", f"org:{org_id}", parent=parent_id)
        return await self.get(org_id)

    async def _check_parent_kind(self, kind: OrgKind, parent: Organisation) -> None:
        if not parent_kind_allowed(kind, parent.kind):
            raise DomainError("orgs.parent_wrong_kind", parent=parent.name)

    async def kinds_by_name(self) -> dict[str, OrgKind]:
        """Every organisation's kind by name (an import checks its parents' kinds against them)."""
        return {org.name: org.kind for org in await self.orgs.list(include_archived=True)}

    async def _refuse_cycle(self, org_id: int, parent_id: int) -> None:
        ancestor: int | None = parent_id
        while ancestor is not None:
            if ancestor == org_id:
                raise DomainError("orgs.parent_cycle")
            ancestor = (await self.get(ancestor)).parent_id

    async def change_quota(self, actor_id: int, org_id: int, quota: int) -> Organisation:
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            org = await self.get(org_id)
            await self.orgs.set_quota(org_id, quota)
            await self.audit.record(
                self.clock.now(), actor_id, "org.quota", f"org:{org_id}", old=org.deeds_quota, new=quota
            )
        return await self.get(org_id)

    async def set_archived(self, actor_id: int, org_id: int, archived: bool) -> Organisation:
        """Archiving hides an organisation from pickers; its records and history stay."""
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            await self.get(org_id)
            await self.orgs.set_archived(org_id, self.clock.now() if archived else None)
            await self.audit.record(
                self.clock.now(), actor_id, "org.archive" if archived else "org.restore", f"org:{org_id}"
            )
        return await self.get(org_id)

    async def import_rows(self, actor_id: int, rows: Iterable[OrgRow]) -> list[Organisation]:
        """Insert validated import rows in one transaction, parents before children."""
        await self.permissions.require_county_admin(actor_id)
        created: dict[str, Organisation] = {}
        async with self.db.transaction():
            pending = list(rows)
            while pending:
                progressed: list[OrgRow] = []
                for row in pending:
                    parent_id: int | None = None
                    if row.parent_name:
                        parent = created.get(row.parent_name) or await self.orgs.by_name(row.parent_name)
                        if parent is None:
                            continue  # its parent is a later row of the same file
                        if not parent_kind_allowed(row.kind, parent.kind):
                            raise DomainError("orgs.parent_wrong_kind", parent=parent.name)
                        parent_id = parent.id
                    created[row.name] = await self.orgs.add(
                        row.name, row.kind, parent_id, row.deeds_quota, self.clock.now()
                    )
                    progressed.append(row)
                if not progressed:
                    raise DomainError("import.parent_cycle", value=pending[0].parent_name)
                pending = [row for row in pending if row not in progressed]
            await self.audit.record(self.clock.now(), actor_id, "org.import", "orgs", count=len(created))
        return list(created.values())

    # Last in the class: below this definition, `list` in an annotation would name this method.
    async def list(self, *, include_archived: bool = False) -> list[Organisation]:
        return await self.orgs.list(include_archived=include_archived)
