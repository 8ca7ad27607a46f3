"""The children's register: adding (typed or imported), the private details (consent first, every
view audited), leaving the programme with a reason, the purge, wishes that name a child, and the
children who attended a group session.

Leaving ends the child's live pairs (reason child_left); `purge_private` deletes the details of
children who left more than `purge_after` ago (the default 90 days), run by the persistent
scheduler (bot/domain/sunshine/jobs.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.sunshine.core import SunshineCore
from bot.domain.sunshine.rules import clean_alias, clean_grade, clean_private
from bot.model.sunshine import Child, ChildDraft, ChildPrivate, EndReason, LeaveReason

MAX_SESSION_CHILDREN = 200


class ChildRegister(SunshineCore):
    def check_draft(self, draft: ChildDraft) -> ChildDraft:
        alias = clean_alias(draft.alias)
        private = draft.private
        if private is not None and private.empty:
            private = None
        if private is not None:
            if not draft.consent:
                raise DomainError("sunshine.private_without_consent")
            private = clean_private(private, alias)
        return ChildDraft(draft.org_id, alias, clean_grade(draft.grade), draft.needs, draft.consent, private)

    async def add(self, actor_id: int, draft: ChildDraft) -> Child:
        draft = self.check_draft(draft)
        async with self.db.transaction():
            await self.require_cadre(actor_id, draft.org_id)
            await self.orgs.get_active(draft.org_id)
            return await self._store(actor_id, draft)

    async def _store(self, actor_id: int, draft: ChildDraft) -> Child:
        if (draft.org_id, draft.alias, draft.grade) in await self.children.active_keys([draft.org_id]):
            raise DomainError("sunshine.duplicate", alias=draft.alias, grade=draft.grade)
        now = self.clock.now()
        child = await self.children.add(draft, actor_id, now)
        await self.audit.record(now, actor_id, "child.add", f"child:{child.id}", consent=draft.consent)
        if draft.private is not None:
            await self.children.put_private(child.id, draft.private, actor_id, now)
            await self.audit.record(
                now, actor_id, "child.private_set", f"child:{child.id}", fields=draft.private.filled_fields()
            )
        return child

    async def import_rows(self, actor_id: int, drafts: Sequence[ChildDraft]) -> list[Child]:
        """All or nothing: every row checked again and stored in one transaction."""
        checked = [self.check_draft(draft) for draft in drafts]
        async with self.db.transaction():
            for org_id in {draft.org_id for draft in checked}:
                await self.require_cadre(actor_id, org_id)
            added = [await self._store(actor_id, draft) for draft in checked]
            await self.audit.record(self.clock.now(), actor_id, "child.import", "children", count=len(added))
        return added

    async def active_keys(self, org_ids: Sequence[int]) -> set[tuple[int, str, str]]:
        return await self.children.active_keys(org_ids)

    async def children_of(self, actor_id: int) -> list[Child]:
        orgs = await self.register_orgs(actor_id)
        if not orgs:
            raise PermissionDenied("sunshine.not_cadre_anywhere")
        return await self.children.of_orgs([org.id for org in orgs])

    async def visible_child(self, actor_id: int, child_id: int) -> Child:
        """A child's public card: its organisation's cadres, county admins, its paired volunteers."""
        child = await self.child(child_id)
        if await self.is_cadre_of(actor_id, child.org_id) or await self.may_see_private(actor_id, child):
            return child
        raise PermissionDenied("sunshine.child_not_yours", code=child.code)

    # ---- private details ------------------------------------------------------------------------
    async def private_details(self, actor_id: int, child_id: int) -> ChildPrivate | None:
        """The child's details, or None when none are kept; every view is audited."""
        async with self.db.transaction():
            child = await self.child(child_id)
            if not await self.may_see_private(actor_id, child):
                raise PermissionDenied("sunshine.private_not_allowed", code=child.code)
            details = await self.children.get_private(child_id)
            role = "cadre" if await self.permissions.is_member(actor_id, child.org_id) else "volunteer"
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "child.private_view",
                f"child:{child_id}",
                role=role,
                fields=details.filled_fields() if details else [],
            )
        return details

    async def set_private_details(self, actor_id: int, child_id: int, details: ChildPrivate) -> None:
        async with self.db.transaction():
            child = await self.child(child_id)
            await self.require_cadre(actor_id, child.org_id)
            if not child.consent:
                raise DomainError("sunshine.private_without_consent")
            if not child.active:
                raise DomainError("sunshine.child_left", code=child.code)
            details = clean_private(details, child.alias)
            now = self.clock.now()
            if details.empty:
                await self.children.delete_private(child_id)
            else:
                await self.children.put_private(child_id, details, actor_id, now)
            await self.audit.record(
                now, actor_id, "child.private_set", f"child:{child_id}", fields=details.filled_fields()
            )

    async def set_consent(self, actor_id: int, child_id: int, consent: bool) -> Child:
        """Record the guardian's consent, or its withdrawal (which deletes the details first)."""
        async with self.db.transaction():
            child = await self.child(child_id)
            await self.require_cadre(actor_id, child.org_id)
            now = self.clock.now()
            if not consent:
                await self.children.delete_private(child_id)
            if await self.children.set_consent(child_id, consent, actor_id, now):
                await self.audit.record(now, actor_id, "child.consent", f"child:{child_id}", consent=consent)
        return await self.child(child_id)

    # ---- leaving, purging -------------------------------------------------------------------------
    async def leave(self, actor_id: int, child_id: int, reason: LeaveReason) -> list[int]:
        """The child leaves the programme; their live pairs end. The pairs' ids."""
        async with self.db.transaction():
            child = await self.child(child_id)
            await self.require_cadre(actor_id, child.org_id)
            now = self.clock.now()
            if not await self.children.leave(child_id, reason, now):
                raise DomainError("sunshine.child_left", code=child.code)
            ended = []
            for pair in await self.pairs.live_of_child(child_id):
                await self.pairs.end(pair.id, EndReason.CHILD_LEFT, now)
                ended.append(pair.id)
            await self.audit.record(now, actor_id, "child.leave", f"child:{child_id}", reason=reason.value)
        return ended

    async def purge_private(self, now: datetime) -> int:
        async with self.db.transaction():
            purged = await self.children.purge_private(now - self.purge_after, now)
            for child_id in purged:
                await self.audit.record(now, None, "child.private_purge", f"child:{child_id}")
        return len(purged)

    # ---- wishes and group sessions -------------------------------------------------------------------
    async def name_wish_child(self, actor_id: int, wish_collector_org: int, wish_id: int, child_id: int) -> Child:
        """A wish names its child: both must belong to the same organisation, run by the actor."""
        async with self.db.transaction():
            child = await self.child(child_id)
            await self.require_cadre(actor_id, child.org_id)
            if wish_collector_org != child.org_id:
                org = await self.orgs.get(child.org_id)
                raise DomainError("sunshine.wish_other_org", code=child.code, org=org.name)
            await self.children.link_wish(wish_id, child_id)
            await self.audit.record(self.clock.now(), actor_id, "child.wish", f"child:{child_id}", wish=wish_id)
        return child

    async def wish_ids_of(self, child_id: int) -> list[int]:
        return await self.children.wish_ids_of(child_id)

    async def record_session(self, actor_id: int, activity_id: int, org_id: int, child_ids: Sequence[int]) -> int:
        """Children (of the activity's organisation) who attended a Sunshine Home group session."""
        if not child_ids or len(child_ids) > MAX_SESSION_CHILDREN:
            raise DomainError("sunshine.session_count", max=MAX_SESSION_CHILDREN)
        async with self.db.transaction():
            await self.require_cadre(actor_id, org_id)
            found = await self.children.many(child_ids)
            for child_id in child_ids:
                child = found.get(child_id)
                if child is None or child.org_id != org_id:
                    org = await self.orgs.get(org_id)
                    raise DomainError("sunshine.session_child_unknown", code=f"C{child_id:04d}", org=org.name)
            added = await self.children.record_session(activity_id, child_ids, actor_id, self.clock.now())
            await self.audit.record(self.clock.now(), actor_id, "child.session", f"activity:{activity_id}", count=added)
        return added
