"""A wish's fields: their limits, how typed or imported text is read, and the checked draft.

Pure rules, shared by the service, the import (bot/domain/wish_import.py) and the conversations:
no database, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.model.wish import PrivateDetails, WishCategory

ALIAS_MAX = 20
GRADE_MAX = 10
TEXT_MAX = 100
VALUE_MIN = 1
VALUE_MAX = 2000
REAL_NAME_MAX = 20
ADDRESS_MAX = 100
NOTES_MAX = 200
REASON_MAX = 200

# The first label of each category is the canonical one (template drop-down, hints).
CATEGORY_ALIASES: dict[WishCategory, tuple[str, ...]] = {
    # Simplified first (the first is canonical), then the Traditional forms zh-Hant readers are shown.
    WishCategory.STATIONERY: ("学习用品", "文具", "学具", "学习", "學習用品", "學具", "學習"),
    WishCategory.BOOKS: ("图书", "书", "书籍", "读物", "课外书", "圖書", "書", "書籍", "讀物", "課外書"),
    WishCategory.SPORTS: (
        "体育用品",
        "体育",
        "运动",
        "运动用品",
        "体育器材",
        "體育用品",
        "體育",
        "運動",
        "運動用品",
        "體育器材",
    ),
    WishCategory.TOYS: ("玩具",),
    WishCategory.CLOTHING: ("衣物", "衣服", "服装", "鞋", "鞋子", "衣鞋", "服裝"),
    WishCategory.EXPERIENCE: ("体验", "活动", "门票", "参观", "體驗", "活動", "門票", "參觀"),
    WishCategory.OTHER: ("其他", "其它"),
}
CATEGORY_LABELS: dict[WishCategory, str] = {category: labels[0] for category, labels in CATEGORY_ALIASES.items()}
_CATEGORY_BY_TEXT: dict[str, WishCategory] = {
    **{label.casefold(): category for category, labels in CATEGORY_ALIASES.items() for label in labels},
    **{category.value: category for category in WishCategory},
}

_CONSENT_WORDS = {
    True: ("是", "同意", "已同意", "有", "yes", "y", "true", "1", "✓", "√"),
    False: ("否", "不同意", "未同意", "无", "無", "no", "n", "false", "0", "✗", "×"),
}
_CONSENT_BY_TEXT = {word.casefold(): given for given, words in _CONSENT_WORDS.items() for word in words}

_CODE = re.compile(r"#?\s*[Ww]?\s*0*(\d{1,9})")
_AREA_SPLIT = re.compile(r"\(?(0\d{2,3})(?:\)|\s*-|\s)\s*(.+)")
_LOCAL_NUMBER = re.compile(r"[2-9]\d{6,7}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_DIGITS = re.compile(r"0\d{9,11}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


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
    if number.copy_abs() >= bounds.ID_LIMIT:
        # Out of every range, and `int()` of "1e999999999" would build a billion-digit number
        # for minutes: 2^53 stands for it (the callers quote what was typed, not the number).
        return bounds.ID_LIMIT if number > 0 else -bounds.ID_LIMIT
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
    if not real_name:
        return False
    return normalise(alias).casefold() == normalise(real_name).casefold()


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
        raise DomainError("wishes.value_out_of_range", value=str(raw).strip()[:20], min=VALUE_MIN, max=VALUE_MAX)
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
class CheckedDraft:
    """A `WishDraft` after `check_draft`: every field clean, in its own type."""

    collector_org_id: int
    alias: str
    grade: str
    text: str
    category: WishCategory
    value_yuan: int
    consent: bool
    private: PrivateDetails | None
    photo_file_id: str | None


def check_draft(draft: WishDraft) -> CheckedDraft:
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
    return CheckedDraft(
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
