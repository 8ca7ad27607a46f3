"""/visits: a visitor's households (nearest deadline first), a household's card with its
private details (the assigned team and county admins only; each view audited by the domain),
and the button that starts or resumes its visit. Private chat only."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.formatting import local_text
from bot.model.visits import Campaign, Household, HouseholdDetails, Visit, VisitStatus
from handlers.context import BotContext, Ui
from handlers.flow import flow_of
from handlers.i18n import Translator
from handlers.visits.buttons import HouseholdChoice, HouseholdTap
from handlers.visits.reassign import ReassignFlow
from handlers.visits.visit import VisitFlow

LIST_BUTTONS = 20  # households with a button; the rest are counted


def state_label(t: Translator, visit: Visit | None) -> str:
    if visit is None:
        return t("visits.state_new")
    return t(f"visits.status_{visit.status.value}")


async def visits_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    mine = await ui.services.visits.my_households(ui.user_id)
    if not mine:
        await ui.reply("visits.mine_none")
        return
    names = await _township_names(ui)
    waiting = [
        item for item in mine if item[2] is None or item[2].status in (VisitStatus.DRAFT, VisitStatus.HAS_ISSUES)
    ]
    waiting += [item for item in mine if item not in waiting]
    rows = [
        [
            InlineKeyboardButton(
                ui.t(
                    "visits.mine_button",
                    alias=household.alias,
                    township=names.get(household.township_id, ""),
                    state=state_label(ui.t, visit),
                ),
                callback_data=HouseholdTap(household=household.id, action=HouseholdChoice.OPEN).pack(),
            )
        ]
        for household, _, visit in waiting[:LIST_BUTTONS]
    ]
    campaign = mine[0][1]
    await ui.reply(
        "visits.mine_title",
        InlineKeyboardMarkup(rows),
        count=len(mine),
        shown=min(len(mine), LIST_BUTTONS),
        title=campaign.title,
        deadline=local_text(campaign.deadline, ui.services.config.zone, "%Y-%m-%d %H:%M"),
    )


async def _township_names(ui: Ui) -> dict[int, str]:
    return {org_id: name for name, org_id in (await ui.services.visits.township_names()).items()}


def details_text(t: Translator, household: Household, township: str, details: HouseholdDetails | None) -> str:
    blank = t("visits.blank")
    if details is None:
        return t("visits.card_purged", alias=household.alias, township=township)
    return t(
        "visits.card",
        alias=household.alias,
        township=township,
        village=details.village or blank,
        school=details.school,
        admission=details.admission or blank,
        address=details.address or blank,
        guardian=details.guardian or blank,
        phone=details.phone or blank,
        circumstances=details.circumstances or blank,
    )


async def household_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = HouseholdTap.unpack(ui.callback_data)
    await ui.answer()
    if tap.action == HouseholdChoice.START:
        await flow_of(context, VisitFlow).start(ui, tap.household)
        return
    if tap.action == HouseholdChoice.REASSIGN:
        await flow_of(context, ReassignFlow).start(ui, tap.household)
        return
    await send_household(ui, tap.household)


async def send_household(ui: Ui, household_id: int) -> None:
    """A household's card with what the person may do next (also the turnover message's button)."""
    household, details = await ui.services.visits.household_details(ui.user_id, household_id)
    campaign: Campaign = await ui.services.visits.campaign(household.campaign_id)
    names = await _township_names(ui)
    text = details_text(ui.t, household, names.get(household.township_id, ""), details)
    rows = []
    if not campaign.closed:
        rows.append([_tap(ui, household.id, HouseholdChoice.START, "visits.button_start")])
        if await ui.services.visits.may_review(ui.user_id, household):
            rows.append([_tap(ui, household.id, HouseholdChoice.REASSIGN, "visits.button_reassign")])
    await ui.send_text(text, InlineKeyboardMarkup(rows) if rows else None)


def _tap(ui: Ui, household_id: int, action: HouseholdChoice, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(ui.t(key), callback_data=HouseholdTap(household=household_id, action=action).pack())
