"""The ledger's chart: money in and out of the funds by month (paired bars, in 万 yuan).

Drawn with the reports' chart toolkit (bot/domain/charts.py: the CJK font check, the one drawing
lock, the PNG writer), so it looks like the other report charts and fails the same clear way
when the server has no Chinese font. CPU work: call it through asyncio.to_thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain.charts import (
    BAR_COLOUR,
    DRAW_LOCK,
    HEIGHT_IN,
    LATE_COLOUR,
    WIDTH_IN,
    chart_font,
    figure_png,
    fit_label,
    tidy_axes,
)
from bot.domain.funds.amounts import FEN_PER_WAN

Labels = Callable[..., str]


def money_chart(months: Sequence[tuple[int, int, int, int]], labels: Labels) -> bytes:
    """(year, month, in fen, out fen) per month → a PNG of paired bars."""
    path, font = chart_font()
    from matplotlib.figure import Figure

    with DRAW_LOCK:
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        axes = figure.add_subplot()
        ticks = [
            fit_label(path, labels("reports.chart_month_tick", year=year, month=month)) for year, month, _, _ in months
        ]
        money_in = [value / FEN_PER_WAN for _, _, value, _ in months]
        money_out = [value / FEN_PER_WAN for _, _, _, value in months]
        width = 0.4
        left = [index - width / 2 for index in range(len(months))]
        right = [index + width / 2 for index in range(len(months))]
        axes.bar(left, money_in, width, color=BAR_COLOUR, label=fit_label(path, labels("funds_ui.chart_in")))
        axes.bar(right, money_out, width, color=LATE_COLOUR, label=fit_label(path, labels("funds_ui.chart_out")))
        axes.set_xticks(range(len(months)), ticks, fontproperties=font)
        axes.set_ylabel(fit_label(path, labels("funds_ui.chart_unit")), fontproperties=font)
        axes.set_title(fit_label(path, labels("funds_ui.chart_title")), fontproperties=font, fontsize=14)
        axes.set_ylim(0, max(money_in + money_out + [0.01]) * 1.15)
        axes.legend(prop=font)
        tidy_axes(axes, font)
        figure.tight_layout()
        return figure_png(figure)
