"""The context every topic needs, and the cache of topic results.

An :class:`Assessment` is validated params plus a read-only store connection, with the areas,
periods, population and **coverage** every chapter shares. It computes no statistics itself:
topics (:mod:`smp_analysis.topics`) do, through store queries and :mod:`smp_analysis.methods`.
Each topic's ``compute(sa)`` result is cached on the assessment, so the key findings reuse the
chapters' results instead of recomputing them, and a chapter that shows several parts of a
result computes it once.

Coverage (:mod:`smp_analysis.report.coverage`): which months of the assessment period, the
previous period and the history have usable data for the police force(s) the focus area draws
on (published, and not marked incomplete by the data-quality check), and the like-for-like
pairing of the two periods' months that every change between them uses.

Within :func:`smp_analysis.report.sharing.shared_assessments` (the appendix build's worker),
:meth:`Assessment.open` gives every chapter of an appendix the same assessment.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd

from .. import categories, store
from ..areas import DistrictCode, resolve_district
from ..errors import ParamsError, StoreError
from ..params import AssessmentParams, load_params
from ..periods import ReportingPeriod
from ..store import queries
from ..store.lock import lock_conflict
from .coverage import LikeForLike, MonthCoverage, month_coverage
from .markup import EMPTY, SYNTHETIC_LABEL, Block, Notice
from .words import plural

# where `make demo-data` writes the synthetic county the shipped params/*.yaml read
DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "demo"

# A police force counts as one the area draws on when it holds at least this share of the
# area's rows (a few rows of a neighbouring force near a boundary do not make it one).
FORCE_SHARE = 0.05
# A local authority the lookup leaves without a police force belongs to the comparison force
# (for naming those missing from the lookup) when most of its located rows are that force's and
# they are at least this share of the force's located rows (a few rows geocoded across a
# boundary do not make an authority the force's).
FORCE_MAJORITY = 0.5
MIN_FORCE_SHARE = 0.01


class Assessment:
    """Validated params + a read-only store: what a chapter needs to compute its topic."""

    def __init__(self, params: AssessmentParams, con: duckdb.DuckDBPyConnection):
        self.params = params
        self.con = con
        self._results: dict = {}
        self._monthly: dict = {}  # (areas, level) -> (last day held, monthly counts)

    def close(self) -> None:
        """Close the store connection (the cached results stay readable)."""
        self.con.close()

    @classmethod
    def open(cls, params_file: str | Path) -> Assessment:
        """Read `params_file` and open its store read-only (so any number of notebooks and
        appendix builds can read it at once). Raises :class:`NotReady`, one sentence saying
        what to run, when the data or the store do not exist yet or a writer holds the store.

        Inside :func:`~.sharing.shared_assessments`, the same params file on the same,
        unchanged store gives the same assessment (with the topic results already computed)."""
        from .sharing import shared

        return shared(params_file, cls._open)

    @classmethod
    def _open(cls, params_file: str | Path) -> Assessment:
        try:
            params = load_params(params_file)
        except ParamsError as exc:
            if not _inputs_missing(exc):
                raise
            params = load_params(params_file, check_files=False)
            if not _reads_demo_data(params):
                raise  # the user's own files: the list says which are missing
            raise NotReady(_not_built_sentence(params, "its input files do not exist yet")) \
                from None
        path = Path(params.data.store)
        if not path.exists():
            raise NotReady(_not_built_sentence(params, f"its store {path.name} has not been "
                                               "built yet"))
        try:
            con = store.connect(path, read_only=True)
        except (duckdb.Error, StoreError) as exc:
            holder = lock_conflict(exc)
            if holder is None:
                raise
            raise NotReady(f"The store {path.name} is being updated by another process "
                           f"({holder.describe()}); run this cell again when it has "
                           "finished.") from None
        return cls(params, con)

    # ------------------------------------------------------------------ who, where, when
    @property
    def current(self) -> ReportingPeriod:
        return self.params.current

    @property
    def previous(self) -> ReportingPeriod:
        return self.params.previous

    @cached_property
    def focus_district(self) -> DistrictCode:
        """The focus area's code resolved against the lookup (a current ONS code is mapped to
        the lookup's code, with a message)."""
        area = self.params.focus_area
        return resolve_district(area.code, area.name, queries.lookup_districts(self.con))

    @property
    def focus_code(self) -> str:
        resolved = self.focus_district
        if resolved.code is None:
            raise ValueError(f"focus_area.code: {resolved.message}")
        return resolved.code

    @property
    def focus_name(self) -> str:
        return self.params.focus_area.name

    @property
    def comparison_name(self) -> str:
        return self.params.comparison_area.name

    @property
    def comparison_kind(self) -> str:
        """'police force area' when the comparison is a force's districts, else 'comparison
        area' (an explicit list of districts)."""
        area = self.params.comparison_area
        return "police force area" if area.districts is None else "comparison area"

    @property
    def options(self):
        return self.params.options

    @cached_property
    def synthetic(self) -> bool:
        files = queries.input_files(self.con)
        return bool(len(files)) and bool(files["synthetic"].any())

    def notice(self) -> Block:
        """The synthetic-data banner at the top of each chapter (nothing on real data)."""
        if not self.synthetic:
            return EMPTY
        return Notice(f"{SYNTHETIC_LABEL}: every figure on this page is generated by `smp "
                      "demo-data` and describes no real place or person.", "synthetic")

    @cached_property
    def comparison_codes(self) -> tuple[DistrictCode, ...]:
        """`comparison_area.districts` resolved against the lookup (empty when not listed)."""
        listed = self.params.comparison_area.districts or []
        lookup = queries.lookup_districts(self.con)
        return tuple(resolve_district(code, None, lookup) for code in listed)

    @cached_property
    def districts(self) -> pd.DataFrame:
        """The comparison districts ``area_name`` indexed by ``area_code``."""
        area = self.params.comparison_area
        codes = None
        if area.districts is not None:
            unknown = [c.message for c in self.comparison_codes if c.code is None]
            if unknown:
                raise ValueError("comparison_area.districts: " + " ".join(unknown))
            codes = [c.code for c in self.comparison_codes]
        frame = queries.districts(self.con, area.police_force, codes)
        if self.focus_code not in set(frame["area_code"]):
            if codes is not None:
                raise ValueError(f"focus area {self.focus_code} is not among "
                                 "comparison_area.districts; add it to the list")
            lookup = queries.lookup_districts(self.con).set_index("area_code")
            force = lookup["police_force"].get(self.focus_code)
            where = ("assigns it to no police force" if force is None or pd.isna(force)
                     else f"assigns it to {force!r}")
            raise ValueError(
                f"focus area {self.focus_code} is not a district of police force "
                f"{area.police_force!r} in the LSOA lookup (the lookup {where}); list the "
                "comparison districts, including the focus area, in comparison_area.districts")
        return frame.set_index("area_code")

    @cached_property
    def missing_districts(self) -> pd.DataFrame:
        """Local authorities of the comparison force that the comparison leaves out because the
        lookup assigns them to no force (``area_code, area_name, rows``): those where most of
        the located rows are the force's, holding at least ``MIN_FORCE_SHARE`` of them. Empty
        when districts are listed explicitly."""
        area = self.params.comparison_area
        label = queries.force_label(self.con, area.police_force)
        if area.districts is not None or label is None:
            return pd.DataFrame(columns=["area_code", "area_name", "rows"])
        las = queries.force_local_authorities(self.con, label)
        left_out = las[(las["share"] >= FORCE_MAJORITY) & las["lookup_force"].isna()
                       & (las["rows"] >= MIN_FORCE_SHARE * las["rows"].sum())
                       & ~las["area_code"].isin(list(self.districts.index))]
        return left_out[["area_code", "area_name", "rows"]].reset_index(drop=True)

    def area_notes(self) -> list[str]:
        """Sentences about how the params' areas were matched to the lookup (a current ONS code
        mapped to the lookup's, districts of the force the lookup leaves out)."""
        notes = [r.message for r in (self.focus_district, *self.comparison_codes) if r.message]
        missing = self.missing_districts
        if len(missing):
            names = [f"{r.area_name} ({r.area_code})" for r in missing.itertuples()]
            one = len(names) == 1
            notes.append(
                f"The LSOA lookup does not assign {_join(names)} to the police force "
                f"{self.params.comparison_area.police_force!r}, although {self.comparison_name} "
                f"police data cover {'it' if one else 'them'}; {'it is' if one else 'they are'} "
                "therefore left out of the comparison. List every district in "
                "comparison_area.districts to include them.")
        return notes

    def population_year(self, period: ReportingPeriod | None = None) -> int:
        """Mid-year estimate used for a period: the year its middle month falls in."""
        period = period or self.current
        return period.months[len(period.months) // 2].year

    @cached_property
    def population(self) -> pd.DataFrame:
        """``population, year, source`` of every comparison district for the current period."""
        frame = queries.population(self.con, area_codes=list(self.districts.index),
                                   year=self.population_year())
        return frame.set_index("area_code")

    # ------------------------------------------------------------------ coverage
    @cached_property
    def forces(self) -> tuple[str, ...]:
        """The police forces (police.uk "Falls within") whose data the focus area draws on."""
        found = queries.area_forces(self.con, [self.focus_code])
        if found.empty:
            return ()
        share = found["rows"] / found["rows"].sum()
        return tuple(found.loc[share >= FORCE_SHARE, "force"])

    @cached_property
    def comparison_forces(self) -> tuple[str, ...]:
        """The police forces whose data the comparison districts draw on."""
        found = queries.area_forces(self.con, list(self.districts.index))
        if found.empty:
            return ()
        share = found["rows"] / found["rows"].sum()
        return tuple(found.loc[share >= FORCE_SHARE, "force"])

    @cached_property
    def coverage_table(self) -> pd.DataFrame:
        """Coverage of the focus area's forces: ``force, month, rows, has_data, incomplete,
        reason`` (see :mod:`smp_analysis.store.quality`)."""
        return queries.coverage(self.con, self.forces)

    def coverage(self, months: pd.PeriodIndex, name: str = "",
                 forces: tuple[str, ...] | None = None) -> MonthCoverage:
        """Which of `months` have usable data for the focus area's forces (or `forces`)."""
        forces = self.forces if forces is None else forces
        table = self.coverage_table if forces == self.forces else queries.coverage(
            self.con, forces)
        return month_coverage(table, forces, months, name, area=self.focus_name)

    @cached_property
    def current_coverage(self) -> MonthCoverage:
        return self.coverage(self.current.months, self.current.name)

    @cached_property
    def previous_coverage(self) -> MonthCoverage:
        return self.coverage(self.previous.months, self.previous.name)

    def history_coverage(self, years: int | None = None) -> MonthCoverage:
        """The `years` (default ``options.expected_years``) before the assessment period."""
        years = self.options.expected_years if years is None else years
        first = self.current.first_month
        months = pd.period_range(first - 12 * years, first - 1, freq="M")
        return self.coverage(months, f"the {plural(years, 'year')} before {first:%B %Y}")

    @cached_property
    def like_for_like(self) -> LikeForLike:
        """The months of the two periods compared like for like (see :mod:`.coverage`)."""
        return LikeForLike.pair(self.current_coverage, self.previous_coverage)

    @cached_property
    def baseline_excluded(self) -> pd.PeriodIndex:
        """Months params leave out of baselines (``options.baseline_exclusions``)."""
        return pd.PeriodIndex([pd.Period(m, "M") for e in self.options.baseline_exclusions
                               for m in e.months()], freq="M")

    @cached_property
    def category_changes(self) -> tuple[categories.CategoryChange, ...]:
        """The data.police.uk category changes that apply to the focus area's data."""
        return categories.changes_in_data(queries.category_names(self.con, self.forces))

    def coverage_report(self) -> tuple[list[str], list[str]]:
        """What ``smp check-params`` prints about coverage: (lines, problems). A problem (a
        period without a usable month, an area the lookup does not have) fails the check."""
        lines, problems = [], []
        resolved = [self.focus_district, *self.comparison_codes]
        problems += [f"{r.given}: {r.message}" for r in resolved if r.code is None]
        if problems:
            return lines, problems
        lines += self.area_notes()
        if self.population_caveat():
            lines.append(self.population_caveat())
        if not self.forces:
            problems.append(f"the store holds no police.uk rows located in {self.focus_name} "
                            f"({self.focus_code}); check data.police_uk and the LSOA lookup")
            return lines, problems
        lines.append(f"data for {self.focus_name} ({self.focus_code}) come from "
                     + ", ".join(self.forces))
        for label, cover in (("assessment period", self.current_coverage),
                             ("previous period", self.previous_coverage)):
            lines.append(f"{label} {cover.name}: {cover.describe()}")
            if cover.n_usable == 0:
                problems.append(f"the {label} {cover.name} has no usable month: {cover.why()}")
        pair = self.like_for_like
        lines.append(f"like for like: {pair.n} of {pair.of} months usable in both periods (a "
                     f"verdict on a change needs {pair.minimum})")
        history = self.history_coverage()
        with_data = history.months[~history.months.isin(history.no_data)]
        if len(with_data):
            first_usable = history.usable.min() if history.n_usable else None
            years = 0 if first_usable is None else (
                (self.current.first_month - first_usable).n - 1) // 12
            span = self.coverage(pd.period_range(with_data.min(), with_data.max(), freq="M"))
            lines.append(
                f"history for anticipated volumes "
                f"({plural(self.options.expected_years, 'year')} wanted): "
                f"{with_data.min():%B %Y} to {with_data.max():%B %Y}, {span.describe()}; the "
                f"model can use {plural(min(years, self.options.expected_years), 'whole year')}")
        else:
            lines.append(f"history for anticipated volumes: no data before "
                         f"{self.current.first_month:%B %Y}; that chapter will say it cannot be "
                         "calculated")
        return lines, problems

    def population_caveat(self) -> str:
        """A caveat when the population used is more than ``options.max_population_age_years``
        older than the assessment period ('' otherwise)."""
        population = self.population
        if population.empty:
            return ""
        oldest = int(population["year"].min())
        age = self.population_year() - oldest
        if age <= self.options.max_population_age_years:
            return ""
        source = _join(sorted(set(population.loc[population["year"] == oldest, "source"])))
        return (f"Rates use the {source}, {plural(age, 'year')} older than the assessment period "
                f"({self.current.name}); populations have changed since, so the rates and "
                "ranks are approximate. Supply mid-year estimates (data.population_by_year) for "
                "a current base.")

    # ------------------------------------------------------------------ counts
    def monthly(self, *, start, end, area_codes=None, level: str = "district") -> pd.DataFrame:
        """Monthly counts ``area_code, month, crime_type, count`` (see
        :func:`smp_analysis.store.queries.monthly_counts`).

        Several chapters ask for the same areas' counts over different spans; the store is
        asked once per set of areas and level, for every month up to the end of the
        assessment period (or of the span asked for, if later), and each request gets its
        months of that, as the query would return them (same rows, order and types), as a
        new frame the caller may change."""
        key = (None if area_codes is None else tuple(area_codes), level)
        last = pd.Timestamp(end).date()
        held = self._monthly.get(key)
        if held is None or last > held[0]:
            until = max(last, self.current.end)
            frame = queries.monthly_counts(self.con, start=dt.date(1, 1, 1), end=until,
                                           area_codes=area_codes, level=level)
            held = self._monthly[key] = (until, frame)
        frame = held[1]
        month = frame["month"]
        inside = (month >= pd.Timestamp(start)) & (month <= pd.Timestamp(end))
        if not inside.any():  # the store's empty frame (its column types differ)
            return queries.monthly_counts(self.con, start=start, end=end,
                                          area_codes=area_codes, level=level)
        return frame[inside].reset_index(drop=True)

    # ------------------------------------------------------------------ topic results
    def cached(self, key, compute):
        """The cached value of `compute()` under `key` (computed on first use)."""
        if key not in self._results:
            self._results[key] = compute()
        return self._results[key]

    def topic_results(self) -> dict:
        """The topics' results computed so far (by :func:`topic`), to hand to another
        process building the same appendix (:meth:`adopt`)."""
        return {key: value for key, value in self._results.items()
                if isinstance(key, tuple) and key[:1] == (TOPIC,)}

    def adopt(self, results: dict) -> None:
        """Take another process's :meth:`topic_results` for the same params and store."""
        for key, value in results.items():
            self._results.setdefault(key, value)


class NotReady(RuntimeError):
    """The assessment cannot be opened yet; the message says, in one sentence, what to run.

    In a notebook the sentence is shown alone, without a traceback (IPython calls
    ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def _inputs_missing(exc: ParamsError) -> bool:
    """True when every problem is an input file or folder that does not exist (a fresh clone
    before the demo data are written), not a mistake in the params file."""
    return bool(exc.problems) and all("file or folder not found" in p.message
                                      for p in exc.problems)


def _not_built_sentence(params: AssessmentParams, why: str) -> str:
    name = params.source_file.name if params.source_file else "assessment"
    if _reads_demo_data(params):
        run = ("`make demo-store` in the project folder (or `make appendix`, which also builds "
               "the appendices)")
    else:
        shown = params.source_file.as_posix() if params.source_file else "PARAMS.yaml"
        run = f"`smp appendix --params {shown}`"
    return f"{name} cannot be opened because {why}: run {run}, then run this cell again."


def _reads_demo_data(params: AssessmentParams) -> bool:
    """True when the params read the synthetic demo county that `make` writes to data/demo."""
    inputs = list(params.data.police_uk)
    return bool(inputs) and all(Path(p).resolve().is_relative_to(DEMO_DATA) for p in inputs)


TOPIC = "topic"  # first item of the cache key of a topic's result


def topic(compute):
    """Decorator for a topic's ``compute(sa, ...)``: one result per assessment and arguments.

    >>> calls = []
    >>> @topic
    ... def compute(sa):
    ...     calls.append(1)
    ...     return "result"
    >>> class Fake:
    ...     cached = Assessment.cached
    ...     _results = {}
    >>> sa = Fake()
    >>> compute(sa), compute(sa), len(calls)
    ('result', 'result', 1)
    """

    @functools.wraps(compute)
    def wrapper(sa, *args, **kwargs):
        key = (TOPIC, compute.__module__, compute.__qualname__, args,
               tuple(sorted(kwargs.items())))
        return sa.cached(key, lambda: compute(sa, *args, **kwargs))

    return wrapper


@dataclass(frozen=True, kw_only=True)
class TopicResult:
    """Base of every topic's result. `missing` says, in one sentence, why the topic could not
    be computed (no victim extract, too little history...); then every presentation method
    shows nothing except :meth:`missing_note`, and the build drops the empty sections."""

    missing: str | None = None

    @property
    def available(self) -> bool:
        return self.missing is None

    def missing_note(self) -> Block:
        return Notice(self.missing, "unavailable") if self.missing else EMPTY

    def headlines(self) -> list[str]:
        """Sentences for the key findings (none by default)."""
        return []


def when_available(method):
    """Presentation method decorator: EMPTY when the result is missing its data."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.missing:
            return EMPTY
        return method(self, *args, **kwargs)

    return wrapper


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
