"""Seasonal expected volumes: the Farrington flexible algorithm (R ``surveillance``).

References
----------
* Farrington, Andrews, Beale & Catchpole (1996). A statistical algorithm for the early detection
  of outbreaks of infectious disease. JRSS A 159(3), 547-563.
* Noufaily, Enki, Farrington, Garthwaite, Andrews & Charlett (2013). An improved algorithm for
  outbreak detection in multiple surveillance systems. Statistics in Medicine 32(7), 1206-1222.
* Salmon, Schumacher & Hoehle (2016). Monitoring count time series in R: aberration detection in
  public health surveillance. Journal of Statistical Software 70(10).
  ``surveillance::farringtonFlexible`` is the reference implementation; this module follows its
  method description and is tested to match its numbers (../shared/reference/farrington).

Method, for each assessed period t:

1. Baseline: for i = 1..b years back, the reference period t - i*freq and w periods either side
   (``noPeriods`` > 1 adds a seasonal factor with that many levels covering the rest of each
   year, Noufaily et al.); the ``past_weeks_not_included`` periods up to t are left out.
2. Fit a quasi-Poisson GLM with log link (IRLS started at y + 0.1, deviance convergence 1e-8,
   at most 25 iterations, as R's ``glm``) on an intercept, an optional linear time trend, the
   optional seasonal factor and an optional offset log(population).
3. Dispersion phi = max(Pearson X^2 / df, 1). If ``reweight``: Anscombe residuals
   s = 1.5 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h)); weights gamma s^-2 for
   s > ``weights_threshold`` and gamma otherwise (gamma makes them average 1); refit; floor phi.
4. Keep the trend only if its t-test p-value < ``p_threshold_trend``, b >= 3 and the
   prediction does not exceed the largest baseline count; otherwise refit without it.
5. Threshold: ``delta`` (Farrington's power-transformed normal approximation: exponent 2/3, 1/2
   or none, variance tau = phi + se^2/mu), or ``nbPlugin`` / ``muan`` (negative binomial
   quantile with size mu/(phi-1), using exp(eta) or the (1-alpha) quantile of eta).
6. ``limit54 = (c, d)``: no upper bound, expected value or alarm unless the last d periods
   (including t) hold at least c counts. Alarm when score > 1 and the count is not 0, where
   score = (y - prediction) / (upper bound - prediction); p-value as R defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from . import tails  # scipy.stats' normal and t tails without importing scipy.stats
from .farrington_glm import fit_with_reweighting

RESULT_COLUMNS = ["observed", "expected", "upperbound", "alarm", "score", "pvalue", "trend", "phi"]
ThresholdMethod = Literal["delta", "nbPlugin", "muan"]


class FarringtonInputError(ValueError):
    """Input that the algorithm cannot be run on; the message says what and where."""


# ----------------------------------------------------------------------------- design


def _blocks(k: int, n_total: int, *, b: int, w: int, freq: int, p: int) -> np.ndarray:
    """Seasonal block of every position (NaN = not in the baseline), as R's ``blocks``."""
    factors = np.full(n_total, np.nan)
    factors[k - w:k + 1] = p
    refs = [k - i * freq for i in range(b + 1)]
    for i in range(1, b + 1):
        ref = refs[i]
        factors[ref - w:ref + w + 1] = p
        if p != 1:
            period = refs[i - 1] - 2 * w - 1 - ref
            if period < p - (2 * w + 1):
                raise FarringtonInputError(
                    f"no_periods={p} is too many for freq={freq} and w={w}")
            length, rest = divmod(period, p - 1)
            lengths = [length + 1 if j < rest else length for j in range(p - 1)]
            start = ref + w + 1
            for j, size in enumerate(lengths, start=1):
                factors[start:start + size] = j
                start += size
    return factors


def _design(k: int, times: np.ndarray, *, b, w, freq, p, exclude: int, trend: bool,
            left_out: np.ndarray | None = None):
    """Baseline positions, design matrix and prediction row for assessed position k."""
    blocks = _blocks(k, len(times), b=b, w=w, freq=freq, p=p)
    ids = blocks.copy()
    ids[max(0, k - exclude):k + 1] = np.nan
    if left_out is not None:
        ids[left_out] = np.nan
    rows = np.flatnonzero(~np.isnan(ids))
    columns = [np.ones(len(rows))]
    x0 = [1.0]
    if trend:
        origin = times[rows[0]]
        columns.append(times[rows] - origin)
        x0.append(times[k] - origin)
    if p != 1:
        groups = blocks[rows]
        levels = np.unique(groups)
        for level in levels[1:]:  # treatment contrasts, first level as reference
            columns.append((groups == level).astype(float))
            x0.append(1.0 if level == p else 0.0)
    return rows, np.column_stack(columns), np.array(x0)


# ----------------------------------------------------------------------------- thresholds


def _threshold_delta(mu0, se_fit, phi, y, alpha, powertrans):
    tau = phi + se_fit**2 / mu0
    if powertrans == "none":
        se, exponent = np.sqrt(mu0 * tau), 1.0
    elif powertrans == "1/2":
        se, exponent = np.sqrt(0.25 * tau), 0.5
    elif powertrans == "2/3":
        se, exponent = np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau), 2 / 3
    else:
        raise FarringtonInputError(f"powertrans must be '2/3', '1/2' or 'none', not {powertrans!r}")
    z = tails.norm_ppf(1 - alpha)
    with np.errstate(invalid="ignore"):
        a = (mu0**exponent - z * se) ** (1 / exponent)
        c = (mu0**exponent + z * se) ** (1 / exponent)
    # R: sort(c(a, c), na.last = FALSE); the upper bound is the second element
    upper = np.where(np.isnan(a), c, np.where(np.isnan(c), a, np.maximum(a, c)))
    upper = np.where(np.isnan(a) & np.isnan(c), np.nan, upper)
    prob = tails.norm_sf(y**exponent, loc=mu0**exponent, scale=se)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(np.isnan(upper), np.nan, (y - mu0) / (upper - mu0))
    return upper, prob, score


def _threshold_noufaily(eta0, se_eta, phi, y, alpha, method):
    from scipy import stats

    if method == "nbPlugin":
        mu_q = np.exp(eta0)
    else:
        mu_q = np.exp(tails.norm_ppf(1 - alpha, loc=eta0, scale=se_eta))
    upper = np.full_like(eta0, np.nan)
    prob = np.full_like(eta0, np.nan)
    finite = np.isfinite(mu_q)
    over = finite & (phi > 1)
    pois = finite & ~(phi > 1)
    if over.any():
        size = mu_q[over] / (phi[over] - 1)
        upper[over] = stats.nbinom.ppf(1 - alpha, size, 1 / phi[over])
    if pois.any():
        upper[pois] = stats.poisson.ppf(1 - alpha, mu_q[pois])
    nb = finite & (phi != 1)
    if nb.any():
        prob[nb] = stats.nbinom.sf(y[nb] - 1, mu_q[nb] / (phi[nb] - 1), 1 / phi[nb])
    one = finite & (phi == 1)
    if one.any():
        prob[one] = stats.poisson.sf(y[one] - 1, mu_q[one])
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(np.isnan(upper), np.nan, (y - eta0) / (upper - eta0))
    return upper, prob, score


# ----------------------------------------------------------------------------- one time point


@dataclass(frozen=True)
class _Config:
    b: int
    w: int
    freq: int
    reweight: bool
    weights_threshold: float
    alpha: float
    trend: bool
    p_threshold_trend: float
    limit54: tuple[int, int]
    powertrans: str
    no_periods: int
    exclude: int
    threshold_method: str
    left_out: np.ndarray | None = None


def _evaluate_all(Y: np.ndarray, log_pop: np.ndarray, times: np.ndarray, positions: list[int],
                  c: _Config) -> list[dict]:
    """Evaluate each position k of `positions` for all S series (rows of Y): a dict of arrays
    (S,) per position. Positions whose baselines have the same shape are fitted together,
    one model per (position, series) unit: the same fits as one position at a time, in a few
    vectorised IRLS runs instead of one per position."""
    kw = dict(b=c.b, w=c.w, freq=c.freq, p=c.no_periods, exclude=c.exclude,
              left_out=c.left_out)
    designs = []
    for k in positions:
        rows, X_n, x0_n = _design(k, times, trend=False, **kw)
        trend = _design(k, times, trend=True, **kw)[1:] if c.trend else None
        designs.append((k, rows, X_n, x0_n, trend))
    groups: dict[tuple, list[int]] = {}
    for i, (_, rows, X_n, _, trend) in enumerate(designs):
        key = (len(rows), X_n.shape[1], None if trend is None else trend[0].shape[1])
        groups.setdefault(key, []).append(i)
    results: list[dict] = [{} for _ in positions]
    S = Y.shape[0]
    for members in groups.values():
        batch = _evaluate_units(Y, log_pop, [designs[i] for i in members], c)
        for j, i in enumerate(members):
            results[i] = {name: values[j * S:(j + 1) * S] for name, values in batch.items()}
    return results


def _evaluate_units(Y: np.ndarray, log_pop: np.ndarray, designs: list, c: _Config) -> dict:
    """Evaluate positions with baselines of one shape: unit j*S + s is position j, series s."""
    S = Y.shape[0]
    ks = np.array([d[0] for d in designs])
    rows = np.stack([d[1] for d in designs])  # (K, n)

    def units(values: np.ndarray) -> np.ndarray:  # (S, K, ...) -> (K*S, ...)
        return np.swapaxes(values, 0, 1).reshape(-1, *values.shape[2:])

    def per_unit(stacked: np.ndarray) -> np.ndarray:  # one per position -> one per unit
        return np.repeat(stacked, S, axis=0)

    y, offset = units(Y[:, rows]), units(log_pop[:, rows])
    offset0, y0 = units(log_pop[:, ks]), units(Y[:, ks])
    X_n = per_unit(np.stack([d[2] for d in designs]))
    x0_n = per_unit(np.stack([d[3] for d in designs]))
    U = y.shape[0]
    fit_n, phi_n, conv_n = fit_with_reweighting(X_n, y, offset, c.reweight,
                                                 c.weights_threshold)
    do_trend = np.zeros(U, dtype=bool)
    if c.trend:
        X_t = per_unit(np.stack([d[4][0] for d in designs]))
        x0_t = per_unit(np.stack([d[4][1] for d in designs]))
        fit_t, phi_t, conv_t = fit_with_reweighting(X_t, y, offset, c.reweight,
                                                     c.weights_threshold)
        pred_t = np.exp(np.einsum("sp,sp->s", fit_t.beta, x0_t) + offset0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_value = fit_t.beta[:, 1] / np.sqrt(fit_t.dispersion * fit_t.xtwx_inv[:, 1, 1])
            p_trend = 2 * tails.t_sf(np.abs(t_value), fit_t.df_residual)
        do_trend = (conv_t & (c.b >= 3) & (p_trend < c.p_threshold_trend)
                    & (pred_t <= y.max(axis=1)))
    valid = do_trend | conv_n
    eta_n = np.einsum("sp,sp->s", fit_n.beta, x0_n)
    var_n = np.einsum("sp,spq,sq->s", x0_n, fit_n.xtwx_inv, x0_n) * fit_n.dispersion
    if do_trend.any():
        eta0 = np.where(do_trend, np.einsum("sp,sp->s", fit_t.beta, x0_t), eta_n) + offset0
        var_t = np.einsum("sp,spq,sq->s", x0_t, fit_t.xtwx_inv, x0_t) * fit_t.dispersion
        var_link = np.where(do_trend, var_t, var_n)
        phi = np.where(do_trend, phi_t, phi_n)
    else:
        eta0, var_link, phi = eta_n + offset0, var_n, phi_n
    se_link = np.sqrt(var_link)
    if c.threshold_method == "delta":
        mu0 = np.exp(eta0)
        upper, prob, score = _threshold_delta(mu0, se_link * mu0, phi, y0, c.alpha, c.powertrans)
    else:
        upper, prob, score = _threshold_noufaily(eta0, se_link, phi, y0, c.alpha,
                                                 c.threshold_method)
    cases, periods = c.limit54
    recent = np.stack([Y[:, max(0, k - periods + 1):k + 1].sum(axis=1) for k in ks])  # (K, S)
    enough = recent.reshape(-1) >= cases
    upperbound = np.where(enough, upper, np.nan)
    expected = np.where(enough & ~np.isnan(upper), np.exp(eta0), np.nan)
    alarm = enough & (score > 1) & (y0 != 0)
    nan = np.full(U, np.nan)
    return {
        "observed": y0,
        "expected": np.where(valid, expected, nan),
        "upperbound": np.where(valid, upperbound, nan),
        "alarm": np.where(valid, alarm, False),
        "score": np.where(valid, score, nan),
        "pvalue": np.where(valid, prob, nan),
        "trend": np.where(valid, do_trend.astype(float), nan),
        "phi": np.where(valid, phi, nan),
        "valid": valid,
    }


# ----------------------------------------------------------------------------- public API


def _monthly_index(index: pd.Index) -> pd.PeriodIndex | None:
    if isinstance(index, pd.PeriodIndex):
        return index if index.freqstr.startswith("M") else None
    if isinstance(index, pd.DatetimeIndex):
        if not (index.day == 1).all():
            raise FarringtonInputError("a date index must hold first-of-month dates")
        return index.to_period("M")
    return None


def _validate(frame: pd.DataFrame, population: pd.DataFrame | None, freq: int):
    """Check counts, index and population; return (Y, log_pop, times, months)."""
    problems: list[str] = []
    months = _monthly_index(frame.index)
    if months is not None:
        if freq != 12:
            problems.append(f"a monthly index needs freq=12, not {freq}")
        expected = pd.period_range(months.min(), months.max(), freq="M")
        missing = expected.difference(months)
        if len(missing) or not months.is_monotonic_increasing:
            problems.append("the monthly index has gaps or is not in order; missing months: "
                            + ", ".join(str(m) for m in missing[:12]))
        times = np.array([m.to_timestamp().value for m in months], dtype=float) / 86400e9 / 7
    elif pd.api.types.is_integer_dtype(frame.index):
        steps = np.diff(frame.index.to_numpy())
        if len(steps) and not (steps == 1).all():
            problems.append("an integer index must be consecutive positions (t, t+1, ...)")
        times = frame.index.to_numpy(dtype=float)
    else:
        problems.append("the index must be integer positions or months (PeriodIndex/first-of-"
                        "month DatetimeIndex)")
        times = np.arange(len(frame), dtype=float)
    values = frame.apply(pd.to_numeric, errors="coerce")
    for column in frame.columns:
        v = values[column]
        bad = frame.index[v.isna() | (v < 0) | (v != np.round(v))]
        if len(bad):
            where = f"series {column!r}: " if frame.shape[1] > 1 else ""
            problems.append(f"{where}counts must be whole numbers >= 0; bad at "
                            + ", ".join(str(x) for x in bad[:10])
                            + (" ..." if len(bad) > 10 else ""))
    log_pop = np.zeros(frame.shape, dtype=float).T
    if population is not None:
        if not population.index.equals(frame.index) or list(population.columns) != list(
                frame.columns):
            problems.append("population must have exactly the same index (and series) as "
                            "observed")
        else:
            pop = population.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            if np.isnan(pop).any() or (pop <= 0).any():
                problems.append("population must be positive and not missing")
            else:
                log_pop = np.log(pop).T
    if problems:
        raise FarringtonInputError("; ".join(problems))
    return values.to_numpy(dtype=float).T, log_pop, times, months


def farrington_flexible(
    observed: pd.Series | pd.DataFrame, *, freq: int, assess, b: int = 5, w: int = 3,
    reweight: bool = True, weights_threshold: float = 2.58, alpha: float = 0.05,
    trend: bool = True, p_threshold_trend: float = 0.05, limit54: tuple[int, int] = (5, 4),
    powertrans: str = "2/3", no_periods: int = 1, past_weeks_not_included: int | None = None,
    threshold_method: ThresholdMethod = "delta",
    population: pd.Series | pd.DataFrame | None = None,
    exclude_from_baseline=None,
) -> pd.DataFrame:
    """Expected counts, upper bounds and alarms for the `assess` labels of `observed`.

    `observed` is a Series of counts (or a DataFrame, one column per series, evaluated together)
    indexed by consecutive integer positions or by month. Returns a frame indexed by the
    assessed labels (by (series, label) for a DataFrame) with columns ``observed, expected,
    upperbound, alarm, score, pvalue, trend, phi``; ``trend`` is True when the linear trend was
    kept, NA when no model could be fitted (then every model column is NA: see module doc).
    Raises :class:`FarringtonInputError` for counts, indexes or populations it cannot use.
    ``exclude_from_baseline`` (an extension; R has no such option) lists labels whose counts are
    left out of every baseline, e.g. lockdown months; they must still be valid counts.

    >>> # baseline: t = 6, 4, 2 (one "year" of freq 2 back each) -> (13 + 11 + 12) / 3 = 12
    >>> s = pd.Series([10, 12, 9, 11, 10, 13, 11, 30], index=range(1, 9))
    >>> r = farrington_flexible(s, freq=2, assess=[8], b=3, w=0, trend=False, limit54=(0, 1))
    >>> round(float(r.loc[8, "expected"]), 4), bool(r.loc[8, "alarm"])
    (12.0, True)
    """
    single = isinstance(observed, pd.Series)
    frame = observed.to_frame(name=observed.name if observed.name is not None else "observed") \
        if single else observed
    pop_frame = None
    if population is not None:
        pop_frame = population.to_frame(name=frame.columns[0]) if isinstance(
            population, pd.Series) else population
    if threshold_method not in ("delta", "nbPlugin", "muan"):
        raise FarringtonInputError("threshold_method must be 'delta', 'nbPlugin' or 'muan'")
    if not (limit54[0] >= 0 and limit54[1] > 0):
        raise FarringtonInputError("limit54 needs cases >= 0 and periods > 0")
    if b < 1 or w < 0 or no_periods < 1:
        raise FarringtonInputError("need b >= 1, w >= 0 and no_periods >= 1")
    Y, log_pop, times, _ = _validate(frame, pop_frame, freq)
    labels = list(assess) if not isinstance(assess, str) else [assess]
    positions = []
    for label in labels:
        try:
            k = frame.index.get_loc(pd.Period(label, "M") if isinstance(
                frame.index, pd.PeriodIndex) and not isinstance(label, pd.Period) else label)
        except KeyError:
            raise FarringtonInputError(f"assessed label {label!r} is not in the index") from None
        if k - b * freq - w < 0:
            raise FarringtonInputError(
                f"too little history to assess {label}: b={b} years of freq={freq} and w={w} "
                f"need {b * freq + w} earlier periods, the series has {k}")
        positions.append(k)
    left_out = None
    if exclude_from_baseline is not None and len(exclude_from_baseline):
        wanted = pd.Index(exclude_from_baseline)
        if isinstance(frame.index, pd.PeriodIndex):
            wanted = pd.PeriodIndex([pd.Period(x, "M") for x in exclude_from_baseline])
        left_out = np.flatnonzero(frame.index.isin(wanted))
    config = _Config(b, w, freq, reweight, weights_threshold, alpha, trend, p_threshold_trend,
                     tuple(limit54), powertrans, no_periods,
                     w if past_weeks_not_included is None else past_weeks_not_included,
                     threshold_method, left_out)
    results = _evaluate_all(Y, log_pop, times, positions, config)
    out = []
    for s, name in enumerate(frame.columns):
        part = pd.DataFrame({col: [r[col][s] for r in results] for col in RESULT_COLUMNS},
                            index=pd.Index([frame.index[k] for k in positions],
                                           name=frame.index.name or "t"))
        out.append(part.assign(series=name))
    result = pd.concat(out)
    result["alarm"] = result["alarm"].astype(bool)
    result["trend"] = result["trend"].map({1.0: True, 0.0: False}).astype("boolean")
    if single:
        return result.drop(columns="series")
    return result.set_index("series", append=True).reorder_levels([1, 0])
