"""/handback: a volunteer leaving the county hands their children back. Their live pairs end
(volunteer_left) and each child's organisation's cadres get a re-pair button
(bot/domain/sunshine/pairing.py `hand_back`). A cadre who leaves an organisation hands back its
children through the turnover registry instead (bot/domain/sunshine/duty.py)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui
from handlers.sunshine.labels import pair_line


@dataclass(frozen=True)
class HandBackTap(CallbackData, prefix="sunb"):
    """Confirms handing back every live pair of whoever taps it (nothing in it to forge)."""

    confirm: int


async def handback_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    sunshine = ui.services.sunshine
    pairs = await sunshine.live_pairs_of_volunteer(ui.user_id)
    if not pairs:
        await ui.reply("sunshine.handback_none")
        return
    children = await sunshine.children.many([pair.child_id for pair in pairs])
    me = await ui.services.people.get(ui.user_id)
    listing = "\n".join(pair_line(ui.t, pair, children[pair.child_id], me) for pair in pairs)
    button = InlineKeyboardButton(ui.t("sunshine.button_handback"), callback_data=HandBackTap(1).pack())
    await ui.reply("sunshine.handback_ask", InlineKeyboardMarkup([[button]]), count=len(pairs), pairs=listing)


async def handback_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    HandBackTap.unpack(ui.callback_data)
    ended = await ui.services.sunshine.hand_back(ui.user_id, actor_id=ui.user_id)
    await ui.answer()
    if not ended:
        await ui.edit("sunshine.handback_none")
        return
    await ui.edit("sunshine.handback_done", count=len(ended))
