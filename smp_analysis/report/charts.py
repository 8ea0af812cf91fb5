"""One house style for every chart, with a caption and alt text on every figure.

Charts are returned as :class:`Figure` blocks that render in Jupyter and in the HTML appendix
as ``<figure>`` with an embedded PNG (no external files), escaped alt text and a caption whose
``Figure`` label the appendix build numbers by chapter ("Figure 4.1"). A chart built on
synthetic data carries the words "Synthetic demonstration data" inside the image too.

Text inside images comes from data too (district, ward and force names): matplotlib's mathtext
is switched off, so ``$``, ``_``, ``^`` and ``%`` are drawn literally, and hidden control
characters are shown as markers (:func:`~smp_analysis.report.markup.neutralise`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from afcharts.af_colours import get_af_colours  # noqa: E402

from ..periods import ReportingPeriod  # noqa: E402
from .markup import FIGURE_LABEL, SYNTHETIC_LABEL, Block, escape, neutralise  # noqa: E402
from .png import ROOM_SIDES, figure_png  # noqa: E402

# Government Analysis Function colours (afcharts; analysisfunction.civilservice.gov.uk,
# "Data visualisation: colours"): the categorical palette for series, the focus pair (dark blue
# against grey) to pick one area out of many, the duo pair for rises and falls.
PALETTE = get_af_colours("categorical")  # dark blue, turquoise, dark pink, orange, grey, plum
FOCUS_COLOUR, OTHER_COLOUR = get_af_colours("focus")  # #12436D, #BFBFBF
RISE_COLOUR = get_af_colours("duo")[1]  # orange #F46A25
FALL_COLOUR = get_af_colours("duo")[0]  # dark blue #12436D
SHADE_COLOUR = get_af_colours("sequential")[4]  # light blue #ADD1F1, for bands and periods
FLAG_COLOUR = get_af_colours("categorical")[2]  # dark pink #801650, for flagged months
MUTED_COLOUR = "#757575"  # grey with 4.6:1 contrast on white, for lines of the unchosen



@dataclass(frozen=True, repr=False)
class Figure(Block):
    """A rendered chart: PNG bytes, caption and alt text."""

    png: bytes
    caption: str
    alt: str

    def text(self) -> str:  # the text/plain output in notebooks: no image bytes
        return f"Figure: {self.caption}"

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (f'<figure class="smp-figure"><img src="data:image/png;base64,{data}" '
                f'alt="{escape(self.alt)}" />'
                f"{FIGURE_LABEL} {escape(self.caption)}</figcaption></figure>")


def chart_text(text: object) -> str:
    """Text from data as it should be drawn in a chart: hidden controls made visible, and a
    leading underscore kept (matplotlib leaves labels starting with "_" out of legends).

    >>> chart_text("_North"), chart_text("Fant\u202e")
    (' _North', 'Fant[U+202E]')
    """
    text = neutralise(str(text))
    return " " + text if text.startswith("_") else text


def _theme() -> None:
    """The Government Analysis Function chart style: afcharts' matplotlib style sheet
    (sans-serif text, no top or right spines, light horizontal gridlines only, no legend
    frame, the AF categorical palette; Analysis Function, "Data visualisation: charts",
    analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-charts/), plus what
    the appendix needs: Arial or its metric twin Liberation Sans, mathtext off so text from
    data draws literally, and a fixed resolution."""
    sns.reset_orig()
    plt.style.use("afcharts.afcharts")
    plt.rcParams.update({
        "font.family": "sans-serif", "font.sans-serif": ["Arial", "Liberation Sans", "DejaVu Sans"],
        "font.size": 12, "axes.titlesize": 13, "axes.titleweight": "bold",
        "axes.labelsize": 12, "xtick.labelsize": 11, "ytick.labelsize": 11,
        "legend.fontsize": 11, "figure.dpi": 100, "savefig.dpi": 110,
        "text.parse_math": False, "text.usetex": False,
        # tick labels in full (no "1e6" or "+2.02e3" above an axis, which a lay reader may
        # miss), so nothing is ever drawn between an axes and its title: the title stays at
        # the top of the axes without matplotlib measuring every tick label of every axes
        # again at each draw to place it (a tenth of an appendix's time)
        "axes.formatter.useoffset": False, "axes.formatter.limits": (-9, 15),
        "axes.titley": 1.0})


def _value_grid(ax, axis: str) -> None:
    """Gridlines along the value axis only (horizontal bars: vertical lines)."""
    ax.grid(False)
    ax.grid(True, axis=axis, color="0.8", linewidth=0.6)
    ax.set_axisbelow(True)
    if axis == "x":  # horizontal bars: the category axis needs no line, the value axis none
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="y", length=0)


def label_line_ends(ax, lines: list[tuple[str, pd.Series, pd.Series, str]], *,
                    min_gap: float = 0.06) -> None:
    """Direct labels at the right-hand end of each line instead of a legend (Analysis
    Function guidance), nudged apart vertically so they never overlap. `lines` are
    ``(label, x, y, colour)``; labels are drawn as given (pass them through chart_text)."""
    ends = [(label, x.iloc[-1], float(y.iloc[-1]), colour) for label, x, y, colour in lines
            if len(x)]
    if not ends:
        return
    low, high = ax.get_ylim()
    gap = min_gap * (high - low)
    placed: list[float] = []
    for label, x, y, colour in sorted(ends, key=lambda e: e[2]):
        target = y if not placed else max(y, placed[-1] + gap)
        placed.append(target)
        ax.annotate(label, xy=(x, target), xytext=(6, 0), textcoords="offset points",
                    color=colour, fontsize=11, va="center", ha="left", annotation_clip=False)


def finish(fig: plt.Figure, *, caption: str, alt: str, synthetic: bool,
           room_left: float = ROOM_SIDES) -> Figure:
    """Stamp, render to PNG and close a matplotlib figure (`room_left`: inches its labels may
    reach left of the figure)."""
    if not alt.strip():
        raise ValueError("every figure needs alt text")
    if synthetic:
        fig.text(0.99, 0.01, SYNTHETIC_LABEL, ha="right", va="bottom", fontsize=9,
                 color="#a00000", alpha=0.8)
    png = figure_png(fig, room_left=room_left)
    plt.close(fig)
    return Figure(png, caption, alt)


def monthly_lines(frame: pd.DataFrame, *, series: str, value: str, title: str,
                  period: ReportingPeriod, caption: str, alt: str, synthetic: bool,
                  ylabel: str = "Offences per month") -> Figure:
    """Monthly counts as lines, one per `series`, with the assessment period shaded."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 4))
    lines = []
    for i, (name, part) in enumerate(frame.groupby(series, sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(part["month"], part[value], color=colour, lw=2)
        lines.append((chart_text(name), part["month"], part[value], colour))
    _mark_period(ax, period)
    ax.set_title(chart_text(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    label_line_ends(ax, lines)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def _mark_period(ax, period: ReportingPeriod, *, alpha: float = 0.45) -> None:
    """Shade the assessment period and label it inside the plot (no legend entry)."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    ax.axvspan(start, end, color=SHADE_COLOUR, alpha=alpha, lw=0)
    ax.annotate("Assessment period", xy=(start, 0.0), xycoords=("data", "axes fraction"),
                xytext=(3, 3), textcoords="offset points", va="bottom", ha="left", fontsize=10,
                color="#3D3D3D")


def change_bars(table: pd.DataFrame, *, title: str, caption: str, alt: str,
                synthetic: bool) -> Figure:
    """Horizontal bars of percent change by label (index), rises and falls coloured."""
    _theme()
    data = table.sort_values("percent_change")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(data) + 1.2))
    colours = [RISE_COLOUR if v > 0 else FALL_COLOUR for v in data["percent_change"]]
    ax.barh([chart_text(x) for x in data.index], data["percent_change"], color=colours)
    _value_grid(ax, "x")
    ax.axvline(0, color="#3D3D3D", lw=0.8)
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel("% change on previous period (orange: rise, blue: fall)")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def rate_bars(table: pd.DataFrame, *, focus: str, reference: float, title: str, caption: str,
              alt: str, synthetic: bool, label: str = "area_name",
              reference_label: str = "County rate") -> Figure:
    """Rates per 1,000 by area, the focus area highlighted, the pooled rate as a line."""
    _theme()
    data = table.sort_values("rate_per_1000")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(data) + 1.2))
    colours = [FOCUS_COLOUR if code == focus else OTHER_COLOUR for code in data.index]
    ax.barh([chart_text(x) for x in data[label]], data["rate_per_1000"], color=colours)
    _value_grid(ax, "x")
    ax.axvline(reference, color="#3D3D3D", ls="--", lw=1.2)
    ax.annotate(f"{chart_text(reference_label)} ({reference:.1f})", xy=(reference, 0),
                xycoords=("data", "axes fraction"), xytext=(4, 4), textcoords="offset points", fontsize=10,
                color="#3D3D3D", ha="left", va="bottom",
                bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"})
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel("Offences per 1,000 residents")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def monthly_with_flags(series: pd.DataFrame, flagged: pd.DataFrame, *, value: str, title: str,
                       caption: str, alt: str, synthetic: bool,
                       ylabel: str = "Records per month") -> Figure:
    """One monthly series per force, with flagged months marked by red rings."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for i, (force, part) in enumerate(series.groupby("force", sort=True)):
        part = part.sort_values("month")
        ax.plot(part["month"], part[value], color=PALETTE[i % len(PALETTE)], lw=1.6,
                label=chart_text(force))
        marks = part[part["month"].isin(flagged.loc[flagged["force"] == force, "month"])]
        ax.scatter(marks["month"], marks[value], s=80, facecolors="none", edgecolors=FLAG_COLOUR,
                   linewidths=2, zorder=3, label="Flagged month" if i == 0 else None)
    ax.set_title(chart_text(title), loc="left", pad=28)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, borderaxespad=0.2)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def expected_grid(history: pd.DataFrame, *, period: ReportingPeriod, title: str, caption: str,
                  alt: str, synthetic: bool, columns: int = 3) -> Figure:
    """Small multiples: actual (line), anticipated (dashed), band up to the upper bound, and
    months above the upper bound (red dots), one panel per crime category."""
    _theme()
    types = list(dict.fromkeys(history["crime_type"]))
    rows = -(-len(types) // columns)
    # one time axis for every panel, set by hand: sharing it would make matplotlib measure
    # every panel's tick labels against every other's at each draw (quadratic in panels)
    fig, axes = plt.subplots(rows, columns, figsize=(11, 2.3 * rows), squeeze=False)
    _grid_spacing(fig, rows, columns, top=0.95, gap_w=0.6, gap_h=0.5)
    first, last = history["month"].min(), history["month"].max()
    margin = (last - first) * plt.rcParams["axes.xmargin"]
    for ax, crime_type in zip(axes.flat, types, strict=False):
        part = history[history["crime_type"] == crime_type].sort_values("month")
        ax.fill_between(part["month"], 0, part["upperbound"], color=SHADE_COLOUR, alpha=0.6,
                        step="mid", lw=0, label="Up to upper bound")
        ax.plot(part["month"], part["expected"], color=PALETTE[0], ls="--", lw=1.2,
                label="Anticipated")
        ax.plot(part["month"], part["observed"], color="#0b0c0c", lw=1.4, label="Actual")
        hot = part[part["exceeds"]]
        ax.scatter(hot["month"], hot["observed"], color=RISE_COLOUR, s=22, zorder=3,
                   label="Above upper bound")
        ax.axvline(pd.Timestamp(period.start), color="#3D3D3D", lw=0.8)
        ax.set_title(chart_text(crime_type), fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(mticker.MaxNLocator(nbins=4, integer=True))
        ax.set_xlim(first - margin, last + margin)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    for index, ax in enumerate(axes.flat):
        if index >= len(types):
            ax.set_visible(False)
        elif index + columns < len(types):  # dates under the lowest panel of each column only
            ax.tick_params(labelbottom=False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    height = fig.get_figheight()
    fig.legend(handles, labels, loc="upper right", bbox_to_anchor=(1, 1), ncol=4, fontsize=8,
               frameon=False)
    fig.suptitle(chart_text(title), x=0.01, y=1 - 0.35 / height, ha="left", va="top",
                 fontweight="bold")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def _grid_spacing(fig: plt.Figure, rows: int, columns: int, *, top: float, gap_w: float,
                  gap_h: float) -> None:
    """Space a grid of small panels by fixed gaps in inches (room for a panel's title and its
    tick labels) and leave `top` inches above it for a title and legend. Cheaper than
    ``tight_layout``, which draws every panel once more only to measure it; the saved image is
    cropped to its content either way (``bbox_inches="tight"``)."""
    width, height = fig.get_size_inches()
    left, right, bottom = 0.5 / width, 1 - 0.1 / width, 0.45 / height
    upper = 1 - top / height
    panel_w = (width * (right - left) - (columns - 1) * gap_w) / columns
    panel_h = (height * (upper - bottom) - (rows - 1) * gap_h) / rows
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=upper,
                        wspace=gap_w / panel_w, hspace=gap_h / panel_h)


def ward_rate_bars(shown: pd.DataFrame, *, title: str, caption: str, alt: str,
                   synthetic: bool) -> Figure:
    """Repeat incident rate by ward from an already-suppressed table (rates shown as text);
    wards whose rate is hidden are left out, the total row is drawn as a reference line."""
    _theme()
    body, total = shown.iloc[:-1], shown.iloc[-1]
    visible = body[body["Repeat incident rate"] != "–"].copy()
    visible["rate"] = visible["Repeat incident rate"].str.rstrip("%").astype(float)
    visible = visible.sort_values("rate")
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(visible) + 1.2))
    ax.barh([chart_text(w) for w in visible["Ward"]], visible["rate"], color=FOCUS_COLOUR)
    _value_grid(ax, "x")
    if total["Repeat incident rate"] != "–":
        overall = float(total["Repeat incident rate"].rstrip("%"))
        ax.axvline(overall, color=RISE_COLOUR, ls="--", lw=1.5)
        ax.annotate(chart_text(f"{total['Ward']} ({overall:.1f}%)"), xy=(overall, 0),
                    xycoords=("data", "axes fraction"), xytext=(4, 4),
                    textcoords="offset points", fontsize=10, color="#3D3D3D", ha="left",
                    va="bottom", bbox={"boxstyle": "square,pad=0.15", "fc": "white",
                                       "ec": "none"})
    ax.set_xlabel("Repeat incidents as % of incidents")
    ax.set_title(chart_text(title), loc="left")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


# ---- places and patterns: annual totals, seasonal effects, Lorenz curves --------------------
def annual_lines(frame: pd.DataFrame, *, title: str, caption: str, alt: str,
                 synthetic: bool, ylabel: str = "Offences or incidents a year") -> Figure:
    """Annual totals: one line per row of `frame` (columns are the years, oldest first)."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 4))
    years = [chart_text(c) for c in frame.columns]
    for i, (name, row) in enumerate(frame.iterrows()):
        ax.plot(years, row.to_numpy(), marker="o", lw=1.8, color=PALETTE[i % len(PALETTE)],
                label=chart_text(name))
    ax.set_title(chart_text(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def seasonal_heatmap(effects: pd.DataFrame, *, title: str, caption: str, alt: str,
                     clear: list, synthetic: bool) -> Figure:
    """Month-of-year effects (rows: series, columns: calendar months 1-12, values: level over
    the average month) as % above or below average; rows not in `clear` get an asterisk."""
    import calendar

    _theme()
    data = 100 * (effects.astype(float) - 1)
    data.columns = [calendar.month_abbr[int(m)] for m in data.columns]
    data.index = [chart_text(n) + ("" if n in clear else " *") for n in effects.index]
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(data) + 1.5))
    limit = max(10.0, float(data.abs().max().max()))
    sns.heatmap(data, ax=ax, cmap="RdBu_r", center=0, vmin=-limit, vmax=limit, annot=True,
                fmt=".0f", annot_kws={"fontsize": 7}, linewidths=0.4,
                cbar_kws={"label": "% above (+) or below (-) the average month"})
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def lorenz_curves(curves: dict, *, title: str, caption: str, alt: str, synthetic: bool,
                  areas: str = "LSOAs") -> Figure:
    """Lorenz curves (``area_share``, ``crime_share`` frames by name) with the line of
    equality."""
    _theme()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.plot([0, 100], [0, 100], color="#7f7f7f", ls="--", lw=1, label="Equal share")
    for i, (name, curve) in enumerate(curves.items()):
        ax.plot(100 * curve["area_share"], 100 * curve["crime_share"], lw=1.8,
                color=PALETTE[i % len(PALETTE)], label=chart_text(name))
    ax.set_xlabel(f"% of {areas}, from least to most crime")
    ax.set_ylabel("% of offences or incidents")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_title(chart_text(title), loc="left")
    ax.legend(loc="upper left", frameon=True, fontsize=8)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)
# ---- end places and patterns ---------------------------------------------------------------


def recording_chart(series: pd.DataFrame, *, change_date, period: ReportingPeriod, title: str,
                    caption: str, alt: str, synthetic: bool) -> Figure:
    """Recorded monthly counts against the same counts adjusted to the old recording
    practice (with the uplift's interval shaded), the change date marked."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.plot(series["month"], series["observed"], color="#0b0c0c", lw=1.6, label="Recorded")
    ax.plot(series["month"], series["adjusted"], color=PALETTE[0], lw=1.6, ls="--",
            label="Adjusted to the old recording practice")
    ax.fill_between(series["month"], series["adjusted_low"], series["adjusted_high"],
                    color=SHADE_COLOUR, alpha=0.6, lw=0, label="95% interval of the uplift")
    ax.axvline(pd.Timestamp(change_date), color=RISE_COLOUR, lw=1.5, label="Recording change")
    _mark_period(ax, period, alpha=0.3)
    ax.set_title(chart_text(title), loc="left", pad=48)
    ax.set_ylabel("Offences per month")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=10,
              borderaxespad=0.2)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


# ---- priorities: the ranking and how far it moves with the weights ------------------------
def rank_ranges(frame: pd.DataFrame, *, title: str, caption: str, alt: str, synthetic: bool,
                top_n: int) -> Figure:
    """One row per candidate (``label``, ``rank``, ``low``, ``high``, ``stability``,
    ``robust``), best rank at the top: a dot at the rank with the given weights, a line over
    the range of ranks across weight draws, and the share of draws in the top `top_n`."""
    _theme()
    data = frame.sort_values(["rank", "label"], ascending=[False, True], kind="stable")
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(data) + 1.4))
    y = range(len(data))
    # recommended: the Analysis Function's focus colour; the rest a grey darker than its
    # "other" grey, so a line still has 3:1 contrast with the page (WCAG 1.4.11)
    colours = [FOCUS_COLOUR if r else MUTED_COLOUR for r in data["robust"]]
    ax.hlines(list(y), data["low"].astype(float), data["high"].astype(float), color=colours,
              lw=2.5, alpha=0.6)
    ax.scatter(data["rank"].astype(float), list(y), color=colours, zorder=3, s=30)
    ax.set_yticks(list(y), [chart_text(x) for x in data["label"]])
    ax.axvline(top_n + 0.5, color="black", ls="--", lw=1)
    ax.set_xlim(0.5, max(float(data["high"].max()), top_n + 1) + 4)
    right = ax.get_xlim()[1]
    for yi, share in zip(y, data["stability"], strict=True):
        ax.text(right - 0.2, yi, f"{share:.0%}", va="center", ha="right", fontsize=8)
    ax.set_xlabel(f"Rank (1 = highest score); dashed line: the top {top_n}; right: share of "
                  f"weight draws in the top {top_n}")
    ax.set_title(chart_text(title), loc="left")
    # the candidates' names reach left of the figure: room for the longest (a tenth of an
    # inch a character is more than the style's font takes)
    longest = max((len(str(x)) for x in data["label"]), default=0)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic,
                  room_left=max(ROOM_SIDES, 0.1 * longest))
