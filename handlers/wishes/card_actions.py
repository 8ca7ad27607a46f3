"""The buttons under a card: edit, cancel, bought, delivered, confirm receipt, the photos.

Each is re-checked by the service; a refusal is answered by the error handler.
"""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext, Ui
from handlers.flow import flow_of
from handlers.wishes.buttons import WishAction, WishChoice
from handlers.wishes.card import refresh_card
from handlers.wishes.deliver import DeliverFlow
from handlers.wishes.edit import CancelWishFlow, EditWishFlow
from handlers.wishes.render import wish_params


async def wish_action(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = WishAction.unpack(ui.callback_data)
    try:
        action = WishChoice(values.action)
    except ValueError:
        action = None
    if action is None or not ui.is_private:
        await ui.answer("common.button_expired", alert=True)
        return
    services = ui.services
    wish = await services.wishes.get_for(ui.user_id, values.wish)
    if action is WishChoice.EDIT:
        await flow_of(context, EditWishFlow).start(ui, wish_id=wish.id)
        await ui.answer()
    elif action is WishChoice.CANCEL:
        await flow_of(context, CancelWishFlow).start(ui, wish_id=wish.id)
        await ui.answer()
    elif action is WishChoice.DELIVER:
        await flow_of(context, DeliverFlow).start(ui, wish_id=wish.id)
        await ui.answer()
    elif action is WishChoice.BUY:
        wish = await services.wishes.mark_purchased(ui.user_id, wish.id)
        await ui.answer("wishes.ui_purchased_toast")
        await refresh_card(ui, wish)
    elif action is WishChoice.CONFIRM:
        wish = await services.wishes.confirm_received(ui.user_id, wish.id)
        await ui.answer("wishes.ui_confirmed_toast")
        await refresh_card(ui, wish)
        if wish.claimed_by_user is not None:
            collector = await services.orgs.get(wish.collector_org_id)
            await ui.notify(
                wish.claimed_by_user, "wishes.ui_confirmed_notice", collector=collector.name, **wish_params(wish)
            )
    elif action is WishChoice.PHOTO:
        if not wish.photo_file_id:
            await ui.answer("common.button_expired", alert=True)
            return
        await ui.answer()
        await context.bot.send_photo(
            ui.chat_id, wish.photo_file_id, caption=ui.t("wishes.ui_photo_caption", **wish_params(wish))
        )
    else:  # the delivery photo, for whoever may see it
        proof = await services.wishes.delivery_proof(ui.user_id, wish.id)
        if proof is None:
            await ui.answer("common.button_expired", alert=True)
            return
        await ui.answer()
        await context.bot.send_photo(ui.chat_id, proof, caption=ui.t("wishes.ui_proof_caption", **wish_params(wish)))
