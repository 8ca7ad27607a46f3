"""/volunteer (also a button under /profile): a volunteer's optional profile, and /counsellor
@someone, with which a cadre confirms a counsellor's training.

kind → university or employer → skills and subjects → availability (tick any) → home area →
origin (Hong Kong, Macau, Taiwan, or none) → saved. Every step can be skipped.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.sunshine.rules import AREA_MAX, EMPLOYER_MAX, parse_tags, short_text
from bot.model.sunshine import Availability, Origin, VolunteerKind, VolunteerProfile
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of


class VolunteerProfileFlow(Flow):
    name = "sv"

    def _skip(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "sunshine.button_skip")], self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await self.go(ui, "kind", {})
        rows = [[self.choice(ui, "kind", kind.value, f"sunshine.kind_{kind.value}")] for kind in VolunteerKind]
        rows.append([self.choice(ui, "kind", "skip", "sunshine.button_skip")])
        await ui.reply("sunshine.ask_kind", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))

    async def choice_kind(self, ui: Ui, data: dict, value: str) -> None:
        if value != "skip" and value not in {kind.value for kind in VolunteerKind}:
            raise DomainError("common.button_expired")
        await self.go(ui, "employer", {"kind": None if value == "skip" else value})
        await ui.reply("sunshine.ask_employer", self._skip(ui, "employer"))

    async def text_employer(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_skills(ui, {**data, "employer": short_text(text, EMPLOYER_MAX, "sunshine.text_too_long")})

    async def choice_employer(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_skills(ui, {**data, "employer": None})

    async def _ask_skills(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "skills", data)
        await ui.reply("sunshine.ask_skills", self._skip(ui, "skills"))

    async def text_skills(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_availability(ui, {**data, "skills": list(parse_tags(text))})

    async def choice_skills(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_availability(ui, {**data, "skills": []})

    async def _ask_availability(self, ui: Ui, data: dict, *, edit: bool = False) -> None:
        data = {**data, "available": data.get("available", [])}
        await self.go(ui, "available", data)
        rows = [
            [
                self.button(
                    ui,
                    "available",
                    value.value,
                    ("✅ " if value.value in data["available"] else "") + ui.t(f"sunshine.available_{value.value}"),
                )
            ]
            for value in Availability
        ]
        rows.append([self.choice(ui, "available", "done", "sunshine.button_done")])
        markup = InlineKeyboardMarkup([*rows, self.cancel_row(ui)])
        if edit:
            await ui.edit("sunshine.ask_available", markup)
        else:
            await ui.reply("sunshine.ask_available", markup)

    async def choice_available(self, ui: Ui, data: dict, value: str) -> None:
        if value == "done":
            await self.go(ui, "area", data)
            await ui.reply("sunshine.ask_area", self._skip(ui, "area"))
            return
        if value not in {item.value for item in Availability}:
            raise DomainError("common.button_expired")
        chosen = list(data["available"])
        chosen = [item for item in chosen if item != value] if value in chosen else [*chosen, value]
        await self._ask_availability(ui, {**data, "available": chosen}, edit=True)

    async def text_area(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_origin(ui, {**data, "area": short_text(text, AREA_MAX, "sunshine.text_too_long")})

    async def choice_area(self, ui: Ui, data: dict, value: str) -> None:
        await self._ask_origin(ui, {**data, "area": None})

    async def _ask_origin(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "origin", data)
        rows = [[self.choice(ui, "origin", origin.value, f"sunshine.origin_{origin.value}")] for origin in Origin]
        rows.append([self.choice(ui, "origin", "none", "sunshine.origin_none")])
        await ui.reply("sunshine.ask_origin", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))

    async def choice_origin(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none" and value not in {origin.value for origin in Origin}:
            raise DomainError("common.button_expired")
        profile = VolunteerProfile(
            user_id=ui.user_id,
            kind=VolunteerKind(data["kind"]) if data["kind"] else None,
            employer=data["employer"],
            skills=tuple(data["skills"]),
            availability=tuple(Availability(value) for value in data["available"]),
            home_area=data["area"],
            origin=None if value == "none" else Origin(value),
        )
        await ui.services.sunshine.save_profile(profile)
        await self.finish(ui)
        none = ui.t("sunshine.none")
        await ui.edit(
            "sunshine.profile_saved",
            kind=ui.t(f"sunshine.kind_{profile.kind.value}") if profile.kind else none,
            employer=profile.employer or none,
            skills=ui.t("sunshine.list_separator").join(profile.skills) or none,
            available=ui.t("sunshine.list_separator").join(
                ui.t(f"sunshine.available_{item.value}") for item in profile.availability
            )
            or none,
            area=profile.home_area or none,
            origin=ui.t(f"sunshine.origin_{profile.origin.value}") if profile.origin else none,
        )


async def volunteer_command(update: Update, context: BotContext) -> None:
    await flow_of(context, VolunteerProfileFlow).start(Ui(update, context))


async def counsellor_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    args = context.args or []
    if len(args) != 1:
        raise DomainError("sunshine.counsellor_usage")
    person = await ui.services.people.find(args[0])
    await ui.services.sunshine.confirm_counsellor(ui.user_id, person.user_id)
    await ui.reply("sunshine.counsellor_done", name=person.display_name)
