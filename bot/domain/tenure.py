"""Tenure: how long each cadre has been in post, and the share under one year by organisation kind.

The date each person took each role is the start of their membership row (a role change ends one
row and starts the next at the same moment); time in post runs on across role changes within
the same organisation, and starts again when they leave and come back. The county's work summary
counts 70% of its cadres under one year in post (shared/seed/DIGEST.md): /stats shows the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.orgs import OrganisationService
from bot.model.organisation import Membership, OrgKind
from storage.memberships import MembershipRepository

ONE_YEAR = timedelta(days=365)


@dataclass(frozen=True)
class TenureShare:
    kind: OrgKind
    under_one_year: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.under_one_year / self.total) if self.total else 0


class TenureService:
    def __init__(self, memberships: MembershipRepository, orgs: OrganisationService, clock: Clock) -> None:
        self.memberships = memberships
        self.orgs = orgs
        self.clock = clock

    async def in_post_since(self) -> dict[int, datetime]:
        """For every current membership (by id), when its holder took up a role in that
        organisation without a break (role changes do not break it)."""
        earlier = {(m.org_id, m.user_id, m.ended_at): m for m in await self.memberships.role_changes()}
        since: dict[int, datetime] = {}
        for current in await self.memberships.current_all():
            first: Membership = current
            while (previous := earlier.get((first.org_id, first.user_id, first.started_at))) is not None:
                first = previous
            since[current.id] = first.started_at
        return since

    async def shares(self, scope: int | tuple[int, ...] | None = None) -> list[TenureShare]:
        """Per organisation kind (in the enum's order, kinds with no cadres left out): how many
        cadres are under one year in post, of how many. `scope` as storage/reports.OrgScope."""
        wanted = None if scope is None else {scope} if isinstance(scope, int) else set(scope)
        kinds = {org.id: org.kind for org in await self.orgs.list()}
        since = await self.in_post_since()
        now = self.clock.now()
        counts: dict[OrgKind, list[int]] = {}
        for membership in await self.memberships.current_all():
            kind = kinds.get(membership.org_id)
            if kind is None or (wanted is not None and membership.org_id not in wanted):
                continue
            under, total = counts.setdefault(kind, [0, 0])
            fresh = now - since[membership.id] < ONE_YEAR
            counts[kind] = [under + int(fresh), total + 1]
        return [TenureShare(kind, *counts[kind]) for kind in OrgKind if kind in counts]
