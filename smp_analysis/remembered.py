"""A file parsed once per content, in a process that reads it again and again.

Every chapter of an appendix, and every appendix a batch worker builds, loads its params file
and checks it against the partnership's indicator files: reading a small file costs
microseconds, parsing it (YAML, a CSV into a frame) tens of milliseconds. :func:`by_content`
remembers what a parser made of a file's bytes, keyed by their SHA-256, so an edited file is
parsed again at once and an unchanged one is not parsed at all (no file times are trusted).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
REMEMBERED = 64  # contents kept a parser (the params and indicator files of a batch)


def by_content(parse: Callable[[Path, bytes], T]) -> Callable[[Path, bytes], T]:
    """`parse(path, data)`, remembered for each `path` and SHA-256 of `data`; an error is
    never remembered. Every caller gets the same object, so `parse` returns values nobody
    changes (frozensets, tuples) or its callers copy them.

    >>> parses = []
    >>> @by_content
    ... def words(path, data):
    ...     parses.append(path)
    ...     return tuple(data.decode().split())
    >>> file = Path("f.txt")
    >>> words(file, b"a b"), words(file, b"a b"), words(file, b"a c"), len(parses)
    (('a', 'b'), ('a', 'b'), ('a', 'c'), 2)
    """
    remembered: dict[tuple[str, bytes], T] = {}

    @functools.wraps(parse)
    def wrapper(path: Path, data: bytes) -> T:
        key = (str(path), hashlib.sha256(data).digest())
        if key not in remembered:
            result = parse(path, data)
            if len(remembered) >= REMEMBERED:
                remembered.pop(next(iter(remembered)))  # the oldest
            remembered[key] = result
        return remembered[key]

    wrapper.cache_clear = remembered.clear  # type: ignore[attr-defined]
    return wrapper
