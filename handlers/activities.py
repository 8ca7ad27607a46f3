"""Volunteer activities: creating, publishing, signing up, organising, and the summary afterwards.

/newactivity (a private conversation) creates an activity; it is posted into the organisation's
group (and the hub when asked) with a sign-up button that shows `报名 12/20`. Taps never edit the
post one by one: the count is refreshed through handlers/live_message.py, which coalesces a burst
of taps into one edit. Organisers use /activities, /attendance A12, /editactivity A12 and
/cancelactivity A12; every action is re-checked by the domain (bot/activities.py,
bot/attendance.py). One repeating job sends each ended activity's summary to its group and asks
the organiser to confirm the number of people served. Group check-in is handlers/checkin.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Location, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application, CallbackContext

from bot.domain.activities import ActivityDraft, Roster
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.schedule_grammar import parse_schedule
from bot.domain.services import Services
from bot.model.activity import Activity, Category, Place
from handlers.callback_data import CallbackData
from handlers.context import (
    BotContext,
    MarkupFor,
    Ui,
    clean,
    group_t,
    notify_user,
    services_of,
)
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.gate import is_anonymous_admin
from handlers.i18n import Raw, Translator
from handlers.live_message import request_refresh
from handlers.typed_time import parse_start

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupTap(CallbackData, prefix="as"):
    """in | out"""

    activity: int
    action: str


@dataclass(frozen=True)
class OrganiserAction(CallbackData, prefix="ao"):
    activity: int
    action: str
    user: int


@dataclass(frozen=True)
class ServedAnswer(CallbackData, prefix="sv"):
    """ok | other"""

    activity: int
    action: str


_ORGANISER_ACTIONS = ("sheet", "ns", "fix", "rm", "edit", "cancel", "post")
SUMMARY_JOB = "activities:summaries"
LIST_SHOWN = 20
MESSAGE_BUDGET = 3500  # characters of HTML per message; Telegram allows 4096 after parsing
SHEET_BUDGET = 2500  # of which the lines of an attendance sheet (the rest: header, names, hints)
NAMES_SHOWN = 60
DEFAULT_RADIUS = 500
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})")
_DURATION_RE = re.compile(
    r"(?:(?P<hours>\d+(?:\.\d+)?)\s*(?:个)?\s*(?:小时|钟头|h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<minutes>\d+)\s*(?:分钟|分|m|min|mins|minute|minutes))?"
)
_YES_NO = {"yes": True, "no": False}


# ---- small renderings ---------------------------------------------------------------------------


def normalise_code(text: str | None) -> str | None:
    if not text:
        return None
    return clean(text).upper()


def category_label(t: Translator, category: Category | str) -> str:
    return t(f"activities.category.{Category(category).value}")


def when_text(t: Translator, zone: ZoneInfo, starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    weekday = t(f"schedule.weekday_{start.weekday()}")
    if start.date() == end.date():
        return t(
            "activities.when_same_day",
            date=f"{start:%Y-%m-%d}",
            weekday=weekday,
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
        )
    return t(
        "activities.when_days",
        date=f"{start:%Y-%m-%d}",
        weekday=weekday,
        start=f"{start:%H:%M}",
        end_date=f"{end:%Y-%m-%d}",
        end=f"{end:%H:%M}",
    )


def clock_text(zone: ZoneInfo, moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(zone):%H:%M}"


def duration_text(t: Translator, minutes: int) -> str:
    hours, rest = divmod(max(0, int(minutes)), 60)
    if hours and rest:
        return t("activities.duration_hm", hours=hours, minutes=rest)
    if hours:
        return t("activities.duration_h", hours=hours)
    return t("activities.duration_m", minutes=rest)


def place_text(t: Translator, place: Place) -> str:
    if place.radius_m:
        return t("activities.place_with_radius", place=place.text, radius=place.radius_m)
    return t("activities.place_plain", place=place.text)


def yes_no(t: Translator, value: bool) -> str:
    return t("activities.yes" if value else "activities.no")


def fit(t: Translator, lines: list[str], budget: int) -> list[str]:
    """As many lines as fit in `budget` characters, then a note of how many were left out."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            return [*kept, t("activities.lines_more", count=len(lines) - index)]
        kept.append(line)
        used += len(line) + 1
    return kept


def names(t: Translator, people: dict, user_ids: list[int] | tuple[int, ...]) -> str:
    return t("activities.name_separator").join(
        people[user_id].display_name if user_id in people else str(user_id) for user_id in user_ids
    )


# ---- the group post -----------------------------------------------------------------------------
async def post_view(
    services: Services, activity: Activity, roster: Roster | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The post's text and buttons as they should look now (cancelled and ended posts lose buttons)."""
    t = group_t(services)
    zone = services.config.zone
    org = await services.orgs.get(activity.org_id)
    roster = roster or await services.activities.roster(activity.id)
    waitlist = t.raw("activities.post_waitlist", count=len(roster.waitlist)) if roster.waitlist else Raw("")
    ended = services.clock.now() >= activity.ends_at
    if activity.cancelled:
        header = t.raw("activities.post_header_cancelled")
    elif ended:
        header = t.raw("activities.post_header_ended")
    else:
        header = t.raw("activities.post_header")
    text = t(
        "activities.post",
        header=header,
        title=activity.title,
        code=activity.code,
        org=org.name,
        category=category_label(t, activity.category),
        when=Raw(when_text(t, zone, activity.starts_at, activity.ends_at)),
        place=Raw(place_text(t, activity.place)),
        signed=len(roster.signed),
        slots=activity.slots,
        waitlist=waitlist,
        footer=t.raw("activities.post_footer") if not activity.cancelled and not ended else Raw(""),
    )
    if activity.cancelled or ended:
        return text, None
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("activities.button_signup", signed=len(roster.signed), slots=activity.slots),
                    callback_data=SignupTap(activity=activity.id, action="in").pack(),
                ),
                InlineKeyboardButton(
                    t("activities.button_withdraw"), callback_data=SignupTap(activity=activity.id, action="out").pack()
                ),
            ]
        ]
    )
    return text, markup


async def refresh_posts(application: Application, activity_id: int) -> None:
    """Ask for the posts to show the current truth; bursts become one edit (live_message.py)."""

    async def render() -> list[tuple[int, int, str, InlineKeyboardMarkup | None]]:
        services = services_of(application)
        activity = await services.activities.get(activity_id)
        text, markup = await post_view(services, activity)
        return [
            (chat_id, message_id, text, markup) for chat_id, message_id in await services.activities.posts(activity_id)
        ]

    await request_refresh(application, f"activity:{activity_id}", render)


@dataclass(frozen=True)
class Published:
    """Where an activity is posted now: chat titles posted in, titles that failed, no group bound."""

    posted: tuple[str, ...]
    failed: tuple[str, ...]
    no_group: bool


async def publish(application: Application, activity: Activity) -> Published:
    """Post the activity in its organisation's group (and the hub when asked) where it is not yet."""
    services = services_of(application)
    targets = []
    chat = await services.groups.of_org(activity.org_id)
    if chat is not None and chat.active:
        targets.append(chat)
    if activity.also_hub:
        hub = await services.groups.hub()
        if hub is not None and hub.active:
            targets.append(hub)
    already = {chat_id for chat_id, _ in await services.activities.posts(activity.id)}
    text, markup = await post_view(services, activity)
    posted: list[str] = []
    failed: list[str] = []
    for target in targets:
        if target.chat_id in already:
            posted.append(target.title)
            continue
        try:
            message = await application.bot.send_message(target.chat_id, text, reply_markup=markup)
        except (BadRequest, ChatMigrated, Forbidden) as error:
            log.warning("activity %s not posted in chat %s: %s", activity.id, target.chat_id, error)
            failed.append(target.title)
            continue
        await services.activities.record_post(activity.id, target.chat_id, message.message_id)
        posted.append(target.title)
    return Published(tuple(posted), tuple(failed), no_group=chat is None or not chat.active)


def publish_report(ui: Ui, published: Published, org_name: str, code: str) -> Raw:
    """What the organiser is told after publishing: where it went, and what to do about the rest."""
    lines = []
    separator = ui.t("activities.name_separator")
    if published.posted:
        lines.append(ui.t("activities.published_in", chats=separator.join(published.posted)))
    if published.failed:
        lines.append(ui.t("activities.publish_failed", chats=separator.join(published.failed), code=code))
    if published.no_group:
        lines.append(ui.t("activities.no_group", org=org_name, code=code))
    return Raw("\n".join(lines))


async def announce(application: Application, activity_id: int, text: str) -> None:
    """A short notice in every chat where the activity was posted."""
    services = services_of(application)
    for chat_id, _ in await services.activities.posts(activity_id):
        try:
            await application.bot.send_message(chat_id, text)
        except (BadRequest, ChatMigrated, Forbidden) as error:
            log.warning("activity %s notice not sent to chat %s: %s", activity_id, chat_id, error)


async def notify_promoted(application: Application, activity: Activity, user_ids: list[int]) -> None:
    services = services_of(application)
    zone = services.config.zone
    for user_id in user_ids:
        person = await services.people.get(user_id)
        t = Translator(services.people.language_of(person, person.telegram_language if person else None))
        await notify_user(
            application,
            user_id,
            "activities.promoted",
            title=activity.title,
            code=activity.code,
            when=Raw(when_text(t, zone, activity.starts_at, activity.ends_at)),
            place=activity.place.text,
        )


# ---- sign-up and withdrawal ---------------------------------------------------------------------
async def signup_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = SignupTap.unpack(update.callback_query.data)
    action, activity_id = values.action, values.activity
    if action not in ("in", "out"):
        await ui.answer("common.button_expired", alert=True)
        return
    if is_anonymous_admin(update):
        await ui.answer("activities.signup_anonymous", alert=True)
        return
    service = ui.services.activities
    try:
        if action == "in":
            result = await service.sign_up(ui.user_id, activity_id)
        else:
            result = await service.withdraw(ui.user_id, activity_id)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    if action == "in":
        if result.status in ("signed", "already_signed"):
            await ui.answer(f"activities.toast_{result.status}")
        else:
            position = result.roster.waitlist.index(ui.user_id) + 1 if ui.user_id in result.roster.waitlist else 1
            await ui.answer(f"activities.toast_{result.status}", alert=result.status == "waitlisted", position=position)
    else:
        await ui.answer("activities.toast_withdrawn" if result.withdrew else "activities.toast_not_signed")
    changed = result.status in ("signed", "waitlisted") if action == "in" else result.withdrew
    if changed:  # a repeated tap changes nothing on the post
        await refresh_posts(context.application, activity_id)
    if action == "out" and result.promoted_user_id is not None:
        activity = await service.get(activity_id)
        await notify_promoted(context.application, activity, [result.promoted_user_id])


# ---- times typed in a conversation --------------------------------------------------------------


def parse_duration(text: str) -> timedelta | None:
    compact = clean(text).lower().replace(" ", "")
    match = _DURATION_RE.fullmatch(compact)
    if not compact or match is None or not (match.group("hours") or match.group("minutes")):
        return None
    hours = float(match.group("hours") or 0)
    minutes = int(match.group("minutes") or 0)
    return timedelta(hours=hours, minutes=minutes)


def parse_end(ui: Ui, starts_at: datetime, text: str) -> datetime:
    """`17:00` (the start's day), a duration (`3小时`, `90分钟`, `3h`) or a full date and time."""
    duration = parse_duration(text)
    if duration is not None:
        if duration <= timedelta(0):
            raise DomainError("activities.end_unrecognised", text=text[:40])
        return starts_at + duration
    zone, now = ui.services.config.zone, ui.services.clock.now()
    day = f"{starts_at.astimezone(zone):%Y-%m-%d}"
    for candidate in (f"{day} {text}", text):
        try:
            schedule = parse_schedule(candidate, now=min(now, starts_at), zone=zone)
        except DomainError:
            continue
        if schedule.kind == "once":
            return schedule.at
    raise DomainError("activities.end_unrecognised", text=text[:40])


def parse_clock_on(zone: ZoneInfo, day: datetime, text: str) -> datetime | None:
    """`14:05` on the local date of `day`; None when it is not a time of day."""
    match = _CLOCK_RE.fullmatch(clean(text))
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    local = day.astimezone(zone)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(day.tzinfo)


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)


async def activity_for_organiser(ui: Ui, reference: str | int) -> Activity:
    """The activity by code (`A12`) or id, if this person may organise it."""
    service = ui.services.activities
    if isinstance(reference, int):
        activity = await service.get(reference)
    else:
        activity = await service.by_code(normalise_code(reference) or "")
    if not await service.can_organise(ui.user_id, activity):
        raise PermissionDenied("activities.err_not_organiser", title=activity.title)
    return activity


# ---- /newactivity -------------------------------------------------------------------------------
class ActivitySteps(Flow):
    """Buttons shared by creating and editing an activity."""

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    def category_markup(self, ui: Ui, step: str = "category") -> InlineKeyboardMarkup:
        buttons = [self.button(ui, step, category.value, category_label(ui.t, category)) for category in Category]
        rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    def yes_no_markup(self, ui: Ui, step: str, yes_key: str, no_key: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[self.choice(ui, step, "yes", yes_key), self.choice(ui, step, "no", no_key)], self.cancel_row(ui)]
        )

    @staticmethod
    def category_from_button(value: str) -> Category:
        try:
            return Category(value)
        except ValueError:
            raise DomainError("common.button_expired") from None

    @staticmethod
    def category_from_text(ui: Ui, text: str) -> Category:
        typed = clean(text).lower()
        for category in Category:
            if typed in (category.value, category_label(ui.t, category).lower()):
                return category
        options = ui.t("activities.name_separator").join(category_label(ui.t, c) for c in Category)
        raise DomainError("activities.category_unknown", text=text[:20], options=options)

    @staticmethod
    def yes_no_from_button(value: str) -> bool:
        if value not in _YES_NO:
            raise DomainError("common.button_expired")
        return _YES_NO[value]


class NewActivityFlow(ActivitySteps):
    """Organisation → title → category → start → end → place → location → radius → volunteer
    slots → people served → deed? → hub? (county admins) → confirm."""

    name = "na"

    async def _orgs(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        orgs = await ui.services.activities.organisations_for(ui.user_id)
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
            ui.t("activities.ask_start", category=category_label(ui.t, category), zone=ui.services.config.timezone),
            self.cancel_markup(ui),
        )

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "activities")
        local = starts_at.astimezone(ui.services.config.zone)
        if starts_at <= ui.services.clock.now():
            raise DomainError("activities.start_in_past", when=f"{local:%Y-%m-%d %H:%M}")
        await self.go(ui, "end", {**data, "starts_at": starts_at.isoformat()})
        await ui.reply(
            "activities.ask_end",
            self.cancel_markup(ui),
            start=f"{local:%Y-%m-%d %H:%M}",
            weekday=ui.t(f"schedule.weekday_{local.weekday()}"),
        )

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
        slots = ui.services.activities.check_slots(clean(text).removesuffix("人").strip())
        await self.go(ui, "expected", {**data, "slots": slots})
        await ui.reply("activities.ask_expected", self.cancel_markup(ui))

    async def text_expected(self, ui: Ui, data: dict, text: str) -> None:
        expected = ui.services.activities.check_expected(clean(text).removesuffix("人").strip())
        await self.go(ui, "deed", {**data, "expected": expected})
        await ui.reply(
            "activities.ask_deed",
            self.yes_no_markup(ui, "deed", "activities.button_deed_yes", "activities.button_deed_no"),
        )

    async def choice_deed(self, ui: Ui, data: dict, value: str) -> None:
        data = {**data, "deed": self.yes_no_from_button(value)}
        hub = await ui.services.groups.hub()
        if await ui.services.permissions.is_county_admin(ui.user_id) and hub is not None and hub.active:
            await self.go(ui, "hub", data)
            await ui.edit(
                "activities.ask_hub",
                self.yes_no_markup(ui, "hub", "activities.button_hub_yes", "activities.button_hub_no"),
                hub=hub.title,
            )
            return
        await self._confirm(ui, {**data, "hub": False})

    async def choice_hub(self, ui: Ui, data: dict, value: str) -> None:
        await ui.services.permissions.require_county_admin(ui.user_id)
        await self._confirm(ui, {**data, "hub": self.yes_no_from_button(value)})

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
            expected=draft.expected_served,
            deed=yes_no(ui.t, draft.counts_as_deed),
            hub=yes_no(ui.t, draft.also_hub),
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


# ---- /editactivity A12 --------------------------------------------------------------------------
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
        await ui.edit(
            f"activities.edit_ask_{step}", self.cancel_markup(ui), current=current, zone=ui.services.config.timezone
        )

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        await self._apply(ui, data, title=ui.services.activities.check_title(text))

    async def choice_category(self, ui: Ui, data: dict, value: str) -> None:
        await self._apply(ui, data, category=self.category_from_button(value))

    async def text_category(self, ui: Ui, data: dict, text: str) -> None:
        await self._apply(ui, data, category=self.category_from_text(ui, text))

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "activities")
        await self.go(ui, "end", {**data, "starts_at": starts_at.isoformat()})
        local = starts_at.astimezone(ui.services.config.zone)
        await ui.reply(
            "activities.ask_end",
            self.cancel_markup(ui),
            start=f"{local:%Y-%m-%d %H:%M}",
            weekday=ui.t(f"schedule.weekday_{local.weekday()}"),
        )

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
        await self._apply(ui, data, slots=ui.services.activities.check_slots(clean(text).removesuffix("人").strip()))

    async def text_expected(self, ui: Ui, data: dict, text: str) -> None:
        expected = ui.services.activities.check_expected(clean(text).removesuffix("人").strip())
        await self._apply(ui, data, expected_served=expected)

    async def choice_deed(self, ui: Ui, data: dict, value: str) -> None:
        await self._apply(ui, data, counts_as_deed=self.yes_no_from_button(value))

    async def _apply(self, ui: Ui, data: dict, **changes: object) -> None:
        result = await ui.services.activities.edit(ui.user_id, data["activity_id"], **changes)
        activity, changed = result[0], list(result[1])
        promoted = list(result[2]) if len(result) > 2 else []
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
        await notify_promoted(application, activity, promoted)


def change_lines(t: Translator, zone: ZoneInfo, activity: Activity, changed: list[str]) -> str:
    lines = []
    done_time = False
    for field in changed:
        if field in ("starts_at", "ends_at"):
            if done_time:
                continue
            done_time = True
            value = when_text(t, zone, activity.starts_at, activity.ends_at)
            lines.append(t("activities.change_line", field=t("activities.field_time"), value=Raw(value)))
            continue
        value = {
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


# ---- /cancelactivity A12 ------------------------------------------------------------------------
class CancelActivityFlow(Flow):
    name = "ca"

    async def start(self, ui: Ui, activity_id: int | None = None, code: str | None = None, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id if activity_id is not None else code or "")
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        roster = await ui.services.activities.roster(activity.id)
        await self.go(ui, "confirm", {"activity_id": activity.id})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "activities.button_cancel_activity")], self.cancel_row(ui)]
        )
        await ui.send_text(
            ui.t(
                "activities.cancel_ask",
                title=activity.title,
                code=activity.code,
                when=Raw(when_text(ui.t, ui.services.config.zone, activity.starts_at, activity.ends_at)),
                signed=len(roster.signed),
            ),
            markup,
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        await self.finish(ui)
        activity = await ui.services.activities.cancel(ui.user_id, data["activity_id"])
        await ui.edit("activities.cancelled", title=activity.title, code=activity.code)
        g = group_t(ui.services)
        application = ui.context.application
        await announce(
            application,
            activity.id,
            g(
                "activities.cancelled_notice",
                title=activity.title,
                code=activity.code,
                when=Raw(when_text(g, ui.services.config.zone, activity.starts_at, activity.ends_at)),
            ),
        )
        await refresh_posts(application, activity.id)


async def cancelactivity_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("activities.cancel_usage")
        return
    await flow_of(context, CancelActivityFlow).start(ui, code=context.args[0])


# ---- /activities --------------------------------------------------------------------------------
async def activities_command(update: Update, context: BotContext) -> None:
    """Upcoming activities of the person's organisations and sign-ups; organisers get buttons.

    Long lists go out as several messages, each carrying the buttons of its own activities.
    """
    ui = Ui(update, context)
    service = ui.services.activities
    activities = await service.list_for_user(ui.user_id)
    if not activities:
        await ui.reply("activities.list_empty")
        return
    zone = ui.services.config.zone
    messages: list[tuple[list[str], list[list[InlineKeyboardButton]]]] = [
        ([ui.t("activities.list_title", count=len(activities))], [])
    ]
    organiser = False
    for activity in activities[:LIST_SHOWN]:
        roster = await service.roster(activity.id)
        org = await ui.services.orgs.get(activity.org_id)
        if ui.user_id in roster.signed:
            mine = ui.t.raw("activities.list_mine_signed")
        elif ui.user_id in roster.waitlist:
            mine = ui.t.raw("activities.list_mine_waitlisted", position=roster.waitlist.index(ui.user_id) + 1)
        else:
            mine = Raw("")
        line = ui.t(
            "activities.list_line",
            title=activity.title,
            code=activity.code,
            org=org.name,
            when=Raw(when_text(ui.t, zone, activity.starts_at, activity.ends_at)),
            place=activity.place.text,
            signed=len(roster.signed),
            slots=activity.slots,
            mine=mine,
        )
        lines, rows = messages[-1]
        if sum(len(text) + 2 for text in lines) + len(line) > MESSAGE_BUDGET:
            lines, rows = [], []
            messages.append((lines, rows))
        lines.append(line)
        if await service.can_organise(ui.user_id, activity):
            organiser = True
            rows.append(
                [
                    organiser_button(ui, activity, "sheet"),
                    organiser_button(ui, activity, "edit"),
                    organiser_button(ui, activity, "cancel"),
                ]
            )
            if not await service.posts(activity.id):
                rows.append([organiser_button(ui, activity, "post")])
    lines = messages[-1][0]
    if len(activities) > LIST_SHOWN:
        lines.append(ui.t("activities.list_more", count=len(activities) - LIST_SHOWN))
    lines.append(ui.t("activities.list_footer_organiser" if organiser else "activities.list_footer"))
    for lines, rows in messages:
        await ui.send_text("\n\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)


def organiser_button(
    ui: Ui, activity: Activity, action: str, user_id: int = 0, **params: object
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        ui.t(f"activities.button_{action}", code=activity.code, **params),
        callback_data=OrganiserAction(activity=activity.id, action=action, user=user_id).pack(),
    )


# ---- /attendance A12: the organiser's sheet -----------------------------------------------------
async def sheet_view(ui: Ui, activity: Activity, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    services = ui.services
    zone = services.config.zone
    lines_data = await services.attendance.sheet(activity.id)
    roster = await services.activities.roster(activity.id)
    present_ids = {line.user_id for line in lines_data}
    missing = [user_id for user_id in roster.signed if user_id not in present_ids]
    people = await services.people.many(sorted(present_ids | set(missing)))
    t = ui.t
    body = []
    total = 0
    for index, line in enumerate(lines_data, start=1):
        name = people[line.user_id].display_name if line.user_id in people else str(line.user_id)
        if line.no_show:
            body.append(t("activities.sheet_line_no_show", index=index, name=name))
            continue
        total += line.credited_minutes
        flags = t.raw("activities.sheet_flag_walk_in") if line.walk_in else Raw("")
        out = (
            t("activities.sheet_checkout", time=clock_text(zone, line.checked_out_at))
            if line.checked_out_at
            else t("activities.sheet_no_checkout")
        )
        checked_in = (
            t("activities.sheet_checkin", time=clock_text(zone, line.checked_in_at))
            if line.checked_in_at
            else t("activities.sheet_no_checkin")
        )
        body.append(
            t(
                "activities.sheet_line",
                index=index,
                name=name,
                checked_in=checked_in,
                checked_out=out,
                credited=duration_text(t, line.credited_minutes),
                flags=flags,
            )
        )
    body = fit(t, body, SHEET_BUDGET)
    if not body:
        body.append(t("activities.sheet_empty"))
    if missing:
        shown = names(t, people, missing[:NAMES_SHOWN])
        if len(missing) > NAMES_SHOWN:
            shown += t("activities.names_more", count=len(missing) - NAMES_SHOWN)
        body.append(t("activities.sheet_missing", names=Raw(shown)))
    credited = [line for line in lines_data if not line.no_show]
    text = t(
        "activities.sheet",
        title=activity.title,
        code=activity.code,
        when=Raw(when_text(t, zone, activity.starts_at, activity.ends_at)),
        signed=len(roster.signed),
        slots=activity.slots,
        present=len(credited),
        total=duration_text(t, total),
        lines=Raw("\n".join(body)),
        note=Raw(note),
    )
    rows = [
        [
            organiser_button(
                ui, activity, "ns", user_id, name=people[user_id].display_name if user_id in people else str(user_id)
            )
        ]
        for user_id in missing[:40]
    ]
    rows.append([organiser_button(ui, activity, "fix"), organiser_button(ui, activity, "rm")])
    return text, InlineKeyboardMarkup(rows)


async def attendance_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("activities.attendance_usage")
        return
    activity = await activity_for_organiser(ui, context.args[0])
    text, markup = await sheet_view(ui, activity)
    await ui.send_text(text, markup)


class AttendanceFlow(Flow):
    """The organiser types one correction (`@username 14:05 16:30 原因`) or removal (`@username 原因`)."""

    name = "at"

    async def start(self, ui: Ui, activity_id: int = 0, mode: str = "fix", **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id)
        step = "fix" if mode == "fix" else "remove"
        await self.go(ui, step, {"activity_id": activity.id})
        local = activity.starts_at.astimezone(ui.services.config.zone)
        await ui.reply(
            f"activities.ask_{step}",
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            title=activity.title,
            code=activity.code,
            date=f"{local:%Y-%m-%d}",
            example_in=f"{local:%H:%M}",
            example_out=f"{activity.ends_at.astimezone(ui.services.config.zone):%H:%M}",
        )

    async def text_fix(self, ui: Ui, data: dict, text: str) -> None:
        activity = await activity_for_organiser(ui, data["activity_id"])
        zone = ui.services.config.zone
        parts = clean(text).split(" ", 3)
        if len(parts) < 4:
            raise DomainError("activities.fix_format", text=text[:40])
        who, start_text, end_text, reason = parts
        checked_in = parse_clock_on(zone, activity.starts_at, start_text)
        if checked_in is None:
            raise DomainError("activities.fix_bad_time", text=start_text[:10])
        if end_text in ("-", "无", "none"):
            checked_out = None
        else:
            checked_out = parse_clock_on(zone, activity.starts_at, end_text)
            if checked_out is None:
                raise DomainError("activities.fix_bad_time", text=end_text[:10])
            if checked_out <= checked_in:
                checked_out += timedelta(days=1)
        person = await ui.services.people.find(who)
        await ui.services.attendance.add_or_correct(
            ui.user_id, activity.id, person.user_id, checked_in, checked_out, reason
        )
        await self.finish(ui)
        text, markup = await sheet_view(ui, activity, ui.t("activities.fix_done", name=person.display_name))
        await ui.send_text(text, markup)

    async def text_remove(self, ui: Ui, data: dict, text: str) -> None:
        activity = await activity_for_organiser(ui, data["activity_id"])
        parts = clean(text).split(" ", 1)
        if len(parts) < 2:
            raise DomainError("activities.remove_format", text=text[:40])
        person = await ui.services.people.find(parts[0])
        await ui.services.attendance.remove(ui.user_id, activity.id, person.user_id, parts[1])
        await self.finish(ui)
        text, markup = await sheet_view(ui, activity, ui.t("activities.remove_done", name=person.display_name))
        await ui.send_text(text, markup)


async def organiser_action(update: Update, context: BotContext) -> None:
    """Buttons on /activities and the sheet; the domain re-checks that the tapper organises it."""
    ui = Ui(update, context)
    values = OrganiserAction.unpack(update.callback_query.data)
    action = values.action
    if action not in _ORGANISER_ACTIONS:
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        activity = await activity_for_organiser(ui, values.activity)
        if action == "ns":
            await ui.services.attendance.mark_no_show(
                ui.user_id, activity.id, values.user, ui.t("activities.no_show_reason")
            )
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    if action == "ns":
        await ui.answer("activities.toast_no_show")
        text, markup = await sheet_view(ui, activity)
        await ui.edit_text(text, markup)
        return
    await ui.answer()
    if action == "sheet":
        text, markup = await sheet_view(ui, activity)
        await ui.send_text(text, markup)
    elif action in ("fix", "rm"):
        await flow_of(context, AttendanceFlow).start(
            ui, activity_id=activity.id, mode="fix" if action == "fix" else "remove"
        )
    elif action == "edit":
        await flow_of(context, EditActivityFlow).start(ui, activity_id=activity.id)
    elif action == "cancel":
        await flow_of(context, CancelActivityFlow).start(ui, activity_id=activity.id)
    elif action == "post":
        org = await ui.services.orgs.get(activity.org_id)
        published = await publish(context.application, activity)
        await ui.send_text(publish_report(ui, published, org.name, activity.code))


# ---- after the end: the summary and the served confirmation -------------------------------------
def served_markup(activity: Activity) -> MarkupFor:
    def build(t: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("activities.button_served_ok", count=activity.expected_served),
                        callback_data=ServedAnswer(activity=activity.id, action="ok").pack(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("activities.button_served_other"),
                        callback_data=ServedAnswer(activity=activity.id, action="other").pack(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("activities.button_sheet", code=activity.code),
                        callback_data=OrganiserAction(activity=activity.id, action="sheet", user=0).pack(),
                    )
                ],
            ]
        )

    return build


async def send_due_summaries(application: Application) -> int:
    """Each ended activity's summary, once: to its group(s), and the organiser asked privately."""
    services = services_of(application)
    t = group_t(services)
    window = timedelta(minutes=services.config.activities.checkin_closes_after_minutes)
    sent = 0
    # Due once check-out has closed, so the figures are final.
    for activity in await services.activities.due_summaries(services.clock.now() - window):
        if not await services.activities.mark_summary_sent(activity.id):
            continue  # another run claimed it: at most once, even if a send below fails
        summary = await services.attendance.summary(activity.id)
        await announce(
            application,
            activity.id,
            t(
                "activities.summary_group",
                title=activity.title,
                code=activity.code,
                volunteers=summary.volunteers,
                hours=duration_text(t, summary.volunteer_minutes),
                served=summary.served,
            ),
        )
        await refresh_posts(application, activity.id)
        key = "activities.summary_organiser_deed" if activity.counts_as_deed else "activities.summary_organiser"
        await notify_user(
            application,
            activity.created_by,
            key,
            served_markup(activity),
            title=activity.title,
            code=activity.code,
            volunteers=summary.volunteers,
            no_shows=summary.no_shows,
            walk_ins=summary.walk_ins,
            expected=activity.expected_served,
        )
        sent += 1
    return sent


async def _summaries_job(context: CallbackContext) -> None:
    await send_due_summaries(context.application)


def start_activity_jobs(application: Application) -> None:
    """The one repeating job that sends summaries; replaced, never doubled, when called again."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(SUMMARY_JOB):
        job.schedule_removal()
    queue.run_repeating(_summaries_job, interval=60, first=5, name=SUMMARY_JOB)


class ServedFlow(Flow):
    """The organiser types the number of people served when it differs from the expected one."""

    name = "sd"

    async def start(self, ui: Ui, activity_id: int = 0, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id)
        await self.go(ui, "number", {"activity_id": activity.id})
        await ui.reply(
            "activities.ask_served",
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            title=activity.title,
            code=activity.code,
            expected=activity.expected_served,
        )

    async def text_number(self, ui: Ui, data: dict, text: str) -> None:
        number = ui.services.activities.check_served(clean(text).removesuffix("人").strip())
        activity = await activity_for_organiser(ui, data["activity_id"])
        await ui.services.activities.confirm_served(ui.user_id, activity.id, number)
        await self.finish(ui)
        await ui.reply("activities.served_confirmed", title=activity.title, code=activity.code, count=number)


async def served_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = ServedAnswer.unpack(update.callback_query.data)
    if values.action not in ("ok", "other"):
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        activity = await activity_for_organiser(ui, values.activity)
        if values.action == "ok":
            await ui.services.activities.confirm_served(ui.user_id, activity.id, activity.expected_served)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer()
    if values.action == "other":
        await flow_of(context, ServedFlow).start(ui, activity_id=activity.id)
        return
    await ui.edit(
        "activities.served_confirmed", title=activity.title, code=activity.code, count=activity.expected_served
    )


# ---- /me ----------------------------------------------------------------------------------------
async def me_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    zone = ui.services.config.zone
    year = ui.services.clock.now().astimezone(zone).year
    mine = await ui.services.attendance.my_year(ui.user_id, year, zone)
    if not mine.activities:
        await ui.reply("activities.me_empty", year=year)
        return
    lines = [
        ui.t(
            "activities.me_title",
            year=year,
            count=len(mine.activities),
            person_times=mine.person_times,
            total=duration_text(ui.t, mine.total_minutes),
        )
    ]
    items = []
    for activity, minutes in mine.activities:
        local = activity.starts_at.astimezone(zone)
        items.append(
            ui.t(
                "activities.me_line",
                date=f"{local:%m-%d}",
                title=activity.title,
                code=activity.code,
                minutes=duration_text(ui.t, minutes),
            )
        )
    await ui.send_text("\n".join([*lines, *fit(ui.t, items, MESSAGE_BUDGET - len(lines[0]))]))
