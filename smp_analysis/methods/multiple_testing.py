"""Control of the false discovery rate when many changes are tested together.

Reference: Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. JRSS B 57(1), 289-300. With m p-values
sorted p(1) <= ... <= p(m), the step-up procedure rejects H(1)..H(k) for the largest k with
p(k) <= k q / m; equivalently each hypothesis gets the adjusted p-value
min over j >= i of min(1, m p(j) / j) and is rejected when it is <= q. These adjusted values
are those of R's ``p.adjust(p, method = "BH")``.

Fourteen crime types tested at 5% each would call about one "larger than chance" a year by
chance alone; after this adjustment the expected share of false calls among the calls made is
at most q.

>>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(4).tolist()
[0.04, 0.0533, 0.0533, 0.2]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def benjamini_hochberg(p_values: Iterable[float]) -> np.ndarray:
    """BH-adjusted p-values, in the input order. NaN p-values (no test was possible) stay NaN
    and do not count among the m hypotheses.

    >>> benjamini_hochberg([0.5, float("nan"), 0.01]).round(3).tolist()
    [0.5, nan, 0.02]
    """
    p = np.asarray(list(p_values), dtype=float)
    if p.ndim != 1:
        raise ValueError("p_values must be one-dimensional")
    finite = ~np.isnan(p)
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise ValueError("p-values must lie between 0 and 1")
    out = np.full(p.shape, np.nan)
    values = p[finite]
    m = len(values)
    if m == 0:
        return out
    order = np.argsort(values, kind="stable")
    ranked = values[order] * m / np.arange(1, m + 1)
    # the running minimum from the largest p-value down makes the adjustment monotone
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    result = np.empty(m)
    result[order] = adjusted
    out[finite] = result
    return out
