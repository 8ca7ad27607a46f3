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
from bot.domain.duty_kinds import register_builtin_duties
from bot.domain.formatting import RenderText
from bot.domain.funds import (
    PLEDGES_SUBJECT,
    FundPublisher,
    FundReports,
    FundService,
    PledgeReminders,
)
from bot.domain.funds.digest import FundDigestSource
from bot.domain.groups import GroupService
from bot.domain.inbox import Inbox
from bot.domain.membership import MembershipService
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.people import PeopleService
from bot.domain.permissions import Permissions
from bot.domain.records import Records
from bot.domain.reminders import QuietHours, ReminderService
from bot.domain.stars import StarsService, keep_monthly_ranking
from bot.domain.stats import StatsService
from bot.domain.sunshine import DAILY_SUBJECT as SUNSHINE_DAILY
from bot.domain.sunshine import SunshineService
from bot.domain.sunshine.duty import pairing_duty_kind
from bot.domain.tenure import TenureService
from bot.domain.turnover import DutyRegistry, TurnoverService
from bot.domain.visits import DAILY_SUBJECT, VisitService, VisitSettings
from bot.domain.visits.duty import visit_duty_kind
from bot.domain.wishes import WishService
from storage.activities import ActivityRepository
from storage.auction import AuctionRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.conversations import ConversationRepository
from storage.db import Database
from storage.duties import DutyRepository
from storage.funds import FundRepository
from storage.inbox import InboxRepository
from storage.memberships import MembershipRepository
from storage.organisations import OrganisationRepository
from storage.outbox import OutboxRepository
from storage.people import PeopleRepository
from storage.reminders import ReminderRepository
from storage.reports import DeedRepository, ReportRepository
from storage.visits import VisitRepository
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
    sunshine: SunshineService
    turnover: TurnoverService
    tenure: TenureService
    funds: FundService
    fund_reports: FundReports
    pledges: PledgeReminders
    fund_publisher: FundPublisher
    records: Records
    visits: VisitService
    catch_up: SummaryCatchUp

    @classmethod
    def build(cls, config: Config, db: Database, clock: Clock, *, render: RenderText) -> Services:
        """Every service over one database. `render` gives the catalog texts the domain stores
        (reminder texts), in the configured language."""
        people_repo = PeopleRepository(db)
        membership_repo = MembershipRepository(db)
        audit = AuditRepository(db)
        org_repo = OrganisationRepository(db)
        permissions = Permissions(
            config.county_admins, people_repo, membership_repo, orgs=org_repo, clock=clock, audit=audit
        )
        orgs = OrganisationService(db, org_repo, audit, permissions, clock)
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
            window=timedelta(hours=config.catch_up.window_hours),
            county_admins=config.county_admins,
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
        sunshine = SunshineService(
            db,
            orgs,
            people_repo,
            membership_repo,
            audit,
            permissions,
            outbox,
            clock,
            config.zone,
            purge_after=timedelta(days=config.sunshine.purge_after_days),
            max_pairs=config.sunshine.max_pairs_per_volunteer,
        )
        reminders.audiences[SUNSHINE_DAILY] = sunshine.daily
        # Cadre turnover: every domain registers the duties a person holds for an organisation.
        duty_repo = DutyRepository(db)
        duty_registry = DutyRegistry()
        register_builtin_duties(duty_registry, duty_repo, chats, permissions, wishes, clock)
        turnover = TurnoverService(
            db, membership_repo, duty_repo, duty_registry, permissions, audit, clock, outbox=outbox
        )
        # Verification-visit campaigns (#17): the students they verify are what grants pay against.
        visits = VisitService(
            db,
            VisitRepository(db),
            orgs,
            membership_repo,
            audit,
            permissions,
            clock,
            config.zone,
            outbox,
            VisitSettings(
                purge_after=timedelta(days=config.visits.purge_after_days),
                far_km=config.visits.far_km,
                revisit_after=timedelta(hours=config.visits.revisit_after_hours),
            ),
        )
        reminders.audiences[DAILY_SUBJECT] = visits.audience
        duty_registry.register(pairing_duty_kind(sunshine))  # a departing volunteer's pairs end
        duty_registry.register(visit_duty_kind(visits))  # a departing visitor's households
        fund_repo = FundRepository(db)
        funds = FundService(db, fund_repo, orgs, audit, permissions, clock, config.zone, visits, config.funds)
        pledges = PledgeReminders(fund_repo, reminders, permissions, config.zone)
        reminders.audiences[PLEDGES_SUBJECT] = pledges.audience
        funds.after_pledge = pledges.refresh
        stats.money_by_owner = fund_repo.money_by_owner  # the stars' "money to serve" fact
        # The records feature (#19): service records, certificates, QR check-in, the platforms' export.
        people = PeopleService(people_repo, clock, config.language)
        records = Records.build(
            db,
            people,
            permissions,
            activities,
            attendance,
            audit,
            clock,
            config.zone,
            config.records,
        )
        return cls(
            config=config,
            clock=clock,
            db=db,
            permissions=permissions,
            people=people,
            orgs=orgs,
            membership=MembershipService(
                db, membership_repo, people_repo, orgs, audit, permissions, clock, outbox=outbox, turnover=turnover
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
                    FundDigestSource(fund_repo, config.zone),
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
            sunshine=sunshine,
            turnover=turnover,
            tenure=TenureService(membership_repo, orgs, clock),
            funds=funds,
            fund_reports=FundReports(funds),
            pledges=pledges,
            fund_publisher=FundPublisher(funds, chats, outbox),
            records=records,
            visits=visits,
            catch_up=SummaryCatchUp(
                db, activity_repo, outbox, config.county_admins, timedelta(hours=config.catch_up.window_hours)
            ),
        )

    async def open(self) -> None:
        await self.db.open()
        await self.reminders.keep_weekly_digest(self.config.reminders.weekly_digest)
        await self.pace.keep(self.config.deeds.behind_reminders)
        await keep_monthly_ranking(self.reminders, self.config.stars.ranking)
        await self.sunshine.keep_daily(self.reminders, self.config.sunshine.daily)
        await self.pledges.keep(self.config.funds.pledge_reminders)
        await self.visits.keep_reminders(self.reminders, self.config.visits.reminder)

    async def close(self) -> None:
        await self.db.close()
