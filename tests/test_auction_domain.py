"""The live wish auction (认领会), domain side: sessions, lots, the claim race, caps, waves,
releases, the board, browsing, the claims table and the close, through the running bot's own
services and database (the harness) with the fake clock.

Refusals are checked by what the person would read: the Chinese catalog message of the refusal.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.domain.auction import LotSelection, SessionDraft, subject_keys
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes import WishDraft
from bot.model.auction import LotFilter
from bot.model.organisation import Binding, OrgKind, Role
from bot.model.wish import WishCategory, WishStatus
from handlers.i18n import Translator, catalog, placeholders, translate
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.reminders import ReminderRepository
from tests.harness import COUNTY_ADMIN_ID
from tests.test_wishes_domain import (  # the same county as the wish registry's tests
    DONOR,
    DONOR_MATE,
    DONOR_ORG,
    OTHER_DONOR,
    OTHER_DONOR_CADRE,
    OTHER_SCHOOL,
    OTHER_TEACHER,
    OUTSIDER,
    PRIVATE,
    PRIVATE_VALUES,
    SCHOOL,
    TEACHER,
)

HUB = -1001


# ---- arranging ------------------------------------------------------------------------------
class County:
    """Two schools collecting wishes, two donor organisations, their cadres, and the services."""

    def __init__(self, harness, orgs: dict[str, int]) -> None:
        self.harness = harness
        self.wishes = harness.services.wishes
        self.auction = harness.services.auction
        self.orgs = orgs
        self._made = 0

    @property
    def clock(self):
        return self.harness.clock

    def now(self):
        return self.harness.clock.now()

    async def person(self, user_id: int, name: str, org: str | None = None, role: Role = Role.CADRE) -> int:
        services = self.harness.services
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
        if org is not None:
            await services.membership.memberships.grant(self.orgs[org], user_id, role, COUNTY_ADMIN_ID, self.now())
        return user_id

    async def add_wishes(self, count: int, **changes) -> list:
        """`count` open wishes (school 1 unless told), each with its own alias and the child's details."""
        added = []
        for _ in range(count):
            self._made += 1
            draft = WishDraft(
                collector_org_id=self.orgs[SCHOOL],
                alias=f"孩子{self._made}",
                grade="三年级",
                text="一个篮球",
                category=WishCategory.SPORTS,
                value_yuan=80,
                consent=True,
                private=PRIVATE,
            )
            added.append(await self.wishes.add(COUNTY_ADMIN_ID, replace(draft, **changes)))
        return added

    def draft(self, **changes) -> SessionDraft:
        base = SessionDraft(
            title="冬季微心愿认领会",
            starts_at=self.now() + timedelta(days=2),
            duration_minutes=30,
            selection=LotSelection(),
            cap_per_org=None,
            cap_per_person=None,
        )
        return replace(base, **changes)

    async def session(self, **changes):
        return await self.auction.create(COUNTY_ADMIN_ID, self.draft(**changes))

    async def live(self, **changes):
        """A session created now, starting a minute later, opened at its start."""
        session = await self.session(**{"starts_at": self.now() + timedelta(minutes=1), **changes})
        self.clock.advance(minutes=1)
        assert [due.id for due in await self.auction.due_to_open(self.now())] == [session.id]
        return await self.auction.open(session.id)

    async def cadres(self, count: int, org: str, first_id: int) -> list[int]:
        return [await self.person(first_id + index, f"干部{index}", org) for index in range(count)]

    async def audit(self, subject: str) -> list[tuple[str, int | None, dict]]:
        entries = await AuditRepository(self.harness.services.db).for_subject(subject)
        return [(action, actor, details) for _, actor, action, details in entries]


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    orgs = {}
    for name, kind in (
        (SCHOOL, OrgKind.SCHOOL),
        (OTHER_SCHOOL, OrgKind.SCHOOL),
        (DONOR_ORG, OrgKind.COUNTY_LEVEL),
        (OTHER_DONOR, OrgKind.COUNTY_LEVEL),
    ):
        orgs[name] = (await harness.services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
    county = County(harness, orgs)
    await county.person(TEACHER, "李老师", SCHOOL, Role.ORG_ADMIN)
    await county.person(OTHER_TEACHER, "赵老师", OTHER_SCHOOL)
    await county.person(DONOR, "张书记", DONOR_ORG)
    await county.person(DONOR_MATE, "陈干事", DONOR_ORG)
    await county.person(OTHER_DONOR_CADRE, "刘干事", OTHER_DONOR)
    await county.person(OUTSIDER, "路人")
    return county


@contextmanager
def refused(key: str, kind: type[DomainError] = DomainError):
    """Expect a refusal; yields a list that then holds the Chinese message the person reads."""
    shown: list[str] = []
    with pytest.raises(kind) as caught:
        yield shown
    assert caught.value.key == key
    english = translate("en", key, **caught.value.params)
    shown.append(translate("zh-Hans", key, **caught.value.params))
    assert "{" not in shown[0] and "{" not in english


# ---- creating a session -----------------------------------------------------------------------
async def test_only_county_admins_create_sessions_and_the_preview_counts_the_lots(county):
    await county.add_wishes(4)  # W0001-W0004: school 1, sports, 80 yuan
    await county.add_wishes(
        3, collector_org_id=county.orgs[OTHER_SCHOOL], category=WishCategory.BOOKS, value_yuan=30
    )  # W0005-W0007
    await county.add_wishes(1, value_yuan=300)  # W0008
    (claimed,) = await county.add_wishes(1)  # W0009, claimed outside any session
    assert await county.wishes.claim(DONOR, county.orgs[DONOR_ORG], claimed.id, county.now())
    auction = county.auction

    assert await auction.preview(LotSelection()) == 8
    assert await auction.preview(LotSelection(collector_org_ids=(county.orgs[OTHER_SCHOOL],))) == 3
    assert await auction.preview(LotSelection(categories=(WishCategory.SPORTS,))) == 5
    assert await auction.preview(LotSelection(min_value=50, max_value=100)) == 4
    assert await auction.preview(LotSelection(categories=(WishCategory.SPORTS,), min_value=100)) == 1
    assert await auction.preview(LotSelection(codes=("W0002", "w5", "7"))) == 3
    with refused("auction.err_codes_unavailable") as shown:
        await auction.preview(LotSelection(codes=("W0002", "W0009", "W0099")))
    assert "W0009、W0099" in shown[0] and "2 个" in shown[0]
    with refused("auction.err_code_invalid") as shown:
        await auction.preview(LotSelection(codes=("W0002", "篮球")))
    assert "篮球" in shown[0] and "W0001" in shown[0]
    with refused("auction.err_value_range") as shown:
        await auction.preview(LotSelection(min_value=100, max_value=50))
    assert "50-100" in shown[0]

    for outsider in (DONOR, TEACHER, OUTSIDER):
        with refused("errors.county_admin_only", PermissionDenied):
            await auction.create(outsider, county.draft())
    session = await county.session(
        selection=LotSelection(categories=(WishCategory.SPORTS,)), cap_per_org=3, deadline_days=10
    )

    assert (session.title, session.state, session.lot_count, session.cap_per_org, session.cap_per_person) == (
        "冬季微心愿认领会",
        "scheduled",
        5,
        3,
        None,
    )
    assert session.ends_at == session.starts_at + timedelta(minutes=30)
    # The deadline is a date: the end of the local day ten days after the end.
    zone = county.harness.services.config.zone
    deadline = session.fulfilment_deadline.astimezone(zone)
    assert deadline.date() == (session.ends_at.astimezone(zone) + timedelta(days=10)).date()
    assert (deadline.hour, deadline.minute, deadline.second) == (23, 59, 59)
    assert await auction.live_sessions() == []
    assert [entry[0] for entry in await county.audit(f"auction:{session.id}")] == ["auction.create"]


TRIPS_ARE_SQLITES = "counts trips to the SQLite thread; on PostgreSQL memberships are read each time"


async def test_a_wish_is_a_lot_of_one_open_session_only(county):
    await county.add_wishes(5)
    first = await county.session(selection=LotSelection(codes=("W0001", "W0002")))

    assert await county.auction.preview(LotSelection()) == 3
    with refused("auction.err_codes_unavailable") as shown:
        await county.session(selection=LotSelection(codes=("W0002", "W0003")))
    assert "W0002" in shown[0] and "另一场" in shown[0]
    second = await county.session(title="第二场", starts_at=county.now() + timedelta(days=3))
    assert second.lot_count == 3
    with refused("auction.err_no_lots") as shown:
        await county.session(title="第三场")
    assert "全部待认领心愿" in shown[0]

    # A cancelled (or closed) session gives its lots back.
    await county.auction.cancel(COUNTY_ADMIN_ID, first.id)
    third = await county.session(title="第三场")
    assert third.lot_count == 2


async def test_bad_settings_are_refused_with_an_example(county):
    auction = county.auction
    await county.add_wishes(1)

    with refused("auction.err_title_empty"):
        auction.check_title("   ")
    with refused("auction.err_title_too_long") as shown:
        auction.check_title("长" * 61)
    assert "61" in shown[0] and "60" in shown[0]
    assert auction.check_title(" 冬季  认领会 ") == "冬季 认领会"
    with refused("auction.err_duration_out_of_range") as shown:
        auction.check_duration("300")
    assert "5 到 240" in shown[0] and "例如：30" in shown[0]
    with refused("auction.err_duration_not_number"):
        auction.check_duration("半小时")
    assert auction.check_duration("４５") == 45  # full-width digits from a Chinese keyboard
    assert auction.check_caps(None) is None and auction.check_caps("") is None
    assert auction.check_caps("20") == 20
    with refused("auction.err_cap_out_of_range") as shown:
        auction.check_caps(0)
    assert "不限" in shown[0]
    with refused("auction.err_deadline_out_of_range"):
        auction.check_deadline_days(91)
    assert auction.check_deadline_days("14") == 14
    assert auction.check_waves("50 3") == auction.check_waves(50, 3) == auction.check_waves("50，3分钟") == (50, 3)
    assert auction.check_waves(None) is None
    with refused("auction.err_waves_format") as shown:
        auction.check_waves("很多")
    assert "50 3" in shown[0]
    with refused("auction.err_wave_every_out_of_range"):
        auction.check_waves("50 0")
    with refused("auction.err_waves_too_slow") as shown:
        auction.check_waves("50 3", duration_minutes=30, lot_count=800)
    assert "500" in shown[0] and "800" in shown[0]
    with refused("auction.err_start_in_past") as shown:
        await county.session(starts_at=county.now() - timedelta(hours=1))
    assert "已经过去" in shown[0]
    await county.add_wishes(1)
    with refused("auction.err_waves_too_slow") as shown:  # one wave of 1 in 30 minutes, 2 lots
        await county.session(wave_size=1, wave_every_minutes=30)
    assert "只能放出 1 个" in shown[0]


# ---- reminders ----------------------------------------------------------------------------------
async def test_reminders_to_the_hub_a_day_an_hour_and_five_minutes_before_and_gone_with_the_session(county):
    harness = county.harness
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await ChatRepository(harness.services.db).bind(HUB, Binding.HUB, None, COUNTY_ADMIN_ID, county.now())
    await county.add_wishes(3)
    session = await county.session()  # in two days, at 10:00 local time (02:00 UTC)
    reminders = ReminderRepository(harness.services.db)

    set_up = {key: await reminders.by_subject(key) for key in subject_keys(session.id)}
    assert {key.rsplit(":", 1)[1]: session.starts_at - reminder.next_due_at for key, reminder in set_up.items()} == {
        "1d": timedelta(days=1),
        "1h": timedelta(hours=1),
        "5m": timedelta(minutes=5),
    }
    assert all(reminder.target_kind == "hub" for reminder in set_up.values())

    for step in (timedelta(days=1), timedelta(hours=23), timedelta(minutes=55)):
        county.clock.advance(seconds=step.total_seconds())
        await harness.tick()
    sent = [message.text for message in harness.fake.messages(HUB) if message.from_bot]
    reminded = [text for text in sent if "冬季微心愿认领会" in text]
    heads = ("明天认领会：", "1 小时后开始认领会：", "5 分钟后开始认领会：")
    assert [[head for head in heads if head in text] for text in reminded] == [[head] for head in heads]
    assert all("2026-11-28 10:00" in text for text in reminded)

    await county.add_wishes(1)
    spring = await county.session(title="春季认领会", starts_at=county.now() + timedelta(days=5))
    assert all([await reminders.by_subject(key) for key in subject_keys(spring.id)])

    await county.auction.cancel(COUNTY_ADMIN_ID, spring.id)

    assert [await reminders.by_subject(key) for key in subject_keys(spring.id)] == [None, None, None]
    assert (await county.auction.get(spring.id)).state == "cancelled"
    with refused("auction.err_not_scheduled"):
        await county.auction.cancel(COUNTY_ADMIN_ID, spring.id)


async def test_a_session_starting_soon_gets_only_the_reminders_still_ahead(county):
    await county.add_wishes(1)
    session = await county.session(starts_at=county.now() + timedelta(minutes=30))
    reminders = ReminderRepository(county.harness.services.db)

    assert [await reminders.by_subject(key) is not None for key in subject_keys(session.id)] == [False, False, True]


# ---- opening and closing --------------------------------------------------------------------------
async def test_sessions_open_and_close_at_their_times(county):
    auction = county.auction
    (lot,) = await county.add_wishes(1)
    session = await county.session(starts_at=county.now() + timedelta(hours=1))

    assert await auction.due_to_open(county.now()) == []
    assert (await auction.claim(DONOR, session.id, lot.id)).outcome == "not_live"
    county.clock.advance(hours=1)
    assert [due.id for due in await auction.due_to_open(county.now())] == [session.id]

    opened = await auction.open(session.id)

    assert opened.state == "live"
    assert await auction.due_to_open(county.now()) == []
    assert [live.id for live in await auction.live_sessions()] == [session.id]
    with refused("auction.err_not_scheduled"):
        await auction.open(session.id)
    with refused("auction.err_not_scheduled"):
        await auction.cancel(COUNTY_ADMIN_ID, session.id)
    county.clock.advance(minutes=29, seconds=59)
    assert await auction.due_to_close(county.now()) == []
    county.clock.advance(seconds=1)
    assert [due.id for due in await auction.due_to_close(county.now())] == [session.id]
    # Past the end but not closed yet (the tick runs every few seconds): the tap is late.
    assert (await auction.claim(DONOR, session.id, lot.id)).outcome == "closed"

    summary = await auction.close(None, session.id)

    assert summary.session.state == "closed"
    assert await auction.due_to_close(county.now()) == []
    assert (await auction.claim(DONOR, session.id, lot.id)).outcome == "closed"
    assert (await county.wishes.get(lot.id)).status is WishStatus.OPEN
    with refused("auction.err_not_live"):
        await auction.close(COUNTY_ADMIN_ID, session.id)


# ---- claiming ----------------------------------------------------------------------------------
async def test_fifty_concurrent_taps_on_one_lot_have_exactly_one_winner(county):
    lot, other = await county.add_wishes(2)
    session = await county.live()
    taps = await county.cadres(25, DONOR_ORG, 400000) + await county.cadres(25, OTHER_DONOR, 410000)

    outcomes = await asyncio.gather(*(county.auction.claim(user, session.id, lot.id) for user in taps))

    assert [outcome.outcome for outcome in outcomes].count("won") == 1
    winner = taps[[outcome.outcome for outcome in outcomes].index("won")]
    winner_org = DONOR_ORG if winner < 410000 else OTHER_DONOR
    won = next(outcome for outcome in outcomes if outcome.won)
    assert (won.wish.code, won.wish.status, won.org_id) == ("W0001", WishStatus.CLAIMED, county.orgs[winner_org])
    assert won.wish.deadline == session.fulfilment_deadline
    losers = [outcome for outcome in outcomes if not outcome.won]
    assert {(outcome.outcome, outcome.taken_by_org) for outcome in losers} == {("taken", winner_org)}
    claimed = await county.wishes.get(lot.id)
    assert (claimed.claimed_by_user, claimed.session_id) == (winner, session.id)
    claims = [entry for entry in await county.audit(f"wish:{lot.id}") if entry[0] == "wish.claim"]
    assert claims == [("wish.claim", winner, {"org": county.orgs[winner_org], "session": session.id})]
    assert (await county.wishes.get(other.id)).status is WishStatus.OPEN


async def test_a_cap_per_organisation_holds_under_concurrency(county):
    lots = await county.add_wishes(11)
    session = await county.live(cap_per_org=2)
    cadres = await county.cadres(10, DONOR_ORG, 420000)

    outcomes = await asyncio.gather(
        *(county.auction.claim(user, session.id, lot.id) for user, lot in zip(cadres, lots, strict=False))
    )

    kinds = [outcome.outcome for outcome in outcomes]
    assert (kinds.count("won"), kinds.count("cap_org")) == (2, 8)
    assert {outcome.cap for outcome in outcomes if outcome.outcome == "cap_org"} == {2}
    held = [wish for wish in [await county.wishes.get(lot.id) for lot in lots] if wish.status is WishStatus.CLAIMED]
    assert len(held) == 2 and {wish.claimed_by_org for wish in held} == {county.orgs[DONOR_ORG]}
    # The cap is per organisation: another one still claims.
    assert (await county.auction.claim(OTHER_DONOR_CADRE, session.id, lots[10].id)).outcome == "won"


async def test_a_cap_per_person_holds_under_concurrency(county):
    lots = await county.add_wishes(10)
    session = await county.live(cap_per_person=2)

    outcomes = await asyncio.gather(*(county.auction.claim(DONOR, session.id, lot.id) for lot in lots))

    kinds = [outcome.outcome for outcome in outcomes]
    assert (kinds.count("won"), kinds.count("cap_person")) == (2, 8)
    # A colleague has a cap of their own.
    left = [lot for lot, outcome in zip(lots, outcomes, strict=True) if not outcome.won]
    assert (await county.auction.claim(DONOR_MATE, session.id, left[0].id)).outcome == "won"


async def test_taps_that_cannot_claim_change_nothing(county):
    lot, outside, elsewhere = await county.add_wishes(3)
    session = await county.live(selection=LotSelection(codes=("W0001",)))
    other_session = await county.session(title="下一场", selection=LotSelection(codes=("W0003",)))
    auction = county.auction

    assert (await auction.claim(OUTSIDER, session.id, lot.id)).outcome == "not_cadre"
    assert (await auction.claim(DONOR, session.id, outside.id)).outcome == "not_a_lot"
    assert (await auction.claim(DONOR, session.id, elsewhere.id)).outcome == "not_a_lot"
    assert (await auction.claim(DONOR, other_session.id, elsewhere.id)).outcome == "not_live"
    assert (await auction.claim(DONOR, 999, lot.id)).outcome == "not_a_lot"  # forged session
    assert [(await county.wishes.get(wish.id)).status for wish in (lot, outside, elsewhere)] == [WishStatus.OPEN] * 3

    first = await auction.claim(DONOR, session.id, lot.id)
    again = await auction.claim(DONOR, session.id, lot.id)  # a double tap
    colleague = await auction.claim(DONOR_MATE, session.id, lot.id)

    assert (first.outcome, again.outcome, again.wish.code) == ("won", "already_yours", "W0001")
    assert (colleague.outcome, colleague.taken_by_org) == ("taken", DONOR_ORG)
    assert [entry[0] for entry in await county.audit(f"wish:{lot.id}")].count("wish.claim") == 1


async def test_the_organisation_claimed_for(county):
    """Org admin first, then the oldest membership; archived organisations do not claim."""
    lots = await county.add_wishes(3)
    session = await county.live()
    both = await county.person(430001, "两边都在", DONOR_ORG)
    county.clock.advance(seconds=10)
    await county.harness.services.membership.memberships.grant(
        county.orgs[OTHER_DONOR], both, Role.ORG_ADMIN, COUNTY_ADMIN_ID, county.now()
    )
    older = await county.person(430002, "老成员", OTHER_DONOR)
    county.clock.advance(seconds=10)
    await county.harness.services.membership.memberships.grant(
        county.orgs[DONOR_ORG], older, Role.CADRE, COUNTY_ADMIN_ID, county.now()
    )

    assert (await county.auction.claim(both, session.id, lots[0].id)).org_id == county.orgs[OTHER_DONOR]
    assert (await county.auction.claim(older, session.id, lots[1].id)).org_id == county.orgs[OTHER_DONOR]
    await county.harness.services.orgs.set_archived(COUNTY_ADMIN_ID, county.orgs[OTHER_DONOR], True)
    assert (await county.auction.claim(OTHER_DONOR_CADRE, session.id, lots[2].id)).outcome == "not_cadre"


@pytest.mark.sqlite_only(
    "counts trips to the SQLite thread; PostgreSQL reads memberships each time (several instances)"
)
async def test_a_claim_takes_one_trip_to_the_database_and_a_tap_on_a_taken_lot_none(county):
    """The hot path, once warm: the session, its lots, who holds what and the memberships are in
    memory; a won claim is one trip to the database thread (its transaction), a lost one none."""
    lots = await county.add_wishes(3)
    session = await county.live()
    auction = county.auction
    await auction.claim(DONOR, session.id, lots[0].id)  # warms the session, the mirror, the memberships
    await auction.claim(DONOR_MATE, session.id, lots[0].id)
    conn = county.harness.services.db.conn
    trips: list[object] = []
    original = conn._execute

    async def counting(function, *args, **kwargs):
        trips.append(function)
        return await original(function, *args, **kwargs)

    conn._execute = counting
    try:
        won = await auction.claim(DONOR, session.id, lots[1].id)
        won_trips = len(trips)
        trips.clear()
        taken = await auction.claim(DONOR_MATE, session.id, lots[1].id)
        again = await auction.claim(DONOR, session.id, lots[1].id)
    finally:
        del conn._execute

    assert won.outcome == "won" and won_trips == 1
    assert (taken.outcome, again.outcome, again.wish.code) == ("taken", "already_yours", "W0002") and trips == []


async def test_concurrent_claims_are_committed_together_each_audited_once(county):
    lots = await county.add_wishes(12)
    session = await county.live(cap_per_org=10)
    cadres = await county.cadres(12, DONOR_ORG, 440000)
    batches: list[int] = []
    repo = county.auction.repo
    original = repo.claim_many

    async def counting(requests):
        batches.append(len(requests))
        return await original(requests)

    repo.claim_many = counting
    try:
        outcomes = await asyncio.gather(
            *(county.auction.claim(user, session.id, lot.id) for user, lot in zip(cadres, lots, strict=True))
        )
    finally:
        del repo.claim_many

    assert [outcome.outcome for outcome in outcomes].count("won") == 10
    assert [outcome.outcome for outcome in outcomes].count("cap_org") == 2
    assert sum(batches) == 10 and len(batches) < 10  # ten claims, a few transactions
    for user, lot, outcome in zip(cadres, lots, outcomes, strict=True):
        claims = [entry for entry in await county.audit(f"wish:{lot.id}") if entry[0] == "wish.claim"]
        if outcome.won:
            assert outcome.wish.claimed_by_user == user and outcome.wish.status is WishStatus.CLAIMED
            assert claims == [("wish.claim", user, {"org": county.orgs[DONOR_ORG], "session": session.id})]
        else:
            assert claims == [] and (await county.wishes.get(lot.id)).status is WishStatus.OPEN


@pytest.mark.sqlite_only(
    "counts trips to the SQLite thread; PostgreSQL reads memberships each time (several instances)"
)
async def test_the_warm_up_at_the_start_leaves_nothing_for_the_first_taps_to_read(county):
    lots = await county.add_wishes(2)
    session = await county.live()
    newcomer = await county.person(460001, "新干部", DONOR_ORG)
    await county.auction.warm_up(session.id)
    conn = county.harness.services.db.conn
    trips: list[object] = []
    original = conn._execute

    async def counting(function, *args, **kwargs):
        trips.append(function)
        return await original(function, *args, **kwargs)

    conn._execute = counting
    try:
        taken_first = await county.auction.claim(newcomer, session.id, lots[0].id)
        claims_trips = len(trips)
        late = await county.auction.claim(DONOR, session.id, lots[0].id)
    finally:
        del conn._execute

    assert taken_first.outcome == "won" and claims_trips == 1  # the claim's own transaction only
    assert (late.outcome, late.taken_by_org) == ("taken", DONOR_ORG) and len(trips) == 1


async def test_a_batch_of_claims_is_judged_in_order_by_the_database(county):
    """The repository alone, without the in-memory mirror: two claims on one wish in one batch,
    the first wins; the caps count the claims made earlier in the same batch."""
    from bot.model.auction import ClaimRequest

    lots = await county.add_wishes(3)
    session = await county.live(cap_per_org=2)
    now, deadline = county.now(), session.fulfilment_deadline

    def request(wish, user):
        return ClaimRequest(
            wish_id=wish.id,
            user_id=user,
            org_id=county.orgs[DONOR_ORG],
            session_id=session.id,
            deadline=deadline,
            now=now,
            max_per_org=2,
        )

    results = await county.auction.repo.claim_many(
        [request(lots[0], DONOR), request(lots[0], DONOR_MATE), request(lots[1], DONOR_MATE), request(lots[2], DONOR)]
    )

    assert [result.won for result in results] == [True, False, True, False]
    assert results[0].wish.claimed_by_user == DONOR and results[2].wish.claimed_by_user == DONOR_MATE
    taken, capped = results[1].why, results[3].why
    assert (taken.wish.claimed_by_user, taken.holder_org_name) == (DONOR, DONOR_ORG)
    assert (capped.wish.status, capped.org_held) == (WishStatus.OPEN, 2)
    assert [entry[1] for entry in await county.audit(f"wish:{lots[0].id}") if entry[0] == "wish.claim"] == [DONOR]


@pytest.mark.sqlite_only(
    "counts trips to the SQLite thread; PostgreSQL reads memberships each time (several instances)"
)
async def test_a_persons_first_taps_read_their_memberships_once(county):
    lots = await county.add_wishes(1)
    session = await county.live()
    newcomer = await county.person(450001, "新干部", DONOR_ORG)
    reads: list[str] = []
    db = county.harness.services.db
    original = db.fetch_all

    async def counting(sql, params=()):
        if "FROM memberships" in sql:
            reads.append(sql)
        return await original(sql, params)

    db.fetch_all = counting
    try:
        outcomes = await asyncio.gather(*(county.auction.claim(newcomer, session.id, lots[0].id) for _ in range(20)))
    finally:
        del db.fetch_all

    assert len(reads) == 1
    assert sorted(outcome.outcome for outcome in outcomes) == ["already_yours"] * 19 + ["won"]


# ---- waves -------------------------------------------------------------------------------------
async def test_waves_release_the_lots_over_time(county):
    lots = await county.add_wishes(10)
    session = await county.live(wave_size=3, wave_every_minutes=2)
    auction = county.auction
    start = session.starts_at

    assert [auction.released_count(session, start + timedelta(minutes=minutes)) for minutes in (0, 1, 2, 5, 6, 30)] == [
        3,
        3,
        6,
        9,
        10,
        10,
    ]
    assert (await auction.browse(session.id, DONOR)).total == 3
    outcome = await auction.claim(DONOR, session.id, lots[5].id)
    assert outcome.outcome == "not_released"
    assert (await county.wishes.get(lots[5].id)).status is WishStatus.OPEN

    county.clock.advance(minutes=4)

    assert (await auction.claim(DONOR, session.id, lots[5].id)).outcome == "won"
    assert (await auction.board(session.id, county.now())).released == 9
    page = await auction.browse(session.id, DONOR, page_size=20)
    assert [wish.code for wish in page.items] == [
        "W0001",
        "W0002",
        "W0003",
        "W0004",
        "W0005",
        "W0007",
        "W0008",
        "W0009",
    ]


# ---- releases and reassignments ------------------------------------------------------------------
async def test_the_claimer_releases_within_two_minutes_then_only_an_admin_with_a_reason(county):
    (lot,) = await county.add_wishes(1)
    session = await county.live()
    auction = county.auction
    assert (await auction.claim(DONOR, session.id, lot.id)).won
    county.clock.advance(seconds=90)

    with refused("wishes.release_not_allowed", PermissionDenied):
        await auction.release(DONOR_MATE, lot.id)
    change = await auction.release(DONOR, lot.id)

    assert (change.wish.status, change.previous_user, change.previous_org) == (
        WishStatus.OPEN,
        DONOR,
        county.orgs[DONOR_ORG],
    )
    assert (await auction.board(session.id, county.now())).claimed == 0
    assert (await auction.claim(DONOR_MATE, session.id, lot.id)).won
    county.clock.advance(minutes=2, seconds=1)
    with refused("wishes.release_too_late") as shown:
        await auction.release(DONOR_MATE, lot.id)
    assert "2 分钟" in shown[0]
    with refused("errors.county_admin_only", PermissionDenied):
        await auction.admin_release(DONOR_MATE, lot.id, "买不到")
    with refused("wishes.reason_empty"):
        await auction.admin_release(COUNTY_ADMIN_ID, lot.id, "  ")

    await auction.admin_release(COUNTY_ADMIN_ID, lot.id, "认领单位无法完成")

    assert (await county.wishes.get(lot.id)).status is WishStatus.OPEN
    releases = [
        (actor, details["reason"])
        for action, actor, details in await county.audit(f"wish:{lot.id}")
        if action == "wish.release"
    ]
    assert releases == [(DONOR, None), (COUNTY_ADMIN_ID, "认领单位无法完成")]


async def test_a_county_admin_reassigns_a_claim_with_a_reason(county):
    (lot,) = await county.add_wishes(1)
    session = await county.live()
    auction = county.auction
    await auction.claim(DONOR, session.id, lot.id)

    with refused("errors.county_admin_only", PermissionDenied):
        await auction.reassign(DONOR, lot.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "换人")
    with refused("wishes.reason_empty"):
        await auction.reassign(COUNTY_ADMIN_ID, lot.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "")
    change = await auction.reassign(
        COUNTY_ADMIN_ID, lot.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "原认领人出差"
    )

    assert (change.previous_user, change.wish.claimed_by_org) == (DONOR, county.orgs[OTHER_DONOR])
    assert (await auction.board(session.id, county.now())).latest == (("W0001", OTHER_DONOR),)
    entry = [details for action, _, details in await county.audit(f"wish:{lot.id}") if action == "wish.reassign"]
    assert entry == [
        {
            "from_user": DONOR,
            "from_org": county.orgs[DONOR_ORG],
            "to_user": OTHER_DONOR_CADRE,
            "to_org": county.orgs[OTHER_DONOR],
            "reason": "原认领人出差",
        }
    ]


async def test_reassign_to_a_person_moves_the_claim_to_the_organisation_they_claim_for(county):
    (lot,) = await county.add_wishes(1)
    session = await county.live()
    auction = county.auction
    await auction.claim(DONOR, session.id, lot.id)
    people = county.harness.services.people
    outsider, other = await people.get(OUTSIDER), await people.get(OTHER_DONOR_CADRE)

    with refused("errors.county_admin_only", PermissionDenied):
        await auction.reassign_to(DONOR_MATE, lot.id, other, "换人")
    with refused("auction.err_reassign_not_cadre") as shown:
        await auction.reassign_to(COUNTY_ADMIN_ID, lot.id, outsider, "换人")
    assert "路人" in shown[0]
    moved = await auction.reassign_to(COUNTY_ADMIN_ID, lot.id, other, "原认领人出差")

    assert (moved.org.name, moved.change.previous_user) == (OTHER_DONOR, DONOR)
    assert (moved.change.wish.claimed_by_user, moved.change.wish.claimed_by_org) == (
        OTHER_DONOR_CADRE,
        county.orgs[OTHER_DONOR],
    )


# ---- the board and browsing ----------------------------------------------------------------------
async def test_the_board_counts_shows_the_latest_claims_and_the_leading_organisations(county):
    lots = await county.add_wishes(8)
    session = await county.live()
    auction = county.auction
    for user, lot in (
        (DONOR, lots[0]),
        (OTHER_DONOR_CADRE, lots[1]),
        (DONOR_MATE, lots[2]),
        (TEACHER, lots[3]),
        (DONOR, lots[4]),
        (OTHER_DONOR_CADRE, lots[5]),
    ):
        assert (await auction.claim(user, session.id, lot.id)).won
        county.clock.advance(seconds=20)

    state = await auction.board(session.id, county.now())

    assert (state.claimed, state.left, state.released, state.session.id) == (6, 2, 8, session.id)
    assert state.latest == (
        ("W0006", OTHER_DONOR),
        ("W0005", DONOR_ORG),
        ("W0004", SCHOOL),
        ("W0003", DONOR_ORG),
        ("W0002", OTHER_DONOR),
    )
    assert state.leaders == ((DONOR_ORG, 3), (OTHER_DONOR, 2), (SCHOOL, 1))
    assert state.seconds_left == 30 * 60 - 120


async def test_browsing_pages_and_filters_show_only_released_open_lots(county):
    await county.add_wishes(10)  # W0001-W0010: school 1, 三年级, sports, 80
    await county.add_wishes(
        5, collector_org_id=county.orgs[OTHER_SCHOOL], grade="五年级", category=WishCategory.BOOKS, value_yuan=30
    )  # W0011-W0015
    (outside,) = await county.add_wishes(1)  # W0016, not a lot
    session = await county.live(selection=LotSelection(codes=tuple(f"W{index:04d}" for index in range(1, 16))))
    auction = county.auction
    await auction.claim(DONOR, session.id, 2)

    first = await auction.browse(session.id, DONOR)
    assert (first.total, first.pages, first.page, len(first.items)) == (14, 2, 1, 8)
    assert [wish.code for wish in first.items][:3] == ["W0001", "W0003", "W0004"]
    last = await auction.browse(session.id, DONOR, page=9)
    assert (last.page, [wish.code for wish in last.items]) == (
        2,
        ["W0010", "W0011", "W0012", "W0013", "W0014", "W0015"],
    )
    books = await auction.browse(session.id, DONOR, LotFilter(category=WishCategory.BOOKS))
    assert books.total == 5
    assert (await auction.browse(session.id, DONOR, LotFilter(collector_org_id=county.orgs[SCHOOL]))).total == 9
    assert (await auction.browse(session.id, DONOR, LotFilter(grade="五年级", max_value=30))).total == 5
    assert (await auction.browse(session.id, DONOR, LotFilter(min_value=50))).total == 9
    assert (await auction.browse(session.id, DONOR, LotFilter(category=WishCategory.TOYS))).items == ()
    assert outside.code not in {wish.code for wish in (await auction.browse(session.id, DONOR, page_size=50)).items}

    await auction.close(COUNTY_ADMIN_ID, session.id)
    assert (await auction.browse(session.id, DONOR)).total == 0


async def test_the_filters_choices_are_the_collectors_and_grades_of_the_released_open_lots(county):
    await county.add_wishes(2, grade="五年级")  # W0001-W0002: school 1
    await county.add_wishes(1, collector_org_id=county.orgs[OTHER_SCHOOL], grade="二年级")  # W0003
    await county.add_wishes(1, grade="一年级")  # W0004: claimed below
    await county.add_wishes(1, collector_org_id=county.orgs[OTHER_SCHOOL], grade="六年级")  # W0005: a later wave
    scheduled = await county.session(title="下一场")
    assert (await county.auction.facets(scheduled.id)).collectors == ()  # not live: nothing to browse
    await county.auction.cancel(COUNTY_ADMIN_ID, scheduled.id)
    session = await county.live(wave_size=4, wave_every_minutes=5)
    await county.auction.claim(DONOR, session.id, 4)

    facets = await county.auction.facets(session.id)

    assert facets.collectors == ((county.orgs[SCHOOL], SCHOOL), (county.orgs[OTHER_SCHOOL], OTHER_SCHOOL))
    assert facets.grades == ("二年级", "五年级")
    county.clock.advance(minutes=5)
    assert (await county.auction.facets(session.id)).grades == ("二年级", "五年级", "六年级")


# ---- the claims table, the spreadsheet and the close ---------------------------------------------
async def test_the_claims_table_and_its_spreadsheet_hold_public_fields_only(county):
    lots = await county.add_wishes(3)
    session = await county.live()
    auction = county.auction
    await auction.claim(DONOR, session.id, lots[0].id)
    county.clock.advance(minutes=1)
    await auction.claim(OTHER_DONOR_CADRE, session.id, lots[2].id)

    rows = await auction.claims_table(session.id)

    assert [
        (row.code, row.alias_grade, row.text, row.value_yuan, row.org_name, row.user_display_name) for row in rows
    ] == [
        ("W0001", "孩子1 · 三年级", "一个篮球", 80, DONOR_ORG, "张书记"),
        ("W0003", "孩子3 · 三年级", "一个篮球", 80, OTHER_DONOR, "刘干事"),
    ]
    content = await auction.claims_xlsx(session.id, Translator("zh-Hans"), county.harness.services.config.zone)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    table = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert sheet.title == "认领名单"
    assert table[0] == ("心愿编号", "孩子（称呼 · 年级）", "心愿内容", "估价（元）", "认领单位", "认领人", "认领时间")
    # Claimed at 02:01 and 02:02 UTC: 10:01 and 10:02 in the county (UTC+8), as real dates.
    assert table[1:] == [
        ("W0001", "孩子1 · 三年级", "一个篮球", 80, DONOR_ORG, "张书记", datetime(2026, 11, 26, 10, 1)),
        ("W0003", "孩子3 · 三年级", "一个篮球", 80, OTHER_DONOR, "刘干事", datetime(2026, 11, 26, 10, 2)),
    ]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        everything = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    for value in PRIVATE_VALUES:
        assert value not in everything


async def test_the_close_summary(county):
    lots = await county.add_wishes(6)
    session = await county.live()
    auction = county.auction
    for user, lot in ((DONOR, lots[0]), (DONOR_MATE, lots[1]), (OTHER_DONOR_CADRE, lots[2]), (DONOR, lots[3])):
        await auction.claim(user, session.id, lot.id)
    county.clock.advance(minutes=12, seconds=20)

    with refused("errors.county_admin_only", PermissionDenied):
        await auction.close(DONOR, session.id)
    summary = await auction.close(COUNTY_ADMIN_ID, session.id)  # early, by an admin

    assert (summary.claimed, summary.total, summary.minutes, summary.unclaimed) == (4, 6, 12, 2)
    assert summary.per_org == ((DONOR_ORG, 3), (OTHER_DONOR, 1))
    assert summary.unclaimed_codes == ("W0005", "W0006")
    assert summary.session.state == "closed"
    assert [entry[2] for entry in await county.audit(f"auction:{session.id}") if entry[0] == "auction.close"] == [
        {"claimed": 4, "total": 6, "early": True}
    ]
    # Back in the pool: open wishes, free to be lots of the next session.
    assert {(await county.wishes.get(lot.id)).status for lot in lots[4:]} == {WishStatus.OPEN}
    assert (await county.session(title="下一场")).lot_count == 2


async def test_a_close_waits_for_the_claims_under_way_and_refuses_new_ones(county):
    lots = await county.add_wishes(20)
    session = await county.live()
    cadres = await county.cadres(20, DONOR_ORG, 440000)
    auction = county.auction
    await auction.get(session.id)  # the session is in memory, as during any real session

    def tap(index: int) -> asyncio.Future:
        return asyncio.ensure_future(auction.claim(cadres[index], session.id, lots[index].id))

    early = [tap(index) for index in range(10)]
    await asyncio.sleep(0)  # these taps are under way
    closing = asyncio.ensure_future(auction.close(COUNTY_ADMIN_ID, session.id))
    while session.id not in auction.claims.closing:  # the close has begun
        await asyncio.sleep(0)
    late = [tap(index) for index in range(10, 20)]
    summary, *outcomes = await asyncio.gather(closing, *early, *late)

    assert [outcome.outcome for outcome in outcomes] == ["won"] * 10 + ["closed"] * 10
    assert summary.claimed == 10 == len(await auction.claims_table(session.id))
    assert [(await county.wishes.get(lot.id)).status for lot in lots[10:]] == [WishStatus.OPEN] * 10


# ---- messages ------------------------------------------------------------------------------------
def test_every_refusal_and_reminder_has_a_message_in_both_languages():
    source = "".join(path.read_text(encoding="utf-8") for path in sorted(Path("bot/domain/auction").glob("*.py")))
    raised = set(re.findall(r'(?:DomainError|PermissionDenied)\(\s*"(auction\.[a-z_0-9]+)"', source))
    assert len(raised) > 10
    keys = set(re.findall(r'"(auction\.(?:err|reminder)_[a-z_0-9]+)"', source))
    assert raised <= keys
    for key in sorted(keys):
        names = placeholders(catalog("zh-Hans")[key])
        assert translate("zh-Hans", key, **{name: "x" for name in names})
        assert translate("en", key, **{name: "x" for name in names})
    assert all(key.split(".", 1)[1].startswith(("err_", "reminder_")) for key in keys)
