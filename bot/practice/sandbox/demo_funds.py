"""The demo county's funds ledger: a care fund with two donors (one anonymous), a receipt with
its voucher, a pledge in two monthly instalments, and a small grant to this week's first
activity, so /funds, /donor, /ledger and /publish have something to show. Through the domain
service, as a county admin would record them; invented names only."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.funds import Payee
from bot.domain.services import Services
from bot.model.activity import Activity
from bot.model.funds import DonorContact, DonorKind, Instalment, RecipientKind

FUND_NAME = "关爱基金"


async def seed_demo_funds(services: Services, admin: int, owner_org_id: int, activity: Activity | None) -> None:
    funds = services.funds
    fund = await funds.add_fund(admin, FUND_NAME, "关爱困难青少年、资助家庭困难学生", owner_org_id)
    company = await funds.add_donor(
        admin,
        DonorKind.COMPANY,
        "示范县电力有限公司",
        public_name="县电力公司",
        contact=DonorContact("王经理", "139 0000 0000", "示范县电力路 1 号"),
    )
    person = await funds.add_donor(admin, DonorKind.INDIVIDUAL, "一位在外乡贤", anonymous=True)
    today = funds.today()
    await funds.receipt(
        admin,
        "demo:receipt:1",
        fund.id,
        company.id,
        5_000_000,
        method="银行转账",
        voucher_file_id=None,
        reference="DEMO-0001",
        on=today - timedelta(days=20),
    )
    await funds.receipt(
        admin, "demo:receipt:2", fund.id, person.id, 200_000, method="微信", on=today - timedelta(days=3)
    )
    await funds.pledge(
        admin,
        "demo:pledge:1",
        fund.id,
        company.id,
        2_000_000,
        instalments=[
            Instalment(1, today + timedelta(days=30), 1_000_000),
            Instalment(2, today + timedelta(days=60), 1_000_000),
        ],
    )
    if activity is not None:
        await funds.pay(
            admin,
            "demo:grant:1",
            fund.id,
            Payee(RecipientKind.ACTIVITY, activity.id, label=activity.title, org_id=activity.org_id),
            80_000,
            voucher_file_id="demo-voucher",
        )
