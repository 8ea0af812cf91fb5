"""Partner-indicator files: reader, quarantine, store, CLI, params and pipeline."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from smp_analysis import store
from smp_analysis.cli import main
from smp_analysis.errors import InputError, ParamsError
from smp_analysis.params import load_params
from smp_analysis.sources.indicators import read_indicators
from smp_analysis.store import indicators as indicator_store
from smp_analysis.store import queries

PROJECT = Path(__file__).resolve().parents[1]
HEADER = ("indicator_id,indicator_label,area_code,area_name,period_start,period_end,numerator,"
          "denominator,per,polarity,kind,predicted,source")
GOOD = [
    "assault,Assault admissions,E07000110,Maidstone,2023-04-01,2024-03-31,65,171000,10000,"
    "lower,rate,,HES",
    'assault,Assault admissions,E07000111,Sevenoaks,2023-04,2024-03,"1,040",121000,10000,'
    "lower,rate,,HES",
    "needles,Needle finds,E07000110,Maidstone,01/04/2023,31/03/2024,1250,,,lower,count,,Council",
    "reoff,Reoffending,E07000110,Maidstone,2022-01-01,2022-12-31,60,602,100,lower,"
    "observed vs predicted,7.86,MoJ",
    "safe,Feel safe,E07000110,Maidstone,2023-09-01,2023-11-30,368,413,100,Higher is better,"
    "proportion,,Survey",
]


def write(tmp_path: Path, lines: list[str], name: str = "ind.csv", header: str = HEADER,
          newline: str = "\n", bom: bool = False) -> Path:
    path = tmp_path / name
    text = newline.join([header, *lines]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_valid_rows_are_typed(tmp_path):
    result = read_indicators(write(tmp_path, GOOD, newline="\r\n", bom=True))
    rows = result.rows
    assert result.rows_read == 5 and result.rows_loaded == 5 and result.rows_quarantined == 0
    assert rows.loc[1, "numerator"] == 1040  # thousands separator
    assert str(rows.loc[1, "period_end"]) == "2024-03-31"  # YYYY-MM end -> last day
    assert str(rows.loc[2, "period_start"]) == "2023-04-01"  # DD/MM/YYYY
    assert rows.loc[2, "per"] == 1 and pd.isna(rows.loc[2, "denominator"])
    assert rows.loc[3, "kind"] == "observed_vs_predicted" and rows.loc[3, "predicted"] == 7.86
    assert rows.loc[4, "polarity"] == "higher"
    assert list(rows["line"]) == [2, 3, 4, 5, 6]


def test_headers_are_matched_loosely_and_extra_columns_ignored(tmp_path):
    header = ("Indicator ID, Indicator Label ,Area-Code,Period Start,Period End,Numerator,"
              "Denominator,Per,Polarity,Kind,Source,Notes")
    line = "a1,A,E07000110,2023-01-01,2023-12-31,5,1000,1000,lower,rate,X,anything"
    result = read_indicators(write(tmp_path, [line], header=header))
    assert result.rows_loaded == 1 and pd.isna(result.rows.loc[0, "area_name"])


@pytest.mark.parametrize("line, column, reason", [
    ("a,A,E0700011,X,2023-01-01,2023-12-31,5,1000,1000,lower,rate,,S", "area_code", "GSS"),
    ("a,A,E07000110,X,2023-13-01,2023-12-31,5,1000,1000,lower,rate,,S", "period_start", "YYYY"),
    ("a,A,E07000110,X,2023-01-01,2022-12-31,5,1000,1000,lower,rate,,S", "period_end", "before"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,*,1000,1000,lower,rate,,S", "numerator",
     "suppressed"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5.5,1000,1000,lower,rate,,S", "numerator", "whole"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,0,1000,lower,rate,,S", "denominator", "> 0"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,,1000,lower,rate,,S", "denominator", "needed"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,1000,500,lower,rate,,S", "per", "one of"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,1000,1000,best,rate,,S", "polarity", "lower"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,1000,1000,lower,ratio,,S", "kind", "count"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,50,10,100,lower,proportion,,S", "numerator",
     "larger"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,10,1000,lower,proportion,,S", "per", "100"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,10,100,lower,observed_vs_predicted,,S",
     "predicted", "needed"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,,100,lower,count,,S", "per", "count"),
    ("a,A,E07000110,X,2023-01-01,2023-12-31,5,1000,1000,lower,rate,,", "source", "empty"),
    ("a b,A,E07000110,X,2023-01-01,2023-12-31,5,1000,1000,lower,rate,,S", "indicator_id",
     "letters"),
])
def test_each_bad_row_is_quarantined_with_its_reason(tmp_path, line, column, reason):
    result = read_indicators(write(tmp_path, [GOOD[0], line]))
    assert result.rows_loaded == 1 and result.rows_quarantined == 1
    q = result.quarantine
    assert (q["line"] == 3).all() and column in set(q["column"])
    assert reason in " ".join(q["reason"])
    assert q["file"].iloc[0].endswith("ind.csv")


def test_definitions_must_agree_and_rows_must_not_repeat(tmp_path):
    lines = [GOOD[0],
             GOOD[0].replace("Assault admissions", "Assault"),  # other label
             GOOD[0].replace(",10000,", ",1000,"),  # other per
             GOOD[0],  # repeat
             "short,row"]
    result = read_indicators(write(tmp_path, lines))
    assert result.rows_loaded == 1 and result.rows_read == 5
    reasons = dict(zip(result.quarantine["line"], result.quarantine["reason"], strict=True))
    assert "differs from line 2" in reasons[3] and "indicator_label" in reasons[3]
    assert "per differs from line 2" in reasons[4]
    assert "repeat line 2" in reasons[5]
    assert "wrong number of fields" in reasons[6]


def test_unusable_files_name_every_problem(tmp_path):
    with pytest.raises(InputError) as err:
        read_indicators(write(tmp_path, ["1,2"], header="indicator_id,area"))
    text = str(err.value)
    for column in ("indicator_label", "area_code", "period_start", "numerator", "source"):
        assert f"column '{column}': expected column is missing" in text
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_indicators(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\n").encode() + "a,Caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_indicators(latin)


def test_header_only_file_reads_nothing(tmp_path):
    result = read_indicators(write(tmp_path, []))
    assert result.rows_read == 0 and result.rows_loaded == 0


# ---------------------------------------------------------------- store


def test_load_is_incremental_and_replaces_a_changed_file(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    path = write(tmp_path, GOOD + ["x,X,bad,X,2023-01-01,2023-12-31,1,1,1,lower,rate,,S"])
    first = indicator_store.load_indicators(con, path)
    assert (first.status, first.rows_read, first.rows_loaded, first.rows_quarantined) == \
        ("loaded", 6, 5, 1)
    assert indicator_store.load_indicators(con, path).status == "unchanged"
    write(tmp_path, GOOD[:2])
    again = indicator_store.load_indicators(con, path)
    assert again.status == "replaced" and again.rows_loaded == 2
    rows = queries.indicator_rows(con)
    assert len(rows) == 2 and set(rows["indicator_id"]) == {"assault"}
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert indicator_store.load_indicators(con, copy).status == "duplicate"


def test_rows_clashing_with_another_file_are_quarantined(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    indicator_store.load_indicators(con, write(tmp_path, GOOD[:1], name="a.csv"))
    other = write(tmp_path, [GOOD[0].replace(",65,", ",66,"), GOOD[3]], name="b.csv")
    outcome = indicator_store.load_indicators(con, other)
    assert outcome.rows_loaded == 1 and outcome.rows_quarantined == 1
    third = write(tmp_path, [GOOD[1].replace(",10000,lower", ",1000,lower")], name="c.csv")
    assert indicator_store.load_indicators(con, third).rows_quarantined == 1
    reasons = [r for (r,) in con.execute(
        "SELECT reason FROM quarantine ORDER BY file_id").fetchall()]
    assert "already loaded from a.csv" in reasons[0]
    assert reasons[1] == "per differs from a.csv for indicator assault ('10000')"
    assert len(queries.indicator_rows(con, paths=[other])) == 1
    assert len(queries.indicator_rows(con, paths=[tmp_path / "a.csv"])) == 1


def test_query_without_indicators_is_empty(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    assert queries.indicator_rows(con).empty and queries.indicator_failures(con).empty


def test_cli_ingest_indicators(tmp_path, capsys):
    path = write(tmp_path, GOOD + ["x,X,bad,X,2023-01-01,2023-12-31,1,1,1,lower,rate,,S"])
    bad = write(tmp_path, ["1"], name="bad.csv", header="nothing")
    code = main(["ingest", "indicators", str(bad), str(path), "--store",
                 str(tmp_path / "s.duckdb")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "ind.csv: loaded; 6 rows read, 5 loaded, 1 quarantined" in out
    assert "line 7, column 'area_code'" in out
    assert "bad.csv" in err and "expected column is missing" in err
    assert main(["ingest", "indicators", str(tmp_path / "none.csv")]) == 2


# ---------------------------------------------------------------- params and pipeline


def _params(tmp_path: Path, extra: str, indicators: Path | None) -> Path:
    raw = yaml.safe_load((PROJECT / "params" / "2023-24.yaml").read_text())
    # the demo's targets and priorities name the demo's indicators, not these test files
    for key in ("comparison_groups", "targets", "priorities"):
        raw.pop(key, None)
    raw["data"] = {"store": str(tmp_path / "s.duckdb"), "police_uk": [str(tmp_path)],
                   "lsoa_lookup": str(tmp_path / "ind.csv"),
                   "census_population": str(tmp_path / "ind.csv")}
    if indicators is not None:
        raw["data"]["indicators"] = [str(indicators)]
    raw.update(yaml.safe_load(textwrap.dedent(extra)) or {})
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


TARGETS = """
comparison_groups:
  - name: KCC
    districts: ["E07000110", "E07000111"]
targets:
  - indicator: assault
    kind: best_n_average
    n: 1
    group: KCC
    baseline: {start: 2021-04-01, end: 2022-03-31}
    target_date: 2025-03-31
  - indicator: needles
    kind: value
    value: 1200
    baseline: {start: 2021-04-01, end: 2022-03-31}
    target_date: 2025-03-31
"""


def test_params_accept_groups_and_targets(tmp_path):
    params = load_params(_params(tmp_path, TARGETS, write(tmp_path, GOOD)))
    assert params.comparison_groups[0].districts == ["E07000110", "E07000111"]
    assert [t.kind for t in params.targets] == ["best_n_average", "value"]


def test_unknown_indicator_in_targets_names_file_and_key(tmp_path):
    text = TARGETS.replace("indicator: needles", "indicator: syringes")
    path = _params(tmp_path, text, write(tmp_path, GOOD))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert "p.yaml" in message and "targets[1].indicator" in message
    assert "'syringes'" in message and "assault" in message


def test_params_are_read_once_a_version_and_again_after_an_edit(tmp_path, monkeypatch):
    """Every chapter loads the params: the params and indicator files are parsed once while
    their bytes are unchanged, and an edit to either is seen by the next load."""
    from smp_analysis import params_yaml
    from smp_analysis.sources import indicators as indicator_source

    reads = {"indicators": 0, "yaml": 0}

    def counted(name, read):
        def wrapper(*args, **kwargs):
            reads[name] += 1
            return read(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(indicator_source, "_read_table",
                        counted("indicators", indicator_source._read_table))
    monkeypatch.setattr(params_yaml, "_LOADER", counted("yaml", params_yaml._LOADER))
    text = TARGETS.replace("indicator: needles", "indicator: syringes")
    indicators = write(tmp_path, GOOD)
    path = _params(tmp_path, text, indicators)
    for _ in range(3):
        with pytest.raises(ParamsError, match="'syringes'"):
            load_params(path)
    assert reads == {"indicators": 1, "yaml": 1}
    # the indicator file gains the indicator the target names: accepted at once
    write(tmp_path, [*GOOD, GOOD[2].replace("needles", "syringes")])
    assert [t.indicator for t in load_params(path).targets] == ["assault", "syringes"]
    # the params file is edited to the same size and its times are put back: still seen
    before = path.stat()
    path.write_text(path.read_text().replace("value: 1200", "value: 1300"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load_params(path).targets[1].value == 1300
    assert reads == {"indicators": 2, "yaml": 2}
    # a caller changing what it was given does not change what the next caller gets
    first = params_yaml._read_yaml(path)[0]
    first["targets"].clear()
    assert len(params_yaml._read_yaml(path)[0]["targets"]) == 2


@pytest.mark.parametrize("change, expected", [
    (("    n: 1\n", ""), "needs 'n'"),
    (("group: KCC", "group: MSG"), "unknown comparison group 'MSG'"),
    (("target_date: 2025-03-31", "target_date: 2021-03-31"), "target_date must be after"),
    (("kind: value", "kind: forecast"), "targets.1.kind"),
    (("value: 1200", "value: lots"), "targets.1.value"),
])
def test_target_params_are_validated(tmp_path, change, expected):
    text = TARGETS.replace(*change, 1)
    with pytest.raises(ParamsError, match=expected):
        load_params(_params(tmp_path, text, write(tmp_path, GOOD)))


def test_missing_indicator_file_is_reported(tmp_path):
    with pytest.raises(ParamsError, match=r"data.indicators\[0\]: file or folder not found"):
        load_params(_params(tmp_path, "", tmp_path / "nope.csv"))


def test_pipeline_keeps_going_and_records_an_unusable_file(tmp_path):
    from smp_analysis.pipeline import load_indicator_files

    con = store.connect(tmp_path / "s.duckdb")
    bad = write(tmp_path, ["1"], name="bad.csv", header="nothing")
    good = write(tmp_path, GOOD)
    outcomes = load_indicator_files(con, [bad, good])
    assert [o.status for o in outcomes] == ["failed", "loaded"]
    failures = queries.indicator_failures(con)
    assert failures["path"].tolist() == [str(bad.resolve())]
    assert "expected column is missing" in failures["error"].iloc[0]
    bad.write_text(HEADER + "\n" + GOOD[0] + "\n")
    load_indicator_files(con, [bad])
    assert queries.indicator_failures(con).empty
