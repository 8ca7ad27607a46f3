"""Review: the team's leader and the county admins see each submitted visit (its answers,
location flag and photos; the household's private details: audited) and mark it approved, has
issues (with a comment the visitor gets, through the outbox) or rejected. Private chat only."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.domain.visits import ReviewCard
from bot.model.outbox import OutboxMessage
from bot.model.visits import VisitStatus
from handlers.context import BotContext, Ui, best_effort, reader_translator, services_of
from handlers.flow import Flow, flow_of
from handlers.i18n import Raw, Translator
from handlers.outbox import Rendered, Skip
from handlers.visits.buttons import ReviewChoice, ReviewTap
from handlers.visits.hub import refresh_progress
from handlers.visits.mine import details_text

LIST_BUTTONS = 15
_DECISIONS = {ReviewChoice.APPROVE: VisitStatus.APPROVED, ReviewChoice.REJECT: VisitStatus.REJECTED}


async def review_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    waiting = []
    for campaign in await ui.services.visits.campaigns(open_only=True):
        waiting += await ui.services.visits.to_review(ui.user_id, campaign.id)
    if not waiting:
        await ui.reply("visits.review_none")
        return
    rows = [
        [
            InlineKeyboardButton(
                ui.t("visits.review_button", alias=household.alias, far=ui.t("visits.far_mark") if visit.far else ""),
                callback_data=ReviewTap(visit=visit.id, action=ReviewChoice.OPEN).pack(),
            )
        ]
        for visit, household in waiting[:LIST_BUTTONS]
    ]
    await ui.reply("visits.review_title", InlineKeyboardMarkup(rows), count=len(waiting))


def card_text(t: Translator, card: ReviewCard, township: str, visitor: str) -> str:
    visit, notes = card.visit, card.notes
    blank = t("visits.blank")
    items = "\n".join(t("visits.review_item", item=item, answer=answer) for item, answer in notes.item_answers.items())
    answers = t(
        "visits.review_answers",
        visitor=visitor,
        met=t("visits.word_yes" if visit.met else "visits.word_no"),
        matches=t(f"visits.matches_{visit.matches.value}") if visit.matches else blank,
        note=notes.match_note or blank,
        items=Raw(items) if items else blank,
        located=t("visits.word_yes" if visit.located else "visits.word_no"),
        photos=visit.photos,
        outcome=t(f"visits.outcome_{visit.outcome.value}") if visit.outcome else blank,
        reason=notes.reason or blank,
    )
    far = t("visits.review_far", km=visit.distance_km or 0) if visit.far else ""
    return "\n\n".join(part for part in (details_text(t, card.household, township, card.details), answers, far) if part)


async def review_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = ReviewTap.unpack(ui.callback_data)
    visits = ui.services.visits
    if tap.action == ReviewChoice.OPEN:
        await ui.answer()
        card = await visits.review_card(ui.user_id, tap.visit)
        names = {org_id: name for name, org_id in (await visits.township_names()).items()}
        person = await ui.services.people.get(card.visit.visitor_id)
        text = card_text(ui.t, card, names.get(card.household.township_id, ""), person.display_name if person else "")
        for file_id in card.photos:
            await best_effort(ui.context.bot.send_photo(ui.chat_id, file_id), "review photo to %s", ui.user_id)
        buttons = [
            InlineKeyboardButton(
                ui.t(f"visits.button_review_{choice.value}"),
                callback_data=ReviewTap(visit=tap.visit, action=choice).pack(),
            )
            for choice in (ReviewChoice.APPROVE, ReviewChoice.ISSUES, ReviewChoice.REJECT)
        ]
        await ui.send_text(text, InlineKeyboardMarkup([buttons]))
        return
    if tap.action == ReviewChoice.ISSUES:
        await ui.answer()
        await flow_of(context, ReviewCommentFlow).start(ui, tap.visit)
        return
    decision = _DECISIONS.get(ReviewChoice(tap.action)) if tap.action in set(ReviewChoice) else None
    if decision is None:
        await ui.answer("common.button_expired", alert=True)
        return
    visit = await visits.review(ui.user_id, tap.visit, decision)
    await ui.answer(f"visits.reviewed_{decision.value}")
    household = await visits.household(visit.household_id)
    await ui.edit(f"visits.reviewed_{decision.value}_text", alias=household.alias)
    await refresh_progress(ui.context.application, household.campaign_id)


class ReviewCommentFlow(Flow):
    """Has issues: the comment the visitor gets (required)."""

    name = "vq"

    async def start(self, ui: Ui, visit_id: int, **kwargs: object) -> None:
        await self.go(ui, "comment", {"visit": visit_id})
        await ui.reply("visits.ask_comment", InlineKeyboardMarkup([self.cancel_row(ui)]))

    async def text_comment(self, ui: Ui, data: dict, text: str) -> None:
        visits = ui.services.visits
        visit = await visits.review(ui.user_id, int(data["visit"]), VisitStatus.HAS_ISSUES, text)
        await self.finish(ui)
        household = await visits.household(visit.household_id)
        await ui.reply("visits.reviewed_has_issues_text", alias=household.alias)
        await refresh_progress(ui.context.application, household.campaign_id)


async def render_reviewed(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """The visitor's note: their visit has issues (with the comment) or was rejected."""
    services = services_of(application)
    try:
        visit = await services.visits.visit(message.param("visit"))
    except DomainError:
        return Skip("the visit is gone")
    household = await services.visits.household(visit.household_id)
    person = await services.people.get(message.chat_id)
    t = reader_translator(services, person)
    if message.params.get("decision") == VisitStatus.HAS_ISSUES.value:
        comment = await services.visits.review_note(visit.id) or t("visits.blank")
        return Rendered(t("visits.note_has_issues", alias=household.alias, comment=comment))
    return Rendered(t("visits.note_rejected", alias=household.alias))


async def render_handed_back(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """The team leader's note: a member left, their households are the leader's now."""
    services = services_of(application)
    campaign = await services.visits.campaign(message.param("campaign"))
    if campaign.closed:
        return Skip("the campaign has ended")
    person = await services.people.get(message.param("person"))
    t = reader_translator(services, await services.people.get(message.chat_id))
    return Rendered(
        t(
            "visits.note_handed_back",
            name=person.display_name if person else t("visits.blank"),
            count=message.param("count"),
            title=campaign.title,
        )
    )
