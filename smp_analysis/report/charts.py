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
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..periods import ReportingPeriod  # noqa: E402
from .markup import SYNTHETIC_LABEL, Block, escape, neutralise  # noqa: E402

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6"]
FOCUS_COLOUR = "#c55a11"
OTHER_COLOUR = "#9dc3e6"


# The caption's opening; the appendix build numbers it: '<figcaption id="figure-4-1">Figure 4.1:'
FIGURE_LABEL = "<figcaption>Figure:"


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
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE,
                  rc={"figure.dpi": 100, "savefig.dpi": 110, "axes.titleweight": "bold",
                      "font.family": "DejaVu Sans", "text.parse_math": False,
                      "text.usetex": False})


def finish(fig: plt.Figure, *, caption: str, alt: str, synthetic: bool) -> Figure:
    """Stamp, render to PNG and close a matplotlib figure."""
    if not alt.strip():
        raise ValueError("every figure needs alt text")
    if synthetic:
        fig.text(0.99, 0.01, SYNTHETIC_LABEL, ha="right", va="bottom", fontsize=9,
                 color="#a00000", alpha=0.8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Figure(buffer.getvalue(), caption, alt)


def monthly_lines(frame: pd.DataFrame, *, series: str, value: str, title: str,
                  period: ReportingPeriod, caption: str, alt: str, synthetic: bool,
                  ylabel: str = "Offences per month") -> Figure:
    """Monthly counts as lines, one per `series`, with the assessment period shaded."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (name, part) in enumerate(frame.groupby(series, sort=False)):
        ax.plot(part["month"], part[value], label=chart_text(name),
                color=PALETTE[i % len(PALETTE)], lw=1.8)
    ax.axvspan(pd.Timestamp(period.start), pd.Timestamp(period.end), color="#ffe699", alpha=0.5,
               label="Assessment period")
    ax.set_title(chart_text(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def change_bars(table: pd.DataFrame, *, title: str, caption: str, alt: str,
                synthetic: bool) -> Figure:
    """Horizontal bars of percent change by label (index), rises and falls coloured."""
    _theme()
    data = table.sort_values("percent_change")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(data) + 1.2))
    colours = [FOCUS_COLOUR if v > 0 else PALETTE[0] for v in data["percent_change"]]
    ax.barh([chart_text(x) for x in data.index], data["percent_change"], color=colours)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel("% change on previous period")
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
    ax.axvline(reference, color="black", ls="--", lw=1,
               label=f"{chart_text(reference_label)} ({reference:.1f})")
    ax.set_title(chart_text(title), loc="left")
    ax.set_xlabel("Offences per 1,000 residents")
    ax.legend(loc="lower right", frameon=True)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def monthly_with_flags(series: pd.DataFrame, flagged: pd.DataFrame, *, value: str, title: str,
                       caption: str, alt: str, synthetic: bool,
                       ylabel: str = "Records per month") -> Figure:
    """One monthly series per force, with flagged months marked by red rings."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for i, (force, part) in enumerate(series.groupby("force", sort=True)):
        part = part.sort_values("month")
        ax.plot(part["month"], part[value], color=PALETTE[i % len(PALETTE)], lw=1.4, label=chart_text(force))
        marks = part[part["month"].isin(flagged.loc[flagged["force"] == force, "month"])]
        ax.scatter(marks["month"], marks[value], s=80, facecolors="none", edgecolors="#c00000",
                   linewidths=2, zorder=3, label="Flagged month" if i == 0 else None)
    ax.set_title(chart_text(title), loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", frameon=True)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def expected_grid(history: pd.DataFrame, *, period: ReportingPeriod, title: str, caption: str,
                  alt: str, synthetic: bool, columns: int = 3) -> Figure:
    """Small multiples: actual (line), anticipated (dashed), band up to the upper bound, and
    months above the upper bound (red dots), one panel per crime category."""
    _theme()
    types = list(dict.fromkeys(history["crime_type"]))
    rows = -(-len(types) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(11, 2.3 * rows), sharex=True,
                             squeeze=False)
    for ax, crime_type in zip(axes.flat, types, strict=False):
        part = history[history["crime_type"] == crime_type].sort_values("month")
        ax.fill_between(part["month"], 0, part["upperbound"], color=OTHER_COLOUR, alpha=0.35,
                        step="mid", label="Up to upper bound")
        ax.plot(part["month"], part["expected"], color=PALETTE[0], ls="--", lw=1.2,
                label="Anticipated")
        ax.plot(part["month"], part["observed"], color="black", lw=1.4, label="Actual")
        hot = part[part["exceeds"]]
        ax.scatter(hot["month"], hot["observed"], color="#c00000", s=22, zorder=3,
                   label="Above upper bound")
        ax.axvline(pd.Timestamp(period.start), color="#7f7f7f", lw=0.8)
        ax.set_title(chart_text(crime_type), fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    for ax in list(axes.flat)[len(types):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(chart_text(title), x=0.01, ha="left", fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


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
    ax.barh([chart_text(w) for w in visible["Ward"]], visible["rate"], color=PALETTE[0])
    if total["Repeat incident rate"] != "–":
        overall = float(total["Repeat incident rate"].rstrip("%"))
        ax.axvline(overall, color=FOCUS_COLOUR, ls="--", lw=1.2,
                   label=chart_text(f"{total['Ward']} ({overall:.1f}%)"))
        ax.legend(loc="lower right")
    ax.set_xlabel("Repeat incidents as % of incidents")
    ax.set_title(chart_text(title), loc="left")
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)


def recording_chart(series: pd.DataFrame, *, change_date, period: ReportingPeriod, title: str,
                    caption: str, alt: str, synthetic: bool) -> Figure:
    """Recorded monthly counts against the same counts adjusted to the old recording
    practice (with the uplift's interval shaded), the change date marked."""
    _theme()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.plot(series["month"], series["observed"], color="black", lw=1.4, label="Recorded")
    ax.plot(series["month"], series["adjusted"], color=PALETTE[0], lw=1.4, ls="--",
            label="Adjusted to the old recording practice")
    ax.fill_between(series["month"], series["adjusted_low"], series["adjusted_high"],
                    color=OTHER_COLOUR, alpha=0.4, label="95% interval of the uplift")
    ax.axvline(pd.Timestamp(change_date), color=FOCUS_COLOUR, lw=1.2,
               label="Recording change")
    ax.axvspan(pd.Timestamp(period.start), pd.Timestamp(period.end), color="#ffe699", alpha=0.4,
               label="Assessment period")
    ax.set_title(chart_text(title), loc="left")
    ax.set_ylabel("Offences per month")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return finish(fig, caption=caption, alt=alt, synthetic=synthetic)
