"""Verification-visit campaigns (走访核实) in Telegram; every command in the private chat.

- /newcampaign (create.py): a county admin's campaign; then /importhouseholds (importing.py)
  with the template from /householdtemplate; then the teams (a button: the bot forms them).
- /visits (mine.py): a visitor's households and their cards; visit.py is the visit itself.
- /review (review.py): the team leader's and county admins' review of submitted visits.
- /team (team.py): a leader's team households; reassign.py: 改派 from a household's card.
- /campaign (campaign.py): progress, close with the summary, the exports.
- hub.py: the one coalesced progress message in the hub; jobs.py: the daily reminder's words
  and the purge.

Privacy: a household's details are shown only in the private chats of the assigned team and
the county admins (the domain audits each view); group messages carry team numbers and counts.
"""

from __future__ import annotations

from handlers.visits.buttons import CampaignTap, HouseholdTap, ReviewTap
from handlers.visits.campaign import ExportReasonFlow, campaign_button, campaign_command
from handlers.visits.create import NewCampaignFlow, newcampaign_command, template_command
from handlers.visits.hub import post_progress, refresh_progress
from handlers.visits.importing import ImportHouseholdsFlow, import_command
from handlers.visits.jobs import render_daily, start_visit_jobs
from handlers.visits.mine import household_button, visits_command
from handlers.visits.reassign import ReassignFlow
from handlers.visits.review import ReviewCommentFlow, render_handed_back, render_reviewed, review_button, review_command
from handlers.visits.team import team_command
from handlers.visits.teams_by_hand import TeamsByHandFlow
from handlers.visits.visit import VisitFlow

__all__ = [
    "CampaignTap",
    "ExportReasonFlow",
    "HouseholdTap",
    "ImportHouseholdsFlow",
    "NewCampaignFlow",
    "ReassignFlow",
    "ReviewCommentFlow",
    "ReviewTap",
    "TeamsByHandFlow",
    "VisitFlow",
    "campaign_button",
    "campaign_command",
    "household_button",
    "import_command",
    "newcampaign_command",
    "post_progress",
    "refresh_progress",
    "render_daily",
    "render_handed_back",
    "render_reviewed",
    "review_button",
    "review_command",
    "start_visit_jobs",
    "team_command",
    "template_command",
    "visits_command",
]
