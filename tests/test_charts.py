"""Charts: valid PNGs, every label drawable by the CJK font (no boxes), the data behind them over the
fixed county year of tests/test_stats_domain.py, and a clear refusal when no CJK font is installed."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from bot.domain import charts
from bot.domain.charts import (
    ChartData,
    ChartSource,
    DeedBar,
    bucket_by_month,
    missing_glyphs,
    pick_deeds,
    render_all,
)
from bot.domain.errors import DomainError
from bot.domain.stats import Period
from handlers.i18n import Translator, catalog
from storage.reports import DetailRepository
from tests.test_stats_domain import SH, County, arrange_year

PNG = b"\x89PNG\r\n\x1a\n"
YEAR = Period.of_year(2026)
SAMPLE = ChartData(
    months=[(2026, month, month * 7) for month in range(1, 13)],
    deeds=[
        DeedBar("县教育局团委", 1, 3, True),
        DeedBar("城关镇团委", 1, 1, False),
        DeedBar("县卫健委团委", 3, 3, False),
    ],
    wishes_by_status={"open": 1, "claimed": 1, "confirmed": 2},
    wishes_overdue=1,
)


def chart_labels(language: str) -> list[str]:
    """Every word a chart can show, in that language."""
    t = Translator(language)
    texts = [text for key, text in catalog(language).items() if key.startswith("reports.chart_")]
    texts += [t("reports.chart_month_tick", year=2026, month=month) for month in range(1, 13)]
    texts += [t("reports.chart_deeds_title_top", shown=20, total=440)]
    texts += [t(f"wishes.status.{status}") for status in charts.STATUS_ORDER]
    return texts


def test_a_cjk_font_is_installed():
    assert charts.cjk_font_path() is not None, "run scripts/os-packages font"


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_every_label_has_its_glyphs(language):
    for text in chart_labels(language):
        assert missing_glyphs(text) == set(), text
    assert missing_glyphs("县教育局团委 城关镇团委 县第一小学") == set()


def test_missing_glyphs_names_what_the_font_lacks():
    assert missing_glyphs("团委\U0002a6a5") == {"\U0002a6a5"}  # a rare CJK Extension B character


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_the_charts_are_valid_pngs_without_glyph_warnings(language):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font"
        drawn = render_all(SAMPLE, Translator(language))
    assert [chart.name for chart in drawn] == ["months", "deeds", "wishes"]
    for chart in drawn:
        assert chart.png.startswith(PNG)
        image = Image.open(io.BytesIO(chart.png))
        image.verify()
        assert image.format == "PNG" and image.size[0] >= 900


def test_a_rare_character_in_a_name_is_drawn_as_a_question_mark_not_a_box():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts.deeds_chart([DeedBar("\U0002a6a5村团支部", 0, 1, True)], Translator("zh-Hans"))
    assert png.startswith(PNG)


def test_without_a_cjk_font_drawing_is_refused_with_what_to_run(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font_path", lambda: None)
    with pytest.raises(DomainError) as caught:
        render_all(SAMPLE, Translator("zh-Hans"))
    assert caught.value.key == "reports.no_cjk_font"
    assert "scripts/os-packages font" in Translator("en")(caught.value.key)
    assert "中文字体" in Translator("zh-Hans")(caught.value.key)
    assert missing_glyphs("团委") == {"团", "委"}


def test_the_deeds_chart_shows_those_behind_first_and_at_most_twenty():
    bars = [DeedBar(f"乡镇{i:03d}团委", i % 2, 1, i % 2 == 0) for i in range(60)]
    bars.append(DeedBar("县直000团委", 0, 3, True))
    shown = pick_deeds(bars)
    assert len(shown) == 20
    assert shown[0].org_name == "县直000团委"  # the largest shortfall first
    assert all(bar.behind for bar in shown)


def test_person_times_go_to_the_local_month_of_the_start():
    rows = [
        ("2026-12-31T15:30:00Z", 2),  # 23:30 on 31 December in Shanghai: December 2026
        ("2026-12-31T16:30:00Z", 5),  # 00:30 on 1 January 2027: not in 2026
        ("2025-12-31T16:00:00Z", 3),  # 00:00 on 1 January 2026: January
        ("2026-03-07T01:00:00Z", 4),
    ]
    months = bucket_by_month(rows, YEAR.start, YEAR.end, SH)
    assert len(months) == 12
    assert [count for _, _, count in months] == [3, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2]


async def test_chart_data_of_the_fixed_year(harness):
    harness.admin()
    county = County(harness)
    await county.arrange_orgs()
    await arrange_year(county)
    services = county.services
    source = ChartSource(DetailRepository(services.db), services.deeds, services.clock, services.config.zone)
    data = await source.data(YEAR)
    # A1 on 7 March: 3 person-times; A2 at 23:30 on 31 December: 2. A4 (2027) is not in 2026.
    assert [count for _, _, count in data.months] == [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert {(bar.org_name, bar.done, bar.quota) for bar in data.deeds} == {
        ("城关镇团委", 1, 1),
        ("县教育局团委", 1, 3),
    }  # the school owes none
    # Collected in 2026: W1 and W2 confirmed, W3 claimed and past its deadline, W4 open.
    assert data.wishes_by_status == {"confirmed": 2, "claimed": 1, "open": 1}
    assert data.wishes_overdue == 1
    town = await source.data(YEAR, county.ids["城关镇团委"])
    assert [bar.org_name for bar in town.deeds] == ["城关镇团委"]
    assert town.wishes_by_status == {}  # it collected none


def test_an_organisation_with_nothing_done_still_shows_behind():
    """A bar of zero has no colour to show: the red pace mark stands where the pace is."""
    from matplotlib.collections import PathCollection

    bars = [DeedBar("县中医院团委", 0, 3, True, expected=2), DeedBar("城关镇团委", 1, 1, False)]
    with charts.DRAW_LOCK:
        figure = charts.deeds_figure(bars, Translator("zh-Hans"))
    axes = figure.axes[0]
    marks = [collection for collection in axes.collections if isinstance(collection, PathCollection)]
    assert len(marks) == 1
    (x, y), *rest = marks[0].get_offsets().tolist()
    assert rest == [] and x == 2 and y == 1  # the behind organisation is drawn first, at the top
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert "按进度应完成" in legend
