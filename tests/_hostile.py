"""Helpers for the hostile-input tests: tiny police.uk files built in the test, the CLI run
in-process, and a look at everything a store holds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from smp_analysis.sources.police_uk import COLUMNS

HEADER = ",".join(COLUMNS)


def crime_row(n: int, month: str = "2019-01", force: str = "Kent Police",
              crime_type: str = "Burglary", location: str = "On or near X") -> str:
    return (f"id{month}{force[:2]}{n:06d},{month},{force},{force},0.52,51.27,{location},"
            f"E01024321,Maidstone 001A,{crime_type},Under investigation,")


def street_text(rows: int, month: str = "2019-01", force: str = "Kent Police",
                start: int = 0) -> str:
    return "\n".join([HEADER, *(crime_row(start + i, month, force) for i in range(rows))]) + "\n"


def street_file(folder: Path, rows: int, month: str = "2019-01", force: str = "Kent Police",
                name: str | None = None, mtime: float | None = None, start: int = 0) -> Path:
    """A valid street file of `rows` crimes, named as police.uk does unless `name` is given."""
    folder.mkdir(parents=True, exist_ok=True)
    slug = force.lower().replace(" police", "").replace(" ", "-")
    path = folder / (name or f"{month}-{slug}-street.csv")
    path.write_text(street_text(rows, month, force, start), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def smp(capsys, *args: str | Path) -> Run:
    """Run the `smp` command line in-process and capture what it prints."""
    from smp_analysis.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    run = Run(code, captured.out, captured.err)
    assert "Traceback" not in run.text, run.text
    return run


def store_rows(store: Path) -> int:
    from smp_analysis import store as store_module

    con = store_module.connect(store, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM crimes").fetchone()[0]
    finally:
        con.close()


def store_dump(store: Path) -> str:
    """Every value of every table of a store, as text (to search for leaked values)."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        parts = []
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            parts.append(con.execute(f'SELECT * FROM "{name}"').df().to_csv())
        return "\n".join(parts)
    finally:
        con.close()


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes (to show that no other file was lost)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}
