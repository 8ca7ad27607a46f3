"""A property of the funds ledger: whatever sequence of valid entries is recorded (receipts,
grants, transfers, corrections, in any order, some refused), every fund's balance equals the sum
of its postings and the balance recomputed from the entries alone, is never negative, and each
correction nets its original to zero."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.funds import Payee, recomputed_balances
from bot.model.funds import DonorKind, EntryKind, RecipientKind
from tests.harness import COUNTY_ADMIN_ID
from tests.test_funds_domain import ledger  # noqa: F401 (the fixture)

FUNDS = 3
_runs = itertools.count()

amounts = st.integers(min_value=1, max_value=2_000_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("receipt"), st.integers(0, FUNDS - 1), amounts),
        st.tuples(st.just("grant"), st.integers(0, FUNDS - 1), amounts),
        st.tuples(st.just("transfer"), st.integers(0, FUNDS - 1), st.integers(0, FUNDS - 1), amounts),
        st.tuples(st.just("correct"), st.integers(0, 50)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
async def test_balances_are_the_sum_of_entries_never_negative_and_corrections_net_to_zero(ledger, steps):  # noqa: F811
    run = next(_runs)
    service = ledger.service
    village = ledger.orgs["东村团支部"]
    funds = [
        await service.add_fund(COUNTY_ADMIN_ID, f"基金{run}-{n}", "用途", ledger.orgs["城关镇团委"])
        for n in range(FUNDS)
    ]
    donor = await service.add_donor(COUNTY_ADMIN_ID, DonorKind.INDIVIDUAL, f"捐赠者{run}")
    recorded = []
    for step in steps:
        try:
            if step[0] == "receipt":
                recorded.append(
                    await service.receipt(
                        COUNTY_ADMIN_ID, ledger.key(), funds[step[1]].id, donor.id, step[2], method="现金"
                    )
                )
            elif step[0] == "grant":
                expected_refusal = step[2] > await service.balance(funds[step[1]].id)
                try:
                    recorded.append(
                        await service.pay(
                            COUNTY_ADMIN_ID,
                            ledger.key(),
                            funds[step[1]].id,
                            Payee(RecipientKind.VILLAGE, village),
                            step[2],
                            voucher_file_id="V",
                        )
                    )
                except DomainError as error:
                    assert expected_refusal and error.key == "funds.rule_balance"
            elif step[0] == "transfer":
                recorded.append(
                    await service.transfer(
                        COUNTY_ADMIN_ID, ledger.key(), funds[step[1]].id, funds[step[2]].id, step[3], reason="调整"
                    )
                )
            elif recorded:
                original = recorded[step[1] % len(recorded)]
                recorded.append(await service.correct(COUNTY_ADMIN_ID, ledger.key(), original.id, reason="更正"))
        except DomainError as error:
            assert error.key in {
                "funds.rule_balance",
                "funds.transfer_same_fund",
                "funds.already_corrected",
                "funds.correct_correction",
                "funds.correct_pending",
            }, error.key

    ids = {fund.id for fund in funds}
    entries = [entry for entry in await service.repo.entries() if entry.fund_id in ids]
    recomputed = recomputed_balances(entries)
    postings = [item for item in await service.repo.all_postings() if item.fund_id in ids]
    for fund in funds:
        stored = await service.balance(fund.id)
        assert stored >= 0
        assert stored == sum(item.delta_fen for item in postings if item.fund_id == fund.id)
        assert stored == recomputed.get(fund.id, 0)
    for correction in (entry for entry in entries if entry.kind is EntryKind.CORRECTION):
        assert correction.reverses_id is not None
        pair = await service.repo.postings(correction.reverses_id) + await service.repo.postings(correction.id)
        for fund_id in {item.fund_id for item in pair}:
            assert sum(item.delta_fen for item in pair if item.fund_id == fund_id) == 0
