"""/editactivity A12: pick what to change, type (or tap) the new value; the group is told what changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.model.activity import Activity, Place
from handlers.activities.post import announce, refresh_posts
from handlers.activities.render import category_label, show, when_text, yes_no
from handlers.activities.steps import ActivitySteps, activity_for_organiser, parse_end, typed_count
from handlers.context import BotContext, Ui, clean, group_t
from handlers.flow import flow_of
from handlers.i18n import Raw, Translator
from handlers.typed_time import parse_start

_EDIT_FIELDS = ("title", "category", "time", "place", "slots", "expected", "deed")
_ANNOUNCED = ("title", "category", "starts_at", "ends_at", "place", "slots")


class EditActivityFlow(ActivitySteps):
    """Pick what to change, type (or tap) the new value; the group is told what changed."""

    name = "ea"

    async def start(self, ui: Ui, activity_id: int | None = None, code: str | None = None, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id if activity_id is not None else code or "")
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        await self.go(ui, "field", {"activity_id": activity.id})
        rows = [[self.choice(ui, "field", field, f"activities.field_{field}")] for field in _EDIT_FIELDS]
        markup = InlineKeyboardMarkup([*rows, self.cancel_row(ui)])
        await ui.send_text(
            ui.t(
                "activities.edit_pick",
                title=activity.title,
                code=activity.code,
                when=Raw(when_text(ui.t, ui.services.config.zone, activity.starts_at, activity.ends_at)),
            ),
            markup,
        )

    async def choice_field(self, ui: Ui, data: dict, value: str) -> None:
        if value not in _EDIT_FIELDS:
            raise DomainError("common.button_expired")
        activity = await activity_for_organiser(ui, data["activity_id"])
        if value == "category":
            await self.go(ui, "category", data)
            await ui.edit(
                "activities.edit_ask_category",
                self.category_markup(ui),
                current=category_label(ui.t, activity.category),
            )
            return
        if value == "deed":
            await self.go(ui, "deed", data)
            await ui.edit(
                "activities.edit_ask_deed",
                self.yes_no_markup(ui, "deed", "activities.button_deed_yes", "activities.button_deed_no"),
                current=yes_no(ui.t, activity.counts_as_deed),
            )
            return
        step = "start" if value == "time" else value
        current = {
            "title": activity.title,
            "start": when_text(ui.t, ui.services.config.zone, activity.starts_at, activity.ends_at),
            "place": activity.place.text,
            "slots": str(activity.slots),
            "expected": str(activity.expected_served),
        }[step]
        await self.go(ui, step, data)
        await ui.edit(f"activities.edit_ask_{step}", self.cancel_markup(ui), current=current)

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        await self._apply(ui, data, title=ui.services.activities.check_title(text))

    async def choice_category(self, ui: Ui, data: dict, value: str) -> None:
        await self._apply(ui, data, category=self.category_from_button(value))

    async def text_category(self, ui: Ui, data: dict, text: str) -> None:
        await self._apply(ui, data, category=self.category_from_text(ui, text))

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "activities")
        await self.go(ui, "end", {**data, "starts_at": starts_at.isoformat()})
        await self.ask_end(ui, starts_at)

    async def text_end(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = datetime.fromisoformat(data["starts_at"])
        ends_at = parse_end(ui, starts_at, text)
        ui.services.activities.check_times(starts_at, ends_at)
        await self._apply(ui, data, starts_at=starts_at, ends_at=ends_at)

    async def text_place(self, ui: Ui, data: dict, text: str) -> None:
        place = ui.services.activities.check_place_text(clean(text))
        activity = await activity_for_organiser(ui, data["activity_id"])
        old = activity.place
        await self._apply(ui, data, place=Place(place, old.latitude, old.longitude, old.radius_m))

    async def text_slots(self, ui: Ui, data: dict, text: str) -> None:
        await self._apply(ui, data, slots=ui.services.activities.check_slots(typed_count(text)))

    async def text_expected(self, ui: Ui, data: dict, text: str) -> None:
        expected = ui.services.activities.check_expected(text)
        await self._apply(ui, data, expected_served=expected)

    async def choice_deed(self, ui: Ui, data: dict, value: str) -> None:
        await self._apply(ui, data, counts_as_deed=self.yes_no_from_button(value))

    async def _apply(self, ui: Ui, data: dict, **changes: object) -> None:
        # Volunteers promoted from the waitlist are told through the outbox (queued by the edit).
        activity, changed, _ = await ui.services.activities.edit(ui.user_id, data["activity_id"], **changes)
        await self.finish(ui)
        if not changed:
            await show(ui, ui.t("activities.edit_nothing", code=activity.code))
            return
        t = ui.t
        await show(
            ui,
            t(
                "activities.edited",
                code=activity.code,
                title=activity.title,
                changes=Raw(change_lines(t, ui.services.config.zone, activity, changed)),
            ),
        )
        application = ui.context.application
        announced = [field for field in changed if field in _ANNOUNCED]
        if announced:
            g = group_t(ui.services)
            await announce(
                application,
                activity.id,
                g(
                    "activities.changed_notice",
                    code=activity.code,
                    title=activity.title,
                    changes=Raw(change_lines(g, ui.services.config.zone, activity, announced)),
                ),
            )
        await refresh_posts(application, activity.id)


def change_lines(t: Translator, zone: ZoneInfo, activity: Activity, changed: list[str]) -> str:
    lines = []
    done_time = False
    for field in changed:
        if field in ("starts_at", "ends_at"):
            if done_time:
                continue
            done_time = True
            when = when_text(t, zone, activity.starts_at, activity.ends_at)
            lines.append(t("activities.change_line", field=t("activities.field_time"), value=Raw(when)))
            continue
        value: Callable[[], str] | None = {
            "title": lambda: activity.title,
            "category": lambda: category_label(t, activity.category),
            "place": lambda: activity.place.text,
            "slots": lambda: str(activity.slots),
            "expected_served": lambda: str(activity.expected_served),
            "counts_as_deed": lambda: yes_no(t, activity.counts_as_deed),
        }.get(field)
        if value is None:
            continue
        key = {"expected_served": "expected", "counts_as_deed": "deed"}.get(field, field)
        lines.append(t("activities.change_line", field=t(f"activities.field_{key}"), value=value()))
    return "\n".join(lines)


async def editactivity_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("activities.edit_usage")
        return
    await flow_of(context, EditActivityFlow).start(ui, code=context.args[0])
