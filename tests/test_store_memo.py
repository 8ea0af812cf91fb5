"""Store answers remembered in the build's worker processes (smp_analysis.store.memo): the
same answers as the store gives, a caller's changes kept to itself, a rewritten store asked
again, nothing remembered outside a worker or from a writable connection, memory bounded."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from smp_analysis import store
from smp_analysis.store import ingest, memo, queries


@pytest.fixture
def remembering():
    memo.enable()
    try:
        yield memo
    finally:
        memo.enable(False)


def _store(demo_dir, tmp_path, months=("2014-01", "2014-02")):
    folder = tmp_path / "police"
    for month in months:
        shutil.copytree(demo_dir / "police_uk" / month, folder / month)
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    ingest.load_reference(con, "lsoa_lookup", demo_dir / "geography/PoliceforceLSOA.csv")
    ingest.ingest_police_uk(con, [folder])
    con.close()
    return path, folder


def _questions(con):
    """Every kind of answer: frames, a set, a tuple of dates, a string, by district."""
    lookup = queries.lookup_districts(con)
    force = lookup["police_force"].dropna().iloc[0]
    codes = sorted(queries.districts(con, force)["area_code"])
    span = (dt.date(2014, 1, 1), dt.date(2014, 12, 31))
    return {
        "districts": lambda: queries.districts(con, force),
        "lookup": lambda: queries.lookup_districts(con),
        "span": lambda: queries.data_span(con),
        "force_monthly": lambda: queries.force_monthly(con),
        "files": lambda: queries.police_uk_files(con, [force]),
        "label": lambda: queries.force_label(con, force),
        "first": lambda: queries.monthly_counts(con, start=span[0], end=span[1],
                                                area_codes=codes[:1]),
        "second": lambda: queries.monthly_counts(con, start=span[0], end=span[1],
                                                 area_codes=codes[1:2]),
        "all": lambda: queries.monthly_counts(con, start=span[0], end=span[1]),
        "forces": lambda: queries.area_forces(con, codes),
    }


def _same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b and type(a) is type(b)


def test_remembered_answers_are_the_store_s_answers(demo_dir, tmp_path, remembering):
    path, _ = _store(demo_dir, tmp_path)
    memo.enable(False)
    con = store.connect(path, read_only=True)
    asked = {name: question() for name, question in _questions(con).items()}
    con.close()
    memo.enable()
    for _ in range(2):  # the first time asks the store, the second answers from memory
        con = store.connect(path, read_only=True)
        for name, question in _questions(con).items():
            _same(question(), asked[name])
        con.close()
    # one answer a question (besides the view's list of parts, kept once a store)
    assert sum("smp_analysis.store.queries" in repr(key) for key in memo._answers) == len(asked)
    # a district's answer is not another district's: each is kept under its own arguments
    assert not asked["first"].equals(asked["second"])


def test_a_caller_changing_its_answer_changes_nothing_remembered(demo_dir, tmp_path,
                                                                  remembering):
    path, _ = _store(demo_dir, tmp_path)
    con = store.connect(path, read_only=True)
    first = queries.force_monthly(con)
    expected = first.copy()
    first.loc[:, "crimes"] = -1
    files = queries.police_uk_files(con, list(expected["force"].unique()))
    files.clear()
    _same(queries.force_monthly(con), expected)
    assert queries.police_uk_files(con, list(expected["force"].unique()))
    con.close()


def test_a_rewritten_store_is_asked_again(demo_dir, tmp_path, remembering):
    path, folder = _store(demo_dir, tmp_path)
    con = store.connect(path, read_only=True)
    before = len(queries.input_files(con))
    con.close()
    shutil.copytree(demo_dir / "police_uk" / "2014-03", folder / "2014-03")
    writer = store.connect(path)
    ingest.ingest_police_uk(writer, [folder])
    assert len(queries.input_files(writer)) == before + 1  # a writer's answers: never kept
    writer.close()
    con = store.connect(path, read_only=True)
    assert len(queries.input_files(con)) == before + 1
    con.close()


def test_nothing_is_remembered_unless_turned_on(demo_dir, tmp_path):
    path, _ = _store(demo_dir, tmp_path)
    con = store.connect(path, read_only=True)
    queries.force_monthly(con)
    queries.force_monthly(con)
    con.close()
    assert not memo._answers


def test_memory_is_bounded(demo_dir, tmp_path, remembering, monkeypatch):
    path, _ = _store(demo_dir, tmp_path)
    con = store.connect(path, read_only=True)
    codes = sorted(queries.lookup_districts(con)["area_code"])[:6]
    one = max(memo._size(queries.monthly_counts(con, start=dt.date(2014, 1, 1),
                                                end=dt.date(2014, 2, 28), area_codes=[code]))
              for code in codes)
    memo.forget()
    monkeypatch.setattr(memo, "MEMO_BYTES", int(2.5 * one))
    for code in codes:
        queries.monthly_counts(con, start=dt.date(2014, 1, 1), end=dt.date(2014, 2, 28),
                               area_codes=[code])
    con.close()
    assert 0 < memo._held <= memo.MEMO_BYTES
    assert len(memo._answers) < 6


class _Counting:
    """A connection that counts the statements it is given."""

    def __init__(self, con):
        self.con, self.statements = con, 0

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self.con.execute(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_a_question_asked_again_is_answered_from_memory(demo_dir, tmp_path, remembering):
    path, _ = _store(demo_dir, tmp_path)
    con = _Counting(store.connect(path, read_only=True))
    memo.note_store(con, path)
    first = {name: question() for name, question in _questions(con).items()}
    asked = con.statements
    assert asked > 0
    for name, question in _questions(con).items():
        _same(question(), first[name])
    assert con.statements == asked  # not one statement more
    memo.forget()
    queries.force_monthly(con)
    assert con.statements > asked
    con.con.close()
