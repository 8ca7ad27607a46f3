"""Members, roles and handover: /members, /handover, /promote, and the successor's answer.

Every rule (who may manage whom, change a role, appoint, promote, the last admin, who may succeed
whom) lives in bot/domain/membership.py (over bot/domain/permissions.py); these handlers pick,
confirm, call and tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError, PermissionDenied
from bot.model.organisation import Organisation, Person, Role
from handlers.callback_data import CallbackData
from handlers.context import BotContext, MarkupFor, Ui
from handlers.flow import PAGE_SIZE, Flow, choice_id, flow_of, page_number
from handlers.join import decision_markup
from handlers.keyboards import verdict_markup
from handlers.member_removal import RemovalSteps


@dataclass(frozen=True)
class HandoverAnswer(CallbackData, prefix="ha"):
    handover: int
    answer: str


_ANSWERS = {"a": True, "d": False}
# The read-only notice period a handover may keep for the predecessor (never private details).
NOTICE_DAYS = 7
_ROLE_ACTIONS = {"admin": Role.ORG_ADMIN, "cadre": Role.CADRE}


# ---- small renderings ---------------------------------------------------------------------
PENDING_SHOWN = 10


def day(ui: Ui, moment: datetime) -> str:
    """A date as the county reads it: YYYY-MM-DD in the configured time zone."""
    return moment.astimezone(ui.services.config.zone).strftime("%Y-%m-%d")


def at_username(person: Person | None) -> str:
    return f"@{person.username}" if person is not None and person.username else ""


def name_of(person: Person | None, user_id: int) -> str:
    return person.display_name if person is not None else str(user_id)


def role_label(ui: Ui, role: Role) -> str:
    return ui.t(f"members.role_{role.value}")


def _page_slice(items: list, page: int) -> tuple[list, int]:
    """The same page `Flow.paged` shows, so the text above the buttons matches them."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page


# ---- /members -------------------------------------------------------------------------------
class MembersFlow(RemovalSteps, Flow):
    """Pick an organisation, then a member, then what to do; county admins may also appoint."""

    name = "mb"

    async def _orgs(self, ui: Ui, search: str | None = None) -> list[Organisation]:
        """Organisations this person may manage: all for a county admin, else the ones they run."""
        return await ui.services.orgs.managed_by(ui.user_id, search)

    async def start(self, ui: Ui, **kwargs: object) -> None:
        county = await ui.services.membership.may_appoint(ui.user_id)
        orgs = await self._orgs(ui)
        if not orgs:
            await self.finish(ui)
            await ui.reply("members.no_orgs_county" if county else "members.not_admin")
            return
        if len(orgs) == 1 and not county:
            await self._show_list(ui, {"org_id": orgs[0].id, "many": False}, edit=False)
            return
        await self.go(ui, "org", {})
        await ui.reply("members.pick_org", self._org_markup(ui, orgs, 0), hint=self._search_hint(ui, county))

    def _search_hint(self, ui: Ui, county: bool) -> str:
        return ui.t("members.pick_org_search") if county else ""

    def _org_markup(self, ui: Ui, orgs: list[Organisation], page: int) -> InlineKeyboardMarkup:
        return self.paged(ui, "org", [(org.id, org.name) for org in orgs], page)

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        found = await self._orgs(ui, text)
        if not found:
            raise DomainError("members.search_nothing", text=text[:30])
        await self.go(ui, "org", {"search": text[:30]})
        await ui.reply("members.search_results", self._org_markup(ui, found, 0), count=len(found))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            county = await ui.services.membership.may_appoint(ui.user_id)
            orgs = await self._orgs(ui, data.get("search"))
            await ui.edit("members.pick_org", self._org_markup(ui, orgs, page), hint=self._search_hint(ui, county))
            return
        org_id = choice_id(value)
        await ui.services.membership.check_manager(ui.user_id, org_id)
        await self._show_list(ui, {"org_id": org_id, "many": True}, edit=True)

    # ---- the member list ----------------------------------------------------------------
    async def _show_list(self, ui: Ui, data: dict, *, edit: bool, page: int = 0, note: str = "") -> None:
        org_id = data["org_id"]
        try:
            roster = await ui.services.membership.roster(ui.user_id, org_id)
        except PermissionDenied:
            # E.g. they just made themselves a cadre: nothing more to manage here.
            await self.finish(ui)
            text = "\n\n".join(part for part in (note, ui.t("members.no_longer_manager")) if part)
            await (ui.edit_text(text) if edit else ui.send_text(text))
            return
        org = await ui.services.orgs.get_active(org_id)
        county = await ui.services.membership.may_appoint(ui.user_id)
        members = sorted(roster, key=lambda m: (m.role is not Role.ORG_ADMIN, m.started_at, m.id))
        people = await ui.services.people.many([m.user_id for m in members])
        shown, page = _page_slice(members, page)

        lines = [note, ""] if note else []
        lines.append(ui.t("members.list_title", org=org.name, count=len(members)))
        if not members:
            lines.append(ui.t("members.list_empty"))
        for m in shown:
            person = people.get(m.user_id)
            lines.append(
                ui.t(
                    "members.list_line",
                    name=name_of(person, m.user_id),
                    username=at_username(person),
                    role=role_label(ui, m.role),
                    since=day(ui, m.started_at),
                )
            )
        lines.append("")
        if not any(m.role is Role.ORG_ADMIN for m in members):
            lines.append(ui.t("members.no_admin_county" if county else "members.no_admin"))
        lines.append(ui.t("members.list_hint"))

        items = [
            (
                m.user_id,
                ui.t(
                    "members.member_button", name=name_of(people.get(m.user_id), m.user_id), role=role_label(ui, m.role)
                ),
            )
            for m in members
        ]
        extra = []
        pending = await ui.services.membership.pending_requests(ui.user_id, org_id)
        if pending:
            extra.append([self.choice(ui, "member", "pending", "members.button_pending", count=len(pending))])
        if county:
            extra.append([self.choice(ui, "member", "appoint", "members.button_appoint")])
        if data.get("many"):
            extra.append([self.choice(ui, "member", "orgs", "members.button_other_org")])
        await self.go(ui, "member", {"org_id": org_id, "many": bool(data.get("many"))})
        markup = self.paged(ui, "member", items, page, extra)
        text = "\n".join(lines)
        await (ui.edit_text(text, markup) if edit else ui.send_text(text, markup))

    async def choice_member(self, ui: Ui, data: dict, value: str) -> None:
        if value == "pending":
            await self._send_pending(ui, data["org_id"])
            return
        page = page_number(value)
        if page is not None:
            await self._show_list(ui, data, edit=True, page=page)
            return
        if value == "orgs":
            await self.go(ui, "org", {})
            county = await ui.services.membership.may_appoint(ui.user_id)
            await ui.edit(
                "members.pick_org", self._org_markup(ui, await self._orgs(ui), 0), hint=self._search_hint(ui, county)
            )
            return
        if value == "appoint":
            org = await ui.services.membership.check_appointing(ui.user_id, data["org_id"])
            await self.go(ui, "appoint", data)
            await ui.edit("members.appoint_ask", InlineKeyboardMarkup([self.cancel_row(ui)]), org=org.name)
            return
        await self._show_member(ui, data, choice_id(value))

    async def _send_pending(self, ui: Ui, org_id: int) -> None:
        """Each waiting application again, with its Approve/Reject buttons (in case a notice was missed)."""
        org = await ui.services.orgs.get(org_id)
        requests = await ui.services.membership.pending_requests(ui.user_id, org_id)
        people = await ui.services.people.many([r.user_id for r in requests])
        for request in requests[:PENDING_SHOWN]:
            person = people.get(request.user_id)
            await ui.reply(
                "join.approval_request",
                decision_markup(request.id)(ui.t),
                name=name_of(person, request.user_id),
                username=at_username(person),
                org=org.name,
            )
        if len(requests) > PENDING_SHOWN:
            await ui.reply("members.pending_more", count=len(requests) - PENDING_SHOWN)

    async def _show_member(self, ui: Ui, data: dict, user_id: int) -> None:
        membership = await ui.services.membership.managed_member(ui.user_id, data["org_id"], user_id)
        org = await ui.services.orgs.get_active(data["org_id"])
        person = await ui.services.people.get(user_id)
        await self.go(ui, "action", {**data, "user_id": user_id})
        rows = []
        if membership.role is Role.CADRE:
            rows.append([self.choice(ui, "action", "admin", "members.button_make_admin")])
        else:
            rows.append([self.choice(ui, "action", "cadre", "members.button_make_cadre")])
        rows.append([self.choice(ui, "action", "remove", "members.button_remove")])
        rows.append([self.choice(ui, "action", "back", "members.button_back")])
        rows.append(self.cancel_row(ui))
        await ui.edit(
            "members.card",
            InlineKeyboardMarkup(rows),
            name=name_of(person, user_id),
            username=at_username(person),
            org=org.name,
            role=role_label(ui, membership.role),
            since=day(ui, membership.started_at),
        )

    # ---- what to do with one member -----------------------------------------------------
    async def choice_action(self, ui: Ui, data: dict, value: str) -> None:
        org_id, user_id = data["org_id"], data["user_id"]
        if value == "back":
            await self._show_list(ui, data, edit=True)
            return
        if value == "remove":
            # Who takes the member's duties, the last admin: handlers/member_removal.py.
            await self.ask_removal(ui, {key: data[key] for key in ("org_id", "many", "user_id") if key in data})
            return
        if value not in _ROLE_ACTIONS:
            raise DomainError("common.button_expired")
        role = _ROLE_ACTIONS[value]
        await ui.services.membership.set_role(ui.user_id, org_id, user_id, role)
        org = await ui.services.orgs.get(org_id)
        person = await ui.services.people.get(user_id)
        if role is Role.ORG_ADMIN:
            told = await tell_new_admin(ui, user_id, org.name)
        else:
            told = await ui.notify(user_id, "members.you_are_cadre", org=org.name)
        note = ui.t("members.role_changed", name=name_of(person, user_id), role=role_label(ui, role))
        await self._show_list(ui, data, edit=True, note=told_note(ui, note, told))

    # ---- a county admin appoints an admin -----------------------------------------------
    async def text_appoint(self, ui: Ui, data: dict, text: str) -> None:
        found = await ui.services.people.find(text)
        person = await ui.services.membership.check_appointee(ui.user_id, data["org_id"], found.user_id)
        org = await ui.services.orgs.get_active(data["org_id"])
        await self.go(ui, "appoint_confirm", {**data, "user_id": person.user_id})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "appoint_confirm", "yes", "members.button_confirm_appoint")], self.cancel_row(ui)]
        )
        await ui.reply(
            "members.appoint_confirm", markup, name=person.display_name, username=at_username(person), org=org.name
        )

    async def choice_appoint_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        org_id, user_id = data["org_id"], data["user_id"]
        await ui.services.membership.appoint_admin(ui.user_id, org_id, user_id)
        org = await ui.services.orgs.get(org_id)
        person = await ui.services.people.get(user_id)
        told = await tell_new_admin(ui, user_id, org.name)
        note = ui.t("members.appointed", name=name_of(person, user_id), org=org.name)
        await self._show_list(ui, data, edit=True, note=told_note(ui, note, told))


def told_note(ui: Ui, note: str, told: bool) -> str:
    """An outcome, and whether the person it concerns could be told privately."""
    return f"{note}{ui.t('members.told' if told else 'members.not_told')}"


async def tell_new_admin(ui: Ui, user_id: int, org_name: str) -> bool:
    """The new admin learns the news, then in a few lines what an organisation admin does."""
    if not await ui.notify(user_id, "members.you_are_admin", org=org_name):
        return False
    await ui.notify(user_id, "members.admin_guide")
    return True


async def members_command(update: Update, context: BotContext) -> None:
    await flow_of(context, MembersFlow).start(Ui(update, context))


# ---- /handover ------------------------------------------------------------------------------
class HandoverFlow(Flow):
    """An organisation admin names a successor; the successor accepts with a button."""

    name = "ho"

    async def _managed(self, ui: Ui) -> list[Organisation]:
        return await ui.services.membership.handover_orgs(ui.user_id)

    async def start(self, ui: Ui, **kwargs: object) -> None:
        orgs = await self._managed(ui)
        if not orgs:
            await self.finish(ui)
            county = await ui.services.membership.may_appoint(ui.user_id)
            await ui.reply("handover.only_admins_county" if county else "handover.only_admins")
            return
        if len(orgs) == 1:
            await self._ask_successor(ui, orgs[0].id, edit=False)
            return
        await self.go(ui, "org", {})
        await ui.reply("handover.pick_org", self.paged(ui, "org", [(org.id, org.name) for org in orgs], 0))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            orgs = await self._managed(ui)
            await ui.edit("handover.pick_org", self.paged(ui, "org", [(org.id, org.name) for org in orgs], page))
            return
        org_id = choice_id(value)
        await ui.services.membership.check_handover_org(ui.user_id, org_id)
        await self._ask_successor(ui, org_id, edit=True)

    async def _candidates(self, ui: Ui, org_id: int) -> list[tuple[int, str]]:
        members = [
            m
            for m in await ui.services.membership.members(org_id)
            if m.user_id != ui.user_id and m.role is not Role.ORG_ADMIN
        ]
        people = await ui.services.people.many([m.user_id for m in members])
        return [
            (
                m.user_id,
                ui.t(
                    "handover.candidate_button",
                    name=name_of(people.get(m.user_id), m.user_id),
                    username=at_username(people.get(m.user_id)),
                ),
            )
            for m in members
        ]

    async def _ask_successor(self, ui: Ui, org_id: int, *, edit: bool, page: int = 0) -> None:
        org = await ui.services.orgs.get_active(org_id)
        candidates = await self._candidates(ui, org_id)
        await self.go(ui, "successor", {"org_id": org_id})
        key = "handover.ask_successor" if candidates else "handover.ask_successor_no_members"
        markup = self.paged(ui, "successor", candidates, page)
        if edit:
            await ui.edit(key, markup, org=org.name)
        else:
            await ui.reply(key, markup, org=org.name)

    async def choice_successor(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await self._ask_successor(ui, data["org_id"], edit=True, page=page)
            return
        await self._confirm(ui, data, choice_id(value), edit=True)

    async def text_successor(self, ui: Ui, data: dict, text: str) -> None:
        person = await ui.services.people.find(text)
        await self._confirm(ui, data, person.user_id, edit=False)

    async def _confirm(self, ui: Ui, data: dict, successor_id: int, *, edit: bool) -> None:
        successor = await ui.services.membership.check_successor(ui.user_id, data["org_id"], successor_id)
        org = await ui.services.orgs.get_active(data["org_id"])
        await self.go(ui, "confirm", {"org_id": org.id, "successor_id": successor_id})
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "confirm", "yes", "handover.button_confirm")],
                [self.choice(ui, "confirm", "notice", "turnover.button_confirm_notice", days=NOTICE_DAYS)],
                self.cancel_row(ui),
            ]
        )
        text = ui.t("handover.confirm", name=successor.display_name, username=at_username(successor), org=org.name)
        if await ui.services.membership.current(org.id, successor_id) is None:
            text = f"{text}\n\n{ui.t('turnover.not_member_successor', name=successor.display_name)}"
        if edit:
            await ui.edit_text(text, markup)
        else:
            await ui.send_text(text, markup)

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value not in ("yes", "notice"):
            raise DomainError("common.button_expired")
        # The request goes to the successor through the outbox (handlers/handover_notes.py);
        # should they have blocked the bot, the predecessor is told so there.
        handover = await ui.services.membership.start_handover(
            ui.user_id, data["org_id"], data["successor_id"], notice_days=NOTICE_DAYS if value == "notice" else 0
        )
        await self.finish(ui)
        org = await ui.services.orgs.get(handover.org_id)
        successor = await ui.services.people.get(handover.to_user_id)
        await ui.edit("handover.waiting", name=name_of(successor, handover.to_user_id), org=org.name)


def answer_markup(handover_id: int) -> MarkupFor:
    """Accept / Decline, labelled in the successor's language."""
    return verdict_markup(
        lambda answer: HandoverAnswer(handover=handover_id, answer=answer),
        (("a", "handover.button_accept"), ("d", "handover.button_decline")),
    )


async def handover_command(update: Update, context: BotContext) -> None:
    await flow_of(context, HandoverFlow).start(Ui(update, context))


async def handover_answer(update: Update, context: BotContext) -> None:
    """The successor's Accept/Decline; the service re-checks who taps and that it is still pending."""
    ui = Ui(update, context)
    values = HandoverAnswer.unpack(ui.callback_data)
    if values.answer not in _ANSWERS:
        await ui.answer("common.button_expired", alert=True)
        return
    accept = _ANSWERS[values.answer]
    try:
        handover = await ui.services.membership.answer_handover(ui.user_id, values.handover, accept)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        if error.key in ("handover.stale", "handover.already_answered"):
            # The successor's own request, no longer answerable: take the buttons away.
            await ui.edit(error.key, **error.params)
        return
    await ui.answer()
    org = await ui.services.orgs.get(handover.org_id)
    predecessor = await ui.services.people.get(handover.from_user_id)
    # The predecessor is told through the outbox (queued with the answer: handlers/handover_notes.py).
    if accept:
        await ui.edit("handover.accepted_you", org=org.name, name=name_of(predecessor, handover.from_user_id))
        await ui.reply("members.admin_guide")
    else:
        await ui.edit("handover.declined_you", org=org.name, name=name_of(predecessor, handover.from_user_id))


# ---- /promote -------------------------------------------------------------------------------
async def promote_command(update: Update, context: BotContext) -> None:
    """/promote @username or /promote 123456789: a county admin makes another county admin."""
    ui = Ui(update, context)
    await ui.services.membership.check_promoter(ui.user_id)
    if not context.args:
        await ui.reply("promote.usage")
        return
    person = await ui.services.people.find(" ".join(context.args))
    await ui.services.membership.promote_county_admin(ui.user_id, person.user_id)
    told = await ui.notify(person.user_id, "promote.you_were_promoted")
    await ui.reply(
        "promote.done" if told else "promote.done_not_told", name=person.display_name, username=at_username(person)
    )
