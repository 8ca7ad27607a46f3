"""The registry: finding wishes, adding them (one by one or imported), editing and cancelling."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol

from bot.domain.errors import DomainError
from bot.domain.wishes.core import WishCore
from bot.domain.wishes.rules import (
    CheckedDraft,
    WishDraft,
    check_draft,
    clean_alias,
    clean_category,
    clean_grade,
    clean_reason,
    clean_text,
    clean_value,
    is_real_name,
    normalise,
    parse_code,
    wish_key,
)
from bot.model.wish import IN_PROGRESS, Wish, WishFilter, WishStatus

PAGE_SIZE_MAX = 100

# The public fields `edit` changes, each with its cleaner.
_EDIT_CLEANERS: dict[str, Callable[[Any], object]] = {
    "alias": clean_alias,
    "grade": clean_grade,
    "text": clean_text,
    "category": clean_category,
    "value_yuan": clean_value,
    "photo_file_id": lambda value: normalise(value or "") or None,
}
EDITABLE = tuple(_EDIT_CLEANERS)


@dataclass(frozen=True)
class WishPage:
    items: list[Wish]
    total: int
    page: int  # 1-based, clamped to 1..pages
    pages: int  # at least 1, even when nothing matches
    overdue_first: bool = False  # the claims overdue now come first


class ImportedRow(Protocol):
    """An import row (bot/domain/wish_import.WishRow): a draft and where it came from."""

    @property
    def draft(self) -> WishDraft: ...


class WishRegistry(WishCore):
    # ---- reading --------------------------------------------------------------------------------
    async def find(self, wish_filter: WishFilter | None = None, page: int = 1, page_size: int = 10) -> WishPage:
        return await self._page(wish_filter or WishFilter(), page, page_size, overdue_first_at=None)

    async def by_status_overdue_first(
        self, wish_filter: WishFilter | None = None, page: int = 1, page_size: int = 10
    ) -> WishPage:
        """For admins: the claims overdue now first (earliest deadline first), then the rest."""
        return await self._page(wish_filter or WishFilter(), page, page_size, overdue_first_at=self.clock.now())

    async def listing(self, user_id: int, wish_filter: WishFilter, page: int, page_size: int) -> WishPage:
        """One page of the list as `user_id` sees it (county admins: the overdue claims first);
        refused to someone who may not read the registry (`require_reader`)."""
        await self.require_reader(user_id)
        if await self.overdue_first_for(user_id):
            return await self.by_status_overdue_first(wish_filter, page, page_size)
        return await self.find(wish_filter, page, page_size)

    async def _page(
        self, wish_filter: WishFilter, page: int, page_size: int, overdue_first_at: datetime | None
    ) -> WishPage:
        page_size = max(1, min(page_size, PAGE_SIZE_MAX))
        wish_filter = self._resolve_codes(wish_filter)
        total = await self.wishes.count(wish_filter)
        pages = max(1, math.ceil(total / page_size))
        page = max(1, min(page, pages))
        items = await self.wishes.find(
            wish_filter, limit=page_size, offset=(page - 1) * page_size, overdue_first_at=overdue_first_at
        )
        return WishPage(items=items, total=total, page=page, pages=pages, overdue_first=overdue_first_at is not None)

    @staticmethod
    def _resolve_codes(wish_filter: WishFilter) -> WishFilter:
        if wish_filter.codes:
            ids = tuple(wish_id for wish_id in map(parse_code, wish_filter.codes) if wish_id is not None)
            return replace(wish_filter, ids=ids)
        if wish_filter.text:
            text = normalise(wish_filter.text)
            wish_id = parse_code(text) if text[:1] in "Ww#" else None
            return replace(wish_filter, text=text, ids=(wish_id,) if wish_id else ())
        return wish_filter

    async def overdue(self, now: datetime) -> list[Wish]:
        """Claimed or purchased past the deadline, the longest overdue first."""
        return await self.wishes.overdue(now)

    async def in_progress(self) -> list[Wish]:
        """Every claimed or purchased wish (their claimers get deadline reminders)."""
        wish_filter = WishFilter(status=IN_PROGRESS)
        total = await self.wishes.count(wish_filter)
        return await self.wishes.find(wish_filter, limit=max(total, 1), offset=0)

    async def claim_overdue_digest(self, day: date, count: int) -> bool:
        """True once per (local) day: the caller then sends the overdue list to the county admins.

        Recorded in the audit log ("wish.overdue_digest", subject "wishes:overdue_digest:<day>")
        before anything is sent, so a restart or a second job run never sends it twice."""
        subject = f"wishes:overdue_digest:{day.isoformat()}"
        async with self.db.transaction():
            if await self.audit.for_subject(subject):
                return False
            await self.audit.record(self.clock.now(), None, "wish.overdue_digest", subject, count=count)
        return True

    async def open_keys(self) -> set[tuple[int, str, str]]:
        """`wish_key`s of every open wish, for the import's duplicate check."""
        return {wish_key(*key) for key in await self.wishes.open_keys()}

    # ---- adding and editing ---------------------------------------------------------------------
    async def add(self, actor_id: int, draft: WishDraft) -> Wish:
        return (await self._add_all(actor_id, [check_draft(draft)], action="wish.add"))[0]

    async def import_rows(self, actor_id: int, rows: Iterable[WishDraft | ImportedRow]) -> list[Wish]:
        """Add every row (a `WishDraft`, or an import row with a `.draft`) in one transaction, or none."""
        drafts = [check_draft(row if isinstance(row, WishDraft) else row.draft) for row in rows]
        if not drafts:
            return []
        return await self._add_all(actor_id, drafts, action="wish.import")

    async def _add_all(self, actor_id: int, drafts: Sequence[CheckedDraft], *, action: str) -> list[Wish]:
        added: list[Wish] = []
        async with self.db.transaction():
            for org_id in dict.fromkeys(draft.collector_org_id for draft in drafts):
                await self.orgs.get_active(org_id)
                await self._require_collector(actor_id, org_id, "wishes.add_not_allowed")
            taken = await self.open_keys()
            now = self.clock.now()
            for draft in drafts:
                key = wish_key(draft.collector_org_id, draft.alias, draft.text)
                if key in taken:
                    raise DomainError("wishes.duplicate", alias=draft.alias, text=draft.text)
                taken.add(key)
                wish = await self.wishes.add(
                    collector_org_id=draft.collector_org_id,
                    alias=draft.alias,
                    grade=draft.grade,
                    text=draft.text,
                    category=draft.category,
                    value_yuan=draft.value_yuan,
                    photo_file_id=draft.photo_file_id,
                    consent=draft.consent,
                    created_by=actor_id,
                    now=now,
                )
                if draft.private is not None:
                    await self.wishes.put_private(wish.id, draft.private, actor_id, now)
                added.append(wish)
                if action == "wish.add":
                    await self.audit.record(
                        now,
                        actor_id,
                        action,
                        f"wish:{wish.id}",
                        org=draft.collector_org_id,
                        consent=draft.consent,
                        private_fields=draft.private.filled_fields() if draft.private else [],
                    )
            if action == "wish.import":
                await self.audit.record(
                    now,
                    actor_id,
                    action,
                    "wishes",
                    count=len(added),
                    first=added[0].code,
                    last=added[-1].code,
                    with_private=sum(1 for draft in drafts if draft.private is not None),
                )
        return added

    async def edit(self, actor_id: int, wish_id: int, **changes: object) -> Wish:
        """Change public fields (alias, grade, text, category, value_yuan, photo_file_id) while open."""
        clean = _cleaned(changes)
        async with self.db.transaction():
            wish = await self.get(wish_id)
            await self._require_collector(actor_id, wish.collector_org_id, "wishes.edit_not_allowed")
            if wish.status is not WishStatus.OPEN:
                raise DomainError("wishes.edit_not_open", code=wish.code)
            if not clean:
                return wish
            alias, text = str(clean.get("alias", wish.alias)), str(clean.get("text", wish.text))
            if "alias" in clean:
                private = await self.wishes.get_private(wish_id)
                if private is not None and is_real_name(alias, private.real_name):
                    raise DomainError("wishes.alias_is_real_name")
            if "alias" in clean or "text" in clean:
                new_key = wish_key(wish.collector_org_id, alias, text)
                old_key = wish_key(wish.collector_org_id, wish.alias, wish.text)
                if new_key != old_key and new_key in await self.open_keys():
                    raise DomainError("wishes.duplicate", alias=alias, text=text)
            now = self.clock.now()
            if not await self.wishes.change(wish_id, expect=(WishStatus.OPEN,), now=now, guard=None, **clean):
                raise DomainError("wishes.edit_not_open", code=wish.code)
            await self.audit.record(now, actor_id, "wish.edit", f"wish:{wish_id}", fields=sorted(clean))
        return await self.get(wish_id)

    # ---- cancelling -----------------------------------------------------------------------------
    async def check_cancel(self, actor_id: int, wish_id: int) -> Wish:
        """The wish, if `actor_id` may cancel it now (before asking for a reason); else the refusal."""
        wish = await self.get(wish_id)
        await self._require_collector(actor_id, wish.collector_org_id, "wishes.cancel_not_allowed")
        allowed = [WishStatus.OPEN]
        if await self._may_cancel_claims(actor_id):
            allowed += list(IN_PROGRESS)
        if wish.status not in allowed:
            key = "wishes.cancel_claimed_admin_only" if wish.status in IN_PROGRESS else "wishes.cancel_too_late"
            raise DomainError(key, code=wish.code)
        return wish

    async def cancel(self, actor_id: int, wish_id: int, reason: str) -> Wish:
        """Collectors cancel their open wishes; county admins also claimed or purchased ones.

        The returned wish keeps `claimed_by_*`, so the claimer can be told. The private details
        go at once: a cancelled wish has no purpose for them."""
        reason = clean_reason(reason)
        async with self.db.transaction():
            wish = await self.check_cancel(actor_id, wish_id)
            now = self.clock.now()
            changed = await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                status=WishStatus.CANCELLED,
                cancelled_at=now,
                cancelled_by=actor_id,
                cancel_reason=reason,
                private_purged_at=now if wish.consent and not wish.private_purged else wish.private_purged_at,
            )
            if not changed:
                raise DomainError("wishes.changed_meanwhile", code=wish.code)
            await self.wishes.delete_private(wish_id)
            await self.audit.record(
                now,
                actor_id,
                "wish.cancel",
                f"wish:{wish_id}",
                reason=reason,
                was=wish.status.value,
                claimed_by_org=wish.claimed_by_org,
            )
        self._changed(wish_id)
        return await self.get(wish_id)


def _cleaned(changes: Mapping[str, object]) -> dict[str, object]:
    unknown = changes.keys() - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    return {name: _EDIT_CLEANERS[name](value) for name, value in changes.items()}
