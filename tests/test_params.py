"""Parameter validation: every shipped file is valid; bad files give one clear message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from smp_analysis.errors import ParamsError
from smp_analysis.params import load_params

PROJECT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((PROJECT / "params").glob("*.yaml"))


def test_required_assessments_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {"2015-16", "2018-19", "2022-23", "2023-24"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_params_validate(path):
    params = load_params(path, check_files=False)
    assert params.focus_area.code == "E07000110"
    assert params.current.n_months == 12
    assert params.assessment == path.stem


def test_2015_16_uses_the_october_to_september_year():
    params = load_params(PROJECT / "params" / "2015-16.yaml", check_files=False)
    assert (params.period.start, params.period.end) == (dt.date(2013, 10, 1), dt.date(2014, 9, 30))
    assert (params.previous.start, params.previous.end) == (dt.date(2012, 10, 1),
                                                            dt.date(2013, 9, 30))


def test_relative_paths_resolve_against_the_params_file():
    params = load_params(PROJECT / "params" / "2015-16.yaml", check_files=False)
    assert params.data.lsoa_lookup == (PROJECT / "data/demo/geography/PoliceforceLSOA.csv")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


BASE = (PROJECT / "params" / "2015-16.yaml").read_text()


def _errors(path: Path, **kw) -> str:
    with pytest.raises(ParamsError) as info:
        load_params(path, **kw)
    return str(info.value)


def test_unknown_key_names_the_key_and_file(tmp_path):
    path = _write(tmp_path, BASE + "\ncolour: blue\n")
    message = _errors(path, check_files=False)
    assert "bad.yaml" in message and "colour" in message and "unknown key" in message


def test_unquoted_code_read_as_number_says_to_quote(tmp_path):
    # YAML 1.1 reads 0123 as octal 83: the papermill trap the params file must catch.
    path = _write(tmp_path, BASE.replace('code: "E07000110"', "code: 0123"))
    message = _errors(path, check_files=False)
    assert "focus_area.code" in message and "83" in message and "quote" in message


def test_end_before_start(tmp_path):
    path = _write(tmp_path, BASE.replace("end: 2014-09-30", "end: 2013-08-31"))
    message = _errors(path, check_files=False)
    assert "period" in message and "before its start" in message


def test_period_must_be_whole_months(tmp_path):
    path = _write(tmp_path, BASE.replace("start: 2013-10-01", "start: 2013-10-15"))
    assert "first day of a month" in _errors(path, check_files=False)


def test_wrong_type_and_missing_key_reported_together(tmp_path):
    text = BASE.replace("alpha: 0.05", "alpha: lots").replace('partnership: "Safer Maidstone '
                                                               'Partnership"\n', "")
    message = _errors(_write(tmp_path, text), check_files=False)
    assert "2 problems" in message
    assert "options.alpha" in message and "partnership: required key is missing" in message


def test_missing_input_file_names_key_and_path(tmp_path):
    path = _write(tmp_path, BASE)
    message = _errors(path)
    assert "data.lsoa_lookup: file or folder not found" in message
    assert "PoliceforceLSOA.csv" in message


def test_invalid_yaml_gives_line(tmp_path):
    path = _write(tmp_path, "assessment: [unclosed\n")
    assert "not valid YAML" in _errors(path)


def test_previous_period_must_precede(tmp_path):
    text = BASE.replace("# previous_period defaults to the 12 months before period.",
                        "previous_period:\n  start: 2014-01-01\n  end: 2014-12-31")
    assert "previous_period must end before period starts" in _errors(_write(tmp_path, text),
                                                                       check_files=False)


def test_recording_change_with_unknown_crime_type(tmp_path):
    text = BASE.replace('crime_types: ["Violence and sexual offences"]',
                        'crime_types: ["Violent crimes"]')
    assert "unknown crime type ['Violent crimes']" in _errors(_write(tmp_path, text),
                                                                 check_files=False)
