"""Donations and funds (issue #18): the ledger's conversations, commands, buttons and texts."""

from handlers.funds.buttons import DonorContactTap, FundDecision
from handlers.funds.commands import (
    contact_button,
    correct_command,
    decision_button,
    donor_command,
    funds_command,
    grant_command,
    ledger_command,
    newdonor_command,
    newfund_command,
    pledge_command,
    publish_command,
    receipt_command,
    thank_command,
    transfer_command,
)
from handlers.funds.grant import GrantFlow
from handlers.funds.receipt import ReceiptFlow
from handlers.funds.render import render_hub_statement, render_hub_thanks, render_pledge_notice
from handlers.funds.setup import NewDonorFlow, NewFundFlow, PledgeFlow

__all__ = [
    "DonorContactTap",
    "FundDecision",
    "GrantFlow",
    "NewDonorFlow",
    "NewFundFlow",
    "PledgeFlow",
    "ReceiptFlow",
    "contact_button",
    "correct_command",
    "decision_button",
    "donor_command",
    "funds_command",
    "grant_command",
    "ledger_command",
    "newdonor_command",
    "newfund_command",
    "pledge_command",
    "publish_command",
    "receipt_command",
    "render_hub_statement",
    "render_hub_thanks",
    "render_pledge_notice",
    "thank_command",
    "transfer_command",
]
