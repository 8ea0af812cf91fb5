"""The places and patterns chapters: boundary files (valid and hostile), the demo county's
known truth, real gappy data (Northumbria: 33 months with January 2022 missing, no ward
lookup, no boundaries), and the topics' sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from smp_analysis.errors import InputError
from smp_analysis.sources.boundaries import read_boundaries

# ---------------------------------------------------------------- boundary files


def _square(x0, y0, size=0.01):
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geometry}
        for props, geometry in features]}))
    return path


def test_boundaries_are_read_and_converted_to_british_national_grid(tmp_path):
    path = _geojson(tmp_path / "lsoa.geojson", [
        ({"LSOA21CD": "E01024321", "LSOA21NM": "Maidstone 001A"},
         {"type": "Polygon", "coordinates": _square(0.52, 51.27)}),
        ({"LSOA21CD": "E01024322", "LSOA21NM": "Maidstone 001B"},
         {"type": "Polygon", "coordinates": _square(0.53, 51.27)})])
    b = read_boundaries(path, "lsoa")
    assert b.code_column == "LSOA21CD" and b.frame.crs.to_epsg() == 27700
    assert b.frame["name"].tolist() == ["Maidstone 001A", "Maidstone 001B"]
    area = b.frame.geometry.area.iloc[0]
    assert 0.6e6 < area < 0.9e6  # 0.01 deg x 0.01 deg at 51N: ~0.70 km x 1.11 km


def test_every_boundary_problem_is_reported_with_its_feature(tmp_path):
    bowtie = [[[0.5, 51.2], [0.51, 51.21], [0.51, 51.2], [0.5, 51.21], [0.5, 51.2]]]
    path = _geojson(tmp_path / "bad.geojson", [
        ({"WD23CD": "E05000001", "WD23NM": "A"}, {"type": "Polygon",
                                                 "coordinates": _square(0.5, 51.2)}),
        ({"WD23CD": "E05000001", "WD23NM": "A again"},
         {"type": "Polygon", "coordinates": _square(0.6, 51.2)}),
        ({"WD23CD": "", "WD23NM": "blank"}, {"type": "Polygon",
                                             "coordinates": _square(0.7, 51.2)}),
        ({"WD23CD": "E01000001", "WD23NM": "an LSOA code"},
         {"type": "Polygon", "coordinates": _square(0.8, 51.2)}),
        ({"WD23CD": "E05000005", "WD23NM": "a point"},
         {"type": "Point", "coordinates": [0.5, 51.2]}),
        ({"WD23CD": "E05000006", "WD23NM": "no shape"}, None),
        ({"WD23CD": "E05000007", "WD23NM": "bow tie"}, {"type": "Polygon",
                                                       "coordinates": bowtie})])
    with pytest.raises(InputError) as info:
        read_boundaries(path, "ward")
    text = str(info.value)
    for expected in ("feature 2: code E05000001 is also on feature 1", "feature 3: the code "
                     "is blank", "feature 4: 'E01000001' is not a ward code",
                     "feature 5: a Point", "feature 6: no geometry"):
        assert expected in text
    assert "bad.geojson" in text and "feature 7" not in text  # the bow tie is repaired


def test_boundary_file_without_codes_crs_or_in_the_wrong_place(tmp_path):
    path = _geojson(tmp_path / "nocode.geojson", [
        ({"name": "x"}, {"type": "Polygon", "coordinates": _square(0.5, 51.2)})])
    with pytest.raises(InputError, match="code column"):
        read_boundaries(path, "lsoa")
    far = _geojson(tmp_path / "far.geojson", [
        ({"lsoa_code": "E01000001"}, {"type": "Polygon", "coordinates": _square(150, -30)})])
    with pytest.raises(InputError, match="outside Great Britain"):
        read_boundaries(far, "lsoa")
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(InputError, match="not a readable"):
        read_boundaries(tmp_path / "junk.gpkg", "lsoa")


def test_shapefile_without_prj_is_refused(tmp_path):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"LSOA11CD": ["E01000001"]},
                             geometry=[shapely.box(575000, 155000, 576000, 156000)],
                             crs="EPSG:27700")
    frame.to_file(tmp_path / "lsoas.shp")
    assert read_boundaries(tmp_path / "lsoas.shp", "lsoa").source_crs.endswith("27700")
    (tmp_path / "lsoas.prj").unlink()
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_boundaries(tmp_path / "lsoas.shp", "lsoa")


def test_store_keeps_only_areas_in_the_lookup_and_refuses_a_file_that_matches_none(tmp_path):
    from smp_analysis import store
    from smp_analysis.store import boundaries as boundary_store
    from smp_analysis.store import queries

    con = store.connect(tmp_path / "s.duckdb")
    con.execute("CREATE TABLE lsoa_lookup AS SELECT 'E01024321' AS lsoa_code")
    path = _geojson(tmp_path / "lsoa.geojson", [
        ({"LSOA11CD": "E01024321"}, {"type": "Polygon", "coordinates": _square(0.52, 51.27)}),
        ({"LSOA11CD": "E01099999"}, {"type": "Polygon", "coordinates": _square(0.6, 51.27)})])
    outcome = boundary_store.load_boundaries(con, "lsoa", path)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (2, 1, 1)
    assert queries.boundaries(con, "lsoa")["code"].tolist() == ["E01024321"]
    assert boundary_store.load_boundaries(con, "lsoa", path).status == "unchanged"
    other = _geojson(tmp_path / "other.geojson", [
        ({"LSOA21CD": "E01088888"}, {"type": "Polygon", "coordinates": _square(0.5, 51.2)})])
    with pytest.raises(InputError, match="another level or census"):
        boundary_store.load_boundaries(con, "lsoa", other)
    with pytest.raises(InputError, match="ward lookup"):
        boundary_store.load_boundaries(con, "ward", path)


def test_demo_boundaries_tile_each_district_and_match_the_lookup(demo_dir):
    lookup = pd.read_csv(demo_dir / "geography" / "ward_lookup.csv", dtype=str)
    lsoas = read_boundaries(demo_dir / "boundaries" / "lsoas.geojson", "lsoa").frame
    wards = read_boundaries(demo_dir / "boundaries" / "wards.geojson", "ward").frame
    assert set(lsoas["code"]) == set(lookup["lsoa_code"])
    assert set(wards["code"]) == set(lookup["ward_code"])
    maidstone = lookup[lookup["ward_code"].isin(
        lookup.loc[lookup["ward_name"] == "High Street", "ward_code"])]
    ward = wards[wards["name"] == "High Street"].geometry.iloc[0]
    cells = lsoas[lsoas["code"].isin(maidstone["lsoa_code"])].geometry.union_all()
    assert abs(ward.area - cells.area) / ward.area < 1e-6  # wards dissolve their LSOAs
    first = (demo_dir / "boundaries" / "wards.geojson").read_bytes()
    from smp_analysis.demo.boundaries import write_boundaries
    from smp_analysis.demo.geography import _build_geography

    again = write_boundaries(demo_dir.parent / "again", _build_geography(
        np.random.default_rng(20151)), np.random.default_rng([20151, 16]))
    assert again == {"lsoas": len(lsoas), "wards": len(wards)}
    assert (demo_dir.parent / "again" / "boundaries" / "wards.geojson").read_bytes() == first


def test_params_resolve_boundary_paths_and_check_they_exist(demo_params, tmp_path):
    from smp_analysis.errors import ParamsError
    from smp_analysis.params import load_params

    params = load_params(demo_params)
    assert params.data.boundaries.lsoas.is_absolute()
    assert "data.boundaries.wards" in params.data.input_paths()
    raw = yaml.safe_load(demo_params.read_text())
    raw["data"]["boundaries"]["wards"] = "missing.geojson"
    raw["options"]["near_repeat"] = {"crime_types": ["Burglry"], "months_apart": [2, 1]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError) as info:
        load_params(bad)
    text = str(info.value)
    assert "Burglry" in text and "months_apart" in text


# ---------------------------------------------------------------- the demo county


@pytest.fixture(scope="module")
def demo_assessment(built_appendix, demo_params):
    from smp_analysis.report import Assessment

    return Assessment.open(demo_params)


@pytest.mark.slow
def test_places_on_the_demo(demo_assessment):
    from smp_analysis.topics import places

    sa = demo_assessment
    result = places.compute(sa)
    assert result.available
    total = sa.monthly(start=sa.current.start, end=sa.current.end, area_codes=[sa.focus_code])
    crimes = int(total[total["crime_type"] != "Anti-social behaviour"]["count"].sum())
    wards = result.wards.loc["Total recorded crime"]
    lsoas = result.lsoas.loc["Total recorded crime"]
    assert wards["current"].sum() == lsoas["current"].sum() == crimes
    assert wards["share"].sum() == pytest.approx(1.0)
    top = wards.sort_values("current", ascending=False).iloc[0]
    sentence = result.ward_summary().text()
    assert sentence.startswith(f"{top['name']} ward had {100 * top['share']:.1f}% of recorded "
                               f"crime in Maidstone ({top['current']:,} offences)")
    ten = sorted(lsoas["current"], reverse=True)[:10]  # 95 LSOAs: the top 10% is 10
    assert result.concentration.loc["Total recorded crime", "top_share"] == pytest.approx(
        sum(ten) / crimes)
    for figure in (result.ward_map_figure(), result.lsoa_map_figure(), result.lorenz_figure()):
        assert figure.png.startswith(b"\x89PNG") and len(figure.alt) > 60
    knox = result.near_repeats["Burglary"]
    assert len(knox) == 6 * 4 and knox.attrs["permutations"] == 999
    assert "anonymous map points" in result.near_repeat_summary().text()
    assert result.headlines()


@pytest.mark.slow
def test_patterns_on_the_demo_find_the_built_in_seasons(demo_assessment):
    from smp_analysis.topics import patterns

    result = patterns.compute(demo_assessment)
    assert result.years == ("2009-10", "2010-11", "2011-12", "2012-13", "2013-14")
    asb = result.seasons.loc["Anti-social behaviour"]
    assert asb["seasonal"] and 7 in asb["peak_months"]  # demo: ASB peaks in July, +22%
    assert result.pandemic is None  # an assessment before 2020 has no pre-pandemic comparison
    annual = result.annual.loc["Total recorded crime"]
    monthly = demo_assessment.monthly(start=demo_assessment.current.start,
                                      end=demo_assessment.current.end,
                                      area_codes=[demo_assessment.focus_code])
    # the demo publishes June 2011 with ~45% of its crimes; the data-quality check marks it
    # incomplete, so June is left out of every year compared (like for like): 11 months
    assert result.months_compared == 11
    crimes = monthly[(monthly["crime_type"] != "Anti-social behaviour")
                     & (monthly["month"].dt.month != 6)]
    assert annual.iloc[-1] == crimes["count"].sum()
    text = result.trend_summary().text()
    assert "Over the past three years recorded crime in Maidstone" in text
    assert result.seasonality_figure().png.startswith(b"\x89PNG")


@pytest.mark.slow
def test_without_lsoa_boundaries_the_lsoa_map_is_a_hexagon_map(demo_assessment):
    from smp_analysis.report import Assessment
    from smp_analysis.topics import places

    params = demo_assessment.params
    data = params.data.model_copy(update={"boundaries": None})
    sa = Assessment(params.model_copy(update={"data": data}), demo_assessment.con)
    result = places.compute(sa)
    assert result.ward_map is None and result.lsoa_map is None
    figure = result.lsoa_map_figure()
    assert "Hexagon map" in figure.alt and result.ward_map_figure().text() == ""


# ---------------------------------------------------------------- real gappy data


@pytest.fixture(scope="module")
def northumbria(shared_data, tmp_path_factory):
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import prepare_store
    from smp_analysis.report import Assessment

    folder = tmp_path_factory.mktemp("northumbria")
    params = {
        "assessment": "ntb", "title": "Newcastle", "partnership": "Safe Newcastle",
        "focus_area": {"code": "E08000021", "name": "Newcastle upon Tyne"},
        "comparison_area": {"name": "Northumbria", "police_force": "Northumbria"},
        "period": {"start": "2022-03-01", "end": "2023-02-28"},
        "data": {"store": str(folder / "s.duckdb"),
                 "police_uk": [str(shared_data / "police_uk" / "northumbria")],
                 "lsoa_lookup": str(shared_data / "geography" / "PoliceforceLSOA.csv"),
                 "census_population": str(shared_data / "geography" /
                                          "census_2011_population_hh.csv")},
        "options": {"near_repeat": {"permutations": 99}}}
    path = folder / "p.yaml"
    path.write_text(yaml.safe_dump(params))
    prepare_store(load_params(path))
    return Assessment.open(path)


def test_real_data_with_a_missing_month_and_under_three_years(northumbria):
    from smp_analysis.topics import patterns, places

    result = patterns.compute(northumbria)
    assert result.years == ("2020-21", "2021-22", "2022-23")
    # March and April 2020 precede the data, January 2022 is missing and July 2020 is marked
    # incomplete (ASB 1,368 against ~5,900 expected): 8 like-for-like months
    assert result.months_compared == 8
    assert result.seasons is None and "at least 36" in result.seasonality_summary().text()
    assert result.seasonality_table().text() == ""
    p = places.compute(northumbria)
    assert p.wards is None and "No ward lookup" in p.ward_summary().text()
    assert p.months_compared == 11  # January 2022 is missing from the previous period
    assert "Hexagon map" in p.lsoa_map_figure().alt
    assert "Burglary" in p.near_repeats
    knox = p.near_repeats["Burglary"]
    assert knox.loc[knox["distance_band"] == "same map point", "observed"].sum() > 0


def test_missing_results_say_why_once_and_show_nothing_else():
    from smp_analysis.report.markup import EMPTY
    from smp_analysis.topics.patterns import Patterns
    from smp_analysis.topics.places import Places

    places = Places(area="X", missing="The LSOA lookup assigns no LSOAs to X.")
    assert "no LSOAs" in places.ward_summary().text()
    for part in (places.ward_table(), places.ward_types_table(), places.ward_map_figure(),
                 places.lsoa_summary(), places.lsoa_table(), places.lsoa_map_figure(),
                 places.concentration_table(), places.lorenz_figure(),
                 places.persistence_summary(), places.persistence_table(),
                 places.near_repeat_summary(), places.near_repeat_table(),
                 places.map_notes_block()):
        assert part is EMPTY
    assert places.headlines() == []
    patterns = Patterns(area="X", missing="Trends need three years.")
    assert "three years" in patterns.trend_summary().text()
    for part in (patterns.trend_table(), patterns.trend_figure(), patterns.growth_table(),
                 patterns.comparison_table(), patterns.rank_summary(), patterns.rank_table(),
                 patterns.pandemic_summary(), patterns.pandemic_table(),
                 patterns.seasonality_summary(), patterns.seasonality_table(),
                 patterns.seasonality_figure()):
        assert part is EMPTY
    assert patterns.headlines() == []


@pytest.mark.parametrize("kind", ["skewed", "ties", "rounded", "signed"])
def test_fisher_jenks_breaks_are_mapclassifys(kind):
    # mapclassify (the reference implementation of Fisher-Jenks natural breaks) against the
    # vectorised one the maps use: the same bounds, ties and single-precision sums included
    import warnings

    import mapclassify

    from smp_analysis.report.maps import fisher_jenks

    rng = np.random.default_rng(len(kind))
    for n in (3, 7, 40, 151):
        values = {"skewed": rng.gamma(1, 50, n), "ties": rng.integers(0, 6, n).astype(float),
                  "rounded": np.round(rng.lognormal(3, 1, n), 1),
                  "signed": rng.normal(0, 1, n)}[kind]
        for k in range(2, min(6, len(np.unique(values))) + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Numba not installed"
                expected = mapclassify.FisherJenks(values, k=k).bins
            assert fisher_jenks(values, k).tolist() == expected.tolist(), (n, k)


def test_maps_draw_legend_scale_and_escape_names():
    import geopandas as gpd
    import shapely

    from smp_analysis.report import maps

    frame = gpd.GeoDataFrame({"name": ["$x_1$ <b>", "_Under", "C"], "rate": [10.0, 20.0, None]},
                             geometry=[shapely.box(0, 0, 1000, 1000),
                                       shapely.box(1000, 0, 2000, 1000),
                                       shapely.box(0, 1000, 1000, 2000)], crs="EPSG:27700")
    figure = maps.choropleth(frame, "rate", title="T", legend_title="per 1,000",
                             caption="<script>c</script>", alt="Map <b>alt</b>",
                             synthetic=True, label="name", labelled=2)
    html = figure._repr_html_()
    assert "&lt;script&gt;" in html and 'alt="Map &lt;b&gt;alt&lt;/b&gt;"' in html
    assert maps._nice_length(2000) == 200.0
    empty = maps.hexagon_map([], [], hexagon_metres=400, title="T", caption="c", alt="none",
                             synthetic=False)
    assert empty.png.startswith(b"\x89PNG")


def test_cached_monthly_counts_are_the_stores_answers(northumbria):
    # real gappy data: every span (inside, across the edges of and outside the data) and set of
    # areas gets exactly the frame the query returns, from one query per areas and level
    import datetime as dt

    from smp_analysis.store import queries

    sa = northumbria
    spans = [(dt.date(1900, 1, 1), sa.current.end), (sa.previous.start, sa.previous.end),
             (dt.date(2022, 5, 15), dt.date(2022, 8, 1)), (dt.date(2031, 1, 1), dt.date(2031, 12, 31))]
    for areas in ([sa.focus_code], list(sa.districts.index), None):
        for start, end in spans:
            got = sa.monthly(start=start, end=end, area_codes=areas)
            pd.testing.assert_frame_equal(got, queries.monthly_counts(
                sa.con, start=start, end=end, area_codes=areas), check_exact=True)
