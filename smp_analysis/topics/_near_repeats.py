"""Near repeats for the places chapter: the Knox test on the assessment period's crimes of the
types named in params, with the bands in metres and whole months, and its sentences.

Method: :func:`smp_analysis.methods.near_repeat.knox_test`; the cells of one crime type are
one family for :func:`~smp_analysis.methods.multiple_testing.benjamini_hochberg`.
"""

from __future__ import annotations

import pandas as pd

from ..methods.multiple_testing import benjamini_hochberg
from ..methods.near_repeat import knox_test, to_british_national_grid
from ..params import NearRepeatOptions
from ..report.words import count, join, p_value, plural

DAYS_PER_MONTH = 365.25 / 12
ANONYMISATION = (
    "data.police.uk moves every crime to the nearest of a fixed list of anonymous map points "
    "(the centre of a street, or a public place such as a park or car park, each with eight "
    "or more postal addresses or none) and publishes only the month (data.police.uk, About: "
    "location anonymisation). Crimes at the same map point may have happened up to a few "
    "hundred metres apart, so the finest distance band cannot separate true repeats at one "
    "address from crimes on the same street, and the finest time band is the same month.")


def bands(options: NearRepeatOptions) -> tuple[list, list, list[str], list[str]]:
    """Distance bands (metres) and time bands (days between first-of-month dates) with their
    labels. 'k months apart' is the interval around k x 30.44 days (month lengths make the
    gap between first days 28-31 days a month).

    >>> d, t, dl, tl = bands(NearRepeatOptions(distance_bands=[0, 200, 400],
    ...                                        months_apart=[0, 1]))
    >>> dl, tl
    (['same map point', 'up to 200 m', '200 to 400 m'], ['same month', '1 month apart'])
    >>> [round(x, 1) for x in t[1]]
    [15.2, 45.7]
    """
    edges = options.distance_bands
    d_bands = list(zip(edges[:-1], edges[1:], strict=True))
    d_labels = [f"{lo:,.0f} to {hi:,.0f} m" for lo, hi in d_bands]
    if options.same_place_band:
        d_bands = [(0.0, 0.0), *d_bands]
        d_labels = ["same map point", *d_labels]
        if edges[0] == 0:
            d_labels[1] = f"up to {edges[1]:,.0f} m"
    t_bands, t_labels = [], []
    for k in options.months_apart:
        if k == 0:
            t_bands.append((0.0, 0.0))
            t_labels.append("same month")
        else:
            t_bands.append((max(0.0, (k - 0.5) * DAYS_PER_MONTH), (k + 0.5) * DAYS_PER_MONTH))
            t_labels.append(f"{plural(k, 'month')} apart")
    return d_bands, t_bands, d_labels, t_labels


def near_repeat_table(points: pd.DataFrame, options: NearRepeatOptions, *,
                      alpha: float) -> pd.DataFrame:
    """Knox cells for one crime type's points (``month, longitude, latitude``), with the
    band labels, BH-adjusted p-values and ``clear`` (ratio above 1 and adjusted p < alpha)."""
    d_bands, t_bands, d_labels, t_labels = bands(options)
    x, y = to_british_national_grid(points["longitude"], points["latitude"])
    t = pd.to_datetime(points["month"]).map(pd.Timestamp.toordinal).astype(float)
    events = pd.DataFrame({"x": x, "y": y, "t": t.to_numpy()})
    result = knox_test(events, distance_bands=d_bands, time_bands=t_bands,
                       permutations=options.permutations, seed=0)
    result["distance_band"] = [d for d in d_labels for _ in t_labels]
    result["time_band"] = [t for _ in d_labels for t in t_labels]
    result["p_adjusted"] = benjamini_hochberg(result["p_value"].where(result["observed"] > 0))
    result["clear"] = ((result["knox_ratio"] > 1) & (result["p_adjusted"] < alpha)).fillna(False)
    return result


def near_repeat_sentence(crime_type: str, result: pd.DataFrame, area: str) -> str:
    """What the Knox table says for one crime type, in words."""
    n = result.attrs.get("events", 0)
    subject = f"{crime_type} ({count(n)} located offences in {area})"
    clear = result[result["clear"]]
    if clear.empty:
        return (f"{subject}: no combination of distance and time holds more pairs of offences "
                "than chance would give, once the number of combinations tested is allowed "
                "for; there is no clear near-repeat pattern.")
    cells = [f"{r['distance_band']} and {r['time_band']} ({r['knox_ratio']:.2f} times the "
             f"pairs chance would give, {p_value(r['p_adjusted'])})"
             for _, r in clear.sort_values("knox_ratio", ascending=False).iterrows()]
    return (f"{subject}: pairs of offences were more common than chance would give at "
            f"{join(cells)}. A near-repeat pattern, where one offence raises the risk close by "
            "for a short time, shows in the nearest distance and shortest time bands; excess "
            "pairs only at larger distances or longer gaps are weaker evidence of one.")
