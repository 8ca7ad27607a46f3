"""Sunshine Home (阳光家园) in Telegram: the children's register, volunteers' profiles, pairing,
contacts, and the notices the domain queues. `register_notices` tells the outbox's sender how
to word each kind; the commands and buttons are registered in handlers/__init__.py."""

from __future__ import annotations

from bot.domain import sunshine as domain
from handlers.outbox import OutboxSender
from handlers.sunshine import notices
from handlers.sunshine.buttons import ChildTap, PairAnswer
from handlers.sunshine.contact import ContactFlow, contact_command
from handlers.sunshine.figures import contacts_command
from handlers.sunshine.handback import HandBackTap, handback_button, handback_command
from handlers.sunshine.importing import ImportChildrenFlow, import_command, template_command
from handlers.sunshine.pairing import (
    EndPairFlow,
    PairFlow,
    child_tap,
    endpair_command,
    pair_answer,
    pair_command,
    pairs_command,
)
from handlers.sunshine.profile import VolunteerProfileFlow, counsellor_command, volunteer_command
from handlers.sunshine.register import (
    LeaveFlow,
    NewChildFlow,
    child_command,
    children_command,
    childwish_command,
    newchild_command,
    sessionkids_command,
)

__all__ = [
    "HandBackTap",
    "handback_button",
    "handback_command",
    "ChildTap",
    "ContactFlow",
    "EndPairFlow",
    "ImportChildrenFlow",
    "LeaveFlow",
    "NewChildFlow",
    "PairAnswer",
    "PairFlow",
    "VolunteerProfileFlow",
    "child_command",
    "child_tap",
    "children_command",
    "childwish_command",
    "contact_command",
    "contacts_command",
    "endpair_command",
    "flows",
    "import_command",
    "newchild_command",
    "pair_answer",
    "pair_command",
    "pairs_command",
    "register_notices",
    "sessionkids_command",
    "template_command",
    "volunteer_command",
    "counsellor_command",
]


def flows() -> list:
    return [
        NewChildFlow(),
        LeaveFlow(),
        ImportChildrenFlow(),
        PairFlow(),
        EndPairFlow(),
        ContactFlow(),
        VolunteerProfileFlow(),
    ]


def register_notices(sender: OutboxSender) -> None:
    sender.register(domain.PROPOSAL, notices.render_proposal)
    sender.register(domain.ANSWERED, notices.render_answered)
    sender.register(domain.QUIET_VOLUNTEER, notices.render_quiet_volunteer)
    sender.register(domain.QUIET_CADRES, notices.render_quiet_cadres)
    sender.register(domain.HANDED_BACK, notices.render_handed_back)
