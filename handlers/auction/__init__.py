"""The live wish auction (认领会) in Telegram, one concern a module:

- hub.py: the announcement, the live board in the hub, the summary, and `auction_tick` (the
  repeating job that opens, refreshes and closes sessions);
- claim.py: the claim tap (the hot path) and the winner's release;
- browsing.py: cadres' private pages of lots and their filters; page_refresh.py: a page
  refreshed for the tapper after a claim;
- admin.py: county admins' /release and /reassign;
- new_auction.py: the /newauction conversation;
- state.py: the live state (`AuctionState`, one typed object in bot_data) and background work;
- buttons.py, texts.py: the callback payloads, labels and texts they share.
Every rule (who is a cadre, who may act, caps, waves, windows) is the domain's
(bot/domain/auction/): callback data is only a request, re-checked there.
"""

from .admin import reassign_command, release_command
from .browsing import auction_command, browse_button_tapped, start_browsing
from .buttons import BrowseTap, ClaimTap, ReleaseTap
from .claim import claim_button, release_button
from .hub import announce, auction_tick, board_view, start_auction_jobs
from .new_auction import NewAuctionFlow, newauction_command
from .state import AUCTION_STATE, AuctionState, settle

__all__ = [
    "AUCTION_STATE",
    "AuctionState",
    "BrowseTap",
    "ClaimTap",
    "NewAuctionFlow",
    "ReleaseTap",
    "announce",
    "auction_command",
    "auction_tick",
    "board_view",
    "browse_button_tapped",
    "claim_button",
    "newauction_command",
    "reassign_command",
    "release_button",
    "release_command",
    "settle",
    "start_auction_jobs",
    "start_browsing",
]
