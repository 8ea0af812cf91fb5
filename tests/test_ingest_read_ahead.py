"""The store's two-stage reading (load ahead, then finish) and its pandas-free clean path give
the store exactly what the careful path (pandera, one file at a time) gives: the same rows with
the same line numbers, the same quarantine, the same outcomes and messages, on real files and
on hostile ones (bad rows, wrong headers, BOM, gzip, blank lines, quoted commas and line
breaks, CRLF and CR line ends, joined files, empty and non-UTF-8 files)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from smp_analysis import store
from smp_analysis.sources import police_uk
from smp_analysis.store import ingest, parts

HEADER = ",".join(police_uk.COLUMNS)


def _row(i: int, month: str = "2023-01", location: str = "On or near Here",
         crime_type: str | None = None) -> str:
    crime_type = crime_type or ("Anti-social behaviour" if i % 3 == 0 else "Burglary")
    crime_id = "" if crime_type == "Anti-social behaviour" else f"{i:064x}"
    lon, lat = ("", "") if i % 7 == 0 else (f"{0.4 + i / 1000:.6f}", "51.25")
    return (f"{crime_id},{month},Kent Police,Kent Police,{lon},{lat},{location},"
            f"E01000{i % 1000:03d},Somewhere 001A,{crime_type},Under investigation,")


def _text(rows: list[str], newline: str = "\n") -> bytes:
    return (newline.join([HEADER, *rows]) + newline).encode()


def _hostile_folder(folder: Path) -> Path:
    """One file of each kind of trouble, named for twelve consecutive months."""
    folder.mkdir()
    months = [f"2022-{m:02d}" for m in range(1, 13)] + ["2021-01", "2021-02", "2021-03"]
    rows = {m: [_row(i, m) for i in range(60)] for m in months}
    files: dict[str, bytes] = {}
    files["2022-01"] = _text(rows["2022-01"])  # clean
    files["2022-02"] = b"\xef\xbb\xbf" + _text(rows["2022-02"])  # BOM
    files["2022-03"] = _text(rows["2022-03"], "\r\n")  # CRLF
    files["2022-04"] = _text(rows["2022-04"]).replace(b"\n", b"\r")  # old Mac CR
    bad = list(rows["2022-05"])
    bad[3] += ",extra"  # wrong field count
    bad[8] = _row(8, "2022-05").replace("51.25", "99.5")  # latitude out of range
    bad[10] = _row(10, "2022-13")  # not a month
    bad[12] = _row(12, "2022-05", crime_type="Not a category")
    bad[13] = _row(13, "2022-05").replace(f"{13:064x}", "")  # crime without an ID
    bad.insert(20, bad[19])  # an exact duplicate row
    files["2022-05"] = _text(bad)
    blank = list(rows["2022-06"])
    blank[5:5] = ["", ""]
    files["2022-06"] = _text(blank)
    quoted = list(rows["2022-07"])
    quoted[2] = _row(2, "2022-07", location='"On or near A, B"')
    quoted[4] = _row(4, "2022-07", location='"On or near\nHere"')
    files["2022-07"] = _text(quoted)
    files["2022-08"] = _text(rows["2022-08"]).replace(b"Crime ID", b"crime_id", 1)
    files["2022-09"] = _text(rows["2022-09"]).replace(b",", b";")
    files["2022-10"] = _text(rows["2022-10"]).replace(b"On or near", b"On or \xffnear", 1)
    files["2022-11"] = b""
    joined = _text(rows["2022-12"])
    files["2022-12"] = joined + b"\xef\xbb\xbf" + joined
    files["2021-01"] = _text(rows["2022-01"][:10])  # months not those of the file name
    unclosed = list(rows["2021-02"])
    unclosed[3] = _row(3, "2021-02", location='"On or near')
    files["2021-02"] = _text(unclosed)
    for month, data in files.items():
        (folder / f"{month}-kent-street.csv").write_bytes(data)
    (folder / "2021-03-kent-street.csv.gz").write_bytes(gzip.compress(_text(rows["2021-03"])))
    (folder / "2021-04-kent-street.csv.gz").write_bytes(b"not gzip")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    (folder / "again").mkdir()
    (folder / "again" / "2022-01-kent-street.csv").write_bytes(_text(rows["2022-01"][:50]))
    return folder


def _contents(path: Path, report: ingest.IngestReport) -> dict:
    """What a store holds and what the run said, with the run's own ids and times left out."""
    con = store.connect(path, read_only=True)
    try:
        files = {fid: p for fid, p in con.execute("SELECT file_id, path FROM source_files")
                 .fetchall()}
        crimes = con.execute("SELECT * FROM crimes").fetchall()
        return {
            "crimes": sorted((files[r[0]], *r[1:]) for r in crimes),
            "quarantine": sorted(con.execute(
                "SELECT s.path, q.* EXCLUDE (file_id) FROM quarantine q JOIN source_files s "
                "USING (file_id)").fetchall(), key=repr),
            "files": sorted(con.execute(
                "SELECT path, sha256, rows_read, rows_loaded, rows_quarantined, reasons "
                "FROM source_files").fetchall()),
            "months": sorted(con.execute(
                "SELECT s.path, m.force, m.month, m.rows FROM file_months m JOIN source_files s "
                "USING (file_id)").fetchall()),
            "anomalies": con.execute("SELECT * FROM anomalies ORDER BY ALL").fetchall(),
            "report": report.to_json(),
        }
    finally:
        con.close()


def _ingest(folders: list[Path], path: Path) -> dict:
    con = store.connect(path)
    try:
        report = ingest.ingest_police_uk(con, folders)
        from smp_analysis.store import quality

        quality.current(con)
    finally:
        con.close()
    return _contents(path, report)


def _careful(monkeypatch) -> None:
    """Every file through the careful path (pandera), one file at a time, no reading ahead."""
    monkeypatch.setattr(police_uk, "_clean_typed", lambda path, table: None)
    monkeypatch.setattr(ingest, "READ_AHEAD_FILES", 1)
    monkeypatch.setattr(ingest, "READ_AHEAD_BYTES", 0)


def test_hostile_files_are_stored_as_the_careful_path_stores_them(tmp_path, monkeypatch):
    folder = _hostile_folder(tmp_path / "police")
    fast = _ingest([folder], tmp_path / "fast.duckdb")
    statuses = {Path(f["path"]).name: f["status"] for f in fast["report"]["files"]}
    assert statuses["2022-01-kent-street.csv"] in ("loaded", "superseded")
    assert statuses["2022-08-kent-street.csv"] == "failed"  # wrong header
    assert statuses["2022-11-kent-street.csv"] == "failed"  # empty
    assert statuses["2021-04-kent-street.csv.gz"] == "failed"  # not gzip
    assert fast["quarantine"], "the bad rows must be quarantined"
    with monkeypatch.context() as patched:
        _careful(patched)
        careful = _ingest([folder], tmp_path / "careful.duckdb")
    assert fast == careful


def test_real_files_are_stored_as_the_careful_path_stores_them(shared_data, tmp_path,
                                                                monkeypatch):
    files = sorted((shared_data / "police_uk" / "northumbria").rglob("*-street.csv"))[::8]
    folder = tmp_path / "real"
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    fast = _ingest([folder], tmp_path / "fast.duckdb")
    assert len(fast["crimes"]) > 50_000
    with monkeypatch.context() as patched:
        _careful(patched)
        careful = _ingest([folder], tmp_path / "careful.duckdb")
    assert fast == careful


def test_reading_ahead_is_bounded(tmp_path, monkeypatch):
    """At most READ_AHEAD_FILES files are loaded and not yet finished, whatever the number
    of files: memory does not grow with them."""
    folder = tmp_path / "police"
    folder.mkdir()
    for year in range(2015, 2020):
        for month in range(1, 13):
            stamp = f"{year}-{month:02d}"
            (folder / f"{stamp}-kent-street.csv").write_bytes(
                _text([_row(i, stamp) for i in range(20)]))
    held, most = set(), [0]
    load, finish = parts.load_one, parts.finish_one

    def counting_load(candidate, known, file_id):
        loaded = load(candidate, known, file_id)
        held.add(file_id)
        most[0] = max(most[0], len(held))
        return loaded

    def counting_finish(loaded, part):
        read = finish(loaded, part)
        held.discard(loaded.file_id)
        return read

    monkeypatch.setattr(ingest, "load_one", counting_load)
    monkeypatch.setattr(ingest, "finish_one", counting_finish)
    con = store.connect(tmp_path / "s.duckdb")
    try:
        report = ingest.ingest_police_uk(con, [folder], workers=2)
    finally:
        con.close()
    assert [f.status for f in report.files] == ["loaded"] * 60
    assert [Path(f.path).name for f in report.files] == sorted(p.name for p in folder.iterdir())
    assert most[0] <= ingest.READ_AHEAD_FILES + 3  # + the files being finished


def test_loading_a_file_imports_no_pandas(tmp_path):
    path = tmp_path / "2023-01-kent-street.csv"
    path.write_bytes(_text([_row(i) for i in range(30)]))
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from smp_analysis.sources.discover import Candidate\n"
        "from smp_analysis.store.parts import Loaded, load_one\n"
        f"loaded = load_one(Candidate(Path({str(path)!r}), True), frozenset(), 1)\n"
        "assert isinstance(loaded, Loaded) and loaded.records.num_rows == 30, loaded\n"
        "print('pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_clean_table_is_the_careful_table(tmp_path, newline):
    path = tmp_path / "2023-01-kent-street.csv"
    rows = [_row(i) for i in range(50)]
    rows[6] = _row(6, location='"On or near A, B"')
    path.write_bytes(_text(rows, newline))
    data = path.read_bytes()
    clean = police_uk.clean_street_table(path, data)
    assert clean is not None
    careful = police_uk.parse_street_csv(path, data)
    assert clean.equals(careful.table)
    assert clean["location"][6].as_py() == "On or near A, B"
    assert clean["line"][6].as_py() == 8
