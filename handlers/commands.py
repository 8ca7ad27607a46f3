"""The bot's commands: who sees each, and where. /help and the Telegram menus both read this."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Audience(IntEnum):
    """Ordered: a county admin also sees what an org admin sees, and so on."""

    EVERYONE = 0
    CADRE = 1
    ORG_ADMIN = 2
    COUNTY_ADMIN = 3


@dataclass(frozen=True)
class Command:
    name: str
    audience: Audience
    private: bool = True
    group: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("start", Audience.EVERYONE),
    Command("help", Audience.EVERYONE, group=True),
    Command("join", Audience.EVERYONE, group=True),
    Command("lang", Audience.EVERYONE),
    Command("cancel", Audience.EVERYONE),
    Command("activities", Audience.EVERYONE),
    Command("me", Audience.EVERYONE),
    Command("profile", Audience.EVERYONE),
    Command("verify", Audience.EVERYONE, group=True),
    Command("myid", Audience.EVERYONE),
    Command("auction", Audience.EVERYONE),
    Command("checkin", Audience.EVERYONE, private=False, group=True),
    Command("checkout", Audience.EVERYONE, private=False, group=True),
    Command("invite", Audience.CADRE, group=True),
    Command("newactivity", Audience.CADRE),
    Command("editactivity", Audience.CADRE),
    Command("cancelactivity", Audience.CADRE),
    Command("attendance", Audience.CADRE),
    Command("qr", Audience.CADRE),
    Command("newwish", Audience.CADRE),
    Command("importwishes", Audience.CADRE),
    Command("wishtemplate", Audience.CADRE),
    Command("wishes", Audience.CADRE),
    Command("wish", Audience.CADRE),
    Command("deed", Audience.CADRE),
    Command("deeds", Audience.CADRE),
    Command("stars", Audience.CADRE),
    Command("stats", Audience.CADRE),
    Command("export", Audience.CADRE),
    Command("leave", Audience.CADRE),
    Command("members", Audience.ORG_ADMIN),
    Command("handover", Audience.ORG_ADMIN),
    Command("remind", Audience.ORG_ADMIN),
    Command("reminders", Audience.ORG_ADMIN),
    Command("bind", Audience.ORG_ADMIN, private=False, group=True),
    Command("unbind", Audience.ORG_ADMIN, private=False, group=True),
    Command("orgs", Audience.COUNTY_ADMIN),
    Command("neworg", Audience.COUNTY_ADMIN),
    Command("editorg", Audience.COUNTY_ADMIN),
    Command("importorgs", Audience.COUNTY_ADMIN),
    Command("orgtemplate", Audience.COUNTY_ADMIN),
    Command("groups", Audience.COUNTY_ADMIN),
    Command("promote", Audience.COUNTY_ADMIN),
    Command("newauction", Audience.COUNTY_ADMIN),
    Command("release", Audience.COUNTY_ADMIN),
    Command("reassign", Audience.COUNTY_ADMIN),
    Command("report", Audience.COUNTY_ADMIN),
    # Donations and funds (handlers/funds/): fund keepers are organisation admins.
    Command("funds", Audience.ORG_ADMIN),
    Command("receipt", Audience.ORG_ADMIN),
    Command("grant", Audience.ORG_ADMIN),
    Command("pledge", Audience.ORG_ADMIN),
    Command("correct", Audience.ORG_ADMIN),
    Command("transfer", Audience.ORG_ADMIN),
    Command("donor", Audience.ORG_ADMIN),
    Command("ledger", Audience.ORG_ADMIN),
    Command("newdonor", Audience.COUNTY_ADMIN),
    Command("newfund", Audience.COUNTY_ADMIN),
    Command("publish", Audience.COUNTY_ADMIN),
    Command("thank", Audience.COUNTY_ADMIN),
    Command("records", Audience.COUNTY_ADMIN),
    Command("revokecert", Audience.COUNTY_ADMIN),
    Command("visits", Audience.CADRE),
    Command("review", Audience.CADRE),
    Command("team", Audience.CADRE),
    Command("newcampaign", Audience.COUNTY_ADMIN),
    Command("importhouseholds", Audience.COUNTY_ADMIN),
    Command("householdtemplate", Audience.COUNTY_ADMIN),
    Command("campaign", Audience.COUNTY_ADMIN),
)
