"""Micro-wishes (微心愿) in Telegram: the registry and fulfilment.

- /newwish (new.py): a private conversation, the child's private details only with consent.
- /wishtemplate and /importwishes (importing.py): the XLSX template, and a checked,
  all-or-nothing import.
- /wishes (listing.py): a paged list with filters and search; county admins see the overdue
  claims first.
- /wish W0012 (card.py): the card, with the buttons the viewer may use (card_actions.py: edit,
  cancel, 已购买, 已送达 with a photo, 确认收到); edit.py and deliver.py are the conversations
  those buttons start; photos.py takes an image sent as a file.
- jobs.py: the claimers' deadline reminders and the county admins' daily overdue list.

Privacy: every command here runs in the private chat only (in a group they answer with a link
to it), so a child's details are typed, echoed and shown only there, never in a group. Who may
see or do what is decided by bot/domain/wishes. Nothing here logs message text.
"""

from __future__ import annotations

from handlers.wishes.buttons import WishAction
from handlers.wishes.card import wish_command
from handlers.wishes.card_actions import wish_action
from handlers.wishes.deliver import DeliverFlow
from handlers.wishes.edit import CancelWishFlow, EditWishFlow
from handlers.wishes.importing import ImportWishesFlow, import_command, template_command
from handlers.wishes.jobs import DEADLINE_JOB, send_overdue_digest, start_wish_jobs, sync_deadline_reminders
from handlers.wishes.listing import WishListFlow, wishes_command
from handlers.wishes.new import NewWishFlow, newwish_command
from handlers.wishes.photos import photo_from_document

__all__ = [
    "DEADLINE_JOB",
    "CancelWishFlow",
    "DeliverFlow",
    "EditWishFlow",
    "ImportWishesFlow",
    "NewWishFlow",
    "WishAction",
    "WishListFlow",
    "import_command",
    "newwish_command",
    "photo_from_document",
    "send_overdue_digest",
    "start_wish_jobs",
    "sync_deadline_reminders",
    "template_command",
    "wish_action",
    "wish_command",
    "wishes_command",
]
