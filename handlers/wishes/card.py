"""/wish W0012: the card, with the buttons the viewer may use.

The child's private details are added for whoever bot/domain/wishes allows (each view audited there).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.domain.formatting import DATE, local_text
from bot.model.wish import IN_PROGRESS, Wish, WishStatus
from handlers.context import BotContext, Ui, best_effort
from handlers.wishes.buttons import WishChoice, action_button
from handlers.wishes.render import category_label, status_label


async def card_text(ui: Ui, wish: Wish) -> str:
    """Public fields for everyone; the child's details only for whom the service allows (audited)."""
    services, t, zone = ui.services, ui.t, ui.services.config.zone
    collector = await services.orgs.get(wish.collector_org_id)
    lines = [
        t(
            "wishes.ui_card",
            code=wish.code,
            status=status_label(t, wish.status),
            label=wish.public_label,
            text=wish.text,
            category=category_label(t, wish.category),
            value=wish.value_yuan,
            collector=collector.name,
            photo=t("wishes.ui_has_photo" if wish.photo_file_id else "wishes.ui_no_photo"),
            consent=t("wishes.ui_consent_yes" if wish.consent else "wishes.ui_consent_no"),
        )
    ]
    if wish.claimed_by_org is not None and wish.status is not WishStatus.CANCELLED:
        org = await services.orgs.get(wish.claimed_by_org)
        person = await services.people.get(wish.claimed_by_user) if wish.claimed_by_user else None
        overdue = t("wishes.ui_card_overdue") if wish.is_overdue(services.clock.now()) else ""
        lines.append(
            t(
                "wishes.ui_card_claim",
                org=org.name,
                person=person.display_name if person else "?",
                deadline=local_text(wish.deadline, zone, DATE),
                overdue=overdue,
            )
        )
    for moment, key in (
        (wish.purchased_at, "wishes.ui_card_purchased"),
        (wish.delivered_at, "wishes.ui_card_delivered"),
        (wish.confirmed_at, "wishes.ui_card_confirmed"),
    ):
        if moment is not None:
            lines.append(t(key, when=local_text(moment, zone)))
    if wish.status is WishStatus.CANCELLED:
        lines.append(
            t("wishes.ui_card_cancelled", when=local_text(wish.cancelled_at, zone), reason=wish.cancel_reason or "")
        )
    private = await private_block(ui, wish)
    if private:
        lines.extend(["", private])
    return "\n".join(lines)


async def private_block(ui: Ui, wish: Wish) -> str:
    services, t = ui.services, ui.t
    if not await services.wishes.can_see_private(ui.user_id, wish):
        return ""
    if not wish.consent:
        return t("wishes.ui_card_no_consent")
    if wish.private_purged:
        return t("wishes.ui_card_purged")
    details = await services.wishes.private_details(ui.user_id, wish.id)
    if details is None:
        return t("wishes.ui_card_private_none")
    blank = t("wishes.ui_blank")
    return t(
        "wishes.ui_card_private",
        real_name=details.real_name or blank,
        phone=details.guardian_phone or blank,
        address=details.address or blank,
        notes=details.notes or blank,
    )


async def card_markup(ui: Ui, wish: Wish) -> InlineKeyboardMarkup | None:
    """The buttons this viewer may use now; each tap is checked again by the service."""
    wishes, t, user_id = ui.services.wishes, ui.t, ui.user_id
    rows: list[list[InlineKeyboardButton]] = []
    if await wishes.can_edit(user_id, wish):
        rows.append(
            [
                action_button(t, wish, WishChoice.EDIT, "wishes.ui_button_edit"),
                action_button(t, wish, WishChoice.CANCEL, "wishes.ui_button_cancel_wish"),
            ]
        )
    elif await wishes.can_cancel(user_id, wish):
        rows.append([action_button(t, wish, WishChoice.CANCEL, "wishes.ui_button_cancel_wish")])
    if wish.status in IN_PROGRESS and await wishes.can_fulfil(user_id, wish):
        bought = (
            [action_button(t, wish, WishChoice.BUY, "wishes.ui_button_purchased")]
            if wish.status is WishStatus.CLAIMED
            else []
        )
        rows.append([*bought, action_button(t, wish, WishChoice.DELIVER, "wishes.ui_button_delivered")])
    if await wishes.can_confirm(user_id, wish):
        rows.append([action_button(t, wish, WishChoice.CONFIRM, "wishes.ui_button_confirm")])
    media = []
    if wish.photo_file_id:
        media.append(action_button(t, wish, WishChoice.PHOTO, "wishes.ui_button_photo"))
    if wish.delivery_proof_file_id and await wishes.can_see_proof(user_id, wish):
        media.append(action_button(t, wish, WishChoice.PROOF, "wishes.ui_button_proof"))
    if media:
        rows.append(media)
    return InlineKeyboardMarkup(rows) if rows else None


async def send_card(ui: Ui, wish: Wish) -> None:
    await ui.send_text(await card_text(ui, wish), await card_markup(ui, wish))


async def refresh_card(ui: Ui, wish: Wish) -> None:
    """The tapped message is a card (text) or a delivery notice (photo): edit the one, resend the other."""
    message = ui.query.message
    if isinstance(message, Message) and message.text is not None:
        await ui.edit_text(await card_text(ui, wish), await card_markup(ui, wish))
        return
    if message is not None:
        await best_effort(
            ui.context.bot.edit_message_reply_markup(message.chat.id, message.message_id, reply_markup=None),
            "could not remove the buttons of message %s",
            message.message_id,
        )
    await send_card(ui, wish)


async def wish_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("wishes.ui_wish_usage")
        return
    wish = await ui.services.wishes.look_up(ui.user_id, " ".join(context.args))
    await send_card(ui, wish)
