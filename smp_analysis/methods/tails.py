"""Normal and Student t tails, exactly as scipy.stats computes them, from scipy.special.

scipy.stats' ``norm.ppf`` is ``ndtri``, ``norm.sf`` is ``ndtr(-z)`` of the standardised value
and ``t.sf`` is ``stdtr(df, -t)`` (scipy/stats/_continuous_distns.py), with NaN where the
scale or the degrees of freedom are not positive. Importing scipy.stats takes seconds, which
every data-quality check of an ingest would pay for three one-line functions; scipy.special
takes a fraction of that. A test checks these against scipy.stats to the last bit.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_ppf(q, loc=0.0, scale=1.0):
    """scipy.stats.norm.ppf (NaN where scale <= 0).

    >>> round(float(norm_ppf(0.975)), 6), float(norm_ppf(0.5, loc=2.0, scale=0.0))
    (1.959964, nan)
    """
    scale = np.asarray(scale, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(scale > 0, special.ndtri(q) * scale + loc, np.nan)


def norm_sf(x, loc=0.0, scale=1.0):
    """scipy.stats.norm.sf (NaN where scale <= 0).

    >>> round(float(norm_sf(1.959964)), 6), float(norm_sf(3.0, loc=3.0, scale=2.0))
    (0.025, 0.5)
    """
    scale = np.asarray(scale, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, special.ndtr(-((x - loc) / scale)), np.nan)


def t_sf(x, df):
    """scipy.stats.t.sf (NaN where df <= 0).

    >>> round(float(t_sf(2.228139, 10)), 6)
    0.025
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, special.stdtr(df, -np.asarray(x, dtype=float)), np.nan)
