"""Faults from outside: locks, damaged stores and parts, full disks, unwritable folders,
concurrent runs, and the command line's promise of one clear line instead of a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _hostile import files_in, smp, store_rows, street_file

from smp_analysis import store
from smp_analysis.errors import StoreError

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def loaded(capsys, tmp_path):
    """A store with three small months, and its files."""
    folder = tmp_path / "p"
    for month, rows in (("2019-01", 5), ("2019-02", 6), ("2019-03", 7)):
        street_file(folder, rows, month)
    store_path = tmp_path / "s.duckdb"
    assert smp(capsys, "ingest", "police-uk", folder, "--store", store_path).code == 0
    return store_path, folder


def _parts(store_path: Path) -> list[Path]:
    return sorted(store_path.with_suffix(".parts").iterdir())


# --------------------------------------------------------------------------- damaged parts


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_lost_or_damaged_part_is_found_and_repaired(capsys, loaded, damage):
    store_path, folder = loaded
    part = _parts(store_path)[1]
    if damage == "delete":
        part.unlink()
    else:
        part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(StoreError, match="smp store repair"):
        store.connect(store_path, read_only=True)
    check = smp(capsys, "store", "check", "--store", store_path)
    assert check.code == 1 and "2019-02-kent-street.csv: its stored rows" in check.out
    repair = smp(capsys, "store", "repair", "--store", store_path)
    assert repair.code == 0 and "repaired" in repair.out
    assert store_rows(store_path) == 18
    assert smp(capsys, "store", "check", "--store", store_path).code == 0


def test_ingest_repairs_a_lost_part_on_its_way(capsys, loaded):
    store_path, folder = loaded
    _parts(store_path)[0].unlink()
    run = smp(capsys, "ingest", "police-uk", folder, "--store", store_path)
    assert run.code == 0 and "repaired" in run.out
    assert store_rows(store_path) == 18


def test_what_cannot_be_repaired_is_named_and_the_rest_stays_usable(capsys, loaded):
    store_path, folder = loaded
    _parts(store_path)[2].unlink()
    (folder / "2019-03-kent-street.csv").unlink()
    run = smp(capsys, "store", "repair", "--store", store_path)
    assert run.code == 1
    assert "2019-03-kent-street.csv: its Parquet part is missing and the file is no longer " \
           "there" in run.err and "download the file again" in run.err
    assert store_rows(store_path) == 11
    assert smp(capsys, "store", "check", "--store", store_path).code == 0
    # and later runs do not fail forever
    assert smp(capsys, "ingest", "police-uk", folder, "--store", store_path).code == 0


# --------------------------------------------------------------------------- the store file


@pytest.mark.parametrize("content, sentence", [
    (b"", "is an empty file"),
    (b"SQLite format 3\x00" + bytes(100), "is not a DuckDB database"),
    (b"garbage" * 200, "is not a DuckDB database"),
])
def test_a_store_that_is_not_a_duckdb_file_gets_one_line(capsys, tmp_path, content, sentence):
    street_file(tmp_path / "p", 3)
    store_path = tmp_path / "s.duckdb"
    store_path.write_bytes(content)
    run = smp(capsys, "ingest", "police-uk", tmp_path / "p", "--store", store_path)
    assert run.code == 1 and sentence in run.err and "move it aside" in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert store_path.read_bytes() == content  # left as it was
    assert smp(capsys, "store", "check", "--store", store_path).code == 1


def test_a_corrupted_store_block_gets_one_line(capsys, loaded):
    store_path, folder = loaded
    data = bytearray(store_path.read_bytes())
    data[8192:16384] = os.urandom(8192)
    store_path.write_bytes(bytes(data))
    run = smp(capsys, "ingest", "police-uk", folder, "--store", store_path)
    assert run.code == 1 and "damaged" in run.err and "move it aside" in run.err


def test_a_folder_given_as_the_store(capsys, tmp_path):
    street_file(tmp_path / "p", 3)
    run = smp(capsys, "ingest", "police-uk", tmp_path / "p", "--store", tmp_path)
    assert run.code == 1 and "is a folder; --store names the database file" in run.err


# --------------------------------------------------------------------------- locks, concurrency


def _hold(store_path: Path, seconds: float) -> subprocess.Popen:
    code = (f"import duckdb, time; c = duckdb.connect({str(store_path)!r}); "
            f"print('held', flush=True); time.sleep({seconds})")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_store_held_by_another_process_gets_one_line_and_is_untouched(capsys, loaded):
    store_path, folder = loaded
    street_file(folder, 4, "2019-04")
    before = files_in(store_path.parent / "s.parts")
    holder = _hold(store_path, 60)
    try:
        for args in (["ingest", "police-uk", folder], ["store", "check"], ["store", "repair"]):
            run = smp(capsys, *args, "--store", store_path)
            assert run.code == 3  # documented: the store is open in another process
            assert f"is in use by another program (process {holder.pid}" in run.err
            assert "Kernel > Shut Down" in run.err
        with pytest.raises(StoreError, match="in use by another program"):
            store.connect(store_path, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    assert files_in(store_path.parent / "s.parts") == before
    assert store_rows(store_path) == 18


def test_concurrent_ingests_never_corrupt_the_store(tmp_path):
    folders = []
    for i in range(3):
        folder = tmp_path / f"p{i}"
        for month in ("2019-01", "2019-02", "2019-03", "2019-04"):
            street_file(folder, 50 + i, month, force=f"Force{i} Police")
        folders.append(folder)
    store_path = tmp_path / "s.duckdb"
    runs = [subprocess.Popen([sys.executable, "-m", "smp_analysis", "ingest", "police-uk",
                              folder, "--store", store_path], cwd=PROJECT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for folder in folders]
    outputs = [r.communicate(timeout=300) for r in runs]
    results = [(r.returncode, out, err) for r, (out, err) in zip(runs, outputs, strict=True)]
    for code, _, err in results:
        assert "Traceback" not in err
        assert code == 0 or "is in use by another program" in err, err
    winners = sum(code == 0 for code, _, _ in results)
    assert winners >= 1
    check = subprocess.run([sys.executable, "-m", "smp_analysis", "store", "check", "--store",
                            store_path], cwd=PROJECT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert store_rows(store_path) == sum((50 + i) * 4 for i, (code, _, _) in enumerate(results)
                                         if code == 0)


# --------------------------------------------------------------------------- disks and folders


def test_a_full_disk_leaves_the_store_as_it_was(capsys, loaded, monkeypatch):
    import smp_analysis.store.parts as parts

    store_path, folder = loaded
    street_file(folder, 4, "2019-04")
    street_file(folder, 5, "2019-05")
    parts_before = files_in(store_path.with_suffix(".parts"))

    def full(rows, part):
        raise OSError(errno.ENOSPC, "No space left on device", str(part))

    monkeypatch.setattr(parts, "write_part", full)
    run = smp(capsys, "ingest", "police-uk", folder, "--store", store_path)
    assert run.code == 1 and "the disk is full" in run.err and "free some space" in run.err
    assert len(run.err.strip().splitlines()) == 1
    monkeypatch.undo()
    assert store_rows(store_path) == 18
    assert files_in(store_path.with_suffix(".parts")) == parts_before


def test_an_unwritable_report_folder_is_a_warning_not_a_lost_ingest(capsys, tmp_path,
                                                                      monkeypatch):
    import smp_analysis.atomic as atomic

    street_file(tmp_path / "p", 3)

    def refuse(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(atomic, "write_text_atomic", refuse)
    run = smp(capsys, "ingest", "police-uk", tmp_path / "p", "--store", tmp_path / "s.duckdb")
    assert run.code == 0 and "the ingest report could not be written" in run.err
    assert store_rows(tmp_path / "s.duckdb") == 3


@pytest.mark.parametrize("error, sentence", [
    (PermissionError(errno.EACCES, "Permission denied", "/srv/reports/2015-16"),
     "permission denied for /srv/reports/2015-16: choose another output folder"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x.html"),
     "cannot write /mnt/ro/x.html: the folder is on a read-only file system"),
    (OSError(errno.ENOSPC, "No space left on device", "/srv/x"), "the disk is full"),
    (MemoryError(), "ran out of memory"),
    (KeyError("previous"), "unexpected error (KeyError: 'previous'); set SMP_DEBUG=1"),
])
def test_failures_become_one_line_without_traceback(capsys, monkeypatch, error, sentence):
    from smp_analysis import cli

    def boom(args):
        raise error

    monkeypatch.setattr(cli, "_check_params", boom)
    run = smp(capsys, "check-params", "x.yaml")
    assert run.code == 1 and sentence in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_smp_debug_shows_the_traceback(capsys, monkeypatch):
    from smp_analysis import cli

    def boom(args):
        raise KeyError("previous")

    monkeypatch.setattr(cli, "_check_params", boom)
    monkeypatch.setenv("SMP_DEBUG", "1")
    assert cli.main(["check-params", "x.yaml"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'previous'" in err


def test_interrupt_is_one_line(capsys, monkeypatch):
    from smp_analysis import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_check_params", interrupted)
    run = smp(capsys, "check-params", "x.yaml")
    assert run.code == 130 and "interrupted" in run.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_store_folder_on_disk(capsys, tmp_path):
    street_file(tmp_path / "p", 3)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        run = smp(capsys, "ingest", "police-uk", tmp_path / "p", "--store", ro / "s.duckdb")
    finally:
        ro.chmod(0o755)
    assert run.code == 1 and "cannot be written" in run.err


def test_the_lock_message_is_quick(tmp_path):
    """The lock conflict is reported at once, not after a wait."""
    store_path = tmp_path / "s.duckdb"
    store.connect(store_path).close()
    holder = _hold(store_path, 60)
    try:
        start = time.perf_counter()
        with pytest.raises(StoreError):
            store.connect(store_path)
        assert time.perf_counter() - start < 10
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("file_kept", [True, False])
def test_a_store_holding_a_future_month_heals(capsys, tmp_path, monkeypatch, file_kept):
    """Stores made before future months were quarantined hold them, and every later step
    failed, even after the file was deleted: check names it, the next ingest heals it."""
    import smp_analysis.sources.police_uk as police_uk

    folder = tmp_path / "p"
    street_file(folder, 5, "2019-01")
    future = street_file(folder, 2, "2099-01")
    monkeypatch.setattr(police_uk, "latest_month", lambda today=None: "2100-12")
    store_path = tmp_path / "s.duckdb"
    smp(capsys, "ingest", "police-uk", folder, "--store", store_path)  # as an old version did
    monkeypatch.undo()
    assert store_rows(store_path) == 7
    check = smp(capsys, "store", "check", "--store", store_path)
    assert check.code == 1 and f"{future}: holds rows dated 2099-01" in check.out
    if not file_kept:
        future.unlink()
    run = smp(capsys, "ingest", "police-uk", folder, "--store", store_path)
    assert run.code == 0 and "repaired" in run.out
    assert store_rows(store_path) == 5
    assert smp(capsys, "store", "check", "--store", store_path).code == 0
