"""The organisation tree carries rights and figures: a township committee's admins see and act for
their village branches (and a village branch's admins only their own); /stats, /deeds, /stars and
/export take a scope; the XLSX names each village's township; the charts group by township;
the import refuses a village under a county-level organisation; the tenure figure."""

from __future__ import annotations

import csv
import io

from bot.domain.charts import ChartSource
from bot.domain.exports import ExportService
from bot.domain.org_import import HEADERS, parse_org_file
from bot.domain.stats import Period
from bot.model.organisation import OrgKind, Role, Scope
from tests.harness import COUNTY_ADMIN_ID

TOWN, VILLAGE_1, VILLAGE_2, DEPARTMENT = "城关镇团委", "第一村团支部", "第二村团支部", "县教育局团委"
LI, WANG, ZHAO = 400001, 400002, 400003


async def township(harness):
    """城关镇团委 (李书记, admin) with two village branches: 王 runs the first, 赵 the second."""
    services = harness.services
    admin = harness.admin()
    await admin.send("/start")
    town = await services.orgs.create(COUNTY_ADMIN_ID, TOWN, OrgKind.TOWNSHIP, None)
    first = await services.orgs.create(COUNTY_ADMIN_ID, VILLAGE_1, OrgKind.VILLAGE_BRANCH, town.id)
    second = await services.orgs.create(COUNTY_ADMIN_ID, VILLAGE_2, OrgKind.VILLAGE_BRANCH, town.id)
    department = await services.orgs.create(COUNTY_ADMIN_ID, DEPARTMENT, OrgKind.COUNTY_LEVEL, None)
    clients = {}
    for user_id, name, org in ((LI, "李书记", town), (WANG, "王支书", first), (ZHAO, "赵支书", second)):
        clients[user_id] = harness.user(user_id, name)
        await clients[user_id].send("/start")
        await services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, user_id)
    today = harness.clock.now().date()
    await services.deeds.record(WANG, first.id, "修缮村图书角", today)
    await services.deeds.record(ZHAO, second.id, "慰问留守儿童", today)
    await services.deeds.record(ZHAO, second.id, "义务植树", today)
    return {"town": town, "first": first, "second": second, "department": department}, clients


async def test_a_township_admin_runs_stats_and_deeds_for_their_villages(harness):
    orgs, clients = await township(harness)
    li = clients[LI]

    await li.send("/stats")
    picker = li.last_reply()
    labels = picker.button_labels()
    assert "城关镇团委（含各村合计）" in labels
    assert {TOWN, VILLAGE_1, VILLAGE_2} <= set(labels) and DEPARTMENT not in labels
    await li.tap("城关镇团委（含各村合计）")
    text = li.last_reply().text
    assert "城关镇团委（含各村合计） · 2026 年 统计" in text
    assert "实事：2026 年已完成 3/1 件" in text  # the villages' deeds added to the township's quota
    # The buttons under the figures keep the scope (the township with its villages).
    await li.tap("📄 导出表格")
    assert li.last_reply().kind == "document" and "城关镇团委（含各村合计）" in li.last_reply().text

    await li.send("/stats")
    await li.tap(VILLAGE_2)
    assert "第二村团支部 · 2026 年 统计" in li.last_reply().text
    assert "实事：2026 年已完成 2/0 件" in li.last_reply().text

    await li.send("/deeds")
    deeds = " ".join(li.transcript()[-3:])
    assert "「城关镇团委」" in deeds and "「第一村团支部」" in deeds and "「第二村团支部」" in deeds
    assert "修缮村图书角" in deeds and "义务植树" in deeds

    await li.send("/report 2026 城关镇团委")
    report = next(text for text in reversed(li.transcript()) if "年度工作总结" in text)
    assert report.startswith("城关镇团委（含各村合计）") and "3/1" in report
    assert li.last_reply().kind == "document"
    await li.send("/report 2026 县教育局团委")
    assert "找不到唯一一个名称是「县教育局团委」" in li.last_reply().text
    await li.send("/report 2026")
    assert "只有团县委管理员可以这样做" in li.last_reply().text

    await li.send("/stars")
    stars = " ".join(li.transcript()[-3:])
    assert VILLAGE_1 in stars and VILLAGE_2 in stars


async def test_a_village_admin_sees_only_their_branch(harness):
    orgs, clients = await township(harness)
    wang = clients[WANG]
    await wang.send("/stats")
    assert "第一村团支部 · 2026 年 统计" in wang.last_reply().text
    await wang.send("/deeds")
    assert "第二村团支部" not in wang.last_reply().text and "慰问留守儿童" not in wang.last_reply().text
    permissions = harness.services.permissions
    assert not await permissions.can_see_stats(WANG, orgs["second"].id)
    assert not await permissions.can_see_stats(WANG, orgs["town"].id)
    assert not await permissions.can_manage_org(WANG, orgs["town"].id)
    # Forged buttons for another scope are refused.
    period = "20260101:20261231"
    await wang.tap_data(f"rpx:{-orgs['town'].id}:{period}", forge=True)
    assert "只有「城关镇团委」的团干部或团县委管理员可以查看" in wang.callback_answers[-1]


async def test_a_township_admin_acts_for_the_villages_members_but_not_their_childrens_details(harness):
    orgs, clients = await township(harness)
    services = harness.services
    applicant = harness.user(400009, "新团员")
    await applicant.send("/start")
    request = await services.membership.request_join(400009, orgs["first"].id)
    decision = await services.membership.decide(LI, request.id, True)  # the township decides for its village
    assert decision.approved
    assert await services.permissions.role_in(400009, orgs["first"].id) is Role.CADRE
    assert await services.permissions.can_act_for_org(LI, orgs["first"].id)
    assert not await services.permissions.can_act_for_org(LI, orgs["department"].id)
    # Children's private details do not follow the tree.
    assert not await services.permissions.can_see_child_details(LI, orgs["first"].id, claimed_by=None)
    managed = {org.name for org in await services.orgs.managed_by(LI)}
    assert managed == {TOWN, VILLAGE_1, VILLAGE_2}
    # What a township admin may hand over is only their own organisation.
    assert [org.name for org in await services.membership.handover_orgs(LI)] == [TOWN]


async def test_the_export_names_each_villages_township_and_charts_group_by_township(harness):
    orgs, _ = await township(harness)
    services = harness.services
    period = Period.of_year(2026)
    data = await ExportService.of(services).gather(COUNTY_ADMIN_ID, period)
    assert data.townships == {orgs["first"].id: TOWN, orgs["second"].id: TOWN}
    scoped = await ExportService.of(services).gather(LI, period, orgs["town"].id, with_villages=True)
    assert {row.org_name for row in scoped.deeds} == {VILLAGE_1, VILLAGE_2}
    assert {facts.org.name for facts, _ in scoped.orgs} == {TOWN, VILLAGE_1, VILLAGE_2}

    source = ChartSource.of(services)
    grouped = await source.data(period, by_township=True)
    bars = {bar.org_name: (bar.done, bar.quota) for bar in grouped.deeds}
    assert bars[TOWN] == (3, 1) and VILLAGE_1 not in bars and bars[DEPARTMENT] == (0, 3)
    one = await source.data(period, orgs["town"].id, with_villages=True)
    assert {bar.org_name for bar in one.deeds} == {TOWN, VILLAGE_1, VILLAGE_2}
    assert Scope.from_token(Scope(orgs["town"].id, with_villages=True).token) == Scope(orgs["town"].id, True)


def org_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_the_import_refuses_a_village_under_a_county_level_organisation():
    rows = [("新村团支部", "村团支部", DEPARTMENT, "")]
    result = parse_org_file(
        "orgs.csv", org_csv(rows), existing_names={DEPARTMENT}, existing_kinds={DEPARTMENT: OrgKind.COUNTY_LEVEL}
    )
    assert [(problem.row, problem.key) for problem in result.problems] == [(2, "import.parent_wrong_kind")]
    # In the same file too; a village under a township is fine, and cycles stay refused.
    rows = [("某局团委", "县直机关直属团组织", "", ""), ("甲村团支部", "村团支部", "某局团委", "")]
    assert [p.key for p in parse_org_file("orgs.csv", org_csv(rows), existing_names=set()).problems] == [
        "import.parent_wrong_kind"
    ]
    rows = [("某镇团委", "乡镇团委", "", ""), ("乙村团支部", "村团支部", "某镇团委", "")]
    assert parse_org_file("orgs.csv", org_csv(rows), existing_names=set()).ok
    rows = [("甲镇团委", "乡镇团委", "乙镇团委", ""), ("乙镇团委", "乡镇团委", "甲镇团委", "")]
    assert {p.key for p in parse_org_file("orgs.csv", org_csv(rows), existing_names=set()).problems} == {
        "import.parent_cycle"
    }


async def test_the_share_of_cadres_under_one_year_in_post_by_kind(harness):
    orgs, clients = await township(harness)
    services = harness.services
    harness.clock.advance(days=400)
    # 王 became an admin 400 days ago and is still in post; a new cadre joins today; 赵 changes
    # role today (time in post runs on across a role change).
    newcomer = harness.user(400010, "新干部")
    await newcomer.send("/start")
    await services.membership.memberships.grant(orgs["first"].id, 400010, Role.CADRE, WANG, harness.clock.now())
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, orgs["second"].id, 400010)
    await services.membership.set_role(COUNTY_ADMIN_ID, orgs["second"].id, ZHAO, Role.CADRE)
    shares = {share.kind: (share.under_one_year, share.total) for share in await services.tenure.shares()}
    assert shares == {OrgKind.TOWNSHIP: (0, 1), OrgKind.VILLAGE_BRANCH: (2, 4)}
    await harness.admin().send("/stats")
    text = harness.admin().last_reply().text
    assert "团干部任职时间" in text and "村团支部：2/4 人，50%" in text
