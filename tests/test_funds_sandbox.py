"""The sandbox's demo county has a funds ledger to look at: a fund with a few entries."""

from __future__ import annotations

from bot.practice.sandbox.demo_funds import FUND_NAME
from bot.practice.sandbox.runtime import Sandbox


async def test_the_demo_county_has_a_fund_with_a_few_entries(tmp_path):
    async with Sandbox(tmp_path / "data", port=0, config_path=tmp_path / "no-config.toml") as sandbox:
        services, admin = sandbox.services, sandbox.world.admin.user_id
        [balance] = await services.fund_reports.balances(admin)
        assert balance.fund.name == FUND_NAME
        assert (balance.received_fen, balance.paid_fen, balance.balance_fen) == (5_200_000, 80_000, 5_120_000)
        kinds = sorted(entry.kind.value for entry in await services.funds.repo.entries())
        assert kinds == ["grant", "pledge", "receipt", "receipt"]
        assert [donor.shown_name for donor in await services.funds.donors()] == ["县电力公司", None]
