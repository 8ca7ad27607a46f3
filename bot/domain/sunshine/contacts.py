"""Every contact of a pair, logged by its volunteer: date, kind, minutes, an optional note and photo.

Refused: a date in the future or before the pair began, a pair not active, someone else's pair.
The same submission twice (a double tap, an update handled again after a restart) carries the
same idempotency key and is stored once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.sunshine.core import SunshineCore
from bot.domain.sunshine.rules import MINUTES_MAX, clean_note
from bot.model.sunshine import Contact, ContactDraft, PairStatus


class ContactLog(SunshineCore):
    async def check_day(self, actor_id: int, pair_id: int, draft_day: date) -> None:
        """The date step's own check, so that a wrong date is refused before the next question."""
        pair = await self.pair(pair_id)
        if pair.volunteer_id != actor_id:
            raise PermissionDenied("sunshine.not_your_pair")
        today = self.today()
        if draft_day > today:
            raise DomainError("sunshine.contact_in_future", date=str(draft_day), today=today.isoformat())
        if pair.started_on is not None and draft_day < pair.started_on:
            raise DomainError("sunshine.contact_before_pair", date=str(draft_day), start=pair.started_on.isoformat())

    async def log(self, actor_id: int, draft: ContactDraft, key: str) -> tuple[Contact, bool]:
        """The contact stored under `key`, and whether this call stored it (False: a repeat)."""
        draft = replace(draft, note=clean_note(draft.note))
        if not 1 <= draft.minutes <= MINUTES_MAX:
            raise DomainError("sunshine.minutes_bad", text=str(draft.minutes), max=MINUTES_MAX)
        async with self.db.transaction():
            existing = await self.pairs.contact_by_key(key)
            if existing is not None:
                return existing, False
            pair = await self.pair(draft.pair_id)
            if pair.volunteer_id != actor_id:
                raise PermissionDenied("sunshine.not_your_pair")
            if pair.status is not PairStatus.ACTIVE:
                raise DomainError("sunshine.pair_not_active", pair=pair.code)
            await self.check_day(actor_id, pair.id, draft.contact_on)
            now = self.clock.now()
            stored = await self.pairs.add_contact(draft, key, actor_id, now)
            contact = await self.pairs.contact_by_key(key)
            if contact is None:
                raise DomainError("sunshine.pair_not_found")
            if stored:
                await self.audit.record(now, actor_id, "pair.contact", f"pair:{pair.id}", contact=contact.id)
        return contact, stored

    async def contacts(self, actor_id: int, pair_id: int) -> list[Contact]:
        pair = await self.pair(pair_id)
        if actor_id != pair.volunteer_id:
            await self.require_cadre(actor_id, pair.org_id)
        return await self.pairs.contacts_of(pair_id)
