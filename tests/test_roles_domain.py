"""Who may do what, asked of the services directly: the handlers only translate the refusals
(PermissionDenied for a missing role). Members, appointing, promoting, joining, inviting and
handover (MembershipService); editing organisations (OrganisationService); the county's figures,
exports and year-end report (ExportService); star ratings and the ranking (StarsService); the
deeds list (DeedService). The real database and the fake clock of the running bot (the harness).

The county: 城关镇团委 (township, quota 1) run by 李 with 王 its cadre; 县教育局团委 (county level)
run by 赵; 旧团支部, where 王 is also a cadre, archived. 路人 belongs nowhere; 新人 has written to
the bot in a group but never started it privately. The county admin is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.exports import ExportService
from bot.domain.membership import Standing
from bot.domain.stats import Period
from bot.model.organisation import OrgKind, Role
from handlers.i18n import translate
from tests.harness import COUNTY_ADMIN_ID

LI, WANG, ZHAO, OUTSIDER, NEWCOMER = 300001, 300002, 300003, 300009, 300010
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
    await services.people.seen(NEWCOMER, "新人", None, "zh-hans", private=False)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, LI)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, other.id, ZHAO)
    request = await services.membership.request_join(WANG, org.id)
    await services.membership.decide(LI, request.id, True)
    await services.membership.memberships.grant(old.id, WANG, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now())
    await services.orgs.set_archived(COUNTY_ADMIN_ID, old.id, True)
    return County(org.id, other.id, old.id)


async def refused(awaitable, key: str, kind: type[DomainError] = PermissionDenied) -> str:
    """Refused with this catalog key and kind; the message it shows, rendered (no placeholder left)."""
    with pytest.raises(kind) as caught:
        await awaitable
    assert caught.value.key == key
    text = translate("zh-Hans", key, **caught.value.params)
    assert "{" not in text and "{" not in translate("en", key, **caught.value.params)
    return text


# ---- standing: what /start and /help show --------------------------------------------------------
async def test_standing_is_the_highest_role_held(harness, county):
    membership = harness.services.membership
    assert await membership.standing(COUNTY_ADMIN_ID) is Standing.COUNTY_ADMIN
    assert await membership.standing(LI) is Standing.ORG_ADMIN
    assert await membership.standing(WANG) is Standing.CADRE
    assert await membership.standing(OUTSIDER) is Standing.EVERYONE
    # A cadre here who runs another organisation counts as an org admin; a promoted admin as county.
    await membership.appoint_admin(COUNTY_ADMIN_ID, county.other, WANG)
    assert await membership.standing(WANG) is Standing.ORG_ADMIN
    await membership.promote_county_admin(COUNTY_ADMIN_ID, OUTSIDER)
    assert await membership.standing(OUTSIDER) is Standing.COUNTY_ADMIN
    assert sorted(Standing) == [Standing.EVERYONE, Standing.CADRE, Standing.ORG_ADMIN, Standing.COUNTY_ADMIN]


# ---- managing an organisation's members ---------------------------------------------------------
async def test_only_the_orgs_admins_and_county_admins_manage_its_members(harness, county):
    membership = harness.services.membership
    for manager in (LI, COUNTY_ADMIN_ID):
        assert (await membership.check_manager(manager, county.org)).name == "城关镇团委"
        assert sorted(m.user_id for m in await membership.roster(manager, county.org)) == [LI, WANG]
        assert (await membership.managed_member(manager, county.org, WANG)).role is Role.CADRE
    # Its cadre, another organisation's admin and an outsider are refused, with the same message.
    for user_id in (WANG, ZHAO, OUTSIDER):
        text = await refused(membership.check_manager(user_id, county.org), "errors.org_admin_only")
        assert "管理员" in text
        await refused(membership.roster(user_id, county.org), "errors.org_admin_only")
        await refused(membership.managed_member(user_id, county.org, LI), "errors.org_admin_only")
    # A manager asking about someone who is not a member is told so.
    await refused(membership.managed_member(LI, county.org, OUTSIDER), "roles.not_member", DomainError)
    # A county admin's list to choose from is every organisation; an org admin's, the ones they run.
    orgs = harness.services.orgs
    assert [o.id for o in await orgs.managed_by(COUNTY_ADMIN_ID)] == [county.org, county.other]
    assert [o.id for o in await orgs.managed_by(LI)] == [county.org]
    assert await orgs.managed_by(WANG) == []


async def test_the_roster_refuses_someone_who_just_stepped_down(harness, county):
    """The members list asks the roster each time: once the admin made themselves a cadre, it is
    refused (the handler then says there is nothing more to manage)."""
    membership = harness.services.membership
    await membership.set_role(LI, county.org, WANG, Role.ORG_ADMIN)
    await membership.set_role(LI, county.org, LI, Role.CADRE)
    await refused(membership.roster(LI, county.org), "errors.org_admin_only")
    assert len(await membership.roster(WANG, county.org)) == 2


async def test_appointing_an_admin_is_for_county_admins(harness, county):
    membership = harness.services.membership
    assert await membership.may_appoint(COUNTY_ADMIN_ID)
    assert not await membership.may_appoint(LI)
    for user_id in (LI, WANG, OUTSIDER):
        text = await refused(membership.check_appointing(user_id, county.org), "errors.county_admin_only")
        assert "团县委管理员" in text
        await refused(membership.check_appointee(user_id, county.org, WANG), "errors.county_admin_only")
    assert (await membership.check_appointing(COUNTY_ADMIN_ID, county.org)).name == "城关镇团委"
    assert (await membership.check_appointee(COUNTY_ADMIN_ID, county.org, WANG)).display_name == "王干事"
    # The appointee must be told (so must have started the bot) and not be an admin already.
    text = await refused(
        membership.check_appointee(COUNTY_ADMIN_ID, county.org, NEWCOMER),
        "members.appointee_not_started",
        DomainError,
    )
    assert "新人" in text
    text = await refused(
        membership.check_appointee(COUNTY_ADMIN_ID, county.org, LI), "members.already_admin", DomainError
    )
    assert "李老师" in text
    await harness.services.orgs.set_archived(COUNTY_ADMIN_ID, county.org, True)
    await refused(membership.check_appointing(COUNTY_ADMIN_ID, county.org), "orgs.archived", DomainError)
    await refused(membership.check_appointee(COUNTY_ADMIN_ID, county.org, WANG), "orgs.archived", DomainError)


async def test_promoting_is_for_county_admins_and_says_when_it_is_not_needed(harness, county):
    membership = harness.services.membership
    for user_id in (LI, WANG, OUTSIDER):
        await refused(membership.check_promoter(user_id), "errors.county_admin_only")
    await refused(membership.promote_county_admin(LI, WANG), "errors.county_admin_only")
    assert not await harness.services.permissions.is_county_admin(WANG)
    await membership.check_promoter(COUNTY_ADMIN_ID)
    await membership.promote_county_admin(COUNTY_ADMIN_ID, WANG)
    assert await harness.services.permissions.is_county_admin(WANG)
    # Again, or the configured admin: refused as not needed (not as a lack of rights).
    for user_id, name in ((WANG, "王干事"), (COUNTY_ADMIN_ID, "县管理员")):
        with pytest.raises(DomainError) as caught:
            await membership.promote_county_admin(COUNTY_ADMIN_ID, user_id)
        assert not isinstance(caught.value, PermissionDenied)
        assert (caught.value.key, caught.value.params) == ("promote.already", {"name": name})
    # The promoted admin may promote in turn.
    await membership.promote_county_admin(WANG, OUTSIDER)
    assert await membership.standing(OUTSIDER) is Standing.COUNTY_ADMIN


# ---- joining and inviting -----------------------------------------------------------------------
async def test_a_member_is_told_before_applying_again(harness, county):
    membership = harness.services.membership
    assert (await membership.check_join(OUTSIDER, county.org)).name == "城关镇团委"
    for user_id in (LI, WANG):
        text = await refused(membership.check_join(user_id, county.org), "join.already_member", DomainError)
        assert "城关镇团委" in text
        await refused(membership.request_join(user_id, county.org), "join.already_member", DomainError)
    # 赵 runs the other organisation, and may still apply here.
    assert (await membership.check_join(ZHAO, county.org)).id == county.org


async def test_only_members_and_county_admins_hand_out_a_join_link(harness, county):
    membership = harness.services.membership
    for user_id in (LI, WANG, COUNTY_ADMIN_ID):
        assert (await membership.check_inviter(user_id, county.org)).name == "城关镇团委"
    for user_id in (ZHAO, OUTSIDER):
        text = await refused(membership.check_inviter(user_id, county.org), "errors.member_only")
        assert "/join" in text


# ---- handover -----------------------------------------------------------------------------------
async def test_only_an_orgs_own_admin_hands_it_over(harness, county):
    membership = harness.services.membership
    assert [o.id for o in await membership.handover_orgs(LI)] == [county.org]
    # Not cadres, and not county admins: their standing is not an organisation's to hand over.
    assert await membership.handover_orgs(WANG) == []
    assert await membership.handover_orgs(COUNTY_ADMIN_ID) == []
    assert (await membership.check_handover_org(LI, county.org)).name == "城关镇团委"
    for user_id in (WANG, ZHAO, COUNTY_ADMIN_ID):
        text = await refused(membership.check_handover_org(user_id, county.org), "handover.not_admin")
        assert "城关镇团委" in text
        await refused(membership.check_successor(user_id, county.org, WANG), "handover.not_admin")
        await refused(membership.start_handover(user_id, county.org, WANG), "handover.not_admin")
    assert (await membership.check_successor(LI, county.org, WANG)).user_id == WANG


# ---- organisations ------------------------------------------------------------------------------
async def test_only_county_admins_edit_organisations(harness, county):
    orgs = harness.services.orgs
    await orgs.check_editor(COUNTY_ADMIN_ID)
    for user_id in (LI, WANG, OUTSIDER):
        await refused(orgs.check_editor(user_id), "errors.county_admin_only")
        await refused(orgs.create(user_id, "新组织", OrgKind.OTHER, None), "errors.county_admin_only")


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
    assert await exports.export_orgs(OUTSIDER, include_private=True) == []  # belongs nowhere: nothing to offer
    # A county admin sees every organisation's figures, but no child's details outside their own.
    text = await refused(exports.export_orgs(COUNTY_ADMIN_ID, include_private=True), "reports.err_private_refused")
    assert "/export" in text
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
