"""Service records (#19): /me across years and kinds, certificates as PDF, /verify, corrections
that supersede a certificate, the national platforms' export."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from pypdf import PdfReader

from bot.domain.errors import DomainError
from bot.domain.feature_config import RecordsConfig
from bot.domain.stats import Period
from bot.model.records import ServiceKind, VerifyOutcome
from handlers.records import CertificateTap, certificates_sent
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as config_for
from tests.test_activities import GROUP, LI, arranged, township, volunteer

WANG = 400001
SERIAL = re.compile(r"[0-9]{4}-[0-9]{6}-[0-9]{12}")


@pytest.fixture
async def records_harness(tmp_path, fake):
    """The bot from mid-2025 on, so that a volunteer's service spans two years."""
    config = replace(
        config_for(tmp_path), records=RecordsConfig(committee_name="共青团测试县委员会", verify_per_hour=8)
    )
    harness = Harness(config, fake, FakeClock(datetime(2025, 6, 7, 1, 0, tzinfo=UTC)))
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == [], f"handler errors: {harness.errors!r}"


async def attend(harness, client, org, *, title: str, hours: float):
    """An activity in 20 minutes; the volunteer checks in in the group and out after its end."""
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=hours, title=title)
    await client.send("签到", GROUP)
    harness.clock.advance(minutes=20, hours=hours, seconds=60)
    await client.send("签退", GROUP)
    return activity


async def ask_certificate(harness, client, label: str) -> None:
    await client.tap(label)
    await certificates_sent(harness.app)


def documents(client) -> list:
    return [m for m in client.replies() if m.kind == "document"]


def pdf_text(message) -> str:
    reader = PdfReader(io.BytesIO(message.document["content"]))
    return "\n".join(page.extract_text() for page in reader.pages)


def compact(text: str) -> str:
    return "".join(text.split())


async def two_years(harness):
    org, li = await township(harness)
    wang = volunteer(harness, WANG, "小王")
    first = await attend(harness, wang, org, title="暑期学业辅导", hours=3)
    harness.clock.moment = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
    second = await attend(harness, wang, org, title="敬老院探访", hours=2)
    harness.clock.moment = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    return org, li, wang, first, second


async def test_certificate_story_two_years_pdf_verify_correction_superseded(records_harness):
    harness = records_harness
    _org, _li, wang, first, second = await two_years(harness)

    await wang.send("/me")
    me = wang.last_reply().text
    assert f"敬老院探访（{second.code}）— 2 小时" in me
    assert "2026 年：活动 1 人次 2 小时" in me and "2025 年：活动 1 人次 3 小时" in me
    assert "合计：2 人次，5 小时" in me

    await ask_certificate(harness, wang, "全部年份服务证明")
    [document] = documents(wang)
    serial = SERIAL.search(document.text).group(0)
    text = compact(pdf_text(document))
    assert "志愿服务证明" in text and "共青团测试县委员会" in text
    assert "小王" in text and "2025-01-01至2026-11-26" in text
    assert "累计服务2人次，服务时长5小时" in text
    assert "暑期学业辅导" in text and first.code in text and "敬老院探访" in text
    assert f"证明编号：{serial}" in text and "开具日期：2026-11-26" in text
    # No real name given: the display name, and how to add one.
    assert "/profile" in text and "/profile" in document.text

    checker = harness.user(500001, "某大学老师")
    await checker.send(f"/verify {serial}")
    answer = checker.last_reply().text
    assert "真实有效" in answer and "小王" in answer and "2 人次，5 小时" in answer

    # The organiser corrects the 2025 check-out afterwards: the certificate stays what it was.
    await harness.services.attendance.add_or_correct(
        LI, first.id, WANG, first.starts_at, first.starts_at + timedelta(hours=1), "签退时间记错"
    )
    await checker.send(f"/verify {serial.lower()}")
    answer = checker.last_reply().text
    assert "已被取代" in answer and "2 人次，5 小时" in answer and "/me" in answer
    await wang.send("/me")
    assert "组织者更正：签退时间记错" in wang.last_reply().text
    assert "合计：2 人次，3 小时" in wang.last_reply().text

    await ask_certificate(harness, wang, "全部年份服务证明")
    newer = SERIAL.search(documents(wang)[-1].text).group(0)
    assert newer != serial and "服务时长3小时" in compact(pdf_text(documents(wang)[-1]))
    await checker.send(f"/verify {serial}")
    assert f"之后为同一期间开具的证明：{newer}" in checker.last_reply().text
    await checker.send(f"/verify {newer}")
    assert "真实有效" in checker.last_reply().text

    # The QR code's deep link verifies too.
    await checker.send(f"/start v_{newer}")
    assert "真实有效" in checker.last_reply().text


async def test_forged_and_mistyped_serials_are_not_found_and_checks_are_limited(records_harness):
    harness = records_harness
    *_, wang, _first, _second = await two_years(harness)
    await wang.send("/me")
    await ask_certificate(harness, wang, "2026 年服务证明")
    serial = SERIAL.search(documents(wang)[-1].text).group(0)
    body, tag = serial.rsplit("-", 1)
    forged = f"{body}-{(int(tag[0]) + 1) % 10}{tag[1:]}"
    someone = harness.user(500002, "路人")
    for text in (forged, "hello", "2026-999999-123456789012", "２０２６"):
        await someone.send(f"/verify {text}")
        assert "没有找到" in someone.last_reply().text
    await someone.send("/verify")
    assert "/verify" in someone.last_reply().text and "编号" in someone.last_reply().text
    # verify_per_hour = 8 in this harness: four used above, four left.
    for _ in range(4):
        await someone.send(f"/verify {serial}")
        assert "真实有效" in someone.last_reply().text
    await someone.send(f"/verify {serial}")
    assert "次数太多" in someone.last_reply().text
    harness.clock.advance(hours=1, seconds=1)
    await someone.send(f"/verify {serial}")
    assert "真实有效" in someone.last_reply().text
    # In a group, too.
    await wang.send(f"/verify {serial}", GROUP)
    assert "真实有效" in harness.fake.last_bot_message(GROUP).text


async def test_real_name_from_profile_and_revocation(records_harness):
    harness = records_harness
    *_, wang, _first, _second = await two_years(harness)
    await harness.services.people.set_private_details(WANG, "王小明", None)
    await wang.send("/me")
    await ask_certificate(harness, wang, "2025 年服务证明")
    text = compact(pdf_text(documents(wang)[-1]))
    assert "王小明" in text and "2025-01-01至2025-12-31" in text and "/profile" not in text
    serial = SERIAL.search(documents(wang)[-1].text).group(0)
    admin = harness.admin()
    await admin.send(f"/revokecert {serial}")
    assert "原因" in admin.last_reply().text
    await wang.send(f"/revokecert {serial} 姓名有误")
    assert "县级管理员" in wang.last_reply().text
    await wang.send(f"/verify {serial}", GROUP)  # the real name, from /profile, is masked in a group
    assert (
        "王**" in harness.fake.last_bot_message(GROUP).text
        and "王小明" not in harness.fake.last_bot_message(GROUP).text
    )
    await admin.send(f"/revokecert {serial} 姓名有误")
    assert "已撤销" in admin.last_reply().text
    await wang.send(f"/verify {serial}")
    assert "已于 2026-11-26 被撤销" in wang.last_reply().text and "姓名有误" in wang.last_reply().text


async def test_no_service_answers_clearly(records_harness):
    harness = records_harness
    await township(harness)
    wang = volunteer(harness, WANG, "小王")
    await wang.send("/me")
    assert "还没有志愿服务记录" in wang.last_reply().text
    await wang.tap_data(CertificateTap(year=2025).pack(), forge=True)
    await certificates_sent(harness.app)
    assert "没有志愿服务记录，无法开具证明" in wang.last_reply().text
    with pytest.raises(DomainError):
        await harness.services.records.service.issue(WANG, Period.of_year(2025))
    assert documents(wang) == []


async def test_the_record_and_a_verification_in_the_domain(records_harness):
    harness = records_harness
    *_, first, second = await two_years(harness)
    service = harness.services.records.service
    record = await service.record_of(WANG)
    assert [line.reference for line in record.lines] == [first.code, second.code]
    assert [(total.kind, total.minutes, total.person_times) for total in record.totals] == [
        (ServiceKind.ACTIVITY, 300, 2)
    ]
    certificate = await service.issue(WANG, Period.of_year(2026))
    assert certificate.minutes == 120 and certificate.period_end.isoformat() == "2026-11-26"
    assert (await service.verify(1, certificate.serial)).outcome is VerifyOutcome.GENUINE
    assert (await service.verify(1, certificate.serial + "X")).outcome is VerifyOutcome.NOT_FOUND


async def test_the_platform_export_one_row_per_person_per_activity(records_harness):
    harness = records_harness
    org, _li, wang, first, second = await two_years(harness)
    zhao = volunteer(harness, 400002, "小赵")
    harness.clock.moment = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    third = await attend(harness, zhao, org, title="清洁家园", hours=1)
    admin = harness.admin()
    await admin.send("/records")
    assert "/records" in admin.last_reply().text
    await wang.send("/records 2026")
    assert "县级管理员" in wang.last_reply().text
    await admin.send("/records 明年后年")
    assert "2026" in admin.last_reply().text  # the period's example
    await admin.send("/records 2026")
    [document] = documents(admin)
    sheet = openpyxl.load_workbook(io.BytesIO(document.document["content"])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "证件类型", "证件号码", "服务项目", "组织", "日期", "时长（小时）")
    assert [(row[0], row[3], row[6]) for row in rows[1:]] == [("小王", "敬老院探访", 2), ("小赵", "清洁家园", 1)]
    assert all(row[1] is None and row[2] is None for row in rows[1:])  # no identity supplied
    assert "2 人，2 行" in document.text
    assert first.code not in str(rows) and second and third
    trail = await harness.services.db.fetch_all("SELECT actor_id FROM audit_log WHERE action = 'records.export'")
    assert [row["actor_id"] for row in trail] == [COUNTY_ADMIN_ID]


async def test_identity_given_with_consent_is_exported_masked_to_its_owner_and_deleted_for_real(records_harness):
    harness = records_harness
    *_, wang, _first, _second = await two_years(harness)
    await wang.send("/myid")
    assert "未填写" in wang.last_reply().text
    await wang.tap("我同意")
    await wang.tap("居民身份证")
    await wang.send("11010519491231002")
    assert "18 位" in wang.last_reply().text  # bad input: told, and still at this step
    await wang.send("11010519491231002x")
    assert "已保存：居民身份证 110***********002X" in wang.last_reply().text
    state = await harness.services.conversations.get(WANG)
    assert state is None  # nothing left behind in a conversation
    admin = harness.admin()
    await admin.send("/records 2026")
    sheet = openpyxl.load_workbook(io.BytesIO(documents(admin)[-1].document["content"])).active
    assert list(sheet.iter_rows(values_only=True))[1][:3] == ("小王", "居民身份证", "11010519491231002X")
    await wang.send("/myid")
    assert "110***********002X" in wang.last_reply().text
    await wang.tap("删除我的证件信息")
    assert "已删除" in wang.last_reply().text
    assert await harness.services.db.fetch_value("SELECT COUNT(*) FROM volunteer_identity") == 0
    trail = await harness.services.db.fetch_all("SELECT action, details FROM audit_log WHERE action LIKE 'identity.%'")
    assert [row["action"] for row in trail] == ["identity.give", "identity.withdraw"]
    assert all("1101" not in row["details"] for row in trail)


async def test_wish_deliveries_are_a_kind_of_service(records_harness):
    harness = records_harness
    org, _li, wang, _first, _second = await two_years(harness)
    # A wish this volunteer delivered (and one cancelled after delivery, which does not count).
    given, delivered, confirmed = "2026-05-01T01:00:00Z", "2026-05-01T02:00:00Z", "2026-05-02T02:00:00Z"
    for wish_id, status in ((7, "confirmed"), (8, "cancelled")):
        await harness.services.db.execute(
            "INSERT INTO wishes (id, collector_org_id, alias, grade, text, category, value_yuan, status, consent,"
            " consent_recorded_at, consent_recorded_by, claimed_by_user, claimed_by_org, claimed_at,"
            " delivered_at, delivered_by, delivery_proof_file_id, confirmed_at, created_by, created_at, updated_at)"
            " VALUES (?, ?, '小明', '三年级', '一个书包', 'books', 50, ?, 0, ?, 1, ?, ?, ?, ?, ?, 'proof', ?, 1, ?, ?)",
            (wish_id, org.id, status, given, WANG, org.id, given, delivered, WANG, confirmed, given, confirmed),
        )
    record = await harness.services.records.service.record_of(WANG)
    assert [(t.kind, t.minutes, t.person_times) for t in record.totals] == [
        (ServiceKind.ACTIVITY, 300, 2),
        (ServiceKind.WISH, 0, 1),
    ]
    await wang.send("/me")
    assert "微心愿送达：一个书包（W0007）" in wang.last_reply().text
    assert "2026 年：活动 1 人次 2 小时；微心愿送达 1 人次" in wang.last_reply().text
