"""Telegram-facing handlers. `register` is the one ordered list of everything the bot answers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.domain import outbox as notices
from bot.domain.catch_up import REMINDERS_TOGETHER, STALE_REMINDERS, STALE_SUMMARIES, SUMMARIES_TOGETHER
from bot.domain.deeds import BEHIND_SUBJECT
from bot.domain.funds import PLEDGES_SUBJECT
from bot.domain.funds.publishing import STATEMENT as FUND_STATEMENT
from bot.domain.funds.publishing import THANKS as FUND_THANKS
from bot.domain.stars import RANKING_SUBJECT
from bot.domain.turnover import COUNTY_NOTE as TURNOVER_COUNTY_NOTE
from bot.domain.turnover import DUTIES_RECEIVED as TURNOVER_RECEIVED
from bot.domain.visits import DAILY_SUBJECT as VISITS_DAILY_SUBJECT
from bot.domain.visits import VISIT_HANDED_BACK, VISIT_REVIEWED
from handlers import (
    activities,
    auction,
    checkin,
    common,
    deeds,
    errors,
    flood,
    funds,
    gate,
    groups,
    join,
    members,
    orgs,
    profile,
    records,
    reminders,
    reports,
    scheduling,
    stars,
    start,
    sunshine,
    visits,
    wishes,
)
from handlers.activities.post import render_promoted
from handlers.activities.summaries import render_group_summary, render_organiser_summary
from handlers.auction.claim import render_won
from handlers.catch_up import (
    render_reminders_together,
    render_stale_reminders,
    render_stale_summaries,
    render_summaries_together,
)
from handlers.commands import COMMANDS
from handlers.flow import FLOWS, ConversationButton, FlowRegistry
from handlers.handover_notes import render_answered, render_request, render_unreachable
from handlers.outbox import OUTBOX_SENDER, OutboxSender
from handlers.turnover import LeaveFlow, OpenDuty, leave_command, open_duty, render_county_note, render_received

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
# Commands that work only in the private chat: typed in a group, they get a button to it.
PRIVATE_ONLY_COMMANDS = tuple(command.name for command in COMMANDS if command.private and not command.group)


# Button taps that may run side by side with the same person's other updates (all others run
# one at a time per person, see bot/runtime/updates.py): auction claims, which the domain arbitrates.
UNORDERED_CALLBACK_PREFIXES = (auction.ClaimTap.prefix,)


def register(application: Application) -> None:
    # The live auction's state (boards shown, background sends, page refreshes): one typed object.
    application.bot_data[auction.AUCTION_STATE] = auction.AuctionState()
    application.bot_data[scheduling.COMPUTED_TEXTS] = {
        BEHIND_SUBJECT: deeds.render_pace_notice,
        RANKING_SUBJECT: stars.render_monthly_ranking,
        PLEDGES_SUBJECT: funds.render_pledge_notice,
        VISITS_DAILY_SUBJECT: visits.render_daily,
    }
    # The outbox's one sender, and how it words each kind of message the domain queues.
    sender = application.bot_data[OUTBOX_SENDER] = OutboxSender(application)
    sender.register(notices.WON_CLAIM, render_won)
    sender.register(notices.PROMOTED, render_promoted)
    sender.register(notices.SUMMARY_GROUP, render_group_summary)
    sender.register(notices.SUMMARY_ORGANISER, render_organiser_summary)
    sender.register(notices.HANDOVER_REQUEST, render_request)
    sender.register(notices.HANDOVER_ANSWERED, render_answered)
    sender.register(notices.HANDOVER_UNREACHABLE, render_unreachable)
    sender.register(notices.REMINDER, scheduling.render_reminder)
    sunshine.register_notices(sender)
    # Cadre turnover: the receiver's list of what was handed over, the county admins' note.
    sender.register(TURNOVER_RECEIVED, render_received)
    sender.register(TURNOVER_COUNTY_NOTE, render_county_note)
    sender.register(FUND_STATEMENT, funds.render_hub_statement)
    sender.register(FUND_THANKS, funds.render_hub_thanks)
    sender.register(VISIT_REVIEWED, visits.render_reviewed)
    sender.register(VISIT_HANDED_BACK, visits.render_handed_back)
    sender.register(SUMMARIES_TOGETHER, render_summaries_together)
    sender.register(STALE_SUMMARIES, render_stale_summaries)
    sender.register(REMINDERS_TOGETHER, render_reminders_together)
    sender.register(STALE_REMINDERS, render_stale_reminders)
    application.bot_data[FLOWS] = FlowRegistry(
        [
            join.JoinFlow(),
            groups.BindFlow(),
            orgs.NewOrgFlow(),
            orgs.EditOrgFlow(),
            orgs.ImportFlow(),
            members.MembersFlow(),
            members.HandoverFlow(),
            LeaveFlow(),
            reminders.ReminderFlow(),
            profile.ProfileFlow(),
            activities.NewActivityFlow(),
            activities.EditActivityFlow(),
            activities.CancelActivityFlow(),
            activities.AttendanceFlow(),
            activities.ServedFlow(),
            auction.NewAuctionFlow(),
            wishes.NewWishFlow(),
            wishes.EditWishFlow(),
            wishes.CancelWishFlow(),
            wishes.DeliverFlow(),
            wishes.WishListFlow(),
            wishes.ImportWishesFlow(),
            deeds.DeedFlow(),
            stars.StarsFlow(),
            reports.ScopeFlow(),
            *sunshine.flows(),
            funds.ReceiptFlow(),
            funds.GrantFlow(),
            funds.PledgeFlow(),
            funds.NewDonorFlow(),
            funds.NewFundFlow(),
            records.QrLocationFlow(),
            records.IdentityFlow(),
            visits.NewCampaignFlow(),
            visits.ImportHouseholdsFlow(),
            visits.VisitFlow(),
            visits.ReviewCommentFlow(),
            visits.ExportReasonFlow(),
            visits.ReassignFlow(),
            visits.TeamsByHandFlow(),
        ]
    )
    application.add_handlers(
        {
            # Gatekeepers: who wrote and in which language to answer; one person's command flood
            # held back (never check-ins, taps or conversation input).
            -3: [TypeHandler(Update, gate.record_and_localise)],
            -2: [TypeHandler(Update, flood.limit_commands)],
            # A group's supergroup upgrade; a private-chat button tapped in a group (forged).
            -1: [
                MessageHandler(filters.StatusUpdate.MIGRATE, gate.follow_migration),
                CallbackQueryHandler(gate.buttons_where_they_belong),
            ],
            0: [
                # The live auction's claim taps first: in a rush they are most of the traffic, and no
                # other handler could take a callback query anyway.
                CallbackQueryHandler(auction.claim_button, pattern=auction.ClaimTap.pattern()),
                # The bot itself added to or removed from a group.
                ChatMemberHandler(groups.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
                # Everyone.
                CommandHandler("start", start.start, PRIVATE),
                CommandHandler("help", common.help_command),
                CommandHandler("lang", common.language_command, PRIVATE),
                CommandHandler("cancel", common.cancel, PRIVATE),
                CommandHandler("join", join.join_command),
                CommandHandler("invite", join.invite_command),
                # Volunteers: activities, their own record, and check-in in the group (also by text or
                # location, and by command for groups where the bot's privacy mode hides plain messages).
                CommandHandler("activities", activities.activities_command, PRIVATE),
                CommandHandler("me", records.me_command, PRIVATE),
                CommandHandler("profile", profile.profile_command, PRIVATE),
                # Certificates: anyone checks one, in any chat; county admins revoke one issued in error.
                CommandHandler("verify", records.verify_command),
                CommandHandler("revokecert", records.revoke_command, PRIVATE),
                CommandHandler("myid", records.myid_command, PRIVATE),
                CommandHandler("checkin", checkin.checkin_command, GROUPS),
                CommandHandler("checkout", checkin.checkout_command, GROUPS),
                CommandHandler(("checkin", "checkout"), checkin.private_hint, PRIVATE),
                MessageHandler(
                    GROUPS & filters.UpdateType.MESSAGE & filters.Regex(checkin.CHECK_TEXT), checkin.text_check
                ),
                MessageHandler(GROUPS & filters.UpdateType.MESSAGE & filters.LOCATION, checkin.location_check),
                # Cadres: their organisation's activities (organisers re-checked on every action).
                CommandHandler("newactivity", activities.newactivity_command, PRIVATE),
                CommandHandler("editactivity", activities.editactivity_command, PRIVATE),
                CommandHandler("cancelactivity", activities.cancelactivity_command, PRIVATE),
                CommandHandler("attendance", activities.attendance_command, PRIVATE),
                # Organisers: an activity's check-in QR code (image and A4 PDF); county admins: the
                # national platforms' export of service records.
                CommandHandler("qr", records.qr_command, PRIVATE),
                CommandHandler("records", records.records_command, PRIVATE),
                # Cadres: the live wish auction's lots in private (the board's deep link is /start auc_<id>).
                CommandHandler("auction", auction.auction_command, PRIVATE),
                # Cadres (county admins for every organisation): the micro-wish registry and fulfilment.
                CommandHandler("newwish", wishes.newwish_command, PRIVATE),
                CommandHandler("importwishes", wishes.import_command, PRIVATE),
                CommandHandler("wishtemplate", wishes.template_command, PRIVATE),
                CommandHandler("wishes", wishes.wishes_command, PRIVATE),
                CommandHandler("wish", wishes.wish_command, PRIVATE),
                # Cadres (county admins for every organisation): deeds against the quota, star ratings.
                CommandHandler("deed", deeds.deed_command, PRIVATE),
                CommandHandler("deeds", deeds.deeds_command, PRIVATE),
                CommandHandler("stars", stars.stars_command, PRIVATE),
                # Sunshine Home (阳光家园): cadres keep the children's register and propose pairs;
                # volunteers keep a profile, answer proposals and log each contact.
                CommandHandler("newchild", sunshine.newchild_command, PRIVATE),
                CommandHandler("importchildren", sunshine.import_command, PRIVATE),
                CommandHandler("childtemplate", sunshine.template_command, PRIVATE),
                CommandHandler("children", sunshine.children_command, PRIVATE),
                CommandHandler("child", sunshine.child_command, PRIVATE),
                CommandHandler("childwish", sunshine.childwish_command, PRIVATE),
                CommandHandler("sessionkids", sunshine.sessionkids_command, PRIVATE),
                CommandHandler("pair", sunshine.pair_command, PRIVATE),
                CommandHandler("pairs", sunshine.pairs_command, PRIVATE),
                CommandHandler("endpair", sunshine.endpair_command, PRIVATE),
                CommandHandler("contact", sunshine.contact_command, PRIVATE),
                CommandHandler("volunteer", sunshine.volunteer_command, PRIVATE),
                CommandHandler("handback", sunshine.handback_command, PRIVATE),
                CommandHandler("counsellor", sunshine.counsellor_command, PRIVATE),
                CommandHandler("sunshinecontacts", sunshine.contacts_command, PRIVATE),
                # Cadres (their organisation) and county admins (the county, any organisation): figures,
                # charts, the XLSX; the year-end report is the county admins'.
                CommandHandler("stats", reports.stats_command, PRIVATE),
                CommandHandler("export", reports.export_command, PRIVATE),
                CommandHandler("report", reports.report_command, PRIVATE),
                # Organisation admins (and county admins on any organisation).
                CommandHandler("members", members.members_command, PRIVATE),
                CommandHandler("handover", members.handover_command, PRIVATE),
                CommandHandler("leave", leave_command, PRIVATE),
                CommandHandler("remind", reminders.remind_command, PRIVATE),
                CommandHandler("reminders", reminders.reminders_command, PRIVATE),
                CommandHandler("bind", groups.bind_command, GROUPS),
                CommandHandler("unbind", groups.unbind_command, GROUPS),
                # County admins.
                CommandHandler("orgs", orgs.orgs_command, PRIVATE),
                CommandHandler("neworg", orgs.neworg_command, PRIVATE),
                CommandHandler("editorg", orgs.editorg_command, PRIVATE),
                CommandHandler("importorgs", orgs.import_command, PRIVATE),
                CommandHandler("orgtemplate", orgs.template_command, PRIVATE),
                CommandHandler("groups", groups.groups_command, PRIVATE),
                CommandHandler("promote", members.promote_command, PRIVATE),
                CommandHandler("newauction", auction.newauction_command, PRIVATE),
                CommandHandler("release", auction.release_command, PRIVATE),
                CommandHandler("reassign", auction.reassign_command, PRIVATE),
                # Fund keepers (org admins of a fund's organisation) and county admins: the ledger.
                CommandHandler("funds", funds.funds_command, PRIVATE),
                CommandHandler("receipt", funds.receipt_command, PRIVATE),
                CommandHandler("grant", funds.grant_command, PRIVATE),
                CommandHandler("pledge", funds.pledge_command, PRIVATE),
                CommandHandler("correct", funds.correct_command, PRIVATE),
                CommandHandler("transfer", funds.transfer_command, PRIVATE),
                CommandHandler("donor", funds.donor_command, PRIVATE),
                CommandHandler("ledger", funds.ledger_command, PRIVATE),
                CommandHandler("newdonor", funds.newdonor_command, PRIVATE),
                CommandHandler("newfund", funds.newfund_command, PRIVATE),
                CommandHandler("publish", funds.publish_command, PRIVATE),
                CommandHandler("thank", funds.thank_command, PRIVATE),
                # Verification-visit campaigns: county admins set them up and close them; visitors
                # file their households' visits; team leaders (and county admins) review.
                CommandHandler("newcampaign", visits.newcampaign_command, PRIVATE),
                CommandHandler("importhouseholds", visits.import_command, PRIVATE),
                CommandHandler("householdtemplate", visits.template_command, PRIVATE),
                CommandHandler("campaign", visits.campaign_command, PRIVATE),
                CommandHandler("visits", visits.visits_command, PRIVATE),
                CommandHandler("review", visits.review_command, PRIVATE),
                CommandHandler("team", visits.team_command, PRIVATE),
                # A private-only command typed in a group: a button to the private chat.
                CommandHandler(PRIVATE_ONLY_COMMANDS, common.go_private, GROUPS),
                # Buttons. Each pattern is anchored; the catch-all answers stale or forged ones.
                CallbackQueryHandler(common.conversation_button, pattern=ConversationButton.pattern()),
                CallbackQueryHandler(common.language_chosen, pattern=common.LanguageButton.pattern()),
                CallbackQueryHandler(join.join_decision, pattern=join.JoinDecision.pattern()),
                CallbackQueryHandler(members.handover_answer, pattern=members.HandoverAnswer.pattern()),
                # What a departed cadre handed over: open it (re-checked by its own feature).
                CallbackQueryHandler(open_duty, pattern=OpenDuty.pattern()),
                CallbackQueryHandler(reminders.reminder_action, pattern=reminders.ReminderAction.pattern()),
                CallbackQueryHandler(activities.signup_button, pattern=activities.SignupTap.pattern()),
                CallbackQueryHandler(activities.organiser_action, pattern=activities.OrganiserAction.pattern()),
                CallbackQueryHandler(activities.served_button, pattern=activities.ServedAnswer.pattern()),
                # The auction: a claim tap (board or private page), the winner's release, browsing.
                CallbackQueryHandler(auction.release_button, pattern=auction.ReleaseTap.pattern()),
                CallbackQueryHandler(auction.browse_button_tapped, pattern=auction.BrowseTap.pattern()),
                # A wish card's buttons (edit, cancel, bought, delivered, confirm receipt, photos).
                CallbackQueryHandler(wishes.wish_action, pattern=wishes.WishAction.pattern()),
                # Sunshine Home: a proposal's answer; a child's card or a notice's buttons (re-checked).
                CallbackQueryHandler(sunshine.pair_answer, pattern=sunshine.PairAnswer.pattern()),
                CallbackQueryHandler(sunshine.child_tap, pattern=sunshine.ChildTap.pattern()),
                CallbackQueryHandler(sunshine.handback_button, pattern=sunshine.HandBackTap.pattern()),
                # The county's deeds list, paged (county admins, re-checked).
                CallbackQueryHandler(deeds.deeds_page, pattern=deeds.DeedsPage.pattern()),
                # Under /stats figures: charts, the XLSX, pick an organisation (all re-checked).
                CallbackQueryHandler(reports.charts_button, pattern=reports.ChartsButton.pattern()),
                CallbackQueryHandler(reports.export_button, pattern=reports.ExportButton.pattern()),
                CallbackQueryHandler(reports.pick_org_button, pattern=reports.PickOrgButton.pattern()),
                CallbackQueryHandler(reports.township_charts_button, pattern=reports.TownshipChartsButton.pattern()),
                # The ledger: a second admin's approve / refuse, a donor's contact details (audited).
                CallbackQueryHandler(funds.decision_button, pattern=funds.FundDecision.pattern()),
                CallbackQueryHandler(funds.contact_button, pattern=funds.DonorContactTap.pattern()),
                # /me's certificate buttons; the check-out button under a QR check-in.
                CallbackQueryHandler(records.certificate_button, pattern=records.CertificateTap.pattern()),
                CallbackQueryHandler(records.checkout_button, pattern=records.QrCheckoutTap.pattern()),
                # Visit campaigns: a household's card and visit, a review, an admin's console.
                CallbackQueryHandler(visits.household_button, pattern=visits.HouseholdTap.pattern()),
                CallbackQueryHandler(visits.review_button, pattern=visits.ReviewTap.pattern()),
                CallbackQueryHandler(visits.campaign_button, pattern=visits.CampaignTap.pattern()),
                CallbackQueryHandler(common.unknown_button),
                # Private chat: unknown commands, then conversation input.
                MessageHandler(PRIVATE & filters.COMMAND, common.unknown_command),
                MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, common.private_input),
            ],
        }
    )
    application.add_error_handler(errors.on_error)
