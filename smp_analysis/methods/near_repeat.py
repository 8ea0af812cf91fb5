"""Near repeats: do crimes close in space also fall close in time more often than chance?

The Knox test (Knox 1964, Applied Statistics 13(1), 25-29) in the form of the Near Repeat
Calculator (Ratcliffe 2009, Temple University; Johnson et al. 2007, J Quant Criminol 23,
201-219): every pair of events is classified by its distance band and its time band; the
observed count of pairs in each (distance band, time band) cell is compared with the counts
obtained after permuting the events' timestamps at random (keeping the places fixed), which
breaks any link between space and time while keeping both distributions. For each cell:

* ``observed``: pairs in the cell;
* ``permuted_mean``: mean count over the permutations; ``knox_ratio`` = observed / that mean
  (above 1: more pairs close in space and time than chance would give);
* ``p_value``: the Monte Carlo p-value ``(1 + #{permuted >= observed}) / (permutations + 1)``
  (one-sided, as in the Near Repeat Calculator; Besag and Diggle 1977);
* ``expected``: the exact mean of the permutation distribution, ``S_d T_k / P`` (``S_d``
  pairs in distance band d, ``T_k`` pairs in time band k, ``P = n(n-1)/2`` pairs): under a
  random permutation each pair of places receives a uniformly random pair of timestamps.
  ``permuted_mean`` converges to it; it is given as a check.

Bands are intervals ``(low, high]``; the first band also holds ``low`` itself, so edges
``[0, 200, 400]`` give ``[0, 200]`` and ``(200, 400]``, and a ``(0, 0)`` band holds only
zero (the "same location" band of the Near Repeat Calculator). Bands may be given as edges
(increasing numbers) or as ``(low, high)`` pairs (gaps allowed, no overlaps).

Caveats for data.police.uk: locations are snapped to anonymous map points (the centre of a
street or a public place, each with eight or more postal addresses or none; data.police.uk,
About, "Location anonymisation"), so pairs closer than the spacing of map points (often
100-300 m) cannot be told apart from pairs at the same point, and only the month of each crime
is published, so the finest time band is "the same month".

>>> events = pd.DataFrame({"x": [0, 10, 5000, 5010], "y": [0, 0, 0, 0], "t": [0, 1, 50, 300]})
>>> r = knox_test(events, distance_bands=[0, 100], time_bands=[0, 7], permutations=99)
>>> r[["observed", "expected"]].iloc[0].tolist()
[1.0, 0.3333333333333333]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

Band = tuple[float, float]


def parse_bands(spec: Sequence, name: str = "bands") -> list[Band]:
    """Bands as ``(low, high)`` pairs from edges or pairs (see module doc).

    >>> parse_bands([0, 200, 400])
    [(0.0, 200.0), (200.0, 400.0)]
    >>> parse_bands([(0, 0), (0, 31), (31, 62)])
    [(0.0, 0.0), (0.0, 31.0), (31.0, 62.0)]
    """
    items = list(spec)
    if not items:
        raise ValueError(f"{name}: give at least one band")
    if all(isinstance(v, Sequence) and not isinstance(v, str) for v in items):
        bands = [(float(lo), float(hi)) for lo, hi in items]
    elif all(np.isscalar(v) and not isinstance(v, str) for v in items):
        if len(items) < 2:
            raise ValueError(f"{name}: edges need at least two numbers, e.g. [0, 200]")
        edges = [float(v) for v in items]
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"{name}: edges must increase, got {items}")
        bands = list(zip(edges[:-1], edges[1:], strict=True))
    else:
        raise ValueError(f"{name}: give increasing edges or (low, high) pairs, got {items}")
    for i, (lo, hi) in enumerate(bands):
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi < lo:
            raise ValueError(f"{name}: band {i + 1} ({lo}, {hi}) needs 0 <= low <= high")
        if i and lo < bands[i - 1][1]:
            raise ValueError(f"{name}: band {i + 1} overlaps the band before it")
        if i and hi == lo:
            raise ValueError(f"{name}: only the first band may be a single value")
    return bands


def band_index(values: np.ndarray, bands: list[Band]) -> np.ndarray:
    """Index of the band holding each value, -1 when none does.

    >>> band_index(np.array([0.0, 5.0, 10.0, 10.5, 30.0]), [(0, 10), (10, 20)]).tolist()
    [0, 0, 0, 1, -1]
    >>> band_index(np.array([0.0, 0.5, 7.0, 8.0, 30.0]), [(0, 0), (0, 7), (14, 28)]).tolist()
    [0, 1, 1, -1, -1]
    >>> band_index(np.array([1.0, 2.0, 3.0]), [(2, 3)]).tolist()
    [-1, 0, 0]
    """
    edges = [bands[0][0], *(hi for _, hi in bands)]
    if all(lo == edges[i] for i, (lo, _) in enumerate(bands)):
        # bands end to end: one binary search a value (the Knox permutations call this on
        # millions of pair differences); (lo, hi] each, the first band closed at lo as well
        out = np.searchsorted(np.asarray(edges, dtype=float), values, side="left") - 1
        out[values == edges[0]] = 0
        out[(out >= len(bands)) | (out < 0) & (values != edges[0])] = -1
        return out.astype(np.int64, copy=False)
    out = np.full(values.shape, -1, dtype=np.int64)
    for i, (lo, hi) in enumerate(bands):
        inside = (values > lo) & (values <= hi)
        if i == 0:
            inside |= values == lo
        out[inside & (out < 0)] = i
    return out


def band_label(band: Band, unit: str) -> str:
    """'0 to 200 m', 'more than 200 to 400 m', '0 m' (same place)."""
    lo, hi = band
    fmt = "{:,.0f}".format
    if lo == hi:
        return f"{fmt(lo)} {unit}"
    return f"{fmt(lo)} to {fmt(hi)} {unit}" if lo == 0 else f"over {fmt(lo)} to {fmt(hi)} {unit}"


def _pairs_in_time_bands(t: np.ndarray, bands: list[Band]) -> np.ndarray:
    """Number of unordered pairs whose time difference falls in each band (O(n log n))."""
    s = np.sort(t)
    i = np.arange(len(s))

    def at_most(x: float, side: str) -> float:
        later = np.searchsorted(s, s + x, side=side) - i - 1
        return float(np.maximum(later, 0).sum())

    counts = []
    for k, (lo, hi) in enumerate(bands):
        below = at_most(lo, "left") if k == 0 else at_most(lo, "right")
        counts.append(at_most(hi, "right") - below)
    return np.array(counts)


def knox_test(events: pd.DataFrame, *, distance_bands: Sequence, time_bands: Sequence,
              permutations: int = 999, seed: int = 0) -> pd.DataFrame:
    """Knox test by distance band and time band (see module doc).

    `events` has columns ``x``, ``y`` (metres, e.g. British National Grid: see
    :func:`to_british_national_grid`) and ``t`` (days). Returns one row per (distance band,
    time band): ``distance_band, time_band`` (labels), ``distance_low, distance_high,
    time_low, time_high, observed, permuted_mean, expected, knox_ratio, p_value``. The
    frame's ``attrs`` hold ``events``, ``pairs`` and ``permutations``.
    """
    from scipy.spatial import cKDTree

    missing = [c for c in ("x", "y", "t") if c not in events.columns]
    if missing:
        raise ValueError(f"events need columns x, y (metres) and t (days); missing {missing}")
    data = events[["x", "y", "t"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(data).all(axis=1)
    if bad.any():
        rows = ", ".join(str(r) for r in events.index[bad][:5])
        raise ValueError(f"{int(bad.sum())} event(s) have no usable x, y or t (rows {rows})")
    if int(permutations) < 1:
        raise ValueError("permutations must be at least 1")
    d_bands = parse_bands(distance_bands, "distance_bands")
    t_bands = parse_bands(time_bands, "time_bands")
    n = len(data)
    xy, t = data[:, :2], data[:, 2]
    n_d, n_t = len(d_bands), len(t_bands)
    if n >= 2:
        pairs = cKDTree(xy).query_pairs(r=d_bands[-1][1], output_type="ndarray")
    else:
        pairs = np.empty((0, 2), dtype=np.int64)
    distance = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.empty(0)
    d_index = band_index(distance, d_bands)
    keep = d_index >= 0
    first, second, d_index = pairs[keep, 0], pairs[keep, 1], d_index[keep]

    cells = n_d * n_t
    cell_of_pairs = _cell_of_pairs(t, t_bands, first, second, d_index, n_d)

    def cell_counts(orders: np.ndarray) -> np.ndarray:
        """Pairs in each (distance, time) cell for each row of `orders` (one ordering of the
        times over the events a row)."""
        cell = cell_of_pairs(orders)  # `cells` for a pair in no time band
        offset = (np.arange(len(orders)) * (cells + 1))[:, None]
        return np.bincount((cell + offset).ravel(), minlength=len(orders) * (cells + 1)
                           ).reshape(len(orders), cells + 1)[:, :cells]

    observed = cell_counts(np.arange(n)[None, :])[0]
    rng = np.random.default_rng(seed)
    total = np.zeros(cells)
    at_least = np.zeros(cells)
    # the permutations are drawn one by one from the seeded generator, as always, and counted
    # a batch at a time (a batch's pair differences held at once: about 8 MB)
    batch = max(1, min(int(permutations), 1_000_000 // max(1, len(d_index))))
    left = int(permutations)
    while left:
        size = min(batch, left)
        order = np.stack([rng.permutation(n) for _ in range(size)])
        permuted = cell_counts(order)
        total += permuted.sum(axis=0)
        at_least += (permuted >= observed).sum(axis=0)
        left -= size
    all_pairs = n * (n - 1) / 2
    spatial = np.bincount(d_index, minlength=n_d).astype(float)
    temporal = _pairs_in_time_bands(t, t_bands) if n >= 2 else np.zeros(n_t)
    expected = np.outer(spatial, temporal).ravel() / all_pairs if all_pairs else np.zeros(
        n_d * n_t)
    mean = total / int(permutations)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mean > 0, observed / mean, np.nan)
    rows = pd.DataFrame({
        "distance_band": [band_label(b, "m") for b in d_bands for _ in t_bands],
        "time_band": [band_label(b, "days") for _ in d_bands for b in t_bands],
        "distance_low": [b[0] for b in d_bands for _ in t_bands],
        "distance_high": [b[1] for b in d_bands for _ in t_bands],
        "time_low": [b[0] for _ in d_bands for b in t_bands],
        "time_high": [b[1] for _ in d_bands for b in t_bands],
        "observed": observed.astype(float),
        "permuted_mean": mean,
        "expected": expected,
        "knox_ratio": ratio,
        "p_value": (1 + at_least) / (int(permutations) + 1),
    })
    rows.attrs.update(events=n, pairs=all_pairs, permutations=int(permutations))
    return rows


TABLE_TIMES = 512  # distinct event times up to which pairs' time bands come from a table


def _cell_of_pairs(t: np.ndarray, bands: list[Band], first: np.ndarray, second: np.ndarray,
                   d_index: np.ndarray, n_d: int):
    """A function giving, for rows of event orderings (``orders[r, i]``: whose time event `i`
    gets), the cell of each pair (`first`, `second`): ``distance band x len(bands) + time
    band`` (`d_index`: the pairs' distance bands, of `n_d`), or the number of cells
    (``n_d x len(bands)``) when the pair's time difference is in no band.

    Police.uk times are months, so the events have few distinct times: the cell of every
    distance band and pair of distinct times is looked up in a small table instead of
    searching the bands for each pair difference of each permutation (the same cells, several
    times faster).

    >>> f = _cell_of_pairs(np.array([0.0, 31.0, 59.0]), [(0, 0), (15, 45)],
    ...                    np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([0, 1, 1]), 3)
    >>> f(np.array([[0, 1, 2], [1, 0, 2]])).tolist()  # times 0, 31, 59 days; 31, 0, 59
    [[1, 6, 3], [1, 3, 6]]
    """
    n_t = len(bands)
    cells = n_d * n_t
    values, codes = np.unique(t, return_inverse=True)
    if len(values) > TABLE_TIMES:  # many distinct times: the table would outgrow the pairs
        def by_search(orders: np.ndarray) -> np.ndarray:
            times = t[orders]
            k = band_index(np.abs(times[:, first] - times[:, second]), bands)
            return np.where(k >= 0, d_index * n_t + k, cells)
        return by_search
    size = len(values)
    k = band_index(np.abs(values[:, None] - values[None, :]).ravel(), bands)
    d = np.arange(n_d)[:, None]
    table = np.where(k >= 0, d * n_t + k, cells).ravel()  # by distance band, then time pair
    base = d_index * (size * size)
    codes = codes.astype(np.int64)

    def by_table(orders: np.ndarray) -> np.ndarray:
        permuted = codes[orders]
        where = permuted[:, first] * size
        where += permuted[:, second]
        where += base
        return table[where]
    return by_table


@cache
def _to_bng():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def to_british_national_grid(longitude, latitude) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing in metres (EPSG:27700) from WGS84 longitude and latitude.

    >>> x, y = to_british_national_grid([0.5225], [51.2720])  # Maidstone town centre
    >>> round(float(x[0]), -2), round(float(y[0]), -2)
    (576100.0, 155600.0)
    """
    x, y = _to_bng().transform(np.asarray(longitude, float), np.asarray(latitude, float))
    return np.asarray(x), np.asarray(y)
