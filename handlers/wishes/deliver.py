"""Delivery: a photo as proof; the collecting organisation is asked to confirm receipt."""

from __future__ import annotations

from telegram import Document, InlineKeyboardMarkup
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.model.wish import Wish
from handlers.context import Ui, best_effort, reader_translator, services_of
from handlers.wishes.buttons import WishChoice, action_button
from handlers.wishes.photos import photo_from_document
from handlers.wishes.render import wish_params
from handlers.wishes.steps import WishSteps

NOTIFY_MEMBERS_MAX = 20


class DeliverFlow(WishSteps):
    """A photo as proof → delivered; the collecting organisation is asked to confirm receipt."""

    name = "wd"

    async def start(self, ui: Ui, wish_id: int = 0, **kwargs: object) -> None:
        wish = await ui.services.wishes.check_deliverable(ui.user_id, wish_id)
        await self.go(ui, "photo", {"wish": wish.id})
        await ui.reply("wishes.ui_deliver_ask_photo", self.cancel_markup(ui), **wish_params(wish))

    async def photo_photo(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._delivered(ui, data, file_id)

    async def document_photo(self, ui: Ui, data: dict, document: Document) -> None:
        await self._delivered(ui, data, await photo_from_document(ui, document))

    async def text_photo(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("wishes.proof_required")

    async def _delivered(self, ui: Ui, data: dict, file_id: str) -> None:
        try:
            wish = await ui.services.wishes.mark_delivered(ui.user_id, data["wish"], file_id)
        except DomainError:
            await self.finish(ui)
            raise
        await self.finish(ui)
        collector = await ui.services.orgs.get(wish.collector_org_id)
        await ui.reply("wishes.ui_delivered", collector=collector.name, code=wish.code)
        await notify_collector_delivered(ui.context.application, wish)


async def notify_collector_delivered(application: Application, wish: Wish) -> None:
    """The collecting organisation's cadres get the proof photo and a 确认收到 button."""
    services = services_of(application)
    proof = wish.delivery_proof_file_id
    if proof is None:  # recorded with every delivery
        return
    claimer = await services.orgs.get(wish.claimed_by_org) if wish.claimed_by_org else None
    members = await services.membership.members(wish.collector_org_id)
    for membership in members[:NOTIFY_MEMBERS_MAX]:
        person = await services.people.get(membership.user_id)
        t = reader_translator(services, person)
        markup = InlineKeyboardMarkup([[action_button(t, wish, WishChoice.CONFIRM, "wishes.ui_button_confirm")]])
        caption = t("wishes.ui_delivered_notice", org=claimer.name if claimer else "?", **wish_params(wish))
        await best_effort(
            application.bot.send_photo(membership.user_id, proof, caption=caption, reply_markup=markup),
            "delivery of %s not shown to %s",
            wish.code,
            membership.user_id,
        )
