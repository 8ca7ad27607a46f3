"""Fulfilment: purchased, delivered (with a photo as proof), receipt confirmed.

Purchased and delivered: the claimer or any member of the claiming organisation. Confirming
receipt: a member of the collecting organisation.
"""

from __future__ import annotations

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes.core import WishCore
from bot.domain.wishes.rules import normalise
from bot.model.wish import HELD, IN_PROGRESS, Wish, WishStatus

PROOF_MAX = 256


class WishFulfilment(WishCore):
    async def mark_purchased(self, actor_id: int, wish_id: int) -> Wish:
        await self.check_fulfiller(actor_id, wish_id)
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if wish.status not in HELD:
                raise DomainError("wishes.not_claimed", code=wish.code)
            if not await self.can_fulfil(actor_id, wish):
                raise PermissionDenied("wishes.fulfil_not_allowed", code=wish.code)
            if wish.status is not WishStatus.CLAIMED:
                raise DomainError("wishes.purchase_wrong_status", code=wish.code)
            now = self.clock.now()
            if not await self.wishes.change(
                wish_id,
                expect=(WishStatus.CLAIMED,),
                now=now,
                guard={"claimed_by_org": wish.claimed_by_org},
                status=WishStatus.PURCHASED,
                purchased_at=now,
                purchased_by=actor_id,
            ):
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.audit.record(now, actor_id, "wish.purchased", f"wish:{wish_id}")
        return await self.get(wish_id)

    async def check_fulfiller(self, actor_id: int, wish_id: int) -> Wish:
        """The claimed wish, if `actor_id` is on its claiming side (a claimer who left is not):
        asked outside the transaction, so that a refusal stays in the audit log."""
        wish = await self.get(wish_id)
        if wish.status not in HELD:
            raise DomainError("wishes.not_claimed", code=wish.code)
        if not await self.can_fulfil(actor_id, wish):
            raise await self.permissions.refused(
                actor_id, "wishes.fulfil_not_allowed", f"wish:{wish_id}", code=wish.code
            )
        return wish

    async def check_deliverable(self, actor_id: int, wish_id: int) -> Wish:
        """The wish, if `actor_id` may record its delivery now (before asking for the photo)."""
        wish = await self.check_fulfiller(actor_id, wish_id)
        if wish.status not in IN_PROGRESS:
            raise DomainError("wishes.deliver_wrong_status", code=wish.code)
        return wish

    async def mark_delivered(self, actor_id: int, wish_id: int, proof_file_id: str | None) -> Wish:
        """Delivered in person, with a photo as proof (a Telegram file_id). From claimed too."""
        proof = normalise(proof_file_id or "")
        if not proof:
            raise DomainError("wishes.proof_required")
        if len(proof) > PROOF_MAX:
            raise ValueError("a Telegram file_id is never this long")
        async with self.db.transaction():
            wish = await self.check_deliverable(actor_id, wish_id)
            now = self.clock.now()
            bought = {} if wish.status is WishStatus.PURCHASED else {"purchased_at": now, "purchased_by": actor_id}
            if not await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                guard={"claimed_by_org": wish.claimed_by_org},
                status=WishStatus.DELIVERED,
                delivered_at=now,
                delivered_by=actor_id,
                delivery_proof_file_id=proof,
                **bought,
            ):
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.audit.record(now, actor_id, "wish.delivered", f"wish:{wish_id}")
        return await self.get(wish_id)

    async def delivery_proof(self, actor_id: int, wish_id: int) -> str | None:
        """The delivery photo's file_id, for whoever may see it (`can_see_proof`); else None."""
        wish = await self.get(wish_id)
        if not wish.delivery_proof_file_id or not await self.can_see_proof(actor_id, wish):
            return None
        return wish.delivery_proof_file_id

    async def confirm_received(self, actor_id: int, wish_id: int) -> Wish:
        """The collecting organisation confirms the child has the gift."""
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if not await self.is_collector_member(actor_id, wish):
                org = await self.orgs.get(wish.collector_org_id)
                raise PermissionDenied("wishes.confirm_not_allowed", code=wish.code, org=org.name)
            if wish.status is not WishStatus.DELIVERED:
                raise DomainError("wishes.confirm_wrong_status", code=wish.code)
            now = self.clock.now()
            if not await self.wishes.change(
                wish_id,
                expect=(WishStatus.DELIVERED,),
                now=now,
                status=WishStatus.CONFIRMED,
                confirmed_at=now,
                confirmed_by=actor_id,
            ):
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.audit.record(now, actor_id, "wish.confirmed", f"wish:{wish_id}")
        return await self.get(wish_id)
