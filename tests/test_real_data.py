"""Acceptance on the real public files in ../shared/data (issue 10, "Done when").

One store holds both forces (Northumbria 2020-05..2023-02 with 2022-01 missing; Kent
2018-10..2019-02 with an incomplete publication in 2018-11/12), with the real 2011 LSOA lookup
and Census 2011 population. A Newcastle upon Tyne appendix (March 2022 - February 2023 against
the year before) and a Maidstone appendix on the Kent months are built from it, once per module.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from smp_analysis.cli import main
from smp_analysis.report import Assessment
from smp_analysis.report.build import build_appendices
from smp_analysis.topics import expected, overview

pytestmark = pytest.mark.slow

PARAMS = """
assessment: "{assessment}"
title: "{name}: Strategic Assessment data appendix"
partnership: "{name} partnership"
focus_area: {{code: "{code}", name: "{name}"}}
comparison_area: {{name: "{force}", police_force: "{force}"}}
period: {{start: {start}, end: {end}}}
data:
  store: {store}
  police_uk: [{data}/police_uk/{folder}]
  lsoa_lookup: {data}/geography/PoliceforceLSOA.csv
  census_population: {data}/geography/census_2011_population_hh.csv
"""


@pytest.fixture(scope="module")
def real(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    store = folder / "both-forces.duckdb"
    files = {}
    for key, values in {
        "newcastle": dict(assessment="newcastle-2022-23", name="Newcastle upon Tyne",
                          code="E08000021", force="Northumbria", folder="northumbria",
                          start="2022-03-01", end="2023-02-28"),
        "maidstone": dict(assessment="maidstone-2019", name="Maidstone", code="E07000110",
                          force="Kent", folder="kent", start="2019-01-01", end="2019-02-28"),
        "maidstone_five": dict(assessment="maidstone-five", name="Maidstone", code="E07000110",
                               force="Kent", folder="kent", start="2018-10-01",
                               end="2019-02-28"),
    }.items():
        path = folder / f"{key}.yaml"
        path.write_text(PARAMS.format(store=store, data=shared_data, **values))
        files[key] = path
    outcomes = build_appendices([files["newcastle"], files["maidstone"]], out_dir=folder / "out",
                                workers=1)
    return files, {o.assessment: o for o in outcomes}


def _text(outcome) -> tuple[BeautifulSoup, str]:
    soup = BeautifulSoup(outcome.html.read_text(encoding="utf-8"), "html.parser")
    return soup, soup.get_text(" ", strip=True)


def _chapter(soup: BeautifulSoup, title: str) -> str:
    """The text of one numbered chapter (from its heading to the next chapter heading)."""
    heading = soup.find("h1", string=re.compile(title))
    parts = []
    for element in heading.find_all_next():
        if element.name == "h1" or element.get("id") == "provenance":
            break
        if element.string:
            parts.append(element.string.strip())
    return " ".join(parts)


def test_both_appendices_build_from_one_store(real):
    _, outcomes = real
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]


def test_newcastle_change_is_like_for_like_with_the_month_caveat(real):
    _, outcomes = real
    soup, text = _text(outcomes["newcastle-2022-23"])
    headline = re.search(r"Total recorded crime in Newcastle upon Tyne rose by (\d+\.\d)% "
                         r"\([\d,]+ more offences\), from [\d,]+ to [\d,]+, comparing the 11 "
                         r"months with complete data in both years\.", text)
    assert headline and 4.0 < float(headline.group(1)) < 6.5
    assert "January 2022 has no data, so it and January 2023 are left out" in text
    assert "14.6%" not in text and "larger than chance" not in text


def test_newcastle_anticipated_volume_skips_the_missing_month(real):
    _, outcomes = real
    _, text = _text(outcomes["newcastle-2022-23"])
    found = re.search(r"Total recorded crime was ([\d,]+) offences, (\d+\.\d)% above the "
                      r"anticipated ([\d,]+)\.", text)
    assert found
    anticipated = int(found.group(3).replace(",", ""))
    assert 34_800 < anticipated < 35_800 and 3 < float(found.group(2)) < 8
    assert "January 2022" in text and "never counted as zero" in text


def test_newcastle_data_quality_has_no_kent_line(real):
    _, outcomes = real
    soup, text = _text(outcomes["newcastle-2022-23"])
    chapter = _chapter(soup, "Data quality")
    assert "Northumbria" in chapter and "Kent" not in chapter
    assert "kent" not in text.lower()
    rows = soup.find(id="provenance").select("details table tbody tr")
    police = [r for r in rows if r.find_all("td")[0].get_text() == "police_uk"]
    assert len(police) == 33  # 34 months 2020-05..2023-02 less the missing 2022-01
    assert all("northumbria" in r.find_all("td")[1].get_text() for r in police)


def test_newcastle_names_the_districts_the_lookup_leaves_out(real):
    _, outcomes = real
    _, text = _text(outcomes["newcastle-2022-23"])
    assert "Northumberland UA (E06000048) and Gateshead (E08000020)" in text
    assert "Census 2011 usual residents, 11 years older than the assessment period" in text


def test_maidstone_builds_and_makes_no_claim_from_the_incomplete_months(real):
    _, outcomes = real
    soup, text = _text(outcomes["maidstone-2019"])
    chapter = _chapter(soup, "Overview")
    assert "This change is larger" not in chapter and "78.3%" not in text
    assert "rose from none" not in text and "Yes" not in chapter
    assert ("No month has complete data in both periods, so no change between them can be "
            "given: November 2018 and December 2018 were marked incomplete by the data-quality "
            "check.") in text
    assert "Anticipated volumes cannot be calculated for this assessment" in text
    assert "northumbria" not in text.lower()


def test_maidstone_with_an_empty_previous_period_says_no_data(real):
    files, _ = real
    sa = Assessment.open(files["maidstone_five"])
    result = overview.compute(sa)
    headline = result.headlines()[0]
    assert "There are no data for May 2018 to September 2018" in headline
    assert "rose" not in headline and "none" not in headline
    assert not expected.compute(sa).available


def test_check_params_reports_coverage_and_fails_naming_the_months(real, capsys):
    files, _ = real
    assert main(["check-params", str(files["newcastle"]), "--no-ingest"]) == 0
    out = capsys.readouterr().out
    assert "previous period March 2021 to February 2022: 11 of 12 months usable (January 2022 " \
           "has no data)" in out
    assert "like for like: 11 of 12 months" in out
    assert "history for anticipated volumes" in out and "May 2020" in out
    assert "Gateshead" in out and "Northumberland" in out
    assert main(["check-params", str(files["maidstone"]), "--no-ingest"]) == 1
    captured = capsys.readouterr()
    assert ("the previous period November 2018 to December 2018 has no usable month: November "
            "2018 and December 2018 were marked incomplete") in captured.err
