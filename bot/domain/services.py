"""The domain services of one running bot, opened and closed with the application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.activities import ActivityService
from bot.domain.attendance import AttendanceService
from bot.domain.auction import AuctionService
from bot.domain.catch_up import SummaryCatchUp
from bot.domain.clock import Clock
from bot.domain.config import Config, parse_clock
from bot.domain.conversations import ConversationService
from bot.domain.deeds import BEHIND_SUBJECT, DeedService, PaceReminders
from bot.domain.digest import (
    ActivitySource,
    AuctionSource,
    ReminderSource,
    WeeklyDigest,
    WishDeadlineSource,
)
from bot.domain.formatting import RenderText
from bot.domain.groups import GroupService
from bot.domain.inbox import Inbox
from bot.domain.membership import MembershipService
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.people import PeopleService
from bot.domain.permissions import Permissions
from bot.domain.reminders import QuietHours, ReminderService
from bot.domain.stars import StarsService, keep_monthly_ranking
from bot.domain.stats import StatsService
from bot.domain.wishes import WishService
from storage.activities import ActivityRepository
from storage.auction import AuctionRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.conversations import ConversationRepository
from storage.db import Database
from storage.inbox import InboxRepository
from storage.memberships import MembershipRepository
from storage.organisations import OrganisationRepository
from storage.outbox import OutboxRepository
from storage.people import PeopleRepository
from storage.reminders import ReminderRepository
from storage.reports import DeedRepository, ReportRepository
from storage.wishes import WishRepository


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
    conversations: ConversationService
    reminders: ReminderService
    digest: WeeklyDigest
    activities: ActivityService
    attendance: AttendanceService
    wishes: WishService
    auction: AuctionService
    deeds: DeedService
    stats: StatsService
    stars: StarsService
    pace: PaceReminders
    inbox: Inbox
    outbox: Outbox
    catch_up: SummaryCatchUp

    @classmethod
    def build(cls, config: Config, db: Database, clock: Clock, *, render: RenderText) -> Services:
        """Every service over one database. `render` gives the catalog texts the domain stores
        (reminder texts), in the configured language."""
        people_repo = PeopleRepository(db)
        membership_repo = MembershipRepository(db)
        audit = AuditRepository(db)
        permissions = Permissions(config.county_admins, people_repo, membership_repo)
        orgs = OrganisationService(db, OrganisationRepository(db), audit, permissions, clock)
        chats = ChatRepository(db)
        outbox = Outbox(db, OutboxRepository(db), clock, config.outbox)
        reminder_repo = ReminderRepository(db)
        settings = config.reminders
        quiet = None
        # The config check lets both through or neither ("" turns quiet hours off).
        quiet_start, quiet_end = parse_clock(settings.quiet_start), parse_clock(settings.quiet_end)
        if quiet_start is not None and quiet_end is not None:
            quiet = QuietHours(quiet_start, quiet_end)
        reminders = ReminderService(
            db,
            reminder_repo,
            chats,
            permissions,
            clock,
            config.zone,
            grace=timedelta(minutes=settings.grace_minutes),
            quiet=quiet,
            orgs=orgs,
            outbox=outbox,
        )
        activity_repo = ActivityRepository(db)
        activities = ActivityService(
            db,
            activity_repo,
            orgs,
            chats,
            reminders,
            permissions,
            audit,
            clock,
            config.zone,
            config.activities,
            render_reminder=render,
            outbox=outbox,
        )
        wishes = WishService(
            db,
            WishRepository(db),
            orgs,
            audit,
            permissions,
            clock,
            purge_after=timedelta(days=config.wishes.purge_after_days),
        )
        auction = AuctionService(
            db,
            AuctionRepository(db),
            wishes,
            orgs,
            chats,
            reminders,
            permissions,
            audit,
            clock,
            config.zone,
            render_reminder=render,
            outbox=outbox,
        )
        attendance = AttendanceService(db, activity_repo, activities, chats, audit, clock, config.activities)
        deed_repo = DeedRepository(db)
        deeds = DeedService(db, deed_repo, activities, orgs, permissions, audit, clock, config.zone)
        stats = StatsService(ReportRepository(db), deed_repo, orgs, attendance, clock, config.zone)
        pace = PaceReminders(deeds, reminders, chats, membership_repo, permissions, config.zone)
        reminders.audiences[BEHIND_SUBJECT] = pace.audience
        return cls(
            config=config,
            clock=clock,
            db=db,
            permissions=permissions,
            people=PeopleService(people_repo, clock, config.language),
            orgs=orgs,
            membership=MembershipService(
                db, membership_repo, people_repo, orgs, audit, permissions, clock, outbox=outbox
            ),
            groups=GroupService(db, chats, orgs, audit, permissions, clock, activities),
            conversations=ConversationService(
                ConversationRepository(db), clock, timedelta(hours=config.conversations.expire_after_hours)
            ),
            reminders=reminders,
            digest=WeeklyDigest(
                chats,
                [
                    ActivitySource(activity_repo),
                    AuctionSource(auction.repo),
                    WishDeadlineSource(wishes),
                    ReminderSource(reminder_repo, config.zone),
                ],
            ),
            activities=activities,
            wishes=wishes,
            auction=auction,
            attendance=attendance,
            deeds=deeds,
            stats=stats,
            stars=StarsService(stats, config.stars, permissions),
            pace=pace,
            inbox=Inbox(InboxRepository(db), clock, keep=timedelta(days=config.inbox.keep_days)),
            outbox=outbox,
            catch_up=SummaryCatchUp(
                db, activity_repo, outbox, config.county_admins, timedelta(hours=config.catch_up.window_hours)
            ),
        )

    async def open(self) -> None:
        await self.db.open()
        await self.reminders.keep_weekly_digest(self.config.reminders.weekly_digest)
        await self.pace.keep(self.config.deeds.behind_reminders)
        await keep_monthly_ranking(self.reminders, self.config.stars.ranking)

    async def close(self) -> None:
        await self.db.close()
