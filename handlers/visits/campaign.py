"""/campaign (county admins, private chat): each campaign's progress and its console: form
the teams, close (with the summary, also posted in the hub), the outcomes' XLSX (public
fields), and the private XLSX, asked for with a reason (audited)."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.visits.export import build_outcomes_xlsx
from bot.model.visits import Campaign
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of
from handlers.visits.buttons import CampaignChoice, CampaignTap
from handlers.visits.hub import post_progress, post_summary, progress_text, refresh_progress, summary_text
from handlers.visits.teams_by_hand import TeamsByHandFlow


def _tap(ui: Ui, campaign: Campaign, action: CampaignChoice, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(ui.t(key), callback_data=CampaignTap(campaign=campaign.id, action=action).pack())


async def campaign_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    await ui.services.visits.require_admin(ui.user_id)
    campaigns = await ui.services.visits.campaigns()
    if not campaigns:
        await ui.reply("visits.campaigns_none")
        return
    rows = [
        [InlineKeyboardButton(c.title, callback_data=CampaignTap(campaign=c.id, action=CampaignChoice.SHOW).pack())]
        for c in campaigns[-10:]
    ]
    await ui.reply("visits.campaigns_title", InlineKeyboardMarkup(rows))


async def _show(ui: Ui, campaign_id: int) -> None:
    visits = ui.services.visits
    campaign = await visits.campaign(campaign_id)
    text = progress_text(ui.t, await visits.progress(campaign_id))
    buttons = []
    if not campaign.closed:
        if not await visits.teams(campaign_id):
            buttons.append([_tap(ui, campaign, CampaignChoice.TEAMS, "visits.button_form_teams")])
            buttons.append([_tap(ui, campaign, CampaignChoice.TEAMS_BY_HAND, "visits.button_teams_by_hand")])
        buttons.append([_tap(ui, campaign, CampaignChoice.CLOSE, "visits.button_close")])
    buttons.append([_tap(ui, campaign, CampaignChoice.EXPORT, "visits.button_export")])
    if campaign.purged_at is None:
        buttons.append([_tap(ui, campaign, CampaignChoice.EXPORT_PRIVATE, "visits.button_export_private")])
    await ui.send_text(text, InlineKeyboardMarkup(buttons))


async def campaign_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = CampaignTap.unpack(ui.callback_data)
    visits = ui.services.visits
    await ui.answer()
    await visits.require_admin(ui.user_id)
    campaign = await visits.campaign(tap.campaign)
    if tap.action == CampaignChoice.SHOW:
        await _show(ui, campaign.id)
    elif tap.action == CampaignChoice.TEAMS:
        teams = await visits.form_teams(ui.user_id, campaign.id)
        await ui.reply("visits.teams_formed", teams=len(teams), members=sum(len(t.members) for t in teams))
        if not await post_progress(ui.context.application, campaign.id):
            await ui.reply("visits.no_hub")
    elif tap.action == CampaignChoice.TEAMS_BY_HAND:
        await flow_of(context, TeamsByHandFlow).start(ui, campaign.id)
    elif tap.action == CampaignChoice.CLOSE:
        markup = InlineKeyboardMarkup([[_tap(ui, campaign, CampaignChoice.CLOSE_SURE, "visits.button_close_sure")]])
        await ui.reply("visits.close_confirm", markup, title=campaign.title)
    elif tap.action == CampaignChoice.CLOSE_SURE:
        summary = await visits.close(ui.user_id, campaign.id)
        await ui.send_text(summary_text(ui.t, summary))
        await post_summary(ui.context.application, summary)
        await refresh_progress(ui.context.application, campaign.id)
        await send_export(ui, campaign.id, None)
    elif tap.action == CampaignChoice.EXPORT:
        await send_export(ui, campaign.id, None)
    elif tap.action == CampaignChoice.EXPORT_PRIVATE:
        await flow_of(context, ExportReasonFlow).start(ui, campaign.id)
    else:
        raise DomainError("common.button_expired")


async def send_export(ui: Ui, campaign_id: int, reason: str | None) -> None:
    """The outcomes' XLSX to the person asking, in the private chat only."""
    visits = ui.services.visits
    rows = await visits.outcome_rows(ui.user_id, campaign_id, private_reason=reason)
    content = await asyncio.to_thread(
        build_outcomes_xlsx, rows, ui.t, ui.services.config.zone, private=reason is not None
    )
    key = "visits.export_private_file_name" if reason is not None else "visits.export_file_name"
    await ui.context.bot.send_document(
        ui.chat_id, content, filename=ui.t(key, id=campaign_id), caption=ui.t("visits.export_caption", count=len(rows))
    )


class ExportReasonFlow(Flow):
    """The private export: why it is needed (kept in the audit log)."""

    name = "vx"

    async def start(self, ui: Ui, campaign_id: int, **kwargs: object) -> None:
        await self.go(ui, "reason", {"campaign": campaign_id})
        await ui.reply("visits.ask_export_reason", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_reason(self, ui: Ui, data: dict, text: str) -> None:
        await send_export(ui, int(data["campaign"]), text)
        await self.finish(ui)
