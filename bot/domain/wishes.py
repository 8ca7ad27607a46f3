"""Micro-wishes (微心愿): the registry, the claim hooks an auction builds on, and fulfilment.

A wish is collected by an organisation (usually a school) for a child, shown publicly only as
"alias · grade" (小明 · 三年级) with the wish text, category and estimated value; it goes
open → claimed → purchased → delivered → confirmed, or cancelled.

Who may do what (every check is here; the primitives come from bot/permissions.py):
- add, edit, cancel while open, record consent, write private details: members (any role) of
  the collecting organisation, and county admins for every wish; county admins may also cancel
  a claimed or purchased wish.
- read private details: members of the collecting organisation; the claimer (the person, not
  their organisation) while the claim is being fulfilled (claimed, purchased, delivered). Not
  county admins as such. Each read is audited, without the values.
- claim: a member of the organisation claimed for. Release: the claimer within
  `release_window` of claiming, or a county admin with a reason. Reassign: county admins.
- purchased / delivered (with a photo): the claimer or any member of the claiming organisation.
  Confirm receipt: a member of the collecting organisation.

Privacy (PIPL): a wish without the guardian's consent keeps no private details (the service
refuses them and the database refuses them too); cancelling a wish deletes its details; and
`purge_private` deletes them `purge_after` (default 90 days) after the wish is confirmed.

Every state change is a conditional UPDATE naming the state it expects, inside a transaction
with its audit record, so concurrent calls cannot both apply it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import Schedule
from bot.model.wish import (
    HELD,
    IN_PROGRESS,
    PrivateDetails,
    Wish,
    WishCategory,
    WishFilter,
    WishStatus,
    wish_code,
)
from storage.audit import AuditRepository
from storage.db import Database
from storage.wishes import WishRepository

__all__ = [
    "DEADLINE_REMINDERS",
    "ClaimChange",
    "PrivateDetails",
    "Wish",
    "WishCategory",
    "WishDraft",
    "WishFilter",
    "WishPage",
    "WishService",
    "WishStatus",
    "keep_deadline_reminders",
    "wish_code",
]

ALIAS_MAX = 20
GRADE_MAX = 10
TEXT_MAX = 100
VALUE_MIN = 1
VALUE_MAX = 2000
REAL_NAME_MAX = 20
ADDRESS_MAX = 100
NOTES_MAX = 200
REASON_MAX = 200
PROOF_MAX = 256
PAGE_SIZE_MAX = 100

DEFAULT_PURGE_AFTER = timedelta(days=90)
DEFAULT_RELEASE_WINDOW = timedelta(minutes=2)
DEFAULT_FULFILMENT = timedelta(days=14)

# The claimer is reminded this long before the fulfilment deadline: (subject tag, how long).
DEADLINE_REMINDERS: tuple[tuple[str, timedelta], ...] = (("3d", timedelta(days=3)), ("1d", timedelta(days=1)))
_DEADLINE_SUBJECT = re.compile(r"wish:(\d+):(3d|1d)")

# The first label of each category is the canonical one (template drop-down, hints).
CATEGORY_ALIASES: dict[WishCategory, tuple[str, ...]] = {
    WishCategory.STATIONERY: ("学习用品", "文具", "学具", "学习"),
    WishCategory.BOOKS: ("图书", "书", "书籍", "读物", "课外书"),
    WishCategory.SPORTS: ("体育用品", "体育", "运动", "运动用品", "体育器材"),
    WishCategory.TOYS: ("玩具",),
    WishCategory.CLOTHING: ("衣物", "衣服", "服装", "鞋", "鞋子", "衣鞋"),
    WishCategory.EXPERIENCE: ("体验", "活动", "门票", "参观"),
    WishCategory.OTHER: ("其他", "其它"),
}
CATEGORY_LABELS: dict[WishCategory, str] = {category: labels[0] for category, labels in CATEGORY_ALIASES.items()}
_CATEGORY_BY_TEXT: dict[str, WishCategory] = {
    **{label.casefold(): category for category, labels in CATEGORY_ALIASES.items() for label in labels},
    **{category.value: category for category in WishCategory},
}

_CONSENT_WORDS = {
    True: ("是", "同意", "已同意", "有", "yes", "y", "true", "1", "✓", "√"),
    False: ("否", "不同意", "未同意", "无", "no", "n", "false", "0", "✗", "×"),
}
_CONSENT_BY_TEXT = {word.casefold(): given for given, words in _CONSENT_WORDS.items() for word in words}

_CODE = re.compile(r"#?\s*[Ww]?\s*0*(\d{1,9})")
_AREA_SPLIT = re.compile(r"\(?(0\d{2,3})(?:\)|\s*-|\s)\s*(.+)")
_LOCAL_NUMBER = re.compile(r"[2-9]\d{6,7}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_DIGITS = re.compile(r"0\d{9,11}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")

EDITABLE = ("alias", "grade", "text", "category", "value_yuan", "photo_file_id")


# ---- pure rules, shared with the import and the conversations ---------------------------------


def normalise(text: str) -> str:
    return " ".join(text.split())


def wish_key(collector_org_id: int, alias: str, text: str) -> tuple[int, str, str]:
    """What makes two open wishes the same: collector, alias and wish text (spacing and case aside)."""
    return collector_org_id, normalise(alias).casefold(), normalise(text).casefold()


def parse_code(text: str) -> int | None:
    """ "W0012", "w12", "#12", "12" → 12; anything else None."""
    match = _CODE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1))


def parse_category(text: str) -> WishCategory | None:
    return _CATEGORY_BY_TEXT.get(normalise(text).casefold())


def parse_consent(text: str) -> bool | None:
    return _CONSENT_BY_TEXT.get(normalise(text).casefold())


def parse_yuan(raw: object) -> int | None:
    """A whole number of yuan from 50, 50.0, "50", "50元", "¥50"; None for 3.5, "abc", True…"""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        text = str(raw)
    else:
        text = normalise(str(raw)).removesuffix("元").removeprefix("¥").removeprefix("￥").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def normalise_phone(text: str) -> str | None:
    """A Chinese mobile (11 digits from 13… to 19…) or a landline with its area code, tidied; else None.

    "138 0013 8000" / "+86 13800138000" → "13800138000"; "(0571) 8888 8888" / "0571-88888888"
    → "0571-88888888"; "057188888888" (no separator: the split is ambiguous) stays as it is."""
    spaced = text.strip().replace("（", "(").replace("）", ")").replace("—", "-")
    compact = _PHONE_NOISE.sub("", spaced).removeprefix("+86").removeprefix("0086")
    if _MOBILE.fullmatch(compact):
        return compact
    split = _AREA_SPLIT.fullmatch(spaced)
    if split is not None:
        number = _PHONE_NOISE.sub("", split.group(2))
        if _LOCAL_NUMBER.fullmatch(number):
            return f"{split.group(1)}-{number}"
    if _LANDLINE_DIGITS.fullmatch(compact):
        return compact
    return None


def is_real_name(alias: str, real_name: str | None) -> bool:
    """The public alias would give the child's real name away."""
    return bool(real_name) and normalise(alias).casefold() == normalise(real_name).casefold()


def _required(text: str | None, limit: int, empty_key: str, long_key: str) -> str:
    value = normalise(text or "")
    if not value:
        raise DomainError(empty_key)
    if len(value) > limit:
        raise DomainError(long_key, max=limit, length=len(value))
    return value


def clean_alias(text: str) -> str:
    return _required(text, ALIAS_MAX, "wishes.alias_empty", "wishes.alias_too_long")


def clean_grade(text: str) -> str:
    return _required(text, GRADE_MAX, "wishes.grade_empty", "wishes.grade_too_long")


def clean_text(text: str) -> str:
    return _required(text, TEXT_MAX, "wishes.text_empty", "wishes.text_too_long")


def clean_reason(text: str | None) -> str:
    return _required(text, REASON_MAX, "wishes.reason_empty", "wishes.reason_too_long")


def clean_value(raw: object) -> int:
    value = raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_yuan(raw)
    if value is None:
        raise DomainError("wishes.value_not_number", value=str(raw)[:20], min=VALUE_MIN, max=VALUE_MAX)
    if not VALUE_MIN <= value <= VALUE_MAX:
        raise DomainError("wishes.value_out_of_range", value=value, min=VALUE_MIN, max=VALUE_MAX)
    return value


def clean_category(raw: WishCategory | str) -> WishCategory:
    if isinstance(raw, WishCategory):
        return raw
    category = parse_category(raw)
    if category is None:
        raise DomainError("wishes.category_unknown", value=normalise(raw)[:20])
    return category


def clean_private(details: PrivateDetails) -> PrivateDetails:
    """Trimmed, lengths checked, phone tidied. Values never go into the error's parameters."""

    def optional(value: str | None, limit: int, key: str) -> str | None:
        text = normalise(value or "")
        if len(text) > limit:
            raise DomainError(key, max=limit, length=len(text))
        return text or None

    phone = None
    if details.guardian_phone and normalise(details.guardian_phone):
        phone = normalise_phone(details.guardian_phone)
        if phone is None:
            raise DomainError("wishes.phone_invalid")
    return PrivateDetails(
        real_name=optional(details.real_name, REAL_NAME_MAX, "wishes.real_name_too_long"),
        guardian_phone=phone,
        address=optional(details.address, ADDRESS_MAX, "wishes.address_too_long"),
        notes=optional(details.notes, NOTES_MAX, "wishes.notes_too_long"),
    )


# ---- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WishDraft:
    """A wish about to be added. `private` must be None or empty unless `consent` is True."""

    collector_org_id: int
    alias: str
    grade: str
    text: str
    category: WishCategory | str
    value_yuan: int | str
    consent: bool
    private: PrivateDetails | None = None
    photo_file_id: str | None = None


@dataclass(frozen=True)
class WishPage:
    items: list[Wish]
    total: int
    page: int  # 1-based, clamped to 1..pages
    pages: int  # at least 1, even when nothing matches


@dataclass(frozen=True)
class ClaimChange:
    """A release or reassignment: the wish after it, and who held the claim before (to tell them)."""

    wish: Wish
    previous_user: int
    previous_org: int


def check_draft(draft: WishDraft) -> WishDraft:
    """The draft cleaned and checked (everything but the database), or a DomainError."""
    private = draft.private
    if private is not None:
        private = clean_private(private)
        if private.empty:
            private = None
    if private is not None and not draft.consent:
        raise DomainError("wishes.private_without_consent")
    alias = clean_alias(draft.alias)
    if private is not None and is_real_name(alias, private.real_name):
        raise DomainError("wishes.alias_is_real_name")
    photo = normalise(draft.photo_file_id or "") or None
    return WishDraft(
        collector_org_id=draft.collector_org_id,
        alias=alias,
        grade=clean_grade(draft.grade),
        text=clean_text(draft.text),
        category=clean_category(draft.category),
        value_yuan=clean_value(draft.value_yuan),
        consent=bool(draft.consent),
        private=private,
        photo_file_id=photo,
    )


# ---- the service ---------------------------------------------------------------------------------


class WishService:
    def __init__(
        self,
        db: Database,
        wishes: WishRepository,
        orgs: OrganisationService,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        *,
        purge_after: timedelta = DEFAULT_PURGE_AFTER,
        release_window: timedelta = DEFAULT_RELEASE_WINDOW,
        default_fulfilment: timedelta = DEFAULT_FULFILMENT,
    ) -> None:
        self.db = db
        self.wishes = wishes
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.purge_after = purge_after
        self.release_window = release_window
        self.default_fulfilment = default_fulfilment
        self._listeners: list[Callable[[int], None]] = []

    def add_listener(self, changed: Callable[[int], None]) -> None:
        """Told the id of a wish whose claim changed other than by `claim` (release, reassign,
        cancel), so that in-memory mirrors (the live auction's) can reload."""
        self._listeners.append(changed)

    def _changed(self, wish_id: int) -> None:
        for changed in self._listeners:
            changed(wish_id)

    # ---- who ----------------------------------------------------------------------------------
    async def can_collect(self, user_id: int, org_id: int) -> bool:
        return await self.permissions.can_collect_wishes(user_id, org_id)

    async def can_see_private(self, user_id: int, wish: Wish) -> bool:
        fulfilling = wish.status in (WishStatus.CLAIMED, WishStatus.PURCHASED, WishStatus.DELIVERED)
        return await self.permissions.can_see_child_details(
            user_id, wish.collector_org_id, claimed_by=wish.claimed_by_user if fulfilling else None
        )

    async def can_fulfil(self, user_id: int, wish: Wish) -> bool:
        return await self.permissions.can_fulfil_wish(user_id, wish.claimed_by_user, wish.claimed_by_org)

    async def _require_collector(self, user_id: int, org_id: int, key: str) -> None:
        if not await self.can_collect(user_id, org_id):
            org = await self.orgs.get(org_id)
            raise PermissionDenied(key, org=org.name)

    # ---- reading --------------------------------------------------------------------------------
    async def get(self, wish_id: int) -> Wish:
        wish = await self.wishes.get(wish_id)
        if wish is None:
            raise DomainError("wishes.not_found", code=wish_code(wish_id))
        return wish

    async def by_code(self, code: str) -> Wish:
        """ "W0012", "w12", "#12" or "12"."""
        wish_id = parse_code(code)
        if wish_id is None:
            raise DomainError("wishes.code_invalid", value=code.strip()[:20])
        return await self.get(wish_id)

    async def find(self, wish_filter: WishFilter | None = None, page: int = 1, page_size: int = 10) -> WishPage:
        return await self._page(wish_filter or WishFilter(), page, page_size, overdue_first_at=None)

    async def by_status_overdue_first(
        self, wish_filter: WishFilter | None = None, page: int = 1, page_size: int = 10
    ) -> WishPage:
        """For admins: the claims overdue now first (earliest deadline first), then the rest."""
        return await self._page(wish_filter or WishFilter(), page, page_size, overdue_first_at=self.clock.now())

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
        return WishPage(items=items, total=total, page=page, pages=pages)

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

    async def import_rows(self, actor_id: int, rows: Iterable) -> list[Wish]:
        """Add every row (a `WishDraft`, or an import row with a `.draft`) in one transaction, or none."""
        drafts = [check_draft(getattr(row, "draft", row)) for row in rows]
        if not drafts:
            return []
        return await self._add_all(actor_id, drafts, action="wish.import")

    async def _add_all(self, actor_id: int, drafts: Sequence[WishDraft], *, action: str) -> list[Wish]:
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
        unknown = changes.keys() - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        cleaners = {
            "alias": clean_alias,
            "grade": clean_grade,
            "text": clean_text,
            "category": clean_category,
            "value_yuan": clean_value,
            "photo_file_id": lambda value: normalise(value or "") or None,
        }
        clean = {name: cleaners[name](value) for name, value in changes.items()}
        async with self.db.transaction():
            wish = await self.get(wish_id)
            await self._require_collector(actor_id, wish.collector_org_id, "wishes.edit_not_allowed")
            if wish.status is not WishStatus.OPEN:
                raise DomainError("wishes.edit_not_open", code=wish.code)
            if not clean:
                return wish
            if "alias" in clean:
                private = await self.wishes.get_private(wish_id)
                if private is not None and is_real_name(clean["alias"], private.real_name):
                    raise DomainError("wishes.alias_is_real_name")
            if "alias" in clean or "text" in clean:
                new_key = wish_key(wish.collector_org_id, clean.get("alias", wish.alias), clean.get("text", wish.text))
                old_key = wish_key(wish.collector_org_id, wish.alias, wish.text)
                if new_key != old_key and new_key in await self.open_keys():
                    raise DomainError(
                        "wishes.duplicate", alias=clean.get("alias", wish.alias), text=clean.get("text", wish.text)
                    )
            now = self.clock.now()
            if not await self.wishes.change(wish_id, expect=(WishStatus.OPEN,), now=now, **clean):
                raise DomainError("wishes.edit_not_open", code=wish.code)
            await self.audit.record(now, actor_id, "wish.edit", f"wish:{wish_id}", fields=sorted(clean))
        return await self.get(wish_id)

    async def check_cancel(self, actor_id: int, wish_id: int) -> Wish:
        """The wish, if `actor_id` may cancel it now (before asking for a reason); else the refusal."""
        wish = await self.get(wish_id)
        await self._require_collector(actor_id, wish.collector_org_id, "wishes.cancel_not_allowed")
        allowed = [WishStatus.OPEN]
        if await self.permissions.is_county_admin(actor_id):
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

    # ---- consent and private details ---------------------------------------------------------
    async def private_details(self, actor_id: int, wish_id: int) -> PrivateDetails | None:
        """The child's details, or None when none are kept (no consent, never entered, purged)."""
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if not await self.can_see_private(actor_id, wish):
                raise PermissionDenied("wishes.private_not_allowed", code=wish.code)
            details = await self.wishes.get_private(wish_id)
            role = "collector" if await self.permissions.is_member(actor_id, wish.collector_org_id) else "claimer"
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

    # ---- claims (the auction builds on these) -------------------------------------------------
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

    async def release_claim(self, wish_id: int, by_user_id: int, reason: str | None) -> ClaimChange:
        """Back to open. The claimer within `release_window` of claiming (reason optional), or a
        county admin at any point before delivery (reason required)."""
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if wish.status not in IN_PROGRESS:
                raise DomainError("wishes.not_claimed", code=wish.code)
            now = self.clock.now()
            own = (
                by_user_id == wish.claimed_by_user
                and wish.status is WishStatus.CLAIMED
                and now - wish.claimed_at <= self.release_window
            )
            if own:
                reason = normalise(reason or "")[:REASON_MAX] or None
            elif await self.permissions.is_county_admin(by_user_id):
                reason = clean_reason(reason)
            elif by_user_id == wish.claimed_by_user:
                raise DomainError(
                    "wishes.release_too_late", code=wish.code, minutes=int(self.release_window.total_seconds() // 60)
                )
            else:
                raise PermissionDenied(
                    "wishes.release_not_allowed", code=wish.code, minutes=int(self.release_window.total_seconds() // 60)
                )
            changed = await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                guard={"claimed_by_user": wish.claimed_by_user},
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
                user=wish.claimed_by_user,
                org=wish.claimed_by_org,
                session=wish.session_id,
                reason=reason,
            )
        self._changed(wish_id)
        return ClaimChange(await self.get(wish_id), wish.claimed_by_user, wish.claimed_by_org)

    async def reassign(self, actor_id: int, wish_id: int, to_user_id: int, to_org_id: int, reason: str) -> ClaimChange:
        """County admins move a claim (claimed or purchased) to another cadre and organisation."""
        await self.permissions.require_county_admin(actor_id)
        reason = clean_reason(reason)
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if wish.status not in IN_PROGRESS:
                raise DomainError("wishes.not_claimed", code=wish.code)
            org = await self.orgs.get_active(to_org_id)
            if not await self.permissions.is_member(to_user_id, to_org_id):
                raise DomainError("wishes.reassign_not_member", org=org.name)
            if (to_user_id, to_org_id) == (wish.claimed_by_user, wish.claimed_by_org):
                raise DomainError("wishes.reassign_same", code=wish.code)
            now = self.clock.now()
            changed = await self.wishes.change(
                wish_id,
                expect=(wish.status,),
                now=now,
                guard={"claimed_by_user": wish.claimed_by_user},
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
                from_user=wish.claimed_by_user,
                from_org=wish.claimed_by_org,
                to_user=to_user_id,
                to_org=to_org_id,
                reason=reason,
            )
        self._changed(wish_id)
        return ClaimChange(await self.get(wish_id), wish.claimed_by_user, wish.claimed_by_org)

    # ---- fulfilment -----------------------------------------------------------------------------
    async def mark_purchased(self, actor_id: int, wish_id: int) -> Wish:
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

    async def check_deliverable(self, actor_id: int, wish_id: int) -> Wish:
        """The wish, if `actor_id` may record its delivery now (before asking for the photo)."""
        wish = await self.get(wish_id)
        if wish.status not in HELD:
            raise DomainError("wishes.not_claimed", code=wish.code)
        if not await self.can_fulfil(actor_id, wish):
            raise PermissionDenied("wishes.fulfil_not_allowed", code=wish.code)
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

    async def confirm_received(self, actor_id: int, wish_id: int) -> Wish:
        """The collecting organisation confirms the child has the gift."""
        async with self.db.transaction():
            wish = await self.get(wish_id)
            if not await self.permissions.is_member(actor_id, wish.collector_org_id):
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


# ---- the claimer's deadline reminders ---------------------------------------------------------


def deadline_subject(wish_id: int, tag: str) -> str:
    return f"wish:{wish_id}:{tag}"


async def keep_deadline_reminders(
    wishes: WishService, reminders: ReminderService, text_for: Callable[[Wish, int], str]
) -> int:
    """Keep one "once" reminder to the claimer per entry of `DEADLINE_REMINDERS` for every wish
    being fulfilled, and none for any other: safe to run at any time, as often as wanted.

    Claims come from several places (the auction, a reassignment, a release), so nothing hooks
    them: this pass compares the wishes with the reminders. `set_for_subject` leaves an
    unchanged reminder alone, replaces one whose claimer, deadline or text changed, and drops
    one whose time has passed; a reminder whose wish was delivered, confirmed, cancelled or
    released is cancelled. `text_for(wish, days_left)` renders the (plain) text. Returns how
    many wishes are being fulfilled."""
    wanted: set[str] = set()
    fulfilling = [
        wish for wish in await wishes.in_progress() if wish.deadline is not None and wish.claimed_by_user is not None
    ]
    for wish in fulfilling:
        for tag, before in DEADLINE_REMINDERS:
            subject = deadline_subject(wish.id, tag)
            wanted.add(subject)
            await reminders.set_for_subject(
                subject,
                "person",
                wish.claimed_by_user,
                text_for(wish, before.days),
                Schedule(kind="once", at=wish.deadline - before, time=None),
            )
    for reminder in await reminders.reminders.active():
        subject = reminder.subject_key or ""
        if _DEADLINE_SUBJECT.fullmatch(subject) and subject not in wanted:
            await reminders.cancel_subject(subject)
    return len(fulfilling)
