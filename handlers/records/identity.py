"""/myid: a volunteer gives (with consent) or withdraws the identity document the national
platforms ask for. Private chat only; the number is checked and stored as it arrives, never kept
in the conversation, and shown back masked."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.records.identity import IdType, masked
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of


class IdentityFlow(Flow):
    """Consent → document type → number → saved; or withdraw what was given."""

    name = "id"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        current = await ui.services.records.identities.of(ui.user_id)
        rows = [[self.choice(ui, "consent", "yes", "records.button_consent")]]
        if current is not None:
            rows.append([self.choice(ui, "consent", "forget", "records.button_forget")])
        rows.append(self.cancel_row(ui))
        shown = (
            ui.t("records.myid_current", kind=ui.t.raw(f"records.id_type_{current.id_type}"), number=masked(current))
            if current
            else ui.t("records.myid_none")
        )
        await self.go(ui, "consent", {})
        await ui.reply("records.myid_intro", InlineKeyboardMarkup(rows), current=shown)

    async def choice_consent(self, ui: Ui, data: dict, value: str) -> None:
        if value == "forget":
            await ui.services.records.identities.withdraw(ui.user_id)
            await self.finish(ui)
            await ui.reply("records.myid_forgotten")
            return
        if value != "yes":
            raise DomainError("common.button_expired")
        await self.go(ui, "type", {})
        rows = [[self.choice(ui, "type", kind.value, f"records.id_type_{kind.value}")] for kind in IdType]
        await ui.reply("records.myid_ask_type", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))

    async def choice_type(self, ui: Ui, data: dict, value: str) -> None:
        if value not in {kind.value for kind in IdType}:
            raise DomainError("common.button_expired")
        await self.go(ui, "number", {"type": value})
        example = "records.err_bad_resident_id" if value == IdType.RESIDENT_ID else "records.err_bad_number"
        await ui.reply("records.myid_ask_number", kind=ui.t.raw(f"records.id_type_{value}"), example=ui.t.raw(example))

    async def text_number(self, ui: Ui, data: dict, text: str) -> None:
        identity = await ui.services.records.identities.give(ui.user_id, IdType(data["type"]), text)
        await self.finish(ui)
        await ui.reply(
            "records.myid_saved", kind=ui.t.raw(f"records.id_type_{identity.id_type}"), number=masked(identity)
        )


async def myid_command(update: Update, context: BotContext) -> None:
    await flow_of(context, IdentityFlow).start(Ui(update, context))
