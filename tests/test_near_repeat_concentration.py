"""Knox test and concentration measures against independent answers: pointpats' Knox, a
brute-force pair count, point patterns with known near-repeat structure, hand-computed shares
and the published examples of the lorenzgini R package."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from smp_analysis.methods import near_repeat
from smp_analysis.methods.concentration import (
    gini,
    lorenz_curve,
    persistence,
    shares,
    top_group,
    top_share,
)
from smp_analysis.methods.near_repeat import (
    band_index,
    knox_test,
    parse_bands,
    to_british_national_grid,
)


def _uniform(rng, n, side=5000.0, days=365):
    return pd.DataFrame({"x": rng.uniform(0, side, n), "y": rng.uniform(0, side, n),
                         "t": rng.integers(0, days, n).astype(float)})


def _near_repeats(rng, parents=300, children=1, radius=100.0, lag=7):
    """Uniform 'parent' events, each followed by a child within `radius` m and `lag` days."""
    base = _uniform(rng, parents)
    angle = rng.uniform(0, 2 * np.pi, parents * children)
    r = radius * np.sqrt(rng.uniform(0, 1, parents * children))
    parent = np.repeat(np.arange(parents), children)
    kids = pd.DataFrame({
        "x": base["x"].to_numpy()[parent] + r * np.cos(angle),
        "y": base["y"].to_numpy()[parent] + r * np.sin(angle),
        "t": base["t"].to_numpy()[parent] + rng.integers(1, lag + 1, parents * children)})
    return pd.concat([base, kids], ignore_index=True)


# ---------------------------------------------------------------- Knox: independent checks

@pytest.mark.parametrize("structured", [True, False], ids=["near-repeats", "no-structure"])
def test_single_band_matches_pointpats_knox(structured):
    """pointpats.spacetime.Knox counts pairs with distance <= delta and |dt| <= tau, and
    permutes the time labels: the same as our first band [0, delta] x [0, tau]."""
    from pointpats.spacetime import Knox

    rng = np.random.default_rng(11 if structured else 12)
    events = _near_repeats(rng, parents=200) if structured else _uniform(rng, 400)
    ours = knox_test(events, distance_bands=[0, 150], time_bands=[0, 10], permutations=499,
                     seed=3).iloc[0]
    np.random.seed(5)
    theirs = Knox(events[["x", "y"]].to_numpy(), events[["t"]].to_numpy(), delta=150, tau=10,
                  permutations=499)
    assert ours["observed"] == theirs.nst
    assert ours["expected"] == pytest.approx(theirs.expected[0, 0], rel=1e-12)
    assert ours["permuted_mean"] == pytest.approx(theirs.expected[0, 0], rel=0.05)
    # two independent Monte Carlo estimates of the same p-value (499 permutations each)
    assert abs(ours["p_value"] - theirs.p_sim) <= 0.08
    if structured:
        assert ours["p_value"] == theirs.p_sim == 1 / 500
        assert ours["knox_ratio"] > 2


def test_every_cell_matches_a_brute_force_pair_count():
    rng = np.random.default_rng(21)
    events = _near_repeats(rng, parents=60, children=2)
    events.loc[5, ["x", "y"]] = events.loc[6, ["x", "y"]].to_numpy()  # a same-place pair
    d_bands = [(0, 0), (0, 100), (100, 250), (400, 600)]  # same place, then a gap
    t_bands = [(0, 0), (0, 7), (7, 30)]
    result = knox_test(events, distance_bands=d_bands, time_bands=t_bands, permutations=50)
    xy, t = events[["x", "y"]].to_numpy(), events["t"].to_numpy()

    def which(value, bands):
        for i, (lo, hi) in enumerate(bands):
            if lo < value <= hi or (i == 0 and value == lo):
                return i
        return None

    expected = np.zeros((len(d_bands), len(t_bands)))
    for i, j in itertools.combinations(range(len(events)), 2):
        d = which(float(np.hypot(*(xy[i] - xy[j]))), d_bands)
        k = which(abs(t[i] - t[j]), t_bands)
        if d is not None and k is not None:
            expected[d, k] += 1
    assert result["observed"].to_numpy().tolist() == expected.ravel().tolist()
    assert result.attrs["pairs"] == len(events) * (len(events) - 1) / 2


@pytest.mark.parametrize("table", [True, False], ids=["time-table", "time-search"])
@pytest.mark.parametrize("permutations", [1, 7, 120])
def test_permutations_are_the_seeded_generators_one_by_one(permutations, table, monkeypatch):
    # the reference: each permutation drawn in turn from default_rng(seed) and every pair of
    # events counted (no spatial index); the Knox test (which counts many permutations at once
    # from the pairs its tree finds, the pairs' time bands from a table of the few distinct
    # times or, with many, by searching the bands) must agree exactly
    if not table:
        monkeypatch.setattr(near_repeat, "TABLE_TIMES", 0)
    rng = np.random.default_rng(permutations)
    events = _near_repeats(rng, parents=25, children=2)
    d_bands, t_bands = [(0, 0), (0, 150), (150, 400)], [(0, 0), (0, 7), (7, 30)]
    result = knox_test(events, distance_bands=d_bands, time_bands=t_bands,
                       permutations=permutations, seed=3)
    xy, t = events[["x", "y"]].to_numpy(), events["t"].to_numpy()
    first, second = np.array(list(itertools.combinations(range(len(events)), 2))).T
    d = band_index(np.hypot(*(xy[first] - xy[second]).T), d_bands)

    def counts(times):
        cells = np.zeros(len(d_bands) * len(t_bands))
        k = band_index(np.abs(times[first] - times[second]), t_bands)
        for a, b in zip(d, k, strict=True):
            if a >= 0 and b >= 0:
                cells[a * len(t_bands) + b] += 1
        return cells

    observed = counts(t)
    generator = np.random.default_rng(3)
    total, at_least = np.zeros_like(observed), np.zeros_like(observed)
    for _ in range(permutations):
        permuted = counts(t[generator.permutation(len(t))])
        total += permuted
        at_least += permuted >= observed
    assert result["observed"].tolist() == observed.tolist()
    assert result["permuted_mean"].tolist() == (total / permutations).tolist()
    assert result["p_value"].tolist() == ((1 + at_least) / (permutations + 1)).tolist()


def test_permuted_mean_converges_to_the_exact_permutation_mean():
    rng = np.random.default_rng(31)
    events = _uniform(rng, 400, side=3000)
    result = knox_test(events, distance_bands=[0, 200, 400], time_bands=[0, 14, 28, 60],
                       permutations=2000, seed=9)
    assert np.allclose(result["permuted_mean"], result["expected"], rtol=0.05)


def test_known_near_repeat_structure_is_found_only_where_it_is():
    rng = np.random.default_rng(41)
    events = _near_repeats(rng, parents=400, radius=100, lag=7)
    result = knox_test(events, distance_bands=[0, 100, 200, 400, 800],
                       time_bands=[0, 7, 14, 28, 56], permutations=499).set_index(
        ["distance_high", "time_high"])
    near = result.loc[(100.0, 7.0)]
    assert near["p_value"] == pytest.approx(1 / 500) and near["knox_ratio"] > 3
    far = result.drop(index=[(100.0, 7.0)])
    assert (far["knox_ratio"] < 1.6).all()
    assert (far["p_value"] > 0.002).sum() >= len(far) - 2


def test_without_structure_p_values_are_roughly_uniform():
    rng = np.random.default_rng(51)
    p = [knox_test(_uniform(rng, 250, side=2000), distance_bands=[0, 200],
                   time_bands=[0, 30], permutations=199, seed=s)["p_value"].iloc[0]
         for s in range(120)]
    assert 0.0 <= np.mean(np.array(p) <= 0.05) <= 0.11
    assert 0.35 <= np.mean(p) <= 0.65


def test_seed_reproducible_and_inputs_checked():
    rng = np.random.default_rng(61)
    events = _uniform(rng, 100)
    a = knox_test(events, distance_bands=[0, 500], time_bands=[0, 30], permutations=99, seed=1)
    b = knox_test(events, distance_bands=[0, 500], time_bands=[0, 30], permutations=99, seed=1)
    pd.testing.assert_frame_equal(a, b)
    bad = events.copy()
    bad.loc[3, "t"] = np.nan
    with pytest.raises(ValueError, match="1 event"):
        knox_test(bad, distance_bands=[0, 500], time_bands=[0, 30])
    with pytest.raises(ValueError, match="missing"):
        knox_test(events.drop(columns="t"), distance_bands=[0, 500], time_bands=[0, 30])
    for spec in ([500, 0], [0], [(0, 100), (50, 200)], [(0, 0), (10, 10)], ["a", "b"]):
        with pytest.raises(ValueError):
            parse_bands(spec)
    empty = knox_test(events.head(1), distance_bands=[0, 500], time_bands=[0, 30],
                      permutations=9)
    assert empty["observed"].sum() == 0


def test_band_index_edges():
    assert band_index(np.array([0.0, 0.0001, 200.0, 200.5]), parse_bands([0, 200, 400])
                      ).tolist() == [0, 0, 0, 1]
    assert band_index(np.array([0.0, 1.0]), [(0, 0), (0, 31)]).tolist() == [0, 1]


def test_real_kent_burglary_is_snapped_to_shared_map_points(shared_data):
    """On real data.police.uk files many burglaries share a map point (distance 0), which is
    why the chapter says the finest distance band is limited by location anonymisation."""
    frames = []
    for path in sorted((shared_data / "police_uk" / "kent").rglob("*-street.csv"))[:2]:
        frame = pd.read_csv(path)
        frames.append(frame[(frame["Crime type"] == "Burglary") & frame["Longitude"].notna()])
    crimes = pd.concat(frames, ignore_index=True)
    x, y = to_british_national_grid(crimes["Longitude"], crimes["Latitude"])
    assert 500_000 < np.median(x) < 640_000 and 100_000 < np.median(y) < 190_000  # Kent
    t = pd.to_datetime(crimes["Month"] + "-01").map(pd.Timestamp.toordinal).astype(float)
    events = pd.DataFrame({"x": x, "y": y, "t": t.to_numpy()})
    result = knox_test(events, distance_bands=[(0, 0), (0, 200), (200, 400)],
                       time_bands=[(0, 0), (0, 31)], permutations=49)
    same_place = result[result["distance_high"] == 0]["observed"].sum()
    assert same_place > 10
    xy = np.round(events[["x", "y"]].to_numpy(), 3)
    _, counts = np.unique(xy, axis=0, return_counts=True)
    assert same_place == (counts * (counts - 1) / 2).sum()


# ---------------------------------------------------------------- concentration

def test_shares_and_top_share_by_hand():
    counts = pd.Series({"High Street": 574, "Fant": 200, "Park Wood": 150, "North": 76})
    assert shares(counts).round(3).tolist() == [0.574, 0.2, 0.15, 0.076]
    assert top_share(counts, 0.25) == pytest.approx(0.574)
    assert top_share(counts, 0.5) == pytest.approx(0.774)
    twenty = pd.Series(np.arange(20, 0, -1))  # 20, 19, ..., 1: total 210
    assert top_share(twenty, 0.1) == pytest.approx((20 + 19) / 210)


def test_gini_published_examples_and_lorenz_area():
    assert gini([10, 8, 2] + [0] * 7, generalized=False) == pytest.approx(0.78)
    assert gini([5, 2, 1] + [0] * 7) == pytest.approx(0.75)
    assert gini([10] + [0] * 9, generalized=False) == pytest.approx(0.9)
    rng = np.random.default_rng(3)
    counts = rng.poisson(rng.gamma(0.8, 20, 95))
    curve = lorenz_curve(counts)
    area = np.trapezoid(curve["crime_share"], curve["area_share"])
    assert gini(counts, generalized=False) == pytest.approx(1 - 2 * area)
    assert gini([7] * 10) == 0
    assert np.isnan(gini([0, 0]))


def test_top_group_ties_and_persistence():
    counts = pd.Series({"A": 9, "B": 4, "C": 4, "D": 1, "E": 0})
    assert set(top_group(counts, 0.4)) == {"A", "B", "C"}
    assert list(top_group(pd.Series({"A": 0, "B": 0}), 0.5)) == []
    yearly = pd.DataFrame({2019: [10, 9, 1, 1, 0], 2020: [12, 2, 9, 1, 0],
                           2021: [11, 8, 2, 1, 0]}, index=list("ABCDE"))
    p = persistence(yearly, 0.2)
    assert p.loc["A", "years_in_top"] == 3 and p.index[0] == "A"
    assert p["years_in_top"].sum() == 3
    with pytest.raises(ValueError):
        shares(pd.Series([1, -1]))


@pytest.mark.parametrize("bands", [[(0, 0), (0, 7), (7, 14), (14, 28)], [(0, 7), (7, 14)], [(3, 3)],
                                   [(2, 5), (5, 9)], [(0, 200), (200, 400), (400, 800)],
                                   [(0, 0), (0, 1)], [(0, 7), (14, 28)]])
def test_band_index_is_the_band_definition(bands):
    """Bands end to end take a binary search; every value must land where the definition puts
    it: in (low, high], the first band closed at its low end too, -1 outside every band."""
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.integers(-2, 40, 5000).astype(float), rng.uniform(-1, 900, 5000),
                             np.array([lo for lo, _ in bands] + [hi for _, hi in bands], float)])
    expected = np.full(values.shape, -1)
    for i, (lo, hi) in enumerate(bands):
        inside = ((values > lo) & (values <= hi)) | ((values == lo) if i == 0 else False)
        expected[inside & (expected < 0)] = i
    assert band_index(values, bands).tolist() == expected.tolist()
