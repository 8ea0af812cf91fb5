"""Attack published counts as an intruder would: the integer range of every suppressed cell.

Reference: the *audit* step of cell suppression (Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, 4.3-4.4; Fischetti and Salazar-González, "Models and algorithms for
optimizing cell suppression in tabular data with linear constraints", JASA 95, 2000). A reader
who knows the published cells, the totals and any linear relation between the figures (a ward
total is the sum of its wards; a ward has no more victims than incidents; ...) can compute, for
each suppressed cell, its smallest and largest value over every table of non-negative integers
consistent with all of them. Those bounds are integer programs, solved here exactly by HiGHS
(:func:`scipy.optimize.milp`). A suppressed cell is protected when its feasible range is at
least ``threshold`` wide (``high - low >= threshold``): the reader can neither pin it to one
value nor tell that it is small.

Cells are named by any hashable key. :class:`Relation` states one linear fact; cells that
appear in relations but are neither published nor suppressed (a figure nobody publishes, such
as a row total that is not shown) are unknowns the reader must also solve for.

>>> published = {"A": 40, "total": 45}
>>> rel = [total("total", ["A", "B", "C"])]
>>> r = Audit(published, ["B", "C"], rel).range("B")   # B + C = 5, each >= 1
>>> (r.low, r.high, r.protected(5))
(1, 4, False)
>>> Audit({"A": 40, "total": 52}, ["B", "C"], rel).range("B").protected(5)   # B + C = 12
True
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


class InconsistentFigures(ValueError):
    """The published figures contradict a stated relation (the relation is wrong)."""


@dataclass(frozen=True)
class Relation:
    """``sum(coefficient * cell) == constant`` (kind ``"=="``) or ``<= constant`` (``"<="``)."""

    terms: tuple[tuple[Hashable, int], ...]
    kind: str = "=="
    constant: int = 0

    def __post_init__(self):
        if self.kind not in ("==", "<="):
            raise ValueError(f"relation kind must be '==' or '<=', got {self.kind!r}")

    @property
    def cells(self) -> tuple[Hashable, ...]:
        return tuple(k for k, _ in self.terms)

    def holds(self, values: Mapping[Hashable, int]) -> bool:
        lhs = sum(c * values[k] for k, c in self.terms)
        return lhs == self.constant if self.kind == "==" else lhs <= self.constant


def total(whole: Hashable, parts: Iterable[Hashable]) -> Relation:
    """``whole = sum(parts)``."""
    return Relation(((whole, -1), *((p, 1) for p in parts)), "==")


def at_most(smaller: Hashable | list[Hashable], larger: Hashable | list[Hashable]) -> Relation:
    """``sum(smaller) <= sum(larger)``: a list is a sum, anything else (a tuple too) one key."""
    left = smaller if isinstance(smaller, list) else [smaller]
    right = larger if isinstance(larger, list) else [larger]
    coefficients: dict[Hashable, int] = {}
    for key in left:
        coefficients[key] = coefficients.get(key, 0) + 1
    for key in right:
        coefficients[key] = coefficients.get(key, 0) - 1
    return Relation(tuple((k, c) for k, c in coefficients.items() if c), "<=")


@dataclass(frozen=True)
class Range:
    """The values a suppressed cell can take given everything published."""

    low: float
    high: float  # math.inf when nothing bounds the cell from above

    @property
    def width(self) -> float:
        return self.high - self.low

    def protected(self, threshold: int) -> bool:
        return self.width >= threshold


class Audit:
    """Feasible integer ranges of the `hidden` cells given the `published` ones.

    `lower` is what a reader knows of a suppressed cell's floor: 1 when zeros are always
    published (so a suppressed cell is not zero), 0 otherwise. Unknowns that are not
    suppressed cells (figures never published) have floor 0. `feasible` optionally gives the
    true values of the suppressed cells: a table known to fit; `seen` the smallest and largest
    values cells took in tables found earlier to fit (they still fit when more is hidden).

    Every integer program solved yields a whole table that fits; the values each cell takes
    across those tables (and `feasible`) are kept, so :meth:`protected` can often confirm a
    wide range without solving for that cell at all.
    """

    def __init__(self, published: Mapping[Hashable, int], hidden: Iterable[Hashable],
                 relations: Sequence[Relation], *, lower: int = 1,
                 feasible: Mapping[Hashable, int] | None = None,
                 seen: Mapping[Hashable, tuple[float, float]] | None = None):
        self.published = dict(published)
        self.hidden = list(dict.fromkeys(hidden))
        clash = [k for k in self.hidden if k in self.published]
        if clash:
            raise ValueError(f"cells both published and suppressed: {clash[:5]}")
        self.lower = lower
        self._rows: list[tuple[dict[int, int], str, int]] = []
        self._index: dict[Hashable, int] = {k: i for i, k in enumerate(self.hidden)}
        for relation in relations:
            self._add(relation)
        self._components = self._split()
        self._cache: dict[Hashable, Range] = {}
        self._models: dict[int, tuple] = {}
        self._seen_low = np.full(len(self._index), np.inf)
        self._seen_high = np.full(len(self._index), -np.inf)
        self._solutions: dict[tuple[int, int], dict[Hashable, int]] = {}
        self._fits = feasible is not None  # a table is known to fit
        for key, value in (feasible or {}).items():
            if key in self._index:
                self._see(self._index[key], value)
        hidden_keys = set(self.hidden)
        for key, (low, high) in (seen or {}).items():
            if key in hidden_keys:
                self._see(self._index[key], low)
                self._see(self._index[key], high)

    def spreads(self) -> dict[Hashable, tuple[float, float]]:
        """Smallest and largest value each suppressed cell took in the tables found to fit."""
        return {k: (self._seen_low[j], self._seen_high[j]) for k, j in self._index.items()
                if j < len(self.hidden) and np.isfinite(self._seen_low[j])}

    def solution(self, key: Hashable, sign: int) -> dict[Hashable, int] | None:
        """The suppressed cells of a table where `key` is smallest (sign 1) or largest (-1),
        when that integer program has been solved."""
        return self._solutions.get((self._index[key], sign))

    def _see(self, j: int, value: float) -> None:
        self._seen_low[j] = min(self._seen_low[j], value)
        self._seen_high[j] = max(self._seen_high[j], value)

    def _variable(self, key: Hashable) -> int:
        if key not in self._index:
            self._index[key] = len(self._index)
        return self._index[key]

    def _add(self, relation: Relation) -> None:
        constant = relation.constant
        row: dict[int, int] = {}
        for key, coefficient in relation.terms:
            if key in self.published:
                constant -= coefficient * self.published[key]
            else:
                j = self._variable(key)
                row[j] = row.get(j, 0) + coefficient
        row = {j: c for j, c in row.items() if c}
        if not row:
            ok = constant == 0 if relation.kind == "==" else constant >= 0
            if not ok:
                raise InconsistentFigures(f"published figures break {relation}")
            return
        self._rows.append((row, relation.kind, constant))

    def _split(self) -> dict[int, tuple[list[int], list[int]]]:
        """Connected components of the unknowns: variable -> (its component's variables,
        the rows that involve them)."""
        parent = list(range(len(self._index)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for row, _, _ in self._rows:
            first, *rest = row
            for j in rest:
                parent[find(j)] = find(first)
        members: dict[int, list[int]] = {}
        for j in range(len(self._index)):
            members.setdefault(find(j), []).append(j)
        rows: dict[int, list[int]] = {}
        for r, (row, _, _) in enumerate(self._rows):
            rows.setdefault(find(next(iter(row))), []).append(r)
        return {j: (members[find(j)], rows.get(find(j), [])) for j in range(len(self._index))}

    def range(self, key: Hashable) -> Range:
        """Smallest and largest integer value of suppressed cell `key`."""
        if key not in self._cache:
            j = self._index[key]
            high = self._bound(j, -1)
            low = self._bound(j, 1)
            if low is None:
                raise InconsistentFigures(f"no table of counts fits the published figures "
                                          f"around {key!r}: a stated relation is wrong")
            self._cache[key] = Range(low, math.inf if high is None else high)
        return self._cache[key]

    def ranges(self) -> dict[Hashable, Range]:
        return {k: self.range(k) for k in self.hidden}

    def protected(self, key: Hashable, threshold: int, *, value: int | None = None) -> bool:
        """Whether `key`'s range is at least `threshold` wide: settled by the tables already
        found when they spread that far, else by solving for the cell. `value` is the cell's
        true value when known (a point that fits)."""
        j = self._index[key]
        if value is not None:
            self._see(j, value)
            self._fits = True
        if key in self._cache:
            return self._cache[key].protected(threshold)
        if self._seen_high[j] - self._seen_low[j] >= threshold:
            return True
        high = self._bound(j, -1)
        if high is None and (self._fits or np.isfinite(self._seen_low[j])):
            return True  # no largest value, and some table fits: unbounded
        if self._seen_high[j] - self._seen_low[j] >= threshold:
            return True
        return self.range(key).protected(threshold)

    def unprotected(self, threshold: int) -> list[Hashable]:
        """Suppressed cells whose range is narrower than `threshold`, in the given order."""
        return [k for k in self.hidden if not self.protected(k, threshold)]

    def _bound(self, target: int, sign: int) -> int | None:
        """min (sign 1) or max (sign -1) of one unknown; None when the integer program has
        no optimum (unbounded, or infeasible: told apart by the caller)."""
        variables, row_ids = self._components[target]
        if not row_ids:
            return self._floor(target) if sign == 1 else None
        from scipy import optimize  # only when a table has suppressed cells to audit

        local, constraint, bounds = self._model(variables, row_ids)
        objective = np.zeros(len(variables))
        objective[local[target]] = sign
        result = optimize.milp(objective, constraints=constraint, bounds=bounds,
                               integrality=np.ones(len(variables)))
        if result.status != 0:
            return None
        values = np.round(result.x)
        for j, x in zip(variables, values, strict=True):
            self._see(j, x)
        self._solutions[(target, sign)] = {self.hidden[j]: int(x) for j, x in
                                           zip(variables, values, strict=True)
                                           if j < len(self.hidden)}
        self._fits = True
        return round(sign * result.fun)

    def _model(self, variables: list[int], row_ids: list[int]):
        """The constraints of one component (built once)."""
        from scipy import optimize, sparse

        key = variables[0]
        if key not in self._models:
            local = {j: i for i, j in enumerate(variables)}
            data, rows, cols, low, high = [], [], [], [], []
            for r_local, r in enumerate(row_ids):
                row, kind, constant = self._rows[r]
                for j, c in row.items():
                    data.append(c)
                    rows.append(r_local)
                    cols.append(local[j])
                low.append(constant if kind == "==" else -np.inf)
                high.append(constant)
            matrix = sparse.csr_array((data, (rows, cols)),
                                      shape=(len(row_ids), len(variables)))
            self._models[key] = (local, optimize.LinearConstraint(matrix, low, high),
                                 optimize.Bounds([self._floor(j) for j in variables], np.inf))
        return self._models[key]

    def _floor(self, j: int) -> int:
        return self.lower if j < len(self.hidden) else 0
