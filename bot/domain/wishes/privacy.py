"""The child's private details (PIPL): consent, reading (audited), writing, and the purge.

A wish without the guardian's consent keeps no private details (the service refuses them and the
database refuses them too); cancelling a wish deletes them (bot/domain/wishes/registry.py); and
`purge_private` deletes them `purge_after` (default 90 days) after the wish is confirmed.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes.core import WishCore
from bot.domain.wishes.rules import clean_private, is_real_name
from bot.model.wish import PrivateDetails, Wish, WishStatus


class WishPrivacy(WishCore):
    async def private_details(self, actor_id: int, wish_id: int) -> PrivateDetails | None:
        """The child's details, or None when none are kept (no consent, never entered, purged)."""
        if not await self.can_see_private(actor_id, await self.get(wish_id)):
            # Refused before the transaction, so that the refusal's audit line stays.
            raise await self.permissions.refused(
                actor_id, "wishes.private_not_allowed", f"wish:{wish_id}", code=(await self.get(wish_id)).code
            )
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if not await self.can_see_private(actor_id, wish):
                raise PermissionDenied("wishes.private_not_allowed", code=wish.code)
            details = await self.wishes.get_private(wish_id)
            role = "collector" if await self.is_collector_member(actor_id, wish) else "claimer"
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "wish.private_view",
                f"wish:{wish_id}",
                role=role,
                fields=details.filled_fields() if details else [],
            )
        return details

    async def set_private_details(self, actor_id: int, wish_id: int, details: PrivateDetails) -> None:
        """Replace the details (empty details delete them). Needs the guardian's consent on record."""
        details = clean_private(details)
        async with self.db.transaction():
            wish = await self.get(wish_id)
            await self._require_collector(actor_id, wish.collector_org_id, "wishes.private_edit_not_allowed")
            if not wish.consent:
                raise DomainError("wishes.private_without_consent")
            if wish.private_purged or wish.status in (WishStatus.CONFIRMED, WishStatus.CANCELLED):
                raise DomainError("wishes.private_closed", code=wish.code)
            if is_real_name(wish.alias, details.real_name):
                raise DomainError("wishes.alias_is_real_name")
            now = self.clock.now()
            if details.empty:
                await self.wishes.delete_private(wish_id)
            else:
                await self.wishes.put_private(wish_id, details, actor_id, now)
            await self.audit.record(
                now, actor_id, "wish.private_set", f"wish:{wish_id}", fields=details.filled_fields()
            )

    async def set_consent(self, actor_id: int, wish_id: int, consent: bool) -> Wish:
        """Record that the guardian consented, or withdrew consent (which deletes the details)."""
        async with self.db.transaction():
            wish = await self.get(wish_id)
            await self._require_collector(actor_id, wish.collector_org_id, "wishes.private_edit_not_allowed")
            now = self.clock.now()
            if not consent:
                await self.wishes.delete_private(wish_id)
            if await self.wishes.set_consent(wish_id, consent, actor_id, now):
                await self.audit.record(now, actor_id, "wish.consent", f"wish:{wish_id}", consent=consent)
        return await self.get(wish_id)

    async def purge_private(self, now: datetime) -> int:
        """Delete the private details of wishes confirmed more than `purge_after` ago; how many."""
        async with self.db.transaction():
            purged = await self.wishes.purge_private(now - self.purge_after, now)
            for wish_id in purged:
                await self.audit.record(now, None, "wish.private_purge", f"wish:{wish_id}")
        return len(purged)
