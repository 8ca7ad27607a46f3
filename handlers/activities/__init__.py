"""Volunteer activities: creating, publishing, signing up, organising, and the summary afterwards.

/newactivity (a private conversation) creates an activity; it is posted into the organisation's
group (and the hub when asked) with a sign-up button that shows `报名 12/20`. Organisers use
/activities, /attendance A12, /editactivity A12 and /cancelactivity A12; every action is
re-checked by the domain (bot/domain/activities.py, bot/domain/attendance/). One repeating job
sends each ended activity's summary to its group and asks the organiser to confirm the number of
people served. Group check-in is handlers/checkin.py.

The modules, one concern each:
- render.py: labels, times, numbers of people, long lists. buttons.py: the button payloads.
- post.py: the group post, publishing, notices, sign-up and withdrawal.
- steps.py: what the conversations share (the organiser check, buttons, typed times).
- create.py, edit.py, cancel.py: /newactivity, /editactivity, /cancelactivity.
- sheet.py: /attendance and corrections. organiser.py: the organiser's buttons.
- mine.py: /activities (/me: handlers/records/me.py). summaries.py: the summary and the served question. jobs.py.
"""

from __future__ import annotations

from handlers.activities.buttons import OrganiserAction, ServedAnswer, SignupTap
from handlers.activities.cancel import CancelActivityFlow, cancelactivity_command
from handlers.activities.create import NewActivityFlow, newactivity_command
from handlers.activities.edit import EditActivityFlow, editactivity_command
from handlers.activities.jobs import SUMMARY_JOB, start_activity_jobs
from handlers.activities.mine import activities_command
from handlers.activities.organiser import organiser_action
from handlers.activities.post import publish, signup_button
from handlers.activities.render import fit, normalise_code
from handlers.activities.sheet import AttendanceFlow, attendance_command
from handlers.activities.summaries import ServedFlow, send_due_summaries, served_button

__all__ = [
    "SUMMARY_JOB",
    "AttendanceFlow",
    "CancelActivityFlow",
    "EditActivityFlow",
    "NewActivityFlow",
    "OrganiserAction",
    "ServedAnswer",
    "ServedFlow",
    "SignupTap",
    "activities_command",
    "attendance_command",
    "cancelactivity_command",
    "editactivity_command",
    "fit",
    "newactivity_command",
    "normalise_code",
    "organiser_action",
    "publish",
    "send_due_summaries",
    "served_button",
    "signup_button",
    "start_activity_jobs",
]
