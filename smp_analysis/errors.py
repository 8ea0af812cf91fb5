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
