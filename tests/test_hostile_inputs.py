"""Hostile and careless police.uk inputs, through the command line as a user meets them.

Each test builds a few tiny files, runs `smp ingest police-uk` in-process and checks the
message, the exit code, the reconciliation (rows read = loaded + quarantined, and the store
holds exactly the loaded rows) and that the good files beside the bad one still load.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pytest
from _hostile import HEADER, crime_row, files_in, smp, store_dump, store_rows, street_file

from smp_analysis.sources._csv import MAX_FIELD_CHARS

PROJECT = Path(__file__).resolve().parents[1]


def _ingest(capsys, tmp_path, *paths):
    return smp(capsys, "ingest", "police-uk", *paths, "--store", tmp_path / "s.duckdb")


def _report(tmp_path) -> dict:
    return json.loads((tmp_path / "ingest-report.json").read_text())


def _assert_reconciles(tmp_path) -> int:
    """Every file's rows read = loaded + quarantined (in this run's report and in the store's
    register), and the store holds exactly the registered loaded rows; returns that count."""
    import duckdb

    for f in _report(tmp_path)["files"]:
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"], f
    rows = store_rows(tmp_path / "s.duckdb")
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        register = con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM "
                               "source_files WHERE kind = 'police_uk'").fetchall()
    finally:
        con.close()
    assert all(read == loaded + quarantined for read, loaded, quarantined in register)
    assert rows == sum(loaded for _, loaded, _ in register)
    return rows


# --------------------------------------------------------------------------- one force-month


def test_two_downloads_of_a_force_month_load_once_and_the_newer_wins(capsys, tmp_path):
    old = street_file(tmp_path / "june", 30, "2023-06", mtime=1_700_000_000)
    new = street_file(tmp_path / "june-again", 20, "2023-06", mtime=1_700_100_000)
    other = street_file(tmp_path / "june", 7, "2023-05")
    run = _ingest(capsys, tmp_path, tmp_path / "june", tmp_path / "june-again")
    assert run.code == 0
    assert _assert_reconciles(tmp_path) == 20 + 7
    assert f"Kent Police 2023-06: kept {new}; replaced {old} (30 rows)" in run.out
    assert "kept the newer file" in run.out
    statuses = {f["path"]: f["status"] for f in _report(tmp_path)["files"]}
    assert statuses == {str(old): "superseded", str(new): "loaded", str(other): "loaded"}
    # given in the other order, and again: the same file is kept, nothing is parsed twice
    run = _ingest(capsys, tmp_path, tmp_path / "june-again", tmp_path / "june")
    assert run.code == 0 and _assert_reconciles(tmp_path) == 27
    statuses = {f["path"]: f["status"] for f in _report(tmp_path)["files"]}
    assert statuses[str(old)] == "superseded" and statuses[str(new)] == "unchanged"


def test_an_older_download_arriving_later_does_not_replace_the_newer(capsys, tmp_path):
    street_file(tmp_path / "new", 20, "2023-06", mtime=1_700_100_000)
    assert _ingest(capsys, tmp_path, tmp_path / "new").code == 0
    old = street_file(tmp_path / "old", 30, "2023-06", mtime=1_700_000_000)
    run = _ingest(capsys, tmp_path, tmp_path / "old")
    assert run.code == 0 and _assert_reconciles(tmp_path) == 20
    assert f"{old}: superseded" in run.out


def test_a_renamed_and_gzipped_copy_is_the_same_force_month(capsys, tmp_path):
    plain = street_file(tmp_path / "a", 12, "2023-06", mtime=1_700_000_000)
    packed = tmp_path / "b" / "kent june.csv.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    os.utime(packed, (1_700_000_500, 1_700_000_500))
    run = _ingest(capsys, tmp_path, tmp_path / "a", tmp_path / "b")
    assert run.code == 0 and _assert_reconciles(tmp_path) == 12
    assert "duplicate" in run.out  # same content: loaded once


def test_equal_times_keep_the_path_that_sorts_later_whatever_the_order(capsys, tmp_path):
    a = street_file(tmp_path / "a", 5, "2023-06", mtime=1_700_000_000)
    b = street_file(tmp_path / "b", 6, "2023-06", mtime=1_700_000_000)
    run = _ingest(capsys, tmp_path, b, a)
    assert run.code == 0 and _assert_reconciles(tmp_path) == 6
    assert f"kept {b}; replaced {a}" in run.out and "path sorts later" in run.out


def test_a_newer_month_replaces_only_that_month_of_a_multi_month_extract(capsys, tmp_path):
    extract = tmp_path / "extract" / "kent 2023.csv"
    extract.parent.mkdir()
    extract.write_text(HEADER + "\n" + "\n".join(
        [crime_row(i, "2023-05") for i in range(10)] + [crime_row(i, "2023-06")
                                                        for i in range(10)]) + "\n")
    os.utime(extract, (1_700_000_000, 1_700_000_000))
    street_file(tmp_path / "june", 4, "2023-06", mtime=1_700_100_000, start=100)
    run = _ingest(capsys, tmp_path, tmp_path / "extract", tmp_path / "june")
    assert run.code == 0
    assert _assert_reconciles(tmp_path) == 10 + 4
    assert "Kent Police 2023-06" in run.out and "(10 rows)" in run.out


def test_two_forces_in_one_month_are_two_force_months(capsys, tmp_path):
    street_file(tmp_path / "p", 5, "2023-06", force="Kent Police")
    street_file(tmp_path / "p", 6, "2023-06", force="Essex Police")
    run = _ingest(capsys, tmp_path, tmp_path / "p")
    assert run.code == 0 and _assert_reconciles(tmp_path) == 11
    assert "replaced" not in run.out


# --------------------------------------------------------------------------- every entry named


def test_every_entry_is_loaded_or_named_with_its_reason(capsys, tmp_path):
    folder = tmp_path / "downloads"
    street_file(folder, 3, "2019-01")
    upper = street_file(folder, 4, "2019-02", name="2019-02-KENT-STREET.CSV")
    packed = folder / "2019-03-kent-street.csv.gz"
    packed.write_bytes(gzip.compress(street_file(tmp_path / "src", 5, "2019-03").read_bytes()))
    street_file(folder, 6, "2019-04", name="kent april.csv")
    (folder / "README.md").write_text("notes")
    (folder / "2019-04.zip").write_bytes(b"PK\x03\x04")
    (folder / "2019-01-kent-outcomes.csv").write_text("Crime ID,Month\n")
    (folder / "lookup.csv").write_text("LSOA code,Ward\nE01024321,X\n")
    run = _ingest(capsys, tmp_path, folder)
    assert run.code == 0, run.text
    assert _assert_reconciles(tmp_path) == 3 + 4 + 5 + 6
    statuses = {os.path.basename(f["path"]): f["status"] for f in _report(tmp_path)["files"]}
    assert statuses[upper.name] == "loaded" and statuses[packed.name] == "loaded"
    assert statuses["kent april.csv"] == "loaded"
    for name, reason in [("README.md", "not a CSV file"), ("2019-04.zip", "unzip it first"),
                         ("2019-01-kent-outcomes.csv", "outcomes file"),
                         ("lookup.csv", "not a police.uk street-level file")]:
        assert statuses[name] == "skipped"
        assert f"{folder / name}: " in run.out and reason in run.out


def test_empty_folder_is_an_error(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    run = _ingest(capsys, tmp_path, tmp_path / "empty")
    assert run.code == 2 and "the folder is empty" in run.err
    assert not (tmp_path / "s.parts").exists() or not list((tmp_path / "s.parts").iterdir())


def test_folder_without_any_csv_is_an_error_naming_what_it_holds(capsys, tmp_path):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "2019-01.zip").write_bytes(b"PK")
    run = _ingest(capsys, tmp_path, tmp_path / "f")
    assert run.code == 2
    assert "holds no .csv or .csv.gz file" in run.err and "unzip it first" in run.err


def test_one_empty_folder_among_good_ones_fails_but_the_others_load(capsys, tmp_path):
    street_file(tmp_path / "good", 3)
    (tmp_path / "empty").mkdir()
    run = _ingest(capsys, tmp_path, tmp_path / "good", tmp_path / "empty")
    assert run.code == 1 and "the folder is empty" in run.err
    assert _assert_reconciles(tmp_path) == 3


# --------------------------------------------------------------------------- row problems


def test_a_50_mb_field_quarantines_one_row_not_the_month(capsys, tmp_path):
    rows = [crime_row(i) for i in range(500)]
    fields = rows[10].split(",")
    fields[6] = "x" * (50 << 20)
    rows[10] = ",".join(fields)
    path = tmp_path / "p" / "2019-01-kent-street.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    street_file(tmp_path / "p", 5, "2019-02")
    run = _ingest(capsys, tmp_path, tmp_path / "p")
    assert run.code == 0
    assert _assert_reconciles(tmp_path) == 499 + 5
    (entry,) = [f for f in _report(tmp_path)["files"] if f["path"] == str(path)]
    assert entry["rows_quarantined"] == 1
    assert "52,428,800 characters long" in next(iter(entry["reasons"]))
    assert len(store_dump(tmp_path / "s.duckdb")) < 5 << 20  # the field was not stored


def test_a_long_field_the_fast_reader_accepts_is_still_quarantined(capsys, tmp_path):
    rows = [crime_row(i) for i in range(20)]
    rows[3] = rows[3].replace("On or near X", "y" * (MAX_FIELD_CHARS + 1))
    path = tmp_path / "p" / "2019-01-kent-street.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    assert _ingest(capsys, tmp_path, path).code == 0
    assert _assert_reconciles(tmp_path) == 19
    assert any("Location field is longer" in r for f in _report(tmp_path)["files"]
               for r in f["reasons"])


def test_an_unclosed_quote_is_one_quarantined_row_with_its_cause(capsys, tmp_path):
    rows = [crime_row(i) for i in range(300)]
    rows[5] = rows[5].replace("On or near X", '"On or near X')
    path = tmp_path / "p" / "2019-01-kent-street.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    run = _ingest(capsys, tmp_path, path)
    assert run.code == 0
    (entry,) = _report(tmp_path)["files"]
    assert "is not closed until line" in next(iter(entry["reasons"]))
    assert _assert_reconciles(tmp_path) == 5


@pytest.mark.parametrize("name", ["2099-01-kent-street.csv", "future extract.csv"])
def test_a_future_month_is_quarantined_and_later_runs_still_work(capsys, tmp_path, name):
    path = tmp_path / "p" / name
    path.parent.mkdir()
    path.write_text(HEADER + "\n" + crime_row(1, "2099-01") + "\n")
    good = street_file(tmp_path / "p", 4, "2019-01")
    run = _ingest(capsys, tmp_path, tmp_path / "p")
    assert run.code == 0, run.text
    assert _assert_reconciles(tmp_path) == 4
    entry = next(f for f in _report(tmp_path)["files"] if f["path"] == str(path))
    assert entry["rows_quarantined"] == 1 and "in the future" in next(iter(entry["reasons"]))
    path.unlink()
    street_file(tmp_path / "p", 2, "2019-02")
    run = _ingest(capsys, tmp_path, tmp_path / "p")
    assert run.code == 0 and str(good.name) in run.out
    assert smp(capsys, "store", "check", "--store", tmp_path / "s.duckdb").code == 0


def test_a_header_repeated_mid_file_with_a_bom_is_one_reason(capsys, tmp_path):
    path = tmp_path / "p" / "2019-01-kent-street.csv"
    path.parent.mkdir()
    first = "\n".join(crime_row(i) for i in range(5))
    second = "\n".join(crime_row(i) for i in range(5, 9))
    path.write_text(f"{HEADER}\n{first}\n\ufeff{HEADER}\n{second}\n", encoding="utf-8")
    assert _ingest(capsys, tmp_path, path).code == 0
    (entry,) = _report(tmp_path)["files"]
    assert entry["rows_quarantined"] == 1
    assert entry["reasons"] == {
        "line repeats the header row, with a byte-order mark (BOM, U+FEFF) before it: several "
        "files were joined together (split them, or delete this line)": 1}
    assert _assert_reconciles(tmp_path) == 9


def test_cr_only_line_endings_load(capsys, tmp_path):
    path = tmp_path / "p" / "2019-01-kent-street.csv"
    path.parent.mkdir()
    path.write_bytes(street_file(tmp_path / "src", 6).read_bytes().replace(b"\n", b"\r"))
    run = _ingest(capsys, tmp_path, path.parent)
    assert run.code == 0 and _assert_reconciles(tmp_path) == 6


# --------------------------------------------------------------------------- unreadable entries


def test_broken_links_loops_and_folders_named_like_csv_are_reported_per_entry(capsys, tmp_path):
    folder = tmp_path / "p"
    good = street_file(folder, 3)
    (folder / "2019-02-kent-street.csv").symlink_to(folder / "missing.csv")
    (folder / "2019-03-kent-street.csv").symlink_to(folder / "2019-03-kent-street.csv")
    (folder / "2019-04-kent-street.csv").mkdir()
    street_file(folder / "2019-04-kent-street.csv", 2, "2019-04")
    before = files_in(folder)
    run = _ingest(capsys, tmp_path, folder)
    assert run.code == 1
    assert "2019-02-kent-street.csv: a broken symbolic link" in run.err
    assert "2019-03-kent-street.csv: a symbolic link loop" in run.err
    assert "a folder named like a CSV file, not a file: its contents were searched" in run.out
    assert _assert_reconciles(tmp_path) == 3 + 2
    assert good.name in run.out and files_in(folder) == before


def test_permission_denied_is_reported_for_that_file_only(capsys, tmp_path, monkeypatch):
    import smp_analysis.store.parts as parts

    folder = tmp_path / "p"
    street_file(folder, 3, "2019-01")
    locked = street_file(folder, 4, "2019-02")
    real = parts.read_input

    def read_input(path):
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(parts, "read_input", read_input)
    run = _ingest(capsys, tmp_path, folder)
    assert run.code == 1
    assert f"{locked}: cannot be read: permission denied" in run.err
    assert _assert_reconciles(tmp_path) == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_on_disk(capsys, tmp_path):
    folder = tmp_path / "p"
    street_file(folder, 3, "2019-01")
    locked = street_file(folder, 4, "2019-02")
    locked.chmod(0)
    run = _ingest(capsys, tmp_path, folder)
    assert run.code == 1 and "permission denied" in run.err
    assert _assert_reconciles(tmp_path) == 3


def test_a_named_pipe_is_skipped_without_hanging(capsys, tmp_path):
    folder = tmp_path / "p"
    street_file(folder, 3)
    os.mkfifo(folder / "2019-02-kent-street.csv")
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault(
        "run", _ingest(capsys, tmp_path, folder)), daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():  # unblock the pipe so the test process can end
        with open(folder / "2019-02-kent-street.csv", "wb"):
            pass
        pytest.fail("ingest blocked on a named pipe")
    run = result["run"]
    assert run.code == 0
    assert "2019-02-kent-street.csv: a named pipe (FIFO), not a regular file" in run.out
    assert _assert_reconciles(tmp_path) == 3


def test_a_damaged_gzip_file_fails_alone(capsys, tmp_path):
    street_file(tmp_path / "p", 3)
    (tmp_path / "p" / "2019-02-kent-street.csv.gz").write_bytes(b"\x1f\x8b\x08junk")
    run = _ingest(capsys, tmp_path, tmp_path / "p")
    assert run.code == 1 and "not a readable gzip file" in run.err
    assert _assert_reconciles(tmp_path) == 3


# --------------------------------------------------------------------------- header diagnosis


DISGUISED = [
    ("semicolons", HEADER.replace(",", ";"), "separated by semicolons, not commas"),
    ("tabs", HEADER.replace(",", "\t"), "separated by tabs, not commas"),
    ("lower case", HEADER.lower(), "differ from the expected ones only in upper/lower case"),
    ("snake case", HEADER.lower().replace(" ", "_"), "only in upper/lower case, spaces or"),
    ("excel sep", "sep=,\n" + HEADER, "line 1 is Excel's 'sep=,' hint, not the header"),
    ("bom inside header", HEADER.replace("Month", "\ufeffMonth"), "byte-order mark (BOM"),
    ("title line", "Kent crime, January\n" + HEADER, "the header is on line 2, not line 1"),
    ("quoted header", f'"{HEADER}"', "the whole header row is one quoted field"),
]


@pytest.mark.parametrize("case, header, sentence", DISGUISED, ids=[d[0] for d in DISGUISED])
def test_disguised_header_is_diagnosed_in_one_sentence(capsys, tmp_path, case, header,
                                                       sentence):
    folder = tmp_path / "p"
    good = street_file(folder, 3, "2019-01")
    bad = folder / "2019-02-kent-street.csv"
    delimiter = {"semicolons": ";", "tabs": "\t"}.get(case, ",")
    bad.write_text(header + "\n" + crime_row(1, "2019-02").replace(",", delimiter) + "\n")
    run = _ingest(capsys, tmp_path, folder)
    assert run.code == 1
    errors = [line for line in run.err.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and sentence in errors[0] and str(bad) in errors[0]
    assert "expected column is missing" not in run.err
    assert _assert_reconciles(tmp_path) == 3 and good.name in run.out


def test_a_duplicated_column_is_named(capsys, tmp_path):
    bad = tmp_path / "p" / "2019-01-kent-street.csv"
    bad.parent.mkdir()
    bad.write_text(HEADER + ",Month\n" + crime_row(1) + ",2019-01\n")
    run = _ingest(capsys, tmp_path, bad)
    assert run.code == 1 and "column 'Month': the column appears more than once" in run.err


def test_the_pipeline_names_each_bad_entry_and_loads_the_rest(tmp_path, demo_dir):
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import PrepareError, prepare_store

    folder = tmp_path / "p"
    street_file(folder, 3, "2014-01")
    (folder / "2014-02-kent-street.csv").symlink_to(folder / "gone.csv")
    text = (PROJECT / "params" / "2015-16.yaml").read_text()
    text = text.replace("../data/smp-demo.duckdb", str(tmp_path / "s.duckdb"))
    text = text.replace("../data/demo/police_uk", str(folder))
    text = text.replace("../data/demo", str(demo_dir))
    params_path = tmp_path / "params.yaml"
    params_path.write_text(text)
    with pytest.raises(PrepareError) as info:
        prepare_store(load_params(params_path))
    assert f"{folder / '2014-02-kent-street.csv'}: a broken symbolic link" in str(info.value)
    assert store_rows(tmp_path / "s.duckdb") == 3
