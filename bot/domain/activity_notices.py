"""The messages an activity's changes owe people, queued in the outbox with the change
(bot/domain/outbox.py) and worded when sent (handlers/activities/post.py, summaries.py)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.outbox import PROMOTED, SUMMARY_GROUP, SUMMARY_ORGANISER
from bot.model.activity import Activity
from bot.model.outbox import Notice, Priority


def promoted_notice(activity_id: int, user_id: int, now: datetime) -> Notice:
    """A volunteer moved up from the waitlist (again later: another message, hence the time)."""
    return Notice(
        PROMOTED,
        user_id,
        key=f"promoted:{activity_id}:{user_id}:{now.isoformat()}",
        params={"activity": activity_id},
        priority=Priority.NOTICE,
    )


def summary_notices(activity: Activity, chats: list[int]) -> list[Notice]:
    """The summary to every chat the activity was posted in, and the organiser's in private."""
    params = {"activity": activity.id}
    notices = [
        Notice(SUMMARY_GROUP, chat_id, key=f"summary:{activity.id}:{chat_id}", params=params) for chat_id in chats
    ]
    organiser = Notice(
        SUMMARY_ORGANISER,
        activity.created_by,
        key=f"summary:{activity.id}:organiser",
        params=params,
        priority=Priority.NOTICE,
    )
    return [*notices, organiser]
