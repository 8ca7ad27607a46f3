"""Sunshine Home at 10× the source document for the report benchmark: SQL only.

Over a county-year seeded by storage/bulk_seed.py: the village branches and schools are put
under the townships (the tree the figures roll up by), then, at scale 1: 10,000 children in
their registers (half with a guardian's consent, 5% left during the year, a quarter of those
into high school), a profile for each of the 5,000 volunteers (kinds as in the seed, 2% from
Hong Kong, Macau or Taiwan), 5,000 pairs (one per child for the first 5,000 children; 85%
active, the rest ended), 200,000 contacts spread over each pair's months, and group-session
attendances. Seeded random generator; rows written in large batches through the database
interface in one transaction (storage/bulk_rows.py), so the same seed fills any backend and the
province-sized one (scale 10: 2,000,000 contacts) never holds all its rows at once.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.bulk_rows import BulkRows
from storage.db import Database

SUPPORTS = ("tutoring", "counselling", "interest", "development")
VOLUNTEER_KINDS = (
    ("student", 40),
    ("teacher", 25),
    ("doctor", 8),
    ("legal", 7),
    ("returning", 10),
    ("counsellor", 5),
    ("other", 5),
)
LEAVE_REASONS = (("high_school", 25), ("moved", 40), ("aged_out", 25), ("other", 10))
CONTACT_KINDS = ("visit", "call", "online", "group")
Params = tuple[object, ...]


def _t(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PARENTS_SQL = "UPDATE organisations SET parent_id = ? WHERE id = ?"
CHILDREN_SQL = (
    "INSERT INTO children (id, org_id, alias, grade, needs, consent, consent_recorded_at, consent_recorded_by,"
    " status, left_at, left_reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 1, ?)"
)
PRIVATE_SQL = (
    "INSERT INTO child_private (child_id, real_name, guardian_phone, updated_at, updated_by) VALUES (?, ?, ?, ?, 1)"
)
PROFILES_SQL = (
    "INSERT INTO volunteer_profiles (user_id, kind, skills, availability, origin, updated_at)"
    " VALUES (?, ?, '[\"数学\"]', '[\"weekends\"]', ?, ?)"
)
PAIRS_SQL = (
    "INSERT INTO pairs (id, child_id, volunteer_id, org_id, support, rhythm_days, status, proposed_by,"
    " proposed_at, started_on, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
)
CONTACTS_SQL = (
    "INSERT INTO contacts (pair_id, contact_on, kind, minutes, idempotency_key, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, 1, ?)"
)
SESSIONS_SQL = "INSERT INTO session_children (activity_id, child_id, recorded_by, recorded_at) VALUES (?, ?, 1, ?)"


async def seed_sunshine_year(
    db: Database, year: int, zone: ZoneInfo, scale: float = 1.0, seed: int = 2027
) -> dict[str, int]:
    """Fill the Sunshine Home tables over a seeded county-year; how many of each were made."""
    kinds = {row[0]: row[1] for row in await db.fetch_all("SELECT id, kind FROM organisations ORDER BY id")}
    volunteers = [
        row[0] for row in await db.fetch_all("SELECT user_id FROM people WHERE user_id >= 1000 ORDER BY user_id")
    ]
    # In the order SQLite's index on (state, ends_at) always gave them: the same sessions as before.
    activities = [
        row[0]
        for row in await db.fetch_all(
            "SELECT id FROM activities WHERE state <> 'cancelled' ORDER BY state, ends_at, id"
        )
    ]
    rows = BulkRows(db, PARENTS_SQL, CHILDREN_SQL, PRIVATE_SQL, PROFILES_SQL, PAIRS_SQL, CONTACTS_SQL, SESSIONS_SQL)
    async with db.transaction():
        return await _seed(rows, kinds, volunteers, activities, year, zone, scale, seed)


async def _seed(
    rows: BulkRows,
    kinds: dict[int, str],
    volunteers: list[int],
    activities: list[int],
    year: int,
    zone: ZoneInfo,
    scale: float,
    seed: int,
) -> dict[str, int]:
    rng = random.Random(seed)

    def n(count: int, least: int = 1) -> int:
        return max(least, round(count * scale))

    created = _t(datetime(year, 1, 1, tzinfo=zone))
    townships = [org for org, kind in kinds.items() if kind == "township"]
    homes = [org for org, kind in kinds.items() if kind in ("village_branch", "school")]
    for org in homes:
        rows.add(PARENTS_SQL, (rng.choice(townships), org))
    child_count = n(10000, 10)
    leave_weights = [reason for reason, weight in LEAVE_REASONS for _ in range(weight)]
    child_org: dict[int, int] = {}
    left_ids = set()
    for child_id in range(1, child_count + 1):
        org = rng.choice(homes)
        child_org[child_id] = org
        consent = int(rng.random() < 0.5)
        leaves = rng.random() < 0.05
        left_at = _t(datetime(year, 6, 1, tzinfo=zone) + timedelta(days=rng.randrange(180))) if leaves else None
        if leaves:
            left_ids.add(child_id)
        rows.add(
            CHILDREN_SQL,
            (
                child_id,
                org,
                f"孩子{child_id}",
                f"{rng.randrange(1, 10)}年级",
                '["数学", "英语"]' if child_id % 2 else '["心理", "画画"]',
                consent,
                created,
                "left" if leaves else "active",
                left_at,
                rng.choice(leave_weights) if leaves else None,
                created,
            ),
        )
        if consent:
            rows.add(PRIVATE_SQL, (child_id, f"真名{child_id}", "13800000000", created))
        if rows.full:
            await rows.flush()
    kind_weights = [kind for kind, weight in VOLUNTEER_KINDS for _ in range(weight)]
    for user_id in volunteers:
        rows.add(
            PROFILES_SQL,
            (
                user_id,
                rng.choice(kind_weights),
                rng.choice(("hk", "mo", "tw")) if rng.random() < 0.02 else None,
                created,
            ),
        )
    await rows.flush()
    pair_count = min(n(5000, 5), child_count)
    per_pair = n(200000, 40) // pair_count
    year_end = date(year, 12, 31)
    for pair_id in range(1, pair_count + 1):
        started = date(year, 1, 1) + timedelta(days=rng.randrange(60))
        ended = pair_id in left_ids or rng.random() < 0.15
        status = "ended" if ended else "active"
        ended_at = _t(datetime(year, 9, 1, tzinfo=zone)) if ended else None
        reason = ("child_left" if pair_id in left_ids else "finished") if ended else None
        rows.add(
            PAIRS_SQL,
            (
                pair_id,
                pair_id,
                volunteers[pair_id % len(volunteers)],
                child_org[pair_id],
                SUPPORTS[pair_id % len(SUPPORTS)],
                rng.choice((7, 14, 30)),
                status,
                _t(datetime(started.year, started.month, started.day, tzinfo=zone)),
                started.isoformat(),
                ended_at,
                reason,
            ),
        )
        span = ((date(year, 8, 31) if ended else year_end) - started).days
        for index in range(per_pair):
            day = started + timedelta(days=rng.randrange(span + 1))
            rows.add(
                CONTACTS_SQL,
                (
                    pair_id,
                    day.isoformat(),
                    rng.choice(CONTACT_KINDS),
                    rng.choice((30, 45, 60, 90)),
                    f"b{pair_id}-{index}",
                    created,
                ),
            )
        if rows.full:
            await rows.flush()
    sessions = (
        {(rng.choice(activities), rng.randrange(1, child_count + 1)) for _ in range(n(5000, 5))}
        if activities
        else set()
    )
    for activity, child in sessions:
        rows.add(SESSIONS_SQL, (activity, child, created))
    await rows.flush()
    return {"children": rows.count(CHILDREN_SQL), "pairs": rows.count(PAIRS_SQL), "contacts": rows.count(CONTACTS_SQL)}
