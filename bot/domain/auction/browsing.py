"""What a session shows: the board's figures, the pages of lots and their filters' choices, the
claims table and its spreadsheet, and where the board is. Public fields only, never a child's
private details."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.xlsx import XlsxWriter
from bot.model.auction import LIVE, ClaimRow, LotFacets, LotFilter
from storage.auction import AuctionRepository
from storage.chats import ChatRepository

from .memory import SessionCache
from .records import BoardState, LotPage
from .rules import released

PAGE_SIZE_MAX = 50
BOARD_LATEST = 5
BOARD_LEADERS = 5
# The claims table as a spreadsheet: its columns (headers: catalog keys auction.claims_col_*) and widths.
CLAIMS_COLUMNS = (
    ("code", 10),
    ("child", 18),
    ("wish", 30),
    ("value", 10),
    ("org", 24),
    ("claimer", 16),
    ("claimed_at", 18),
)


class Browsing:
    def __init__(
        self, repo: AuctionRepository, sessions: SessionCache, chats: ChatRepository, clock: Clock, zone: ZoneInfo
    ) -> None:
        self.repo = repo
        self.sessions = sessions
        self.chats = chats
        self.clock = clock
        self.zone = zone

    async def board(self, session_id: int, now: datetime) -> BoardState:
        session = await self.sessions.session(session_id)
        claimed, left = await self.repo.counts(session_id)
        return BoardState(
            session=session,
            claimed=claimed,
            left=left,
            released=released(session, now),
            latest=tuple(await self.repo.latest(session_id, BOARD_LATEST)),
            leaders=tuple(await self.repo.per_org(session_id, BOARD_LEADERS)),
            seconds_left=max(0, int((session.ends_at - now).total_seconds())) if not session.over else 0,
        )

    async def browse(self, session_id: int, lot_filter: LotFilter | None, page: int, page_size: int) -> LotPage:
        """Released lots still open, in the order of release; nothing unless the session is live."""
        session = await self.sessions.session(session_id)
        page_size = max(1, min(page_size, PAGE_SIZE_MAX))
        if session.state != LIVE:
            return LotPage(items=(), total=0, page=1, pages=1)
        shown = released(session, self.clock.now())
        lot_filter = lot_filter or LotFilter()
        total = await self.repo.count_lots(session_id, shown, lot_filter)
        pages = max(1, math.ceil(total / page_size))
        page = max(1, min(page, pages))
        items = await self.repo.lots(session_id, shown, lot_filter, limit=page_size, offset=(page - 1) * page_size)
        return LotPage(items=tuple(items), total=total, page=page, pages=pages)

    async def facets(self, session_id: int) -> LotFacets:
        """The collecting organisations and grades among the lots `browse` shows (the filter
        pickers' choices); none unless the session is live."""
        session = await self.sessions.session(session_id)
        if session.state != LIVE:
            return LotFacets()
        return await self.repo.facets(session_id, released(session, self.clock.now()))

    async def claims_table(self, session_id: int) -> list[ClaimRow]:
        """The claims made in the session and still held, oldest first: public fields only."""
        await self.sessions.session(session_id)
        return await self.repo.claims(session_id)

    async def claims_xlsx(self, session_id: int, labels: Callable[[str], str], zone: ZoneInfo | None = None) -> bytes:
        """The claims table (public fields only) as XLSX; headers from `labels` (the reader's
        language), claim times as real dates in `zone`."""
        zone = zone or self.zone
        rows = await self.claims_table(session_id)
        book = XlsxWriter()
        header = [labels(f"auction.claims_col_{name}") for name, _ in CLAIMS_COLUMNS]
        with book.sheet(labels("auction.claims_sheet"), header, [width for _, width in CLAIMS_COLUMNS]) as sheet:
            for row in rows:
                sheet.row(
                    (
                        row.code,
                        row.alias_grade,
                        row.text,
                        row.value_yuan,
                        row.org_name,
                        row.user_display_name,
                        row.claimed_at.astimezone(zone).replace(tzinfo=None),
                    )
                )
        return book.close()

    async def set_board(self, session_id: int, chat_id: int, message_id: int) -> None:
        chat = await self.chats.get(chat_id)
        if chat is None:
            raise DomainError("auction.err_group_unknown")
        await self.repo.set_board(session_id, chat.id, message_id)

    async def board_message(self, session_id: int) -> tuple[int, int] | None:
        """(current chat id, message id) of the live board, or None before it is posted."""
        return await self.repo.board_message(session_id)
