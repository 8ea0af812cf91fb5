"""Who holds a store: DuckDB's lock conflicts turned into one plain sentence.

DuckDB lets many processes read a database file (``read_only=True``) or one process write it.
A chapter notebook holds a read-only connection for as long as its kernel runs, so a writer
(``smp appendix`` bringing the store up to date, ``smp ingest``) started meanwhile gets DuckDB's
``IOException`` "Could not set lock on file ...: Conflicting lock is held in PROGRAM (PID n)".
:func:`lock_conflict` recognises that error and says which process holds the store.

>>> err = OSError('IO Error: Could not set lock on file "/x/s.duckdb": Conflicting lock is '
...               'held in /usr/bin/python3.11 (PID 4242). See also https://duckdb.org')
>>> lock_conflict(err).pid
4242
>>> lock_conflict(ValueError("something else")) is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_CONFLICT = re.compile(r"Could not set lock on file .*?Conflicting lock is held in "
                       r"(?P<program>[^()\n]*?)\s*(?:\(PID (?P<pid>\d+)\)|\.\s|$)", re.DOTALL)


@dataclass(frozen=True)
class LockHolder:
    """The process DuckDB names as holding the lock (as far as it can be told)."""

    program: str
    pid: int | None

    def describe(self) -> str:
        """'PID 4242, a Jupyter notebook kernel' (the command line is read from /proc when the
        system has it; elsewhere the program DuckDB names)."""
        what = _what_runs(self.pid) or Path(self.program).name or "another program"
        return f"PID {self.pid}, {what}" if self.pid is not None else what


class StoreBusy(RuntimeError):
    """A writer found the store held by another process; the message is one line saying which
    process and what to do."""

    def __init__(self, path: str | Path, holder: LockHolder):
        self.path, self.holder = Path(path), holder
        super().__init__(
            f"the store {self.path} is open in another process ({holder.describe()}) and needs "
            "updating; shut that process down (in JupyterLab: Kernel > Shut Down Kernel) or wait "
            "for it to finish, then run this command again")


# the same conflict as store.connect reports it (StoreError, see connection.open_problem)
_IN_USE = re.compile(r"is in use by another program(?: \(process (?P<pid>\d+), "
                     r"(?P<program>[^)]*)\))?")


def lock_conflict(exc: BaseException) -> LockHolder | None:
    """The holder of the lock when `exc` is DuckDB's lock conflict (raw, or as the store's
    StoreError), else None.

    >>> lock_conflict(RuntimeError("the store s.duckdb is in use by another program "
    ...                            "(process 77, python3.11), e.g. a notebook kernel")).pid
    77
    """
    match = _CONFLICT.search(str(exc)) or _IN_USE.search(str(exc))
    if match is None:
        return None
    pid = match.group("pid")
    return LockHolder((match.group("program") or "").strip(), int(pid) if pid else None)


def _what_runs(pid: int | None) -> str | None:
    if pid is None:
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    words = [a.decode(errors="replace") for a in argv if a]
    line = " ".join(words)
    if "ipykernel" in line:
        return "a Jupyter notebook kernel"
    if any(Path(w).name == "smp" for w in words[:2]):
        return "`" + " ".join(["smp", *words[2:5]]) + "`"
    return Path(words[0]).name if words else None
