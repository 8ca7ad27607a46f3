"""Pledge follow-up: on an instalment's due date its responsible cadre is reminded; once it is
overdue it is listed to the county admins every reminder day until it is paid (or the pledge is
corrected away). Kept as one system reminder of the persistent scheduler (restart-safe, as
bot/domain/deeds.py `PaceReminders`): who is told and what is computed when it fires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.domain.funds.core import LAST_DAY
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import parse_schedule
from bot.model.funds import DueInstalment
from bot.model.reminder import ReminderRecord
from storage.funds import FundRepository

PLEDGES_SUBJECT = "funds:pledges"


@dataclass(frozen=True)
class PledgeNotice:
    day: date
    due: list[DueInstalment]  # the reader's own instalments due that day
    overdue: list[DueInstalment] | None  # every overdue instalment, for a county admin; else None

    @property
    def empty(self) -> bool:
        return not self.due and not self.overdue


class PledgeReminders:
    def __init__(
        self, repo: FundRepository, reminders: ReminderService, permissions: Permissions, zone: ZoneInfo
    ) -> None:
        self.repo = repo
        self.reminders = reminders
        self.permissions = permissions
        self.zone = zone
        self.when = ""  # the configured schedule, once `keep` has run

    async def refresh(self) -> None:
        """After a pledge is recorded: its instalments need the reminder kept."""
        await self.keep(self.when)

    async def keep(self, when: str) -> None:
        """ "" in the configuration switches the reminders off; a county with no unpaid
        instalment has no reminder either (no daily wake-up for nothing) until a pledge comes."""
        self.when = when
        if not when or not await self.repo.unpaid_instalments(LAST_DAY):
            await self.reminders.cancel_subject(PLEDGES_SUBJECT)
            return
        schedule = parse_schedule(when, now=self.reminders.clock.now(), zone=self.zone)
        await self.reminders.set_for_subject(PLEDGES_SUBJECT, "all_groups", None, "", schedule)

    def day_of(self, reminder: ReminderRecord) -> date:
        """The local day the occurrence is due: a late send still speaks of that day."""
        return reminder.due_at.astimezone(self.zone).date()

    async def audience(self, reminder: ReminderRecord) -> list[int]:
        day = self.day_of(reminder)
        unpaid = await self.repo.unpaid_instalments(day)
        chat_ids = [item.responsible_id for item in unpaid if item.due_on == day]
        if any(item.due_on < day for item in unpaid):
            chat_ids.extend(await self.permissions.county_admin_ids())
        return list(dict.fromkeys(chat_ids))

    async def notice_for(self, chat_id: int, day: date) -> PledgeNotice:
        unpaid = await self.repo.unpaid_instalments(day)
        due = [item for item in unpaid if item.due_on == day and item.responsible_id == chat_id]
        overdue = None
        if await self.permissions.is_county_admin(chat_id):
            overdue = [item for item in unpaid if item.due_on < day]
        return PledgeNotice(day, due, overdue)

    async def overdue(self, day: date) -> list[DueInstalment]:
        return [item for item in await self.repo.unpaid_instalments(day) if item.due_on < day]
