"""A volunteer's own view: /activities (upcoming, with organiser buttons); /me is handlers/records/me.py."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.activities.buttons import OrganiserChoice, organiser_button
from handlers.activities.render import MESSAGE_BUDGET, when_text
from handlers.context import BotContext, Ui
from handlers.i18n import Raw

LIST_SHOWN = 20


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
                    organiser_button(ui, activity, OrganiserChoice.SHEET),
                    organiser_button(ui, activity, OrganiserChoice.EDIT),
                    organiser_button(ui, activity, OrganiserChoice.CANCEL),
                ]
            )
            if not await service.posts(activity.id):
                rows.append([organiser_button(ui, activity, OrganiserChoice.POST)])
    lines = messages[-1][0]
    if len(activities) > LIST_SHOWN:
        lines.append(ui.t("activities.list_more", count=len(activities) - LIST_SHOWN))
    lines.append(ui.t("activities.list_footer_organiser" if organiser else "activities.list_footer"))
    for lines, rows in messages:
        await ui.send_text("\n\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)
