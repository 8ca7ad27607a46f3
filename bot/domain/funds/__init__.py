"""Donations and funds: an append-only ledger (issue #18).

`ledger.FundService` records (donors, funds, pledges, receipts, grants, transfers, corrections,
approvals); `reports.FundReports` reads; `pledges.PledgeReminders` follows unpaid instalments;
`amounts` reads amounts as cadres write them."""

from bot.domain.funds.amounts import parse_amount, wan_text, yuan_text
from bot.domain.funds.ledger import FundService, Payee
from bot.domain.funds.pledges import PLEDGES_SUBJECT, PledgeNotice, PledgeReminders
from bot.domain.funds.publishing import FundPublisher, MonthStatement, Thanks
from bot.domain.funds.reports import FundReports, GroupBy, recomputed_balances

__all__ = [
    "PLEDGES_SUBJECT",
    "FundPublisher",
    "FundReports",
    "FundService",
    "GroupBy",
    "MonthStatement",
    "Payee",
    "PledgeNotice",
    "PledgeReminders",
    "Thanks",
    "parse_amount",
    "recomputed_balances",
    "wan_text",
    "yuan_text",
]
