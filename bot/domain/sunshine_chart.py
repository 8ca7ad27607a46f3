"""The Sunshine Home chart: contacts per month by township (lines), and each township's active and
quiet pairs (bars). Drawn with the figures' font rules (bot/domain/charts.py): every word from the
`labels` translator, a CJK font or a clear refusal. CPU work: run through asyncio.to_thread.

It sits beside bot/domain/sunshine/, not in it: bot/domain/charts.py names the services, which
build the Sunshine Home service, so importing charts from inside that package would be a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.charts import (
    DRAW_LOCK,
    HEIGHT_IN,
    WIDTH_IN,
    Labels,
    chart_font,
    figure_png,
    fit_label,
    fit_name,
    tidy_axes,
)
from bot.domain.sunshine.figures import AreaLine

TOWNSHIPS_MAX = 8  # lines beyond this many townships would be unreadable: the busiest are drawn


def sunshine_chart(months: dict[str, dict[str, int]], areas: Sequence[AreaLine], labels: Labels) -> bytes:
    path, font = chart_font()
    from matplotlib.figure import Figure

    all_months = sorted({month for by_month in months.values() for month in by_month})
    busiest = sorted(months, key=lambda name: -sum(months[name].values()))[:TOWNSHIPS_MAX]
    with DRAW_LOCK:
        figure = Figure(figsize=(WIDTH_IN * 1.4, HEIGHT_IN))
        left, right = figure.subplots(1, 2)
        for name in busiest:
            left.plot(
                range(len(all_months)),
                [months[name].get(month, 0) for month in all_months],
                marker="o",
                label=fit_name(path, name),
            )
        left.set_xticks(range(len(all_months)), all_months, fontproperties=font, rotation=45)
        left.set_ylabel(fit_label(path, labels("sunshine.chart_contacts")), fontproperties=font)
        left.set_title(fit_label(path, labels("sunshine.chart_months_title")), fontproperties=font, fontsize=13)
        if busiest:
            left.legend(prop=font, fontsize=8, frameon=False)
        names = [fit_name(path, area.name) for area in areas]
        positions = range(len(areas))
        right.bar(
            [x - 0.2 for x in positions],
            [area.active for area in areas],
            width=0.4,
            color="#2e7d32",
            label=fit_label(path, labels("sunshine.chart_active")),
        )
        right.bar(
            [x + 0.2 for x in positions],
            [area.quiet for area in areas],
            width=0.4,
            color="#c62828",
            label=fit_label(path, labels("sunshine.chart_quiet")),
        )
        right.set_xticks(list(positions), names, fontproperties=font, rotation=30)
        right.set_title(fit_label(path, labels("sunshine.chart_pairs_title")), fontproperties=font, fontsize=13)
        right.legend(prop=font, frameon=False)
        for axes in (left, right):
            tidy_axes(axes, font)
        figure.tight_layout()
        return figure_png(figure)
