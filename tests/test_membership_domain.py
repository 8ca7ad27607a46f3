"""Members, roles, joining, handover and promotion at the domain level: who may do what, asked of
the services directly (the handlers only translate the refusals), with the real database and the
fake clock of the running bot (the harness).

The county: 城关镇团委 run by 李 (王 its cadre), 县教育局团委 run by 赵; 路人 belongs nowhere; 新人 has
written to the bot in a group but never started it privately. The county admin is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.membership import Standing
from bot.model.organisation import OrgKind, Role
from handlers.i18n import translate
from tests.harness import COUNTY_ADMIN_ID

LI, WANG, ZHAO, OUTSIDER, NEWCOMER = 300001, 300002, 300003, 300009, 300010


@dataclass
class County:
    org: int
    other: int


@pytest.fixture
async def county(harness) -> County:
    services = harness.services
    harness.admin()
    org = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    other = await services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    for user_id, name in ((LI, "李老师"), (WANG, "王干事"), (ZHAO, "赵书记"), (OUTSIDER, "路人")):
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    await services.people.seen(NEWCOMER, "新人", None, "zh-hans", private=False)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, LI)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, other.id, ZHAO)
    request = await services.membership.request_join(WANG, org.id)
    await services.membership.decide(LI, request.id, True)
    return County(org.id, other.id)


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
    await harness.services.people.seen(COUNTY_ADMIN_ID, "县管理员", None, "zh-hans", private=True)
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
