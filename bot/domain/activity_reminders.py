"""The two reminders before an activity starts, sent to its organisation's group as it is now.

They are persistent system reminders (bot/domain/reminders.py), one per subject
`activity:<id>:day|hour`, rewritten whenever the activity, its sign-ups or its organisation's
group change; a reminder whose time has passed is dropped.

Catalog keys (handlers/locales/<lang>/activities_errors.toml, table [activities]), rendered
through the `RenderText` the runtime passes in and stored as plain text:

    activities.reminder_day / activities.reminder_hour    title, code, when, place, names
    activities.reminder_nobody               -
    activities.reminder_name_separator       -
    activities.reminder_names_more           count
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.formatting import DATE_TIME, RenderText, local_text
from bot.domain.reminders import ReminderService
from bot.domain.schedule import Schedule
from bot.model.activity import Activity
from storage.activities import ActivityRepository
from storage.chats import ChatRepository

# Reminders to the organisation's group before the start: subject suffix, how long before, text key.
REMINDERS = (
    ("day", timedelta(days=1), "activities.reminder_day"),
    ("hour", timedelta(hours=1), "activities.reminder_hour"),
)
MAX_REMINDER_NAMES = 40
MAX_REMINDER_NAMES_CHARS = 1000  # a reminder stays well inside one Telegram message


def subject_keys(activity_id: int) -> tuple[str, ...]:
    """The persistent reminders' subject keys of one activity."""
    return tuple(f"activity:{activity_id}:{suffix}" for suffix, _, _ in REMINDERS)


class ActivityReminders:
    def __init__(
        self,
        repo: ActivityRepository,
        chats: ChatRepository,
        reminders: ReminderService,
        zone: ZoneInfo,
        render: RenderText,
    ) -> None:
        self.repo = repo
        self.chats = chats
        self.reminders = reminders
        self.zone = zone
        self.render = render

    async def keep(self, activity: Activity) -> None:
        """(Re)set the day and hour reminders to the organisation's group; none without a group
        or for a cancelled activity."""
        chat = await self.chats.of_org(activity.org_id)
        if chat is None or activity.cancelled:
            await self.cancel(activity.id)
            return
        params = {
            "title": activity.title,
            "code": activity.code,
            "when": self._when(activity),
            "place": activity.place.text,
            "names": await self._names(activity.id),
        }
        for suffix, before, key in REMINDERS:
            await self.reminders.set_for_subject(
                f"activity:{activity.id}:{suffix}",
                "chat",
                chat.id,
                self.render(key, params),
                Schedule(kind="once", at=activity.starts_at - before, time=None),
            )

    async def cancel(self, activity_id: int) -> None:
        for subject in subject_keys(activity_id):
            await self.reminders.cancel_subject(subject)

    async def follow_group(self, org_id: int, now: datetime) -> None:
        """The organisation's group was bound, replaced or released: the reminders of its
        activities not yet over go to the group it has now, or nowhere."""
        for activity in await self.repo.upcoming(now, org_ids=[org_id]):
            await self.keep(activity)

    def _when(self, activity: Activity) -> str:
        """ "2026-11-28 09:00–11:30", the end's date shown only when it is another day."""
        same_day = local_text(activity.starts_at, self.zone, "%Y-%m-%d") == local_text(
            activity.ends_at, self.zone, "%Y-%m-%d"
        )
        end = local_text(activity.ends_at, self.zone, "%H:%M" if same_day else DATE_TIME)
        return f"{local_text(activity.starts_at, self.zone)}–{end}"

    async def _names(self, activity_id: int) -> str:
        names = await self.repo.signed_names(activity_id)
        if not names:
            return self.render("activities.reminder_nobody", {})
        separator = self.render("activities.reminder_name_separator", {})
        shown: list[str] = []
        for name in names:
            if len(shown) == MAX_REMINDER_NAMES or len(separator.join([*shown, name])) > MAX_REMINDER_NAMES_CHARS:
                break
            shown.append(name)
        text = separator.join(shown)
        if len(shown) < len(names):
            text += self.render("activities.reminder_names_more", {"count": len(names) - len(shown)})
        return text
