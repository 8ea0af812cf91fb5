"""Maps for the appendix: choropleths of area rates and a hexagon density map of crime points.

Maps are static PNG images inside :class:`~smp_analysis.report.charts.Figure` blocks, so the
appendix stays one self-contained file that works offline (no tiles, no scripts). Every map
is drawn in British National Grid (metres, EPSG:27700), where grid north is up across a
district and a scale bar is true, and carries a legend, a north arrow and a scale bar; its
alt text (written by the topic) says what it shows. Class breaks are Fisher-Jenks natural
breaks (Fisher 1958, computed as mapclassify does), which are exact and deterministic, so the same data
always give the same picture. Text from data drawn on a map goes through
:func:`~smp_analysis.report.charts.chart_text`.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from .charts import Figure, _theme, chart_text, finish

SEQUENTIAL = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]  # ColorBrewer Blues
NO_DATA = "#d9d9d9"


def _nice_length(span: float) -> float:
    """The longest round scale-bar length (1, 2 or 5 x 10^k metres) within a fifth of the map width.

    >>> _nice_length(23_000), _nice_length(4_100), _nice_length(180)
    (2000.0, 500.0, 20.0)
    """
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _decorate(ax, *, bounds) -> None:
    """North arrow (top right) and scale bar (bottom left) on a map in metres."""
    minx, miny, maxx, maxy = bounds
    width, height = maxx - minx, maxy - miny
    length = _nice_length(width)
    x0, y0 = minx + 0.04 * width, miny + 0.04 * height
    bar_height = 0.012 * height
    for i in range(2):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, bar_height,
                               facecolor="black" if i == 0 else "white", edgecolor="black",
                               lw=0.8, zorder=5))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 2.2 * bar_height, label, ha="center", va="bottom",
            fontsize=8, zorder=5)
    ax.text(x0, y0 - 0.8 * bar_height, "0", ha="center", va="top", fontsize=7, zorder=5)
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction",
                ha="center", va="center", fontsize=11, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})
    ax.set_xlim(minx - 0.02 * width, maxx + 0.02 * width)
    ax.set_ylim(miny - 0.02 * height, maxy + 0.02 * height)
    ax.set_aspect("equal")
    ax.set_axis_off()


def class_breaks(values: pd.Series, classes: int = 5) -> list[float]:
    """Upper bounds of Fisher-Jenks classes (fewer classes when there are few values).

    >>> class_breaks(pd.Series([1, 1, 2, 10, 11, 12, 30]), 3)
    [2.0, 12.0, 30.0]
    """
    finite = values[np.isfinite(values)].astype(float)
    k = min(classes, finite.nunique())
    if k < 2:
        return [float(finite.max())] if len(finite) else []
    return [float(b) for b in fisher_jenks(finite.to_numpy(), k)]


def fisher_jenks(values: np.ndarray, classes: int) -> np.ndarray:
    """Upper bounds of the `classes` Fisher-Jenks natural-break classes of `values` (Fisher
    1958): the partition of the sorted values into runs with the least total within-class sum
    of squares, by dynamic programming.

    The numbers are mapclassify's (``mapclassify.FisherJenks(values, k=classes).bins``, the
    Jenks algorithm as in its ``_fisher_jenks_means``, single-precision sums and tie-breaking
    included), computed a row of the table at a time with array operations instead of three
    nested Python loops (without Numba, mapclassify takes seconds for a few hundred areas).

    >>> fisher_jenks(np.array([1, 1, 2, 10, 11, 12, 30.0]), 3).tolist()
    [2.0, 12.0, 30.0]
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    # best[l, j]: least within-class sum of squares of the first l values in j classes;
    # start[l, j]: where (1-based) the last of those classes starts
    start = np.zeros((n + 1, classes + 1), dtype=np.int32)
    best = np.zeros((n + 1, classes + 1), dtype=np.float32)
    start[1, 1:] = 1
    best[2:, 1:] = np.inf
    x32 = x.astype(np.float32)
    for last in range(2, n + 1):
        run = x32[last - 1::-1]  # values last, last - 1, ..., 1: the runs ending at `last`
        s1 = np.cumsum(run, dtype=np.float32)
        s2 = np.cumsum(run * run, dtype=np.float32)
        w = np.arange(1, last + 1, dtype=np.float32)
        v = s2 - (s1 * s1) / w  # sum of squares of the run of m values ending at `last`
        if classes > 1:
            before = np.arange(last - 1, 0, -1)  # values before a run of m = 1 .. last - 1
            candidates = v[:last - 1, None] + best[before, 1:classes]
            least = candidates.min(axis=0)
            # ties go to the longest run, as the sequential ">=" update does
            ties = candidates == least
            m = last - 1 - np.argmax(ties[::-1], axis=0)  # the last class's length
            start[last, 2:] = last - m + 1
            best[last, 2:] = least
        start[last, 1] = 1
        best[last, 1] = v[-1]
    bounds = np.zeros(classes + 1, dtype=x.dtype)
    bounds[classes] = x[-1]
    bounds[0] = x[0]
    k = n
    for j in range(classes, 1, -1):
        pivot = start[k, j]
        bounds[j - 1] = x[int(pivot - 2)]
        k = int(pivot - 1)
    return bounds[1:]


def choropleth(areas, value: str, *, title: str, legend_title: str, caption: str, alt: str,
               synthetic: bool, label: str | None = None, labelled: int = 0,
               fmt: str = "{:.1f}") -> Figure:
    """Shade areas (a GeoDataFrame in British National Grid) by `value` in Fisher-Jenks
    classes; areas without a value are grey. The `labelled` highest areas are named by their
    `label` column."""
    _theme()
    frame = areas.copy()
    values = pd.to_numeric(frame[value], errors="coerce")
    breaks = class_breaks(values)
    picks = np.linspace(0, len(SEQUENTIAL) - 1, max(1, len(breaks))).round().astype(int)
    colours = [SEQUENTIAL[i] for i in picks]
    klass = np.searchsorted(np.array(breaks), values.to_numpy(), side="left")
    fig, ax = plt.subplots(figsize=(8, 7))
    facecolors = [NO_DATA if not np.isfinite(v) else colours[min(k, len(colours) - 1)]
                  for v, k in zip(values, klass, strict=True)]
    frame.plot(ax=ax, color=facecolors, edgecolor="#404040", linewidth=0.5)
    handles = []
    lower = float(values.min()) if values.notna().any() else 0.0
    for i, upper in enumerate(breaks):
        handles.append(Patch(facecolor=colours[min(i, len(colours) - 1)], edgecolor="#404040",
                             label=f"{fmt.format(lower)} to {fmt.format(upper)}"))
        lower = upper
    if values.isna().any():
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#404040", label="No data"))
    ax.legend(handles=handles, title=chart_text(legend_title), loc="upper left",
              bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8, title_fontsize=9)
    if label and labelled:
        top = frame.assign(_v=values).dropna(subset=["_v"]).nlargest(labelled, "_v")
        for _, row in top.iterrows():
            point = row.geometry.representative_point()
            ax.annotate(chart_text(row[label]), (point.x, point.y), ha="center", va="center",
                        fontsize=7, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                          "ec": "none", "alpha": 0.75})
    _decorate(ax, bounds=frame.total_bounds)
    ax.set_title(chart_text(title), loc="left")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def _gridsize(x: np.ndarray, hexagon_metres: float) -> int:
    width = max(float(np.ptp(x)), hexagon_metres) if len(x) else hexagon_metres
    return max(1, round(width / hexagon_metres))


def hexagon_counts(x, y, *, hexagon_metres: float) -> np.ndarray:
    """Points per non-empty hexagon on the grid :func:`hexagon_map` draws.

    >>> hexagon_counts([0, 10, 20, 5000], [0, 0, 0, 0], hexagon_metres=400).tolist()
    [3.0, 1.0]
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if not len(x):
        return np.empty(0)
    fig, ax = plt.subplots()
    cells = ax.hexbin(x, y, gridsize=_gridsize(x, hexagon_metres), mincnt=1)
    counts = np.asarray(cells.get_array(), dtype=float)
    plt.close(fig)
    return counts


def hexagon_map(x: np.ndarray, y: np.ndarray, *, hexagon_metres: float, title: str,
                caption: str, alt: str, synthetic: bool,
                legend_title: str = "Offences per hexagon") -> Figure:
    """Point density on a hexagon grid (x, y in British National Grid metres); hexagons with
    no points are left blank."""
    _theme()
    x, y = np.asarray(x, float), np.asarray(y, float)
    fig, ax = plt.subplots(figsize=(8, 7))
    if len(x):
        cells = ax.hexbin(x, y, gridsize=_gridsize(x, hexagon_metres), mincnt=1, cmap="Blues",
                          linewidths=0.2, edgecolors="#9ecae1")
        bar = fig.colorbar(cells, ax=ax, shrink=0.6, pad=0.02)
        bar.set_label(chart_text(legend_title))
        _decorate(ax, bounds=(x.min(), y.min(), x.max(), y.max()))
    else:
        ax.text(0.5, 0.5, "No located offences", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    ax.set_title(chart_text(title), loc="left")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)
