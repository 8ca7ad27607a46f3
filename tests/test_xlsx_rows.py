"""The fast row path of bot/domain/xlsx.py (each row's XML written straight into XlsxWriter's
constant-memory row file) makes the same workbook as XlsxWriter's own cell-by-cell writers: the
same values, types, number formats and dimensions, for every kind of cell the exports write."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl

from bot.domain import xlsx
from bot.domain.xlsx import XlsxWriter

ROWS = [
    ["普通文字", 42, 3.25, datetime(2026, 3, 1, 9, 30), date(2026, 12, 31)],
    [None, "", 'A&B <c> "引号"', " 前后空格 ", "\t制表"],
    [],  # an empty row: no element, the numbering goes on
    ["控制\x01字符", "_x0041_ 字面", "换行\n第二行", True, 10**17],
    ["长" * 20000, -7, 0, datetime(1900, 2, 28, 23, 59), date(1900, 3, 1)],
]


def _book() -> bytes:
    book = XlsxWriter()
    with book.sheet("表一", ["甲", "乙", "丙", "丁", "戊"], [10, 10, 10, 10, 10]) as sheet:
        for row in ROWS:
            sheet.row(row)
    with book.sheet("只有表头", ["甲"], [10]) as sheet:
        pass
    with book.sheet("表三", ["甲", "乙"], [10, 10]) as sheet:
        for number in range(300):
            sheet.row([f"第{number}行", number])
    return book.close()


def _cells(content: bytes) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [
        (sheet.title, sheet.dimensions, sheet.freeze_panes)
        + tuple(
            (cell.coordinate, cell.value, cell.number_format, cell.font.b) for row in sheet.iter_rows() for cell in row
        )
        for sheet in workbook
    ]


def test_the_fast_rows_make_the_same_workbook_as_xlsxwriters_writers(monkeypatch):
    fast = _book()
    monkeypatch.setattr(xlsx._RowXml, "of", classmethod(lambda cls, worksheet, formats: None))
    slow = _book()
    assert _cells(fast) == _cells(slow)
    first = openpyxl.load_workbook(io.BytesIO(fast))["表一"]
    assert first["C3"].value == 'A&B <c> "引号"' and first["D3"].value == " 前后空格 "
    assert first["D2"].value == datetime(2026, 3, 1, 9, 30) and first["D2"].number_format == "yyyy-mm-dd hh:mm"
    assert first["A5"].value.startswith("控制") and first["A5"].value.endswith("字符")  # escaped as Excel does
    assert first["C5"].value == "换行\n第二行" and first["E5"].value == 10**17
