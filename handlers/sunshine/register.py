"""/newchild, /children, /child C0001 (card, private details, leaving), /childwish, /sessionkids.

/newchild: organisation (when more than one) → alias → grade → needs → guardian's consent →
(with consent only: real name → guardian → phone → address, each skippable) → check → save.
Without consent no private detail is ever asked for.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.sunshine.rules import (
    clean_alias,
    clean_grade,
    clean_private,
    parse_child_code,
    parse_needs,
)
from bot.domain.wishes.rules import parse_code
from bot.model.sunshine import Child, ChildDraft, ChildPrivate, LeaveReason, child_code
from handlers.context import BotContext, Ui
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.sunshine.buttons import ChildTap
from handlers.sunshine.labels import needs_text, pair_line

_PRIVATE_STEPS = ("real_name", "guardian", "phone", "address")
LIST_LIMIT = 60


def _code_arg(context: BotContext, key: str) -> int:
    args = context.args or []
    if len(args) != 1:
        raise DomainError(key, example=child_code(1))
    return parse_child_code(args[0])


class NewChildFlow(Flow):
    name = "sc"

    def _skip(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "sunshine.button_skip")], self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        orgs = await ui.services.sunshine.register_orgs(ui.user_id)
        if not orgs:
            await ui.reply("sunshine.not_cadre_anywhere")
            return
        if len(orgs) == 1:
            await self._ask_alias(ui, {"org": orgs[0].id})
            return
        await self.go(ui, "org", {})
        await ui.reply("sunshine.ask_org", self.paged(ui, "org", [(org.id, org.name) for org in orgs], 0))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        orgs = await ui.services.sunshine.register_orgs(ui.user_id)
        if page is not None:
            await ui.edit("sunshine.ask_org", self.paged(ui, "org", [(org.id, org.name) for org in orgs], page))
            return
        org_id = choice_id(value)
        if org_id not in {org.id for org in orgs}:
            raise DomainError("common.button_expired")
        await self._ask_alias(ui, {"org": org_id})

    async def _ask_alias(self, ui: Ui, data: dict) -> None:
        org = await ui.services.orgs.get(data["org"])
        await self.go(ui, "alias", data)
        await ui.reply("sunshine.ask_alias", InlineKeyboardMarkup([self.cancel_row(ui)]), org=org.name)

    async def text_alias(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "grade", {**data, "alias": clean_alias(text)})
        await ui.reply("sunshine.ask_grade", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_grade(self, ui: Ui, data: dict, text: str) -> None:
        await self.go(ui, "needs", {**data, "grade": clean_grade(text)})
        await ui.reply("sunshine.ask_needs", self._skip(ui, "needs"))

    async def text_needs(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_consent(ui, {**data, "needs": list(parse_needs(text))})

    async def choice_needs(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_consent(ui, {**data, "needs": []})

    async def _ask_consent(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "consent", data)
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "consent", "yes", "sunshine.button_consent_yes")],
                [self.choice(ui, "consent", "no", "sunshine.button_consent_no")],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("sunshine.ask_consent", markup)

    async def choice_consent(self, ui: Ui, data: dict, value: str) -> None:
        if value == "no":
            await self._confirm(ui, {**data, "consent": False})
        elif value == "yes":
            await self._ask_private(ui, {**data, "consent": True}, 0)
        else:
            raise DomainError("common.button_expired")

    async def _ask_private(self, ui: Ui, data: dict, index: int) -> None:
        if index >= len(_PRIVATE_STEPS):
            await self._confirm(ui, data)
            return
        step = _PRIVATE_STEPS[index]
        await self.go(ui, step, data)
        await ui.reply(f"sunshine.ask_{step}", self._skip(ui, step))

    async def _private_answer(self, ui: Ui, data: dict, step: str, value: str | None) -> None:
        private = {**data.get("private", {}), step: value}
        draft = _private_of(private)
        clean_private(draft, data["alias"])  # each answer checked at its own step
        await self._ask_private(ui, {**data, "private": private}, _PRIVATE_STEPS.index(step) + 1)

    async def text_real_name(self, ui: Ui, data: dict, text: str) -> None:
        await self._private_answer(ui, data, "real_name", text)

    async def text_guardian(self, ui: Ui, data: dict, text: str) -> None:
        await self._private_answer(ui, data, "guardian", text)

    async def text_phone(self, ui: Ui, data: dict, text: str) -> None:
        await self._private_answer(ui, data, "phone", text)

    async def text_address(self, ui: Ui, data: dict, text: str) -> None:
        await self._private_answer(ui, data, "address", text)

    async def choice_real_name(self, ui: Ui, data: dict, value: str) -> None:
        await self._private_answer(ui, data, "real_name", None)

    async def choice_guardian(self, ui: Ui, data: dict, value: str) -> None:
        await self._private_answer(ui, data, "guardian", None)

    async def choice_phone(self, ui: Ui, data: dict, value: str) -> None:
        await self._private_answer(ui, data, "phone", None)

    async def choice_address(self, ui: Ui, data: dict, value: str) -> None:
        await self._private_answer(ui, data, "address", None)

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        org = await ui.services.orgs.get(data["org"])
        private = _private_of(data.get("private", {}))
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "save", "sunshine.button_save")], self.cancel_row(ui)]
        )
        await ui.reply(
            "sunshine.confirm_child",
            markup,
            org=org.name,
            label=f"{data['alias']} · {data['grade']}",
            needs=ui.t("sunshine.list_separator").join(data["needs"]) or ui.t("sunshine.none"),
            consent=ui.t("sunshine.consent_yes" if data["consent"] else "sunshine.consent_no"),
            private=len(private.filled_fields()),
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "save":
            raise DomainError("common.button_expired")
        private = _private_of(data.get("private", {})) if data["consent"] else None
        draft = ChildDraft(data["org"], data["alias"], data["grade"], tuple(data["needs"]), data["consent"], private)
        child = await ui.services.sunshine.add(ui.user_id, draft)
        await self.finish(ui)
        await ui.edit("sunshine.child_saved", code=child.code, label=child.public_label)


def _private_of(values: dict) -> ChildPrivate:
    return ChildPrivate(
        real_name=values.get("real_name"),
        guardian=values.get("guardian"),
        guardian_phone=values.get("phone"),
        address=values.get("address"),
    )


class LeaveFlow(Flow):
    """A child leaves the programme, with a reason (counted)."""

    name = "sl"

    async def start(self, ui: Ui, child_id: int = 0, **kwargs: object) -> None:
        child = await ui.services.sunshine.visible_child(ui.user_id, child_id)
        await ui.services.sunshine.require_cadre(ui.user_id, child.org_id)
        await self.go(ui, "reason", {"child": child.id})
        rows = [[self.choice(ui, "reason", reason.value, f"sunshine.leave_{reason.value}")] for reason in LeaveReason]
        await ui.reply(
            "sunshine.ask_leave",
            InlineKeyboardMarkup([*rows, self.cancel_row(ui)]),
            code=child.code,
            label=child.public_label,
        )

    async def choice_reason(self, ui: Ui, data: dict, value: str) -> None:
        try:
            reason = LeaveReason(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        ended = await ui.services.sunshine.leave(ui.user_id, data["child"], reason)
        await self.finish(ui)
        await ui.edit(
            "sunshine.child_left_done",
            code=child_code(data["child"]),
            reason=ui.t(f"sunshine.leave_{reason.value}"),
            pairs=len(ended),
        )


async def newchild_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewChildFlow).start(Ui(update, context))


async def children_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    children = await ui.services.sunshine.children_of(ui.user_id)
    if not children:
        await ui.reply("sunshine.children_none")
        return
    lines = [ui.t("sunshine.children_title", count=len(children))]
    lines += [
        ui.t("sunshine.children_line", code=child.code, label=child.public_label, needs=needs_text(ui.t, child))
        for child in children[:LIST_LIMIT]
    ]
    if len(children) > LIST_LIMIT:
        lines.append(ui.t("sunshine.children_more", count=len(children) - LIST_LIMIT))
    await ui.send_text("\n".join(lines))


async def child_card_text(ui: Ui, child: Child) -> str:
    services = ui.services
    org = await services.orgs.get(child.org_id)
    pairs = await services.sunshine.live_pairs_of_child(child.id)
    people = await services.people.many([pair.volunteer_id for pair in pairs])
    wishes = [f"W{wish_id:04d}" for wish_id in await services.sunshine.wish_ids_of(child.id)]
    lines = [
        ui.t(
            "sunshine.card",
            code=child.code,
            label=child.public_label,
            org=org.name,
            needs=needs_text(ui.t, child),
            consent=ui.t("sunshine.consent_yes" if child.consent else "sunshine.consent_no"),
            status=ui.t(f"sunshine.child_status_{child.status.value}"),
            wishes=ui.t("sunshine.list_separator").join(wishes) or ui.t("sunshine.none"),
        )
    ]
    lines += [pair_line(ui.t, pair, child, people.get(pair.volunteer_id)) for pair in pairs]
    return "\n".join(lines)


async def child_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    await send_child(ui, _code_arg(context, "sunshine.child_usage"))


async def send_child(ui: Ui, child_id: int) -> None:
    """The child's card with what the person may do (also the turnover message's button)."""
    child = await ui.services.sunshine.visible_child(ui.user_id, child_id)
    rows = []
    if await ui.services.sunshine.may_see_private(ui.user_id, child) and child.consent:
        rows.append(
            [InlineKeyboardButton(ui.t("sunshine.button_private"), callback_data=ChildTap(child.id, "private").pack())]
        )
    if child.active and await ui.services.sunshine.is_cadre_of(ui.user_id, child.org_id):
        rows.append(
            [
                InlineKeyboardButton(ui.t("sunshine.button_pair"), callback_data=ChildTap(child.id, "pair").pack()),
                InlineKeyboardButton(ui.t("sunshine.button_leave"), callback_data=ChildTap(child.id, "leave").pack()),
            ]
        )
    await ui.send_text(await child_card_text(ui, child), InlineKeyboardMarkup(rows) if rows else None)


async def show_private(ui: Ui, child_id: int) -> None:
    """The details, in this private chat only (the button works nowhere else), audited."""
    details = await ui.services.sunshine.private_details(ui.user_id, child_id)
    if details is None:
        await ui.reply("sunshine.private_none", code=child_code(child_id))
        return
    none = ui.t("sunshine.none")
    await ui.reply(
        "sunshine.private",
        code=child_code(child_id),
        real_name=details.real_name or none,
        birth_date=details.birth_date.isoformat() if details.birth_date else none,
        guardian=details.guardian or none,
        phone=details.guardian_phone or none,
        address=details.address or none,
        notes=details.notes or none,
    )


async def childwish_command(update: Update, context: BotContext) -> None:
    """/childwish W0012 C0001: the wish names its child."""
    ui = Ui(update, context)
    args = context.args or []
    wish_id = parse_code(args[0]) if len(args) == 2 else None
    if wish_id is None:
        raise DomainError("sunshine.childwish_usage", example=child_code(1))
    wish = await ui.services.wishes.get(wish_id)
    child = await ui.services.sunshine.name_wish_child(
        ui.user_id, wish.collector_org_id, wish.id, parse_child_code(args[1])
    )
    await ui.reply("sunshine.childwish_done", wish=wish.code, code=child.code, label=child.public_label)


async def sessionkids_command(update: Update, context: BotContext) -> None:
    """/sessionkids A0003 C0001 C0002: children who attended a Sunshine Home group session."""
    ui = Ui(update, context)
    args = context.args or []
    if len(args) < 2:
        raise DomainError("sunshine.session_usage", example=child_code(1))
    activity = await ui.services.activities.by_code(args[0])
    child_ids = list(dict.fromkeys(parse_child_code(arg) for arg in args[1:]))
    added = await ui.services.sunshine.record_session(ui.user_id, activity.id, activity.org_id, child_ids)
    await ui.reply("sunshine.session_done", activity=activity.code, count=added, total=len(child_ids))
