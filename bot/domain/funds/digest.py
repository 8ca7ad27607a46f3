"""The weekly digest's funds line: in the county hub, the money received in the week before the
digest (a total only), when there was any."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.digest import DigestItem
from bot.domain.funds.amounts import yuan_text
from bot.model.organisation import Binding, ChatRecord
from storage.funds import FundRepository

RECEIVED = "funds_received"


class FundDigestSource:
    def __init__(self, repo: FundRepository, zone: ZoneInfo) -> None:
        self.repo = repo
        self.zone = zone

    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        if chat.binding is not Binding.HUB:
            return []
        today = start.astimezone(self.zone).date()
        received = sum((await self.repo.money_by_owner(today - timedelta(days=7), today)).values())
        if received <= 0:
            return []
        # Listed first, at the digest's own moment: news of the week gone, not an event to come.
        return [DigestItem(start, RECEIVED, yuan_text(received))]
