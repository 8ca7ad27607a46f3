"""/newactivity: the private conversation that creates an activity and publishes it."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Location, Update

from bot.domain.activities import ActivityDraft
from bot.domain.activity_values import typed_people
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.formatting import local_text
from bot.model.activity import Category, Place
from handlers.activities.post import publish, publish_report
from handlers.activities.render import category_label, people_text, place_text, show, when_text, yes_no
from handlers.activities.steps import ActivitySteps, parse_end, typed_count
from handlers.context import BotContext, Ui, clean
from handlers.flow import choice_id, flow_of, page_number
from handlers.i18n import Raw
from handlers.typed_time import parse_start

DEFAULT_RADIUS = 500


class NewActivityFlow(ActivitySteps):
    """Organisation → title → category → start → end → place → location → radius → volunteer
    slots → people served → deed? → hub? (county admins) → confirm."""

    name = "na"

    async def _orgs(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        """Where this person may create activities: the organisations they may act for."""
        orgs = await ui.services.orgs.visible_to(ui.user_id)
        return [(org.id, org.name) for org in orgs if not search or search.lower() in org.name.lower()]

    async def start(self, ui: Ui, **kwargs: object) -> None:
        orgs = await self._orgs(ui)
        if not orgs:
            await self.finish(ui)
            await ui.reply("activities.new_no_org")
            return
        if len(orgs) == 1:
            await self._ask_title(ui, {"org_id": orgs[0][0]})
            return
        await self.go(ui, "org", {})
        await ui.reply("activities.ask_org", self.paged(ui, "org", orgs, 0))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        orgs = await self._orgs(ui, data.get("search"))
        if page is not None:
            await ui.edit("activities.ask_org", self.paged(ui, "org", orgs, page))
            return
        org_id = choice_id(value)
        if org_id not in {item for item, _ in await self._orgs(ui)}:
            raise DomainError("activities.org_not_yours")
        await self._ask_title(ui, {"org_id": org_id})

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        search = clean(text)[:30]
        found = await self._orgs(ui, search)
        if not found:
            raise DomainError("activities.org_search_nothing", text=search)
        await self.go(ui, "org", {"search": search})
        await ui.reply("activities.org_search_results", self.paged(ui, "org", found, 0), count=len(found))

    async def _ask_title(self, ui: Ui, data: dict) -> None:
        org = await ui.services.orgs.get(data["org_id"])
        await self.go(ui, "title", data)
        await show(ui, ui.t("activities.ask_title", org=org.name), self.cancel_markup(ui))

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        title = ui.services.activities.check_title(text)
        await self.go(ui, "category", {**data, "title": title})
        await ui.reply("activities.ask_category", self.category_markup(ui), title=title)

    async def choice_category(self, ui: Ui, data: dict, value: str) -> None:
        await self._category_chosen(ui, data, self.category_from_button(value))

    async def text_category(self, ui: Ui, data: dict, text: str) -> None:
        await self._category_chosen(ui, data, self.category_from_text(ui, text))

    async def _category_chosen(self, ui: Ui, data: dict, category: Category) -> None:
        await self.go(ui, "start", {**data, "category": category.value})
        await show(
            ui,
            ui.t("activities.ask_start", category=category_label(ui.t, category)),
            self.cancel_markup(ui),
        )

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "activities")
        if starts_at <= ui.services.clock.now():
            raise DomainError("activities.start_in_past", when=local_text(starts_at, ui.services.config.zone))
        await self.go(ui, "end", {**data, "starts_at": starts_at.isoformat()})
        await self.ask_end(ui, starts_at)

    async def text_end(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = datetime.fromisoformat(data["starts_at"])
        ends_at = parse_end(ui, starts_at, text)
        ui.services.activities.check_times(starts_at, ends_at)
        await self.go(ui, "place", {**data, "ends_at": ends_at.isoformat()})
        await ui.reply(
            "activities.ask_place",
            self.cancel_markup(ui),
            when=Raw(when_text(ui.t, ui.services.config.zone, starts_at, ends_at)),
        )

    async def text_place(self, ui: Ui, data: dict, text: str) -> None:
        place = ui.services.activities.check_place_text(clean(text))
        await self.go(ui, "location", {**data, "place": place})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "location", "skip", "activities.button_skip_location")], self.cancel_row(ui)]
        )
        await ui.reply("activities.ask_location", markup, place=place)

    async def location_location(self, ui: Ui, data: dict, location: Location) -> None:
        data = {**data, "latitude": location.latitude, "longitude": location.longitude}
        await self.go(ui, "radius", data)
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "radius", str(DEFAULT_RADIUS), "activities.button_radius", radius=DEFAULT_RADIUS)],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("activities.ask_radius", markup, radius=DEFAULT_RADIUS)

    async def text_location(self, ui: Ui, data: dict, text: str) -> None:
        if clean(text).lower() in (ui.t("activities.skip_word").lower(), "skip"):
            await self._ask_slots(ui, data)
            return
        raise DomainError("activities.location_expected")

    async def choice_location(self, ui: Ui, data: dict, value: str) -> None:
        if value != "skip":
            raise DomainError("common.button_expired")
        await self._ask_slots(ui, data)

    async def text_radius(self, ui: Ui, data: dict, text: str) -> None:
        digits = clean(text).lower().removesuffix("米").removesuffix("m").strip()
        await self._ask_slots(ui, {**data, "radius": ui.services.activities.check_radius(digits)})

    async def choice_radius(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_slots(ui, {**data, "radius": ui.services.activities.check_radius(value)})

    async def _ask_slots(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "slots", data)
        await show(ui, ui.t("activities.ask_slots"), self.cancel_markup(ui))

    async def text_slots(self, ui: Ui, data: dict, text: str) -> None:
        slots = ui.services.activities.check_slots(typed_count(text))
        await self.go(ui, "expected", {**data, "slots": slots})
        await ui.reply("activities.ask_expected", self.cancel_markup(ui))

    async def text_expected(self, ui: Ui, data: dict, text: str) -> None:
        expected = ui.services.activities.check_expected(text)
        about = typed_people(text).about  # "约30人" is quoted back as "约 30 人", and 30 is kept
        await self.go(ui, "deed", {**data, "expected": expected, "expected_about": about})
        noted = ui.t("activities.expected_noted", people=people_text(ui.t, expected, about))
        await ui.send_text(
            noted + "\n" + ui.t("activities.ask_deed"),
            self.yes_no_markup(ui, "deed", "activities.button_deed_yes", "activities.button_deed_no"),
        )

    async def choice_deed(self, ui: Ui, data: dict, value: str) -> None:
        data = {**data, "deed": self.yes_no_from_button(value)}
        hub = await ui.services.groups.hub()
        if await ui.services.activities.may_post_in_hub(ui.user_id) and hub is not None and hub.active:
            await self.go(ui, "hub", data)
            await ui.edit(
                "activities.ask_hub",
                self.yes_no_markup(ui, "hub", "activities.button_hub_yes", "activities.button_hub_no"),
                hub=hub.title,
            )
            return
        await self._confirm(ui, {**data, "hub": False})

    async def choice_hub(self, ui: Ui, data: dict, value: str) -> None:
        if not await ui.services.activities.may_post_in_hub(ui.user_id):
            raise PermissionDenied("errors.county_admin_only")
        await self._confirm(ui, {**data, "hub": self.yes_no_from_button(value), "hub_asked": True})

    def _draft(self, data: dict) -> ActivityDraft:
        place = Place(data["place"], data.get("latitude"), data.get("longitude"), data.get("radius"))
        return ActivityDraft(
            org_id=data["org_id"],
            title=data["title"],
            category=Category(data["category"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            place=place,
            slots=data["slots"],
            expected_served=data["expected"],
            counts_as_deed=data["deed"],
            also_hub=data["hub"],
        )

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        draft = self._draft(data)
        org = await ui.services.orgs.get(draft.org_id)
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "activities.button_create")], self.cancel_row(ui)]
        )
        await ui.edit(
            "activities.confirm",
            markup,
            org=org.name,
            title=draft.title,
            category=category_label(ui.t, draft.category),
            when=Raw(when_text(ui.t, ui.services.config.zone, draft.starts_at, draft.ends_at)),
            place=Raw(place_text(ui.t, draft.place)),
            slots=draft.slots,
            expected=people_text(ui.t, draft.expected_served, data.get("expected_about", False)),
            deed=yes_no(ui.t, draft.counts_as_deed),
            # Only a choice the person was asked for is shown back to them.
            hub_line=ui.t.raw("activities.confirm_hub", answer=yes_no(ui.t, draft.also_hub))
            if data.get("hub_asked")
            else Raw(""),
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        try:
            activity = await ui.services.activities.create(ui.user_id, self._draft(data))
        except DomainError as error:
            if error.key in ("activities.err_start_in_past", "activities.err_end_in_past"):
                # The start passed while they were deciding: ask for the time again.
                await self.go(ui, "start", {key: data[key] for key in ("org_id", "title", "category")})
                raise DomainError("activities.start_passed") from None
            raise
        await self.finish(ui)
        org = await ui.services.orgs.get(activity.org_id)
        published = await publish(ui.context.application, activity)
        await ui.edit(
            "activities.created",
            title=activity.title,
            code=activity.code,
            published=publish_report(ui, published, org.name, activity.code),
        )


async def newactivity_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewActivityFlow).start(Ui(update, context))
