"""Claims, the hooks the auction builds on: claim, release, reassign.

Claim: a member of the organisation claimed for. Release: the claimer within `release_window` of
claiming, or a county admin with a reason. Reassign: county admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes.core import WishCore
from bot.domain.wishes.rules import REASON_MAX, clean_reason, normalise
from bot.model.wish import IN_PROGRESS, Wish, WishStatus


@dataclass(frozen=True)
class ClaimChange:
    """A release or reassignment: the wish after it, and who held the claim before (to tell them)."""

    wish: Wish
    previous_user: int
    previous_org: int


class WishClaims(WishCore):
    async def claim(
        self,
        user_id: int,
        org_id: int,
        wish_id: int,
        now: datetime,
        session_id: int | None = None,
        deadline: datetime | None = None,
        *,
        max_per_org: int | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        """Claim an open wish for `org_id`; True for the one caller who won it.

        One conditional UPDATE (`… WHERE id = ? AND status = 'open'`, plus the caps: claims
        held in the same session by the organisation / the person). False means it was not
        open any more, or a cap was reached: `get` tells which. The deadline defaults to
        `default_fulfilment` after `now`."""
        if not await self.permissions.is_member(user_id, org_id):
            raise PermissionDenied("wishes.claim_not_member")
        deadline = deadline or now + self.default_fulfilment
        async with self.db.transaction():  # the claim and its audit entry (written by the repository)
            return await self.wishes.claim(
                wish_id,
                user_id=user_id,
                org_id=org_id,
                now=now,
                session_id=session_id,
                deadline=deadline,
                max_per_org=max_per_org,
                max_per_user=max_per_user,
            )

    async def _held(self, wish_id: int) -> tuple[Wish, int, int]:
        """A wish whose claim is being fulfilled, with its claimer and their organisation."""
        wish = await self.get(wish_id)
        if wish.status not in IN_PROGRESS or wish.claimed_by_user is None or wish.claimed_by_org is None:
            raise DomainError("wishes.not_claimed", code=wish.code)
        return wish, wish.claimed_by_user, wish.claimed_by_org

    async def release_claim(self, wish_id: int, by_user_id: int, reason: str | None) -> ClaimChange:
        """Back to open. The claimer within `release_window` of claiming (reason optional), or a
        county admin at any point before delivery (reason required)."""
        async with self.db.transaction():
            wish, holder, holder_org = await self._held(wish_id)
            now = self.clock.now()
            own = (
                by_user_id == holder
                and wish.status is WishStatus.CLAIMED
                and wish.claimed_at is not None
                and now - wish.claimed_at <= self.release_window
            )
            minutes = int(self.release_window.total_seconds() // 60)
            if own:
                reason = normalise(reason or "")[:REASON_MAX] or None
            elif await self.permissions.is_county_admin(by_user_id):
                reason = clean_reason(reason)
            elif by_user_id == holder:
                raise DomainError("wishes.release_too_late", code=wish.code, minutes=minutes)
            else:
                raise PermissionDenied("wishes.release_not_allowed", code=wish.code, minutes=minutes)
            changed = await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                guard={"claimed_by_user": holder},
                status=WishStatus.OPEN,
                claimed_by_user=None,
                claimed_by_org=None,
                claimed_at=None,
                session_id=None,
                deadline=None,
                purchased_at=None,
                purchased_by=None,
            )
            if not changed:
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.audit.record(
                now,
                by_user_id,
                "wish.release",
                f"wish:{wish_id}",
                user=holder,
                org=holder_org,
                session=wish.session_id,
                reason=reason,
            )
        self._changed(wish_id)
        return ClaimChange(await self.get(wish_id), holder, holder_org)

    async def reassign(self, actor_id: int, wish_id: int, to_user_id: int, to_org_id: int, reason: str) -> ClaimChange:
        """County admins move a claim (claimed or purchased) to another cadre and organisation."""
        await self.permissions.require_county_admin(actor_id)
        reason = clean_reason(reason)
        async with self.db.transaction():
            wish, holder, holder_org = await self._held(wish_id)
            org = await self.orgs.get_active(to_org_id)
            if not await self.permissions.is_member(to_user_id, to_org_id):
                raise DomainError("wishes.reassign_not_member", org=org.name)
            if (to_user_id, to_org_id) == (holder, holder_org):
                raise DomainError("wishes.reassign_same", code=wish.code)
            now = self.clock.now()
            changed = await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                guard={"claimed_by_user": holder},
                claimed_by_user=to_user_id,
                claimed_by_org=to_org_id,
                claimed_at=now,
            )
            if not changed:
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.audit.record(
                now,
                actor_id,
                "wish.reassign",
                f"wish:{wish_id}",
                from_user=holder,
                from_org=holder_org,
                to_user=to_user_id,
                to_org=to_org_id,
                reason=reason,
            )
        self._changed(wish_id)
        return ClaimChange(await self.get(wish_id), holder, holder_org)
