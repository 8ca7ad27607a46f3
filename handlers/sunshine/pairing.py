"""Pairing in Telegram: /pair C0001 (or a card's or a notice's button), the volunteer's answer,
/pairs, /endpair P0001.

/pair: kind of support → the bot's suggestions (each with its reasons), or a typed @username
or user id → rhythm (weekly, fortnightly, monthly, or a number of days) → proposed; the
volunteer is asked in private (the outbox sends it).
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.sunshine.rules import RHYTHMS, parse_child_code, parse_rhythm
from bot.model.sunshine import EndReason, PairStatus, Suggestion, Support, child_code
from handlers.context import BotContext, Ui
from handlers.flow import Flow, choice_id, flow_of
from handlers.i18n import Translator
from handlers.sunshine.buttons import ChildTap, PairAnswer
from handlers.sunshine.labels import pair_line, person_name, support_word
from handlers.sunshine.register import LeaveFlow, show_private

_PAIR_CODE = re.compile(r"[pP]?0*([0-9]{1,7})")


def reason_text(t: Translator, suggestion: Suggestion) -> str:
    words = {"kind": "sunshine.kind_", "available": "sunshine.available_"}
    parts = [
        t(f"sunshine.reason_{kind}", value=t(words[kind] + value) if kind in words else value)
        for kind, value in suggestion.reasons
    ]
    return t("sunshine.list_separator").join(parts)


class PairFlow(Flow):
    name = "sp"

    async def start(self, ui: Ui, child_id: int = 0, **kwargs: object) -> None:
        child = await ui.services.sunshine.visible_child(ui.user_id, child_id)
        await ui.services.sunshine.require_cadre(ui.user_id, child.org_id)
        if not child.active:
            raise DomainError("sunshine.child_left", code=child.code)
        await self.go(ui, "support", {"child": child.id})
        rows = [[self.choice(ui, "support", support.value, f"sunshine.support_{support.value}")] for support in Support]
        await ui.reply(
            "sunshine.ask_support",
            InlineKeyboardMarkup([*rows, self.cancel_row(ui)]),
            code=child.code,
            label=child.public_label,
        )

    async def choice_support(self, ui: Ui, data: dict, value: str) -> None:
        try:
            support = Support(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        suggestions = await ui.services.sunshine.suggest(ui.user_id, data["child"], support)
        people = await ui.services.people.many([item.volunteer_id for item in suggestions])
        await self.go(
            ui, "volunteer", {**data, "support": support.value, "offered": [item.volunteer_id for item in suggestions]}
        )
        lines = [
            ui.t(
                "sunshine.suggestion_line",
                rank=rank,
                name=person_name(people.get(item.volunteer_id), item.volunteer_id),
                reasons=reason_text(ui.t, item),
            )
            for rank, item in enumerate(suggestions, 1)
        ]
        rows = [
            [
                self.button(
                    ui,
                    "volunteer",
                    item.volunteer_id,
                    f"{rank}. {person_name(people.get(item.volunteer_id), item.volunteer_id)}",
                )
            ]
            for rank, item in enumerate(suggestions, 1)
        ]
        key = "sunshine.ask_volunteer" if suggestions else "sunshine.ask_volunteer_none"
        await ui.reply(
            key,
            InlineKeyboardMarkup([*rows, self.cancel_row(ui)]),
            support=support_word(ui.t, support.value),
            suggestions="\n".join(lines),
        )

    async def choice_volunteer(self, ui: Ui, data: dict, value: str) -> None:
        volunteer_id = choice_id(value)
        if volunteer_id not in data.get("offered", []):
            raise DomainError("common.button_expired")
        await self._ask_rhythm(ui, {**data, "volunteer": volunteer_id})

    async def text_volunteer(self, ui: Ui, data: dict, text: str) -> None:
        person = await ui.services.people.find(text)
        await self._ask_rhythm(ui, {**data, "volunteer": person.user_id})

    async def _ask_rhythm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "rhythm", data)
        rows = [[self.choice(ui, "rhythm", name, f"sunshine.rhythm_{name}")] for name in RHYTHMS]
        await ui.reply("sunshine.ask_rhythm", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))

    async def choice_rhythm(self, ui: Ui, data: dict, value: str) -> None:
        if value not in RHYTHMS:
            raise DomainError("common.button_expired")
        await self._propose(ui, data, RHYTHMS[value])

    async def text_rhythm(self, ui: Ui, data: dict, text: str) -> None:
        await self._propose(ui, data, parse_rhythm(text))

    async def _propose(self, ui: Ui, data: dict, rhythm: int) -> None:
        services = ui.services
        pair = await services.sunshine.propose(
            ui.user_id, data["child"], data["volunteer"], Support(data["support"]), rhythm
        )
        await self.finish(ui)
        volunteer = await services.people.get(pair.volunteer_id)
        await ui.reply(
            "sunshine.proposed",
            pair=pair.code,
            code=child_code(pair.child_id),
            volunteer=person_name(volunteer, pair.volunteer_id),
        )


class EndPairFlow(Flow):
    name = "se"

    async def start(self, ui: Ui, pair_id: int = 0, **kwargs: object) -> None:
        pair = await ui.services.sunshine.pair(pair_id)
        if not pair.live:
            raise DomainError("sunshine.pair_not_live", pair=pair.code)
        await self.go(ui, "reason", {"pair": pair.id})
        rows = [[self.choice(ui, "reason", reason.value, f"sunshine.end_{reason.value}")] for reason in EndReason]
        await ui.reply("sunshine.ask_end", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]), pair=pair.code)

    async def choice_reason(self, ui: Ui, data: dict, value: str) -> None:
        try:
            reason = EndReason(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        pair = await ui.services.sunshine.end(ui.user_id, data["pair"], reason)
        await self.finish(ui)
        await ui.edit("sunshine.pair_ended", pair=pair.code, reason=ui.t(f"sunshine.end_{reason.value}"))


def parse_pair_code(text: str) -> int:
    match = _PAIR_CODE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise DomainError("sunshine.pair_code_invalid", value=text[:20])
    return int(match.group(1))


async def pair_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    args = context.args or []
    if len(args) != 1:
        raise DomainError("sunshine.pair_usage", example=child_code(1))
    await flow_of(context, PairFlow).start(ui, parse_child_code(args[0]))


async def endpair_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    args = context.args or []
    if len(args) != 1:
        raise DomainError("sunshine.endpair_usage")
    await flow_of(context, EndPairFlow).start(ui, parse_pair_code(args[0]))


async def pairs_command(update: Update, context: BotContext) -> None:
    """The volunteer's own pairs, and the pairs of the organisations the person keeps."""
    ui = Ui(update, context)
    services = ui.services
    pairs = list(await services.sunshine.pairs.live_of_volunteer(ui.user_id))
    orgs = (
        [org.id for org in await services.orgs.visible_to(ui.user_id)]
        if await services.permissions.member_org_ids(ui.user_id)
        else []
    )
    seen = {pair.id for pair in pairs}
    pairs += (
        [pair for pair in await services.sunshine.pairs.of_orgs(orgs) if pair.live and pair.id not in seen]
        if orgs
        else []
    )
    if not pairs:
        await ui.reply("sunshine.pairs_none")
        return
    children = await services.sunshine.children.many([pair.child_id for pair in pairs])
    people = await services.people.many([pair.volunteer_id for pair in pairs])
    lines = [ui.t("sunshine.pairs_title", count=len(pairs))]
    lines += [pair_line(ui.t, pair, children[pair.child_id], people.get(pair.volunteer_id)) for pair in pairs]
    await ui.send_text("\n".join(lines))


async def pair_answer(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = PairAnswer.unpack(ui.callback_data)
    await ui.answer()
    pair = await ui.services.sunshine.answer(ui.user_id, values.pair, bool(values.accept))
    key = "sunshine.you_accepted" if pair.status is PairStatus.ACTIVE else "sunshine.you_declined"
    await ui.edit(key, pair=pair.code, code=child_code(pair.child_id))


async def child_tap(update: Update, context: BotContext) -> None:
    """A card's or a notice's button: the private details, propose a pair (re-pair), leave."""
    ui = Ui(update, context)
    values = ChildTap.unpack(ui.callback_data)
    await ui.answer()
    if values.action == "private":
        await show_private(ui, values.child)
    elif values.action == "pair":
        await flow_of(context, PairFlow).start(ui, values.child)
    elif values.action == "leave":
        await flow_of(context, LeaveFlow).start(ui, values.child)
    else:
        raise DomainError("common.button_expired")
