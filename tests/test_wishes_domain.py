"""Micro-wishes: the registry's rules, privacy, the claim hooks and fulfilment, through the real
services and database of the running bot (the harness), with the fake clock.

Refusals are checked by what the person would read: the Chinese catalog message of the refusal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.wishes import WishDraft, WishService, parse_code
from bot.model.organisation import OrgKind, Role
from bot.model.wish import PrivateDetails, WishCategory, WishFilter, WishStatus
from handlers.i18n import catalog, placeholders, translate
from storage.audit import AuditRepository
from storage.db import OperationalError
from storage.wishes import WishRepository
from tests.harness import COUNTY_ADMIN_ID

SCHOOL, OTHER_SCHOOL, DONOR_ORG, OTHER_DONOR = "县第一小学", "县第二小学", "县教育局团委", "县财政局团委"
TEACHER, OTHER_TEACHER, DONOR, DONOR_MATE, OTHER_DONOR_CADRE, OUTSIDER = (
    300001,
    300002,
    300003,
    300004,
    300005,
    300009,
)
PRIVATE = PrivateDetails(
    real_name="王小明", guardian_phone="138 0013 8000", address="城关镇幸福路 1 号", notes="鞋码 35"
)
PRIVATE_VALUES = ("王小明", "13800138000", "138 0013 8000", "幸福路", "鞋码")


# ---- arranging ------------------------------------------------------------------------------
class County:
    """Two schools collecting wishes, two donor organisations, their cadres, and the service."""

    def __init__(self, harness, service: WishService, orgs: dict[str, int]) -> None:
        self.harness = harness
        self.service = service
        self.orgs = orgs

    def draft(self, **changes) -> WishDraft:
        base = WishDraft(
            collector_org_id=self.orgs[SCHOOL],
            alias="小明",
            grade="三年级",
            text="一个篮球",
            category=WishCategory.SPORTS,
            value_yuan=80,
            consent=True,
            private=PRIVATE,
        )
        return replace(base, **changes)

    async def wish(self, **changes):
        return await self.service.add(TEACHER, self.draft(**changes))

    async def person(self, user_id: int, name: str, org: str | None = None, role: Role = Role.CADRE) -> int:
        services = self.harness.services
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
        if org is not None:
            await services.membership.memberships.grant(
                self.orgs[org], user_id, role, COUNTY_ADMIN_ID, self.harness.clock.now()
            )
        return user_id

    async def audit(self, wish_id: int) -> list[tuple[str, int | None, dict]]:
        entries = await AuditRepository(self.harness.services.db).for_subject(f"wish:{wish_id}")
        return [(action, actor, details) for _, actor, action, details in entries]


def make_service(harness, **options) -> WishService:
    """The running bot's own service, or one with other options (e.g. another purge period)."""
    services = harness.services
    if not options:
        return services.wishes
    return WishService(
        services.db,
        WishRepository(services.db),
        services.orgs,
        AuditRepository(services.db),
        services.permissions,
        services.clock,
        **options,
    )


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
    county = County(harness, make_service(harness), orgs)
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


def now(county: County):
    return county.harness.clock.now()


# ---- adding --------------------------------------------------------------------------------
async def test_a_school_cadre_adds_a_wish_shown_publicly_only_by_alias_and_grade(county):
    wish = await county.wish()

    assert wish.code == "W0001"
    assert wish.public_label == "小明 · 三年级"
    assert (wish.text, wish.category, wish.value_yuan, wish.status) == (
        "一个篮球",
        WishCategory.SPORTS,
        80,
        WishStatus.OPEN,
    )
    assert wish.consent and wish.consent_recorded_by == TEACHER
    public_fields = set(vars(wish))
    assert not public_fields & {"real_name", "guardian_phone", "address", "notes", "private"}
    assert await county.service.private_details(TEACHER, wish.id) == PrivateDetails(
        "王小明", "13800138000", "城关镇幸福路 1 号", "鞋码 35"
    )


async def test_only_the_collectors_cadres_and_county_admins_add_wishes(county):
    with refused("wishes.add_not_allowed", PermissionDenied) as shown:
        await county.service.add(OTHER_TEACHER, county.draft())
    assert "县第一小学" in shown[0] and "/join" in shown[0]
    with refused("wishes.add_not_allowed", PermissionDenied):
        await county.service.add(OUTSIDER, county.draft())

    by_admin = await county.service.add(COUNTY_ADMIN_ID, county.draft(alias="小红"))

    assert by_admin.created_by == COUNTY_ADMIN_ID
    assert (await county.service.find()).total == 1


async def test_bad_values_are_refused_with_an_example(county):
    with refused("wishes.value_out_of_range") as shown:
        await county.wish(value_yuan=2001)
    assert "1～2000" in shown[0] and "例如：80" in shown[0]
    with refused("wishes.value_out_of_range"):
        await county.wish(value_yuan=0)
    with refused("wishes.value_not_number"):
        await county.wish(value_yuan="八十")
    with refused("wishes.category_unknown") as shown:
        await county.wish(category="零食")
    assert "学习用品" in shown[0]
    with refused("wishes.alias_empty"):
        await county.wish(alias="  ")
    with refused("wishes.text_too_long"):
        await county.wish(text="很" * 101)
    with refused("wishes.phone_invalid") as shown:
        await county.wish(private=PrivateDetails(guardian_phone="12345"))
    assert "12345" not in shown[0] and "13800000000" in shown[0]

    typed = await county.wish(
        category="文具",
        value_yuan="50元",
        text=" 一盒  彩笔 ",
        private=PrivateDetails(guardian_phone="(0571) 8888 8888"),
    )

    assert (typed.category, typed.value_yuan, typed.text) == (WishCategory.STATIONERY, 50, "一盒 彩笔")
    details = await county.service.private_details(TEACHER, typed.id)
    assert details.guardian_phone == "0571-88888888"
    assert (await county.service.find()).total == 1


async def test_the_public_alias_may_not_be_the_childs_real_name(county):
    with refused("wishes.alias_is_real_name") as shown:
        await county.wish(alias="王小明")
    assert "公开显示" in shown[0]


async def test_the_same_open_wish_cannot_be_added_twice_for_one_school(county):
    await county.wish()

    with refused("wishes.duplicate") as shown:
        await county.wish(text=" 一个篮球 ")
    assert "小明" in shown[0] and "一个篮球" in shown[0]
    other_school = await county.service.add(OTHER_TEACHER, county.draft(collector_org_id=county.orgs[OTHER_SCHOOL]))
    assert other_school.code == "W0002"


# ---- consent -------------------------------------------------------------------------------
async def test_without_consent_no_private_detail_is_kept(county):
    with refused("wishes.private_without_consent") as shown:
        await county.wish(consent=False)
    assert "监护人同意" in shown[0]
    assert (await county.service.find()).total == 0

    wish = await county.wish(consent=False, private=PrivateDetails())

    assert not wish.consent
    assert await county.service.private_details(TEACHER, wish.id) is None
    with refused("wishes.private_without_consent"):
        await county.service.set_private_details(TEACHER, wish.id, PrivateDetails(real_name="王小明"))
    # The database refuses too, whatever a future caller forgets.
    with pytest.raises(sqlite3.IntegrityError):
        await county.service.wishes.put_private(wish.id, PrivateDetails(real_name="王小明"), TEACHER, now(county))


async def test_consent_recorded_later_allows_details_and_withdrawing_it_deletes_them(county):
    wish = await county.wish(consent=False, private=None)

    await county.service.set_consent(TEACHER, wish.id, True)
    await county.service.set_private_details(TEACHER, wish.id, PrivateDetails(address="城关镇幸福路 1 号"))
    assert (await county.service.private_details(TEACHER, wish.id)).address == "城关镇幸福路 1 号"

    withdrawn = await county.service.set_consent(TEACHER, wish.id, False)

    assert not withdrawn.consent
    assert await county.service.private_details(TEACHER, wish.id) is None
    actions = [action for action, _, _ in await county.audit(wish.id)]
    assert actions.count("wish.consent") == 2


# ---- who sees the private details ----------------------------------------------------------
async def test_private_details_visibility(county):
    service = county.service
    wish = await county.wish()

    async def sees(user_id: int) -> bool:
        try:
            return await service.private_details(user_id, wish.id) is not None
        except PermissionDenied as denied:
            assert denied.key == "wishes.private_not_allowed"
            return False

    assert await sees(TEACHER)  # the collector's cadre
    assert not await sees(OTHER_TEACHER)  # a cadre of another school
    assert not await sees(COUNTY_ADMIN_ID)  # county admins: not by default
    assert not await sees(DONOR)  # not before the claim
    assert not await sees(OUTSIDER)

    assert await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))

    assert await sees(DONOR)  # the claimer, once claimed
    assert not await sees(DONOR_MATE)  # the claimer's colleague: not the claimer
    assert not await sees(COUNTY_ADMIN_ID)
    await service.mark_delivered(DONOR, wish.id, "photo-file-id")
    assert await sees(DONOR)
    await service.confirm_received(TEACHER, wish.id)
    assert not await sees(DONOR)  # done: the claimer needs them no more
    assert await sees(TEACHER)


async def test_each_private_view_is_audited_without_the_values_and_nothing_is_logged(county, caplog):
    caplog.set_level(logging.DEBUG)
    wish = await county.wish()
    await county.service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))

    await county.service.private_details(TEACHER, wish.id)
    await county.service.private_details(DONOR, wish.id)
    with pytest.raises(PermissionDenied):
        await county.service.private_details(OTHER_TEACHER, wish.id)

    views = [
        (actor, details) for action, actor, details in await county.audit(wish.id) if action == "wish.private_view"
    ]
    assert views == [
        (TEACHER, {"role": "collector", "fields": ["real_name", "guardian_phone", "address", "notes"]}),
        (DONOR, {"role": "claimer", "fields": ["real_name", "guardian_phone", "address", "notes"]}),
    ]
    rows = await county.harness.services.db.fetch_all("SELECT action, subject, details FROM audit_log")
    everything_audited = json.dumps([tuple(row) for row in rows], ensure_ascii=False)
    # aiosqlite logs every statement with its parameters at DEBUG; bot/cli.py must keep the
    # "aiosqlite" logger at WARNING or higher. Every other logger, at every level, is checked.
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "aiosqlite")
    for value in PRIVATE_VALUES:
        assert value not in everything_audited
        assert value not in logged
    assert "王小明" not in repr(PRIVATE)


async def test_public_queries_and_the_claim_path_never_touch_the_private_table(county):
    wish = await county.wish()
    db = county.harness.services.db
    await db.execute("ALTER TABLE wish_private RENAME TO wish_private_hidden")
    service = county.service

    assert (await service.by_code("w1")).public_label == "小明 · 三年级"
    assert (await service.find(WishFilter(text="篮球"))).total == 1
    assert await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    await service.mark_purchased(DONOR, wish.id)
    assert (await service.by_status_overdue_first()).total == 1
    assert await service.overdue(now(county)) == []
    with pytest.raises(OperationalError):  # only the private paths read it
        await service.private_details(TEACHER, wish.id)
    await db.execute("ALTER TABLE wish_private_hidden RENAME TO wish_private")


# ---- the purge -----------------------------------------------------------------------------
async def test_private_details_are_purged_90_days_after_confirmation_and_only_then(county):
    service = county.service
    done = await county.wish()
    waiting = await county.wish(alias="小红")
    claimed = await county.wish(alias="小刚")
    for wish in (done, claimed):
        assert await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    await service.mark_delivered(DONOR, done.id, "photo-file-id")
    await service.confirm_received(TEACHER, done.id)

    county.harness.clock.advance(days=89)
    assert await service.purge_private(now(county)) == 0
    assert await service.private_details(TEACHER, done.id) is not None

    county.harness.clock.advance(days=2)
    assert await service.purge_private(now(county)) == 1
    assert await service.purge_private(now(county)) == 0

    assert await service.private_details(TEACHER, done.id) is None
    assert (await service.get(done.id)).private_purged
    assert await service.private_details(TEACHER, waiting.id) is not None
    assert await service.private_details(TEACHER, claimed.id) is not None
    assert "wish.private_purge" in [action for action, _, _ in await county.audit(done.id)]
    with refused("wishes.private_closed"):
        await service.set_private_details(TEACHER, done.id, PRIVATE)


async def test_the_purge_period_is_configurable(county):
    service = make_service(county.harness, purge_after=timedelta(days=7))
    wish = await county.wish()
    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    await service.mark_delivered(DONOR, wish.id, "photo-file-id")
    await service.confirm_received(TEACHER, wish.id)

    county.harness.clock.advance(days=8)

    assert await service.purge_private(now(county)) == 1


# ---- claiming ------------------------------------------------------------------------------
async def test_twenty_concurrent_claims_on_one_wish_have_exactly_one_winner(county):
    wish = await county.wish()
    claimers = []
    for index in range(20):
        org = (DONOR_ORG, OTHER_DONOR)[index % 2]
        claimers.append((await county.person(400000 + index, f"干部{index}", org), county.orgs[org]))

    outcomes = await asyncio.gather(*(county.service.claim(user, org, wish.id, now(county)) for user, org in claimers))

    assert outcomes.count(True) == 1
    winner, winner_org = claimers[outcomes.index(True)]
    claimed = await county.service.get(wish.id)
    assert (claimed.status, claimed.claimed_by_user, claimed.claimed_by_org) == (WishStatus.CLAIMED, winner, winner_org)
    assert claimed.deadline == claimed.claimed_at + timedelta(days=14)
    claims = [entry for entry in await county.audit(wish.id) if entry[0] == "wish.claim"]
    assert claims == [("wish.claim", winner, {"org": winner_org, "session": None})]


async def test_caps_per_organisation_hold_under_concurrency(county):
    wishes = [await county.wish(alias=f"孩子{index}") for index in range(6)]
    cadres = [await county.person(410000 + index, f"干部{index}", DONOR_ORG) for index in range(6)]

    outcomes = await asyncio.gather(
        *(
            county.service.claim(user, county.orgs[DONOR_ORG], wish.id, now(county), session_id=7, max_per_org=2)
            for user, wish in zip(cadres, wishes, strict=True)
        )
    )

    assert outcomes.count(True) == 2
    held = await county.service.find(WishFilter(claimed_by_org=county.orgs[DONOR_ORG], session_id=7))
    assert held.total == 2
    # The cap counts this session only; another organisation still claims.
    assert await county.service.claim(
        OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], wishes[5].id, now(county), session_id=7, max_per_org=2
    )


async def test_a_cap_per_person(county):
    first, second = await county.wish(alias="甲"), await county.wish(alias="乙")
    org = county.orgs[DONOR_ORG]

    assert await county.service.claim(DONOR, org, first.id, now(county), session_id=1, max_per_user=1)
    assert not await county.service.claim(DONOR, org, second.id, now(county), session_id=1, max_per_user=1)
    assert (await county.service.get(second.id)).status is WishStatus.OPEN  # open: the cap said no
    assert await county.service.claim(DONOR_MATE, org, second.id, now(county), session_id=1, max_per_user=1)


async def test_only_a_member_claims_for_an_organisation(county):
    wish = await county.wish()

    with refused("wishes.claim_not_member", PermissionDenied) as shown:
        await county.service.claim(OUTSIDER, county.orgs[DONOR_ORG], wish.id, now(county))
    assert "/join" in shown[0]
    with refused("wishes.claim_not_member", PermissionDenied):
        await county.service.claim(DONOR, county.orgs[OTHER_DONOR], wish.id, now(county))
    assert not await county.service.claim(DONOR, county.orgs[DONOR_ORG], 999, now(county))


async def test_the_claimer_releases_within_two_minutes_and_later_only_an_admin_can(county):
    service = county.service
    wish = await county.wish()
    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county), session_id=3)
    county.harness.clock.advance(seconds=90)

    with refused("wishes.release_not_allowed", PermissionDenied):
        await service.release_claim(wish.id, DONOR_MATE, None)
    change = await service.release_claim(wish.id, DONOR, None)

    assert (change.previous_user, change.previous_org) == (DONOR, county.orgs[DONOR_ORG])
    released = change.wish
    assert (released.status, released.claimed_by_user, released.session_id, released.deadline) == (
        WishStatus.OPEN,
        None,
        None,
        None,
    )

    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    county.harness.clock.advance(minutes=3)
    with refused("wishes.release_too_late") as shown:
        await service.release_claim(wish.id, DONOR, "买不到")
    assert "2 分钟" in shown[0] and "县团委管理员" in shown[0]
    with refused("wishes.reason_empty"):
        await service.release_claim(wish.id, COUNTY_ADMIN_ID, " ")
    await service.release_claim(wish.id, COUNTY_ADMIN_ID, "认领单位无法完成")

    assert (await service.get(wish.id)).status is WishStatus.OPEN
    releases = [
        (actor, details["reason"]) for action, actor, details in await county.audit(wish.id) if action == "wish.release"
    ]
    assert releases == [(DONOR, None), (COUNTY_ADMIN_ID, "认领单位无法完成")]
    with refused("wishes.not_claimed"):
        await service.release_claim(wish.id, COUNTY_ADMIN_ID, "再退一次")


async def test_a_county_admin_reassigns_a_claim(county):
    service = county.service
    wish = await county.wish()
    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))

    with refused("errors.county_admin_only", PermissionDenied):
        await service.reassign(DONOR, wish.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "换人")
    with refused("wishes.reassign_not_member") as shown:
        await service.reassign(COUNTY_ADMIN_ID, wish.id, OUTSIDER, county.orgs[OTHER_DONOR], "换人")
    assert "县财政局团委" in shown[0]
    with refused("wishes.reason_empty"):
        await service.reassign(COUNTY_ADMIN_ID, wish.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "")
    change = await service.reassign(
        COUNTY_ADMIN_ID, wish.id, OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR], "原认领人出差"
    )

    assert change.previous_user == DONOR
    assert (change.wish.claimed_by_user, change.wish.claimed_by_org) == (OTHER_DONOR_CADRE, county.orgs[OTHER_DONOR])
    assert await service.private_details(OTHER_DONOR_CADRE, wish.id) is not None
    with pytest.raises(PermissionDenied):
        await service.private_details(DONOR, wish.id)
    entry = [details for action, _, details in await county.audit(wish.id) if action == "wish.reassign"]
    assert entry == [
        {
            "from_user": DONOR,
            "from_org": county.orgs[DONOR_ORG],
            "to_user": OTHER_DONOR_CADRE,
            "to_org": county.orgs[OTHER_DONOR],
            "reason": "原认领人出差",
        }
    ]


# ---- fulfilment ----------------------------------------------------------------------------
async def test_fulfilment_from_claim_to_confirmed_receipt(county):
    service = county.service
    wish = await county.wish()
    with refused("wishes.not_claimed"):
        await service.mark_purchased(DONOR, wish.id)
    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))

    with refused("wishes.fulfil_not_allowed", PermissionDenied):
        await service.mark_purchased(OTHER_DONOR_CADRE, wish.id)
    with refused("wishes.confirm_wrong_status"):
        await service.confirm_received(TEACHER, wish.id)
    bought = await service.mark_purchased(DONOR_MATE, wish.id)  # a colleague in the claiming org
    assert bought.status is WishStatus.PURCHASED
    with refused("wishes.purchase_wrong_status"):
        await service.mark_purchased(DONOR, wish.id)
    with refused("wishes.proof_required") as shown:
        await service.mark_delivered(DONOR, wish.id, "")
    assert "照片" in shown[0]

    county.harness.clock.advance(days=2)
    delivered = await service.mark_delivered(DONOR, wish.id, "AgACAgUAAxkBAAIB")
    assert (delivered.status, delivered.delivery_proof_file_id) == (WishStatus.DELIVERED, "AgACAgUAAxkBAAIB")
    with refused("wishes.confirm_not_allowed", PermissionDenied) as shown:
        await service.confirm_received(OTHER_TEACHER, wish.id)
    assert "县第一小学" in shown[0]
    with refused("wishes.confirm_not_allowed", PermissionDenied):
        await service.confirm_received(DONOR, wish.id)

    confirmed = await service.confirm_received(TEACHER, wish.id)

    assert (confirmed.status, confirmed.confirmed_by) == (WishStatus.CONFIRMED, TEACHER)
    assert confirmed.confirmed_at == now(county)
    actions = [action for action, _, _ in await county.audit(wish.id)]
    assert actions == ["wish.add", "wish.claim", "wish.purchased", "wish.delivered", "wish.confirmed"]
    with refused("wishes.confirm_wrong_status"):
        await service.confirm_received(TEACHER, wish.id)


async def test_delivered_straight_from_claimed_records_the_purchase_too(county):
    wish = await county.wish()
    await county.service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))

    delivered = await county.service.mark_delivered(DONOR, wish.id, "photo")

    assert delivered.purchased_at == delivered.delivered_at == now(county)


async def test_overdue_claims_come_first_longest_overdue_first(county):
    service = county.service
    org = county.orgs[DONOR_ORG]
    start = now(county)
    late, later, on_time, bought, done = [await county.wish(alias=f"孩子{index}") for index in range(5)]
    untouched = await county.wish(alias="孩子5")
    await service.claim(DONOR, org, later.id, start, deadline=start + timedelta(days=3))
    await service.claim(DONOR, org, late.id, start, deadline=start + timedelta(days=2))
    await service.claim(DONOR, org, on_time.id, start, deadline=start + timedelta(days=30))
    await service.claim(DONOR, org, bought.id, start, deadline=start + timedelta(days=4))
    await service.mark_purchased(DONOR, bought.id)
    await service.claim(DONOR, org, done.id, start, deadline=start + timedelta(days=1))
    await service.mark_delivered(DONOR, done.id, "photo")

    county.harness.clock.advance(days=10)

    assert [wish.id for wish in await service.overdue(now(county))] == [late.id, later.id, bought.id]
    listed = await service.by_status_overdue_first(WishFilter(collector_org_id=county.orgs[SCHOOL]))
    assert [wish.id for wish in listed.items] == [late.id, later.id, bought.id, untouched.id, on_time.id, done.id]
    assert all(wish.is_overdue(now(county)) for wish in listed.items[:3])
    assert not listed.items[4].is_overdue(now(county))


# ---- editing and cancelling ----------------------------------------------------------------
async def test_collectors_edit_their_open_wishes_and_county_admins_all(county):
    service = county.service
    wish = await county.wish()

    edited = await service.edit(TEACHER, wish.id, text="一个足球", value_yuan="120")
    assert (edited.text, edited.value_yuan) == ("一个足球", 120)
    with refused("wishes.edit_not_allowed", PermissionDenied) as shown:
        await service.edit(OTHER_TEACHER, wish.id, grade="四年级")
    assert "县第一小学" in shown[0]
    assert (await service.edit(COUNTY_ADMIN_ID, wish.id, grade="四年级")).public_label == "小明 · 四年级"
    with refused("wishes.alias_is_real_name"):
        await service.edit(TEACHER, wish.id, alias="王小明")

    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    with refused("wishes.edit_not_open") as shown:
        await service.edit(TEACHER, wish.id, text="一个排球")
    assert "W0001" in shown[0]
    assert (await service.get(wish.id)).text == "一个足球"


async def test_cancelling_deletes_the_private_details_and_claimed_wishes_need_an_admin(county):
    service = county.service
    open_wish = await county.wish()
    claimed = await county.wish(alias="小红")
    await service.claim(DONOR, county.orgs[DONOR_ORG], claimed.id, now(county))

    with refused("wishes.reason_empty"):
        await service.cancel(TEACHER, open_wish.id, "")
    with refused("wishes.cancel_not_allowed", PermissionDenied):
        await service.cancel(OTHER_TEACHER, open_wish.id, "孩子已转学")
    cancelled = await service.cancel(TEACHER, open_wish.id, "孩子已转学")
    assert (cancelled.status, cancelled.cancel_reason) == (WishStatus.CANCELLED, "孩子已转学")
    assert await service.private_details(TEACHER, open_wish.id) is None

    with refused("wishes.cancel_claimed_admin_only"):
        await service.cancel(TEACHER, claimed.id, "孩子已转学")
    by_admin = await service.cancel(COUNTY_ADMIN_ID, claimed.id, "孩子已转学")
    assert by_admin.status is WishStatus.CANCELLED
    assert by_admin.claimed_by_user == DONOR  # kept, so the claimer can be told
    with pytest.raises(PermissionDenied):
        await service.private_details(DONOR, claimed.id)
    assert not await service.claim(DONOR, county.orgs[DONOR_ORG], claimed.id, now(county))


# ---- finding -------------------------------------------------------------------------------
async def test_codes_are_read_leniently(county):
    for index in range(12):
        await county.wish(alias=f"孩子{index}")

    assert (await county.service.by_code("w12")).code == "W0012"
    assert (await county.service.by_code(" W0003 ")).id == 3
    assert (await county.service.by_code("#7")).id == 7
    assert parse_code("W0") is None
    with refused("wishes.code_invalid") as shown:
        await county.service.by_code("abc")
    assert "W0012" in shown[0]
    with refused("wishes.not_found") as shown:
        await county.service.by_code("W0099")
    assert "W0099" in shown[0]


async def test_search_filters_and_pages(county):
    service = county.service
    other = county.orgs[OTHER_SCHOOL]
    categories = [WishCategory.BOOKS, WishCategory.SPORTS, WishCategory.STATIONERY]
    for index in range(25):
        await service.add(
            COUNTY_ADMIN_ID,
            county.draft(
                collector_org_id=county.orgs[SCHOOL] if index < 20 else other,
                alias=f"孩子{index}",
                grade="三年级" if index % 2 else "五年级",
                text="篮球" if index == 4 else f"心愿{index}",
                category=categories[index % 3],
                value_yuan=10 * (index + 1),
            ),
        )

    first = await service.find(page=1)
    assert (first.total, first.pages, first.page, len(first.items)) == (25, 3, 1, 10)
    last = await service.find(page=99)
    assert (last.page, [wish.code for wish in last.items]) == (3, ["W0021", "W0022", "W0023", "W0024", "W0025"])

    books = await service.find(WishFilter(category=WishCategory.BOOKS), page_size=100)
    assert [wish.id for wish in books.items] == [1, 4, 7, 10, 13, 16, 19, 22, 25]
    cheap_fifth = await service.find(WishFilter(grade="五年级", max_value=50), page_size=100)
    assert [wish.value_yuan for wish in cheap_fifth.items] == [10, 30, 50]
    pricey = await service.find(WishFilter(min_value=200, collector_org_id=other))
    assert [wish.value_yuan for wish in pricey.items] == [210, 220, 230, 240, 250]
    assert [wish.code for wish in (await service.find(WishFilter(text="篮球"))).items] == ["W0005"]
    assert (await service.find(WishFilter(text="第二小学"))).total == 5
    assert [wish.code for wish in (await service.find(WishFilter(text="w9"))).items] == ["W0009"]
    assert (await service.find(WishFilter(text="100%"))).total == 0
    by_codes = await service.find(WishFilter(codes=("w3", "W0005", "bogus")))
    assert [wish.code for wish in by_codes.items] == ["W0003", "W0005"]
    assert (await service.find(WishFilter(codes=("bogus",)))).total == 0

    await service.claim(DONOR, county.orgs[DONOR_ORG], 2, now(county))
    await service.claim(DONOR, county.orgs[DONOR_ORG], 3, now(county))
    claimed = await service.find(WishFilter(status=WishStatus.CLAIMED))
    assert [wish.id for wish in claimed.items] == [2, 3]
    still_open = await service.find(WishFilter(status=(WishStatus.OPEN,)))
    assert still_open.total == 23
    nothing = await service.find(WishFilter(category=WishCategory.TOYS))
    assert (nothing.total, nothing.pages, nothing.page, nothing.items) == (0, 1, 1, [])


# ---- who may use which button -------------------------------------------------------------------
async def test_the_service_says_who_may_use_each_of_a_cards_buttons(county):
    service = county.service
    wish = await county.wish()
    assert await service.can_edit(TEACHER, wish) and await service.can_cancel(TEACHER, wish)
    assert not await service.can_edit(DONOR, wish) and not await service.can_cancel(DONOR, wish)

    await service.claim(DONOR, county.orgs[DONOR_ORG], wish.id, now(county))
    wish = await service.get(wish.id)
    assert not await service.can_edit(TEACHER, wish) and not await service.can_edit(COUNTY_ADMIN_ID, wish)
    assert not await service.can_cancel(TEACHER, wish) and await service.can_cancel(COUNTY_ADMIN_ID, wish)
    assert not await service.can_confirm(TEACHER, wish)

    wish = await service.mark_delivered(DONOR_MATE, wish.id, "proof-file-id")
    assert await service.can_confirm(TEACHER, wish) and not await service.can_confirm(DONOR, wish)
    for who, sees in ((TEACHER, True), (DONOR_MATE, True), (COUNTY_ADMIN_ID, True), (OTHER_TEACHER, False)):
        assert await service.can_see_proof(who, wish) is sees
        assert await service.delivery_proof(who, wish.id) == ("proof-file-id" if sees else None)
    assert await service.delivery_proof(OUTSIDER, wish.id) is None


async def test_where_each_person_collects_and_whose_list_puts_overdue_claims_first(county):
    service = county.service
    assert [org.id for org in await service.collector_orgs(TEACHER)] == [county.orgs[SCHOOL]]
    assert await service.collector_orgs(OUTSIDER) == []
    assert {org.id for org in await service.collector_orgs(COUNTY_ADMIN_ID)} == set(county.orgs.values())
    assert await service.scope_org_ids(DONOR) == [county.orgs[DONOR_ORG]]
    await county.wish()
    assert (await service.listing(COUNTY_ADMIN_ID, WishFilter(), 1, 10)).overdue_first
    assert not (await service.listing(TEACHER, WishFilter(), 1, 10)).overdue_first
    assert await service.digest_recipients() == [COUNTY_ADMIN_ID]


# ---- messages ------------------------------------------------------------------------------
def test_every_refusal_the_service_raises_has_a_message_in_both_languages():
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(Path("bot/domain/wishes").glob("*.py")))
    keys = set(re.findall(r'"(wishes\.[a-z_]+)"', source))
    assert len(keys) > 30
    for status in WishStatus:
        keys.add(f"wishes.status.{status.value}")
    for category in WishCategory:
        keys.add(f"wishes.category.{category.value}")
    for key in sorted(keys):
        zh = translate("zh-Hans", key, **{name: "x" for name in placeholders_of(key)})
        en = translate("en", key, **{name: "x" for name in placeholders_of(key)})
        assert zh and en


def placeholders_of(key: str) -> set[str]:
    return placeholders(catalog("zh-Hans")[key])


async def test_the_running_bot_purges_confirmed_childrens_details_on_a_schedule(county):
    """The purge is not left to anyone's memory: a named job runs it every few hours."""
    from handlers.maintenance import PURGE_JOB, purge_children_details

    harness = county.harness
    [job] = harness.app.job_queue.get_jobs_by_name(PURGE_JOB)
    assert job.job.trigger.interval.total_seconds() == 6 * 3600
    done = await county.wish()
    assert await county.service.claim(DONOR, county.orgs[DONOR_ORG], done.id, now(county))
    await county.service.mark_delivered(DONOR, done.id, "photo-file-id")
    await county.service.confirm_received(TEACHER, done.id)
    harness.clock.advance(days=91)

    class JobContext:
        application = harness.app

    await purge_children_details(JobContext())
    assert await county.service.private_details(TEACHER, done.id) is None
