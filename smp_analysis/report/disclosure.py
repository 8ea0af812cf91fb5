"""Statistical disclosure control for tables and chart labels built on victim-level data.

Reference: ONS "Policy on protecting confidentiality in tables of birth and death statistics"
and the GSS/ONS guidance on disclosure control for tables: counts from 1 to ``threshold - 1``
(default 1-4) are not published (primary suppression), and further cells are suppressed where a
published total would let a reader recover a suppressed one by subtraction (secondary
suppression: in any row or column with a published total, never exactly one suppressed cell).
Zeros are published. Rates whose numerator or denominator is suppressed are suppressed too.

>>> import pandas as pd
>>> t = pd.DataFrame({"ward": ["A", "B", "C"], "incidents": [40, 3, 12]})
>>> suppress(t, counts=["incidents"], threshold=5, total_label="Total")["incidents"].tolist()
['40', '<5', '<5', '55']

Ward C (12) is suppressed as well, so that 55 - 40 cannot reveal ward B's 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_small(value, threshold: int) -> bool:
    return 0 < value < threshold


def suppression_mask(values: pd.DataFrame, threshold: int, *, with_totals: bool) -> pd.DataFrame:
    """Boolean mask of cells to suppress (primary, then secondary until stable)."""
    mask = (values > 0) & (values < threshold)
    if not with_totals:
        return mask
    while True:
        changed = False
        for column in values.columns:
            hidden = mask[column]
            if hidden.sum() == 1:
                candidates = values[column].where(~hidden & (values[column] > 0))
                if candidates.notna().any():
                    mask.loc[candidates.idxmin(), column] = True
                    changed = True
        if not changed:
            return mask


def suppress(table: pd.DataFrame, *, counts: list[str], threshold: int,
             rates: dict[str, tuple[str, str]] | None = None, total_label: str | None = None,
             label_column: str | None = None, rate_format: str = "{:.1%}") -> pd.DataFrame:
    """A display copy of `table`: counts as text with small ones shown as "<threshold".

    `rates` maps a rate column to its (numerator, denominator) count columns. With
    `total_label`, a total row is appended (its counts are sums of the unsuppressed data;
    suppressed when small), and secondary suppression protects it.
    """
    rates = rates or {}
    values = table[counts].astype("int64").reset_index(drop=True)
    mask = suppression_mask(values, threshold, with_totals=total_label is not None)
    shown = table.reset_index(drop=True).copy()
    if total_label is not None:
        totals = values.sum()
        values = pd.concat([values, totals.to_frame().T], ignore_index=True)
        mask = pd.concat([mask, pd.DataFrame([{c: is_small(totals[c], threshold)
                                               for c in counts}])], ignore_index=True)
        total_row = {c: "" for c in shown.columns}
        if label_column is None:
            label_column = next(c for c in shown.columns if c not in counts and c not in rates)
        total_row[label_column] = total_label
        shown = pd.concat([shown, pd.DataFrame([total_row])], ignore_index=True)
    out = shown.astype(object)
    label = f"<{threshold}"
    for column in counts:
        out[column] = [label if hide else f"{int(v):,}"
                       for v, hide in zip(values[column], mask[column], strict=True)]
    for column, (numerator, denominator) in rates.items():
        hide = mask[numerator] | mask[denominator]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = values[numerator] / values[denominator].where(values[denominator] > 0)
        out[column] = ["–" if h or pd.isna(r) else rate_format.format(r)
                       for r, h in zip(rate, hide, strict=True)]
    return out


def safe_count(value: int, threshold: int) -> str:
    """One count for a sentence: '<5' when small.

    >>> safe_count(3, 5), safe_count(0, 5), safe_count(1234, 5)
    ('<5', '0', '1,234')
    """
    return f"<{threshold}" if is_small(value, threshold) else f"{int(value):,}"
