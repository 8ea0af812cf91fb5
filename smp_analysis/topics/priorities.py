"""Chapter: priorities. Every candidate issue (crime groups and types, ASB, domestic abuse,
partner indicators) scored 1-5 on volume, trend, harm, residents' perception and the
partnership's influence; a weighted score and rank; how robust the ranking is to the
weights; the recommended priorities; the current plan's priorities and their status; and the
harm-weighted picture (severity score per 1,000 residents, which categories drive harm).

Methods: :mod:`smp_analysis.methods.priorities` (scoring matrix, rank stability, priority
status), :mod:`smp_analysis.methods.harm` (harm weights, severity score). The factor
measures and banding: :mod:`._priority_factors`. Domestic-abuse figures are used only when
the domestic-abuse chapter publishes them (its disclosure control), and no victim number is
shown here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..categories import CRIME_TYPES
from ..methods.harm import harm_table, harm_totals, severity_score
from ..methods.priorities import priority_status, rank_range, rank_stability, score_matrix
from ..params_priorities import FACTORS
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import EMPTY, Block, Blocks, Bullets, Notice, Prose
from ..report.tables import Table, table
from ..report.words import join, ordinal, plural
from ..store import queries
from ._priority_factors import candidates, factor_frame, period_counts

FACTOR_NAMES = {"volume": "Volume", "trend": "Trend", "harm": "Harm",
                "perception": "Residents' perception", "influence": "Partnership influence"}
TREND_WORDS = {"clear_worsening": "{worse} beyond normal variation", "worsening": "{worse}",
               "stable": "stable", "improving": "improving",
               "clear_improving": "improving beyond normal variation"}


def reason(scores: dict, measures: dict, *, worse: str = "rising", comparison: str) -> str:
    """The one-line reason for a candidate's place, from its factor scores.

    >>> reason({"volume": 5, "trend": 5, "harm": 4, "perception": 5}, {"trend_class":
    ...        "clear_worsening"}, comparison="K")
    'volume well above the K average, rising beyond normal variation, high harm, a top concern of residents'
    """
    parts = []
    v = scores.get("volume")
    if v is not None and not math.isnan(v):
        if worse == "rising":
            parts.append({5: f"volume well above the {comparison} average",
                          4: f"volume above the {comparison} average",
                          3: f"volume close to the {comparison} average"}.get(
                int(v), f"volume below the {comparison} average"))
        else:  # an indicator: its value against the comparison value, by its better direction
            parts.append({5: f"much worse than the {comparison} value",
                          4: f"worse than the {comparison} value",
                          3: f"close to the {comparison} value"}.get(
                int(v), f"better than the {comparison} value"))
    if "trend_class" in measures:
        parts.append(TREND_WORDS[measures["trend_class"]].format(worse=worse))
    h = scores.get("harm")
    if h is not None:
        parts.append({5: "very high harm", 4: "high harm", 3: "moderate harm"}.get(
            int(h), "low harm"))
    pr = scores.get("perception")
    if pr is not None:
        parts.append({5: "a top concern of residents", 4: "a concern of many residents"}.get(
            int(pr), "of less concern to residents"))
    i = scores.get("influence")
    if i is not None and i >= 4:
        parts.append("one the partnership can influence")
    return ", ".join(parts) if parts else "no factor could be scored"


@dataclass(frozen=True)
class CurrentPriorityStatus:
    name: str
    targets: tuple[str, ...]  # "label: status" of each linked target
    candidates: tuple[str, ...]
    status: str
    why: str


@dataclass(frozen=True)
class Priorities(TopicResult):
    area: str
    comparison: str = ""
    current_name: str = ""
    previous_name: str = ""
    matrix: pd.DataFrame | None = None  # by label: kind, factors, score, rank, stability...
    weights: tuple[tuple[str, float], ...] = ()
    top_n: int = 5
    robust_share: float = 0.8
    draws: int = 2000
    concentration: float = 20.0
    recommended: tuple[str, ...] = ()
    held_back: tuple[str, ...] = ()  # robust but scored on fewer than min_factors factors
    min_factors: int = 3
    notes: tuple[tuple[str, str, str], ...] = ()  # (factor, reason, candidate label)
    skipped: tuple[str, ...] = ()  # indicators with no better direction
    statuses: tuple[CurrentPriorityStatus, ...] = ()
    influence_by: str | None = None
    harm_source: str | None = None
    illustrative: bool = False
    districts: pd.DataFrame | None = None  # harm and severity by district, both periods
    drivers: pd.DataFrame | None = None  # harm_table of the focus area
    synthetic: bool = False

    # ------------------------------------------------------------------ the matrix
    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        weights = join([f"{FACTOR_NAMES[f].lower()} {w:g}" for f, w in self.weights])
        return Prose(
            f"{plural(len(self.matrix), 'candidate issue')} for {self.area} are scored from 1 "
            f"(low) to 5 (high) on each factor. The score is the weighted mean of the factors "
            f"a candidate has (weights: {weights}); rank 1 is the highest score. The weights "
            f"were then varied at random around these values ({self.draws:,} draws) to see "
            f"how often each candidate stays in the top {self.top_n}.",
            self._recommendation_sentence())

    def _recommendation_sentence(self) -> str:
        n = len(self.recommended)
        held = (f" {join(list(self.held_back))} {'is' if len(self.held_back) == 1 else 'are'} "
                f"as robust but scored on fewer than {self.min_factors} factors, too few to "
                "recommend." if self.held_back else "")
        if n == 0:
            return (f"No candidate scored on at least {self.min_factors} factors is in the top "
                    f"{self.top_n} in at least {percent_share(self.robust_share)} of the weight "
                    "draws, so the ranking does not support a firm recommendation: the "
                    f"committee's weighting of the factors decides it.{held}")
        text = (f"Recommended priorities: {join(list(self.recommended))}, each in the top "
                f"{self.top_n} in at least {percent_share(self.robust_share)} of the weight "
                f"draws.{held}")
        if n < self.top_n:
            text += (f" Only {plural(n, 'candidate')} {'is' if n == 1 else 'are'} that robust; "
                     f"the rest of the top {self.top_n} depends on how the factors are "
                     "weighted.")
        return text

    @when_available
    def recommendations(self) -> Block:
        rows = self.matrix.loc[list(self.recommended)] if self.recommended else None
        if rows is None:
            return EMPTY
        return Bullets([f"{label} (rank {int(r['rank'])}, in the top {self.top_n} in "
                        f"{percent_share(r['stability'])} of draws): {r['reason']}."
                        for label, r in rows.iterrows()])

    @when_available
    def matrix_table(self) -> Table:
        m = self.matrix.sort_values(["rank", "score"], ascending=[True, False],
                                    na_position="last", kind="stable")
        view = pd.DataFrame({"Rank": [_int(r) for r in m["rank"]],
                             "Candidate": m.index.astype(str), "Kind": m["kind"].to_numpy()})
        for f in FACTORS:
            view[FACTOR_NAMES[f]] = [_int(v) for v in m[f]]
        view["Score"] = [f"{s:.2f}" if not pd.isna(s) else "–" for s in m["score"]]
        view[f"In top {self.top_n} (share of draws)"] = [percent_share(s) for s in m["stability"]]
        view["Rank range"] = [f"{_int(lo)} to {_int(hi)}" if not pd.isna(lo) else "–"
                              for lo, hi in zip(m["low"], m["high"], strict=True)]
        return table(view, f"Priority scoring matrix for {self.area}: factor scores (1 = low, "
                     f"5 = high; – not scored), weighted score, rank and its stability")

    @when_available
    def stability_figure(self) -> Block:
        m = self.matrix[self.matrix["rank"].notna()].copy()
        if m.empty:
            return EMPTY
        m["label"] = m.index.astype(str)
        m["robust"] = m.index.isin(self.recommended)
        top = m.sort_values("rank", kind="stable").head(8)
        items = [f"{label} rank {int(r['rank'])} (range {int(r['low'])} to {int(r['high'])}, "
                 f"top {self.top_n} in {percent_share(r['stability'])} of draws)"
                 for label, r in top.iterrows()]
        return charts.rank_ranges(
            m[["label", "rank", "low", "high", "stability", "robust"]],
            title=f"{self.area}: priority ranking and its uncertainty", top_n=self.top_n,
            caption=f"Rank of each candidate with the stated weights (dot) and the range of "
                    f"ranks in 90% of {self.draws:,} random weightings (line); recommended "
                    "priorities in dark blue, the other candidates in grey. The percentage is "
                    f"the share of weightings that put the candidate in the top {self.top_n}.",
            alt="Dot and line chart of priority ranks, best first: " + "; ".join(items) + ".",
            synthetic=self.synthetic)

    def unscored(self) -> Block:
        """What could not be scored, plainly, grouped by factor and reason."""
        if self.missing:
            return EMPTY
        grouped: dict[tuple[str, str], list[str]] = {}
        for factor, why, label in self.notes:
            grouped.setdefault((factor, why), []).append(label)
        lines = []
        for (factor, why), labels in grouped.items():
            who = (join(labels) if len(labels) <= 4 else
                   f"{plural(len(labels), 'candidate')} ({', '.join(labels[:3])} and "
                   f"{len(labels) - 3} others)")
            lines.append(f"{FACTOR_NAMES[factor]} is not scored for {who}: {why}.")
        if self.skipped:
            lines.append(f"Not scored at all: {join(list(self.skipped))}, which "
                         f"{'has' if len(self.skipped) == 1 else 'have'} no better direction.")
        if not lines:
            return EMPTY
        return Blocks(Prose("A factor that cannot be scored is left out of that candidate's "
                            "mean (its score rests on the other factors):"), Bullets(lines))

    def influence_note(self) -> Block:
        if self.missing or self.influence_by is None:
            return EMPTY
        return Prose(f"The partnership-influence scores are a judgement given by "
                     f"{self.influence_by}.")

    # ------------------------------------------------------------------ current priorities
    def comparison_sentences(self) -> Block:
        if self.missing or not self.statuses:
            return EMPTY
        lines, covered = [], set()
        for s in self.statuses:
            linked = [c for c in s.candidates if c in self.matrix.index]
            covered.update(linked)
            if not linked:
                lines.append(f"{s.name}: not linked to any candidate of the matrix.")
                continue
            parts = [f"{c} ranks {_rank_words(self.matrix.loc[c])}" for c in linked]
            chosen = [c for c in linked if c in self.recommended]
            verdict = ("recommended again" if chosen else
                       "not among the recommended priorities")
            lines.append(f"{s.name}: {verdict} ({'; '.join(parts)}).")
        new = [c for c in self.recommended if c not in covered]
        if new:
            lines.append(f"Recommended but not a current priority: {join(new)}.")
        return Bullets(lines)

    def status_table(self) -> Block:
        if self.missing or not self.statuses:
            return EMPTY
        view = pd.DataFrame({
            "Current priority": [s.name for s in self.statuses],
            "Linked targets": ["; ".join(s.targets) or "none" for s in self.statuses],
            "Status": [s.status for s in self.statuses],
            "Why": [s.why for s in self.statuses]})
        return table(view, f"Status of the current plan's priorities for {self.area}, from the "
                     "partner-indicator targets linked to each")

    # ------------------------------------------------------------------ harm
    def harm_notice(self) -> Block:
        if self.districts is None:
            return EMPTY
        text = f"Harm weights: {self.harm_source}."
        if self.illustrative:
            return Notice(text + " These weights are illustrative, not published severity "
                          "weights: harm figures show the method, not real harm.", "warning")
        return Prose(text)

    def harm_summary(self) -> Block:
        if self.missing:
            return EMPTY
        if self.districts is None:
            return Notice("Harm is not weighted: no harm weights are given "
                          "(priorities.harm_weights in the params file).", "unavailable")
        return Prose(*self._harm_sentences())

    def _harm_sentences(self) -> list[str]:
        d = self.districts
        focus = d[d["focus"]].iloc[0]
        rank = int(focus["rank"])
        place = "the highest" if rank == 1 else f"the {ordinal(rank)} highest"
        county = 1000 * d["harm"].sum() / d["population"].sum()
        text = [f"{self.area}'s crime severity score (harm-weighted crime per 1,000 residents) "
                f"was {_number(focus['severity'])} in {self.current_name}, {place} of the "
                f"{len(d)} districts in {self.comparison} (all of {self.comparison}: "
                f"{_number(county)})."]
        if focus["severity_previous"] == focus["severity_previous"]:
            change = focus["severity_change"]
            text[0] += (f" It was {_number(focus['severity_previous'])} in {self.previous_name}, "
                        f"{_change_words(change)}.")
        drivers = self.drivers.dropna(subset=["harm"]).head(3)
        items = [f"{c.lower()} {percent_share(r['harm_share'])} of harm against "
                 f"{percent_share(r['count_share'])} of offences"
                 for c, r in drivers.iterrows()]
        if items:
            text.append("The categories that drive harm: " + join(items) + ".")
        return text

    @when_available
    def harm_table(self) -> Block:
        if self.districts is None:
            return EMPTY
        d = self.districts.sort_values("rank", kind="stable")
        view = pd.DataFrame({
            "Rank": d["rank"].astype(int).to_numpy(),
            "District": [f"{n} (focus)" if f else n for n, f in zip(d["name"], d["focus"],
                                                                     strict=True)],
            f"Harm, {self.previous_name}": d["harm_previous"].to_numpy(),
            f"Harm, {self.current_name}": d["harm"].to_numpy(),
            "Severity per 1,000, previous": [_number(x) for x in d["severity_previous"]],
            "Severity per 1,000": [_number(x) for x in d["severity"]],
            "% change": d["severity_change"].to_numpy()})
        return table(view, f"Harm-weighted crime and crime severity score per 1,000 residents "
                     f"by district of {self.comparison}",
                     counts=(f"Harm, {self.previous_name}", f"Harm, {self.current_name}"),
                     percents=("% change",))

    @when_available
    def drivers_table(self) -> Block:
        if self.drivers is None:
            return EMPTY
        t = self.drivers
        view = pd.DataFrame({"Crime type": t.index.astype(str),
                             "Offences": t["count"].to_numpy(),
                             "Share of offences": [percent_share(x) for x in t["count_share"]],
                             "Harm weight": [f"{w:g}" if w == w else "none" for w in t["weight"]],
                             "Harm": t["harm"].to_numpy(),
                             "Share of harm": [percent_share(x) for x in t["harm_share"]]})
        return table(view, f"What drives harm in {self.area}, {self.current_name}: offences "
                     "and harm by crime type", counts=("Offences", "Harm"))

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        lines = [f"Priorities for {self.area}: {self._recommendation_sentence()}"]
        if self.statuses:
            lines.append("Current priorities: " + "; ".join(
                f"{s.name} {s.status.lower()}" for s in self.statuses) + ".")
        if self.districts is not None:
            lines.append(self._harm_sentences()[0])
        return lines


def percent_share(x: float) -> str:
    """'83%' for 0.83 (no sign; '–' for none).

    >>> percent_share(0.834), percent_share(float("nan"))
    ('83%', '–')
    """
    return "–" if pd.isna(x) else f"{100 * x:.0f}%"


def _number(value: float) -> str:
    """'5,658', '12.3', '–'."""
    if pd.isna(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"


def _int(value) -> str:
    return "–" if pd.isna(value) else str(int(value))


def _rank_words(row: pd.Series) -> str:
    if pd.isna(row["rank"]):
        return "unranked (no factor could be scored)"
    return (f"{ordinal(int(row['rank']))}, in the top {int(row['top_n'])} in "
            f"{percent_share(row['stability'])} of draws")


def _change_words(change: float) -> str:
    if pd.isna(change):
        return "no comparison possible"
    if round(change, 1) == 0:
        return "no change"
    return f"{'up' if change > 0 else 'down'} {abs(change):.1f}%"


@topic
def compute(sa: Assessment) -> Priorities:
    p = sa.params.priorities
    found = candidates(sa)
    cands = found["candidates"]
    factors = factor_frame(cands)
    base = dict(area=sa.focus_name, comparison=sa.comparison_name, current_name=sa.current.name,
                previous_name=sa.previous.name, synthetic=sa.synthetic)
    if factors.isna().all(axis=None):
        return Priorities(**base, missing="No candidate issue could be scored on any factor, "
                          "so no priorities can be recommended.")
    weights = dict(p.weights)
    options = dict(draws=p.draws, concentration=p.concentration, seed=p.seed)
    matrix = score_matrix(factors, weights)
    matrix["stability"] = rank_stability(factors, weights, top_n=p.top_n, **options)
    matrix = matrix.join(rank_range(factors, weights, **options))
    matrix["kind"] = [c.kind for c in cands]
    matrix["key"] = [c.key for c in cands]
    matrix["top_n"] = p.top_n
    matrix["reason"] = [reason(c.scores, c.measures, worse=c.worse_word,
                               comparison=sa.comparison_name) for c in cands]
    robust = matrix[(matrix["stability"] >= p.robust_share) & matrix["rank"].notna()]
    robust = robust.sort_values(["rank", "stability"], ascending=[True, False], kind="stable")
    enough = robust["factors_used"] >= p.min_factors
    recommended = tuple(robust.index[enough][: p.top_n])
    held_back = tuple(robust.index[~enough])
    notes = tuple((f, why, c.label) for c in cands for f, why in c.notes.items()
                  if p.weights.get(f, 0) > 0)
    return Priorities(
        **base, matrix=matrix, weights=tuple((f, w) for f, w in weights.items()),
        top_n=p.top_n, robust_share=p.robust_share, recommended=recommended, notes=notes,
        held_back=held_back, min_factors=p.min_factors,
        skipped=tuple(found["skipped"]), statuses=_statuses(sa, matrix),
        influence_by=p.influence.given_by if p.influence else None,
        draws=p.draws, concentration=p.concentration, **_harm_section(sa))


def _statuses(sa: Assessment, matrix: pd.DataFrame) -> tuple[CurrentPriorityStatus, ...]:
    from . import indicators

    results = indicators.compute(sa).targets
    labels = dict(zip(matrix["key"], matrix.index, strict=True))
    out = []
    for priority in sa.params.priorities.current:
        linked = [t for t in results if t.indicator_id in priority.indicators]
        status, why = priority_status([t.status for t in linked])
        out.append(CurrentPriorityStatus(
            priority.name, tuple(f"{t.label}: {t.status or 'not assessed'}" for t in linked),
            tuple(labels.get(c, c) for c in priority.candidates), status, why))
    return tuple(out)


def _harm_section(sa: Assessment) -> dict:
    hw = sa.params.priorities.harm_weights
    if hw is None:
        return {}
    weights = dict(hw.weights)
    now = period_counts(sa, sa.current.start, sa.current.end)
    before = period_counts(sa, sa.previous.start, sa.previous.end)
    population = sa.population["population"].astype(float)
    previous_population = queries.population(
        sa.con, area_codes=list(sa.districts.index),
        year=sa.population_year(sa.previous)).set_index("area_code")["population"].astype(float)
    d = pd.DataFrame({"name": sa.districts["area_name"],
                      "harm": harm_totals(now, weights),
                      "harm_previous": harm_totals(before, weights),
                      "population": population})
    d["severity"] = severity_score(d["harm"], population)
    d["severity_previous"] = severity_score(d["harm_previous"],
                                            previous_population.reindex(d.index))
    d["severity_change"] = 100 * (d["severity"] / d["severity_previous"].where(
        d["severity_previous"] > 0) - 1)
    d["rank"] = d["severity"].rank(ascending=False, method="min")
    d["focus"] = d.index == sa.focus_code
    drivers = harm_table(now.loc[sa.focus_code, list(CRIME_TYPES)], weights)
    return {"districts": d, "drivers": drivers, "harm_source": hw.source,
            "illustrative": hw.illustrative}


__all__ = ["Priorities", "compute", "percent_share", "reason"]
