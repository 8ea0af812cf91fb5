"""Priorities: the scoring matrix and rank stability against hand-worked examples and known
truth, the priority-status rules, the priorities params against hostile values, and the
chapter on the demo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from smp_analysis.errors import ParamsError
from smp_analysis.methods.priorities import (
    band,
    priority_status,
    rank_range,
    rank_stability,
    score_matrix,
)
from smp_analysis.params import load_params

NAN = math.nan


# ---------------------------------------------------------------- score_matrix
def test_weighted_means_ranks_ties_and_missing_by_hand():
    factors = pd.DataFrame({"volume": [5, 4, 3, 4], "trend": [3, 5, 3, NAN],
                            "harm": [4, NAN, 3, 5]}, index=list("ABCD"))
    before = factors.copy()
    m = score_matrix(factors, {"volume": 2, "trend": 1, "harm": 1})
    # A: (2x5 + 3 + 4) / 4 = 4.25; B: (2x4 + 5) / 3 = 4.333; C: 3; D: (2x4 + 5) / 3 = 4.333
    assert m["score"].tolist() == pytest.approx([4.25, 13 / 3, 3.0, 13 / 3])
    assert m["rank"].tolist() == [3, 1, 4, 1]  # B and D tie: both 1st; A 3rd, not 2nd
    assert m.loc["B", "missing"] == ("harm",) and m.loc["D", "missing"] == ("trend",)
    assert m.loc["A", "missing"] == () and m["factors_used"].tolist() == [3, 2, 3, 2]
    pd.testing.assert_frame_equal(factors, before)  # input untouched
    assert list(m.columns[:3]) == ["volume", "trend", "harm"]


def test_floating_point_ties_are_ties():
    factors = pd.DataFrame({"a": [3, 3], "b": [3, 3], "c": [3, NAN]}, index=["P", "Q"])
    m = score_matrix(factors, {"a": 0.1, "b": 0.2, "c": 0.7})
    assert m["rank"].tolist() == [1, 1]


def test_a_candidate_with_nothing_weighted_has_no_score_or_rank():
    factors = pd.DataFrame({"volume": [4, NAN, 2], "trend": [1, 5, NAN]}, index=list("XYZ"))
    m = score_matrix(factors, {"volume": 1, "trend": 0})
    assert m["score"].tolist()[0] == 4 and math.isnan(m.loc["Y", "score"])
    assert m.loc["Y", "rank"] is pd.NA and m.loc["Z", "rank"] == 2
    assert m.loc["Y", "factors_used"] == 0


@pytest.mark.parametrize("weights, message", [
    ({"volume": -1, "trend": 1}, "weights must be numbers >= 0: volume = -1"),
    ({"volume": 0, "trend": 0}, "at least one factor needs a weight above 0"),
    ({"volume": 1, "trend": 1, "harn": 1}, "unknown factor(s) harn"),
    ({"volume": 1}, "factor(s) trend have no weight"),
    ({"volume": float("nan"), "trend": 1}, "weights must be numbers >= 0"),
    ({"volume": True, "trend": 1}, "weights must be numbers >= 0"),
    ({"volume": "1", "trend": 1}, "weights must be numbers >= 0"),
])
def test_bad_weights_are_refused_with_the_reason(weights, message):
    factors = pd.DataFrame({"volume": [1, 2], "trend": [3, 4]}, index=["A", "B"])
    for function in (lambda: score_matrix(factors, weights),
                     lambda: rank_stability(factors, weights, top_n=1, draws=10)):
        with pytest.raises(ValueError) as info:
            function()
        assert message in str(info.value)


def test_bad_scores_and_repeated_candidates():
    with pytest.raises(ValueError, match="must be numbers"):
        score_matrix(pd.DataFrame({"a": ["high", 2]}), {"a": 1})
    with pytest.raises(ValueError, match="finite"):
        score_matrix(pd.DataFrame({"a": [math.inf, 2]}), {"a": 1})
    with pytest.raises(ValueError, match="repeated candidates: A"):
        score_matrix(pd.DataFrame({"a": [1, 2]}, index=["A", "A"]), {"a": 1})


# ---------------------------------------------------------------- rank_stability
def test_a_dominant_candidate_is_always_first_and_a_dominated_one_never():
    factors = pd.DataFrame({"a": [5, 3, 1, 1], "b": [5, 1, 3, 1], "c": [4, 2, 2, 1]},
                           index=["best", "x", "y", "worst"])
    share = rank_stability(factors, {"a": 1, "b": 2, "c": 1}, top_n=1)
    assert share["best"] == 1.0 and share["worst"] == 0.0
    top3 = rank_stability(factors, {"a": 1, "b": 2, "c": 1}, top_n=3)
    assert top3["best"] == 1.0 and top3["worst"] == 0.0
    assert top3[["x", "y"]].tolist() == [1.0, 1.0]


def test_symmetric_candidates_share_the_top_place_evenly():
    factors = pd.DataFrame({"a": [5, 1], "b": [1, 5]}, index=["A", "B"])
    share = rank_stability(factors, {"a": 1, "b": 1}, top_n=1, draws=4000, seed=3)
    assert share.sum() == pytest.approx(1.0)
    assert abs(share["A"] - 0.5) < 4 * math.sqrt(0.25 / 4000)


def test_share_matches_the_beta_probability_of_the_deciding_weight():
    # A wins exactly when w_a > 1/2; w_a ~ Beta(c x 2/3, c x 1/3) under Dirichlet(c x w)
    factors = pd.DataFrame({"a": [5, 1], "b": [1, 5]}, index=["A", "B"])
    for concentration in (5, 20, 80):
        truth = stats.beta.sf(0.5, concentration * 2 / 3, concentration / 3)
        share = rank_stability(factors, {"a": 2, "b": 1}, top_n=1, draws=20_000,
                               concentration=concentration, seed=11)["A"]
        assert abs(share - truth) < 4 * math.sqrt(truth * (1 - truth) / 20_000)


def test_a_direct_simulation_with_numpy_dirichlet():
    factors = pd.DataFrame({"volume": [4, 2, 5], "trend": [3, 5, NAN], "harm": [2, 4, 1]},
                           index=["P", "Q", "R"])
    weights = {"volume": 3.0, "trend": 1.0, "harm": 2.0}
    draws, concentration, seed = 500, 12, 7
    rng = np.random.default_rng(seed)
    alpha = [concentration * weights[f] / 6.0 for f in ("volume", "trend", "harm")]
    in_top = {c: 0 for c in factors.index}
    for w in rng.dirichlet(alpha, size=draws):
        scores = {}
        for c, row in factors.iterrows():
            pairs = [(wi, s) for wi, s in zip(w, row, strict=True) if not math.isnan(s)]
            scores[c] = sum(wi * s for wi, s in pairs) / sum(wi for wi, _ in pairs)
        for c in scores:
            if 1 + sum(other > scores[c] for other in scores.values()) <= 2:
                in_top[c] += 1
    expected = pd.Series({c: n / draws for c, n in in_top.items()})
    got = rank_stability(factors, weights, top_n=2, draws=draws, concentration=concentration,
                         seed=seed)
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_zero_weighted_factors_stay_at_zero_and_seed_reproduces():
    factors = pd.DataFrame({"a": [3, 3.1], "b": [5, 1]}, index=["A", "B"])
    assert rank_stability(factors, {"a": 1, "b": 0}, top_n=1)["B"] == 1.0
    one = rank_stability(factors, {"a": 1, "b": 1}, top_n=1, seed=5)
    assert one.equals(rank_stability(factors, {"a": 1, "b": 1}, top_n=1, seed=5))
    with pytest.raises(ValueError, match="top_n"):
        rank_stability(factors, {"a": 1, "b": 1}, top_n=0)
    with pytest.raises(ValueError, match="concentration"):
        rank_stability(factors, {"a": 1, "b": 1}, top_n=1, concentration=0)


def test_rank_range_of_a_fixed_order_is_that_rank():
    factors = pd.DataFrame({"a": [5, 3, 1], "b": [5, 3, 1]}, index=["A", "B", "C"])
    r = rank_range(factors, {"a": 1, "b": 1}, draws=200)
    assert r["low"].tolist() == [1, 2, 3] and r["high"].tolist() == [1, 2, 3]


# ---------------------------------------------------------------- banding and status
def test_band_edges_belong_to_the_upper_band():
    cuts = [0.8, 0.95, 1.05, 1.25]
    assert [band(v, cuts) for v in (0.79, 0.8, 0.95, 1.049, 1.05, 1.25, 9)] == \
        [1, 2, 3, 3, 4, 5, 5]
    assert math.isnan(band(NAN, cuts))


@pytest.mark.parametrize("statuses, expected", [
    (["exceeding expectations", "achieved"], "Exceeding expectations"),
    (["achieved"], "Exceeding expectations"),
    (["exceeding expectations", "on track"], "On track"),
    (["on track", None], "On track"),
    (["exceeding expectations", None], "On track"),  # not every target is exceeding
    (["on track", "not achieved"], "Needs attention"),
    (["off track"], "Needs attention"),
    ([], "No measure"),
    ([None, None], "No measure"),
])
def test_priority_status_rules(statuses, expected):
    status, why = priority_status(statuses)
    assert status == expected and why.endswith(".")


def test_an_unknown_target_status_is_refused():
    with pytest.raises(ValueError, match="unknown target status"):
        priority_status(["nearly there"])


# ---------------------------------------------------------------- hostile params
def _write(tmp_path, demo_params, old: str, new: str):
    text = demo_params.read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, key, words", [
    ("weights: {volume: 1, trend: 1, harm: 1", "weights: {volume: 1, trend: 1, harm: -2",
     "priorities.weights.harm", "greater than or equal to 0"),
    ("weights: {volume: 1, trend: 1, harm: 1, perception: 1, influence: 1}",
     "weights: {volume: 0, trend: 0, harm: 0, perception: 0, influence: 0}",
     "priorities.weights", "every factor weight is 0"),
    ("weights: {volume: 1,", "weights: {volumn: 1,", "priorities.weights", "'volumn'"),
    ('"Robbery": 600', '"Robbery": -600', "priorities.harm_weights.weights.Robbery",
     "greater than or equal to 0"),
    ("  top_n: 5", "  top_n: 0", "priorities.top_n", "greater than or equal to 1"),
])
def test_bad_priority_params_name_file_and_key(tmp_path, demo_params, old, new, key, words):
    path = _write(tmp_path, demo_params, old, new)
    with pytest.raises(ParamsError) as info:
        load_params(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.message.startswith(key)
    assert words in problem.message and problem.line is not None


@pytest.mark.parametrize("old, new, key", [
    ('      "Bicycle theft": 2\n', '      "Bicycle theftt": 2\n',
     "priorities.influence.scores"),
    ("indicators: [da_one_stop_shop]", "indicators: [da_one_stop_shops]",
     "priorities.current.0.indicators"),
    ('candidates: ["Anti-social behaviour"]', 'candidates: ["Antisocial behaviour"]',
     "priorities.current.4.candidates"),
    ('      "Domestic abuse": 150', '      "Domestic abus": 150',
     "priorities.harm_weights.weights"),
    ('"Anti-social behaviour": feel_safe_night', '"Anti-social behaviour": feel_safe',
     "priorities.perception"),
])
def test_unknown_candidate_and_indicator_names_are_named(tmp_path, demo_params, old, new, key):
    path = _write(tmp_path, demo_params, old, new)
    with pytest.raises(ParamsError) as info:
        load_params(path)
    (problem,) = info.value.problems
    assert problem.message.startswith(key) and "unknown name" in problem.message
    assert problem.file == str(path) and problem.line is not None


def test_the_demo_params_are_valid_and_the_defaults_are_documented(demo_params):
    from pathlib import Path

    p = load_params(demo_params).priorities
    assert p.harm_weights.illustrative and "ILLUSTRATIVE" in p.harm_weights.source
    docs = (Path(__file__).resolve().parents[1] / "docs" / "parameters.md").read_text()
    for key in ("robust_share", "min_factors", "volume_ratio", "harm_share",
                "perception_percent", "trend_stable_percent", "concentration", "given_by"):
        assert key in docs


# ---------------------------------------------------------------- the chapter on the demo
@pytest.fixture(scope="module")
def demo_assessment(built_appendix, demo_params):
    from smp_analysis.report import Assessment

    return Assessment.open(demo_params)


@pytest.mark.slow
def test_severity_score_by_hand_and_the_key_findings_open_with_priorities(demo_assessment):
    from smp_analysis.topics import key_findings, priorities

    sa = demo_assessment
    result = priorities.compute(sa)
    weights = sa.params.priorities.harm_weights.weights
    monthly = sa.monthly(start=sa.current.start, end=sa.current.end, area_codes=[sa.focus_code])
    harm = sum(weights[t] * n for t, n in zip(monthly["crime_type"], monthly["count"],
                                               strict=True) if t != "Anti-social behaviour")
    focus = result.districts.loc[sa.focus_code]
    assert focus["harm"] == pytest.approx(harm)
    assert focus["severity"] == pytest.approx(1000 * harm / sa.population.loc[
        sa.focus_code, "population"])
    findings = key_findings.compute(sa).findings
    assert findings[0].startswith("Priorities for Maidstone: ")
    assert findings[1].startswith("Current priorities: ")
    for status in result.statuses:
        assert status.status in ("Exceeding expectations", "On track", "Needs attention",
                                 "No measure")
    assert set(result.recommended) <= set(result.matrix.index)
    assert "illustrative" in result.harm_notice().text()


@pytest.mark.slow
def test_the_chapter_is_in_the_appendix(built_appendix):
    text = built_appendix.html.read_text(encoding="utf-8")
    assert "Priority scoring matrix for Maidstone" in text
    assert "the range of ranks in 90% of 2,000 random weightings" in text
    assert "Status of the current plan" in text
    assert "These weights are illustrative" in text
