"""The visit, in the visitor's private chat: met → circumstances match → note → each checklist
item → location → photos → outcome → reason. Every answer is saved by the domain at once (the
visit's own step, in the database), so a visit left half-way resumes where it stopped, even
after the conversation expired: /visits → the household → 继续走访.

The conversation keeps only the visit's id; what the visitor typed lives in the visit's
private record (bot/domain/visits). Nothing here logs message text."""

from __future__ import annotations

from telegram import Document, InlineKeyboardMarkup, Location

from bot.domain.errors import DomainError
from bot.domain.visits import Filing
from bot.domain.visits.rules import PHOTOS_MAX
from bot.model.visits import Matches, Outcome, Step
from handlers.context import Ui
from handlers.flow import Flow
from handlers.visits.hub import refresh_progress
from handlers.wishes.photos import photo_from_document

_OUTCOME_ORDER = (Outcome.NOT_ELIGIBLE, Outcome.UNREACHABLE, Outcome.VERIFIED)


class VisitFlow(Flow):
    name = "vv"

    async def start(self, ui: Ui, household_id: int, **kwargs: object) -> None:
        filing = await ui.services.visits.start(ui.user_id, household_id)
        if filing.resumed:
            await ui.reply("visits.resumed", alias=filing.household.alias)
        await self.ask(ui, filing)

    def _markup(self, ui: Ui, step: str, choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
        rows = [[self.choice(ui, step, value, key)] for value, key in choices]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    async def ask(self, ui: Ui, filing: Filing) -> None:
        """Ask the question of the visit's step (saved as the conversation's step too)."""
        visit = filing.visit
        step = visit.step
        await self.go(ui, step.value, {"visit": visit.id})
        alias = filing.household.alias
        if step is Step.MET:
            markup = self._markup(ui, "met", [("yes", "visits.button_met_yes"), ("no", "visits.button_met_no")])
            await ui.reply("visits.ask_met", markup, alias=alias)
        elif step is Step.MATCHES:
            choices = [(m.value, f"visits.matches_{m.value}") for m in Matches]
            await ui.reply("visits.ask_matches", self._markup(ui, "matches", choices), alias=alias)
        elif step is Step.MATCH_NOTE:
            if visit.matches is Matches.YES:
                markup = self._markup(ui, "match_note", [("skip", "visits.button_skip")])
                await ui.reply("visits.ask_match_note_optional", markup)
            else:
                await ui.reply("visits.ask_match_note", InlineKeyboardMarkup([self.cancel_row(ui)]))
        elif step is Step.ITEM:
            await ui.reply(
                "visits.ask_item",
                InlineKeyboardMarkup([self.cancel_row(ui)]),
                item=filing.next_item or "",
                done=len(visit.items_done) + 1,
                total=len(filing.campaign.checklist),
            )
        elif step is Step.LOCATION:
            await ui.reply("visits.ask_location", InlineKeyboardMarkup([self.cancel_row(ui)]))
        elif step is Step.PHOTOS and visit.photos:
            await self.go(ui, "more_photos", {"visit": visit.id})
            await ui.reply("visits.photo_received", self._more_markup(ui), count=visit.photos, max=PHOTOS_MAX)
        elif step is Step.PHOTOS:
            await ui.reply("visits.ask_photos", InlineKeyboardMarkup([self.cancel_row(ui)]), max=PHOTOS_MAX)
        elif step is Step.OUTCOME:
            # The outcomes that need a reason first, the plain "verified" last, nearest the thumb.
            choices = [(o.value, f"visits.button_outcome_{o.value}") for o in _OUTCOME_ORDER]
            await ui.reply("visits.ask_outcome", self._markup(ui, "outcome", choices), alias=alias)
        elif step is Step.REASON:
            key = "visits.ask_reason_unreachable" if visit.outcome is Outcome.UNREACHABLE else "visits.ask_reason"
            await ui.reply(key, InlineKeyboardMarkup([self.cancel_row(ui)]))
        else:
            await self.finish(ui)

    def _more_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return self._markup(ui, "more_photos", [("done", "visits.button_photos_done")])

    @staticmethod
    def _visit(data: dict) -> int:
        return int(data["visit"])

    async def _next(self, ui: Ui, filing: Filing) -> None:
        if filing.visit.step is Step.DONE:
            await self.finish(ui)
            key = "visits.submitted_far" if filing.visit.far else "visits.submitted"
            await ui.reply(key, alias=filing.household.alias, km=filing.visit.distance_km or 0)
            await refresh_progress(ui.context.application, filing.campaign.id)
            return
        await self.ask(ui, filing)

    # ---- the answers ---------------------------------------------------------------------------
    async def choice_met(self, ui: Ui, data: dict, value: str) -> None:
        if value not in ("yes", "no"):
            raise DomainError("common.button_expired")
        await self._next(ui, await ui.services.visits.answer_met(ui.user_id, self._visit(data), value == "yes"))

    async def choice_matches(self, ui: Ui, data: dict, value: str) -> None:
        try:
            matches = Matches(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        await self._next(ui, await ui.services.visits.answer_matches(ui.user_id, self._visit(data), matches))

    async def choice_match_note(self, ui: Ui, data: dict, value: str) -> None:
        if value != "skip":
            raise DomainError("common.button_expired")
        await self._next(ui, await ui.services.visits.answer_match_note(ui.user_id, self._visit(data), None))

    async def text_match_note(self, ui: Ui, data: dict, text: str) -> None:
        await self._next(ui, await ui.services.visits.answer_match_note(ui.user_id, self._visit(data), text))

    async def text_item(self, ui: Ui, data: dict, text: str) -> None:
        await self._next(ui, await ui.services.visits.answer_item(ui.user_id, self._visit(data), text))

    async def location_location(self, ui: Ui, data: dict, location: Location) -> None:
        filing = await ui.services.visits.answer_location(
            ui.user_id, self._visit(data), location.latitude, location.longitude
        )
        await self._next(ui, filing)

    async def text_location(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("visits.location_expected")

    # The first photo (step "photos"), then more or done (step "more_photos").
    async def photo_photos(self, ui: Ui, data: dict, file_id: str) -> None:
        count = await ui.services.visits.add_photo(ui.user_id, self._visit(data), file_id)
        await self.go(ui, "more_photos", data)
        await ui.reply("visits.photo_received", self._more_markup(ui), count=count, max=PHOTOS_MAX)

    async def document_photos(self, ui: Ui, data: dict, document: Document) -> None:
        await self.photo_photos(ui, data, await photo_from_document(ui, document))

    async def text_photos(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("visits.photo_expected")

    photo_more_photos = photo_photos
    document_more_photos = document_photos
    text_more_photos = text_photos

    async def choice_more_photos(self, ui: Ui, data: dict, value: str) -> None:
        if value != "done":
            raise DomainError("common.button_expired")
        await self._next(ui, await ui.services.visits.photos_done(ui.user_id, self._visit(data)))

    async def choice_outcome(self, ui: Ui, data: dict, value: str) -> None:
        try:
            outcome = Outcome(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        await self._next(ui, await ui.services.visits.answer_outcome(ui.user_id, self._visit(data), outcome))

    async def text_reason(self, ui: Ui, data: dict, text: str) -> None:
        await self._next(ui, await ui.services.visits.answer_reason(ui.user_id, self._visit(data), text))
