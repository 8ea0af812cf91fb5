"""Chapter: overview of recorded crime and anti-social behaviour, and change on the previous
period, for total crime, the Home Office groups and each police.uk crime type.

Every change compares like for like: the calendar months usable in both periods
(:attr:`~smp_analysis.report.context.Assessment.like_for_like`); below the minimum share of
months no verdict is given, only the caveat. Whether a change is "larger than the usual
variation from year to year" is the dispersion-aware test of
:func:`smp_analysis.methods.change.change_table`, with the dispersion of each series estimated
from the years before the assessment period (:func:`~smp_analysis.methods.change.fit_dispersion`)
and the false discovery rate controlled across the series of each table (Benjamini-Hochberg).
A comparison that straddles a data.police.uk category change uses harmonised groups (crime
types) or only the months after the change (Home Office groups), and says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import categories
from ..categories import (
    ANTI_SOCIAL_BEHAVIOUR,
    CRIME_TYPES,
    GROUP_ORDER,
    TOTAL_CRIME,
    group_types,
)
from ..methods.change import ChangeResult, TooLittleHistory, change_table, fit_dispersion
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic
from ..report.coverage import LikeForLike
from ..report.markup import EMPTY, Block, Blocks, Bullets, Prose
from ..report.tables import Table, table
from ..report.words import capitalise, change_sentence, count, join, p_value, percent, plural

TREND_YEARS = 5


@dataclass(frozen=True)
class Overview(TopicResult):
    area: str
    current: ReportingPeriod
    previous: ReportingPeriod
    comparison: LikeForLike
    groups: pd.DataFrame  # change_table rows + months, of: total crime, the two groups, ASB
    types: pd.DataFrame  # change_table rows + months, of: crime types (harmonised) and ASB
    monthly: pd.DataFrame  # group, month, count (NaN: no usable data)
    history_years: int
    category_notes: tuple[str, ...] = ()
    trend_note: str = ""
    synthetic: bool = False

    def intro(self) -> Block:
        return Prose(
            f"This chapter compares {self.current.name} with {self.previous.name}, for all "
            "police recorded crime, the two Home Office groups (victim-based crime and other "
            "crimes against society) and anti-social behaviour. The test asks whether a change "
            f"is larger than {_usual(self.current)}, allowing for how much monthly counts of "
            "crime vary.")

    def summary(self) -> Block:
        opening = (f"Figures for {self.area} cover {self.current.name}, compared with "
                   f"{self.previous.name}.")
        return Blocks(Prose(" ".join(p for p in (opening, self.comparison.caveat()) if p)),
                      Bullets(self._lines(self.groups)),
                      Prose(self._method_sentence(self.groups), *self.category_notes))

    def groups_table(self) -> Table:
        return self._table(self.groups, f"{self.area}, {self.previous.name} compared with "
                           f"{self.current.name}", label="Category")

    def trend_figure(self) -> charts.Figure:
        shown = self.monthly.dropna(subset=["count"])
        first, last = shown["month"].min(), shown["month"].max()
        return charts.monthly_lines(
            self.monthly, series="group", value="count",
            title=f"{self.area}: recorded crime and ASB per month", period=self.current,
            caption=f"Monthly offences and ASB incidents in {self.area} from {first:%B %Y} to "
                    f"{last:%B %Y}; the shaded band is the assessment period "
                    f"({self.current.name}); gaps are months without usable data."
                    + (f" {self.trend_note}" if self.trend_note else ""),
            alt=_trend_alt_text(self.monthly, self.area), synthetic=self.synthetic)

    def types_summary(self) -> Block:
        if self.comparison.no_previous_data or self.comparison.n == 0:
            return Prose(self.comparison.caveat())
        return Prose(_largest_changes_sentence(self.types))

    def types_table(self) -> Table:
        return self._table(self.types, f"{self.area}, change by crime type",
                           label="Crime type")

    def types_figure(self) -> Block:
        if self.comparison.no_previous_data or self.comparison.n == 0:
            return EMPTY
        types = self.types.dropna(subset=["percent_change"])
        return charts.change_bars(
            types, title=f"{self.area}: % change by crime type",
            caption=f"Percentage change from {self.previous.name} to {self.current.name} by "
                    "crime type" + (f", {self.comparison.scope()}" if self.comparison.scope()
                                    else "") + "; rises in orange, falls in blue.",
            alt=_change_alt_text(types, self.area), synthetic=self.synthetic)

    def headlines(self) -> list[str]:
        if TOTAL_CRIME not in self.groups.index:
            return []
        return [self._line(f"Total recorded crime in {self.area}", self.groups.loc[TOTAL_CRIME],
                           with_caveat=True)]

    # ------------------------------------------------------------------ sentences
    def _lines(self, rows: pd.DataFrame) -> list[str]:
        return [self._line(str(label), row, noun=_noun(label)) for label, row in rows.iterrows()]

    def _line(self, subject: str, row: pd.Series, *, noun: str = "offences",
              with_caveat: bool = False) -> str:
        comparison = self.comparison
        if comparison.no_previous_data or row["months"] == 0:
            text = (f"{subject}: {count(row['current_all'])} {noun} in {self.current.name}"
                    f"{_usable_scope(comparison)}.")
            return f"{text} {comparison.caveat()}" if with_caveat else text
        sentence = change_sentence(subject, _result(row), noun=noun)
        scope = row["scope"]
        if scope:
            sentence = sentence[:-1] + f", {scope}."
        verdict = _verdict(row, _usual(self.current))
        if not verdict and with_caveat:
            verdict = comparison.caveat() or self._why_untested(row)
        return f"{sentence} {verdict}".rstrip()

    def _why_untested(self, row: pd.Series) -> str:
        return str(row.get("untested", "") or "")

    def _method_sentence(self, rows: pd.DataFrame) -> str:
        tested = rows["p_value"].notna()
        if not tested.any():
            return ""
        text = (f"'Larger than {_usual(self.current)}' allows for how much each "
                "series' monthly counts vary (their over-dispersion, estimated from up to "
                f"{plural(self.history_years, 'year')} before the assessment period)")
        if tested.sum() > 1:
            text += (f", with the p-values of the {tested.sum()} series tested together "
                     "adjusted by the Benjamini-Hochberg method")
        untested = rows[~tested & (rows["months"] > 0)]
        text += "."
        reasons = sorted({r for r in untested["untested"] if r})
        return " ".join([text, *reasons])

    def _table(self, changes: pd.DataFrame, caption: str, *, label: str) -> Table:
        no_previous = self.comparison.no_previous_data
        tested = changes["p_value"].notna()
        unpaired = no_previous | (changes["months"] == 0)
        view = pd.DataFrame({
            label: changes.index.astype(str),
            "Previous period": [math.nan if u else v for v, u in zip(changes["previous"],
                                                                     unpaired, strict=True)],
            "Assessment period": [a if u else c for a, c, u in zip(
                changes["current_all"], changes["current"], unpaired, strict=True)],
            "Change": [math.nan if no_previous or m == 0 else v
                       for v, m in zip(changes["change"], changes["months"], strict=True)],
            "% change": [math.nan if no_previous else v for v in changes["percent_change"]],
            "Months compared": [f"{m} of {n}" for m, n in zip(changes["months"], changes["of"],
                                                               strict=True)],
            "Larger than usual variation?": [("Yes" if s else "No") if t else "Not tested"
                                             for s, t in zip(changes["significant"], tested,
                                                             strict=True)],
            "p-value (adjusted)": changes["p_adjusted"].to_numpy(),
        })
        notes = []
        if unpaired.all():
            notes.append("no month can be compared (see the text); the assessment period "
                         "column counts all its months with usable data")
        elif self.comparison.scope():
            notes.append(f"counts {self.comparison.scope()}")
        if tested.sum() > 1:
            notes.append("the test allows for over-dispersion and its p-values are adjusted "
                         f"for the {tested.sum()} series tested together (Benjamini-Hochberg)")
        elif tested.any():
            notes.append("the test allows for over-dispersion")
        full = caption + (f"; {'; '.join(notes)}" if notes else "")
        return table(view, full, counts=("Previous period", "Assessment period"),
                     differences=("Change",), percents=("% change",),
                     p_values=("p-value (adjusted)",))


@topic
def compute(sa: Assessment) -> Overview:
    comparison = sa.like_for_like
    span = categories.changes_between(sa.category_changes, sa.previous.first_month,
                                      sa.current.last_month)
    history = sa.history_coverage()
    wide = _monthly_wide(sa, history.months[0], sa.current.last_month)
    type_labels = categories.harmonised_groups((*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR), span)
    type_rows = {label: frozenset(t for t, g in type_labels.items() if g == label)
                 for label in dict.fromkeys(type_labels.values())}
    group_rows = {label: group_types(label) for label in GROUP_ORDER}
    rows_args = dict(sa=sa, wide=wide, comparison=comparison, span=span, history=history)
    groups = _changes(group_rows, **rows_args)
    types = _changes(type_rows, **rows_args)
    notes = []
    grouped = [label for label, members in type_rows.items() if len(members) > 1]
    if grouped:
        notes.append(f"Because data.police.uk changed its crime categories in "
                     f"{join([c.name for c in span])}, within the periods compared, the types it "
                     "redefined are compared as harmonised groups that mean the same on both "
                     "sides: " + "; ".join(grouped) + ".")
    straddled = [label for label, members in group_rows.items()
                 if any(c.affects(members) for c in span)]
    if straddled:
        notes.append(f"{join(straddled)} are compared only over the months after the category "
                     f"change of {join([c.name for c in span])}, because that change moved "
                     "offences between them.")
    monthly, trend_note = _monthly_by_group(sa, wide, TREND_YEARS)
    return Overview(
        area=sa.focus_name, current=sa.current, previous=sa.previous, comparison=comparison,
        groups=groups, types=types, monthly=monthly,
        history_years=sa.options.expected_years,
        category_notes=tuple(capitalise(n) for n in notes), trend_note=trend_note,
        synthetic=sa.synthetic)


def _monthly_wide(sa: Assessment, first: pd.Period, last: pd.Period) -> pd.DataFrame:
    """Months x crime types for the focus area; months with no usable data are NaN."""
    monthly = sa.monthly(start=first.start_time.date(), end=last.end_time.date(),
                         area_codes=[sa.focus_code])
    months = pd.period_range(first, last, freq="M")
    wide = (monthly.assign(month=pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M"))
            .pivot_table(index="month", columns="crime_type", values="count", aggfunc="sum",
                         fill_value=0)
            .reindex(index=months, columns=[*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR], fill_value=0)
            .astype(float))
    usable = sa.coverage(months)
    wide.loc[~wide.index.isin(usable.usable)] = math.nan
    return wide


def _changes(rows: dict, *, sa: Assessment, wide: pd.DataFrame, comparison: LikeForLike,
             span, history) -> pd.DataFrame:
    """The change table for series `rows` (label -> types), like for like, dispersion-aware,
    with Benjamini-Hochberg across the rows tested."""
    current, previous, phis, dfs, meta = {}, {}, {}, {}, {}
    excluded = set(sa.baseline_excluded)
    for label, members in rows.items():
        columns = [t for t in members if t in wide.columns]
        pairs, after = comparison, None
        for change in span:
            if change.affects(members):
                pairs, after = pairs.after(change.month), change
        series = wide[columns].sum(axis=1, min_count=1) if columns else wide.iloc[:, 0] * 0
        current[label] = int(series.reindex(pairs.current_months).sum())
        previous[label] = int(series.reindex(pairs.previous_months).sum())
        start = categories.series_start(members, sa.category_changes, sa.current.first_month)
        past = series.reindex(history.months)
        past[past.index.isin(excluded)] = math.nan
        if start is not None:
            past[past.index < start] = math.nan
        scope = "" if pairs.complete else (
            f"comparing the {plural(pairs.n, 'month')} after the category change of "
            f"{after.name}" if after is not None else
            f"comparing the {plural(pairs.n, 'month')} with complete data in "
            f"{'both years' if pairs.of == 12 else 'both periods'}")
        untested = ""
        phi, df = math.nan, math.inf
        if not pairs.enough:
            if after is not None and pairs.n:
                untested = (f"No verdict is given on {label.lower()}: only {pairs.n} of the "
                            f"{pairs.of} months follow the category change of {after.name}, "
                            f"fewer than the {pairs.minimum} needed.")
        else:
            try:
                fit = fit_dispersion(past)
                phi, df = fit.dispersion, fit.df
            except TooLittleHistory as exc:
                untested = (f"No verdict is given on {label.lower()}: {exc} before "
                            f"{sa.current.first_month:%B %Y}.")
        phis[label], dfs[label] = phi, df
        meta[label] = {"months": pairs.n, "of": pairs.of, "untested": untested, "scope": scope,
                       "current_all": int(series.reindex(sa.current.months).sum())}
    table = change_table(pd.Series(current), pd.Series(previous), alpha=sa.options.alpha,
                         dispersion=phis, dispersion_df=dfs, adjust="bh")
    return table.join(pd.DataFrame.from_dict(meta, orient="index"))


def _usual(period: ReportingPeriod) -> str:
    """'the usual variation from year to year' for a year, else '... between periods'."""
    return ("the usual variation from year to year" if period.n_months == 12
            else "the usual variation between periods of this length")


def _noun(label) -> str:
    return "incidents" if label == ANTI_SOCIAL_BEHAVIOUR else "offences"


def _usable_scope(comparison: LikeForLike) -> str:
    current = comparison.current
    if current.n_usable == current.n:
        return ""
    return f" (the {plural(current.n_usable, 'month')} with usable data)"


def _verdict(row: pd.Series, usual: str) -> str:
    if pd.isna(row["p_value"]):
        return ""
    p = p_value(row["p_adjusted"])
    if row["significant"]:
        return f"This change is larger than {usual} ({p})."
    return (f"A change of this size is within {usual} ({p}), so it should not be read as a "
            "real shift.")


def _monthly_by_group(sa: Assessment, wide: pd.DataFrame, years: int
                      ) -> tuple[pd.DataFrame, str]:
    """Monthly counts by group for the focus area over the last `years` years (NaN where a
    month has no usable data or precedes a category change that redefined the group)."""
    first = max(sa.current.first_month - 12 * years + sa.current.n_months, wide.index[0])
    window = wide.loc[first:]
    frames, cut = [], []
    for label in GROUP_ORDER:
        members = [t for t in group_types(label) if t in window.columns]
        series = window[members].sum(axis=1, min_count=1)
        start = categories.series_start(group_types(label), sa.category_changes,
                                        sa.current.last_month)
        if start is not None and start > first:
            series[series.index < start] = math.nan
            cut.append((label, start))
        frames.append(pd.DataFrame({"group": label, "month": series.index.to_timestamp(),
                                    "count": series.to_numpy()}))
    grouped = pd.concat(frames, ignore_index=True)
    grouped["group"] = pd.Categorical(grouped["group"], categories=GROUP_ORDER, ordered=True)
    note = ""
    if cut:
        note = (f"The lines for {join([label.lower() for label, _ in cut])} start in "
                f"{cut[0][1]:%B %Y}, when data.police.uk changed its crime categories and moved "
                "offences between them.")
    return grouped.sort_values(["group", "month"]).reset_index(drop=True), note


def _result(row: pd.Series) -> ChangeResult:
    """A change_table row back as the result object the sentences take."""
    return ChangeResult(int(row["previous"]), int(row["current"]), int(row["change"]),
                        float(row["percent_change"]), float(row["rate_ratio"]),
                        float(row["ci_low"]), float(row["ci_high"]), float(row["p_adjusted"]),
                        alpha=1.0 if row["significant"] else 0.0,
                        dispersion=float(row.get("dispersion", 1.0)))


def _largest_changes_sentence(changes: pd.DataFrame, *, n: int = 3) -> str:
    """Which crime types changed most, in offences, among changes larger than the usual
    variation.

    >>> t = change_table(pd.Series({"Burglary": 300, "Robbery": 11, "Drugs": 100}),
    ...                  pd.Series({"Burglary": 200, "Robbery": 10, "Drugs": 160}))
    >>> print(_largest_changes_sentence(t))  # doctest: +NORMALIZE_WHITESPACE
    The largest rises beyond the usual variation were in burglary (100 more); the largest falls
    beyond the usual variation were in drugs (60 fewer).
    """
    clear = changes[changes["significant"]]
    if clear.empty:
        if changes["p_value"].isna().all():
            return ("No crime type is tested: there are too few comparable months or too little "
                    "history (see above).")
        return "No individual crime type changed by more than the usual variation."
    rises = clear[clear["change"] > 0].sort_values("change", ascending=False).head(n)
    falls = clear[clear["change"] < 0].sort_values("change").head(n)
    parts = []
    if len(rises):
        parts.append("the largest rises beyond the usual variation were in " + join(
            [f"{label.lower()} ({count(r['change'])} more)" for label, r in rises.iterrows()]))
    if len(falls):
        parts.append("the largest falls beyond the usual variation were in " + join(
            [f"{label.lower()} ({count(abs(r['change']))} fewer)"
             for label, r in falls.iterrows()]))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _trend_alt_text(monthly: pd.DataFrame, area: str) -> str:
    """What each line does from its first to its last year."""
    parts = []
    for group, part in monthly.groupby("group", sort=False, observed=True):
        part = part.dropna(subset=["count"]).sort_values("month")
        if part.empty:
            continue
        k = min(12, len(part))
        first, last = part.head(k)["count"].sum(), part.tail(k)["count"].sum()
        peak = part.loc[part["count"].idxmax()]
        parts.append(f"{group}: {count(first)} in the first {plural(k, 'month')} shown and "
                     f"{count(last)} in the last {k}, peaking at {count(peak['count'])}"
                     f" in {peak['month']:%B %Y}")
    return f"Line chart of monthly counts in {area}. " + "; ".join(parts) + "."


def _change_alt_text(changes: pd.DataFrame, area: str) -> str:
    ordered = changes.sort_values("percent_change", ascending=False)
    items = [f"{label} {percent(row['percent_change'])}" for label, row in ordered.iterrows()]
    return (f"Bar chart of percentage change by crime type in {area}, largest rise first: "
            + ", ".join(items) + ".")
