"""The funds ledger end to end, through the production Application and the strict fake Telegram:
a county admin sets up a fund and a donor, a treasurer records a receipt with a voucher photo
(the amount echoed back, a double tap recording once), a grant to a verified student waits for a
second admin's approval, a pledge's instalment is reminded on its day and listed when overdue,
a correction, the reports and the hub's monthly statement.

The harness clock starts 2026-11-26 10:00 in Shanghai."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.domain.funds import Payee
from bot.model.funds import DonorKind, RecipientKind
from bot.model.organisation import OrgKind, Role
from tests.harness import COUNTY_ADMIN_ID
from tests.test_deeds import photo_update, step_of
from tests.test_funds_domain import Students

SH = ZoneInfo("Asia/Shanghai")
SECOND_ADMIN, TREASURER, OUTSIDER = 100002, 300001, 300009
HUB = -1009


async def at(harness, moment: datetime) -> None:
    """Move the clock (weeks at a time) and run the wake-up job: the first run skips the daily
    occurrences left far behind, the second sends the one due now."""
    harness.clock.moment = moment
    await harness.tick()
    await harness.tick()


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH).astimezone(UTC)


class County:
    def __init__(self, harness) -> None:
        self.harness = harness
        self.services = harness.services
        self.ids: dict[str, int] = {}
        self.students = Students()

    async def arrange(self) -> County:
        services, now = self.services, self.harness.clock.now()
        county = await services.orgs.create(COUNTY_ADMIN_ID, "团县委", OrgKind.COUNTY_COMMITTEE, None)
        town = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, county.id)
        village = await services.orgs.create(COUNTY_ADMIN_ID, "东村团支部", OrgKind.VILLAGE_BRANCH, town.id)
        self.ids = {"团县委": county.id, "城关镇团委": town.id, "东村团支部": village.id}
        for user_id, name in ((SECOND_ADMIN, "副书记"), (TREASURER, "镇会计"), (OUTSIDER, "路人")):
            await services.people.seen(user_id, name, None, "zh-hans", private=True)
        await services.membership.promote_county_admin(COUNTY_ADMIN_ID, SECOND_ADMIN)
        await services.membership.memberships.grant(town.id, TREASURER, Role.ORG_ADMIN, COUNTY_ADMIN_ID, now)
        # The campaign service is wired at merge; the ledger only sees the port.
        self.students.add(7001, "小李 · 县一中", town.id)
        services.funds.verified = self.students
        return self

    async def fund_and_donor(self):
        funds = self.services.funds
        fund = await funds.add_fund(COUNTY_ADMIN_ID, "关爱基金", "资助家庭困难学生", self.ids["城关镇团委"])
        donor = await funds.add_donor(COUNTY_ADMIN_ID, DonorKind.COMPANY, "县电力公司", public_name="电力公司")
        return fund, donor


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    return await County(harness).arrange()


async def test_a_county_admin_sets_up_a_fund_and_a_donor(county):
    harness = county.harness
    admin = harness.admin()
    await admin.send("/newfund")
    await admin.send("关爱基金")
    await admin.send("资助家庭困难学生")
    await admin.send("城关")
    await admin.tap("城关镇团委")
    await admin.tap("只资助核实过的学生")
    await admin.tap("不限地方")
    assert admin.last_reply().text == "✅ 已新建基金 #1「关爱基金」。"
    await admin.send("/newdonor")
    await admin.send("县电力公司")
    await admin.tap("企业")
    await admin.send("电力公司")
    await admin.send("张经理 139 0000 1234 县城电力路1号")
    assert admin.last_reply().text == "✅ 已登记捐赠者 #1「县电力公司」。"
    fund = await county.services.funds.fund(1)
    assert fund.restriction.kinds == (RecipientKind.STUDENT,) and fund.owner_org_id == county.ids["城关镇团委"]
    contact = await county.services.funds.contact(COUNTY_ADMIN_ID, 1)
    assert (contact.contact_person, contact.phone, contact.address) == ("张经理", "139 0000 1234", "县城电力路1号")

    # A fund for one village only: a wrong name is refused with an example, the step kept.
    await admin.send("/newfund")
    await admin.send("东村直接捐赠")
    await admin.send("企业直接捐给东村")
    await admin.tap("城关镇团委")
    await admin.tap("只拨给村团支部")
    await admin.send("北村团支部")
    assert "找不到（或不止一个）名为「北村团支部」的组织" in admin.last_reply().text
    await admin.send("东村团支部")
    assert admin.last_reply().text == "✅ 已新建基金 #2「东村直接捐赠」。"
    village_fund = await county.services.funds.fund(2)
    assert village_fund.restriction.org_ids == (county.ids["东村团支部"],)
    assert village_fund.restriction.kinds == (RecipientKind.VILLAGE,)

    treasurer = harness.user(TREASURER, "镇会计")
    await treasurer.send("/newdonor")
    assert "只有团县委管理员" in treasurer.last_reply().text


async def test_a_receipt_with_a_voucher_photo_echoes_the_amount_and_a_double_tap_records_once(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    treasurer = harness.user(TREASURER, "镇会计")
    await treasurer.send("/receipt")
    assert "收到哪位捐赠者的钱" in treasurer.last_reply().text  # one fund kept: no fund picker
    await treasurer.tap("县电力公司")
    await treasurer.send("-500")
    assert "不能是负数" in treasurer.last_reply().text and "例如" in treasurer.last_reply().text
    await treasurer.send("1万5")
    assert "看不懂金额「1万5」" in treasurer.last_reply().text
    assert await step_of(harness, TREASURER) == "frc:amount"  # kept at the step
    await treasurer.send("1.5万")
    assert "您输入的是「1.5万」，即 <b>15,000.00 元</b>" in treasurer.last_reply().raw_text or "15,000.00 元" in (
        treasurer.last_reply().text
    )
    await treasurer.tap("银行转账")
    await harness.deliver(photo_update(harness, TREASURER, "AgACvoucher-1"))
    confirm = treasurer.last_reply()
    assert "金额：15,000.00 元" in confirm.text and "凭证：有凭证照片" in confirm.text
    await treasurer.tap("✅ 确认记账")
    assert treasurer.last_reply().text.startswith("✅ 已记账：#1")
    await treasurer.tap("✅ 确认记账", message_id=confirm.message_id)  # the double tap
    entries = await county.services.funds.repo.entries()
    assert [(e.amount_fen, e.voucher_file_id, e.method, e.created_by) for e in entries] == [
        (1_500_000, "AgACvoucher-1", "银行转账", TREASURER)
    ]
    await treasurer.send("/funds")
    assert "余额 15,000.00 元" in treasurer.replies()[-1].text

    outsider = harness.user(OUTSIDER, "路人")
    await outsider.send("/receipt")
    assert "没有可以查看的基金" in outsider.last_reply().text


async def test_a_grant_to_a_verified_student_is_approved_by_a_second_admin(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    funds = county.services.funds
    await funds.receipt(COUNTY_ADMIN_ID, "seed", fund.id, donor.id, 2_000_000, method="银行转账")
    admin = harness.admin()
    second = harness.user(SECOND_ADMIN, "副书记")
    await admin.send("/grant")
    await admin.tap("核实过的困难学生")
    await admin.tap("小李 · 县一中")
    await admin.send("600元")
    await admin.send("很多钱")
    assert "必须附凭证照片" in admin.last_reply().text
    await admin.send("6000元")  # the amount corrected after its echo
    assert "即 <b>6,000.00 元</b>" in admin.last_reply().raw_text or "6,000.00 元" in admin.last_reply().text
    await harness.deliver(photo_update(harness, COUNTY_ADMIN_ID, "AgACgrant"))
    assert "需另一位团县委管理员批准" in admin.last_reply().text
    await admin.tap("✅ 确认记账")
    assert admin.last_reply().text.startswith("⏳ 已提交")
    assert await funds.balance(fund.id) == 2_000_000
    request = second.last_reply()
    assert "一笔拨付需要您审批" in request.text and "小李 · 县一中" in request.text
    await second.tap("✅ 批准")
    assert second.last_reply().text.startswith("✅ 已批准")
    assert await funds.balance(fund.id) == 1_400_000
    grant = (await funds.repo.entries())[-1]
    assert request.message_id and grant.decided_by == SECOND_ADMIN
    await second.tap_data(f"fd:{grant.id}:1", message_id=request.message_id, forge=True)  # a second tap changes nothing
    assert await funds.balance(fund.id) == 1_400_000

    # The requester's own /funds offers no buttons on their own grant; a refusal names its rule.
    entry = await funds.pay(
        COUNTY_ADMIN_ID,
        "big",
        fund.id,
        Payee(RecipientKind.VILLAGE, county.ids["东村团支部"]),
        600_000,
        voucher_file_id="V",
    )
    await admin.send("/funds")
    assert not any(message.button_labels() for message in admin.replies()[-1:])
    await admin.tap_data(f"fd:{entry.id}:1", forge=True)
    assert any("双人审批" in (answer or "") for answer in admin.callback_answers)


async def test_a_grant_above_the_balance_is_refused_naming_the_rule(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    await county.services.funds.receipt(COUNTY_ADMIN_ID, "seed", fund.id, donor.id, 10_000, method="现金")
    treasurer = harness.user(TREASURER, "镇会计")
    await treasurer.send("/grant")
    await treasurer.tap("村团支部")
    await treasurer.send("东村")
    await treasurer.tap("东村团支部")
    await treasurer.send("500元")
    await treasurer.send("没有照片")
    assert "必须附凭证照片" in treasurer.last_reply().text
    await harness.deliver(photo_update(harness, TREASURER, "AgACv"))
    await treasurer.tap("✅ 确认记账")
    assert "规则「基金不能透支」" in treasurer.last_reply().text and "100.00" in treasurer.last_reply().text
    assert await step_of(harness, TREASURER) == "fgr:confirm"


async def test_a_correction_and_a_correction_of_a_correction(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    entry = await county.services.funds.receipt(TREASURER, "r1", fund.id, donor.id, 50_000, method="现金")
    treasurer = harness.user(TREASURER, "镇会计")
    await treasurer.send(f"/correct {entry.id} 金额录错")
    assert treasurer.last_reply().text.startswith(f"✅ 已更正账目 #{entry.id}")
    await treasurer.send("/correct 2 再改")
    assert "不能更正「更正」" in treasurer.last_reply().text
    await treasurer.send("/correct")
    assert "/correct 12" in treasurer.last_reply().text
    assert await county.services.funds.balance(fund.id) == 0


async def test_pledge_instalments_are_reminded_on_their_day_and_listed_when_overdue(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    treasurer = harness.user(TREASURER, "镇会计")
    admin = harness.admin()
    await treasurer.send("/pledge")
    await treasurer.tap("县电力公司")
    await treasurer.send("2万")
    await treasurer.tap("2 期")
    plan = treasurer.last_reply().text
    assert "第 1 期：2026-12-26，10,000.00 元" in plan and "第 2 期：2027-01-26，10,000.00 元" in plan
    await treasurer.tap("✅ 确认记账")
    assert treasurer.last_reply().text == "✅ 已登记认捐 #1：20,000.00 元，分 2 期。"

    await at(harness, local(2026, 12, 26, 9))
    reminder = treasurer.last_reply().text
    assert "今天（2026-12-26）有 1 期认捐款到期" in reminder and "电力公司" in reminder
    # Paid on time, through /receipt with the instalment picked.
    await treasurer.send("/receipt")
    await treasurer.tap("县电力公司")
    await treasurer.tap("第 1 期")
    await treasurer.send("10000元")
    await treasurer.tap("银行转账")
    await treasurer.tap("跳过")
    assert "（认捐第 1 期）" in treasurer.last_reply().text
    await treasurer.tap("✅ 确认记账")

    admin_before = len(admin.replies())
    await at(harness, local(2027, 1, 28, 9))  # the second one is two days late
    overdue = admin.last_reply().text
    assert len(admin.replies()) == admin_before + 1
    assert "已逾期未到账的认捐分期（1 期）" in overdue and "第 2 期（2027-01-26 到期）" in overdue
    await county.services.funds.receipt(
        TREASURER, "late", fund.id, donor.id, 1_000_000, method="银行转账", pledge_id=1, instalment_no=2
    )
    await at(harness, local(2027, 1, 29, 9))
    assert len(admin.replies()) == admin_before + 1  # paid late: nothing more to say
    statement = await county.services.fund_reports.statement(COUNTY_ADMIN_ID, donor.id)
    assert (statement.pledged_fen, statement.received_fen) == (2_000_000, 2_000_000)


async def test_reports_the_donor_statement_and_the_hub_statement(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    funds = county.services.funds
    await funds.receipt(COUNTY_ADMIN_ID, "r", fund.id, donor.id, 18_000_000, method="银行转账", on=date(2026, 11, 3))
    await funds.pay(
        COUNTY_ADMIN_ID,
        "g",
        fund.id,
        Payee(RecipientKind.STUDENT, 7001),
        300_000,
        voucher_file_id="V",
        on=date(2026, 11, 5),
    )
    admin = harness.admin()
    await admin.send(f"/donor {donor.id}")
    statement = admin.last_reply()
    assert "认捐 0.00 元，已到账 180,000.00 元" in statement.text and "→ 小李 · 县一中" in statement.text
    assert "139" not in statement.text
    await admin.tap("查看联系方式")
    views = await funds.audit.for_subject(f"donor:{donor.id}")
    assert [action for _, _, action, _ in views][-1] == "fund.donor_contact_view"

    await admin.send("/ledger")
    texts = [message.text or "" for message in admin.replies()[-3:]]
    assert any("1 家单位捐资 18 万元，资助经走访核实的困难学生 1 名 0.3 万元" in text for text in texts)
    sent = admin.replies()[-2:]
    assert sent[0].kind == "photo" and sent[1].kind == "document"
    book = load_workbook(io.BytesIO(harness.fake.file_bytes(sent[1].document["file_id"])))
    assert book.sheetnames == ["全部账目", "关爱基金"]

    before = len(admin.replies())
    await admin.send("/report 2026")
    assert any("1 家单位捐资 18 万元" in (message.text or "") for message in admin.replies()[before:])

    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await county.services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    await admin.send(f"/publish {fund.id} 2026-11")
    assert "已发到县级大群" in admin.last_reply().text
    hub = harness.fake.last_bot_message(HUB).text
    assert "【关爱基金】2026 年 11 月收支公示" in hub and "180,000.00 元" in hub and "资助学生 1 名" in hub
    assert "小李" not in hub  # aggregates only
    await admin.send(f"/publish {fund.id} 2026-11")
    assert "已经发过了" in admin.last_reply().text
    await admin.send(f"/thank {donor.id}")
    assert "感谢 电力公司 向关爱基金捐赠 180,000.00 元" in harness.fake.last_bot_message(HUB).text


async def test_the_weekly_digest_gains_a_funds_line_in_the_hub_when_there_is_news(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await county.services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    await county.services.funds.receipt(COUNTY_ADMIN_ID, "r", fund.id, donor.id, 1_500_000, method="银行转账")
    before = len(harness.fake.bot_messages(HUB))
    await at(harness, local(2026, 11, 30, 9))  # Monday: the weekly digest
    digest = harness.fake.last_bot_message(HUB).text
    assert len(harness.fake.bot_messages(HUB)) == before + 1
    assert "过去一周基金收到捐赠共 15,000.00 元" in digest and "县电力公司" not in digest
    await at(harness, local(2026, 12, 7, 9))  # a week without giving: no digest at all
    assert len(harness.fake.bot_messages(HUB)) == before + 1


async def test_a_transfer_by_command_and_its_refusals(county):
    harness = county.harness
    fund, donor = await county.fund_and_donor()
    funds = county.services.funds
    other = await funds.add_fund(COUNTY_ADMIN_ID, "村级直接捐赠", "村级直接捐赠", county.ids["城关镇团委"])
    await funds.receipt(COUNTY_ADMIN_ID, "r", fund.id, donor.id, 1_000_000, method="现金")
    treasurer = harness.user(TREASURER, "镇会计")
    await treasurer.send(f"/transfer {fund.id} {other.id} 0.5万 支持东村")
    assert "已调拨到「村级直接捐赠」：「0.5万」即 5,000.00 元" in treasurer.last_reply().text
    await treasurer.send(f"/transfer {fund.id} {fund.id} 100元 调整")
    assert "不能在同一个基金内部调拨" in treasurer.last_reply().text
    await treasurer.send(f"/transfer {fund.id} {other.id} 1万 再调")
    assert "规则「基金不能透支」" in treasurer.last_reply().text
    await treasurer.send(f"/transfer {fund.id} {other.id} -5 调整")
    assert "不能是负数" in treasurer.last_reply().text
    await treasurer.send("/transfer 1 2")
    assert "/transfer 1 2 1万" in treasurer.last_reply().text
    assert (await funds.balance(fund.id), await funds.balance(other.id)) == (500_000, 500_000)
    await treasurer.send("/donor")
    assert "#1 县电力公司（公示为：电力公司）" in treasurer.last_reply().text
    outsider = harness.user(OUTSIDER, "路人")
    await outsider.send("/donor")
    assert "没有可以查看的基金" in outsider.last_reply().text


async def test_an_expense_for_a_wishs_purchase_names_the_wish_never_the_child(county):
    from bot.domain.wishes import WishDraft
    from bot.model.wish import WishCategory

    harness = county.harness
    fund, donor = await county.fund_and_donor()
    services = county.services
    await services.funds.receipt(COUNTY_ADMIN_ID, "r", fund.id, donor.id, 100_000, method="现金")
    school = await services.orgs.create(COUNTY_ADMIN_ID, "县第一小学", OrgKind.SCHOOL, None)
    wish = await services.wishes.add(
        COUNTY_ADMIN_ID,
        WishDraft(
            collector_org_id=school.id,
            alias="小明",
            grade="三年级",
            text="一个篮球",
            category=WishCategory.SPORTS,
            value_yuan=80,
            consent=False,
        ),
    )
    admin = harness.admin()
    await admin.send("/grant")
    await admin.tap("微心愿采购")
    await admin.send("X12")
    assert "看不懂心愿编号「X12」" in admin.last_reply().text
    await admin.send(wish.code)
    await admin.send("80元")
    await harness.deliver(photo_update(harness, COUNTY_ADMIN_ID, "AgACreceipt"))
    assert f"拨给：{wish.code} 一个篮球" in admin.last_reply().text
    await admin.tap("✅ 确认记账")
    [expense] = [entry for entry in await services.funds.repo.entries() if entry.recipient is not None]
    assert expense.kind.value == "expense" and expense.recipient.label == f"{wish.code} 一个篮球"
    assert "小明" not in expense.recipient.label
    assert await services.funds.balance(fund.id) == 100_000 - 8_000
