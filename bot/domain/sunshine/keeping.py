"""Keeping pairs alive, and the purge, as one daily system job of the persistent scheduler.

The job is a system reminder (subject `sunshine:daily`, schedule `[sunshine] daily`, default
09:00 every day): the reminder scheduler claims each occurrence exactly once, in one transaction,
even across restarts; its "audience" runs the day's work in that transaction and queues the
messages in the outbox itself (so the reminder sends nothing of its own):

- a pair with no contact for longer than its rhythm: its volunteer is reminded;
- after a second interval as long: the child's organisation's cadres are told, with a button to
  re-pair;
- the private details of children who left more than `purge_after` ago are deleted.

Each reminder is queued once per quiet spell (the spell is named by the day of the last contact,
or the pair's start: storage marks it), so a missed day is made up the next day and nothing is
sent twice; a new contact starts a new spell.
"""

from __future__ import annotations

from datetime import date

from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import parse_schedule
from bot.domain.sunshine.register import ChildRegister
from bot.model.outbox import Notice, ParamValue
from bot.model.reminder import ReminderRecord
from bot.model.sunshine import QuietPair

DAILY_SUBJECT = "sunshine:daily"
QUIET_VOLUNTEER = "sunshine.quiet_volunteer"  # to the volunteer: get in touch
QUIET_CADRES = "sunshine.quiet_cadres"  # to the organisation's cadres: re-pair?


def is_quiet(item: QuietPair, today: date, intervals: int = 1) -> bool:
    """No contact for longer than `intervals` times the pair's rhythm."""
    return (today - item.since).days > item.pair.rhythm_days * intervals


class PairKeeping(ChildRegister):
    async def keep_daily(self, reminders: ReminderService, when: str) -> None:
        """ "" in the configuration switches the daily job off (no reminders, no purge)."""
        if not when:
            await reminders.cancel_subject(DAILY_SUBJECT)
            return
        schedule = parse_schedule(when, now=self.clock.now(), zone=self.zone)
        await reminders.set_for_subject(DAILY_SUBJECT, "person", None, "", schedule)

    async def daily(self, reminder: ReminderRecord) -> list[int]:
        """The occurrence's work (run once per occurrence by the reminder scheduler); it sends
        nothing itself, so no chat is returned."""
        await self.sweep()
        await self.purge_private(self.clock.now())
        return []

    async def sweep(self) -> tuple[int, int]:
        """Queue the reminders due today: (volunteers reminded, pairs escalated to cadres)."""
        today = self.today()
        reminded = escalated = 0
        async with self.db.transaction():
            for item in await self.pairs.quiet_candidates():
                pair, since = item.pair, item.since
                if not is_quiet(item, today):
                    continue
                params: dict[str, ParamValue] = {"pair": pair.id, "since": since.isoformat()}
                if await self.pairs.mark_reminded(pair.id, since):
                    reminded += 1
                    await self.outbox.enqueue(
                        Notice(
                            QUIET_VOLUNTEER, pair.volunteer_id, key=f"sunshine:quiet:{pair.id}:{since}:v", params=params
                        )
                    )
                if is_quiet(item, today, 2) and await self.pairs.mark_escalated(pair.id, since):
                    escalated += 1
                    for cadre in await self.cadre_ids(pair.org_id):
                        await self.outbox.enqueue(
                            Notice(
                                QUIET_CADRES, cadre, key=f"sunshine:quiet:{pair.id}:{since}:c:{cadre}", params=params
                            )
                        )
        return reminded, escalated

    async def quiet_pairs(self, org_ids: list[int] | None = None) -> list[QuietPair]:
        today = self.today()
        wanted = None if org_ids is None else set(org_ids)
        return [
            item
            for item in await self.pairs.quiet_candidates()
            if is_quiet(item, today) and (wanted is None or item.pair.org_id in wanted)
        ]
