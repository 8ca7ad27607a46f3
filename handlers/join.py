"""Joining an organisation: /join or a deep link, then its admins approve or reject."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from handlers.callback_data import CallbackData
from handlers.common import private_link_markup
from handlers.context import BotContext, MarkupFor, Ui
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.keyboards import verdict_markup


@dataclass(frozen=True)
class JoinDecision(CallbackData, prefix="jd"):
    request: int
    verdict: str


async def org_choices(ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
    orgs = await (ui.services.orgs.search(search, limit=40) if search else ui.services.orgs.list())
    return [(org.id, org.name) for org in orgs]


class JoinFlow(Flow):
    name = "jn"

    async def start(self, ui: Ui, org_id: int | None = None) -> None:
        if org_id is not None:
            await self._confirm(ui, org_id)
            return
        await self.go(ui, "org", {})
        choices = await org_choices(ui)
        if not choices:
            await self.finish(ui)
            await ui.reply("join.no_orgs")
            return
        await ui.reply("join.pick_org", self.paged(ui, "org", choices, 0))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await ui.edit("join.pick_org", self.paged(ui, "org", await org_choices(ui), page))
            return
        await self._confirm(ui, choice_id(value))

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        choices = await org_choices(ui, text)
        if not choices:
            raise DomainError("join.search_nothing", text=text[:30])
        await ui.reply("join.search_results", self.paged(ui, "org", choices, 0), count=len(choices))

    async def _confirm(self, ui: Ui, org_id: int) -> None:
        await ui.services.orgs.get_active(org_id)  # archived: said, and the picker stays
        try:
            org = await ui.services.membership.check_join(ui.user_id, org_id)
        except DomainError:
            await self.finish(ui)  # a member already: nothing left to ask
            raise
        await self.go(ui, "confirm", {"org_id": org_id})
        markup = InlineKeyboardMarkup([[self.choice(ui, "confirm", "yes", "join.button_apply")], self.cancel_row(ui)])
        await ui.reply("join.confirm", markup, org=org.name)

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        await self.finish(ui)
        request = await ui.services.membership.request_join(ui.user_id, data["org_id"])
        org = await ui.services.orgs.get(request.org_id)
        await ui.edit("join.submitted", org=org.name)
        person = await ui.services.people.known(ui.user_id)
        for approver in await ui.services.membership.approvers(request.org_id):
            await ui.notify(
                approver,
                "join.approval_request",
                decision_markup(request.id),
                name=person.display_name,
                username=f"@{person.username}" if person.username else "",
                org=org.name,
            )


def decision_markup(request_id: int) -> MarkupFor:
    return verdict_markup(
        lambda verdict: JoinDecision(request=request_id, verdict=verdict),
        (("a", "join.button_approve"), ("r", "join.button_reject")),
    )


async def join_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if ui.is_private:
        await flow_of(context, JoinFlow).start(ui)
        return
    chat = await ui.services.groups.get(ui.chat_id)
    payload = f"join_{chat.org_id}" if chat is not None and chat.org_id else "join"
    await ui.reply("join.go_private", private_link_markup(ui, payload))


async def join_decision(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = JoinDecision.unpack(ui.callback_data)
    if values.verdict not in ("a", "r"):
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        decision = await ui.services.membership.decide(ui.user_id, values.request, values.verdict == "a")
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer()
    request = decision.request
    org = await ui.services.orgs.get(request.org_id)
    applicant = await ui.services.people.known(request.user_id)
    verdict = "approved" if decision.approved else "rejected"
    await ui.edit(f"join.decided_{verdict}", name=applicant.display_name, org=org.name)
    await ui.notify(request.user_id, f"join.you_were_{verdict}", org=org.name)


async def invite_command(update: Update, context: BotContext) -> None:
    """The deep link that lets anyone apply to this organisation in two taps."""
    ui = Ui(update, context)
    org_id = None
    if not ui.is_private:
        chat = await ui.services.groups.get(ui.chat_id)
        org_id = chat.org_id if chat is not None else None
    if org_id is None:
        memberships = await ui.services.membership.memberships_of(ui.user_id)
        if len(memberships) == 1:
            org_id = memberships[0].org_id
    if org_id is None:
        await ui.reply("join.invite_which")
        return
    org = await ui.services.membership.check_inviter(ui.user_id, org_id)
    link = f"https://t.me/{context.bot.username}?start=join_{org_id}"
    await ui.reply("join.invite", org=org.name, link=link)
