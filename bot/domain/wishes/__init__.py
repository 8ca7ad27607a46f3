"""Micro-wishes (微心愿): the registry, the claim hooks an auction builds on, and fulfilment.

A wish is collected by an organisation (usually a school) for a child, shown publicly only as
"alias · grade" (小明 · 三年级) with the wish text, category and estimated value; it goes
open → claimed → purchased → delivered → confirmed, or cancelled.

The parts, one concern each (`WishService` puts the service's parts together):
- rules.py: the fields' limits and how typed or imported text is read (pure).
- core.py: dependencies, lookups, and who may do what.
- registry.py: finding, adding, importing, editing, cancelling.
- privacy.py: consent, the child's private details (each read audited), the purge.
- claims.py: claim, release, reassign. fulfilment.py: purchased, delivered, confirmed.
- deadlines.py: the claimer's deadline reminders.

Who may do what (every check is in this package; the primitives come from bot/domain/permissions.py):
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

from bot.domain.wishes.claims import ClaimChange
from bot.domain.wishes.core import DEFAULT_FULFILMENT, DEFAULT_PURGE_AFTER, DEFAULT_RELEASE_WINDOW
from bot.domain.wishes.deadlines import DEADLINE_REMINDERS, deadline_subject, keep_deadline_reminders
from bot.domain.wishes.fulfilment import PROOF_MAX
from bot.domain.wishes.registry import EDITABLE, PAGE_SIZE_MAX, WishPage
from bot.domain.wishes.rules import (
    ADDRESS_MAX,
    ALIAS_MAX,
    CATEGORY_ALIASES,
    CATEGORY_LABELS,
    GRADE_MAX,
    NOTES_MAX,
    REAL_NAME_MAX,
    REASON_MAX,
    TEXT_MAX,
    VALUE_MAX,
    VALUE_MIN,
    CheckedDraft,
    WishDraft,
    check_draft,
    clean_alias,
    clean_category,
    clean_grade,
    clean_private,
    clean_reason,
    clean_text,
    clean_value,
    is_real_name,
    normalise,
    normalise_phone,
    parse_category,
    parse_code,
    parse_consent,
    parse_yuan,
    wish_key,
)
from bot.domain.wishes.service import WishService
from bot.model.wish import PrivateDetails, Wish, WishCategory, WishFilter, WishStatus, wish_code

__all__ = [
    "ADDRESS_MAX",
    "ALIAS_MAX",
    "CATEGORY_ALIASES",
    "CATEGORY_LABELS",
    "DEADLINE_REMINDERS",
    "DEFAULT_FULFILMENT",
    "DEFAULT_PURGE_AFTER",
    "DEFAULT_RELEASE_WINDOW",
    "EDITABLE",
    "GRADE_MAX",
    "NOTES_MAX",
    "PAGE_SIZE_MAX",
    "PROOF_MAX",
    "REAL_NAME_MAX",
    "REASON_MAX",
    "TEXT_MAX",
    "VALUE_MAX",
    "VALUE_MIN",
    "CheckedDraft",
    "ClaimChange",
    "PrivateDetails",
    "Wish",
    "WishCategory",
    "WishDraft",
    "WishFilter",
    "WishPage",
    "WishService",
    "WishStatus",
    "check_draft",
    "clean_alias",
    "clean_category",
    "clean_grade",
    "clean_private",
    "clean_reason",
    "clean_text",
    "clean_value",
    "deadline_subject",
    "is_real_name",
    "keep_deadline_reminders",
    "normalise",
    "normalise_phone",
    "parse_category",
    "parse_code",
    "parse_consent",
    "parse_yuan",
    "wish_code",
    "wish_key",
]
