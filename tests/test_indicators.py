"""The partner-indicator chapter: the issue's seed examples worked by hand, and the demo."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import yaml

from smp_analysis.params import TargetParams
from smp_analysis.topics._indicator_stats import summarise
from smp_analysis.topics._indicator_targets import TargetResult, evaluate
from smp_analysis.topics.indicators import Indicators

FOCUS = "E07000110"
KENT = [FOCUS] + [f"E0700{n:04d}" for n in range(111, 122)]  # 12 districts
NAMES = pd.Series({code: "Maidstone" if code == FOCUS else f"District {code[-3:]}"
                   for code in KENT})
UNTIL = dt.date(2024, 3, 31)


def rows(indicator: str, values: dict, *, kind: str = "rate", per: int = 10_000,
         polarity: str = "lower", calendar: bool = False, predicted=None) -> pd.DataFrame:
    """values: {(area, year): (numerator, denominator)} -> stored-row frame."""
    out = []
    for (area, year), (numerator, denominator) in values.items():
        start, end = ((dt.date(year, 1, 1), dt.date(year, 12, 31)) if calendar else
                      (dt.date(year, 4, 1), dt.date(year + 1, 3, 31)))
        out.append({"indicator_id": indicator, "indicator_label": indicator.replace("_", " "),
                    "area_code": area, "area_name": None, "period_start": start,
                    "period_end": end, "numerator": float(numerator),
                    "denominator": None if denominator is None else float(denominator),
                    "per": per, "polarity": polarity, "kind": kind,
                    "predicted": (predicted or {}).get((area, year)), "source": "test",
                    "path": "x.csv", "line": len(out) + 2})
    return pd.DataFrame(out)


def chapter(*summaries, targets=()) -> Indicators:
    return Indicators(area="Maidstone", comparison="Kent", current_name="2023-24",
                      summaries=tuple(summaries), targets=tuple(targets), threshold=5)


def exact_two_sided(x: int, n: int) -> float:
    """Two-sided exact binomial test at p = 1/2, summed by hand (R's binom.test rule)."""
    pmf = [math.comb(n, k) / 2 ** n for k in range(n + 1)]
    return min(1.0, sum(p for p in pmf if p <= pmf[x] * (1 + 1e-7)))


def test_assault_admissions_48_to_65_per_10000():
    data = rows("assault_admissions", {(FOCUS, 2022): (48, 171_000), (FOCUS, 2023): (65, 171_000)})
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    assert s.current.value == pytest.approx(65 / 17.1) and s.previous.value == pytest.approx(48 / 17.1)
    assert s.change.percent_change == pytest.approx(35.42, abs=0.01)  # 17 / 48
    assert s.change.test == "exact" and s.dispersion is None  # two years: no history
    assert s.change.p_value == pytest.approx(exact_two_sided(65, 113), abs=1e-9)
    sentence = chapter(s).sentence(s)
    assert "3.80 per 10,000 in Maidstone in April 2023 to March 2024" in sentence
    assert "count 65; 95% interval 2.93 to 4.84" in sentence  # Byar, as worked in test_partner_methods
    assert "up 35.4% on April 2022 to March 2023" in sentence
    assert "a change chance variation could produce" in sentence


def test_ksi_76_against_54_is_40_7_percent_against_kents_26_3():
    values = {(FOCUS, 2022): (54, 170_000), (FOCUS, 2023): (76, 170_000)}
    # the other 11 districts: 421 -> 524, so Kent is 475 -> 600 (+26.3%)
    before = [38] * 10 + [41]
    after = [47] * 10 + [54]
    for code, b, a in zip(KENT[1:], before, after, strict=True):
        values[(code, 2022)] = (b, 120_000)
        values[(code, 2023)] = (a, 120_000)
    data = rows("ksi_all_ages", values, calendar=True)
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    assert s.change.percent_change == pytest.approx(40.74, abs=0.01)  # 22 / 54
    assert s.comparison_change == pytest.approx(26.32, abs=0.01)  # 125 / 475
    text = chapter(s).sentence(s)
    assert "up 40.7% on 2022" in text and "against a rise of 26.3% across Kent" in text
    # Kent pooled 2023: 600 / 1,490,000 x 10,000 = 4.03
    assert s.comparison == pytest.approx(600 / 149, abs=1e-9)
    # 54 / 120,000 = 4.50 > 76 / 170,000 = 4.47 > 47 / 120,000 = 3.92 per 10,000
    assert s.rank is not None and s.rank.rank == 2 and s.rank.of == 12
    assert s.rank.low <= 2 <= s.rank.high
    assert s.funnel is not None and s.funnel.focus_position.startswith(("within", "above"))


def test_reoffending_predicted_7_86_actual_9_97():
    data = rows("reoffending", {(FOCUS, 2022): (60, 602)}, kind="observed_vs_predicted",
                per=100, calendar=True, predicted={(FOCUS, 2022): 7.86})
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    assert s.current.value == pytest.approx(9.967, abs=1e-3)
    assert s.predicted.p_value == pytest.approx(0.0582, abs=0.0005)
    text = chapter(s).sentence(s)
    assert "9.97% actual against 7.86% predicted" in text
    assert "26.8% above predicted" in text and "could produce" in text


def test_survey_day_and_night_feelings_of_safety():
    day = rows("feel_safe_day", {(FOCUS, 2021): (444, 517), (FOCUS, 2023): (396, 444)},
               kind="proportion", per=100, polarity="higher")
    s = summarise(day, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    # 89.19% against 85.88%: up 3.3 points
    assert 100 * s.change.difference == pytest.approx(89.189 - 85.880, abs=0.01)
    assert "up 3.3 percentage points" in chapter(s).sentence(s)
    night = rows("feel_safe_night", {(FOCUS, 2021): (316, 506), (FOCUS, 2023): (317, 556)},
                 kind="proportion", per=100, polarity="higher")
    s = summarise(night, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    assert "down 5.4 percentage points" in chapter(s).sentence(s)


def test_over_dispersion_is_allowed_for_when_a_series_has_history():
    years = range(2012, 2024)
    counts = [100, 130, 90, 125, 95, 135, 85, 120, 100, 140, 90, 150]
    data = rows("needle_finds", {(FOCUS, y): (c, None) for y, c in zip(years, counts,
                                                                         strict=True)},
                kind="count", per=1)
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    assert s.dispersion is not None and s.dispersion > 2
    assert s.change.test == "quasi-Poisson" and not s.change.significant
    plain = summarise(data[data["period_start"] >= dt.date(2022, 1, 1)], focus=FOCUS,
                      districts=NAMES, groups={}, until=UNTIL)
    assert plain.change.test == "exact" and plain.change.significant  # 90 -> 150
    assert "allowing for over-dispersion" in chapter(s).sentence(s)


def test_small_counts_are_not_published():
    data = rows("ksi_under_16", {(FOCUS, 2022): (3, 33_000), (FOCUS, 2023): (7, 33_000)})
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={}, until=UNTIL)
    text = chapter(s).sentence(s)
    assert "too few events to compare" in text and " 3 " not in text


# ---------------------------------------------------------------- targets


def target(**fields) -> TargetParams:
    base = {"baseline": {"start": "2021-04-01", "end": "2022-03-31"},
            "target_date": "2025-03-31"}
    return TargetParams(**{**base, **fields})


def kent_rates(indicator: str, per_district: dict, year: int, *, population=100_000,
               per: int = 1000) -> dict:
    return {(code, year): (round(rate * population / per), population)
            for code, rate in per_district.items()}


def run(spec, data):
    s = summarise(data, focus=FOCUS, districts=NAMES, groups={"KCC": KENT}, until=UNTIL)
    return evaluate(spec, data, s, focus=FOCUS, area="Maidstone", districts=NAMES,
                    groups={"KCC": KENT}, comparison_name="Kent")


def test_reduce_to_the_average_of_the_best_4_kent_districts_19_per_1000():
    base = dict(zip(KENT, [25.0, 17.0, 18.5, 19.5, 21.0, 22.0, 30.0, 26.0, 24.0, 23.5, 28.0,
                           31.0], strict=True))
    values = kent_rates("asb", base, 2021)
    values[(FOCUS, 2023)] = (2350, 100_000)  # 23.5 per 1,000
    result = run(target(indicator="asb", kind="best_n_average", n=4, group="KCC"),
                 rows("asb", values, per=1000))
    assert result.target == pytest.approx(19.0)  # (17 + 18.5 + 19.5 + 21) / 4
    # line at 31 March 2024: 25 + (19 - 25) x 731 / 1096 = 21.0; 23.5 is above it, and
    # its interval (22.5 to 24.5) misses it
    assert result.trajectory == pytest.approx(25 - 6 * 731 / 1096)
    assert result.status == "off track"


def test_half_the_difference_2_38():
    base = {FOCUS: 2.76, **dict.fromkeys(KENT[1:], 1.9309)}
    values = kent_rates("alcohol", base, 2021, population=1_000_000)
    values[(FOCUS, 2023)] = (2300, 1_000_000)
    result = run(target(indicator="alcohol", kind="half_the_difference", group="KCC"),
                 rows("alcohol", values, per=1000))
    # KCC average = (2,760 + 11 x 1,931) / 12,000,000 x 1,000 = 2.0003; half-way: 2.38
    assert result.target == pytest.approx(2.38, abs=0.0005)
    assert result.status == "exceeding expectations"  # 2.30 is already below 2.38


def test_maintain_under_the_kcc_average():
    values = kent_rates("fte", dict.fromkeys(KENT, 6.0), 2021)
    values.update(kent_rates("fte", {**dict.fromkeys(KENT[1:], 6.3), FOCUS: 5.1}, 2023))
    result = run(target(indicator="fte", kind="comparison_average", rule="maintain_under",
                        group="KCC"), rows("fte", values, per=1000))
    # the standing limit is the KCC average in the latest period: (5.1 + 11 x 6.3) / 12
    assert result.target == pytest.approx((5.1 + 11 * 6.3) / 12)
    assert result.status == "on track" and not result.via_interval


def test_needle_finds_target_1200_a_year():
    values = {(FOCUS, 2021): (1500, None), (FOCUS, 2022): (1400, None),
              (FOCUS, 2023): (1310, None)}
    spec = target(indicator="needles", kind="value", value=1200,
                  baseline={"start": "2021-04-01", "end": "2022-03-31"},
                  target_date="2024-03-31")
    result = run(spec, rows("needles", values, kind="count", per=1))
    assert result.status == "not achieved"  # the target date has come: 1,310 > 1,200
    spec = target(indicator="needles", kind="value", value=1200, target_date="2025-03-31")
    result = run(spec, rows("needles", values, kind="count", per=1))
    # line at 31 March 2024: 1,500 - 300 x 731 / 1096 = 1,299.9; 1,310 misses it, but its
    # Byar interval (1,240 to 1,383) includes it
    assert result.trajectory == pytest.approx(1500 - 300 * 731 / 1096)
    assert result.status == "on track" and result.via_interval
    assert "includes the line" in chapter(targets=[result]).target_sentence(result)


def test_one_stop_shop_target_140_visitors():
    values = {(FOCUS, 2021): (100, 155_000), (FOCUS, 2023): (150, 160_000)}
    spec = target(indicator="oss", kind="value", value=140, measure="count")
    result = run(spec, rows("oss", values, polarity="higher"))
    assert (result.baseline, result.current, result.status) == (100, 150,
                                                                "exceeding expectations")
    neutral = run(target(indicator="oss", kind="value", value=140, measure="count"),
                  rows("oss", values, polarity="neutral"))
    assert neutral.status is None and "direction" in neutral.note


def test_near_zero_difference_for_reoffending():
    values = {(FOCUS, 2021): (47, 602), (FOCUS, 2022): (60, 602)}
    predicted = {(FOCUS, 2021): 7.86, (FOCUS, 2022): 7.86}
    spec = target(indicator="reoff", kind="near_zero_difference", tolerance=5,
                  baseline={"start": "2021-01-01", "end": "2021-12-31"})
    result = run(spec, rows("reoff", values, kind="observed_vs_predicted", per=100,
                            calendar=True, predicted=predicted))
    assert result.current == pytest.approx(26.8, abs=0.1)
    # the Wilson interval of 60/602 (7.82% to 12.64%) reaches 7.86% (a 0% difference)
    assert result.status == "on track" and result.via_interval


def test_a_target_without_its_baseline_is_not_assessed():
    values = {(FOCUS, 2023): (150, 160_000)}
    result = run(target(indicator="oss", kind="value", value=140), rows("oss", values))
    assert result.status is None and "baseline" in result.note


def test_status_summary_in_the_key_findings():
    statuses = ["on track"] * 5 + ["exceeding expectations"] + ["off track"] * 2
    results = [TargetResult("x", "X", "d", "value", status=s) for s in statuses]
    indicators = chapter(targets=results)
    assert indicators.headlines() == [
        "Partner-indicator targets: 5 of 8 targets on track, 1 exceeding expectations and "
        "2 off track."]
    assert indicators.targets_summary().text().startswith("5 of 8 targets on track")


def test_missing_result_says_why_and_shows_nothing_else():
    missing = Indicators(area="Maidstone", comparison="Kent", missing="No file.")
    assert missing.summary().text() == "No file."
    for part in (missing.sentences(), missing.values_table(), missing.comparison_table(),
                 missing.funnel_figures(), missing.targets_table()):
        assert part.text() == ""
    assert missing.headlines() == []


# ---------------------------------------------------------------- the demo appendix


@pytest.mark.slow
def test_demo_chapter_shows_every_part(built_appendix, demo_params):
    from smp_analysis.report import Assessment
    from smp_analysis.topics import indicators, key_findings, rates

    sa = Assessment.open(demo_params)
    result = indicators.compute(sa)
    assert result.available and len(result.summaries) == 11 and len(result.targets) == 8
    assert all(t.status is not None for t in result.targets)
    kinds = {s.kind for s in result.summaries}
    assert kinds == {"rate", "count", "proportion", "observed_vs_predicted"}
    assert sum(s.funnel is not None for s in result.summaries) == 9
    assert all(s.rank is not None and s.rank.low <= s.rank.rank <= s.rank.high
               for s in result.summaries if s.kind != "count")
    assert any(s.dispersion is not None for s in result.summaries) or \
        sa.current.end.year < 2017  # 2015-16 has too little history
    assert len(result.funnel_figures().blocks) == 9
    findings = key_findings.compute(sa).findings
    assert any(f.startswith("Partner-indicator targets:") for f in findings)
    r = rates.compute(sa)
    text = r.funnel_summary().text()
    assert "funnel plot of the 13 districts" in text and "rank interval" in text
    assert r.rank_range.low <= r.rank.rank <= r.rank_range.high


@pytest.mark.slow
def test_demo_appendix_has_the_chapter(built_appendix):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built_appendix.html.read_text(encoding="utf-8"), "html.parser")
    headings = [h.get_text(" ", strip=True) for h in soup.find_all("h1")]
    assert any(h.endswith("Partner indicators and targets") for h in headings)
    text = soup.get_text(" ")
    assert "Action-plan targets for Maidstone and their status" in text
    assert "95% rank interval" in text and "funnel" in text


def test_rates_funnel_and_rank_interval_on_real_kent_data(shared_data, tmp_path):
    """Real data.police.uk files (Kent, October 2018 to February 2019: five months, two of
    them incomplete publications) and the real lookup and Census: the funnel plot and rank
    interval are computed, the focus area's rank lies in its interval, and with under a year
    of history the rank interval allows for chance variation only."""
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import prepare_store
    from smp_analysis.report import Assessment
    from smp_analysis.topics import rates

    params = tmp_path / "real.yaml"
    params.write_text(yaml.safe_dump({
        "assessment": "real", "title": "Real", "partnership": "Safer Maidstone Partnership",
        "focus_area": {"code": FOCUS, "name": "Maidstone"},
        "comparison_area": {"name": "Kent", "police_force": "Kent"},
        "period": {"start": "2018-10-01", "end": "2019-02-28"},
        "data": {"store": str(tmp_path / "real.duckdb"),
                 "police_uk": [str(shared_data / "police_uk" / "kent")],
                 "lsoa_lookup": str(shared_data / "geography" / "PoliceforceLSOA.csv"),
                 "census_population": str(shared_data / "geography" /
                                          "census_2011_population_hh.csv")}}))
    prepare_store(load_params(params))
    sa = Assessment.open(params)
    result = rates.compute(sa)
    assert result.funnel is not None and len(result.funnel.areas) == len(sa.districts)
    assert result.rank_range.low <= result.rank.rank <= result.rank_range.high
    assert result.rank_allowance == "chance variation in every district's count"
    text = result.funnel_summary().text()
    assert f"funnel plot of the {len(sa.districts)} districts around the Kent rate" in text
    assert result.funnel.focus_position in text
    figure = result.funnel_figure()
    assert len(figure.png) > 1000 and "Maidstone" in figure.alt
