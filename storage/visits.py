"""Verification-visit campaigns: SQL only (see storage/migrations/0010_visits.sql).

Only the methods named `*_private`, `*_details`, `*_notes`, `*_points` and `purge` touch the
private tables (visit_household_private, visit_private, visit_photos); every other query is
public. Each visit state change is one conditional UPDATE naming the state it expects, and
reports whether it changed the row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.model.visits import (
    Campaign,
    CampaignStatus,
    Household,
    HouseholdDetails,
    HouseholdDraft,
    Matches,
    Outcome,
    Step,
    Team,
    TeamMember,
    Visit,
    VisitNotes,
    VisitStatus,
)
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_CAMPAIGN = (
    "id, title, purpose, starts_at, deadline, checklist, status, hub_chat_id, hub_message_id,"
    " created_by, created_at, closed_at, purged_at"
)
_HOUSEHOLD = "id, campaign_id, alias, township_id, team_id, pair, holder, revisit_at"
_HOUSEHOLD_H = ", ".join("h." + column for column in _HOUSEHOLD.split(", "))
_VISIT = (
    "v.id, v.household_id, v.round, v.visitor_id, v.status, v.step, v.met, v.matches, v.items, v.located,"
    " v.far, v.distance_km, v.photos, v.outcome, v.started_at, v.submitted_at, v.reviewed_by, v.reviewed_at"
)
# The latest round of each household: the visit that counts.
_LATEST = "v.round = (SELECT MAX(l.round) FROM visits l WHERE l.household_id = v.household_id)"
_EDITABLE = ("'draft'", "'has_issues'")


def _json_list(value: Any) -> str:
    return json.dumps(list(value), ensure_ascii=False)


# The columns of a visit being filed that `update_draft` may set, with how a value is stored.
_DRAFT_COLUMNS: dict[str, Callable[[Any], object]] = {
    "step": str,
    "met": int,
    "matches": str,
    "items": _json_list,
    "located": int,
    "far": int,
    "distance_km": float,
    "outcome": str,
}


def _campaign(row: Row) -> Campaign:
    return Campaign(
        id=row["id"],
        title=row["title"],
        purpose=row["purpose"],
        starts_at=db_time(row["starts_at"]),
        deadline=db_time(row["deadline"]),
        checklist=tuple(json.loads(row["checklist"])),
        status=CampaignStatus(row["status"]),
        hub_chat_id=row["hub_chat_id"],
        hub_message_id=row["hub_message_id"],
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
        closed_at=from_db_time(row["closed_at"]),
        purged_at=from_db_time(row["purged_at"]),
    )


def _household(row: Row) -> Household:
    return Household(
        id=row["id"],
        campaign_id=row["campaign_id"],
        alias=row["alias"],
        township_id=row["township_id"],
        team_id=row["team_id"],
        pair=row["pair"],
        holder=row["holder"],
        revisit_at=from_db_time(row["revisit_at"]),
    )


def _visit(row: Row) -> Visit:
    return Visit(
        id=row["id"],
        household_id=row["household_id"],
        round=row["round"],
        visitor_id=row["visitor_id"],
        status=VisitStatus(row["status"]),
        step=Step(row["step"]),
        met=None if row["met"] is None else bool(row["met"]),
        matches=None if row["matches"] is None else Matches(row["matches"]),
        items_done=tuple(json.loads(row["items"])),
        located=bool(row["located"]),
        far=bool(row["far"]),
        distance_km=row["distance_km"],
        photos=row["photos"],
        outcome=None if row["outcome"] is None else Outcome(row["outcome"]),
        started_at=db_time(row["started_at"]),
        submitted_at=from_db_time(row["submitted_at"]),
        reviewed_by=row["reviewed_by"],
        reviewed_at=from_db_time(row["reviewed_at"]),
    )


class VisitRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- campaigns ------------------------------------------------------------------------------
    async def add_campaign(
        self,
        title: str,
        purpose: str,
        starts_at: datetime,
        deadline: datetime,
        checklist: Sequence[str],
        created_by: int,
        now: datetime,
    ) -> Campaign:
        campaign_id = await self.db.execute(
            "INSERT INTO visit_campaigns (title, purpose, starts_at, deadline, checklist, status, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
            (
                title,
                purpose,
                to_db_time(starts_at),
                to_db_time(deadline),
                json.dumps(list(checklist), ensure_ascii=False),
                created_by,
                to_db_time(now),
            ),
        )
        return written(await self.campaign(campaign_id), f"campaign {campaign_id}")

    async def campaign(self, campaign_id: int) -> Campaign | None:
        row = await self.db.fetch_one(f"SELECT {_CAMPAIGN} FROM visit_campaigns WHERE id = ?", (campaign_id,))
        return None if row is None else _campaign(row)

    async def campaigns(self, *, open_only: bool = False) -> list[Campaign]:
        where = "WHERE status = 'open'" if open_only else ""
        rows = await self.db.fetch_all(f"SELECT {_CAMPAIGN} FROM visit_campaigns {where} ORDER BY deadline, id")
        return [_campaign(row) for row in rows]

    async def set_hub_message(self, campaign_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE visit_campaigns SET hub_chat_id = ?, hub_message_id = ? WHERE id = ?",
            (chat_id, message_id, campaign_id),
        )

    async def close_campaign(self, campaign_id: int, actor_id: int, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE visit_campaigns SET status = 'closed', closed_at = ?, closed_by = ?"
                " WHERE id = ? AND status = 'open'",
                (to_db_time(now), actor_id, campaign_id),
            )
        )

    async def closed_before(self, moment: datetime) -> list[int]:
        """Closed campaigns, closed before `moment`, whose private details are still kept."""
        rows = await self.db.fetch_all(
            "SELECT id FROM visit_campaigns WHERE status = 'closed' AND purged_at IS NULL AND closed_at < ?",
            (to_db_time(moment),),
        )
        return [row["id"] for row in rows]

    async def purge(self, campaign_id: int, now: datetime) -> None:
        """Delete every private detail of the campaign: households', visits', photos."""
        households = "SELECT id FROM visit_households WHERE campaign_id = ?"
        visits = f"SELECT id FROM visits WHERE household_id IN ({households})"
        await self.db.execute(
            f"DELETE FROM visit_household_private WHERE household_id IN ({households})", (campaign_id,)
        )
        await self.db.execute(f"DELETE FROM visit_private WHERE visit_id IN ({visits})", (campaign_id,))
        await self.db.execute(f"DELETE FROM visit_photos WHERE visit_id IN ({visits})", (campaign_id,))
        await self.db.execute("UPDATE visit_campaigns SET purged_at = ? WHERE id = ?", (to_db_time(now), campaign_id))

    # ---- households ------------------------------------------------------------------------------
    async def add_households(self, campaign_id: int, drafts: Sequence[HouseholdDraft], now: datetime) -> list[int]:
        ids = []
        for draft in drafts:
            household_id = await self.db.execute(
                "INSERT INTO visit_households (campaign_id, alias, township_id, created_at) VALUES (?, ?, ?, ?)",
                (campaign_id, draft.alias, draft.township_id, to_db_time(now)),
            )
            details = draft.details
            await self.db.execute(
                "INSERT INTO visit_household_private (household_id, student_key, school, admission, village,"
                " address, guardian, phone, circumstances, latitude, longitude)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    household_id,
                    draft.student_key,
                    details.school,
                    details.admission,
                    details.village,
                    details.address,
                    details.guardian,
                    details.phone,
                    details.circumstances,
                    details.latitude,
                    details.longitude,
                ),
            )
            ids.append(household_id)
        return ids

    async def student_keys_private(self, campaign_id: int) -> set[str]:
        rows = await self.db.fetch_all(
            "SELECT p.student_key FROM visit_household_private p JOIN visit_households h ON h.id = p.household_id"
            " WHERE h.campaign_id = ?",
            (campaign_id,),
        )
        return {row["student_key"] for row in rows}

    async def household(self, household_id: int) -> Household | None:
        row = await self.db.fetch_one(f"SELECT {_HOUSEHOLD} FROM visit_households WHERE id = ?", (household_id,))
        return None if row is None else _household(row)

    async def households(self, campaign_id: int) -> list[Household]:
        rows = await self.db.fetch_all(
            f"SELECT {_HOUSEHOLD} FROM visit_households WHERE campaign_id = ? ORDER BY id", (campaign_id,)
        )
        return [_household(row) for row in rows]

    async def households_of_visitor(self, user_id: int) -> list[Household]:
        """Assigned to this person in open campaigns, the nearest deadline first."""
        rows = await self.db.fetch_all(
            f"SELECT {_HOUSEHOLD_H} FROM visit_households h"
            " JOIN visit_campaigns c ON c.id = h.campaign_id"
            " WHERE c.status = 'open' AND (h.holder = ?1 OR (h.holder IS NULL AND EXISTS (SELECT 1 FROM"
            " visit_team_members m WHERE m.team_id = h.team_id AND m.pair = h.pair AND m.user_id = ?1"
            " AND m.left_at IS NULL))) ORDER BY c.deadline, h.id",
            (user_id,),
        )
        return [_household(row) for row in rows]

    async def household_details(self, household_id: int) -> HouseholdDetails | None:
        row = await self.db.fetch_one(
            "SELECT school, admission, village, address, guardian, phone, circumstances, latitude, longitude"
            " FROM visit_household_private WHERE household_id = ?",
            (household_id,),
        )
        if row is None:
            return None
        return HouseholdDetails(**{key: row[key] for key in row.keys()})

    async def township_points(self, campaign_id: int, township_id: int) -> list[tuple[float, float]]:
        """The imported locations of a township's households (for its centre; never shown)."""
        rows = await self.db.fetch_all(
            "SELECT p.latitude, p.longitude FROM visit_household_private p"
            " JOIN visit_households h ON h.id = p.household_id"
            " WHERE h.campaign_id = ? AND h.township_id = ? AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL",
            (campaign_id, township_id),
        )
        return [(row["latitude"], row["longitude"]) for row in rows]

    async def assign(self, household_id: int, team_id: int | None, pair: int | None, holder: int | None) -> None:
        await self.db.execute(
            "UPDATE visit_households SET team_id = ?, pair = ?, holder = ? WHERE id = ?",
            (team_id, pair, holder, household_id),
        )

    async def set_revisit(self, household_id: int, at: datetime | None) -> None:
        await self.db.execute("UPDATE visit_households SET revisit_at = ? WHERE id = ?", (to_db_time(at), household_id))

    # ---- teams ----------------------------------------------------------------------------------------
    async def add_team(
        self,
        campaign_id: int,
        number: int,
        leader_id: int | None,
        org_ids: Sequence[int],
        members: Sequence[tuple[int, int | None, int]],
        township_ids: Sequence[int],
    ) -> int:
        team_id = await self.db.execute(
            "INSERT INTO visit_teams (campaign_id, number, leader_id) VALUES (?, ?, ?)",
            (campaign_id, number, leader_id),
        )
        await self.db.execute_many(
            "INSERT INTO visit_team_orgs (team_id, org_id) VALUES (?, ?)", [(team_id, org_id) for org_id in org_ids]
        )
        await self.db.execute_many(
            "INSERT INTO visit_team_members (team_id, user_id, org_id, pair) VALUES (?, ?, ?, ?)",
            [(team_id, user_id, org_id, pair) for user_id, org_id, pair in members],
        )
        await self.db.execute_many(
            "INSERT INTO visit_team_townships (campaign_id, township_id, team_id) VALUES (?, ?, ?)",
            [(campaign_id, township_id, team_id) for township_id in township_ids],
        )
        return team_id

    async def teams(self, campaign_id: int) -> list[Team]:
        rows = await self.db.fetch_all(
            "SELECT id, campaign_id, number, leader_id FROM visit_teams WHERE campaign_id = ? ORDER BY number",
            (campaign_id,),
        )
        return [await self._team(row) for row in rows]

    async def team(self, team_id: int) -> Team | None:
        row = await self.db.fetch_one(
            "SELECT id, campaign_id, number, leader_id FROM visit_teams WHERE id = ?", (team_id,)
        )
        return None if row is None else await self._team(row)

    async def _team(self, row: Row) -> Team:
        team_id = row["id"]
        orgs = await self.db.fetch_all(
            "SELECT org_id FROM visit_team_orgs WHERE team_id = ? ORDER BY org_id", (team_id,)
        )
        towns = await self.db.fetch_all(
            "SELECT township_id FROM visit_team_townships WHERE team_id = ? ORDER BY township_id", (team_id,)
        )
        members = await self.db.fetch_all(
            "SELECT user_id, org_id, pair, left_at FROM visit_team_members WHERE team_id = ? ORDER BY pair, user_id",
            (team_id,),
        )
        return Team(
            id=team_id,
            campaign_id=row["campaign_id"],
            number=row["number"],
            leader_id=row["leader_id"],
            org_ids=tuple(item["org_id"] for item in orgs),
            township_ids=tuple(item["township_id"] for item in towns),
            members=tuple(
                TeamMember(item["user_id"], item["org_id"], item["pair"], item["left_at"] is not None)
                for item in members
            ),
        )

    async def team_ids_of(self, user_id: int, *, open_only: bool = True) -> list[int]:
        """Teams this person leads or is a current member of."""
        status = "AND c.status = 'open'" if open_only else ""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT t.id FROM visit_teams t JOIN visit_campaigns c ON c.id = t.campaign_id"
            " LEFT JOIN visit_team_members m ON m.team_id = t.id AND m.user_id = ?1 AND m.left_at IS NULL"
            f" WHERE (t.leader_id = ?1 OR m.user_id IS NOT NULL) {status} ORDER BY t.id",
            (user_id,),
        )
        return [row["id"] for row in rows]

    async def set_leader(self, team_id: int, leader_id: int | None) -> None:
        await self.db.execute("UPDATE visit_teams SET leader_id = ? WHERE id = ?", (leader_id, team_id))

    async def member_left(self, team_id: int, user_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE visit_team_members SET left_at = ? WHERE team_id = ? AND user_id = ? AND left_at IS NULL",
            (to_db_time(now), team_id, user_id),
        )

    # ---- visits ---------------------------------------------------------------------------------------
    async def start_visit(self, household_id: int, round_number: int, visitor_id: int, now: datetime) -> bool:
        """The visit of this round, if nobody has it yet; False when another visitor was first."""
        return bool(
            await self.db.changes(
                "INSERT INTO visits (household_id, round, visitor_id, status, step, started_at)"
                " VALUES (?, ?, ?, 'draft', 'met', ?) ON CONFLICT (household_id, round) DO NOTHING",
                (household_id, round_number, visitor_id, to_db_time(now)),
            )
        )

    async def current_visit(self, household_id: int) -> Visit | None:
        row = await self.db.fetch_one(
            f"SELECT {_VISIT} FROM visits v WHERE v.household_id = ? ORDER BY v.round DESC LIMIT 1", (household_id,)
        )
        return None if row is None else _visit(row)

    async def visit(self, visit_id: int) -> Visit | None:
        row = await self.db.fetch_one(f"SELECT {_VISIT} FROM visits v WHERE v.id = ?", (visit_id,))
        return None if row is None else _visit(row)

    async def latest_visits(self, campaign_id: int) -> dict[int, Visit]:
        """The visit that counts of each visited household of the campaign, by household id."""
        rows = await self.db.fetch_all(
            f"SELECT {_VISIT} FROM visits v JOIN visit_households h ON h.id = v.household_id"
            f" WHERE h.campaign_id = ? AND {_LATEST}",
            (campaign_id,),
        )
        return {row["household_id"]: _visit(row) for row in rows}

    async def submitted_for_review(self, campaign_id: int) -> list[Visit]:
        rows = await self.db.fetch_all(
            f"SELECT {_VISIT} FROM visits v JOIN visit_households h ON h.id = v.household_id"
            " WHERE h.campaign_id = ? AND v.status = 'submitted' ORDER BY v.submitted_at, v.id",
            (campaign_id,),
        )
        return [_visit(row) for row in rows]

    async def update_draft(self, visit_id: int, visitor_id: int, **values: object) -> bool:
        """Change a visit being filed (draft, or back with the visitor), by its own visitor."""
        assignments = []
        params: list[object] = []
        for name, value in values.items():
            assignments.append(f"{name} = ?")
            params.append(None if value is None else _DRAFT_COLUMNS[name](value))
        params += [visit_id, visitor_id]
        return bool(
            await self.db.changes(
                f"UPDATE visits SET {', '.join(assignments)} WHERE id = ? AND visitor_id = ?"
                f" AND status IN ({', '.join(_EDITABLE)})",
                params,
            )
        )

    async def submit(self, visit_id: int, visitor_id: int, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE visits SET status = 'submitted', step = 'done', submitted_at = ?"
                f" WHERE id = ? AND visitor_id = ? AND status IN ({', '.join(_EDITABLE)})",
                (to_db_time(now), visit_id, visitor_id),
            )
        )

    async def review(self, visit_id: int, status: VisitStatus, reviewer_id: int, now: datetime) -> bool:
        step = "'outcome'" if status is VisitStatus.HAS_ISSUES else "step"
        return bool(
            await self.db.changes(
                f"UPDATE visits SET status = ?, step = {step}, reviewed_by = ?, reviewed_at = ?"
                " WHERE id = ? AND status = 'submitted'",
                (status.value, reviewer_id, to_db_time(now), visit_id),
            )
        )

    async def hand_over_draft(self, visit_id: int, from_user: int, to_user: int) -> None:
        await self.db.execute(
            f"UPDATE visits SET visitor_id = ? WHERE id = ? AND visitor_id = ? AND status IN ({', '.join(_EDITABLE)})",
            (to_user, visit_id, from_user),
        )

    # ---- a visit's private part -----------------------------------------------------------------
    async def visit_notes(self, visit_id: int) -> VisitNotes:
        row = await self.db.fetch_one(
            "SELECT match_note, item_answers, reason, review_note, latitude, longitude FROM visit_private"
            " WHERE visit_id = ?",
            (visit_id,),
        )
        if row is None:
            return VisitNotes()
        return VisitNotes(
            match_note=row["match_note"],
            item_answers=dict(json.loads(row["item_answers"])),
            reason=row["reason"],
            review_note=row["review_note"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )

    async def put_visit_notes(self, visit_id: int, notes: VisitNotes) -> None:
        await self.db.execute(
            "INSERT INTO visit_private (visit_id, match_note, item_answers, reason, review_note, latitude, longitude)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (visit_id) DO UPDATE SET match_note = excluded.match_note,"
            " item_answers = excluded.item_answers, reason = excluded.reason, review_note = excluded.review_note,"
            " latitude = excluded.latitude, longitude = excluded.longitude",
            (
                visit_id,
                notes.match_note,
                json.dumps(notes.item_answers, ensure_ascii=False),
                notes.reason,
                notes.review_note,
                notes.latitude,
                notes.longitude,
            ),
        )

    async def add_photo_private(self, visit_id: int, file_id: str, now: datetime) -> int:
        await self.db.execute(
            "INSERT INTO visit_photos (visit_id, file_id, added_at) VALUES (?, ?, ?)",
            (visit_id, file_id, to_db_time(now)),
        )
        count = int(await self.db.fetch_value("SELECT COUNT(*) FROM visit_photos WHERE visit_id = ?", (visit_id,)))
        await self.db.execute("UPDATE visits SET photos = ? WHERE id = ?", (count, visit_id))
        return count

    async def photos_private(self, visit_id: int) -> list[str]:
        rows = await self.db.fetch_all("SELECT file_id FROM visit_photos WHERE visit_id = ? ORDER BY id", (visit_id,))
        return [row["file_id"] for row in rows]

    async def located_points(self, campaign_id: int) -> list[tuple[int, int, float, float]]:
        """(team id, visitor, latitude, longitude) of the located visits, in filing order: the
        kilometres a team travelled (only a sum is ever shown)."""
        rows = await self.db.fetch_all(
            "SELECT h.team_id, v.visitor_id, p.latitude, p.longitude FROM visits v"
            " JOIN visit_households h ON h.id = v.household_id JOIN visit_private p ON p.visit_id = v.id"
            " WHERE h.campaign_id = ? AND p.latitude IS NOT NULL AND v.submitted_at IS NOT NULL"
            " ORDER BY v.submitted_at, v.id",
            (campaign_id,),
        )
        return [(row["team_id"], row["visitor_id"], row["latitude"], row["longitude"]) for row in rows]
