"""Chapter: places: hotspots by ward and LSOA (count, share, rate, change on the previous
period), how concentrated crime is, which places stay at the top year after year, maps, and
near repeats.

Methods: :func:`smp_analysis.methods.change.change_table` with each area's own dispersion and
false-discovery control across areas; :mod:`smp_analysis.methods.concentration`;
:mod:`smp_analysis.methods.near_repeat` (see :mod:`._near_repeats`); maps in
:mod:`smp_analysis.report.maps`. Periods compare like for like
(:func:`._years.comparable_months`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..categories import ANTI_SOCIAL_BEHAVIOUR, TOTAL_CRIME
from ..methods.concentration import lorenz_curve
from ..periods import ReportingPeriod
from ..report import charts, maps
from ..report.context import Assessment, TopicResult, topic
from ..report.markup import EMPTY, Block, Blocks, Notice, Prose
from ..report.tables import Table, table
from ..report.words import count, join, p_value, percent
from . import _near_repeats as nr
from ._places_compute import compute_places

HEADLINE_CATEGORIES = (TOTAL_CRIME, "Violence and sexual offences", ANTI_SOCIAL_BEHAVIOUR,
                       "Burglary")
LORENZ_CATEGORIES = HEADLINE_CATEGORIES


def noun(category: str) -> str:
    return "incidents" if category == ANTI_SOCIAL_BEHAVIOUR else "offences"


@dataclass(frozen=True)
class Places(TopicResult):
    area: str
    current: ReportingPeriod | None = None
    previous: ReportingPeriod | None = None
    months_compared: int = 0
    fraction: float = 0.1
    alpha: float = 0.05
    wards: pd.DataFrame | None = None  # (category, area_code) rows: see _places_compute
    wards_missing: str | None = None
    lsoas: pd.DataFrame | None = None
    concentration: pd.DataFrame | None = None  # per category, LSOA level
    persistence: pd.DataFrame | None = None  # top-group LSOAs by year
    persistence_years: tuple[str, ...] = ()
    ward_map: object = None  # GeoDataFrame (British National Grid) with the rates
    lsoa_map: object = None
    map_notes: tuple[str, ...] = ()
    points: pd.DataFrame | None = None  # x, y of located crimes (hexagon map)
    near_repeats: dict = field(default_factory=dict)  # crime type -> Knox table
    near_repeat_missing: str | None = None
    synthetic: bool = False

    # ---------------------------------------------------------------- wards
    def ward_summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        if self.wards is None:
            return Notice(self.wards_missing, "unavailable")
        lines = [self._top_sentence(self.wards, c, "ward") for c in HEADLINE_CATEGORIES
                 if c in self.wards.index.get_level_values(0)]
        asb = self.wards.loc[ANTI_SOCIAL_BEHAVIOUR] if ANTI_SOCIAL_BEHAVIOUR in \
            self.wards.index.get_level_values(0) else None
        if asb is not None and len(asb):
            top = asb.sort_values("current", ascending=False).head(5)["name"].tolist()
            lines.append(f"The wards with the most anti-social behaviour were {join(top)}.")
        return Prose(*lines)

    def ward_table(self) -> Table:
        if self.missing or self.wards is None:
            return EMPTY
        return _area_table(self.wards.loc[TOTAL_CRIME], "Ward",
                           f"Recorded crime by ward in {self.area}, {self.current.name}",
                           self.previous)

    def ward_types_table(self) -> Table:
        if self.missing or self.wards is None:
            return EMPTY
        rows = []
        for category, part in self.wards.groupby(level=0, sort=False):
            part = part.droplevel(0)
            top = part.sort_values(["current", "name"], ascending=[False, True]).iloc[0]
            by_rate = part.dropna(subset=["rate"]).sort_values("rate", ascending=False)
            rows.append({"Category": category, "Most": top["name"],
                         "Offences or incidents": top["current"], "Share of district":
                         100 * top["share"], "Highest rate": by_rate.iloc[0]["name"]
                         if len(by_rate) else "–",
                         "Rate per 1,000": by_rate.iloc[0]["rate"] if len(by_rate) else None})
        return table(pd.DataFrame(rows), f"The ward with the most of each category in "
                     f"{self.area}, {self.current.name}", counts=("Offences or incidents",),
                     rates=("Share of district", "Rate per 1,000"))

    def ward_map_figure(self) -> Block:
        if self.missing or self.ward_map is None:
            return EMPTY
        return self._choropleth(self.ward_map, "ward", "wards")

    # ---------------------------------------------------------------- LSOAs
    def lsoa_summary(self) -> Block:
        if self.missing:
            return EMPTY  # the chapter's first section already says why
        c = self.concentration.loc[TOTAL_CRIME]
        text = (f"The {int(c['top_n'])} LSOAs with the most recorded crime (the top "
                f"{self._fraction} of {self.area}'s {int(c['areas'])}) had "
                f"{percent(100 * c['top_share'])} of it in {self.current.name}. The Gini "
                f"coefficient of recorded crime across LSOAs is {c['gini']:.2f} (0 would be the "
                "same in every LSOA, 1 all in one).")
        return Prose(text, self._top_sentence(self.lsoas, TOTAL_CRIME, "LSOA"))

    def lsoa_table(self) -> Table:
        if self.missing:
            return EMPTY
        part = self.lsoas.loc[TOTAL_CRIME]
        top = part.sort_values("current", ascending=False).head(
            int(self.concentration.loc[TOTAL_CRIME, "top_n"]))
        return _area_table(top, "LSOA", f"The LSOAs with the most recorded crime in "
                           f"{self.area}, {self.current.name}", self.previous, ward=True)

    def concentration_table(self) -> Table:
        if self.missing:
            return EMPTY
        c = self.concentration
        view = pd.DataFrame({
            "Category": list(c.index), "Offences or incidents": c["total"].to_numpy(),
            f"Share in the top {self._fraction} of LSOAs":
                (100 * c["top_share"]).to_numpy(),
            "Gini coefficient": [f"{g:.2f}" if g == g else "–" for g in c["gini"]]})
        return table(view, f"How concentrated each category is across {self.area}'s LSOAs, "
                     f"{self.current.name}", counts=("Offences or incidents",),
                     rates=(view.columns[2],))

    def lorenz_figure(self) -> Block:
        if self.missing:
            return EMPTY
        curves = {c: lorenz_curve(self.lsoas.loc[c]["current"]) for c in LORENZ_CATEGORIES
                  if c in self.lsoas.index.get_level_values(0)}
        items = [f"{c}: top {self._fraction} of LSOAs hold "
                 f"{percent(100 * self.concentration.loc[c, 'top_share'])}, Gini "
                 f"{self.concentration.loc[c, 'gini']:.2f}" for c in curves]
        return charts.lorenz_curves(
            curves, title=f"{self.area}: how concentrated crime is across LSOAs",
            caption="Lorenz curves: LSOAs sorted from least to most crime; the further a curve "
                    "bows below the dashed line, the more crime is concentrated in few LSOAs.",
            alt="Lorenz curves of offences and incidents across LSOAs. " + "; ".join(items)
                + ".", synthetic=self.synthetic)

    def persistence_summary(self) -> Block:
        if self.missing or self.persistence is None:
            return EMPTY
        p = self.persistence
        latest = p[p["in_latest"]]
        years = len(self.persistence_years)
        every = int((latest["years_in_top"] == years).sum())
        return Prose(f"Of the {len(latest)} LSOAs in the top group for recorded crime in "
                     f"{self.persistence_years[-1]}, {every} were in the top group in every one "
                     f"of the {years} years from {self.persistence_years[0]}: persistent "
                     "hotspots, where long-term problem-solving is more likely to pay off than "
                     "a short operation.")

    def persistence_table(self) -> Table:
        if self.missing or self.persistence is None:
            return EMPTY
        p = self.persistence[self.persistence["in_latest"]]
        view = pd.DataFrame({"LSOA": p["name"].to_numpy(), "Ward": p["ward"].to_numpy()})
        for year in self.persistence_years:
            view[year] = p[year].to_numpy()
        view["Years in the top group"] = p["years_in_top"].to_numpy()
        return table(view, f"LSOAs in the top {self._fraction} for recorded "
                     f"crime in {self.persistence_years[-1]}: offences each year and years in "
                     "the top group", counts=(*self.persistence_years, "Years in the top group"))

    def lsoa_map_figure(self) -> Block:
        if self.missing:
            return EMPTY
        if self.lsoa_map is not None:
            return self._choropleth(self.lsoa_map, "LSOA", "LSOAs")
        if self.points is None or self.points.empty:
            return EMPTY
        return maps.hexagon_map(
            self.points["x"], self.points["y"], hexagon_metres=400,
            title=f"{self.area}: where recorded crime was located, {self.current.name}",
            caption="Located offences per hexagon (about 400 m across); no boundary file was "
                    "supplied for LSOAs, so the map shows the anonymised street locations. "
                    "Blank hexagons had none.",
            alt=(f"Hexagon map of {count(len(self.points))} located offences in {self.area} in "
                 f"{self.current.name}; the darkest hexagon holds "
                 f"{count(self.points.attrs.get('densest', 0))} offences."),
            synthetic=self.synthetic)

    def map_notes_block(self) -> Block:
        if self.missing or not self.map_notes:
            return EMPTY
        return Notice(" ".join(self.map_notes), "info")

    # ---------------------------------------------------------------- near repeats
    def near_repeat_summary(self) -> Block:
        if self.missing:
            return EMPTY
        if not self.near_repeats:
            return Notice(self.near_repeat_missing or "No crime type was chosen for the "
                          "near-repeat test.", "unavailable")
        return Blocks(Prose(*[nr.near_repeat_sentence(t, r, self.area)
                              for t, r in self.near_repeats.items()]),
                      Notice(nr.ANONYMISATION, "warning"))

    def near_repeat_table(self) -> Table:
        if self.missing or not self.near_repeats:
            return EMPTY
        frames = [r.assign(crime_type=t) for t, r in self.near_repeats.items()]
        r = pd.concat(frames, ignore_index=True)
        view = pd.DataFrame({
            "Crime type": r["crime_type"], "Distance": r["distance_band"],
            "Time apart": r["time_band"], "Pairs": r["observed"].astype(int),
            "Expected by chance": r["permuted_mean"].round(1), "Knox ratio":
                r["knox_ratio"].round(2), "More than chance?":
                ["Yes" if c else "No" for c in r["clear"]],
            "p-value (adjusted)": r["p_adjusted"]})
        return table(view, f"Near repeats in {self.area}, {self.current.name}: pairs of "
                     "offences by distance and time apart", counts=("Pairs",),
                     p_values=("p-value (adjusted)",))

    # ---------------------------------------------------------------- key findings
    def headlines(self) -> list[str]:
        if self.missing:
            return []
        out = []
        if self.wards is not None:
            out.append(self._top_sentence(self.wards, TOTAL_CRIME, "ward"))
        c = self.concentration.loc[TOTAL_CRIME]
        out.append(f"The {self._fraction} of LSOAs with the most recorded crime "
                   f"had {percent(100 * c['top_share'])} of {self.area}'s recorded crime.")
        return out

    # ---------------------------------------------------------------- helpers
    @property
    def _fraction(self) -> str:
        return f"{100 * self.fraction:g}%"

    def _top_sentence(self, frame: pd.DataFrame, category: str, level: str) -> str:
        part = frame.loc[category]
        top = part.sort_values(["current", "name"], ascending=[False, True]).iloc[0]
        what = "recorded crime" if category == TOTAL_CRIME else category.lower()
        name = f"{top['name']} ward" if level == "ward" else f"LSOA {top['name']}"
        text = (f"{name} had {percent(100 * top['share'])} of {what} in {self.area} "
                f"({count(top['current'])} {noun(category)})")
        change = top["percent_change"]
        if pd.isna(change):
            return text + "."
        text += f", {abs(change):.1f}% {'more' if change > 0 else 'fewer'} than in " \
                f"{self.previous.name}"
        if pd.isna(top["p_adjusted"]):
            return text + "."
        verdict = ("a change larger than the usual variation from year to year"
                   if top["significant"] else "a change within the usual variation from year to "
                   "year")
        return (f"{text}: {verdict} ({p_value(top['p_adjusted'])}, allowing for the "
                f"{len(part)} {level}s tested).")

    def _choropleth(self, frame, level: str, plural_name: str) -> Block:
        shaded = frame.dropna(subset=["rate"])
        top = shaded.sort_values("rate", ascending=False).head(5)
        items = [f"{n} {r:.1f}" for n, r in zip(top["name"], top["rate"], strict=True)]
        lo, hi = shaded["rate"].min(), shaded["rate"].max()
        return maps.choropleth(
            frame, "rate", title=f"{self.area}: recorded crime per 1,000 residents by "
            f"{level}, {self.current.name}", legend_title="Offences per 1,000 residents",
            caption=f"Recorded crime per 1,000 residents (Census 2011 population) in each "
                    f"{level}, in five natural-break classes; the five highest are named. "
                    "Areas with few residents, such as town centres, have high rates.",
            alt=(f"Map of {self.area}'s {len(frame)} {plural_name} shaded by recorded crime per "
                 f"1,000 residents in {self.current.name}, from {lo:.1f} to {hi:.1f}. Highest: "
                 + ", ".join(items) + "."),
            synthetic=self.synthetic, label="name", labelled=5 if level == "ward" else 3)


def _area_table(part: pd.DataFrame, level: str, caption: str, previous: ReportingPeriod, *,
                ward: bool = False) -> Table:
    part = part.sort_values(["current", "name"], ascending=[False, True])
    view = pd.DataFrame({level: part["name"].to_numpy()})
    if ward:
        view["Ward"] = part["ward"].fillna("–").to_numpy()
    view["Offences"] = part["current"].to_numpy()
    view["Share of district"] = (100 * part["share"]).to_numpy()
    view["Rate per 1,000"] = part["rate"].to_numpy()
    view["Rank by rate"] = part["rate_rank"].to_numpy()
    view[previous.name] = part["previous"].to_numpy()
    view["% change"] = part["percent_change"].to_numpy()
    view["Clear change?"] = ["Yes" if s else "No" for s in part["significant"]]
    view["p-value (adjusted)"] = part["p_adjusted"].to_numpy()
    return table(view, caption, counts=("Offences", previous.name, "Rank by rate"),
                 rates=("Share of district", "Rate per 1,000"), percents=("% change",),
                 p_values=("p-value (adjusted)",))


@topic
def compute(sa: Assessment) -> Places:
    return Places(**compute_places(sa))
