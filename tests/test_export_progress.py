"""A long export's "正在生成…" message: edited with the rows and sheets done as the workbook is
written, at most once every few seconds (a group takes about 20 bot messages a minute) and never
to the text it already shows (Telegram refuses an identical edit); then the file arrives."""

from __future__ import annotations

import io

import openpyxl

from bot.domain import xlsx
from handlers.progress import INTERVAL
from storage import report_rows
from storage.bulk_seed import seed_county_year
from storage.bulk_seed_sunshine import seed_sunshine_year
from tests.harness import COUNTY_ADMIN_ID

SECONDS_A_BATCH = 1  # the clock moves this much while each batch is written


async def test_a_long_export_edits_its_message_throttled_and_distinct(harness, monkeypatch):
    counts = await seed_county_year(harness.services.db, 2026, harness.config.zone, scale=0.01)
    monkeypatch.setattr(report_rows, "BATCH", 5)
    batches = []
    write_batch = xlsx._write_batch

    def slow_batch(sheet, batch, cells):
        write_batch(sheet, batch, cells)
        batches.append(len(batch))
        harness.clock.advance(seconds=SECONDS_A_BATCH)

    monkeypatch.setattr(xlsx, "_write_batch", slow_batch)
    admin = harness.admin()
    await admin.send("/export 2026")

    [status] = [m for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if m.kind == "text"]
    edits = [call["text"] for call in harness.fake.calls_to("editMessageText") if call["chat_id"] == COUNTY_ADMIN_ID]
    assert len(batches) > 3 * 10  # a long export: many batches of a few rows
    elapsed = len(batches) * SECONDS_A_BATCH
    assert 3 <= len(edits) <= elapsed // INTERVAL + 1  # throttled: at most one edit every INTERVAL
    assert all(earlier != later for earlier, later in zip(edits, edits[1:], strict=False))
    assert len(set(edits)) == len(edits)  # never an edit to a text already shown
    assert edits[0].startswith("正在生成「全县」的表格：已写入") and "张工作表" in edits[0]
    written = [int(text.split("已写入 ")[1].split(" 行")[0]) for text in edits if "已写入" in text]
    assert written == sorted(written) and written[-1] <= counts["attendance"] + counts["activities"] + 200
    assert status.text == edits[-1]  # the message shows the last state it was edited to

    [document] = [m for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if m.kind == "document"]
    book = openpyxl.load_workbook(io.BytesIO(document.document["content"]))
    assert len(list(book["签到记录"].iter_rows())) == 1 + counts["attendance"]
    assert f"签到记录 {counts['attendance']} 条" in document.text


async def test_a_quick_export_sends_no_progress_message(harness):
    await seed_county_year(harness.services.db, 2026, harness.config.zone, scale=0.01)
    admin = harness.admin()
    await admin.send("/stats 2026")
    await admin.tap("📄 导出表格")  # the button: no "正在生成…" reply of its own
    assert harness.fake.calls_to("editMessageText") == []
    texts = [m.text for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if m.kind == "text"]
    assert not any("正在生成" in text for text in texts)


async def test_the_contact_list_is_streamed_one_row_per_contact(harness):
    zone = harness.config.zone
    await seed_county_year(harness.services.db, 2026, zone, scale=0.01)
    counts = await seed_sunshine_year(harness.services.db, 2026, zone, scale=0.01)
    admin = harness.admin()
    await admin.send("/sunshinecontacts 2026")
    [document] = [m for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if m.kind == "document"]
    sheet = openpyxl.load_workbook(io.BytesIO(document.document["content"])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + counts["contacts"]
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])  # by day
    assert str(counts["contacts"]) in document.text
