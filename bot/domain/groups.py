"""Group chats: the bot joining and leaving, binding a group to the hub or an organisation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.activities import ActivityService
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.model.organisation import Binding, ChatRecord, Organisation
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database, written

PRESENT_STATUSES = frozenset({"member", "administrator", "creator", "restricted"})


@dataclass(frozen=True)
class BotMembershipChange:
    chat: ChatRecord
    lost_bound_group: bool  # the bot was removed from a group that was bound: county admins are told


class GroupService:
    def __init__(
        self,
        db: Database,
        chats: ChatRepository,
        orgs: OrganisationService,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        activities: ActivityService,
    ) -> None:
        self.db = db
        self.chats = chats
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.activities = activities

    async def get(self, chat_id: int) -> ChatRecord | None:
        return await self.chats.get(chat_id)

    async def hub(self) -> ChatRecord | None:
        return await self.chats.hub()

    async def of_org(self, org_id: int) -> ChatRecord | None:
        return await self.chats.of_org(org_id)

    async def bound_groups(self) -> list[ChatRecord]:
        return await self.chats.bound()

    # ---- who may bind: the handlers ask here before they offer anything ------------------------
    async def check_may_bind(self, actor_id: int, is_chat_admin: Callable[[], Awaitable[bool]]) -> None:
        """/bind in a group: refused unless `may_bind_some_group`."""
        if not await self.may_bind_some_group(actor_id, is_chat_admin=is_chat_admin):
            raise PermissionDenied("groups.bind_who")

    async def may_bind_hub(self, actor_id: int) -> bool:
        return await self.permissions.is_county_admin(actor_id)

    async def check_may_bind_hub(self, actor_id: int) -> None:
        await self.permissions.require_county_admin(actor_id)

    async def bindable_orgs(self, actor_id: int, search: str | None = None) -> list[Organisation]:
        """The organisations whose group this person may bind (checked again when binding)."""
        return await self.orgs.managed_by(actor_id, search)

    async def overview(self, actor_id: int) -> list[ChatRecord]:
        """/groups: every bound group and whether the bot is still in it; county admins only."""
        await self.permissions.require_county_admin(actor_id)
        return await self.bound_groups()

    async def told_when_removed(self) -> list[int]:
        """Who hears that the bot was removed from a bound group: the county admins."""
        return await self.permissions.county_admin_ids()

    async def seen(self, chat_id: int, title: str, chat_type: str) -> ChatRecord:
        """Any group message: make sure the chat is known (the bot may predate the records)."""
        chat = await self.chats.get(chat_id)
        if chat is not None and chat.title == title and chat.active:
            return chat
        return await self.chats.upsert(chat_id, title, chat_type, True, self.clock.now())

    async def bot_status_changed(
        self, chat_id: int, title: str, chat_type: str, status: str, actor_id: int | None
    ) -> BotMembershipChange:
        present = status in PRESENT_STATUSES
        async with self.db.transaction():
            before = await self.chats.get(chat_id)
            chat = await self.chats.upsert(chat_id, title, chat_type, present, self.clock.now())
            await self.audit.record(self.clock.now(), actor_id, f"chat.bot_{status}", f"chat:{chat_id}")
        lost = (not present) and before is not None and before.active and before.binding is not None
        return BotMembershipChange(chat=chat, lost_bound_group=lost)

    async def migrated(self, old_chat_id: int, new_chat_id: int) -> ChatRecord | None:
        async with self.db.transaction():
            moved = await self.chats.migrate(old_chat_id, new_chat_id, self.clock.now())
            if moved:
                await self.audit.record(self.clock.now(), None, "chat.migrate", f"chat:{new_chat_id}", old=old_chat_id)
        return await self.chats.get(new_chat_id)

    async def _usable_group(self, chat_id: int) -> ChatRecord:
        chat = await self.chats.get(chat_id)
        if chat is None or chat.type not in ("group", "supergroup"):
            raise DomainError("groups.unknown_group")
        if not chat.active:
            raise DomainError("groups.bot_not_in_group", title=chat.title)
        return chat

    async def bind_hub(self, actor_id: int, chat_id: int) -> ChatRecord:
        await self.check_may_bind_hub(actor_id)
        async with self.db.transaction():
            chat = await self._usable_group(chat_id)
            previous = await self.chats.hub()
            if previous is not None and previous.chat_id != chat_id:
                await self.chats.unbind(previous.chat_id, self.clock.now())
            await self.chats.unbind(chat_id, self.clock.now())
            await self.chats.bind(chat_id, Binding.HUB, None, actor_id, self.clock.now())
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "chat.bind_hub",
                f"chat:{chat_id}",
                previous=previous.chat_id if previous else None,
            )
            if chat.org_id is not None:  # it was an organisation's group: that one has none now
                await self.activities.follow_group(chat.org_id)
        return written(await self.chats.get(chat.chat_id), f"chat {chat.chat_id}")

    async def may_bind_some_group(self, actor_id: int, *, is_chat_admin: Callable[[], Awaitable[bool]]) -> bool:
        """Whether the person may bind this group to anything: a county admin, or the group's
        Telegram admin who runs an organisation (`can_bind_org_group` for one of them). Checked
        before the binding conversation shows the group's title. `is_chat_admin` asks Telegram,
        so it is called only when the answer matters."""
        if await self.permissions.is_county_admin(actor_id):
            return True
        managed = await self.permissions.managed_org_ids(actor_id)
        if not managed or not await is_chat_admin():
            return False
        for org_id in managed:
            if await self.permissions.can_bind_org_group(actor_id, org_id, is_chat_admin=True):
                return True
        return False

    async def bind_org(self, actor_id: int, chat_id: int, org_id: int, *, is_chat_admin: bool) -> ChatRecord:
        """Bind a group to an organisation; the org's previous group, if any, is released."""
        async with self.db.transaction():
            org: Organisation = await self.orgs.get_active(org_id)
            if not await self.permissions.can_bind_org_group(actor_id, org_id, is_chat_admin=is_chat_admin):
                raise PermissionDenied("groups.bind_denied", org=org.name)
            chat = await self._usable_group(chat_id)
            previous = await self.chats.of_org(org_id)
            if previous is not None and previous.chat_id != chat_id:
                await self.chats.unbind(previous.chat_id, self.clock.now())
            await self.chats.unbind(chat_id, self.clock.now())
            await self.chats.bind(chat_id, Binding.ORG, org_id, actor_id, self.clock.now())
            await self.audit.record(self.clock.now(), actor_id, "chat.bind_org", f"chat:{chat_id}", org=org_id)
            # Reminders already set went to the previous group, or nowhere: they follow the binding,
            # as do those of the organisation this group was bound to until now.
            await self.activities.follow_group(org_id)
            if chat.org_id is not None and chat.org_id != org_id:
                await self.activities.follow_group(chat.org_id)
        return written(await self.chats.get(chat.chat_id), f"chat {chat.chat_id}")

    async def unbind(self, actor_id: int, chat_id: int, *, is_chat_admin: bool) -> ChatRecord:
        async with self.db.transaction():
            chat = await self.chats.get(chat_id)
            if chat is None or chat.binding is None:
                raise DomainError("groups.not_bound")
            if not await self.permissions.can_unbind(actor_id, chat.org_id, is_chat_admin=is_chat_admin):
                raise PermissionDenied("groups.unbind_denied")
            await self.chats.unbind(chat_id, self.clock.now())
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "chat.unbind",
                f"chat:{chat_id}",
                binding=chat.binding.value,
                org=chat.org_id,
            )
            if chat.org_id is not None:
                await self.activities.follow_group(chat.org_id)
        return chat
