"""The campaign's one progress message in the hub, and the close summary posted there.

The message is posted once (when the teams are formed) and from then on only edited through
handlers/live_message.py: every filed or reviewed visit asks for a refresh, and the live
messages coalesce those into at most one edit per interval in the hub (within its ~20 messages
a minute), each showing the database's truth at that moment. Group text: public fields only
(team numbers and counts), never a household's details.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.domain.services import Services
from bot.model.visits import CampaignProgress, CloseSummary
from handlers.context import best_effort, group_t, services_of
from handlers.i18n import Raw, Translator
from handlers.live_message import View, request_refresh


def progress_key(campaign_id: int) -> str:
    return f"visits:progress:{campaign_id}"


def progress_text(t: Translator, progress: CampaignProgress) -> str:
    lines = []
    for item in progress.teams:
        line = t(
            "visits.hub_team_line",
            number=item.team.number,
            assigned=item.assigned,
            visited=item.visited,
            approved=item.approved,
        )
        if item.kilometres is not None:
            line += t("visits.hub_team_km", km=item.kilometres)
        lines.append(line)
    campaign = progress.campaign
    return t(
        "visits.hub_progress_closed" if campaign.closed else "visits.hub_progress",
        title=campaign.title,
        teams=Raw("\n".join(lines)),
        assigned=progress.assigned,
        visited=progress.visited,
        approved=progress.approved,
        days=progress.days_left,
    )


async def hub_chat_id(services: Services) -> int | None:
    hub = await services.groups.hub()
    return hub.chat_id if hub is not None and hub.active else None


async def post_progress(application: Application, campaign_id: int) -> bool:
    """Post the progress message into the hub once; False when there is no hub or it failed."""
    services = services_of(application)
    campaign = await services.visits.campaign(campaign_id)
    if campaign.hub_message_id is not None:
        await refresh_progress(application, campaign_id)
        return True
    chat_id = await hub_chat_id(services)
    if chat_id is None:
        return False
    text = progress_text(group_t(services), await services.visits.progress(campaign_id))
    sent = await best_effort(
        application.bot.send_message(chat_id, text),
        "campaign %s progress not posted in the hub %s",
        campaign_id,
        chat_id,
    )
    if sent is None:
        return False
    await services.visits.set_hub_message(campaign_id, chat_id, sent.message_id)
    return True


async def refresh_progress(application: Application, campaign_id: int) -> None:
    """Ask for the hub message to show the truth again (coalesced; no edit per event)."""

    async def render() -> list[View]:
        services = services_of(application)
        campaign = await services.visits.campaign(campaign_id)
        if campaign.hub_chat_id is None or campaign.hub_message_id is None:
            return []
        text = progress_text(group_t(services), await services.visits.progress(campaign_id))
        return [(campaign.hub_chat_id, campaign.hub_message_id, text, None)]

    await request_refresh(application, progress_key(campaign_id), render)


def summary_text(t: Translator, summary: CloseSummary) -> str:
    return t(
        "visits.close_summary",
        title=summary.campaign.title,
        teams=summary.teams,
        townships=summary.townships,
        households=summary.households,
        days=summary.days,
        verified=summary.verified,
        not_eligible=summary.not_eligible,
        unreached=summary.unreached,
    )


async def post_summary(application: Application, summary: CloseSummary) -> None:
    services = services_of(application)
    chat_id = await hub_chat_id(services)
    if chat_id is None:
        return
    await best_effort(
        application.bot.send_message(chat_id, summary_text(group_t(services), summary)),
        "campaign %s summary not posted in the hub %s",
        summary.campaign.id,
        chat_id,
    )
