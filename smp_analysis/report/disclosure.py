"""Statistical disclosure control for every published figure built on victim-level data.

Guidance followed: ONS, "Policy on protecting confidentiality in tables of birth and death
statistics" (the small-count threshold, secondary suppression, zeros and differencing); GSS/GSR,
"Disclosure control guidance for tables produced from administrative sources" (2014: primary
and secondary suppression, disclosure by differencing between tables and between linked
columns); Government Analysis Function, "Symbols, abbreviations and shorthand in tables"
(``[c]`` for confidential); Hundepool et al., *Statistical Disclosure Control* (2012), 4.3-4.4
(auditing a suppression pattern by linear/integer programming).

The rules, for a chapter's figures taken together (every table, sentence and chart label):

1. **Primary suppression**: counts from 1 to ``threshold - 1`` are not published.
2. **Zeros are published**, so a reader knows a suppressed cell is at least 1; the audit
   assumes that knowledge.
3. **Secondary suppression**: further cells are suppressed until no suppressed cell can be
   worked out, or narrowed to fewer than ``threshold + 1`` possible values, from everything
   published: totals of rows and columns, linked columns (victims <= incidents, repeat
   victims <= repeat incidents, ...), and the same figure in another table or sentence. A
   cheap line rule goes first (no total, and no near-total a reader may assume, leaves one
   suppressed cell or a suppressed sum too small to share); then every suppressed cell is
   attacked with
   :mod:`smp_analysis.report.disclosure_audit` and the pattern is extended until every cell
   is protected.
4. **A value-free marker**: every suppressed cell is shown as :data:`MARKER` (``[c]``),
   whether it is small or hidden only to protect another; a number is never printed for it.
5. **Derived statistics** (rates, percentages, changes, p-values, averages) are shown only
   when every count they use is published (:meth:`Protection.shown`).

>>> cells = {"A": 40, "B": 3, "C": 12, "total": 55}
>>> p = protect(cells, [total("total", ["A", "B", "C"])], threshold=5)
>>> [p.count(k) for k in cells]
['40', '[c]', '[c]', '55']

Ward C (12) is suppressed as well: 55 - 40 leaves B + C = 15, so neither can be pinned down.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .disclosure_audit import Audit, Relation, at_most, total

__all__ = ["MARKER", "NOT_APPLICABLE", "VICTIM_LEVEL_KINDS", "Protection", "Relation",
           "at_most", "check_threshold", "is_small", "protect", "safe_count", "suppress", "total"]

MARKER = "[c]"
NOT_APPLICABLE = "–"
MINIMUM_THRESHOLD = 3
ADVISED_THRESHOLD = 5
# How many linked published figures to try, cheapest first, when extending the pattern.
CANDIDATES_TRIED = 8
# Input kinds whose rows are about individual victims: any count of their rows is protected.
VICTIM_LEVEL_KINDS = ("incidents", "marac_referrals")


def check_threshold(threshold) -> int:
    """The threshold as an int; rejects booleans, non-integers and values below 3.

    >>> check_threshold(5)
    5
    >>> check_threshold(True)
    Traceback (most recent call last):
    ...
    ValueError: the suppression threshold must be a whole number of at least 3, got True
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) \
            or threshold < MINIMUM_THRESHOLD:
        raise ValueError("the suppression threshold must be a whole number of at least "
                         f"{MINIMUM_THRESHOLD}, got {threshold!r}")
    return threshold


def is_small(value: int, threshold: int) -> bool:
    """True for the counts primary suppression hides (1 to threshold - 1)."""
    return 0 < value < threshold


def safe_count(value: int, threshold: int) -> str:
    """One count on its own (no total or related figure published beside it): the marker when
    small. Figures published together must go through :func:`protect` instead.

    >>> safe_count(3, 5), safe_count(0, 5), safe_count(1234, 5)
    ('[c]', '0', '1,234')
    """
    return MARKER if is_small(value, threshold) else f"{int(value):,}"


@dataclass(frozen=True)
class Protection:
    """Which of a chapter's figures may be published. `values` are the true counts (never
    print them directly: use :meth:`count`, :meth:`value` and :meth:`shown`)."""

    values: Mapping[Hashable, int]
    hidden: frozenset
    primary: frozenset
    threshold: int
    relations: tuple[Relation, ...] = field(default=(), repr=False)

    def shown(self, *keys: Hashable) -> bool:
        """True when every one of `keys` is published (so a statistic built on them may be)."""
        return all(k not in self.hidden for k in keys)

    def value(self, key: Hashable) -> int | None:
        """The count, or None when it is suppressed."""
        return None if key in self.hidden else int(self.values[key])

    def count(self, key: Hashable) -> str:
        """The count as written in a table: '1,234', or the marker."""
        return MARKER if key in self.hidden else f"{int(self.values[key]):,}"

    def rate(self, numerator: Hashable, denominator: Hashable, fmt: str = "{:.1%}") -> str:
        """numerator / denominator, the marker when either is suppressed, '–' for 0/0."""
        if not self.shown(numerator, denominator):
            return MARKER
        if self.values[denominator] == 0:
            return NOT_APPLICABLE
        return fmt.format(self.values[numerator] / self.values[denominator])

    def published(self) -> dict[Hashable, int]:
        return {k: int(v) for k, v in self.values.items() if k not in self.hidden}

    def audit(self) -> Audit:
        """The attack on this pattern (what a reader can infer of each suppressed cell)."""
        order = {k: i for i, k in enumerate(self.values)}
        return _audit(self.values, self.relations, self.hidden, order, truth=False)

    def note(self) -> str:
        """The sentence every protected table carries under its caption."""
        return (f"{MARKER}: not published to protect confidentiality (ONS/GSS disclosure "
                f"control): counts from 1 to {self.threshold - 1}, and other cells that would "
                "let them be worked out from totals or related figures. Zeros are shown; a "
                "rate or change is not shown when a count it uses is not published.")


def protect(values: Mapping[Hashable, int], relations: Sequence[Relation], threshold: int,
            *, near: Sequence[Relation] = ()) -> Protection:
    """Suppression pattern for `values` (every count a chapter publishes, by key) given the
    `relations` a reader knows hold between them (each is checked against `values`).

    `near` are totals that usually hold but need not (victims = incidents - repeat incidents
    when no victim had an incident before the period; district victims = the sum of ward
    victims when no victim has incidents in two wards). A reader may assume them, so the line
    rule protects them like totals, and those that hold exactly for these figures are attacked
    like any other relation (a reader assuming them would be right).
    """
    threshold = check_threshold(threshold)
    values = {k: _count(k, v) for k, v in values.items()}
    relations, near = tuple(relations), tuple(near)
    for relation in (*relations, *near):
        unknown = [k for k in relation.cells if k not in values]
        if unknown:
            raise KeyError(f"relation names figures with no value: {unknown[:5]}")
    for relation in relations:
        if not relation.holds(values):
            raise ValueError(f"a stated relation does not hold for these figures: {relation}")
    order = {k: i for i, k in enumerate(values)}
    primary = frozenset(k for k, v in values.items() if is_small(v, threshold))
    hidden = set(primary)
    attacked = relations + tuple(r for r in near if r.holds(values))
    neighbours, verified, spread = _neighbours(attacked), set(), {}
    while True:
        before = len(hidden)
        _line_rule(values, relations + near, hidden, threshold, order)
        _repair(values, attacked, hidden, threshold, order, neighbours, verified, spread)
        if len(hidden) == before:
            break
    return Protection(values, frozenset(hidden), primary, threshold, attacked)


def _count(key, value) -> int:
    if isinstance(value, bool) or pd.isna(value) or int(value) != value or value < 0:
        raise ValueError(f"{key}: a count must be a whole number >= 0, got {value!r}")
    return int(value)


def _neighbours(relations: Sequence[Relation]) -> dict[Hashable, list[Hashable]]:
    out: dict[Hashable, dict[Hashable, None]] = {}
    for relation in relations:
        for key in relation.cells:
            out.setdefault(key, {}).update(dict.fromkeys(k for k in relation.cells if k != key))
    return {k: list(v) for k, v in out.items()}


def _line_rule(values, relations, hidden: set, threshold: int, order) -> None:
    """In every total (an equality of +-1 terms), leave no suppressed cell alone and no
    suppressed sum too small to share: sum >= threshold + number of suppressed cells."""
    lines = [r for r in relations if r.kind == "==" and all(abs(c) == 1 for _, c in r.terms)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            cells = line.cells
            inside = [k for k in cells if k in hidden]
            if not inside:
                continue
            if len(inside) > 1 and sum(values[k] for k in inside) >= threshold + len(inside):
                continue
            spare = sorted((k for k in cells if k not in hidden and values[k] > 0),
                           key=lambda k: (values[k], order[k]))
            if spare:
                hidden.add(spare[0])
                changed = True


def _repair(values, relations, hidden: set, threshold: int, order, neighbours,
            verified: set, spread: dict) -> None:
    """Attack the pattern; while a suppressed cell is not protected, suppress the published
    figure linked to it (cheapest first) that protects it, or widens its range most.
    Suppressing more only widens ranges and keeps every table found to fit, so a cell once
    `verified` stays protected and `spread` stays true."""
    while True:
        audit = _audit(values, relations, hidden, order, spread)
        weak = None
        for key in sorted(hidden - verified, key=order.get):
            if audit.protected(key, threshold):
                verified.add(key)
            else:
                weak = key
                break
        spread.update(audit.spreads())
        if weak is None:
            return
        hidden.add(_best_candidate(weak, values, relations, hidden, threshold, order,
                                   neighbours, spread))


def _audit(values, relations, hidden, order, spread=None, *, truth: bool = True) -> Audit:
    """The attack on a pattern; with `truth`, told the true values and earlier tables that fit,
    which spares integer programs but changes no range."""
    return Audit({k: v for k, v in values.items() if k not in hidden},
                 sorted(hidden, key=order.get), relations,
                 feasible={k: values[k] for k in hidden} if truth else None,
                 seen=spread if truth else None)


def _best_candidate(cell, values, relations, hidden, threshold, order, neighbours, spread):
    candidates = _candidates(cell, values, hidden, order, neighbours)
    if not candidates:  # cannot happen: with no published figure, nothing bounds the cell
        raise RuntimeError(f"no figure left to suppress to protect {cell!r}")
    best, best_width = candidates[0], -1.0
    for candidate in candidates[:CANDIDATES_TRIED]:
        trial = _audit(values, relations, hidden | {candidate}, order, spread)
        if trial.protected(cell, threshold):
            return candidate
        width = trial.range(cell).width
        if width > best_width:
            best, best_width = candidate, width
    return best


def _candidates(cell, values, hidden, order, neighbours) -> list:
    """Published non-zero figures linked to `cell`: direct neighbours first, then (when it
    has none) the neighbours of the suppressed cells it is linked to, and so on."""
    seen, frontier = {cell}, [cell]
    while frontier:
        found = {k for c in frontier for k in neighbours.get(c, ())
                 if k not in hidden and values[k] > 0}
        if found:
            return sorted(found, key=lambda k: (values[k], order[k]))
        frontier = [k for c in frontier for k in neighbours.get(c, ())
                    if k in hidden and k not in seen]
        seen.update(frontier)
    return []


def suppress(table: pd.DataFrame, *, counts: list[str], threshold: int,
             rates: dict[str, tuple[str, str]] | None = None, total_label: str | None = None,
             label_column: str | None = None, rate_format: str = "{:.1%}",
             linked: Sequence[tuple[str, str]] = ()) -> pd.DataFrame:
    """A display copy of one table (counts as text, suppressed cells as ``[c]``).

    `rates` maps a rate column to its (numerator, denominator) count columns. With
    `total_label`, a total row (the column sums) is appended and protected. `linked` lists
    (smaller, larger) count columns that hold in every row (e.g. repeats <= incidents).
    A chapter whose tables share figures protects them together with :func:`protect`.

    >>> t = pd.DataFrame({"ward": ["A", "B", "C"], "incidents": [40, 3, 12]})
    >>> suppress(t, counts=["incidents"], threshold=5, total_label="Total")["incidents"].tolist()
    ['40', '[c]', '[c]', '55']
    """
    rates = rates or {}
    body = table.reset_index(drop=True)
    values = {(i, c): body.at[i, c] for i in body.index for c in counts}
    relations = [at_most((i, small), (i, large)) for i in body.index for small, large in linked]
    shown = body.copy()
    if total_label is not None:
        label_column = label_column or next(c for c in body.columns
                                            if c not in counts and c not in rates)
        n = len(body)
        for c in counts:
            values[(n, c)] = int(body[c].sum())
            relations.append(total((n, c), [(i, c) for i in body.index]))
        relations += [at_most((n, small), (n, large)) for small, large in linked]
        total_row = dict.fromkeys(shown.columns, "")
        total_row[label_column] = total_label
        shown = pd.concat([shown, pd.DataFrame([total_row])], ignore_index=True)
    protection = protect(values, relations, threshold)
    out = shown.astype(object)
    for c in counts:
        out[c] = [protection.count((i, c)) for i in out.index]
    for column, (numerator, denominator) in rates.items():
        out[column] = [protection.rate((i, numerator), (i, denominator), rate_format)
                       for i in out.index]
    return out

