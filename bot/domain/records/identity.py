"""Identity documents for the national platforms' export: a volunteer's own, given with consent.

Private (PIPL): kept in their own table (volunteer_identity), read only by the county admins'
export (audited there), shown back to the volunteer masked, deleted for real when they withdraw.
A number never passes through conversation state: it is checked and stored as it arrives.

Catalog keys raised: records.err_bad_resident_id, records.err_bad_number (both: example).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.model.records import Identity
from storage.audit import AuditRepository
from storage.db import Database
from storage.records import RecordRepository

# GB 11643: weights of the first 17 digits and the check character for each remainder mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_OTHER = re.compile(r"^[A-Z0-9]{5,30}$")


class IdType(StrEnum):
    """The document types the platforms ask for (catalog `records.id_type_<value>`)."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"
    HK_MACAO = "hk_macao"  # 港澳居民来往内地通行证
    TAIWAN = "taiwan"  # 台湾居民来往大陆通行证


def check_number(id_type: IdType, text: str) -> str:
    """The number as stored (upper case, no spaces), or DomainError with an example."""
    number = "".join(unicodedata.normalize("NFKC", text).upper().split())
    if id_type is IdType.RESIDENT_ID:
        valid = len(number) == 18 and number[:17].isascii() and number[:17].isdigit()
        if not valid or _CHECK[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11] != number[17]:
            raise DomainError("records.err_bad_resident_id")
        return number
    if not _OTHER.match(number):
        raise DomainError("records.err_bad_number")
    return number


def masked(identity: Identity) -> str:
    """What the volunteer is shown back: the first and last few characters only."""
    number = identity.id_number
    return number[:3] + "*" * max(0, len(number) - 7) + number[-4:]


class Identities:
    def __init__(self, db: Database, repo: RecordRepository, audit: AuditRepository, clock: Clock) -> None:
        self.db = db
        self.repo = repo
        self.audit = audit
        self.clock = clock

    async def of(self, user_id: int) -> Identity | None:
        """The person's own (for /myid, shown masked)."""
        return (await self.repo.identities([user_id])).get(user_id)

    async def give(self, user_id: int, id_type: IdType, text: str) -> Identity:
        number = check_number(id_type, text)
        now = self.clock.now()
        async with self.db.transaction():
            await self.repo.set_identity(user_id, id_type.value, number, now)
            await self.audit.record(now, user_id, "identity.give", f"person:{user_id}", id_type=id_type.value)
        return Identity(user_id, id_type.value, number, now)

    async def withdraw(self, user_id: int) -> bool:
        """Consent withdrawn: the row is deleted (not blanked)."""
        async with self.db.transaction():
            deleted = await self.repo.delete_identity(user_id)
            if deleted:
                await self.audit.record(self.clock.now(), user_id, "identity.withdraw", f"person:{user_id}")
        return deleted
