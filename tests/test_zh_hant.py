"""Traditional Chinese: chosen by /lang or by Telegram's language code; the shipped catalog is the
generator's output; the words it tells a reader to type are read back."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.people import language_from_telegram
from handlers.i18n import catalog
from tests.test_activities import GROUP, arranged, sign_up, township, volunteer

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("zh-hant", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-hk", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh", "zh-Hans"),
        ("zh-hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("en-GB", "en"),
        ("fr", None),
        (None, None),
    ],
)
def test_telegram_language_codes(code, language):
    assert language_from_telegram(code) == language


async def test_a_taiwan_phone_is_answered_in_traditional_chinese(harness):
    lin = harness.user(400011, "小林", language_code="zh-TW")
    await lin.send("/start")
    assert "我是團縣委的工作助手" in lin.transcript()[-2]


async def test_lang_offers_three_languages_and_traditional_sticks(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/lang")
    assert [label for label, _ in wang.last_reply().buttons()] == ["简体中文", "繁體中文", "English"]
    await wang.tap("繁體中文")
    assert wang.last_reply().text == "好的，之後我會用繁體中文和您交流。"
    await wang.send("/cancel")
    assert wang.last_reply().text.startswith("當前沒有進行中的操作")
    await wang.send("/lang")
    assert [label for label, _ in wang.last_reply().buttons()] == ["简体中文", "繁體中文", "English"]


async def test_checkin_as_the_traditional_catalog_writes_it(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20))
    wang = volunteer(harness, 400001, "小王")
    await sign_up(wang, harness, activity)
    assert "「簽到」" in catalog("zh-Hant")["help.example.checkin"]
    first = await wang.send("簽到", GROUP)
    assert first.reactions == ["👍"]
    out = await wang.send("簽退", GROUP)
    assert out.reactions == ["👍"]
    lines = await harness.services.attendance.sheet(activity.id)
    assert [(line.checked_in_at, line.checked_out_at) for line in lines] == [(harness.clock.now(), harness.clock.now())]


def test_the_shipped_catalog_is_what_the_generator_makes():
    """Needs the development extra (OpenCC): a hand edit of zh-Hant, or a zh-Hans change not yet
    converted, fails here."""
    pytest.importorskip("opencc")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_zh_hant.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_what_the_traditional_catalog_tells_people_to_type_is_understood():
    """A zh-Hant reader types what their catalog shows: Traditional categories, units and words."""
    from bot.domain.wishes import parse_category

    for label in ("學習用品", "圖書", "體育用品", "玩具", "衣物", "體驗", "其他"):
        assert parse_category(label) is not None, label
    from datetime import date, timedelta

    from bot.domain.stats import Period, parse_period
    from handlers.activities.steps import parse_duration

    assert parse_duration("3小時") == timedelta(hours=3)
    assert parse_duration("1小時30分鐘") == timedelta(hours=1, minutes=30)
    assert parse_period("這個月", date(2026, 12, 5)) == Period.of_month(2026, 12)
    assert parse_period("上個月", date(2026, 12, 5)) == Period.of_month(2026, 11)
