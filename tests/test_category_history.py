"""Comparisons across the data.police.uk category changes, on demo files relabelled with the
real history (September 2011 and May 2013), built here from the demo generator's output."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from smp_analysis.methods.expected import expected_volumes
from smp_analysis.params import load_params
from smp_analysis.pipeline import prepare_store
from smp_analysis.report import Assessment
from smp_analysis.topics import expected, overview

FOCUS = "E07000110"
SPLIT_2011 = {"Criminal damage and arson", "Drugs", "Other theft", "Public order",
              "Possession of weapons", "Shoplifting", "Bicycle theft", "Theft from the person"}
SPLIT_2013 = {"Violence and sexual offences": "Violent crime",
              "Public order": "Public disorder and weapons",
              "Possession of weapons": "Public disorder and weapons",
              "Bicycle theft": "Other theft", "Theft from the person": "Other theft"}


def _as_published(month: str, crime_type: str) -> str:
    """The name data.police.uk used for a (today's) category in `month`."""
    if month < "2011-09":
        if crime_type in SPLIT_2011:
            return "Other crime"
        return "Violent crime" if crime_type == "Violence and sexual offences" else crime_type
    if month < "2013-05":
        return SPLIT_2013.get(crime_type, crime_type)
    return crime_type


@pytest.fixture(scope="module")
def relabelled(demo_dir, tmp_path_factory):
    """Maidstone's rows of the demo, April 2008 to September 2016, with the historic names."""
    folder = tmp_path_factory.mktemp("relabelled")
    lookup = pd.read_csv(demo_dir / "geography" / "PoliceforceLSOA.csv", dtype=str)
    lsoas = set(lookup.loc[lookup["Local authority code"] == FOCUS, "LSOA Code"])
    for month in pd.period_range("2008-04", "2016-09", freq="M").strftime("%Y-%m"):
        source = demo_dir / "police_uk" / month / f"{month}-kent-street.csv"
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        frame = frame[frame["LSOA code"].isin(lsoas)]
        frame["Crime type"] = [_as_published(month, t) for t in frame["Crime type"]]
        (folder / "police_uk" / month).mkdir(parents=True)
        frame.to_csv(folder / "police_uk" / month / source.name, index=False)
    text = (f"""
assessment: "history"
title: "Relabelled demo"
partnership: "Test"
focus_area: {{code: "{FOCUS}", name: "Maidstone"}}
comparison_area: {{name: "Kent", police_force: "Kent"}}
period: {{start: 2013-10-01, end: 2014-09-30}}
data:
  store: {folder / 'store.duckdb'}
  police_uk: [{folder / 'police_uk'}]
  lsoa_lookup: {demo_dir / 'geography' / 'PoliceforceLSOA.csv'}
  census_population: {demo_dir / 'geography' / 'census_2011_population_hh.csv'}
""")
    params = folder / "history.yaml"
    params.write_text(text)
    later = folder / "later.yaml"
    later.write_text(text.replace("start: 2013-10-01, end: 2014-09-30",
                                  "start: 2015-10-01, end: 2016-09-30"))
    prepare_store(load_params(params))
    return params, later


@pytest.fixture(scope="module")
def sa(relabelled):
    return Assessment.open(relabelled[0])


def test_both_changes_are_found_in_the_relabelled_data(sa):
    assert [c.name for c in sa.category_changes] == ["September 2011", "May 2013"]


def test_name_mapping_alone_gives_the_absurd_figure_the_issue_reports(sa):
    """Without the history, possession of weapons has no offences before May 2013 (they were
    published as public disorder and weapons), so it looks far above anticipated."""
    monthly = sa.monthly(start=dt.date(2008, 4, 1), end=sa.current.end, area_codes=[FOCUS])
    naive = expected_volumes(monthly, period=sa.current)
    weapons = naive.annual.set_index("crime_type").loc["Possession of weapons"]
    assert weapons["percent_vs_expected"] > 200


def test_anticipated_volumes_use_harmonised_groups_when_the_change_is_too_recent(sa):
    result = expected.compute(sa)
    annual = result.volumes.annual.set_index("crime_type")
    assert "Possession of weapons and public order" in annual.index
    assert "Possession of weapons" not in annual.index
    assert "Bicycle theft, other theft and theft from the person" in annual.index
    assert annual["percent_vs_expected"].abs().max() < 60
    notes = " ".join(result.category_notes)
    assert "May 2013" in notes and "harmonised groups" in notes
    assert "September 2011" in notes  # the older change shortens the baselines it touches


def test_anticipated_volumes_shorten_the_baseline_after_the_change(relabelled):
    sa = Assessment.open(relabelled[1])
    result = expected.compute(sa)
    annual = result.volumes.annual.set_index("crime_type")
    assert "Possession of weapons" in annual.index
    assert abs(annual.loc["Possession of weapons", "percent_vs_expected"]) < 50
    assert result.volumes.years_used["Possession of weapons"] == 2
    assert result.volumes.years_used["Burglary"] == 5
    assert any("May 2013" in n and "possession of weapons" in n for n in result.category_notes)


def test_change_across_may_2013_compares_harmonised_groups_and_says_so(sa):
    result = overview.compute(sa)
    types = result.types
    assert "Possession of weapons and public order" in types.index
    assert "Possession of weapons" not in types.index
    # the Home Office groups swap sexual offences in May 2013: only May-September compared
    groups = result.groups
    assert groups.loc["Total recorded crime", "months"] == 12
    assert groups.loc["Victim-based crime", "months"] == 5
    assert groups.loc["Victim-based crime", "p_value"] != groups.loc["Victim-based crime",
                                                                       "p_value"]  # NaN
    text = result.summary().text()
    assert "harmonised groups" in text and "May 2013" in text


def test_the_demo_as_generated_has_no_category_change(demo_dir):
    """The demo publishes today's names throughout, so no change applies to it."""
    from smp_analysis.categories import changes_in_data

    frames = []
    for month in ("2011-08", "2013-04", "2013-05"):
        names = pd.read_csv(demo_dir / "police_uk" / month / f"{month}-kent-street.csv",
                            usecols=["Crime type"])["Crime type"].unique()
        frames.append(pd.DataFrame({"month": pd.Timestamp(f"{month}-01"), "crime_type": names}))
    assert changes_in_data(pd.concat(frames)) == ()
