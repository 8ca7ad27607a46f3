"""The built-in duty kinds, registered with bot/domain/turnover.DutyRegistry (see its contract):
wish claims with their deadline reminders, reminders into the organisation's group, activities
organised, auction sessions created, pending join requests."""

from __future__ import annotations

from bot.domain.clock import Clock
from bot.domain.permissions import Permissions
from bot.domain.turnover import Duty, DutyKind, DutyRegistry
from bot.domain.wishes import WishService
from bot.model.organisation import Role
from storage.chats import ChatRepository
from storage.duties import DutyRepository

CLAIM = "claim"
REMINDER = "reminder"
ACTIVITY = "activity"
SESSION = "session"
JOIN_REQUEST = "join_request"


def register_builtin_duties(
    registry: DutyRegistry,
    duties: DutyRepository,
    chats: ChatRepository,
    permissions: Permissions,
    wishes: WishService,
    clock: Clock,
) -> None:
    async def claims(user_id: int, org_id: int) -> list[Duty]:
        return await duties.claims(user_id, org_id)

    async def move_claims(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await duties.move_claims(held, user_id, receiver_id, clock.now())

    async def reminders(user_id: int, org_id: int) -> list[Duty]:
        # The hub's and all groups' reminders are the county's: they move only when their
        # creator is no county admin any more (demoted), with their next departure.
        group = await chats.of_org(org_id)
        county = not await permissions.is_county_admin(user_id)
        return await duties.group_reminders(user_id, group.id if group is not None else None, county=county)

    async def move_reminders(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await duties.move_reminders(held, user_id, receiver_id)

    async def activities(user_id: int, org_id: int) -> list[Duty]:
        return await duties.activities(user_id, org_id, clock.now())

    async def move_activities(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await duties.move_activities(held, user_id, receiver_id)

    async def sessions(user_id: int, org_id: int) -> list[Duty]:
        # Sessions are created by county admins; one who is no longer hands them on.
        if await permissions.is_county_admin(user_id):
            return []
        return await duties.sessions(user_id)

    async def move_sessions(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await duties.move_sessions(held, user_id, receiver_id)

    async def join_requests(user_id: int, org_id: int) -> list[Duty]:
        # An admin is one of those asked to decide the organisation's pending applications.
        if await permissions.role_in(user_id, org_id) is not Role.ORG_ADMIN:
            return []
        return await duties.pending_joins(org_id)

    async def keep_join_requests(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        """Applications belong to the organisation, not to an admin: nothing to rewrite. The
        receiver decides them from the list in their message (its buttons re-check the role)."""

    registry.register(DutyKind(CLAIM, claims, move_claims, after=wishes.claims_moved))
    registry.register(DutyKind(ACTIVITY, activities, move_activities))
    registry.register(DutyKind(REMINDER, reminders, move_reminders))
    registry.register(DutyKind(SESSION, sessions, move_sessions))
    registry.register(DutyKind(JOIN_REQUEST, join_requests, keep_join_requests))
