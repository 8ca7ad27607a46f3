"""The domain services of one running bot, opened and closed with the application."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.groups import GroupService
from bot.membership import MembershipService
from bot.orgs import OrganisationService
from bot.people import PeopleService
from bot.permissions import Permissions
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.conversations import ConversationRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.organisations import OrganisationRepository
from storage.people import PeopleRepository


@dataclass
class Services:
    config: Config
    clock: Clock
    db: Database
    permissions: Permissions
    people: PeopleService
    orgs: OrganisationService
    membership: MembershipService
    groups: GroupService
    conversations: ConversationRepository

    @classmethod
    def build(cls, config: Config, db: Database, clock: Clock) -> "Services":
        people_repo = PeopleRepository(db)
        membership_repo = MembershipRepository(db)
        audit = AuditRepository(db)
        permissions = Permissions(config.county_admins, people_repo, membership_repo)
        orgs = OrganisationService(db, OrganisationRepository(db), audit, permissions, clock)
        return cls(
            config=config,
            clock=clock,
            db=db,
            permissions=permissions,
            people=PeopleService(people_repo, clock, config.language),
            orgs=orgs,
            membership=MembershipService(db, membership_repo, people_repo, orgs, audit, permissions, clock),
            groups=GroupService(db, ChatRepository(db), orgs, audit, permissions, clock),
            conversations=ConversationRepository(db),
        )

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
