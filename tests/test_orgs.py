"""County admins manage organisations in the private chat: /orgs, /neworg, /editorg, /importorgs."""

from __future__ import annotations

import pytest

from bot.domain.org_import import parse_org_file
from bot.model.organisation import OrgKind

REFUSED = "只有团县委管理员可以这样做"
NOT_WAITING = "我没有在等待输入"
HEADER = ("名称", "类型", "上级组织", "年度实事指标")


def csv_file(*rows: tuple) -> bytes:
    lines = [",".join("" if cell is None else str(cell) for cell in row) for row in (HEADER, *rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


GOOD_ROWS = (
    ("县教育局团委", "县直机关直属团组织", "", "3"),
    ("城关镇第一村团支部", "村团支部", "城关镇团委", ""),
    ("城关镇团委", "乡镇团委", "", ""),
)


async def org_by_name(harness, name: str):
    for org in await harness.services.orgs.list(include_archived=True):
        if org.name == name:
            return org
    return None


async def step_of(harness, user_id: int) -> str | None:
    state = await harness.services.conversations.get(user_id)
    return None if state is None else f"{state.flow}:{state.step}"


def new_texts(client, before: int) -> list[str]:
    return [message.text for message in client.replies()[before:]]


# ---- permissions -----------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["/orgs", "/neworg", "/editorg", "/importorgs", "/orgtemplate"])
async def test_a_non_admin_is_refused_every_organisation_command(harness, command):
    await harness.services.orgs.create(100001, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    alice = harness.user(200001, "Alice", username="alice")

    await alice.send(command)

    assert REFUSED in alice.last_reply().text
    assert all(message.kind == "text" for message in alice.replies())  # no template leaked
    assert await step_of(harness, 200001) is None
    await alice.send("县教育局团委")
    assert NOT_WAITING in alice.last_reply().text


async def test_an_admin_demoted_mid_conversation_is_refused_on_confirm(harness):
    admin = harness.admin()
    bob = harness.user(200002, "Bob", username="bob")
    await bob.send("/start")
    await harness.services.membership.promote_county_admin(100001, 200002)
    await bob.send("/neworg")
    await bob.send("城关镇团委")
    await bob.tap("乡镇团委")
    await bob.tap("🚫 无上级组织")
    await bob.tap("使用默认值 1")
    assert "请确认新建" in bob.last_reply().text
    await harness.services.people.people.set_promoted_admin(200002, False)

    await bob.tap("✅ 新建")

    assert REFUSED in bob.last_reply().text
    assert await org_by_name(harness, "城关镇团委") is None
    assert await step_of(harness, 200002) is None
    assert admin.replies() == []


# ---- /neworg ---------------------------------------------------------------------------------
async def test_neworg_happy_path_creates_the_organisation(harness):
    parent = await harness.services.orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    admin = harness.admin()

    await admin.send("/neworg")
    assert "第 1 步" in admin.last_reply().text
    await admin.send("城关镇第一村团支部")
    assert "是哪类组织" in admin.last_reply().text
    await admin.tap("村团支部")
    assert "上级组织是哪个" in admin.last_reply().text
    await admin.tap("城关镇团委")
    assert "每年要完成几件实事" in admin.last_reply().text
    await admin.send("2")
    confirm = admin.last_reply().text
    assert "请确认新建" in confirm and "城关镇第一村团支部" in confirm and "村团支部" in confirm
    assert "上级组织：城关镇团委" in confirm and "年度实事指标：2" in confirm
    await admin.tap("✅ 新建")

    created = admin.last_reply().text
    assert "已新建组织" in created and "城关镇第一村团支部" in created
    org = await org_by_name(harness, "城关镇第一村团支部")
    assert (org.kind, org.parent_id, org.deeds_quota, org.active) == (OrgKind.VILLAGE_BRANCH, parent.id, 2, True)
    assert await step_of(harness, 100001) is None


async def test_neworg_default_quota_follows_the_kind(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("县教育局团委")
    await admin.tap("县直机关直属团组织")
    await admin.tap("🚫 无上级组织")
    await admin.tap("使用默认值 3")
    await admin.tap("✅ 新建")

    org = await org_by_name(harness, "县教育局团委")
    assert (org.kind, org.parent_id, org.deeds_quota) == (OrgKind.COUNTY_LEVEL, None, 3)
    assert "上级组织：无" in admin.last_reply().text


async def test_neworg_name_step_explains_bad_names_and_waits(harness):
    await harness.services.orgs.create(100001, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    admin = harness.admin()
    await admin.send("/neworg")

    await admin.send("   ")
    assert "名称不能为空" in admin.last_reply().text and "例如" in admin.last_reply().text
    await admin.send("团" * 61)
    assert "名称太长了（61 个字），最多 60 个字" in admin.last_reply().text
    await admin.send("县教育局团委")
    assert "已经有名为「县教育局团委」的组织了" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:name"

    await admin.send("县卫健委团委")
    assert "「县卫健委团委」是哪类组织" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:kind"


async def test_neworg_kind_step_refuses_forged_buttons_and_unknown_kinds(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇团委")

    await admin.tap_data("cv:no:kind:martian", forge=True)
    assert "这个类型按钮无效或已过期" in admin.last_reply().text
    await admin.send("火星")
    assert "「火星」不是组织类型" in admin.last_reply().text and "乡镇团委" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:kind"

    await admin.send("乡镇")  # a typed kind (an accepted alias) works as well as the button
    assert "上级组织是哪个" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:parent"

    # A kind button of the step already passed is stale: refused, and the person stays put.
    await admin.tap_data("cv:no:kind:school", forge=True)
    assert "已过期" in admin.callback_answers[-1]
    assert await step_of(harness, 100001) == "no:parent"


async def test_neworg_parent_step_search_and_refusals(harness):
    orgs = harness.services.orgs
    township = await orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    archived = await orgs.create(100001, "旧镇团委", OrgKind.TOWNSHIP, None)
    await orgs.set_archived(100001, archived.id, True)
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇第一村团支部")
    await admin.tap("村团支部")

    await admin.send("不存在")
    assert "没有名称包含「不存在」的组织" in admin.last_reply().text
    await admin.tap_data(f"cv:no:parent:{archived.id}", forge=True)
    assert "「旧镇团委」已归档" in admin.last_reply().text
    await admin.tap_data("cv:no:parent:99999", forge=True)
    assert "找不到这个组织" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:parent"

    await admin.send("城关")
    assert "名称包含「城关」的组织有 1 个" in admin.last_reply().text
    await admin.tap("城关镇团委")
    assert await step_of(harness, 100001) == "no:quota"
    state = await harness.services.conversations.get(100001)
    assert state.data["parent_id"] == township.id


async def test_neworg_quota_step_explains_bad_numbers_and_waits(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇团委")
    await admin.tap("乡镇团委")
    await admin.tap("🚫 无上级组织")

    await admin.send("abc")
    assert "「abc」不是数字" in admin.last_reply().text and "例如：3" in admin.last_reply().text
    await admin.send("99")
    assert "99 超出了范围" in admin.last_reply().text and "0 到 50" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:quota"

    await admin.send("0")
    assert "年度实事指标：0" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:confirm"


async def test_neworg_name_taken_before_confirm_goes_back_to_the_name_step(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇团委")
    await admin.tap("乡镇团委")
    await admin.tap("🚫 无上级组织")
    await admin.tap("使用默认值 1")
    await harness.services.orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)

    await admin.tap("✅ 新建")

    assert "已经有名为「城关镇团委」的组织了" in admin.last_reply().text
    assert await step_of(harness, 100001) == "no:name"
    await admin.send("城关镇团委（新）")
    assert "是哪类组织" in admin.last_reply().text


async def test_cancel_in_the_middle_of_neworg(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇团委")

    await admin.send("/cancel")

    assert "已取消" in admin.last_reply().text
    await admin.send("乡镇团委")
    assert NOT_WAITING in admin.last_reply().text
    assert await harness.services.orgs.list() == []


async def test_cancel_button_in_neworg(harness):
    admin = harness.admin()
    await admin.send("/neworg")
    await admin.send("城关镇团委")

    await admin.tap("✖️ 取消")

    assert "已取消" in admin.last_reply().text
    assert await step_of(harness, 100001) is None


# ---- /editorg --------------------------------------------------------------------------------
async def test_editorg_rename(harness):
    orgs = harness.services.orgs
    org = await orgs.create(100001, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    await orgs.create(100001, "县卫健委团委", OrgKind.COUNTY_LEVEL, None)
    admin = harness.admin()

    await admin.send("/editorg")
    await admin.tap("县教育局团委")
    assert "要修改哪一项" in admin.last_reply().text
    await admin.tap("✏️ 名称")
    await admin.send("县卫健委团委")
    assert "已经有名为「县卫健委团委」的组织了" in admin.last_reply().text
    assert await step_of(harness, 100001) == "eo:name"
    await admin.send("县教育体育局团委")

    saved = admin.last_reply().text
    assert "已保存" in saved and "县教育体育局团委" in saved
    assert (await orgs.get(org.id)).name == "县教育体育局团委"
    assert await step_of(harness, 100001) is None


async def test_editorg_search_then_change_quota(harness):
    orgs = harness.services.orgs
    org = await orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    admin = harness.admin()

    await admin.send("/editorg")
    await admin.send("火星")
    assert "没有名称包含「火星」的组织" in admin.last_reply().text
    await admin.send("城关")
    await admin.tap("城关镇团委")
    await admin.tap("🎯 年度实事指标")
    assert "现在的年度实事指标是 1" in admin.last_reply().text
    await admin.send("abc")
    assert "「abc」不是数字" in admin.last_reply().text
    await admin.send("7")

    assert "年度实事指标：7" in admin.last_reply().text
    assert (await orgs.get(org.id)).deeds_quota == 7


async def test_editorg_kind_and_parent_refuses_a_loop(harness):
    orgs = harness.services.orgs
    township = await orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    village = await orgs.create(100001, "城关镇第一村团支部", OrgKind.OTHER, township.id)
    admin = harness.admin()

    await admin.send("/editorg")
    await admin.tap("城关镇第一村团支部")
    await admin.tap("🏷 类型")
    await admin.tap("村团支部")
    assert "类型：村团支部" in admin.last_reply().text
    assert (await orgs.get(village.id)).kind is OrgKind.VILLAGE_BRANCH

    await admin.send("/editorg")
    await admin.tap("城关镇团委")
    await admin.tap("⬆️ 上级组织")
    await admin.tap("城关镇第一村团支部")
    assert "会形成循环" in admin.last_reply().text
    assert await step_of(harness, 100001) == "eo:parent"
    picker = admin.replies()[-2]
    await admin.tap("🚫 无上级组织")
    # The picker the button sits on turns into the result (the refusal stays below it).
    assert "已保存" in next(m for m in admin.replies() if m.message_id == picker.message_id).text
    assert (await orgs.get(township.id)).parent_id is None


async def test_editorg_archive_hides_from_join_and_restore_brings_it_back(harness):
    orgs = harness.services.orgs
    school = await orgs.create(100001, "县第一中学团委", OrgKind.SCHOOL, None)
    await orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    admin = harness.admin()
    alice = harness.user(200001, "Alice", username="alice")

    await admin.send("/editorg")
    await admin.tap("县第一中学团委")
    await admin.tap("🗄 归档")
    warning = admin.last_reply().text
    assert "确定归档「县第一中学团委」" in warning and "历史都会保留" in warning
    await admin.tap("🗄 确认归档")
    assert "状态：已归档" in admin.last_reply().text
    assert not (await orgs.get(school.id)).active

    await alice.send("/join")
    assert "县第一中学团委" not in alice.last_reply().button_labels()
    assert "城关镇团委" in alice.last_reply().button_labels()
    await alice.send("/cancel")

    await admin.send("/orgs")
    listing = admin.last_reply().text
    assert "另有 1 个已归档" in listing and "县第一中学团委" not in listing

    await admin.send("/editorg")
    await admin.tap("县第一中学团委 （已归档）")
    await admin.tap("♻️ 恢复")
    assert "状态：正常" in admin.last_reply().text
    assert (await orgs.get(school.id)).active
    await alice.send("/join")
    assert "县第一中学团委" in alice.last_reply().button_labels()


async def test_editorg_without_organisations(harness):
    admin = harness.admin()
    await admin.send("/editorg")
    assert "还没有任何组织" in admin.last_reply().text
    assert await step_of(harness, 100001) is None


# ---- /orgs -----------------------------------------------------------------------------------
async def test_orgs_lists_by_kind_with_quota_parent_and_group(harness):
    orgs = harness.services.orgs
    township = await orgs.create(100001, "城关镇团委", OrgKind.TOWNSHIP, None)
    await orgs.create(100001, "城关镇第一村团支部", OrgKind.VILLAGE_BRANCH, township.id, 0)
    await orgs.create(100001, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    admin = harness.admin()
    await harness.group_with_bot(-1001, "城关镇团委工作群", admins=(100001,))
    await harness.services.groups.bind_org(100001, -1001, township.id, is_chat_admin=True)

    await admin.send("/orgs")

    text = admin.last_reply().text
    assert "全部组织：3 个" in text
    for heading in ("县直机关直属团组织（1 个）", "乡镇团委（1 个）", "村团支部（1 个）"):
        assert heading in text
    assert "城关镇第一村团支部 · 指标 0 · 上级：城关镇团委" in text
    assert "城关镇团委 · 指标 1 · 群：城关镇团委工作群" in text
    assert text.index("县教育局团委") < text.index("城关镇团委 ·")


async def test_orgs_with_250_organisations_stays_under_telegrams_limit(harness):
    orgs = harness.services.orgs
    names = [f"第{index:03d}号村团支部（城关镇某某社区居民委员会）" for index in range(250)]
    for name in names:
        await orgs.create(100001, name, OrgKind.VILLAGE_BRANCH, None)
    admin = harness.admin()

    await admin.send("/orgs")

    texts = [message.text for message in admin.replies()]
    assert len(texts) > 1
    assert all(len(text) < 4096 for text in texts)
    assert "全部组织：250 个" in texts[0] and "续" in texts[1]
    joined = "\n".join(texts)
    assert all(name in joined for name in names)


async def test_orgs_when_there_are_none(harness):
    admin = harness.admin()
    await admin.send("/orgs")
    assert "还没有任何组织" in admin.last_reply().text and "/neworg" in admin.last_reply().text


# ---- /orgtemplate and /importorgs -------------------------------------------------------------
async def test_orgtemplate_sends_a_template_that_parses_and_imports(harness):
    admin = harness.admin()

    await admin.send("/orgtemplate")

    sent = admin.last_reply()
    assert sent.kind == "document" and sent.document["file_name"] == "组织导入模板.xlsx"
    assert "名称" in sent.text and "类型" in sent.text and "/importorgs" in sent.text
    result = parse_org_file("组织导入模板.xlsx", sent.document["content"], existing_names=set())
    assert result.ok, result.problems

    await admin.send("/importorgs")
    await admin.send_document("组织导入模板.xlsx", sent.document["content"])
    await admin.tap(f"✅ 导入 {len(result.rows)} 个组织")
    assert {org.name for org in await harness.services.orgs.list()} == {row.name for row in result.rows}


async def test_import_a_valid_csv_imports_every_row(harness):
    admin = harness.admin()
    await admin.send("/importorgs")
    assert "/orgtemplate" in admin.last_reply().text

    await admin.send_document("组织.csv", csv_file(*GOOD_ROWS), mime_type="text/csv")
    confirm = admin.last_reply().text
    assert "检查通过，共 3 个组织" in confirm and "村团支部：1 个" in confirm
    assert await harness.services.orgs.list() == []
    await admin.tap("✅ 导入 3 个组织")

    assert "已导入 3 个组织" in admin.last_reply().text
    imported = {org.name: org for org in await harness.services.orgs.list()}
    assert set(imported) == {row[0] for row in GOOD_ROWS}
    village = imported["城关镇第一村团支部"]
    assert village.parent_id == imported["城关镇团委"].id and village.deeds_quota == 0
    assert imported["城关镇团委"].deeds_quota == 1 and imported["县教育局团委"].deeds_quota == 3
    assert await step_of(harness, 100001) is None


async def test_import_with_one_bad_row_imports_nothing_then_a_corrected_file_imports(harness):
    admin = harness.admin()
    await admin.send("/importorgs")
    bad = list(GOOD_ROWS)
    bad[1] = ("城关镇第一村团支部", "火星基地", "城关镇团委", "")  # spreadsheet row 3

    await admin.send_document("组织.csv", csv_file(*bad))

    report = admin.last_reply().text
    assert "没有导入任何组织" in report
    assert "第 3 行 · 列「类型」：「火星基地」不是组织类型" in report
    assert "第 2 行" not in report and "第 4 行" not in report
    assert await harness.services.orgs.list() == []
    assert await step_of(harness, 100001) == "im:file"

    await admin.send_document("组织.csv", csv_file(*GOOD_ROWS))
    await admin.tap("✅ 导入 3 个组织")
    assert "已导入 3 个组织" in admin.last_reply().text
    assert len(await harness.services.orgs.list()) == 3


async def test_import_lists_every_problem_but_stays_under_the_limit(harness):
    admin = harness.admin()
    await admin.send("/importorgs")
    rows = [(f"组织{index}", "火星基地", "", "abc") for index in range(300)]

    await admin.send_document("组织.csv", csv_file(*rows))

    report = admin.last_reply().text
    assert len(report) < 4096
    assert "600 处问题" in report
    assert "第 2 行 · 列「类型」" in report and "第 2 行 · 列「年度实事指标」" in report
    assert "处问题没有列出" in report


async def test_import_file_step_wants_a_file(harness):
    admin = harness.admin()
    await admin.send("/importorgs")

    await admin.send("县教育局团委,县直")
    assert "这一步需要文件" in admin.last_reply().text
    await admin.send_document("组织.pdf", b"%PDF-1.4")
    assert "不是 XLSX 或 CSV 文件" in admin.last_reply().text
    assert await step_of(harness, 100001) == "im:file"


async def test_import_rechecks_on_confirm(harness):
    admin = harness.admin()
    await admin.send("/importorgs")
    await admin.send_document("组织.csv", csv_file(*GOOD_ROWS))
    await harness.services.orgs.create(100001, "县教育局团委", OrgKind.COUNTY_LEVEL, None)

    await admin.tap("✅ 导入 3 个组织")

    report = admin.last_reply().text
    assert "第 2 行 · 列「名称」：已经有名为「县教育局团委」的组织了" in report
    assert len(await harness.services.orgs.list()) == 1
    assert await step_of(harness, 100001) == "im:file"
