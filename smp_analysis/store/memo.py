"""Store queries answered once per worker process, for every appendix it builds.

A county batch builds one appendix per district from one store, and every appendix asks the
store the same force-wide questions (the force's monthly totals, its files and quarantine,
which forces the comparison districts draw on, the category names...): up to 3 s of a 20 s
appendix, timed query by query. :func:`remembered` (the decorator on those :mod:`.queries`
functions) answers a question asked again, on the same store, from memory. A district's own
rows (crime points, boundaries) and victim-level extracts are never remembered: no other
appendix asks for them, and victims' rows stay no longer than their appendix needs them.

- **Off unless turned on**: only the build's worker processes turn it on (:func:`enable`);
  an analyst's kernel always asks the store, so a re-run cell sees new data at once.
- **Only read-only connections** opened by :func:`.connection.connect` are remembered: DuckDB
  lets no process write a store while one reads it.
- **Keyed by the store's identity and every argument**: the database file's path, device,
  inode, size, modification and change times, the same of its write-ahead log (if any) and
  of its folder of Parquet parts, taken when the connection opened. Every ingest, repair or
  replacement of the store changes one of them, so an answer is not served for other
  contents; a district's answer goes only to a question about that district.
- **Each caller gets its own copy** (frames, lists, dicts, sets), so a caller that changes
  what it was given changes nothing another caller sees.
- **Bounded**: least recently used answers are dropped beyond :data:`MEMO_BYTES` (text
  counted with its characters).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import sys
import threading
import weakref
from collections import OrderedDict
from pathlib import Path, PurePath

# memory the remembered answers may hold in one process (a county's take a few MB)
MEMO_BYTES = 256 * 2**20

_enabled = False
_answers: OrderedDict = OrderedDict()  # key -> (answer, bytes)
_held = 0
_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> identity
_lock = threading.Lock()  # a worker started with several threads stays consistent


def enabled() -> bool:
    """Whether this process remembers answers."""
    return _enabled


def enable(on: bool = True) -> None:
    """Remember answers in this process from now on (`on`), or forget them all and stop."""
    global _enabled
    _enabled = on
    if not on:
        forget()


def forget() -> None:
    """Drop every remembered answer."""
    global _held
    with _lock:
        _answers.clear()
        _held = 0


def note_store(con, path: Path) -> None:
    """Record the identity of the store a read-only connection `con` has just opened."""
    identity = store_identity(path)
    with _lock:
        _stores[con] = identity


def store_identity(path: Path) -> tuple:
    """The identity of the store at `path`: its resolved path, and the device, inode, size,
    modification and change times of the database file, its write-ahead log (if any) and its
    folder of Parquet parts.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = Path(folder) / "s.duckdb"
    ...     _ = store.write_bytes(b"one")
    ...     before = store_identity(store)
    ...     same = before == store_identity(store)
    ...     os.utime(store, ns=(1, 1))  # a copy keeping its times (cp -p) still changes ctime
    ...     same, before == store_identity(store)
    (True, False)
    """
    from .connection import stat_key  # what says the ingest's files are untouched, too

    path = Path(path)
    identity: tuple = (str(path.resolve()),)
    for file in (path, path.with_name(path.name + ".wal"), path.with_suffix(".parts")):
        try:
            identity += (stat_key(file.stat()),)
        except OSError:
            identity += (None,)
    return identity


def remembered(query):
    """Decorator for a query ``query(con, *args, **kwargs)``: see the module's docstring."""

    @functools.wraps(query)
    def wrapper(con, *args, **kwargs):
        if not _enabled:
            return query(con, *args, **kwargs)
        with _lock:
            store = _stores.get(con)
        key = None if store is None else _key((store, query.__module__, query.__qualname__, args, kwargs))
        if key is None:
            return query(con, *args, **kwargs)
        with _lock:
            held = _answers.get(key)
            if held is not None:
                _answers.move_to_end(key)
        if held is None:
            answer = query(con, *args, **kwargs)
            _keep(key, answer)
            return _own_copy(answer)
        return _own_copy(held[0])

    return wrapper


def _keep(key, answer) -> None:
    global _held
    size = _size(answer)
    if size > MEMO_BYTES:
        return
    kept = _own_copy(answer)
    with _lock:
        if key in _answers:  # another thread asked the same meanwhile
            return
        _answers[key] = (kept, size)
        _held += size
        while _held > MEMO_BYTES:
            _, (_, dropped) = _answers.popitem(last=False)
            _held -= dropped


def _key(value):
    """A hashable key for `value` (arguments: lists become tagged tuples...); None when some
    part cannot be keyed, and then the query is asked as usual.

    >>> _key(["E07000110", "E07000105"]) == _key(("E07000110", "E07000105"))
    False
    >>> _key({"a": [1]}) == _key({"a": [1]})
    True
    >>> _key(object()) is None
    False
    >>> import pandas as pd
    >>> _key(pd.Series([1])) is None
    True
    """
    pd = sys.modules.get("pandas")  # not imported by this module: ingest's reading needs none
    if value is None or isinstance(value, str | int | float | bool | dt.date | PurePath):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        parts = tuple(_key(v) for v in value)
        return None if None in parts else (type(value).__name__, parts)
    if isinstance(value, set | frozenset):
        parts = tuple(sorted((_key(v) for v in value), key=repr))
        return None if None in parts else (type(value).__name__, parts)
    if isinstance(value, dict):
        parts = tuple((_key(k), _key(v)) for k, v in value.items())
        return None if any(None in p for p in parts) else ("dict", tuple(sorted(parts,
                                                                               key=repr)))
    if pd is not None and isinstance(value, pd.Series | pd.DataFrame | pd.Index):
        return None
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value).__name__, value)


def _own_copy(answer):
    """A copy the caller may change without changing the remembered answer.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"n": [1, 2]})
    >>> mine = _own_copy(frame)
    >>> mine.loc[0, "n"] = 99
    >>> int(frame.loc[0, "n"])
    1
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(answer, pd.DataFrame | pd.Series):
        return answer.copy(deep=True)
    if isinstance(answer, tuple):
        return tuple(_own_copy(v) for v in answer)
    if isinstance(answer, list | dict | set):
        return copy.deepcopy(answer)
    return answer


def _size(answer) -> int:
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(answer, pd.DataFrame):
        return int(answer.memory_usage(index=True, deep=True).sum())
    if pd is not None and isinstance(answer, pd.Series):
        return int(answer.memory_usage(index=True, deep=True))
    if isinstance(answer, tuple | list | set):
        return sum(_size(v) for v in answer) + sys.getsizeof(answer)
    if isinstance(answer, dict):
        return sum(_size(k) + _size(v) for k, v in answer.items()) + sys.getsizeof(answer)
    return sys.getsizeof(answer)
