"""Batch runs: every params file's inputs ingested, one failure never stops the others, a table
of outcomes, exit 1 on any failure; and every district of the demo county for 2023-24."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext
import pytest
import yaml

from smp_analysis import store
from smp_analysis.cli import main
from smp_analysis.demo import DISTRICTS
from smp_analysis.report.build import build_appendices
from smp_analysis.store import queries

PROJECT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _params(demo_dir: Path, folder: Path, name: str, months: list[str], **changes) -> Path:
    """A params file for Maidstone reading only `months` of the demo (copied into `folder`;
    no months: the folder of the params file called 'late')."""
    police = folder / f"police-{name}" if months else folder / "police-late"
    for month in months:
        shutil.copytree(demo_dir / "police_uk" / month, police / month)
    raw = {
        "assessment": name, "title": f"Test {name}", "partnership": "Test",
        "focus_area": {"code": "E07000110", "name": "Maidstone"},
        "comparison_area": {"name": "Kent", "police_force": "Kent"},
        "period": {"start": "2014-04-01", "end": "2014-06-30"},
        "data": {"store": str(folder / "shared.duckdb"), "police_uk": [str(police)],
                 "lsoa_lookup": str(demo_dir / "geography" / "PoliceforceLSOA.csv"),
                 "census_population": str(demo_dir / "geography" /
                                          "census_2011_population_hh.csv")}}
    raw.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_shared_store_failures_and_the_outcome_table(demo_dir, one_chapter, tmp_path, capsys):
    early = _params(demo_dir, tmp_path, "early", ["2014-01", "2014-02", "2014-03"])
    late = _params(demo_dir, tmp_path, "late", ["2014-04", "2014-05", "2014-06"])
    unknown = _params(demo_dir, tmp_path, "unknown", [],
                      focus_area={"code": "E07999999", "name": "Nowhere"})
    same_id = _params(demo_dir, tmp_path, "again", [], assessment="late")
    broken = tmp_path / "broken.yaml"
    broken.write_text("assessment: [unclosed\n")
    files = [early, broken, late, unknown, same_id]
    outcomes = build_appendices(files, out_dir=tmp_path / "out", notebooks_dir=one_chapter,
                                workers=1)
    assert [o.ok for o in outcomes] == [True, False, True, False, False]
    assert "invalid parameters" in outcomes[1].error and "YAML" in outcomes[1].error
    assert "E07999999" in outcomes[3].error and "01_overview" in outcomes[3].error
    assert "also writes late.html" in outcomes[4].error
    # both params files' inputs are in the shared store, although they share it
    con = store.connect(tmp_path / "shared.duckdb", read_only=True)
    try:
        police = queries.input_files(con)
        assert (police["kind"] == "police_uk").sum() == 6
    finally:
        con.close()
    assert "April 2014 to June 2014" in outcomes[2].html.read_text()
    # the command line: the same table, exit 1
    code = main(["appendix", "--params", str(early), str(broken), "--out",
                 str(tmp_path / "cli"), "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "early" in out and "built" in out and "FAILED" in out and "1 failed of 2" in out
    assert "broken.yaml" in err


def test_parallel_batch_keeps_going_after_a_failure(demo_dir, one_chapter, tmp_path):
    good = _params(demo_dir, tmp_path, "late", ["2014-04", "2014-05", "2014-06"])
    bad = _params(demo_dir, tmp_path, "bad", [], focus_area={"code": "E07999999",
                                                             "name": "Nowhere"})
    outcomes = build_appendices([bad, good], out_dir=tmp_path / "out",
                                notebooks_dir=one_chapter, workers=2)
    assert [o.ok for o in outcomes] == [False, True]
    assert outcomes[1].html.exists() and "E07999999" in outcomes[0].error


def _run_chapters(params_file: Path, chapters: list[str]) -> None:
    """Run the code cells of chapter notebooks in this process (what papermill runs, without
    a kernel): every topic and presentation call the appendix makes."""
    for stem in chapters:
        notebook = jupytext.read(PROJECT / "notebooks" / f"{stem}.py")
        namespace = {"params_file": str(params_file),
                     "display": lambda block: block._repr_html_() if hasattr(
                         block, "_repr_html_") else None}
        for cell in notebook.cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                exec(cell.source, namespace)  # noqa: S102 - the project's own notebooks


def test_every_district_of_the_demo_county_for_2023_24(demo_params, tmp_path):
    """One params file per district, 2023-24, sharing the session's demo store. The chapters
    that depend on the district (overview, rates, domestic abuse: the victim extract covers
    Maidstone only, the others say so) run for every district; every chapter runs for Maidstone
    and Ashford (data quality and recording practice are force-wide, and anticipated volumes and
    the key findings cost the most; benchmarks/county_batch.py builds all 13 appendices)."""
    base = yaml.safe_load((PROJECT / "params" / "2023-24.yaml").read_text())
    session = yaml.safe_load(demo_params.read_text())
    heavy = {"E07000110", "E07000105"}
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import prepare_store

    for i, district in enumerate(DISTRICTS):
        raw = dict(base, assessment=f"2023-24-{district.code}",
                   focus_area={"code": district.code, "name": district.name},
                   data=session["data"])
        path = tmp_path / f"{district.code}.yaml"
        path.write_text(yaml.safe_dump(raw))
        if i == 0:
            prepare_store(load_params(path))
        chapters = ["02_overview", "03_rates", "06_domestic_abuse"]
        if district.code in heavy:
            chapters += ["04_data_quality", "05_expected_volumes", "07_recording_practice",
                         "00_summary"]
        _run_chapters(path, chapters)
