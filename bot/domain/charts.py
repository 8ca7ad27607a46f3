"""Charts as PNG bytes: volunteer person-times by month, deeds against quota by organisation,
wishes by status.

matplotlib's object API only (a `Figure` with its own Agg canvas; pyplot and its global state are
never imported), so charts can be drawn in worker threads (`asyncio.to_thread`) while the bot
keeps answering. Every word on a chart comes from the `labels` translator the caller passes
(`labels(key, **params) -> text`), so this module holds no sentence.

Chinese needs a CJK font: `cjk_font_path()` looks for one installed (WenQuanYi Micro Hei, Noto
Sans CJK, Source Han Sans…; `scripts/os-packages font` installs the first). Without one, drawing
raises DomainError("reports.no_cjk_font"), which tells the admin what to run: a chart is never
sent with boxes for characters. `missing_glyphs(text)` says which characters the font lacks;
charts check their labels with it before drawing, and a rare character in an organisation's
name (data, not a label) is drawn as "?" rather than as a box.

Catalog keys used (handlers/locales/<lang>/reports.toml): reports.no_cjk_font,
reports.chart_months_title, reports.chart_month_tick, reports.chart_person_times,
reports.chart_deeds_title, reports.chart_deeds_title_top, reports.chart_done, reports.chart_quota,
reports.chart_wishes_title, reports.chart_count, reports.chart_overdue, wishes.status.<status>.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.deeds import DeedProgress, DeedService, expected_by, is_behind
from bot.domain.errors import DomainError
from bot.domain.orgs import OrganisationService
from bot.domain.stats import Period
from bot.model.organisation import OrgKind
from storage.reports import DetailRepository

if TYPE_CHECKING:  # Services builds every service; this module only reads it
    from bot.domain.services import Services

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn (_agg): start-up skips it
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

Labels = Callable[..., str]

# Where Debian/Ubuntu (fonts-wqy-microhei, fonts-noto-cjk), Fedora, macOS and Windows keep one.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
_NAME_HINTS = (
    "wqy-microhei",
    "wqy-zenhei",
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "sourcehanserif",
    "droidsansfallback",
    "msyh",
    "simhei",
    "pingfang",
)
# Characters any CJK font worth the name has: a file that lacks them is not one.
_PROBE = "团县委志愿服务人次微心愿实事"
# Deeds chart: beyond this many organisations only those behind (then the rest by shortfall) are drawn.
DEEDS_TOP = 20
STATUS_ORDER = ("open", "claimed", "purchased", "delivered", "confirmed", "cancelled")
WIDTH_IN, HEIGHT_IN, DPI = 9.0, 5.0, 110
_DONE, _QUOTA, _BEHIND, BAR_COLOUR, LATE_COLOUR = "#2e7d32", "#c8e6c9", "#c62828", "#1565c0", "#c62828"
DRAW_LOCK = threading.Lock()  # FreeType faces are shared between figures: one drawing at a time


@dataclass(frozen=True)
class DeedBar:
    org_name: str
    done: int
    quota: int
    behind: bool
    expected: int = 0  # when behind: what the pace asks for by today (a red mark is drawn there)


@dataclass(frozen=True)
class ChartData:
    """What the three charts show, for one period and scope (county or one organisation)."""

    months: list[tuple[int, int, int]]  # (year, month, person-times), every month of the period
    deeds: list[DeedBar]  # organisations that owe deeds or did some (one for an org)
    wishes_by_status: dict[str, int]  # wishes collected in the period, by their status now
    wishes_overdue: int  # of those, claimed or purchased and past the deadline now


@dataclass(frozen=True)
class Chart:
    name: str  # months | deeds | wishes
    png: bytes


# ---- the font -----------------------------------------------------------------------------------
@cache
def _codepoints(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=0, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def _covers(path: str, text: str) -> bool:
    try:
        return not _missing(path, text)
    except Exception:  # noqa: BLE001 - an unreadable font file is just not a candidate
        return False


def _missing(path: str, text: str) -> set[str]:
    points = _codepoints(path)
    return {char for char in text if not char.isspace() and ord(char) not in points}


@cache
def _agg() -> None:
    """matplotlib with its Agg backend, loaded at the first chart (before anything could import
    pyplot: no GUI backend, ever)."""
    import matplotlib

    matplotlib.use("Agg")


@lru_cache(maxsize=1)
def _find_cjk_font() -> str | None:
    _agg()
    from matplotlib.font_manager import findSystemFonts

    override = os.environ.get("LEAGUE_BOT_CJK_FONT")
    candidates = [override] if override else []
    candidates += list(CJK_FONT_FILES)
    candidates += sorted(
        path
        for path in findSystemFonts()
        if any(hint in Path(path).name.lower().replace(" ", "") for hint in _NAME_HINTS)
    )
    for path in candidates:
        if path and Path(path).is_file() and _covers(path, _PROBE):
            return path
    return None


def cjk_font_path() -> str | None:
    """An installed font file with Chinese glyphs, or None."""
    return _find_cjk_font()


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` (whitespace aside) that the CJK font cannot draw; all of them when
    there is no CJK font."""
    path = cjk_font_path()
    if path is None:
        return {char for char in text if not char.isspace()}
    return _missing(path, text)


def chart_font() -> tuple[str, FontProperties]:
    _agg()
    from matplotlib.font_manager import FontProperties

    path = cjk_font_path()
    if path is None:
        raise DomainError("reports.no_cjk_font")
    return path, FontProperties(fname=path)


def fit_label(path: str, text: str) -> str:
    """A catalog label: the font must have every character (else it is not a usable CJK font)."""
    if _missing(path, text):
        raise DomainError("reports.no_cjk_font")
    return text


def fit_name(path: str, text: str) -> str:
    """A name from the data: a character the font lacks is drawn as "?", never as a box."""
    missing = _missing(path, text)
    return "".join("?" if char in missing else char for char in text) if missing else text


def figure_png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


# ---- the charts ---------------------------------------------------------------------------------
def months_chart(months: Sequence[tuple[int, int, int]], labels: Labels) -> bytes:
    """Bars of volunteer person-times per month (12 for a year), the number above each bar."""
    path, font = chart_font()
    from matplotlib.figure import Figure

    with DRAW_LOCK:
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        axes = figure.add_subplot()
        ticks = [
            fit_label(path, labels("reports.chart_month_tick", year=year, month=month)) for year, month, _ in months
        ]
        values = [count for _, _, count in months]
        bars = axes.bar(range(len(values)), values, color=BAR_COLOUR)
        axes.bar_label(bars, labels=[str(v) for v in values], fontproperties=font, fontsize=9, padding=2)
        axes.set_xticks(range(len(values)), ticks, fontproperties=font)
        axes.set_ylabel(fit_label(path, labels("reports.chart_person_times")), fontproperties=font)
        axes.set_title(fit_label(path, labels("reports.chart_months_title")), fontproperties=font, fontsize=14)
        axes.set_ylim(0, max(values + [1]) * 1.15)
        tidy_axes(axes, font)
        figure.tight_layout()
        return figure_png(figure)


def pick_deeds(bars: Sequence[DeedBar], top: int = DEEDS_TOP) -> list[DeedBar]:
    """Those behind first (largest shortfall first), then the rest by shortfall; at most `top`."""
    ordered = sorted(bars, key=lambda bar: (not bar.behind, -(bar.quota - bar.done), bar.org_name))
    return ordered[:top]


def deeds_chart(bars: Sequence[DeedBar], labels: Labels, top: int = DEEDS_TOP) -> bytes:
    """Horizontal bars per organisation: the quota (light) with the deeds done over it (green, red
    when behind its pace) and a red mark where the pace stands for those behind, so that an
    organisation with nothing done still shows as behind; those behind first, at most `top`."""
    with DRAW_LOCK:
        return figure_png(deeds_figure(bars, labels, top))


def deeds_figure(bars: Sequence[DeedBar], labels: Labels, top: int = DEEDS_TOP) -> Figure:
    """The figure of `deeds_chart`, unrendered (callers hold `DRAW_LOCK`)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    path, font = chart_font()
    shown = pick_deeds(bars, top)
    figure = Figure(figsize=(WIDTH_IN, max(3.0, 1.6 + 0.36 * max(1, len(shown)))))
    axes = figure.add_subplot()
    positions = list(range(len(shown)))[::-1]  # first one at the top
    names = [fit_name(path, bar.org_name) for bar in shown]
    axes.barh(positions, [bar.quota for bar in shown], color=_QUOTA)
    done = axes.barh(
        positions,
        [bar.done for bar in shown],
        height=0.5,
        color=[_BEHIND if bar.behind else _DONE for bar in shown],
    )
    behind = [(bar.expected, position) for bar, position in zip(shown, positions, strict=True) if bar.behind]
    if behind:
        axes.scatter(
            [x for x, _ in behind], [y for _, y in behind], marker="|", s=260, linewidths=3, color=_BEHIND, zorder=3
        )
    axes.bar_label(
        done, labels=[f"{bar.done}/{bar.quota}" for bar in shown], fontproperties=font, fontsize=9, padding=3
    )
    axes.set_yticks(positions, names, fontproperties=font)
    if len(bars) > len(shown):
        title = labels("reports.chart_deeds_title_top", shown=len(shown), total=len(bars))
    else:
        title = labels("reports.chart_deeds_title")
    axes.set_title(fit_label(path, title), fontproperties=font, fontsize=14)
    axes.set_xlim(0, max([bar.quota for bar in shown] + [bar.done for bar in shown] + [1]) * 1.25)
    locator = axes.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default (AutoLocator) is one: whole numbers only
        locator.set_params(integer=True)
    # The done bars have two colours: the legend names both, not just the first bar's.
    axes.legend(
        handles=[
            Patch(color=_QUOTA, label=fit_label(path, labels("reports.chart_quota"))),
            Patch(color=_DONE, label=fit_label(path, labels("reports.chart_done"))),
            Patch(color=_BEHIND, label=fit_label(path, labels("reports.chart_done_behind"))),
            Line2D(
                [],
                [],
                color=_BEHIND,
                marker="|",
                linestyle="",
                markersize=14,
                markeredgewidth=3,
                label=fit_label(path, labels("reports.chart_pace")),
            ),
        ],
        prop=font,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=4,
        frameon=False,
    )
    tidy_axes(axes, font)
    figure.tight_layout()
    return figure


def wishes_chart(by_status: dict[str, int], overdue: int, labels: Labels) -> bytes:
    """Bars of the period's wishes by status, and the overdue ones (red) beside them."""
    path, font = chart_font()
    from matplotlib.figure import Figure

    with DRAW_LOCK:
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        axes = figure.add_subplot()
        names = [fit_label(path, labels(f"wishes.status.{status}")) for status in STATUS_ORDER]
        names.append(fit_label(path, labels("reports.chart_overdue")))
        values = [by_status.get(status, 0) for status in STATUS_ORDER] + [overdue]
        bars = axes.bar(range(len(values)), values, color=[BAR_COLOUR] * len(STATUS_ORDER) + [LATE_COLOUR])
        axes.bar_label(bars, labels=[str(v) for v in values], fontproperties=font, fontsize=9, padding=2)
        axes.set_xticks(range(len(values)), names, fontproperties=font)
        axes.set_ylabel(fit_label(path, labels("reports.chart_count")), fontproperties=font)
        axes.set_title(fit_label(path, labels("reports.chart_wishes_title")), fontproperties=font, fontsize=14)
        axes.set_ylim(0, max(values + [1]) * 1.15)
        tidy_axes(axes, font)
        figure.tight_layout()
        return figure_png(figure)


def tidy_axes(axes: Axes, font: FontProperties) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for tick in axes.get_xticklabels() + axes.get_yticklabels():
        tick.set_fontproperties(font)


def render_all(data: ChartData, labels: Labels) -> list[Chart]:
    """The three charts (the deeds one only when some organisation owes or did deeds). CPU work:
    call it through asyncio.to_thread."""
    charts = [Chart("months", months_chart(data.months, labels))]
    if data.deeds:
        charts.append(Chart("deeds", deeds_chart(data.deeds, labels)))
    charts.append(Chart("wishes", wishes_chart(data.wishes_by_status, data.wishes_overdue, labels)))
    return charts


# ---- the data -----------------------------------------------------------------------------------
def months_of(start: date, end: date) -> list[tuple[int, int]]:
    months: list[tuple[int, int]] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def bucket_by_month(
    rows: Sequence[tuple[str, int]], start: date, end: date, zone: ZoneInfo
) -> list[tuple[int, int, int]]:
    """Person-times per local month of the activity's start, for every month of [start, end]."""
    counts = {key: 0 for key in months_of(start, end)}
    for starts_at, count in rows:
        local = datetime.strptime(starts_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(zone)
        key = (local.year, local.month)
        if key in counts:
            counts[key] += count
    return [(year, month, count) for (year, month), count in counts.items()]


class ChartSource:
    """Gathers ChartData from the repositories (async); drawing is render_all's job."""

    def __init__(
        self,
        details: DetailRepository,
        deeds: DeedService,
        clock: Clock,
        zone: ZoneInfo,
        *,
        orgs: OrganisationService | None = None,
    ) -> None:
        self.details = details
        self.deeds = deeds
        self.clock = clock
        self.zone = zone
        self.orgs = orgs  # the tree (township scopes, grouping by township); None: one level

    async def _by_township(self, progress: list[DeedProgress], year: int, today: date) -> list[DeedProgress]:
        """Each village branch's deeds and quota added to its township's line."""
        if self.orgs is None:
            return progress
        towns: dict[int, DeedProgress] = {}
        rest: list[DeedProgress] = []
        for item in progress:
            township = await self.orgs.permissions.township_of(item.org.id)
            key = township if township is not None else item.org.id if item.org.kind is OrgKind.TOWNSHIP else None
            if key is None:
                rest.append(item)
                continue
            head = towns.get(key)
            org = item.org if township is None else await self.orgs.get(township)
            quota = item.quota + (head.quota if head else 0)
            done = item.done + (head.done if head else 0)
            towns[key] = DeedProgress(org, quota, done, is_behind(quota, done, year, today))
        return rest + list(towns.values())

    @classmethod
    def of(cls, services: Services) -> ChartSource:
        """Built from the running bot's Services."""
        return cls(
            DetailRepository(services.db), services.deeds, services.clock, services.config.zone, orgs=services.orgs
        )

    async def data(
        self, period: Period, org_id: int | None = None, *, with_villages: bool = False, by_township: bool = False
    ) -> ChartData:
        """`with_villages`: a township committee with its village branches; `by_township`: the
        deeds bars of village branches added to their township's (the county read by township)."""
        start, before = period.bounds(self.zone)
        scope = org_id if self.orgs is None else await self.orgs.scope_ids(org_id, with_villages)
        members = None if scope is None else {scope} if isinstance(scope, int) else set(scope)
        rows = await self.details.person_times_by_activity(start, before, scope)
        today = self.clock.now().astimezone(self.zone).date()
        progress = [
            item for item in await self.deeds.progress(period.year, today) if members is None or item.org.id in members
        ]
        if by_township and self.orgs is not None:
            progress = await self._by_township(progress, period.year, today)
        bars = [
            DeedBar(
                item.org.name,
                item.done,
                item.quota,
                item.behind,
                expected_by(item.quota, item.done, period.year, today),
            )
            for item in progress
        ]
        by_status, overdue = await self.details.wishes_by_status(start, before, self.clock.now(), scope)
        return ChartData(bucket_by_month(rows, period.start, period.end, self.zone), bars, by_status, overdue)
