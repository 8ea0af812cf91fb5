"""The funnel plot: each area's value against its size, the comparison value as a line and
its control limits, one area highlighted and named (Spiegelhalter 2005, "Funnel plots for
comparing institutional performance", Statistics in Medicine 24:1185-1202; the limits come from
:func:`smp_analysis.methods.funnel.funnel_limits`).

Every district of a county draws the same funnel with another district highlighted, and a
batch worker builds many of them (ten in a demo appendix). The picture is therefore made
in two layers: the funnel itself (limits, line, every area's point in grey, titles, axes and
legend: nearly all of the 150 ms a funnel takes to draw, most of it ticks and text) is painted
once a process for the same data and remembered under the SHA-256 of what it shows; the
highlight (the focus area's point in the Analysis Function's focus colour, over its grey
point, and its name) is painted alone on a transparent figure, where the funnel's axes put
that point, and laid over it. A picture whose highlight would reach outside the funnel's crop
is drawn whole instead; either way the same inputs give the same PNG, whatever was
remembered before.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict
from dataclasses import dataclass

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.markers import MarkerStyle
from matplotlib.transforms import IdentityTransform, offset_copy

from . import png
from .charts import (
    FOCUS_COLOUR,
    OTHER_COLOUR,
    PALETTE,
    SYNTHETIC_LABEL,
    Figure,
    _theme,
    chart_text,
)

SIZE = (8.5, 4.6)  # inches
REMEMBERED = 16  # funnels kept a process: a county's partner indicators and its crime rates


@dataclass(frozen=True)
class _Funnel:
    """A funnel painted without its highlight: the pixels of its crop, where the crop lies in
    the painted picture, and where its axes drew (to paint a highlight in the same place)."""

    pixels: np.ndarray  # the crop, RGBA, rows top down
    box: tuple  # left, top, right, bottom of the crop in the painted picture, in pixels
    painted_shape: tuple
    dpi: float
    position: tuple  # the axes' box in figure coordinates
    xlim: tuple
    ylim: tuple

    def png(self, pixels: np.ndarray | None = None) -> bytes:
        """The PNG of the crop (`pixels`: the crop drawn on)."""
        pixels = self.pixels if pixels is None else pixels
        return png.Painted(pixels, (0, 0, pixels.shape[1], pixels.shape[0]), self.dpi).png()


_funnels: OrderedDict[bytes, _Funnel | None] = OrderedDict()


def funnel_plot(points: pd.DataFrame, curve: pd.DataFrame, *, target: float, focus: str,
                title: str, xlabel: str, ylabel: str, caption: str, alt: str, synthetic: bool,
                target_label: str = "Comparison average") -> Figure:
    """A funnel plot: one point per area (``denominator``, ``value``, ``name``; indexed by
    code, the `focus` area highlighted and named), the target as a line, and the control
    limits of `curve` (``denominator`` and ``lower_95, upper_95, lower_99.8, upper_99.8``
    columns from :func:`smp_analysis.methods.funnel.funnel_limits`) as dashed (95%) and solid
    (99.8%) lines."""
    if not alt.strip():
        raise ValueError("every figure needs alt text")
    drawing = dict(points=points[["denominator", "value"]], curve=curve, target=target,
                   title=title, xlabel=xlabel, ylabel=ylabel, target_label=target_label,
                   synthetic=synthetic)
    funnel = _remembered(drawing)
    row = points.loc[focus] if focus in points.index else None
    if row is not None and not np.isfinite([row["denominator"], row["value"]]).all():
        row = None  # no point to highlight (matplotlib draws none for a missing value)
    picture = None
    if funnel is not None:
        picture = funnel.png() if row is None else _highlighted(funnel, row)
    if picture is None:  # painted whole: no room was enough, or the name reaches outside
        fig, ax = _draw(**drawing)
        if row is not None:
            _highlight(fig, _Axes.of(ax), row)
        picture = png.figure_png(fig)
        plt.close(fig)
    return Figure(picture, caption, alt)


def _remembered(drawing: dict) -> _Funnel | None:
    key = hashlib.sha256(pickle.dumps(sorted(drawing.items()), protocol=5)).digest()
    if key in _funnels:
        _funnels.move_to_end(key)
        return _funnels[key]
    fig, ax = _draw(**drawing)
    painted = png.paint(fig, left=png.ROOM_SIDES, right=png.ROOM_SIDES)
    funnel = None
    if painted is not None:
        left, top, right, bottom = painted.box
        funnel = _Funnel(painted.rgba[top:bottom, left:right].copy(), painted.box,
                         painted.rgba.shape, painted.dpi, tuple(ax.get_position().bounds),
                         ax.get_xlim(), ax.get_ylim())
    plt.close(fig)
    _funnels[key] = funnel
    if len(_funnels) > REMEMBERED:
        _funnels.popitem(last=False)
    return funnel


def _draw(*, points: pd.DataFrame, curve: pd.DataFrame, target: float, title: str,
          xlabel: str, ylabel: str, target_label: str, synthetic: bool):
    """The funnel without its highlight: every area a grey point."""
    _theme()
    fig, ax = plt.subplots(figsize=SIZE)
    styles = {"95": ("--", "#7f7f7f"), "99.8": ("-", "#404040")}
    for name, (style, colour) in styles.items():
        if f"upper_{name}" not in curve:
            continue
        ax.plot(curve["denominator"], curve[f"upper_{name}"], ls=style, color=colour, lw=1,
                label=f"{name}% limits")
        ax.plot(curve["denominator"], curve[f"lower_{name}"], ls=style, color=colour, lw=1)
    ax.axhline(target, color=PALETTE[0], lw=1.2, label=chart_text(f"{target_label} "
                                                                    f"({target:,.1f})"))
    ax.scatter(points["denominator"], points["value"], s=36, color=OTHER_COLOUR,
               edgecolors=PALETTE[0], linewidths=0.6, zorder=3, label="Other areas")
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel(chart_text(xlabel))
    ax.set_ylabel(chart_text(ylabel))
    if ax.get_ylim()[0] < 0:
        ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    if synthetic:
        fig.text(0.99, 0.01, SYNTHETIC_LABEL, ha="right", va="bottom", fontsize=9,
                 color="#a00000", alpha=0.8)
    return fig, ax


def _highlight(fig: plt.Figure, funnel: _Funnel | _Axes, row: pd.Series) -> None:
    """The focus area's point, larger and in the focus colour, and its name beside it, drawn
    on the figure where `funnel`'s axes put them (no axes of its own: a new axes costs more
    than the highlight)."""
    x0, y0, width, height = funnel.position
    (x_low, x_high), (y_low, y_high) = funnel.xlim, funnel.ylim
    x = x0 + width * (float(row["denominator"]) - x_low) / (x_high - x_low)
    y = y0 + height * (float(row["value"]) - y_low) / (y_high - y_low)
    # the disc as ax.scatter(s=70) makes it (a circle of 70 square points, edged in its own
    # colour), placed in figure coordinates instead of the axes' data coordinates
    marker = MarkerStyle("o")
    disc = PathCollection((marker.get_path().transformed(marker.get_transform()),), [70],
                          facecolors=FOCUS_COLOUR, edgecolors=FOCUS_COLOUR, offsets=[(x, y)],
                          offset_transform=fig.transFigure, zorder=4)
    disc.set_transform(IdentityTransform())
    fig.add_artist(disc)
    fig.text(x, y, chart_text(row["name"]), color=FOCUS_COLOUR, fontweight="bold", zorder=5,
             transform=offset_copy(fig.transFigure, fig=fig, x=6, y=6, units="points"))


@dataclass(frozen=True)
class _Axes:
    """Where an axes draws: its box in figure coordinates and its limits."""

    position: tuple
    xlim: tuple
    ylim: tuple

    @classmethod
    def of(cls, ax) -> _Axes:
        return cls(tuple(ax.get_position().bounds), ax.get_xlim(), ax.get_ylim())


def _highlighted(funnel: _Funnel, row: pd.Series) -> bytes | None:
    """The PNG of `funnel` with `row` highlighted, the highlight painted on a transparent copy
    of its axes and laid over it; None when the highlight reaches outside the funnel's crop."""
    _theme()
    fig = plt.figure(figsize=SIZE)
    _highlight(fig, funnel, row)
    layer = png.paint(fig, left=png.ROOM_SIDES, right=png.ROOM_SIDES, transparent=True)
    plt.close(fig)
    if layer is None or layer.rgba.shape != funnel.painted_shape:
        return None
    left, top, right, bottom = funnel.box
    alpha = layer.rgba[..., 3]
    inside = alpha[top:bottom, left:right]
    rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if int(np.count_nonzero(alpha)) != int(np.count_nonzero(inside)) or not len(rows):
        return None
    pixels = funnel.pixels.copy()
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    over = layer.rgba[top + r0:top + r1, left + c0:left + c1].astype(np.uint16)
    under = pixels[r0:r1, c0:c1].astype(np.uint16)
    a = over[..., 3:4]
    pixels[r0:r1, c0:c1, :3] = ((over[..., :3] * a + under[..., :3] * (255 - a) + 127)
                                // 255).astype(np.uint8)
    return funnel.png(pixels)
