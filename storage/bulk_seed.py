"""A synthetic county-year for the report benchmark (`league-bot bench report`): SQL only.

At scale 1 it is the source document's county ×10: 440 organisations (1 county committee, 200
county-level with 3 deeds a year, 172 townships with 1, 48 schools, 19 village branches), 5,000
volunteers, 3,000 activities (about 3% cancelled) with 50,000 attendance rows (about 3% no-shows,
1% removed, 5% without a check-out), 8,000 wishes collected by the schools with statuses spread
as in a real year (10% open, 10% claimed, 5% purchased, 10% delivered, 60% confirmed, 5%
cancelled; some claims past their deadline), and deeds (a few organisations behind).

Rows are built in Python and written in large batches through the database interface
(storage/bulk_rows.py: `Database.execute_many` inside one `db.transaction()`), so the same seed
fills any backend and a province-sized one (scale 10: 500,000 attendance rows) never holds all
its rows at once; the random generator is seeded, so every run builds the same county.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.bulk_rows import BulkRows
from storage.db import Database

KINDS = (
    ("county_committee", 1, 0),
    ("county_level", 200, 3),
    ("township", 172, 1),
    ("school", 48, 0),
    ("village_branch", 19, 0),
)
CATEGORIES = ("tutoring", "counselling", "interest", "development", "visit", "clinic", "elder_care", "other")
WISH_CATEGORIES = ("stationery", "books", "sports", "toys", "clothing", "experience", "other")
WISH_STATUSES = (
    ("open", 10),
    ("claimed", 10),
    ("purchased", 5),
    ("delivered", 10),
    ("confirmed", 60),
    ("cancelled", 5),
)
ADMIN = 1
# One row of parameters for executemany.
Params = tuple[object, ...]


def _t(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ORGANISATIONS_SQL = (
    "INSERT INTO organisations (id, name, kind, parent_id, deeds_quota, created_at) VALUES (?, ?, ?, NULL, ?, ?)"
)
PEOPLE_SQL = "INSERT INTO people (user_id, display_name, created_at) VALUES (?, ?, ?)"
ACTIVITIES_SQL = (
    "INSERT INTO activities (id, code, org_id, title, category, starts_at, ends_at, place, slots,"
    " expected_served, served_confirmed, counts_as_deed, state, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ATTENDANCE_SQL = (
    "INSERT INTO attendance (activity_id, user_id, checked_in_at, checked_out_at, walk_in, no_show,"
    " method, removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
WISHES_SQL = (
    "INSERT INTO wishes (id, collector_org_id, alias, grade, text, category, value_yuan, status, consent,"
    " consent_recorded_at, consent_recorded_by, claimed_by_user, claimed_by_org, claimed_at, deadline,"
    " delivered_at, delivery_proof_file_id, confirmed_at, cancelled_at, created_by, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
DEEDS_SQL = "INSERT INTO deeds (org_id, title, done_on, created_by, created_at) VALUES (?, ?, ?, ?, ?)"


async def seed_county_year(
    db: Database, year: int, zone: ZoneInfo, scale: float = 1.0, seed: int = 2026
) -> dict[str, int]:
    """Fill an empty, migrated database; returns how many of each were made."""
    async with db.transaction():
        return await _seed(
            BulkRows(db, ORGANISATIONS_SQL, PEOPLE_SQL, ACTIVITIES_SQL, ATTENDANCE_SQL, WISHES_SQL, DEEDS_SQL),
            year,
            zone,
            scale,
            seed,
        )


async def _seed(rows: BulkRows, year: int, zone: ZoneInfo, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)

    def n(count: int, least: int = 1) -> int:
        return max(least, round(count * scale))

    created = _t(datetime(year, 1, 1, tzinfo=zone))
    # Organisations.
    orgs: list[tuple[int, str, int]] = []  # (id, kind, quota)
    next_id = 1
    for kind, count, quota in KINDS:
        for index in range(n(count)):
            rows.add(ORGANISATIONS_SQL, (next_id, f"{kind}-{index + 1:03d}团委", kind, quota, created))
            orgs.append((next_id, kind, quota))
            next_id += 1
    by_kind = {kind: [org_id for org_id, k, _ in orgs if k == kind] for kind, _, _ in KINDS}
    organisers = by_kind["county_level"] + by_kind["township"] + by_kind["village_branch"]
    claimers = by_kind["county_level"] + by_kind["township"]
    schools = by_kind["school"]

    # People: the admin and the volunteers.
    volunteers = list(range(1000, 1000 + n(5000, 30)))
    rows.add(PEOPLE_SQL, (ADMIN, "admin", created))
    for v in volunteers:
        rows.add(PEOPLE_SQL, (v, f"志愿者{v}", created))
    await rows.flush()

    # Activities, spread over the year, 9:00 to 15:00 local, 2 to 3 hours.
    activity_count = n(3000, 12)
    cancelled_ids = {activity_id for activity_id in range(1, activity_count + 1) if rng.random() < 0.03}
    held = activity_count - len(cancelled_ids)
    # The attendance rows shared out over the activities held: exactly the target in all.
    per_activity, extra = divmod(n(50000, 50), held)
    first_day = date(year, 1, 1)
    held_index = 0
    for activity_id in range(1, activity_count + 1):
        day = first_day + timedelta(days=rng.randrange(365))
        starts = datetime(day.year, day.month, day.day, rng.randrange(9, 16), rng.choice((0, 30)), tzinfo=zone)
        ends = starts + timedelta(minutes=rng.choice((120, 150, 180)))
        cancelled = activity_id in cancelled_ids
        size = 0 if cancelled else per_activity + (1 if held_index < extra else 0)
        held_index += 0 if cancelled else 1
        rows.add(
            ACTIVITIES_SQL,
            (
                activity_id,
                f"A{activity_id}",
                rng.choice(organisers),
                f"活动{activity_id}",
                rng.choice(CATEGORIES),
                _t(starts),
                _t(ends),
                "村小",
                size + 5,
                rng.randrange(5, 31),
                rng.randrange(5, 31) if rng.random() < 0.5 else None,
                int(rng.random() < 0.1),
                "cancelled" if cancelled else "published",
                ADMIN,
                created,
            ),
        )
        if cancelled:
            continue
        for user_id in rng.sample(volunteers, min(size, len(volunteers))):
            roll = rng.random()
            if roll < 0.03:
                rows.add(ATTENDANCE_SQL, (activity_id, user_id, None, None, 0, 1, "organiser", None))
                continue
            came = starts + timedelta(minutes=rng.randrange(-10, 21))
            left = None if roll < 0.08 else ends + timedelta(minutes=rng.randrange(-30, 11))
            removed = _t(ends) if roll > 0.99 else None
            rows.add(
                ATTENDANCE_SQL,
                (
                    activity_id,
                    user_id,
                    _t(came),
                    None if left is None else _t(left),
                    int(rng.random() < 0.1),
                    0,
                    "text",
                    removed,
                ),
            )
        if rows.full:
            await rows.flush()

    # Wishes, collected by the schools through the year.
    statuses = [status for status, weight in WISH_STATUSES for _ in range(weight)]
    for wish_id in range(1, n(8000, 20) + 1):
        rows.add(WISHES_SQL, _wish(rng, wish_id, year, zone, statuses, volunteers, claimers, schools))
        if rows.full:
            await rows.flush()

    # Deeds: most organisations meet their quota, some are behind.
    for org_id, _, quota in orgs:
        if quota == 0:
            continue
        for index in range(rng.choice((quota - 1, quota, quota, quota + 1)) if quota > 1 else rng.randrange(2)):
            done_on = first_day + timedelta(days=rng.randrange(330))
            rows.add(DEEDS_SQL, (org_id, f"实事{org_id}-{index + 1}", done_on.isoformat(), ADMIN, created))
    await rows.flush()
    return {
        "organisations": len(orgs),
        "volunteers": len(volunteers),
        "activities": rows.count(ACTIVITIES_SQL),
        "attendance": rows.count(ATTENDANCE_SQL),
        "wishes": rows.count(WISHES_SQL),
        "deeds": rows.count(DEEDS_SQL),
    }


def _wish(
    rng: random.Random,
    wish_id: int,
    year: int,
    zone: ZoneInfo,
    statuses: list[str],
    volunteers: list[int],
    claimers: list[int],
    schools: list[int],
) -> Params:
    collected = datetime(year, 1, 1, 8, tzinfo=zone) + timedelta(minutes=rng.randrange(300 * 24 * 60))
    status = rng.choice(statuses)
    claim: tuple[int, int] | None = None
    claimed_at: datetime | None = None
    deadline: datetime | None = None
    delivered: datetime | None = None
    confirmed: datetime | None = None
    proof: str | None = None
    cancelled_at: str | None = None
    if status == "cancelled":
        cancelled_at = _t(collected + timedelta(days=3))
    elif status != "open":
        claimed_at = collected + timedelta(days=rng.randrange(1, 20))
        deadline = claimed_at + timedelta(days=14)
        claim = (rng.choice(volunteers), rng.choice(claimers))
        if status in ("delivered", "confirmed"):
            delivered = claimed_at + timedelta(days=rng.randrange(1, 20))  # some after the deadline
            proof = f"proof-{wish_id}"
            if status == "confirmed":
                confirmed = delivered + timedelta(days=rng.randrange(0, 5))
    return (
        wish_id,
        rng.choice(schools),
        f"孩子{wish_id}",
        f"{rng.randrange(1, 7)}年级",
        "一个篮球",
        rng.choice(WISH_CATEGORIES),
        rng.randrange(20, 201),
        status,
        0,
        _t(collected),
        ADMIN,
        claim[0] if claim else None,
        claim[1] if claim else None,
        _t(claimed_at) if claimed_at else None,
        _t(deadline) if deadline else None,
        _t(delivered) if delivered else None,
        proof,
        _t(confirmed) if confirmed else None,
        cancelled_at,
        ADMIN,
        _t(collected),
        _t(collected),
    )
