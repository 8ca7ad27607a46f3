"""Reading an upload is bounded in size, cells (blank ones included) and time, and an upload is
read once even though its rows are checked twice (on upload and on confirm). Shared by the
organisation and wish imports (bot/domain/tabular_import.py)."""

from __future__ import annotations

import csv
import io
import itertools
import time
import zipfile

import openpyxl
import pytest

from bot.domain import tabular_import as tabular
from bot.domain.org_import import HEADERS, parse_org_file
from bot.domain.wish_import import HEADERS as WISH_HEADERS
from bot.domain.wish_import import parse_wish_file
from handlers.i18n import translate

ORG_HEADER = list(HEADERS)
KEYS = tabular.ProblemKeys("import.")


def sheet_xlsx(header: list[str], blank_rows: int, width: int, *, dimension: bool = False) -> bytes:
    """A hand-made XLSX: the header, then `blank_rows` rows of `width` styled empty cells (what a
    sheet formatted far below its data holds). No <dimension> unless asked, like some writers."""
    cells = '<c s="1"/>' * width
    head = '<row r="1">' + "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in header) + "</row>"
    body = "".join(f'<row r="{n}">{cells}</row>' for n in range(2, blank_rows + 2))
    size = f'<dimension ref="A1:T{blank_rows + 1}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{size}<sheetData>{head}{body}</sheetData></worksheet>"
    )
    main = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{main}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{main}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}/spreadsheetml/2006/main"'
        f' xmlns:r="{main}/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{main}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/worksheet"'
        ' Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{main}/officeDocument/2006/relationships/styles"'
        ' Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<styleSheet xmlns="{main}/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0"'
        ' builtinId="0"/></cellStyles></styleSheet>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def over_limit(result) -> dict:
    assert not result.ok and len(result.problems) == 1, result.problems
    [problem] = result.problems
    assert (problem.row, problem.column, problem.key) == (1, None, tabular.OVER_LIMIT_KEY)
    return problem.params


def test_two_hundred_thousand_blank_rows_are_refused_at_once():
    """The adversary's file: 200,000 blank rows × 20 cells under a header, about a megabyte."""
    content = sheet_xlsx(ORG_HEADER, 200_000, 20)
    assert len(content) < 5 * 1024 * 1024  # within the byte limit: the other limits must catch it
    started = time.process_time()
    result = parse_org_file("orgs.xlsx", content, existing_names=set())
    assert time.process_time() - started < 1.0  # was 27 s of CPU
    params = over_limit(result)
    assert params == {"limit_mb": 5, "max_cells": tabular.MAX_CELLS, "max_rows": 2000, "max_seconds": 10}


@pytest.mark.parametrize("dimension", [False, True])
def test_blank_rows_count_towards_the_cells_read(dimension):
    """Small enough to unzip, too many cells to read: refused after MAX_CELLS cells."""
    content = sheet_xlsx(ORG_HEADER, 6_000, 20, dimension=dimension)
    started = time.process_time()
    params = over_limit(parse_org_file("orgs.xlsx", content, existing_names=set()))
    assert time.process_time() - started < 1.5
    assert params["max_cells"] == 100_000


def test_a_csv_of_blank_rows_is_refused_by_its_cells_too():
    text = "\r\n".join(itertools.chain([",".join(ORG_HEADER)], itertools.repeat("," * 19, 200_000)))
    content = text.encode("utf-8")
    assert len(content) < 5 * 1024 * 1024
    started = time.process_time()
    over_limit(parse_org_file("orgs.csv", content, existing_names=set()))
    assert time.process_time() - started < 1.0


def test_reading_stops_at_the_time_limit():
    ticks = itertools.count(step=0.01)  # each look at the clock is 10 ms later
    content = ("\r\n".join([",".join(ORG_HEADER)] + ["县团委,其他,,1"] * 1_500)).encode("utf-8")
    with pytest.raises(tabular.FileRefused) as refused:
        tabular.read_table(
            "orgs.csv",
            content,
            keys=KEYS,
            max_rows=2000,
            max_bytes=5 << 20,
            max_seconds=0.02,
            monotonic=lambda: next(ticks),
        )
    [problem] = refused.value.problems
    assert problem.key == tabular.OVER_LIMIT_KEY and problem.params["max_seconds"] == 0


def test_a_full_legitimate_import_is_within_every_limit():
    rows = [ORG_HEADER] + [[f"第{n}村团支部", "村团支部", "", 1] for n in range(2000)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    result = parse_org_file("orgs.csv", buffer.getvalue().encode("utf-8"), existing_names=set())
    assert result.ok and len(result.rows) == 2000
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row + [None] * 36)  # formatted well to the right: 40 columns
    for cell in workbook.active["AN"]:
        cell.number_format = "@"
    content = io.BytesIO()
    workbook.save(content)
    started = time.process_time()
    result = parse_org_file("orgs.xlsx", content.getvalue(), existing_names=set())
    assert result.ok and len(result.rows) == 2000
    assert time.process_time() - started < 2.0


def test_an_upload_is_read_once_however_often_its_rows_are_checked(monkeypatch):
    reads: list[str] = []
    real = tabular.read_table

    def counting(file_name, content, **options):
        reads.append(file_name)
        return real(file_name, content, **options)

    monkeypatch.setattr(tabular, "read_table", counting)
    content = ("\r\n".join([",".join(ORG_HEADER), "城关镇团委,乡镇团委,,2"])).encode("utf-8")
    first = parse_org_file("orgs.csv", content, existing_names=set())
    second = parse_org_file("orgs.csv", content, existing_names={"城关镇团委"})  # the confirm's re-check
    assert first.ok and not second.ok  # the rows are checked against the data each time…
    assert reads == ["orgs.csv"]  # …but the file was read once
    tabular.forget_upload(content)  # the import is over
    parse_org_file("orgs.csv", content, existing_names=set())
    assert reads == ["orgs.csv", "orgs.csv"]
    tabular.forget_upload(content)


def test_the_wish_import_shares_the_limits():
    content = sheet_xlsx(list(WISH_HEADERS), 200_000, 20)
    result = parse_wish_file("wishes.xlsx", content, collector_names={}, existing_keys=set())
    assert over_limit(result)["max_rows"] == 2000


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_the_over_limit_message_names_every_limit(language):
    text = translate(language, tabular.OVER_LIMIT_KEY, limit_mb=5, max_cells=100000, max_rows=2000, max_seconds=10)
    for figure in ("5", "100000", "2000", "10"):
        assert figure in text


# ---- through the bot ----------------------------------------------------------------------------
async def test_an_over_limit_upload_is_told_the_limits_and_may_send_another(harness):
    admin = harness.admin()
    await admin.send("/importorgs")
    await admin.send_document("组织.xlsx", sheet_xlsx(ORG_HEADER, 200_000, 20))
    report = admin.last_reply().text
    assert "文件最大 5 MB，最多读取 100000 个单元格（空行、空单元格也计算在内），有内容的数据最多 2000 行" in report
    assert (await harness.services.conversations.get(100001)).step == "file"


async def test_the_bot_reads_an_upload_once_from_upload_to_import(harness, monkeypatch):
    loads: list[object] = []
    real = openpyxl.load_workbook

    def counting(*args, **options):
        loads.append(args)
        return real(*args, **options)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)  # read where the upload is parsed
    workbook = openpyxl.Workbook()
    for row in (ORG_HEADER, ["城关镇团委", "乡镇团委", "", 1], ["县教育局团委", "县直机关直属团组织", "", 3]):
        workbook.active.append(row)
    content = io.BytesIO()
    workbook.save(content)
    admin = harness.admin()
    await admin.send("/importorgs")
    await admin.send_document("组织.xlsx", content.getvalue())
    await admin.tap("✅ 导入 2 个组织")
    assert "已导入 2 个组织" in admin.last_reply().text
    assert len(loads) == 1
    assert tabular._recent.get(tabular._upload_key("组织.xlsx", content.getvalue(), 2000, 5 << 20)) is None
