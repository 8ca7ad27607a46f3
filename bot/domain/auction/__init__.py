"""The live wish auction (认领会): sessions of lots that cadres claim for their organisation.

A county admin creates a session (title, start, duration, which open wishes are its lots, caps
per organisation / per person, the fulfilment deadline, optional waves). The lots are a
snapshot taken at creation, ordered by wish id; `position` is the order of release. A wish is a
lot of at most one session that is not over (scheduled or live): the selection skips wishes
that already are, and a list of codes naming one is refused.

The package, one concern a module:
- service.py: `AuctionService`, the one entry: a session's life (create, open, close, cancel,
  reminders) and who may change it;
- rules.py: what the creation conversation may enter, the selection of lots, the waves;
- claims.py: the claim (the hot path) and the organisation a person claims for;
- memory.py: what the claim path keeps in memory (sessions, lots, each live session's ledger);
- browsing.py: what a session shows (board, pages of lots, filter choices, the claims table);
- records.py: the draft, a tap's outcome and the read models.
The cap rule and the claim's audit entry live in the database's claim statement
(storage/wishes.py, CLAIM_UPDATE and CLAIM_AUDIT); see bot/model/auction.py's `Caps`.

Catalog keys (handlers/locales/<lang>/auction_errors.toml, table [auction]):

    errors (DomainError key, params)
        auction.err_not_found                    -
        auction.err_title_empty                  -
        auction.err_title_too_long               length, max
        auction.err_start_in_past                start, now          (local "YYYY-MM-DD HH:MM")
        auction.err_duration_not_number          value, min, max
        auction.err_duration_out_of_range        value, min, max
        auction.err_cap_not_number               value, min, max
        auction.err_cap_out_of_range             value, min, max
        auction.err_deadline_not_number          value, min, max
        auction.err_deadline_out_of_range        value, min, max
        auction.err_waves_format                 value
        auction.err_wave_size_out_of_range       value, min, max
        auction.err_wave_every_out_of_range      value, min, max
        auction.err_waves_too_slow               released, lots, minutes
        auction.err_value_negative               value
        auction.err_value_range                  min, max
        auction.err_code_invalid                 value
        auction.err_codes_unavailable            codes, count
        auction.err_no_lots                      -
        auction.err_not_scheduled                title               (open / cancel a session not scheduled)
        auction.err_not_live                     title               (close a session not live)
        auction.err_group_unknown                -                   (set_board in a chat never seen)
        auction.err_reassign_not_cadre           name                (reassign to someone in no organisation)
    PermissionDenied: errors.county_admin_only (create, cancel, close early, admin release, reassign);
    release and reassignment refusals are WishService's (wishes.*).
    reminder texts (rendered through `render_reminder`, stored as plain text)
        auction.reminder_1d / auction.reminder_1h / auction.reminder_5m    title, when
"""

from bot.model.auction import AuctionSession, ClaimRow, LotFacets, LotFilter, Outcome

from .records import BoardState, ClaimOutcome, CloseSummary, LotPage, LotSelection, SessionDraft
from .service import AuctionService, Reassignment, subject_keys

__all__ = [
    "AuctionService",
    "AuctionSession",
    "BoardState",
    "ClaimOutcome",
    "ClaimRow",
    "CloseSummary",
    "LotFacets",
    "LotFilter",
    "LotPage",
    "LotSelection",
    "Outcome",
    "Reassignment",
    "SessionDraft",
    "subject_keys",
]
