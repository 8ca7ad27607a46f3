"""The funds ledger pays grants against the verification campaigns' approved visits (#17, #18),
through the real services: a student counts as verified once their visit is approved, a grant
needs the campaign closed (or a county admin's override), and the ledger names the student by
the campaign's public alias only."""

from __future__ import annotations

import pytest

from bot.domain.errors import DomainError
from bot.domain.funds import Payee
from bot.model.funds import DonorKind, RecipientKind
from bot.model.visits import VisitStatus
from tests.harness import COUNTY_ADMIN_ID
from tests.test_visits_domain import _campaign, _file

SECOND_ADMIN = 990002


async def test_a_grant_pays_only_a_student_whose_visit_was_approved_in_a_closed_campaign(harness):
    services = harness.services
    campaign, teams, townships, heads = await _campaign(harness)
    leader = teams[0].leader_id
    household, *_ = [h for h, _, _ in await services.visits.my_households(leader)]
    township = household.township_id
    await services.people.seen(SECOND_ADMIN, "副书记", None, "zh-hans", private=True)
    await services.membership.promote_county_admin(COUNTY_ADMIN_ID, SECOND_ADMIN)
    fund = await services.funds.add_fund(COUNTY_ADMIN_ID, "希望工程助学金", "资助走访核实的困难大学生", township)
    donor = await services.funds.add_donor(COUNTY_ADMIN_ID, DonorKind.COMPANY, "县电力公司")
    await services.funds.receipt(COUNTY_ADMIN_ID, "r1", fund.id, donor.id, 2_000_000, method="银行转账")
    student = Payee(RecipientKind.STUDENT, household.id)

    async def grant(key: str):
        return await services.funds.pay(COUNTY_ADMIN_ID, key, fund.id, student, 600_000, voucher_file_id="V")

    with pytest.raises(DomainError) as refused:  # not visited yet
        await grant("g1")
    assert refused.value.key == "funds.rule_student_unverified"

    visit_id = await _file(services, leader, household.id)
    await services.visits.review(COUNTY_ADMIN_ID, visit_id, VisitStatus.APPROVED)
    verified = await services.funds.verified.verified(household.id)
    assert verified is not None and verified.alias == household.alias and not verified.campaign_closed
    with pytest.raises(DomainError) as refused:  # approved, but the campaign is still open
        await grant("g2")
    assert refused.value.key == "funds.rule_campaign_open"

    await services.visits.close(COUNTY_ADMIN_ID, campaign.id)
    paid = await grant("g3")
    assert paid.pending  # 6,000 yuan is above the two-person threshold
    approved = await services.funds.decide(SECOND_ADMIN, paid.id, approve=True)
    assert approved.counts and approved.recipient is not None
    assert approved.recipient.label == household.alias  # the public alias, never a private detail
    assert await services.funds.balance(fund.id) == 1_400_000
