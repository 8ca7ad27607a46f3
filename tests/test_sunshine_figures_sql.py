"""Sunshine Home's quiet pairs counted in the database (a cutoff date per rhythm) are the pairs
bot/domain/sunshine/keeping.py `is_quiet` finds one by one, organisation by organisation, on
days when none, some and most of the seeded pairs have gone quiet."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from storage.bulk_seed import seed_county_year
from storage.bulk_seed_sunshine import seed_sunshine_year


async def test_quiet_pairs_by_cutoff_equal_those_found_one_by_one(harness):
    zone = harness.config.zone
    await seed_county_year(harness.services.db, 2026, zone, scale=0.05)
    await seed_sunshine_year(harness.services.db, 2026, zone, scale=0.05)
    sunshine = harness.services.sunshine
    seen = []
    for moment in (
        datetime(2026, 3, 1, 2, tzinfo=UTC),
        datetime(2026, 12, 20, 2, tzinfo=UTC),
        datetime(2027, 3, 1, tzinfo=UTC),
    ):
        harness.clock.advance(seconds=max(0.0, (moment - harness.clock.now()).total_seconds()))
        counted = await sunshine.figure_rows.quiet_by_org(await sunshine.quiet_cutoffs(None), None)
        one_by_one = Counter(item.pair.org_id for item in await sunshine.quiet_pairs(None))
        assert counted == dict(one_by_one)
        seen.append(sum(counted.values()))
    assert 0 < seen[1] < seen[2]  # some quiet, then more
