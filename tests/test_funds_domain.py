"""The funds ledger through the running bot's own database and services, with the fake clock:
stories (a pledge in two instalments with one paid late, a receipt with a voucher photo, a grant
to a verified student approved by a second admin, a correction), every rule's refusal by what
the person reads, the append-only rule in the database, and the reports matching the entries."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from bot.domain.errors import PermissionDenied
from bot.domain.feature_config import FundsConfig
from bot.domain.funds import FundReports, FundService, GroupBy, Payee, PledgeReminders, recomputed_balances
from bot.domain.funds.amounts import parse_amount, wan_text, yuan_text
from bot.model.funds import DonorContact, DonorKind, EntryKind, Instalment, RecipientKind, Restriction
from bot.model.organisation import OrgKind, Role
from bot.model.reminder import ReminderRecord
from bot.model.verification import VerifiedStudent
from handlers.i18n import translate
from storage.audit import AuditRepository
from storage.funds import FundRepository
from tests.harness import COUNTY_ADMIN_ID
from tests.test_wishes_domain import refused

SECOND_ADMIN, TREASURER, OUTSIDER = 100002, 300001, 300009
PHONE = "139 0000 1234"


class Students:
    """An in-memory verified-students port: what the campaign domain will answer."""

    def __init__(self) -> None:
        self.students: dict[int, VerifiedStudent] = {}

    def add(self, household_id: int, alias: str, township: int, *, closed: bool = True) -> None:
        self.students[household_id] = VerifiedStudent(household_id, 1, "2026 走访核实", alias, township, closed)

    async def verified(self, household_id: int) -> VerifiedStudent | None:
        return self.students.get(household_id)

    async def all_verified(self, *, campaign_id: int | None = None) -> list[VerifiedStudent]:
        return list(self.students.values())


class Ledger:
    def __init__(self, harness, service: FundService, students: Students, orgs: dict[str, int]) -> None:
        self.harness = harness
        self.service = service
        self.reports = FundReports(service)
        self.students = students
        self.orgs = orgs
        self.keys = 0

    def key(self) -> str:
        self.keys += 1
        return f"test:{self.keys}"

    def today(self) -> date:
        return self.service.today()

    async def audit(self, subject: str) -> list[tuple[str, int | None, dict]]:
        entries = await AuditRepository(self.harness.services.db).for_subject(subject)
        return [(action, actor, details) for _, actor, action, details in entries]


def make_service(harness, students: Students, **settings) -> FundService:
    services = harness.services
    return FundService(
        services.db,
        FundRepository(services.db),
        services.orgs,
        AuditRepository(services.db),
        services.permissions,
        services.clock,
        services.config.zone,
        students,
        replace(FundsConfig(), **settings),
    )


@pytest.fixture
async def ledger(harness) -> Ledger:
    services = harness.services
    orgs = {}
    county = await services.orgs.create(COUNTY_ADMIN_ID, "团县委", OrgKind.COUNTY_COMMITTEE, None)
    orgs["团县委"] = county.id
    town = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, county.id)
    orgs["城关镇团委"] = town.id
    for name in ("东村团支部", "西村团支部"):
        orgs[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, OrgKind.VILLAGE_BRANCH, town.id)).id
    for user_id, name in ((SECOND_ADMIN, "副书记"), (TREASURER, "镇会计"), (OUTSIDER, "路人")):
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    await services.membership.promote_county_admin(COUNTY_ADMIN_ID, SECOND_ADMIN)
    await services.membership.memberships.grant(
        town.id, TREASURER, Role.ORG_ADMIN, COUNTY_ADMIN_ID, harness.clock.now()
    )
    students = Students()
    students.add(7001, "小李 · 县一中", town.id)
    students.add(7002, "小王 · 县二中", town.id, closed=False)
    return Ledger(harness, make_service(harness, students), students, orgs)


async def care_fund(ledger: Ledger, **restriction):
    return await ledger.service.add_fund(
        COUNTY_ADMIN_ID, "关爱基金", "资助家庭困难学生", ledger.orgs["城关镇团委"], Restriction(**restriction)
    )


async def company(ledger: Ledger, name: str = "县电力公司", **options):
    return await ledger.service.add_donor(COUNTY_ADMIN_ID, DonorKind.COMPANY, name, **options)


# ---- amounts -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1.5万", 1_500_000),
        ("18万元", 18_000_000),
        ("¥2,000", 200_000),
        ("￥2,000", 200_000),
        ("500元", 50_000),
        ("3000.50", 300_050),
        (" 200 块 ", 20_000),
        ("0.35万", 350_000),
        ("1,234,567.8", 123_456_780),
    ],
)
def test_amounts_are_read_as_cadres_write_them(text, fen):
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-500", "funds.amount_negative"),
        ("¥-2,000", "funds.amount_negative"),
        ("负500元", "funds.amount_negative"),
        ("1万5", "funds.amount_unclear"),
        ("1,5", "funds.amount_unclear"),
        ("1.500", "funds.amount_unclear"),
        ("500 600", "funds.amount_unclear"),
        ("五百元", "funds.amount_unclear"),
        ("0.001", "funds.amount_unclear"),
        ("0元", "funds.amount_zero"),
        ("20000万", "funds.amount_too_large"),
        ("", "funds.amount_empty"),
    ],
)
def test_ambiguous_or_negative_amounts_are_refused_with_an_example(text, key):
    with refused(key) as shown:
        parse_amount(text)
    assert "例如" in shown[0]


def test_fen_are_shown_as_yuan_and_wan():
    assert yuan_text(1_500_000) == "15,000.00"
    assert yuan_text(-5) == "-0.05"
    assert (wan_text(18_000_000), wan_text(54_800_000), wan_text(350_000), wan_text(0)) == ("18", "54.8", "0.35", "0")


# ---- stories -------------------------------------------------------------------------------------
async def test_a_pledge_in_two_instalments_with_one_paid_late(ledger):
    fund = await care_fund(ledger)
    donor = await company(ledger)
    today = ledger.today()
    first, second = today + timedelta(days=1), today + timedelta(days=31)
    pledge = await ledger.service.pledge(
        TREASURER,
        ledger.key(),
        fund.id,
        donor.id,
        parse_amount("2万"),
        instalments=[Instalment(1, first, 1_000_000), Instalment(2, second, 1_000_000)],
    )
    assert pledge.kind is EntryKind.PLEDGE and pledge.responsible_id == TREASURER
    assert await ledger.service.balance(fund.id) == 0  # a promise is not money
    reminders = PledgeReminders(
        ledger.service.repo, ledger.harness.services.reminders, ledger.harness.services.permissions, ledger.service.zone
    )

    # The first instalment's day: its cadre is reminded; it is paid that day.
    assert await reminders.audience(_occurrence_on(first)) == [TREASURER]
    notice = await reminders.notice_for(TREASURER, first)
    assert [(item.number, item.amount_fen, item.donor_shown) for item in notice.due] == [(1, 1_000_000, "县电力公司")]
    assert notice.overdue is None  # a cadre is not sent the county's overdue list
    await ledger.service.receipt(
        TREASURER,
        ledger.key(),
        fund.id,
        donor.id,
        1_000_000,
        method="银行转账",
        on=first,
        pledge_id=pledge.id,
        instalment_no=1,
    )
    assert await reminders.audience(_occurrence_on(first)) == []

    # The second is not paid on its day: overdue the day after, listed to the county admins.
    assert await reminders.audience(_occurrence_on(second)) == [TREASURER]
    later = second + timedelta(days=3)
    assert await reminders.audience(_occurrence_on(later)) == [COUNTY_ADMIN_ID, SECOND_ADMIN]
    overdue = (await reminders.notice_for(COUNTY_ADMIN_ID, later)).overdue
    assert [(item.pledge_id, item.number, item.due_on) for item in overdue or []] == [(pledge.id, 2, second)]

    # Paid late: off the list, and the donor's statement shows the whole pledge received.
    await ledger.service.receipt(
        TREASURER,
        ledger.key(),
        fund.id,
        donor.id,
        1_000_000,
        method="银行转账",
        on=later,
        pledge_id=pledge.id,
        instalment_no=2,
    )
    assert await reminders.overdue(later) == []
    statement = await ledger.reports.statement(COUNTY_ADMIN_ID, donor.id)
    assert (statement.pledged_fen, statement.received_fen) == (2_000_000, 2_000_000)
    assert await ledger.service.balance(fund.id) == 2_000_000


def _occurrence_on(day: date) -> ReminderRecord:
    """A reminder occurrence due at 09:00 local on `day` (only its due time is read)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    due = datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return ReminderRecord(
        id=1,
        subject_key="funds:pledges",
        target_kind="all_groups",
        target_id=None,
        text="",
        content_kind="text",
        schedule={},
        urgent=False,
        state="active",
        next_due_at=due,
        created_by=None,
    )


async def test_a_receipt_with_a_voucher_photo_and_a_double_tap_records_once(ledger):
    fund = await care_fund(ledger)
    donor = await company(ledger)
    key = ledger.key()
    first = await ledger.service.receipt(
        TREASURER,
        key,
        fund.id,
        donor.id,
        parse_amount("¥2,000"),
        method="微信",
        reference="WX2026",
        voucher_file_id="PHOTO1",
    )
    again = await ledger.service.receipt(
        TREASURER,
        key,
        fund.id,
        donor.id,
        parse_amount("¥2,000"),
        method="微信",
        reference="WX2026",
        voucher_file_id="PHOTO1",
    )
    assert again.id == first.id
    assert (first.voucher_file_id, first.method, first.reference, first.created_by) == (
        "PHOTO1",
        "微信",
        "WX2026",
        TREASURER,
    )
    assert first.created_at == ledger.harness.clock.now()
    assert await ledger.service.balance(fund.id) == 200_000
    assert len(await ledger.service.repo.entries()) == 1
    assert [action for action, _, _ in await ledger.audit(f"fund:{fund.id}")] == ["fund.add", "fund.receipt"]


async def test_a_grant_to_a_verified_student_counts_once_a_second_admin_approves(ledger):
    fund = await care_fund(ledger)
    donor = await company(ledger)
    await ledger.service.receipt(
        COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, parse_amount("1.5万"), method="银行转账"
    )
    grant = await ledger.service.pay(
        COUNTY_ADMIN_ID,
        ledger.key(),
        fund.id,
        Payee(RecipientKind.STUDENT, 7001),
        parse_amount("6000元"),
        voucher_file_id="VOUCHER",
    )
    assert grant.pending and grant.recipient is not None
    assert (grant.recipient.label, grant.recipient.org_id) == ("小李 · 县一中", ledger.orgs["城关镇团委"])
    assert await ledger.service.balance(fund.id) == 1_500_000  # not counted while it waits
    assert [entry.id for entry in await ledger.service.pending()] == [grant.id]

    with refused("funds.rule_own_approval", PermissionDenied) as shown:
        await ledger.service.decide(COUNTY_ADMIN_ID, grant.id, approve=True)
    assert "另一位" in shown[0]
    with refused("funds.approve_not_allowed", PermissionDenied):
        await ledger.service.decide(TREASURER, grant.id, approve=True)

    approved = await ledger.service.decide(SECOND_ADMIN, grant.id, approve=True)
    assert approved.counts and approved.decided_by == SECOND_ADMIN
    assert await ledger.service.balance(fund.id) == 900_000
    # A second tap on "approve" changes nothing.
    assert (await ledger.service.decide(SECOND_ADMIN, grant.id, approve=True)).id == grant.id
    assert await ledger.service.balance(fund.id) == 900_000

    # A small grant needs no second person.
    small = await ledger.service.pay(
        TREASURER,
        ledger.key(),
        fund.id,
        Payee(RecipientKind.VILLAGE, ledger.orgs["东村团支部"]),
        50_000,
        voucher_file_id="V2",
    )
    assert small.counts and small.recipient and small.recipient.label == "东村团支部"
    assert await ledger.service.balance(fund.id) == 850_000


async def test_a_correction_reverses_an_entry_and_the_original_stays(ledger):
    fund = await care_fund(ledger)
    donor = await company(ledger)
    wrong = await ledger.service.receipt(TREASURER, ledger.key(), fund.id, donor.id, 500_000, method="现金")
    correction = await ledger.service.correct(TREASURER, ledger.key(), wrong.id, reason="金额录错，应为 500 元")
    assert (correction.kind, correction.reverses_id, correction.amount_fen) == (EntryKind.CORRECTION, wrong.id, 500_000)
    assert await ledger.service.balance(fund.id) == 0
    kept = await ledger.service.entry(wrong.id)
    assert kept.amount_fen == 500_000 and kept.corrected_by == correction.id
    postings = await ledger.service.repo.postings(wrong.id) + await ledger.service.repo.postings(correction.id)
    assert sum(item.delta_fen for item in postings) == 0

    with refused("funds.correct_correction") as shown:
        await ledger.service.correct(TREASURER, ledger.key(), correction.id, reason="再改")
    assert "不能更正「更正」" in shown[0]
    with refused("funds.already_corrected"):
        await ledger.service.correct(TREASURER, ledger.key(), wrong.id, reason="再改一次")
    with refused("funds.reason_empty"):
        await ledger.service.correct(TREASURER, ledger.key(), wrong.id, reason="  ")


async def test_the_ledger_is_append_only_in_the_database_too(ledger):
    fund = await care_fund(ledger)
    donor = await company(ledger)
    entry = await ledger.service.receipt(TREASURER, ledger.key(), fund.id, donor.id, 100, method="现金")
    db = ledger.harness.services.db
    for statement in (
        "UPDATE fund_entries SET amount_fen = 1 WHERE id = ?",
        "DELETE FROM fund_entries WHERE id = ?",
        "UPDATE fund_postings SET delta_fen = 1 WHERE entry_id = ?",
        "DELETE FROM fund_postings WHERE entry_id = ?",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            await db.execute(statement, (entry.id,))
    assert (await ledger.service.entry(entry.id)).amount_fen == 100


# ---- rules ---------------------------------------------------------------------------------------
async def test_each_rule_refuses_by_name(ledger):
    fund = await care_fund(ledger)
    other = await ledger.service.add_fund(
        COUNTY_ADMIN_ID,
        "东村直接捐赠",
        "东村的直接捐赠",
        ledger.orgs["东村团支部"],
        Restriction(org_ids=(ledger.orgs["东村团支部"],), kinds=(RecipientKind.VILLAGE,)),
    )
    donor = await company(ledger)
    await ledger.service.receipt(COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, 100_000, method="现金")
    await ledger.service.receipt(COUNTY_ADMIN_ID, ledger.key(), other.id, donor.id, 100_000, method="现金")

    with refused("funds.transfer_same_fund"):
        await ledger.service.transfer(COUNTY_ADMIN_ID, ledger.key(), fund.id, fund.id, 100, reason="调整")
    with refused("funds.rule_balance") as shown:
        await ledger.service.pay(
            COUNTY_ADMIN_ID,
            ledger.key(),
            fund.id,
            Payee(RecipientKind.VILLAGE, ledger.orgs["西村团支部"]),
            100_001,
            voucher_file_id="V",
        )
    assert "1,000.00" in shown[0] and "1,000.01" in shown[0] and "透支" in shown[0]
    with refused("funds.rule_balance"):
        await ledger.service.transfer(COUNTY_ADMIN_ID, ledger.key(), fund.id, other.id, 100_001, reason="调整")
    with refused("funds.rule_restricted_org") as shown:
        await ledger.service.pay(
            COUNTY_ADMIN_ID,
            ledger.key(),
            other.id,
            Payee(RecipientKind.VILLAGE, ledger.orgs["西村团支部"]),
            100,
            voucher_file_id="V",
        )
    assert "西村团支部" in shown[0] and "专款专用" in shown[0]
    with refused("funds.rule_restricted_kind"):
        await ledger.service.pay(
            COUNTY_ADMIN_ID, ledger.key(), other.id, Payee(RecipientKind.STUDENT, 7001), 100, voucher_file_id="V"
        )
    with refused("funds.rule_restricted_transfer"):
        await ledger.service.transfer(COUNTY_ADMIN_ID, ledger.key(), other.id, fund.id, 100, reason="调整")
    with refused("funds.voucher_needed"):
        await ledger.service.pay(
            COUNTY_ADMIN_ID, ledger.key(), fund.id, Payee(RecipientKind.STUDENT, 7001), 100, voucher_file_id=None
        )
    with refused("funds.rule_student_unverified") as shown:
        await ledger.service.pay(
            COUNTY_ADMIN_ID, ledger.key(), fund.id, Payee(RecipientKind.STUDENT, 9999), 100, voucher_file_id="V"
        )
    assert "走访核实" in shown[0]
    with refused("funds.rule_campaign_open"):
        await ledger.service.pay(
            COUNTY_ADMIN_ID, ledger.key(), fund.id, Payee(RecipientKind.STUDENT, 7002), 100, voucher_file_id="V"
        )
    with refused("funds.override_county_only", PermissionDenied):
        await ledger.service.pay(
            TREASURER,
            ledger.key(),
            fund.id,
            Payee(RecipientKind.STUDENT, 7002),
            100,
            voucher_file_id="V",
            override_reason="家中突发变故",
        )
    override = await ledger.service.pay(
        COUNTY_ADMIN_ID,
        ledger.key(),
        fund.id,
        Payee(RecipientKind.STUDENT, 7002),
        100,
        voucher_file_id="V",
        override_reason="家中突发变故",
    )
    assert (
        override.override_reason == "家中突发变故"
        and override.recipient
        and override.recipient.label == "小王 · 县二中"
    )
    with refused("funds.keeper_only", PermissionDenied):
        await ledger.service.receipt(OUTSIDER, ledger.key(), fund.id, donor.id, 100, method="现金")
    with refused("funds.county_only", PermissionDenied):
        await ledger.service.add_fund(TREASURER, "新基金", "用途", ledger.orgs["城关镇团委"])
    # A receipt cannot be corrected away when its money is already spent.
    spent = await ledger.service.receipt(COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, 50_000, method="现金")
    await ledger.service.pay(
        COUNTY_ADMIN_ID,
        ledger.key(),
        fund.id,
        Payee(RecipientKind.VILLAGE, ledger.orgs["东村团支部"]),
        await ledger.service.balance(fund.id),
        voucher_file_id="V",
    )
    with refused("funds.rule_balance"):
        await ledger.service.correct(COUNTY_ADMIN_ID, ledger.key(), spent.id, reason="退款")
    assert all(item.balance_fen >= 0 for item in await ledger.reports.balances(COUNTY_ADMIN_ID))


async def test_donor_contact_details_are_for_county_admins_only_and_every_view_is_audited(ledger):
    donor = await company(ledger, contact=DonorContact("张经理", PHONE, "县城电力路 1 号"), public_name="电力公司")
    with refused("funds.contact_not_allowed", PermissionDenied):
        await ledger.service.contact(TREASURER, donor.id)
    contact = await ledger.service.contact(COUNTY_ADMIN_ID, donor.id)
    assert contact == DonorContact("张经理", PHONE, "县城电力路 1 号")
    views = [entry for entry in await ledger.audit(f"donor:{donor.id}") if entry[0] == "fund.donor_contact_view"]
    assert views == [("fund.donor_contact_view", COUNTY_ADMIN_ID, {"fields": ["contact_person", "phone", "address"]})]
    anonymous = await company(ledger, "某爱心人士", anonymous=True)
    assert (donor.shown_name, anonymous.shown_name) == ("电力公司", None)


# ---- reports -------------------------------------------------------------------------------------
async def test_balances_statement_totals_year_and_workbook_match_the_entries(ledger):
    fund = await care_fund(ledger)
    village = await ledger.service.add_fund(COUNTY_ADMIN_ID, "东村直接捐赠", "村级直接捐赠", ledger.orgs["东村团支部"])
    donor = await company(ledger, contact=DonorContact(phone=PHONE))
    quiet = await company(ledger, "某爱心人士", anonymous=True)
    await ledger.service.receipt(
        COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, parse_amount("18万元"), method="银行转账"
    )
    await ledger.service.receipt(
        COUNTY_ADMIN_ID, ledger.key(), village.id, quiet.id, parse_amount("500元"), method="现金"
    )
    grant = await ledger.service.pay(
        COUNTY_ADMIN_ID,
        ledger.key(),
        fund.id,
        Payee(RecipientKind.STUDENT, 7001),
        parse_amount("3000元"),
        voucher_file_id="V",
    )
    await ledger.service.transfer(
        COUNTY_ADMIN_ID, ledger.key(), fund.id, village.id, parse_amount("1万"), reason="支持东村"
    )
    mistake = await ledger.service.pay(
        COUNTY_ADMIN_ID,
        ledger.key(),
        village.id,
        Payee(RecipientKind.VILLAGE, ledger.orgs["东村团支部"]),
        20_000,
        voucher_file_id="V",
    )
    await ledger.service.correct(COUNTY_ADMIN_ID, ledger.key(), mistake.id, reason="重复登记")

    balances = {item.fund.name: item for item in await ledger.reports.balances(COUNTY_ADMIN_ID)}
    assert balances["关爱基金"].balance_fen == 18_000_000 - 300_000 - 1_000_000
    assert (balances["关爱基金"].received_fen, balances["关爱基金"].paid_fen) == (18_000_000, 1_300_000)
    assert balances["东村直接捐赠"].balance_fen == 50_000 + 1_000_000
    entries = await ledger.service.repo.entries()
    assert recomputed_balances(entries) == {name_id.fund.id: name_id.balance_fen for name_id in balances.values()}

    statement = await ledger.reports.statement(COUNTY_ADMIN_ID, donor.id)
    assert statement.received_fen == 18_000_000
    assert [(line.label, line.amount_fen) for line in statement.paid_for] == [("小李 · 县一中", grant.amount_fen)]
    assert PHONE not in repr(statement)

    by_donor = {total.label: total for total in await ledger.reports.totals(COUNTY_ADMIN_ID, GroupBy.DONOR)}
    assert by_donor["县电力公司"].received_fen == 18_000_000 and by_donor[""].received_fen == 50_000
    by_township = {total.label: total for total in await ledger.reports.totals(COUNTY_ADMIN_ID, GroupBy.TOWNSHIP)}
    assert by_township["城关镇团委"].paid_fen == 300_000 + 1_000_000  # the grant and the transfer out
    by_purpose = {total.label: total for total in await ledger.reports.totals(COUNTY_ADMIN_ID, GroupBy.PURPOSE)}
    assert by_purpose["村级直接捐赠"].received_fen == 50_000 + 1_000_000

    year = await ledger.reports.year(ledger.today().year)
    assert (year.donors, year.received_fen, year.students, year.students_fen) == (2, 18_050_000, 1, 300_000)
    assert (year.villages, year.villages_fen) == (0, 0)  # the village grant was corrected away
    paragraph = translate(
        "zh-Hans",
        "funds_ui.year_paragraph",
        donors=year.donors,
        received=wan_text(year.received_fen),
        students=year.students,
        students_money=wan_text(year.students_fen),
        villages=year.villages,
        villages_money=wan_text(year.villages_fen),
    )
    assert paragraph.startswith("2 家单位捐资 18.05 万元，资助经走访核实的困难学生 1 名 0.3 万元")

    book = load_workbook(
        io.BytesIO(await ledger.reports.workbook(COUNTY_ADMIN_ID, lambda key, **p: translate("zh-Hans", key, **p)))
    )
    assert book.sheetnames == ["全部账目", "关爱基金", "东村直接捐赠"]
    rows = list(book["全部账目"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(entries)
    assert sum(row[4] for row in rows if row[2] == "收款") == 180_500
    assert not any(PHONE in str(cell) for row in rows for cell in row)
    fund_rows = list(book["关爱基金"].iter_rows(min_row=2, values_only=True))
    assert {row[2] for row in fund_rows} == {"收款", "拨付", "调拨"}

    months = await ledger.reports.monthly(
        COUNTY_ADMIN_ID, date(ledger.today().year, 1, 1), date(ledger.today().year + 1, 1, 1)
    )
    assert len(months) == 12
    assert sum(item[2] for item in months) == 18_050_000 + 1_000_000
    with refused("funds.reports_not_allowed", PermissionDenied):
        await ledger.reports.balances(OUTSIDER)


# ---- the star rating's "money to serve" ------------------------------------------------------------
async def test_money_to_serve_is_a_star_fact_of_organisations_owning_a_fund(ledger):
    from bot.domain.stars import FACT_MONEY
    from bot.domain.stats import Period

    fund = await care_fund(ledger)
    donor = await company(ledger)
    receipt = await ledger.service.receipt(COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, 600_000, method="现金")
    await ledger.service.receipt(COUNTY_ADMIN_ID, ledger.key(), fund.id, donor.id, 400_000, method="现金")
    await ledger.service.correct(COUNTY_ADMIN_ID, ledger.key(), receipt.id, reason="重复")
    stars = ledger.harness.services.stars
    year = Period.of_year(ledger.today().year)
    owner = await stars.rate(ledger.orgs["城关镇团委"], year)
    money = [fact for fact in owner.facts if fact.name_key == FACT_MONEY]
    assert [(fact.value, fact.target, fact.weight) for fact in money] == [(4000, 10000, 10)]
    assert money[0].points == 4.0
    other = await stars.rate(ledger.orgs["东村团支部"], year)
    assert FACT_MONEY not in {fact.name_key for fact in other.facts}
    assert translate("zh-Hans", FACT_MONEY).startswith("有钱服务")


async def test_the_pledge_reminder_is_kept_only_while_instalments_are_open(ledger):
    from bot.domain.funds import PLEDGES_SUBJECT

    services = ledger.harness.services

    async def state() -> str | None:
        record = await services.reminders.reminders.by_subject(PLEDGES_SUBJECT)
        return None if record is None else record.state

    assert await state() in (None, "deleted")  # no pledge: no daily wake-up for nothing
    fund = await services.funds.add_fund(COUNTY_ADMIN_ID, "助学金", "助学", ledger.orgs["城关镇团委"])
    donor = await services.funds.add_donor(COUNTY_ADMIN_ID, DonorKind.COMPANY, "县银行")
    await services.funds.pledge(
        COUNTY_ADMIN_ID, "p", fund.id, donor.id, 100_000, instalments=[Instalment(1, ledger.today(), 100_000)]
    )
    assert await state() == "active"
