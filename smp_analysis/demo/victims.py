"""Synthetic victim-level extracts (domestic-abuse incidents and Marac referrals) for the focus
district, with a realistic repeat structure, and a demo-only pseudonymisation key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DISTRICTS, FOCUS_DISTRICT

VICTIMS_FIRST = dt.date(2012, 4, 1)
VICTIMS_LAST = dt.date(2024, 3, 31)
NEW_VICTIMS_PER_YEAR = 1_650
INCIDENT_TYPES = ("Assault", "Harassment", "Criminal damage", "Verbal argument", "Stalking",
                  "Controlling or coercive behaviour", "Breach of order", "Threats to kill")
CRIME_SHARE = {"Assault": 0.95, "Harassment": 0.7, "Criminal damage": 0.9,
               "Verbal argument": 0.05, "Stalking": 0.9, "Controlling or coercive behaviour": 0.8,
               "Breach of order": 0.85, "Threats to kill": 0.95}


def _write_victim_extracts(out: Path, rng: np.random.Generator, geo: pd.DataFrame) -> dict:
    """Synthetic incident and Marac extracts with a realistic repeat structure: most victims
    have one incident, a minority many; gaps between incidents are often months, sometimes
    longer than a year (so 365-day repeats and later returns both occur)."""
    folder = out / "victims"
    folder.mkdir(parents=True)
    focus = geo[geo["district"] == next(i for i, d in enumerate(DISTRICTS)
                                         if d.code == FOCUS_DISTRICT)]
    days = (VICTIMS_LAST - VICTIMS_FIRST).days + 1
    n_victims = int(NEW_VICTIMS_PER_YEAR * days / 365.25)
    first_day = rng.integers(0, days, n_victims)
    # incidents per victim: 1 + negative binomial (heavy tail)
    extra = rng.negative_binomial(0.6, 0.5, n_victims)
    home = rng.choice(len(focus), n_victims, p=(focus["population"] * focus["attractiveness"]
                                               / (focus["population"] * focus[
                                                   "attractiveness"]).sum()).to_numpy())
    victim_of, day_of = [], []
    for v in range(n_victims):
        day = int(first_day[v])
        for k in range(1 + int(extra[v])):
            if k:
                day += int(rng.lognormal(np.log(110), 1.0)) + 1  # median ~110 days
            if day >= days:
                break
            victim_of.append(v)
            day_of.append(day)
    victim_of = np.array(victim_of)
    day_of = np.array(day_of)
    order = np.lexsort((rng.random(len(day_of)), day_of))
    victim_of, day_of = victim_of[order], day_of[order]
    n = len(day_of)
    types = np.array(INCIDENT_TYPES)[rng.choice(len(INCIDENT_TYPES), n,
                                                p=[.3, .15, .1, .2, .05, .1, .05, .05])]
    is_crime = rng.random(n) < np.array([CRIME_SHARE[t] for t in types])
    domestic = rng.random(n) < 0.93
    dates = pd.to_datetime(VICTIMS_FIRST) + pd.to_timedelta(day_of, unit="D")
    lsoa = focus.iloc[home[victim_of]]
    incidents = pd.DataFrame({
        "incident_id": [f"{10_000_000 + i}" for i in range(n)],
        "victim_id": [f"V{v:06d}" for v in victim_of],
        "date": dates.strftime("%Y-%m-%d"),
        "time": [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(0, 24, n),
                                                      rng.integers(0, 60, n), strict=True)],
        "incident_type": types,
        "domestic": np.where(domestic, "true", "false"),
        "is_crime": np.where(is_crime, "true", "false"),
        "perpetrator_id": [f"P{v:06d}" for v in victim_of],
        "lsoa_code": lsoa["lsoa_code"].to_numpy(),
        "ward_code": lsoa["ward_code"].to_numpy(),
        "district_code": FOCUS_DISTRICT,
    })
    incidents.to_csv(folder / "incidents.csv", index=False, lineterminator="\n")
    # Marac: the highest-risk ~12% of victims are referred after an incident; some again.
    risky = rng.random(n_victims) < 0.12
    referrals = []
    for i in np.flatnonzero(domestic & risky[victim_of] & (rng.random(n) < 0.6)):
        referrals.append((int(victim_of[i]), int(day_of[i]) + int(rng.integers(3, 30))))
    referrals = [(v, d) for v, d in referrals if d < days]
    referrals.sort(key=lambda r: r[1])
    marac = pd.DataFrame({
        "referral_id": [f"M{i + 1:06d}" for i in range(len(referrals))],
        "victim_id": [f"V{v:06d}" for v, _ in referrals],
        "referral_date": [(VICTIMS_FIRST + dt.timedelta(days=d)).isoformat()
                          for _, d in referrals],
        "district": FOCUS_DISTRICT,
    })
    marac.to_csv(folder / "marac_referrals.csv", index=False, lineterminator="\n")
    # A demo-only key, next to the synthetic data it belongs to; real keys live outside the
    # repository (environment variable SMP_PSEUDONYM_KEY or a protected key file).
    (folder / "pseudonym.key").write_text(rng.bytes(24).hex() + "\n")
    return {"incidents": n, "victims": n_victims, "marac_referrals": len(marac)}
