"""QR check-in (#19) through the fake Telegram: the organiser's code, a scan in private chat,
repeats, a stale code, the window, the radius, hourly codes, check-out."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from pypdf import PdfReader

from bot.domain.feature_config import RecordsConfig
from bot.model.activity import Place
from tests.harness import FakeClock, Harness
from tests.harness import test_config as config_for
from tests.test_activities import arranged, township

SITE = (25.0400, 117.4800)
NEAR = (25.0408, 117.4800)  # ~89 m
FAR = (25.0500, 117.4800)  # ~1112 m
LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=(q_[A-Za-z0-9_]+)")


def scan_payload(li) -> str:
    photo = [m for m in li.replies() if m.kind == "photo"][-1]
    return LINK.search(photo.text).group(1)


async def lines(harness, activity) -> dict[int, object]:
    return {line.user_id: line for line in await harness.services.attendance.sheet(activity.id)}


async def test_qr_check_in_story_with_a_repeat_a_stale_code_and_check_out(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=2, title="村小广场义诊")
    await li.send(f"/qr {activity.code}")
    photo = [m for m in li.replies() if m.kind == "photo"][-1]
    assert photo.photo.startswith(b"\x89PNG") and "一直有效" in photo.text
    poster = [m for m in li.replies() if m.kind == "document"][-1]
    text = "".join(PdfReader(io.BytesIO(poster.document["content"])).pages[0].extract_text().split())
    assert "村小广场义诊" in text and activity.code in text
    payload = scan_payload(li)

    # A volunteer who is in no group of the organisation scans it.
    zhang = harness.user(400101, "张医生")
    await zhang.send(f"/start {payload}")
    assert "已签到" in zhang.last_reply().text and "村小广场义诊" in zhang.last_reply().text
    again = harness.user(400101, "张医生")
    await again.send(f"/start {payload}")
    assert "不会重复记录" in again.last_reply().text
    sheet = await lines(harness, activity)
    assert list(sheet) == [400101] and sheet[400101].walk_in
    record = await harness.services.attendance.repo.attendance(activity.id, 400101)
    assert record.method == "qr"

    # The organiser makes a new code: a photo of the old one checks no one in.
    await li.send(f"/qr {activity.code} 换码")
    fresh = scan_payload(li)
    assert fresh != payload
    li_u = harness.user(400102, "李护士")
    await li_u.send(f"/start {payload}")
    assert "已经过期" in li_u.last_reply().text
    assert 400102 not in await lines(harness, activity)
    await li_u.send(f"/start {fresh}")
    assert "已签到" in li_u.last_reply().text

    # Forged codes.
    for forged in ("q_1_1_0_AAAAAAAAAA", "q_x", f"{fresh[:-1]}{'A' if fresh[-1] != 'A' else 'B'}"):
        await li_u.send(f"/start {forged}")
        assert "无法识别" in li_u.last_reply().text

    # Check-out at the end, once.
    harness.clock.advance(hours=2, minutes=25)
    await zhang.tap("签退")
    assert "已签退" in zhang.last_reply().text
    await zhang.tap_data(zhang.replies()[-2].buttons()[0][1], message_id=zhang.replies()[-2].message_id)
    assert "不会重复记录" in zhang.last_reply().text
    assert (await lines(harness, activity))[400101].credited_minutes == 120

    # After the window: closed, and no record.
    harness.clock.advance(minutes=30)
    late = harness.user(400103, "迟到的志愿者")
    await late.send(f"/start {fresh}")
    assert "签到已经结束" in late.last_reply().text
    assert 400103 not in await lines(harness, activity)


async def test_qr_too_early_cancelled_and_not_an_organiser(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(hours=5))
    stranger = harness.user(400201, "路人")
    await stranger.send(f"/qr {activity.code}")
    assert "发起人" in stranger.last_reply().text or "组织者" in stranger.last_reply().text
    await li.send("/qr")
    assert "/qr A" in li.last_reply().text
    await li.send(f"/qr {activity.code}")
    payload = scan_payload(li)
    await stranger.send(f"/start {payload}")
    assert "签到" in stranger.last_reply().text and "开始" in stranger.last_reply().text
    await harness.services.activities.cancel(300001, activity.id)
    await stranger.send(f"/start {payload}")
    assert "已取消" in stranger.last_reply().text
    assert await lines(harness, activity) == {}


async def test_qr_with_a_radius_asks_for_the_location(harness):
    org, li = await township(harness)
    place = Place("第一村村委会", SITE[0], SITE[1], 200)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=10), place=place)
    await li.send(f"/qr {activity.code}")
    payload = scan_payload(li)
    wang = harness.user(400301, "小王")
    await wang.send(f"/start {payload}")
    asked = wang.last_reply()
    assert "发送位置" in asked.text and asked.keyboard is not None
    await wang.send("我到了")
    assert 400301 not in await lines(harness, activity)
    await wang.send_location(*FAR)
    assert "超出了签到范围" in wang.last_reply().text
    await wang.send_location(*NEAR)
    assert "已签到" in wang.last_reply().text
    assert 400301 in await lines(harness, activity)


@pytest.fixture
async def hourly(tmp_path, fake):
    config = replace(config_for(tmp_path), records=RecordsConfig(qr_rotate_minutes=60))
    harness = Harness(config, fake, FakeClock())
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == []


async def test_hourly_codes_go_stale_when_their_hour_is_over(hourly):
    harness = hourly
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=10), hours=3)
    await li.send(f"/qr {activity.code}")
    assert "前有效" in [m for m in li.replies() if m.kind == "photo"][-1].text
    payload = scan_payload(li)
    harness.clock.advance(hours=1)
    wang = harness.user(400401, "小王")
    await wang.send(f"/start {payload}")
    assert "已经过期" in wang.last_reply().text
    await li.send(f"/qr {activity.code}")
    await wang.send(f"/start {scan_payload(li)}")
    assert "已签到" in wang.last_reply().text
