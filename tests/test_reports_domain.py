"""Who may see which figures, asked of the services directly: the county's figures, exports and
year-end report (ExportService), star ratings and the ranking (StarsService), and the deeds list
(DeedService). The handlers only translate the refusals; the real database and the fake clock of
the running bot (the harness).

The county: 城关镇团委 (township, quota 1) run by 李 with 王 its cadre, 县教育局团委 (county level)
run by 赵, and 旧团支部, where 王 is also a cadre, archived. 路人 belongs nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.exports import ExportService
from bot.domain.stats import Period
from bot.model.organisation import OrgKind, Role
from handlers.i18n import translate
from tests.harness import COUNTY_ADMIN_ID

LI, WANG, ZHAO, OUTSIDER = 300001, 300002, 300003, 300009
YEAR = Period.of_year(2026)


@dataclass
class County:
    org: int
    other: int
    archived: int


@pytest.fixture
async def county(harness) -> County:
    services = harness.services
    harness.admin()
    org = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    other = await services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    old = await services.orgs.create(COUNTY_ADMIN_ID, "旧团支部", OrgKind.VILLAGE_BRANCH, None, 1)
    people = ((COUNTY_ADMIN_ID, "县管理员"), (LI, "李老师"), (WANG, "王干事"), (ZHAO, "赵书记"), (OUTSIDER, "路人"))
    for user_id, name in people:
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    now = harness.clock.now()
    grants = ((org.id, LI, Role.ORG_ADMIN), (org.id, WANG, Role.CADRE), (other.id, ZHAO, Role.ORG_ADMIN))
    for org_id, user_id, role in (*grants, (old.id, WANG, Role.CADRE)):
        await services.membership.memberships.grant(org_id, user_id, role, COUNTY_ADMIN_ID, now)
    await services.orgs.set_archived(COUNTY_ADMIN_ID, old.id, True)
    return County(org.id, other.id, old.id)


async def refused(awaitable, key: str) -> str:
    """Refused for lack of a role, with this catalog key; the message it shows, rendered."""
    with pytest.raises(PermissionDenied) as caught:
        await awaitable
    assert caught.value.key == key
    text = translate("zh-Hans", key, **caught.value.params)
    assert "{" not in text and "{" not in translate("en", key, **caught.value.params)
    return text


# ---- /stats, /export, /report -------------------------------------------------------------------
async def test_the_county_figures_are_county_admins_and_members_get_their_orgs(harness, county):
    exports = ExportService.of(harness.services)
    assert await exports.sees_county(COUNTY_ADMIN_ID)
    for user_id in (LI, WANG, OUTSIDER):
        assert not await exports.sees_county(user_id)
    # What /stats and /export offer: a county admin every active organisation, a member theirs.
    assert [o.id for o in await exports.export_orgs(COUNTY_ADMIN_ID)] == [county.org, county.other]
    assert [o.id for o in await exports.export_orgs(WANG)] == [county.org]
    assert [o.id for o in await exports.export_orgs(ZHAO)] == [county.other]
    assert await exports.export_orgs(OUTSIDER) == []
    # ...and exactly what the export itself allows.
    for user_id in (COUNTY_ADMIN_ID, LI, WANG, ZHAO, OUTSIDER):
        for org in await exports.export_orgs(user_id):
            await exports.check(user_id, org.id)


async def test_an_export_with_childrens_details_is_offered_only_where_one_is_a_member(harness, county):
    exports = ExportService.of(harness.services)
    assert [o.id for o in await exports.export_orgs(WANG, include_private=True)] == [county.org]
    # A county admin sees every organisation's figures, but no child's details outside their own.
    assert await exports.export_orgs(COUNTY_ADMIN_ID, include_private=True) == []
    await harness.services.membership.memberships.grant(
        county.other, COUNTY_ADMIN_ID, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now()
    )
    assert [o.id for o in await exports.export_orgs(COUNTY_ADMIN_ID, include_private=True)] == [county.other]
    for user_id in (COUNTY_ADMIN_ID, WANG):
        for org in await exports.export_orgs(user_id, include_private=True):
            await exports.check(user_id, org.id, include_private=True)


async def test_the_year_report_and_the_org_picker_are_for_county_admins(harness, county):
    exports = ExportService.of(harness.services)
    for user_id in (LI, WANG, OUTSIDER):
        text = await refused(exports.check_county_reports(user_id), "errors.county_admin_only")
        assert "团县委管理员" in text
        await refused(exports.year_report(user_id, 2026), "errors.county_admin_only")
    await exports.check_county_reports(COUNTY_ADMIN_ID)
    report = await exports.year_report(COUNTY_ADMIN_ID, 2026)
    assert (report.year, report.organisations) == (2026, 2)


# ---- /stars -------------------------------------------------------------------------------------
async def test_any_orgs_rating_and_the_ranking_are_for_county_admins(harness, county):
    stars = harness.services.stars
    assert await stars.ranks_county(COUNTY_ADMIN_ID)
    assert not await stars.ranks_county(LI)
    for user_id in (LI, WANG, OUTSIDER):
        await refused(stars.county_ranking(user_id, YEAR), "errors.county_admin_only")
        # Not even their own organisation through the county's picker.
        await refused(stars.county_rating(user_id, county.org, YEAR), "errors.county_admin_only")
    ranking = await stars.county_ranking(COUNTY_ADMIN_ID, YEAR)
    assert ranking == await stars.ranking(YEAR) and {org.id for org, _ in ranking} == {county.org, county.other}
    org, rating = await stars.county_rating(COUNTY_ADMIN_ID, county.other, YEAR)
    assert (org.name, rating) == ("县教育局团委", await stars.rate(county.other, YEAR))
    with pytest.raises(DomainError) as caught:
        await stars.county_rating(COUNTY_ADMIN_ID, county.archived, YEAR)
    assert caught.value.key == "orgs.archived"


async def test_a_member_gets_the_ratings_of_their_active_orgs(harness, county):
    stars = harness.services.stars
    ratings = await stars.ratings_for(WANG, YEAR)  # 旧团支部 is archived: no rating
    assert [(org.id, rating) for org, rating in ratings] == [(county.org, await stars.rate(county.org, YEAR))]
    assert [org.id for org, _ in await stars.ratings_for(ZHAO, YEAR)] == [county.other]
    assert await stars.ratings_for(OUTSIDER, YEAR) == []


# ---- /deeds -------------------------------------------------------------------------------------
async def test_the_county_deeds_list_is_for_county_admins(harness, county):
    deeds = harness.services.deeds
    assert await deeds.oversees_county(COUNTY_ADMIN_ID)
    assert not await deeds.oversees_county(LI)
    for user_id in (LI, WANG, OUTSIDER):
        await refused(deeds.county_progress(user_id, 2026), "errors.county_admin_only")
    progress = await deeds.county_progress(COUNTY_ADMIN_ID, 2026)
    assert progress == await deeds.progress(2026)
    assert [(item.org.id, item.quota, item.done) for item in progress] == [(county.org, 1, 0), (county.other, 3, 0)]


async def test_a_member_is_shown_the_deeds_of_each_of_their_orgs(harness, county):
    """Archived organisations included: what was done stays readable to those who did it."""
    deeds = harness.services.deeds
    assert await deeds.own_org_ids(WANG) == [county.org, county.archived]
    assert await deeds.own_org_ids(LI) == [county.org]
    assert await deeds.own_org_ids(OUTSIDER) == []
