"""Organisation import: reading XLSX/CSV files, checking every row, and the template."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from bot.domain.org_import import (
    HEADERS,
    KIND_LABELS,
    MAX_BYTES,
    MAX_ROWS,
    ImportResult,
    OrgRow,
    RowProblem,
    build_template_xlsx,
    default_quota,
    parse_kind,
    parse_org_file,
)
from bot.model.organisation import OrgKind

HEADER = list(HEADERS)


def csv_bytes(rows, *, encoding="utf-8-sig", delimiter=","):
    lines = (delimiter.join("" if cell is None else str(cell) for cell in row) for row in rows)
    text = "\r\n".join(lines)
    return (text + "\r\n").encode(encoding)


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_csv(rows, existing=(), **options) -> ImportResult:
    return parse_org_file("orgs.csv", csv_bytes(rows, **options), existing_names=set(existing))


def parse_xlsx(rows, existing=()) -> ImportResult:
    return parse_org_file("orgs.xlsx", xlsx_bytes(rows), existing_names=set(existing))


def summary(result: ImportResult) -> list[tuple]:
    return [(problem.row, problem.column, problem.key) for problem in result.problems]


def only_problem(result: ImportResult) -> RowProblem:
    assert not result.ok
    assert result.rows == ()
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


VALID_ROWS = [
    HEADER,
    ["县教育局团委", "县直机关直属团组织", "", ""],
    ["城关镇团委", "乡镇团委", "", ""],
    ["城关镇东村团支部", "村团支部", "城关镇团委", "2"],
    ["县第一中学团委", "学校", "", "0"],
]


# --- reading valid files ----------------------------------------------------------------------


def test_utf8_csv_with_bom_gives_rows_with_quotas_defaulted_by_kind():
    result = parse_csv(VALID_ROWS)

    assert result.ok
    assert result.problems == ()
    assert result.rows == (
        OrgRow(2, "县教育局团委", OrgKind.COUNTY_LEVEL, None, 3),
        OrgRow(3, "城关镇团委", OrgKind.TOWNSHIP, None, 1),
        OrgRow(4, "城关镇东村团支部", OrgKind.VILLAGE_BRANCH, "城关镇团委", 2),
        OrgRow(5, "县第一中学团委", OrgKind.SCHOOL, None, 0),
    )


def test_utf8_csv_without_bom_is_read():
    assert parse_csv(VALID_ROWS, encoding="utf-8").ok


def test_gb18030_csv_as_saved_by_excel_on_chinese_windows():
    result = parse_csv(VALID_ROWS, encoding="gb18030")

    assert result.ok
    assert [row.name for row in result.rows] == [row[0] for row in VALID_ROWS[1:]]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiter_is_detected(delimiter):
    result = parse_csv(VALID_ROWS, delimiter=delimiter)

    assert result.ok
    assert result.rows[2].parent_name == "城关镇团委"


def test_xlsx_with_numeric_cells():
    result = parse_xlsx(
        [
            HEADER,
            ["县教育局团委", "县直机关直属团组织", None, None],
            ["城关镇团委", "乡镇团委", None, 3.0],
            ["东村团支部", "村", "城关镇团委", 4],
            [2024, "其他", None, "5"],
        ]
    )

    assert result.ok, result.problems
    assert [(row.name, row.deeds_quota) for row in result.rows] == [
        ("县教育局团委", 3),
        ("城关镇团委", 3),
        ("东村团支部", 4),
        ("2024", 5),
    ]


def test_only_the_first_worksheet_is_read():
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["城关镇团委", "乡镇团委"])
    workbook.create_sheet("other").append(["anything", "at", "all"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = parse_org_file("orgs.xlsx", buffer.getvalue(), existing_names=set())

    assert result.ok
    assert [row.name for row in result.rows] == ["城关镇团委"]


def test_extension_is_case_insensitive():
    assert parse_org_file("ORGS.XLSX", xlsx_bytes(VALID_ROWS), existing_names=set()).ok
    assert parse_org_file("orgs.Csv", csv_bytes(VALID_ROWS), existing_names=set()).ok


def test_english_headers_in_any_case_and_order():
    result = parse_csv(
        [
            [" Deeds_Quota ", "PARENT", "Kind", "name"],
            ["", "", "county_committee", "团县委"],
            ["7", "团县委", "Township", "城关镇团委"],
        ]
    )

    assert result.ok, result.problems
    assert result.rows == (
        OrgRow(2, "团县委", OrgKind.COUNTY_COMMITTEE, None, 0),
        OrgRow(3, "城关镇团委", OrgKind.TOWNSHIP, "团县委", 7),
    )


def test_optional_columns_may_be_left_out():
    result = parse_csv([["名称", "类型"], ["城关镇团委", "乡镇团委"]])

    assert result.rows == (OrgRow(2, "城关镇团委", OrgKind.TOWNSHIP, None, 1),)


def test_cells_are_trimmed():
    result = parse_csv([HEADER, ["  城关镇团委 ", " 乡镇 ", "  ", " 2 "]])

    assert result.rows == (OrgRow(2, "城关镇团委", OrgKind.TOWNSHIP, None, 2),)


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet():
    result = parse_csv(
        [
            HEADER,
            ["", "", "", ""],
            ["城关镇团委", "乡镇团委", "", ""],
            ["  ", "", " ", ""],
            ["东村团支部", "村", "城关镇团委", ""],
            ["", "", "", ""],
            ["", "", "", ""],
        ]
    )

    assert result.ok
    assert [row.row for row in result.rows] == [3, 5]


def test_xlsx_blank_and_missing_rows_keep_sheet_row_numbers():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet["A4"], sheet["B4"] = "城关镇团委", "乡镇团委"
    sheet["A9"] = "   "  # typed-over cells at the bottom of the sheet
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = parse_org_file("orgs.xlsx", buffer.getvalue(), existing_names=set())

    assert [row.row for row in result.rows] == [4]


def test_empty_trailing_header_cells_are_ignored():
    result = parse_csv([HEADER + ["", ""], ["城关镇团委", "乡镇团委", "", "", "", ""]])

    assert result.ok


def test_parent_defined_later_in_the_file_comes_first_in_the_result():
    result = parse_csv(
        [
            HEADER,
            ["东村团支部", "村", "城关镇团委", ""],
            ["县第一中学团委", "学校", "", ""],
            ["城关镇团委", "乡镇团委", "团县委", ""],
            ["团县委", "团县委", "", ""],
        ]
    )

    assert result.ok
    assert [row.name for row in result.rows] == ["团县委", "城关镇团委", "东村团支部", "县第一中学团委"]


def test_parent_may_be_an_existing_organisation():
    result = parse_csv([HEADER, ["东村团支部", "村", "城关镇团委", ""]], existing={"城关镇团委"})

    assert result.ok
    assert result.rows[0].parent_name == "城关镇团委"


def test_exactly_max_rows_is_accepted():
    rows = [HEADER] + [[f"组织{index}", "其他", "", ""] for index in range(MAX_ROWS)]

    result = parse_csv(rows)

    assert result.ok
    assert len(result.rows) == MAX_ROWS


# --- kinds and quotas -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        ("团县委", OrgKind.COUNTY_COMMITTEE),
        ("县直机关直属团组织", OrgKind.COUNTY_LEVEL),
        ("县直团组织", OrgKind.COUNTY_LEVEL),
        ("县直", OrgKind.COUNTY_LEVEL),
        ("乡镇团委", OrgKind.TOWNSHIP),
        ("乡镇", OrgKind.TOWNSHIP),
        ("大团委", OrgKind.TOWNSHIP),
        ("实体化大团委", OrgKind.TOWNSHIP),
        ("村团支部", OrgKind.VILLAGE_BRANCH),
        ("村级团支部", OrgKind.VILLAGE_BRANCH),
        ("村", OrgKind.VILLAGE_BRANCH),
        ("学校", OrgKind.SCHOOL),
        ("学校团组织", OrgKind.SCHOOL),
        ("其他", OrgKind.OTHER),
        (" 乡镇 ", OrgKind.TOWNSHIP),
        ("Village_Branch", OrgKind.VILLAGE_BRANCH),
        ("OTHER", OrgKind.OTHER),
        ("县委", None),
        ("", None),
    ],
)
def test_parse_kind(text, kind):
    assert parse_kind(text) is kind


def test_every_kind_has_a_canonical_label_that_parses_back():
    assert set(KIND_LABELS) == set(OrgKind)
    for kind, label in KIND_LABELS.items():
        assert parse_kind(label) is kind


def test_default_quota():
    assert default_quota(OrgKind.COUNTY_LEVEL) == 3
    assert default_quota(OrgKind.TOWNSHIP) == 1
    for kind in (OrgKind.COUNTY_COMMITTEE, OrgKind.VILLAGE_BRANCH, OrgKind.SCHOOL, OrgKind.OTHER):
        assert default_quota(kind) == 0


@pytest.mark.parametrize("quota", [3, 3.0, "3", "3.0", " 3 "])
def test_whole_quotas_are_accepted_in_any_form(quota):
    result = parse_xlsx([HEADER, ["城关镇团委", "乡镇团委", None, quota]])

    assert result.rows[0].deeds_quota == 3


@pytest.mark.parametrize("quota, shown", [("3.5", "3.5"), (3.5, "3.5"), ("三", "三"), (True, "True")])
def test_fractional_or_non_numeric_quota_is_refused(quota, shown):
    problem = only_problem(parse_xlsx([HEADER, ["城关镇团委", "乡镇团委", None, quota]]))

    assert problem == RowProblem(2, "年度实事指标", "import.quota_not_integer", {"value": shown})


@pytest.mark.parametrize("quota", ["0", "50"])
def test_quota_bounds_are_inclusive(quota):
    assert parse_csv([HEADER, ["城关镇团委", "乡镇团委", "", quota]]).ok


# --- problems ---------------------------------------------------------------------------------


def test_one_bad_row_blocks_the_whole_file_and_is_named():
    rows = [*VALID_ROWS[:3], ["城关镇西村团支部", "居委会", "城关镇团委", ""], *VALID_ROWS[3:]]

    problem = only_problem(parse_csv(rows))

    assert problem == RowProblem(4, "类型", "import.kind_unknown", {"value": "居委会"})


def test_problem_column_is_the_header_as_written():
    problem = only_problem(parse_csv([["Name", "KIND"], ["城关镇团委", "居委会"]]))

    assert (problem.row, problem.column) == (2, "KIND")


@pytest.mark.parametrize(
    "row, existing, column, key, params",
    [
        (["", "乡镇团委", "", ""], (), "名称", "import.name_required", {}),
        (["名" * 61, "乡镇团委", "", ""], (), "名称", "import.name_too_long", {"value": "名" * 61, "max": 60}),
        (["城关镇团委", "乡镇团委", "", ""], {"城关镇团委"}, "名称", "import.name_exists", {"value": "城关镇团委"}),
        (["城关镇团委", "", "", ""], (), "类型", "import.kind_required", {}),
        (["城关镇团委", "街道", "", ""], (), "类型", "import.kind_unknown", {"value": "街道"}),
        (["城关镇团委", "乡镇团委", "团市委", ""], (), "上级组织", "import.parent_unknown", {"value": "团市委"}),
        (["城关镇团委", "乡镇团委", "城关镇团委", ""], (), "上级组织", "import.parent_self", {"value": "城关镇团委"}),
        (["城关镇团委", "乡镇团委", "", "many"], (), "年度实事指标", "import.quota_not_integer", {"value": "many"}),
        (
            ["城关镇团委", "乡镇团委", "", "51"],
            (),
            "年度实事指标",
            "import.quota_out_of_range",
            {"value": "51", "min": 0, "max": 50},
        ),
        (
            ["城关镇团委", "乡镇团委", "", "-1"],
            (),
            "年度实事指标",
            "import.quota_out_of_range",
            {"value": "-1", "min": 0, "max": 50},
        ),
    ],
)
def test_cell_problems(row, existing, column, key, params):
    problem = only_problem(parse_csv([HEADER, row], existing=existing))

    assert problem == RowProblem(2, column, key, params)


def test_sixty_characters_is_not_too_long():
    assert parse_csv([HEADER, ["名" * 60, "乡镇团委", "", ""]]).ok


def test_name_duplicated_within_the_file_names_the_first_row():
    result = parse_csv(
        [
            HEADER,
            ["城关镇团委", "乡镇团委", "", ""],
            ["东村团支部", "村", "", ""],
            ["城关镇团委", "乡镇团委", "", ""],
        ]
    )

    assert only_problem(result) == RowProblem(
        4, "名称", "import.name_duplicate_in_file", {"value": "城关镇团委", "first_row": 2}
    )


def test_cycle_within_the_file_is_reported_on_each_row_of_the_cycle():
    result = parse_csv(
        [
            HEADER,
            ["甲", "其他", "乙", ""],
            ["乙", "其他", "丙", ""],
            ["丙", "其他", "甲", ""],
            ["丁", "其他", "甲", ""],  # hangs below the cycle but is not part of it
        ]
    )

    assert [(p.row, p.column, p.key, p.params) for p in result.problems] == [
        (2, "上级组织", "import.parent_cycle", {"value": "乙"}),
        (3, "上级组织", "import.parent_cycle", {"value": "丙"}),
        (4, "上级组织", "import.parent_cycle", {"value": "甲"}),
    ]


def test_all_problems_are_reported_sorted_by_row_then_column():
    result = parse_csv(
        [
            ["年度实事指标", "上级组织", "名称", "类型"],
            ["x", "无此组织", "", "?"],
            ["1", "", "城关镇团委", "乡镇团委"],
            ["99", "城关镇团委", "城关镇团委", ""],
        ]
    )

    assert summary(result) == [
        (2, "年度实事指标", "import.quota_not_integer"),
        (2, "上级组织", "import.parent_unknown"),
        (2, "名称", "import.name_required"),
        (2, "类型", "import.kind_unknown"),
        (4, "年度实事指标", "import.quota_out_of_range"),
        (4, "上级组织", "import.parent_self"),
        (4, "名称", "import.name_duplicate_in_file"),
        (4, "类型", "import.kind_required"),
    ]


# --- header problems --------------------------------------------------------------------------


def test_missing_required_columns_are_named_by_their_canonical_header():
    result = parse_csv([["上级组织"], ["团县委"]])

    assert summary(result) == [
        (1, "名称", "import.missing_column"),
        (1, "类型", "import.missing_column"),
    ]
    assert result.problems[0].params == {"column": "名称"}


def test_unknown_column_is_named_as_written():
    problem = only_problem(parse_csv([HEADER + [" 备注 "], ["城关镇团委", "乡镇团委", "", "", "x"]]))

    assert problem == RowProblem(1, "备注", "import.unknown_column", {"column": "备注"})


def test_data_under_a_column_without_header_is_an_unknown_column_named_by_letter():
    problem = only_problem(parse_csv([HEADER, ["城关镇团委", "乡镇团委", "", "", "", "备注"]]))

    assert problem == RowProblem(1, "F", "import.unknown_column", {"column": "F"})


def test_duplicate_column_is_the_second_header_for_the_same_field():
    problem = only_problem(parse_csv([HEADER + ["Name"], ["城关镇团委", "乡镇团委", "", "", "x"]]))

    assert problem == RowProblem(1, "Name", "import.duplicate_column", {"column": "Name"})


def test_header_problems_come_alone_and_in_column_order():
    result = parse_csv([["备注", "名称", "名称"], ["", "城关镇团委", "城关镇团委"]])

    assert summary(result) == [
        (1, "备注", "import.unknown_column"),
        (1, "名称", "import.duplicate_column"),
        (1, "类型", "import.missing_column"),
    ]


# --- file problems ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orgs.xls", "orgs.txt", "orgs", "orgs.xlsx.pdf"])
def test_unsupported_file_type(name):
    problem = only_problem(parse_org_file(name, csv_bytes(VALID_ROWS), existing_names=set()))

    assert problem == RowProblem(1, None, "import.unsupported_type", {"name": name})


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx_with_broken_sheet() -> bytes:
    """A valid workbook whose sheet XML is cut short: openpyxl only notices while reading rows."""
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(VALID_ROWS))) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet][: len(members[sheet]) // 2]
    return zip_bytes(members)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a zip at all",
        b"PK\x03\x04broken",
        csv_bytes(VALID_ROWS),
        zip_bytes({"hello.txt": b"hi"}),
        xlsx_with_broken_sheet(),
    ],
)
def test_corrupt_xlsx_is_unreadable(content):
    problem = only_problem(parse_org_file("orgs.xlsx", content, existing_names=set()))

    assert problem == RowProblem(1, None, "import.unreadable", {})


def test_csv_in_no_known_encoding_is_unreadable():
    problem = only_problem(parse_org_file("orgs.csv", b"\xff\xfe\xff", existing_names=set()))

    assert problem.key == "import.unreadable"


def test_too_large():
    content = csv_bytes(VALID_ROWS) + b" " * MAX_BYTES

    problem = only_problem(parse_org_file("orgs.csv", content, existing_names=set()))

    assert problem == RowProblem(1, None, "import.too_large", {"limit_mb": 5})


def test_too_many_rows():
    rows = [HEADER] + [[f"组织{index}", "其他", "", ""] for index in range(MAX_ROWS + 1)]

    problem = only_problem(parse_csv(rows))

    assert problem == RowProblem(1, None, "import.too_many_rows", {"limit": MAX_ROWS})


@pytest.mark.parametrize(
    "content",
    [
        b"",
        "\ufeff".encode(),
        csv_bytes([HEADER]),
        csv_bytes([HEADER, [], ["", ""]]),
    ],
)
def test_no_rows_in_csv(content):
    problem = only_problem(parse_org_file("orgs.csv", content, existing_names=set()))

    assert problem == RowProblem(1, None, "import.no_rows", {})


@pytest.mark.parametrize("rows", [[], [HEADER]])
def test_no_rows_in_xlsx(rows):
    assert only_problem(parse_xlsx(rows)).key == "import.no_rows"


def test_ok_needs_rows_and_no_problems():
    assert not ImportResult(rows=(), problems=()).ok


# --- the template -----------------------------------------------------------------------------


def test_template_round_trips_to_its_two_examples():
    result = parse_org_file("t.xlsx", build_template_xlsx(), existing_names=set())

    assert result.ok
    assert result.rows == (
        OrgRow(2, "县教育局团委", OrgKind.COUNTY_LEVEL, None, 3),
        OrgRow(3, "城关镇团委", OrgKind.TOWNSHIP, None, 1),
    )


def test_template_layout_and_kind_dropdown():
    workbook = openpyxl.load_workbook(io.BytesIO(build_template_xlsx()))
    sheet = workbook.worksheets[0]

    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["A"].width > 10
    dropdowns = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert len(dropdowns) == 1
    assert dropdowns[0].formula1.strip('"').split(",") == list(KIND_LABELS.values())
    assert "B2" in dropdowns[0].sqref
    assert workbook.sheetnames[1] == "说明"
    help_cells = workbook["说明"].iter_rows(values_only=True)
    help_text = "".join(str(cell) for row in help_cells for cell in row)
    for header in HEADERS:
        assert header in help_text
