"""Errors that reach the user: each names where the problem is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in one input: file, line (1-based, header is line 1), column, message."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class InputError(ValueError):
    """Every problem found in one or more inputs, reported together."""

    def __init__(self, problems: list[Problem] | Problem, *, limit: int = 50):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        shown = [f"  - {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            shown.append(f"  ... and {len(self.problems) - limit} more")
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found:\n" + "\n".join(shown))

    def _render_traceback_(self) -> list[str]:
        """In a notebook, show the problems without a Python traceback (IPython asks)."""
        return [str(self)]


class ParamsError(InputError):
    """The parameters file is invalid."""


class StoreError(RuntimeError):
    """The store cannot be used as it is (locked, damaged, not a store); the message says why
    and what to do."""


DISK_FULL_FIX = ("free some space and run the command again; nothing half-written is kept (the "
                 "store and the outputs are updated atomically)")


def describe(exc: BaseException) -> tuple[str, int]:
    """What the command line prints for a failure, and its exit code: 2 for bad input (files,
    params), 1 for everything else. Never a traceback; the message says what to do."""
    import errno

    if isinstance(exc, InputError):
        return str(exc), 2
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        where = exc.filename or "a file"
        if exc.errno == errno.ENOSPC:
            return f"the disk is full (writing {where}): {DISK_FULL_FIX}", 1
        if exc.errno == errno.EROFS:
            return (f"cannot write {where}: the folder is on a read-only file system; choose "
                    "another output folder (--out / --store)"), 1
        if exc.errno in (errno.EACCES, errno.EPERM):
            return (f"permission denied for {where}: choose another output folder (--out / "
                    "--store) or fix its permissions"), 1
        if exc.errno == errno.ENOENT:
            return f"not found: {where}", 2
        if exc.errno == errno.EISDIR:
            return f"{where} is a folder, where a file was expected", 2
        return f"{exc.strerror or text} ({where})", 1
    if "No space left on device" in text:
        return f"the disk is full: {DISK_FULL_FIX}", 1
    if isinstance(exc, MemoryError):
        return ("ran out of memory: close other programs, or build fewer appendices at once "
                "(--workers 1)"), 1
    if type(exc).__module__.startswith(("duckdb", "_duckdb")):
        from .store.connection import open_problem

        return open_problem("(the store)", exc), 1
    if isinstance(exc, RuntimeError | ValueError) and type(exc).__module__.startswith(
            "smp_analysis"):
        return text, 1  # the package's own errors carry their message and fix
    first = text.splitlines()[0][:300] if text else ""
    return (f"unexpected error ({type(exc).__name__}: {first}); set SMP_DEBUG=1 to see the "
            "traceback, and please report it"), 1
