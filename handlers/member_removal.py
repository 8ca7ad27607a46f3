"""/members → a member → 🚪 remove: the confirmation says whose hands the member's duties go to
(the organisation's admins by default), offers to pick another member, and lets a county admin
remove an organisation's last admin (taking its work). The rules are bot/domain/membership.py's
and bot/domain/turnover.py's; these steps show, pick and confirm."""

from __future__ import annotations

from abc import abstractmethod

from telegram import InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.model.organisation import Role
from handlers.context import Ui
from handlers.flow import Flow, choice_id, page_number


class RemovalSteps(Flow):
    """Mixed into handlers/members.MembersFlow (steps "remove" and "receiver")."""

    # The member's card and the member list are MembersFlow's own pages; these steps go back to them.
    @abstractmethod
    async def _show_member(self, ui: Ui, data: dict, user_id: int) -> None: ...

    @abstractmethod
    async def _show_list(self, ui: Ui, data: dict, *, edit: bool, page: int = 0, note: str = "") -> None: ...

    async def ask_removal(self, ui: Ui, data: dict) -> None:
        org_id, user_id = data["org_id"], data["user_id"]
        org = await ui.services.membership.check_manager(ui.user_id, org_id)
        preview = await ui.services.membership.removal_preview(ui.user_id, org_id, user_id, data.get("receiver_id"))
        person = await ui.services.people.get(user_id)
        name = person.display_name if person is not None else str(user_id)
        await self.go(ui, "remove", data)
        lines = [ui.t("members.remove_confirm", name=name, org=org.name)]
        rows = []
        last = preview.last_admin and preview.county
        if last:
            lines.append(ui.t("turnover.remove_confirm_last_admin", name=name))
        if preview.duties and preview.receiver_id is not None and (not last or data.get("receiver_id")):
            receiver = await ui.services.people.get(preview.receiver_id)
            lines.append(
                ui.t(
                    "turnover.remove_confirm_receiver",
                    name=name,
                    count=preview.duties,
                    receiver=receiver.display_name if receiver is not None else str(preview.receiver_id),
                )
            )
        if last:
            rows.append([self.choice(ui, "remove", "last", "turnover.button_confirm_last_admin")])
        else:
            rows.append([self.choice(ui, "remove", "yes", "members.button_confirm_remove")])
        if preview.duties:
            rows.append([self.choice(ui, "remove", "pick", "turnover.button_pick_receiver")])
        rows.append([self.choice(ui, "remove", "no", "members.button_back")])
        await ui.edit_text("\n\n".join(lines), InlineKeyboardMarkup(rows))

    async def choice_remove(self, ui: Ui, data: dict, value: str) -> None:
        org_id, user_id = data["org_id"], data["user_id"]
        if value == "no":
            await self._show_member(ui, data, user_id)
            return
        if value == "pick":
            await self._ask_receiver(ui, data, 0)
            return
        if value not in ("yes", "last"):
            raise DomainError("common.button_expired")
        departure = await ui.services.membership.remove_member(
            ui.user_id, org_id, user_id, receiver_id=data.get("receiver_id"), county_confirmed=value == "last"
        )
        org = await ui.services.orgs.get(org_id)
        person = await ui.services.people.get(user_id)
        told = await ui.notify(user_id, "members.you_were_removed", org=org.name)
        note = ui.t("members.removed", name=person.display_name if person is not None else str(user_id))
        note = f"{note}{ui.t('members.told' if told else 'members.not_told')}"
        receiver_id = departure.record.receiver_id
        if departure.count and receiver_id is not None:
            receiver = await ui.services.people.get(receiver_id)
            name = receiver.display_name if receiver is not None else str(receiver_id)
            note = f"{note}\n{ui.t('turnover.moved_note', count=departure.count, receiver=name)}"
        if value == "last":
            await self.finish(ui)
            await ui.edit_text(note)
            return
        await self._show_list(ui, {"org_id": org_id, "many": data.get("many")}, edit=True, note=note)

    async def _ask_receiver(self, ui: Ui, data: dict, page: int) -> None:
        org_id, user_id = data["org_id"], data["user_id"]
        members = [m for m in await ui.services.membership.roster(ui.user_id, org_id) if m.user_id != user_id]
        members.sort(key=lambda m: (m.role is not Role.ORG_ADMIN, m.started_at, m.id))
        people = await ui.services.people.many([m.user_id for m in members])
        items = [
            (m.user_id, people[m.user_id].display_name if m.user_id in people else str(m.user_id)) for m in members
        ]
        person = await ui.services.people.get(user_id)
        await self.go(ui, "receiver", data)
        await ui.edit(
            "turnover.pick_receiver",
            self.paged(ui, "receiver", items, page, [self.cancel_row(ui)]),
            name=person.display_name if person is not None else str(user_id),
        )

    async def choice_receiver(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await self._ask_receiver(ui, data, page)
            return
        await self.ask_removal(ui, {**data, "receiver_id": choice_id(value)})
