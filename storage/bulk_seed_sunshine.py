"""Sunshine Home at 10× the source document for the report benchmark: SQL only.

Over a county-year seeded by storage/bulk_seed.py: the village branches and schools are put
under the townships (the tree the figures roll up by), then, at scale 1: 10,000 children in
their registers (half with a guardian's consent, 5% left during the year, a quarter of those
into high school), a profile for each of the 5,000 volunteers (kinds as in the seed, 2% from
Hong Kong, Macau or Taiwan), 5,000 pairs (one per child for the first 5,000 children; 85%
active, the rest ended), 200,000 contacts spread over each pair's months, and group-session
attendances. Seeded random generator, executemany in one transaction (Database.run_sync).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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


def seed_sunshine_year(
    conn: sqlite3.Connection, year: int, zone: ZoneInfo, scale: float = 1.0, seed: int = 2027
) -> dict[str, int]:
    """Fill the Sunshine Home tables over a seeded county-year; how many of each were made."""
    rng = random.Random(seed)

    def n(count: int, least: int = 1) -> int:
        return max(least, round(count * scale))

    created = _t(datetime(year, 1, 1, tzinfo=zone))
    kinds = dict(conn.execute("SELECT id, kind FROM organisations").fetchall())
    townships = [org for org, kind in kinds.items() if kind == "township"]
    homes = [org for org, kind in kinds.items() if kind in ("village_branch", "school")]
    volunteers = [row[0] for row in conn.execute("SELECT user_id FROM people WHERE user_id >= 1000")]
    activities = [row[0] for row in conn.execute("SELECT id FROM activities WHERE state <> 'cancelled'")]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE organisations SET parent_id = ? WHERE id = ?", [(rng.choice(townships), org) for org in homes]
        )
        child_count = n(10000, 10)
        leave_weights = [reason for reason, weight in LEAVE_REASONS for _ in range(weight)]
        children: list[Params] = []
        private: list[Params] = []
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
            children.append(
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
                )
            )
            if consent:
                private.append((child_id, f"真名{child_id}", "13800000000", created))
        conn.executemany(
            "INSERT INTO children (id, org_id, alias, grade, needs, consent, consent_recorded_at, consent_recorded_by,"
            " status, left_at, left_reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 1, ?)",
            children,
        )
        conn.executemany(
            "INSERT INTO child_private (child_id, real_name, guardian_phone, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, 1)",
            private,
        )
        kind_weights = [kind for kind, weight in VOLUNTEER_KINDS for _ in range(weight)]
        conn.executemany(
            "INSERT INTO volunteer_profiles (user_id, kind, skills, availability, origin, updated_at)"
            " VALUES (?, ?, '[\"数学\"]', '[\"weekends\"]', ?, ?)",
            [
                (
                    user_id,
                    rng.choice(kind_weights),
                    rng.choice(("hk", "mo", "tw")) if rng.random() < 0.02 else None,
                    created,
                )
                for user_id in volunteers
            ],
        )
        pairs: list[Params] = []
        contacts: list[Params] = []
        pair_count = min(n(5000, 5), child_count)
        per_pair = n(200000, 40) // pair_count
        year_end = date(year, 12, 31)
        for pair_id in range(1, pair_count + 1):
            started = date(year, 1, 1) + timedelta(days=rng.randrange(60))
            ended = pair_id in left_ids or rng.random() < 0.15
            status = "ended" if ended else "active"
            ended_at = _t(datetime(year, 9, 1, tzinfo=zone)) if ended else None
            reason = ("child_left" if pair_id in left_ids else "finished") if ended else None
            pairs.append(
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
                )
            )
            span = ((date(year, 8, 31) if ended else year_end) - started).days
            for index in range(per_pair):
                day = started + timedelta(days=rng.randrange(span + 1))
                contacts.append(
                    (
                        pair_id,
                        day.isoformat(),
                        rng.choice(CONTACT_KINDS),
                        rng.choice((30, 45, 60, 90)),
                        f"b{pair_id}-{index}",
                        created,
                    )
                )
        conn.executemany(
            "INSERT INTO pairs (id, child_id, volunteer_id, org_id, support, rhythm_days, status, proposed_by,"
            " proposed_at, started_on, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            pairs,
        )
        conn.executemany(
            "INSERT INTO contacts (pair_id, contact_on, kind, minutes, idempotency_key, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?)",
            contacts,
        )
        sessions = (
            {(rng.choice(activities), rng.randrange(1, child_count + 1)) for _ in range(n(5000, 5))}
            if activities
            else set()
        )
        conn.executemany(
            "INSERT INTO session_children (activity_id, child_id, recorded_by, recorded_at) VALUES (?, ?, 1, ?)",
            [(activity, child, created) for activity, child in sessions],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {"children": len(children), "pairs": len(pairs), "contacts": len(contacts)}
