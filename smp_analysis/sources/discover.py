"""Which entries of the folders and files given to ingest are police.uk files, and why the
others are not read.

Every entry met is accounted for: it is a candidate (read next), or it is skipped with a
reason. Skipping is not an error for entries that are plainly something else (a README, an
outcomes file, a zip archive, a named pipe); it is an error (``failed``) for entries that look
like data but cannot be read (a broken link, a link loop, a folder that cannot be listed), and
for a folder that holds nothing to read. Nothing is opened here except folders, so a named pipe
can never block the run.

Names read: ``*.csv`` and ``*.csv.gz`` in any case. Files with the data.police.uk name
(``YYYY-MM-force-street.csv``) or named on the command line must be street-level files; other
CSVs found in a folder are read when their header is the street-level one and skipped
otherwise (the reader decides, see :class:`~smp_analysis.sources._csv.NotThisFormat`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .police_uk import FILE_NAME

OTHER_POLICE_FILE = re.compile(r"^\d{4}-\d{2}-[a-z0-9-]+?-(?P<kind>outcomes|stop-and-search)"
                               r"\.csv(\.gz)?$", re.IGNORECASE)
DATA_NAME = re.compile(r"\.csv(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    path: Path  # absolute, links resolved: the file's identity in the store
    must_be_street: bool  # a data.police.uk street name, or named explicitly


@dataclass(frozen=True)
class Skipped:
    path: Path  # as met (a link is named as the link)
    reason: str
    failed: bool = False  # looked like data but could not be read: the run reports an error


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def failed(self) -> list[Skipped]:
        return [s for s in self.skipped if s.failed]


def looks_like_data(name: str) -> bool:
    return bool(DATA_NAME.search(name))


def discover(paths) -> Discovery:
    """Candidates and skipped entries of `paths` (files, or folders searched recursively)."""
    found = Discovery()
    seen_files: dict[str, Path] = {}
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        _visit(Path(path), True, found, seen_files, seen_dirs)
    return found


def _visit(path: Path, explicit: bool, found: Discovery, seen_files: dict[str, Path],
           seen_dirs: set[tuple[int, int]]) -> None:
    try:
        info = os.stat(path)  # follows links
    except OSError as exc:
        found.skipped.append(Skipped(path, _stat_problem(path, exc),
                                     failed=explicit or looks_like_data(path.name)))
        return
    if stat.S_ISDIR(info.st_mode):
        _visit_folder(path, info, explicit, found, seen_files, seen_dirs)
    elif stat.S_ISREG(info.st_mode):
        _visit_file(path, explicit, found, seen_files)
    else:
        found.skipped.append(Skipped(path, f"{_kind(info.st_mode)}, not a regular file: not "
                                     "read"))


def _visit_folder(path: Path, info: os.stat_result, explicit: bool, found: Discovery,
                  seen_files: dict[str, Path], seen_dirs: set[tuple[int, int]]) -> None:
    identity = (info.st_dev, info.st_ino)
    if identity in seen_dirs:
        if path.is_symlink():
            found.skipped.append(Skipped(path, "a link to a folder searched already"))
        return
    seen_dirs.add(identity)
    if looks_like_data(path.name):
        found.skipped.append(Skipped(path, "a folder named like a CSV file, not a file: its "
                                     "contents were searched instead"))
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append(Skipped(path, f"folder cannot be listed: {_reason(exc)}",
                                     failed=True))
        return
    before = len(found.candidates)
    for entry in entries:
        _visit(Path(entry.path), False, found, seen_files, seen_dirs)
    if explicit and len(found.candidates) == before:
        what = "is empty" if not entries else "holds no .csv or .csv.gz file"
        found.skipped.append(Skipped(path, f"the folder {what}: nothing to load (check the "
                                     "path)", failed=True))


def _visit_file(path: Path, explicit: bool, found: Discovery,
                seen_files: dict[str, Path]) -> None:
    real = os.path.realpath(path)
    if real in seen_files:
        if path.is_symlink() and Path(real) != seen_files[real]:
            found.skipped.append(Skipped(path, f"a link to {seen_files[real]}, read once"))
        return
    seen_files[real] = path
    name = path.name
    other = OTHER_POLICE_FILE.match(name)
    if other and not explicit:
        found.skipped.append(Skipped(path, f"a data.police.uk {other['kind']} file: only "
                                     "street-level crime files (-street.csv) are read"))
    elif explicit or looks_like_data(name):
        found.candidates.append(Candidate(Path(real), explicit or bool(FILE_NAME.match(name))))
    elif name.lower().endswith(".zip"):
        found.skipped.append(Skipped(path, "a zip archive: unzip it first (smp reads .csv and "
                                     ".csv.gz files)"))
    else:
        found.skipped.append(Skipped(path, "not a CSV file (smp reads .csv and .csv.gz "
                                     "files)"))


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop (the link leads back to itself): not read"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return (f"a broken symbolic link: its target {os.readlink(path)} does not exist")
    if exc.errno == errno.ENOENT:
        return "not found"
    return f"cannot be read: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (check the file's permissions, e.g. chmod u+r)"
    return exc.strerror or str(exc)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"
