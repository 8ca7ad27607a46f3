"""The fuzz county's funds ledger (tests/fuzz_world.py): two funds kept by the township (so the
money conversations ask which), a donor with money received and a pledge with open instalments
(so /receipt asks which instalment), for the conversation fuzzers to reach every step."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.services import Services
from bot.model.funds import DonorKind, Instalment


async def seed_fuzz_funds(services: Services, admin: int, owner_org_id: int) -> None:
    funds = services.funds
    care = await funds.add_fund(admin, "关爱基金", "资助家庭困难学生", owner_org_id)
    await funds.add_fund(admin, "村级直接捐赠", "村级直接捐赠", owner_org_id)
    donor = await funds.add_donor(admin, DonorKind.COMPANY, "县电力公司")
    await funds.receipt(admin, "fuzz:receipt", care.id, donor.id, 10_000_000, method="银行转账")
    today = funds.today()
    await funds.pledge(
        admin,
        "fuzz:pledge",
        care.id,
        donor.id,
        2_000_000,
        instalments=[Instalment(1, today, 1_000_000), Instalment(2, today + timedelta(days=30), 1_000_000)],
    )
