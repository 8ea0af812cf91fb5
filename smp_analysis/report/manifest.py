"""What an appendix was built from, so a batch can skip the appendices that would not change.

Each successful build writes ``<out>/<assessment>/manifest.json`` last (atomically, after the
HTML, tables and workbook), recording three fingerprints:

* ``params_sha256``: the params file's bytes;
* ``inputs_sha256``: the store's inputs, i.e. the SHA-256 of every file the store was built
  from (``source_files``: police.uk files, lookups, populations, victim extracts, indicators,
  boundaries, each hashed by the ingest) and the partner-indicator files it refused. The whole
  store counts, not only the files this params file names: the appendix is read from the store;
* ``code``: the package version, a SHA-256 of the package's source (Python modules and the HTML
  template), of the chapter notebooks' cells, and the versions of the packages that shape the
  output (pandas, statsmodels, matplotlib...).

A batch (:func:`smp_analysis.report.build.build_appendices`) skips an appendix whose manifest
holds the same three fingerprints and whose HTML still exists; ``force=True`` (``smp appendix
--force``) rebuilds. A build removes the old manifest before it writes anything, so an
interrupted build is never taken for a finished one, and an interrupted batch picks up where it
stopped: the appendices finished before the interruption are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import nbformat

from .. import store
from ..atomic import write_text_atomic

MANIFEST = "manifest.json"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAMP_KEYS = ("params_sha256", "inputs_sha256", "code")


def manifest_path(out_dir: Path, assessment: str) -> Path:
    return Path(out_dir) / assessment / MANIFEST


def source_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 of the package's Python modules and templates (paths and bytes, in order)."""
    digest = hashlib.sha256()
    files = [p for p in package_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and (p.suffix == ".py" or "templates" in p.relative_to(package_dir).parts)]
    for path in sorted(files):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def notebooks_digest(notebooks: list[Path]) -> str:
    """SHA-256 of the chapters' names and cells (type and source; never outputs or metadata,
    which running a notebook in JupyterLab changes)."""
    digest = hashlib.sha256()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        cells = [(c.cell_type, c.source, c.get("metadata", {}).get("tags", []))
                 for c in nb.cells]
        digest.update(json.dumps([path.name, cells]).encode() + b"\0")
    return digest.hexdigest()


def code_version(notebooks: list[Path]) -> dict:
    """The code an appendix is built with (see the module's docstring)."""
    from .provenance import package_versions

    return {"packages": package_versions(), "source_sha256": source_digest(),
            "notebooks_sha256": notebooks_digest(notebooks)}


def inputs_digest(store_path: str | Path) -> str | None:
    """SHA-256 of what the store was built from (every ``source_files`` row's kind, path and
    SHA-256, and refused partner-indicator files): no input file is read again. None when
    there is no store yet."""
    if not Path(store_path).exists():
        return None
    con = store.connect(store_path, read_only=True)
    try:
        rows = con.execute("SELECT kind, path, sha256 FROM source_files "
                           "ORDER BY kind, path, sha256").fetchall()
        if store.has_table(con, "indicator_failures"):
            rows += con.execute("SELECT 'indicator_failure', path, error FROM "
                                "indicator_failures ORDER BY path").fetchall()
    finally:
        con.close()
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def stamp(params_file: Path, inputs_sha256: str, code: dict) -> dict:
    """The fingerprints of one appendix's build (see the module's docstring)."""
    return {"params_sha256": hashlib.sha256(Path(params_file).read_bytes()).hexdigest(),
            "inputs_sha256": inputs_sha256, "code": code}


def is_current(path: Path, expected: dict) -> bool:
    """True when the manifest at `path` records `expected`'s fingerprints and the appendix it
    describes still exists."""
    try:
        found = json.loads(Path(path).read_text())
        html = Path(path).parent.parent / found["outputs"]["html"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(found.get(k) == expected.get(k) for k in STAMP_KEYS) and html.is_file()


def outputs(path: Path) -> dict[str, Path]:
    """The outputs the manifest at `path` lists (html, tables, workbook), as paths."""
    found = json.loads(Path(path).read_text())
    return {k: Path(path).parent.parent / v for k, v in found["outputs"].items()}


def write(path: Path, fingerprints: dict, *, assessment: str, params_file: Path,
          outputs: dict[str, Path | None]) -> None:
    """Write the manifest (atomically; the last file of a build)."""
    out_dir = Path(path).parent.parent
    record = {"assessment": assessment, "params_file": str(params_file), **fingerprints,
              "outputs": {k: Path(v).relative_to(out_dir).as_posix()
                          for k, v in outputs.items() if v is not None},
              "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    write_text_atomic(Path(path), json.dumps(record, indent=1, sort_keys=True) + "\n")
