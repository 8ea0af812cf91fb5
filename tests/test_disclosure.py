"""Disclosure control: the audit against brute force, the suppression pattern against attacks,
the domestic-abuse chapter on crafted tiny-ward extracts, the threshold parameter, and the
quarantine counts of victim extracts.

Attacks read what is published (display frames, rendered HTML), never the suppression code's
own state; :mod:`disclosure_attack` states the reader's knowledge independently.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from disclosure_attack import read_chapter

from smp_analysis.errors import ParamsError
from smp_analysis.params import ParamsWarning, load_params
from smp_analysis.periods import ReportingPeriod
from smp_analysis.report.disclosure import (
    MARKER,
    check_threshold,
    protect,
    suppress,
)
from smp_analysis.report.disclosure_audit import Audit, InconsistentFigures, at_most, total
from smp_analysis.report.provenance import input_rows
from smp_analysis.topics.domestic_abuse import HIGH_HARM_TYPES, measure

# ---------------------------------------------------------------------------- the audit


def _brute_force(published, hidden, relations, limit):
    """Every assignment of 1..limit to the hidden cells that satisfies every relation."""
    lows = {k: None for k in hidden}
    highs = {k: None for k in hidden}
    for combo in itertools.product(range(1, limit + 1), repeat=len(hidden)):
        values = {**published, **dict(zip(hidden, combo, strict=True))}
        if all(r.holds(values) for r in relations):
            for k, v in zip(hidden, combo, strict=True):
                lows[k] = v if lows[k] is None else min(lows[k], v)
                highs[k] = v if highs[k] is None else max(highs[k], v)
    return lows, highs


def _grid(cells: np.ndarray):
    """A two-way table with row, column and grand totals, as cells and relations."""
    rows, cols = cells.shape
    values = {(i, j): int(cells[i, j]) for i in range(rows) for j in range(cols)}
    for i in range(rows):
        values[(i, "T")] = int(cells[i].sum())
    for j in range(cols):
        values[("T", j)] = int(cells[:, j].sum())
    values[("T", "T")] = int(cells.sum())
    relations = [total((i, "T"), [(i, j) for j in range(cols)]) for i in range(rows)]
    relations += [total(("T", j), [(i, j) for i in range(rows)]) for j in range(cols)]
    relations.append(total(("T", "T"), [(i, "T") for i in range(rows)]))
    return values, relations


@pytest.mark.parametrize("seed", range(12))
def test_audit_ranges_match_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    cells = rng.integers(1, 6, size=(3, 2))
    values, relations = _grid(cells)
    relations.append(at_most((0, 0), (1, 1)) if cells[0, 0] <= cells[1, 1] else
                     at_most((1, 1), (0, 0)))  # a linked-column fact
    keys = [k for k in values if k != ("T", "T")]
    hidden = [keys[i] for i in rng.choice(len(keys), size=3, replace=False)]
    published = {k: v for k, v in values.items() if k not in hidden}
    lows, highs = _brute_force(published, hidden, relations, values[("T", "T")])
    audit = Audit(published, hidden, relations)
    for k in hidden:
        assert (audit.range(k).low, audit.range(k).high) == (lows[k], highs[k]), k
        assert audit.protected(k, 3, value=values[k]) == (highs[k] - lows[k] >= 3)


def test_two_hidden_cells_sharing_what_the_total_leaves_are_pinned():
    # the case: a total and two hidden cells leave 2 to share, zeros are published
    published = {"A": 40, "B": 0, "total": 42}
    audit = Audit(published, ["C", "D"], [total("total", ["A", "B", "C", "D"])])
    assert audit.range("C") == audit.range("D")
    assert (audit.range("C").low, audit.range("C").high) == (1, 1)


def test_victims_hidden_next_to_incidents_and_repeats_is_pinned():
    # incidents - repeat incidents <= victims <= incidents: with no repeats, victims = incidents
    published = {"incidents": 20, "repeats": 0}
    relations = [at_most("victims", "incidents"), at_most("incidents", ["victims", "repeats"])]
    r = Audit(published, ["victims"], relations).range("victims")
    assert (r.low, r.high) == (20, 20) and not r.protected(5)


def test_unbounded_and_inconsistent_figures():
    r = Audit({}, ["x"], [at_most("y", "x")]).range("x")
    assert r.high == float("inf") and r.protected(5)
    with pytest.raises(InconsistentFigures):
        Audit({"a": 5, "total": 3}, [], [total("total", ["a"])])
    with pytest.raises(InconsistentFigures):
        Audit({"a": 5, "total": 3}, ["b"], [total("total", ["a", "b"])]).range("b")


# ---------------------------------------------------------------------------- the pattern


def _attack_table(shown: pd.DataFrame, counts, label, *, linked=(), threshold=5):
    """Attack a published one-table display (last row the total) from its text alone."""
    published, hidden, relations = {}, [], []
    *body, last = shown.index
    for i in shown.index:
        for c in counts:
            text = shown.at[i, c]
            assert text == MARKER or not re.fullmatch(r"[1-9]|[1-9]\d*", text.replace(",", "")) \
                or int(text.replace(",", "")) >= threshold, (i, c, text)
            if text == MARKER:
                hidden.append((i, c))
            else:
                published[(i, c)] = int(text.replace(",", ""))
        relations += [at_most((i, s), (i, b)) for s, b in linked]
    relations += [total((last, c), [(i, c) for i in body]) for c in counts]
    audit = Audit(published, hidden, relations)
    return {k: audit.range(k) for k in hidden if not audit.range(k).protected(threshold)}


TINY_TABLES = [
    {"incidents": [1, 2, 3, 40], "repeats": [0, 1, 1, 12]},         # wards of 1, 2, 3
    {"incidents": [59, 1], "repeats": [20, 0]},                      # all but one incident
    {"incidents": [1, 1], "repeats": [0, 0]},                        # everything small
    {"incidents": [0, 7, 0, 2, 30], "repeats": [0, 2, 0, 0, 9]},     # zeros
    {"incidents": [2, 2, 30, 31, 6], "repeats": [1, 1, 4, 3, 5]},
]


@pytest.mark.parametrize("case", TINY_TABLES)
def test_tiny_ward_tables_survive_differencing_and_integer_bounds(case):
    frame = pd.DataFrame({"ward": [f"W{i}" for i in range(len(case["incidents"]))], **case})
    shown = suppress(frame, counts=["incidents", "repeats"], threshold=5, total_label="Total",
                     label_column="ward", rates={"rate": ("repeats", "incidents")},
                     linked=[("repeats", "incidents")])
    assert _attack_table(shown, ["incidents", "repeats"], "ward",
                         linked=[("repeats", "incidents")]) == {}
    for _, row in shown.iterrows():  # a rate is never shown next to a hidden count
        if MARKER in (row["incidents"], row["repeats"]):
            assert row["rate"] == MARKER


def test_secondary_cells_get_the_marker_not_a_false_small_figure():
    table = pd.DataFrame({"ward": ["A", "B", "C", "D"], "incidents": [50, 4, 30, 20],
                          "repeats": [10, 0, 3, 6]})
    shown = suppress(table, counts=["incidents", "repeats"], threshold=5, total_label="Total",
                     label_column="ward", rates={"rate": ("repeats", "incidents")})
    # B (4) is small; D (20) is hidden only to protect it, and is not shown as "<5"
    assert shown["incidents"].tolist() == ["50", "[c]", "30", "[c]", "104"]
    assert shown["repeats"].tolist() == ["10", "0", "[c]", "[c]", "19"]
    assert shown["rate"].tolist() == ["20.0%", "[c]", "[c]", "[c]", "18.3%"]
    assert not shown.isin(["<5"]).any().any()


def test_protect_checks_its_relations_and_is_deterministic():
    with pytest.raises(ValueError, match="does not hold"):
        protect({"a": 3, "b": 1}, [at_most("a", "b")], 5)
    with pytest.raises(ValueError, match="whole number"):
        protect({"a": 2.5}, [], 5)
    values = {f"w{i}": v for i, v in enumerate([1, 2, 3, 9, 14, 4, 60])}
    values["total"] = sum(values.values())
    relations = [total("total", [k for k in values if k != "total"])]
    assert protect(values, relations, 5).hidden == protect(values, relations, 5).hidden


@pytest.mark.parametrize("bad", [True, False, 1, 2, 2.5, "5", None])
def test_threshold_rejects_booleans_small_and_non_integers(bad):
    with pytest.raises(ValueError, match="at least 3"):
        check_threshold(bad)


@pytest.mark.parametrize("value, ok, warns", [
    ("true", False, False), ("1", False, False), ("2", False, False), ("4.5", False, False),
    ('"5"', False, False), ("3", True, True), ("4", True, True), ("5", True, False),
    ("10", True, False)])
def test_params_suppression_threshold(demo_params, tmp_path, value, ok, warns):
    text = demo_params.read_text().replace("suppression_threshold: 5",
                                          f"suppression_threshold: {value}")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if ok:
            assert load_params(path).options.suppression_threshold == int(value)
        else:
            with pytest.raises(ParamsError, match=r"options\.suppression_threshold.*at least 3"):
                load_params(path)
    assert any(issubclass(w.category, ParamsWarning) for w in caught) == warns


# ---------------------------------------------------------------------------- the chapter

CURRENT = ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 31), "April 2023 to March 2024")
PREVIOUS = ReportingPeriod(dt.date(2022, 4, 1), dt.date(2023, 3, 31), "April 2022 to March 2023")
TYPES = [*HIGH_HARM_TYPES, "Assault", "Assault", "Harassment"]


def crafted(wards: dict[str, list[int]], previous: tuple[int, int] = (40, 0)):
    """Incidents whose truth is known by construction. `wards` lists, per ward, how many
    incidents each of its victims had in the current period (20 days apart, so every one after
    the first is a repeat); `previous` is (incidents, repeats) in the previous period. No
    victim is in two wards or has an earlier incident, so victims = incidents - repeats."""
    rows, n = [], 0
    truth = {}
    for w, victims in wards.items():
        truth[w] = {"incidents": sum(victims), "victims": len(victims),
                    "repeat_incidents": sum(victims) - len(victims),
                    "repeat_victims": sum(k > 1 for k in victims)}
        for j, k in enumerate(victims):
            start = pd.Timestamp(CURRENT.start) + pd.Timedelta(days=(7 * j) % 200)
            for i in range(k):
                n += 1
                rows.append((str(n), f"{w}-{j}", start + pd.Timedelta(days=20 * i),
                             TYPES[n % len(TYPES)], n % 3 != 0, w))
    count, repeats = previous
    for j in range(count):
        n += 1
        victim = j if j < count - repeats else j - (count - repeats)
        day = j % 150 + (160 if j >= count - repeats else 0)
        rows.append((str(n), f"prev-{victim}", pd.Timestamp(PREVIOUS.start) + pd.Timedelta(days=day),
                     "Assault", True, next(iter(wards))))
    frame = pd.DataFrame(rows, columns=["incident_id", "victim_key", "date", "incident_type",
                                        "is_crime", "ward"])
    return frame, truth


def _chapter(wards, previous=(40, 0), referrals=None, threshold=5):
    frame, truth = crafted(wards, previous)
    result = measure(frame, referrals, area="Town", current=CURRENT, previous=PREVIOUS,
                     window_days=365, threshold=threshold, alpha=0.05, population=100_000)
    return result, truth


def _html(result) -> str:
    return "".join(b._repr_html_() for b in (result.table(), result.ward_table(),
                                             result.high_harm_table()))


CHAPTERS = {
    "wards of 1, 2 and 3 incidents": {"A": [1], "B": [2], "C": [1, 2], "D": [1] * 30 + [2] * 10 + [3] * 5},
    "one ward with all but one incident": {"Big": [1] * 50 + [2] * 10, "Tiny": [1]},
    "zeros": {"A": [1] * 20, "B": [1] * 8, "C": [2]},
    "everything small": {"A": [1], "B": [1]},
    "two tiny wards and two large": {"A": [2], "B": [1, 1], "C": [1] * 25 + [2] * 6, "D": [1] * 18 + [3] * 2},
}


@pytest.mark.parametrize("name", CHAPTERS)
def test_crafted_chapter_survives_differencing_and_integer_bounds(name):
    result, truth = _chapter(CHAPTERS[name])
    html = _html(result)
    assert "&lt;5" not in html and "<5" not in html
    for plausible in (False, True):  # the crafted data make the plausible equalities true
        chapter = read_chapter(html, plausible=plausible)
        assert chapter.conflicts == []
        assert chapter.recovered(5) == {}, chapter.recovered(5)
        assert chapter.differencing() == {}
    audit = read_chapter(html, plausible=True).audit()
    for key in audit.hidden:  # the truth is among the tables the reader cannot rule out
        if key[0] == "ward":
            r = audit.range(key)
            assert r.low <= truth[key[1]][key[2]] <= r.high, key
    for w, counts in truth.items():  # a published figure is the true one
        for measure_name, value in counts.items():
            shown = read_chapter(html).published.get(("ward", w, measure_name))
            assert shown in (None, value)


def test_change_from_a_hidden_count_is_not_written():
    result, _ = _chapter({"A": [1] * 100 + [2] * 7}, previous=(3, 0))
    text = result.summary().text()
    assert "3700" not in text and "rose by" not in text and "111 more" not in text
    assert "114" in text  # the current count itself is published
    assert "not published" in text


def test_repeat_rate_test_on_a_hidden_count_is_not_printed():
    result, _ = _chapter({"A": [1] * 110 + [2] * 2}, previous=(40, 10))  # 2 repeats now
    text = result.summary().text()
    repeat_part = text[text.index("rose by"):]
    assert "p = " not in repeat_part.split(".", 3)[-1] and "repeats (" not in text
    assert result.headlines() == []
    assert "share of incidents that were repeats is not published" in text


def test_published_figures_in_sentences_come_from_published_cells():
    result, _ = _chapter(CHAPTERS["wards of 1, 2 and 3 incidents"])
    chapter = read_chapter(_html(result))
    allowed = {f"{v:,}" for v in chapter.published.values()} | {"365", "1,000", "2022", "2023",
                                                                 "2024"}
    now, before = (chapter.published.get(("district", p, "incidents")) for p in ("current", "previous"))
    if now is not None and before is not None:  # "31 more incidents": from two published counts
        allowed.add(f"{abs(now - before):,}")
    text = " ".join([result.summary().text(), result.marac_summary().text(), *result.headlines()])
    integers = re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})*(?![\d.,%]|\.\d)", text)
    assert set(integers) <= allowed, set(integers) - allowed


def test_ward_chart_labels_only_wards_whose_rate_is_published():
    result, _ = _chapter({**CHAPTERS["two tiny wards and two large"],
                          "E": [1] * 30 + [2] * 8, "F": [1] * 40 + [2] * 9})
    figure = result.ward_figure()
    chapter = read_chapter(_html(result))
    listed = re.findall(r"([A-Z]) (\d+\.\d)%", figure.alt)
    assert [w for w, _ in listed] == ["E", "F"]  # highest first
    for w, _ in listed:
        assert {("ward", w, "incidents"), ("ward", w, "repeat_incidents")} <= set(chapter.published)
    hidden_wards = {k[1] for k in chapter.hidden if k[0] == "ward"}
    assert not hidden_wards & {w for w, _ in listed}


def test_marac_sentence_hides_small_repeat_counts():
    referrals = pd.DataFrame({
        "referral_id": [str(i) for i in range(30)],
        "victim_key": [f"v{i}" for i in range(28)] + ["v0", "v1"],
        "referral_date": pd.to_datetime(["2023-05-01"] * 28 + ["2023-09-01"] * 2)})
    result, _ = _chapter(CHAPTERS["zeros"], referrals=referrals)
    text = result.marac_summary().text()
    assert "30 Marac referrals" in text and "not published" in text
    assert "SafeLives" not in text and not re.search(r"\b2\b", text)


# ---------------------------------------------------------------------------- quarantine


def test_quarantine_counts_of_victim_extracts_are_protected():
    files = pd.DataFrame({"kind": ["police_uk", "incidents", "marac_referrals", "incidents"],
                          "rows_read": [1000, 3000, 3, 800], "rows_loaded": [998, 2998, 3, 790],
                          "rows_quarantined": [2, 2, 0, 10]})
    shown, line = input_rows(files, 5)
    assert shown["rows_quarantined"].tolist() == ["2", MARKER, "0", "10"]
    assert shown["rows_loaded"].tolist() == ["998", MARKER, MARKER, "790"]
    assert shown["rows_read"].tolist() == ["1,000", "3,000", MARKER, "800"]
    # the totals leave out the protected extracts, so they cannot be differenced
    assert line.startswith("1,800 rows read = 1,788 loaded + 12 quarantined (not counting 2 ")


def test_data_quality_chapter_leaves_out_victim_extract_quarantine(tmp_path, demo_dir):
    from smp_analysis import store
    from smp_analysis.store import ingest, quality, queries
    from smp_analysis.topics.data_quality import without_victim_level

    header = ("incident_id,victim_id,date,time,incident_type,domestic,is_crime,perpetrator_id,"
              "lsoa_code,ward_code,district_code")
    good = "{},VIC{:03d},2023-05-01,21:30,Assault,true,true,PER9,E01024321,E05005044,E07000110"
    lines = [good.format(100 + i, i) for i in range(40)]
    lines += [good.format(200, 1).replace("2023-05-01", "2023-13-45"),     # one bad date
              good.format(201, 2).replace("true,true", "maybe,true")]      # one bad flag
    extract = tmp_path / "incidents.csv"
    extract.write_text("\n".join([header, *lines]) + "\n")
    con = store.connect(tmp_path / "s.duckdb")
    police = sorted((demo_dir / "police_uk").glob("*/*.csv"))[0]
    ingest.ingest_police_uk(con, [police])
    ingest.load_victim_extract(con, "incidents", extract, b"9d41c7e2a05b8f36e1d4a7c2b9f0e853")
    quality.refresh(con)
    files = queries.input_files(con)
    victim_paths = set(files.loc[files["kind"] == "incidents", "path"])
    everything = queries.quarantine_summary(con)
    assert everything["path"].isin(victim_paths).sum() == 2  # the store has them...
    findings = quality.stored_anomalies(con)
    assert findings["detail"].str.contains("1 row").any()
    kept_q, kept_a = without_victim_level(everything, findings, victim_paths)
    assert not kept_q["path"].isin(victim_paths).any()  # ...the chapter does not show them
    assert not kept_a["detail"].str.contains("1 row").any()
    assert len(kept_a) == len(findings) - 2
    shown, _ = input_rows(files, 5)
    row = shown[files["kind"] == "incidents"].iloc[0]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == ("42", MARKER, MARKER)
    con.close()


def test_chapter_with_look_back_repeats_and_a_victim_in_two_wards():
    """Real data break the near-totals (repeats of earlier incidents, victims who move ward):
    the relations still hold, the attack recovers nothing and every range holds the truth."""
    frame, _ = crafted({"A": [1] * 12 + [2] * 3, "B": [1] * 9, "C": [1, 1, 2]}, previous=(30, 4))
    extra = pd.DataFrame({  # v-moves: two incidents in A then one in C; v-back: seen last year
        "incident_id": ["900", "901", "902", "903", "904"],
        "victim_key": ["v-moves", "v-moves", "v-moves", "v-back", "v-back"],
        "date": pd.to_datetime(["2023-05-01", "2023-06-01", "2023-07-01", "2023-02-01",
                                "2023-04-10"]),
        "incident_type": ["Assault", "Stalking", "Assault", "Assault", "Threats to kill"],
        "is_crime": True, "ward": ["A", "A", "C", "B", "B"]})
    frame = pd.concat([frame, extra], ignore_index=True)
    result = measure(frame, None, area="Town", current=CURRENT, previous=PREVIOUS,
                     window_days=365, threshold=5, alpha=0.05, population=100_000)
    by_ward = result.current.by_area.set_index("ward")
    assert by_ward.loc["C", "incidents"] - by_ward.loc["C", "repeat_incidents"] \
        < by_ward.loc["C", "victims"]  # the near-total fails here, as on real data
    chapter = read_chapter(_html(result))
    assert chapter.recovered(5) == {} and chapter.differencing() == {}
    audit = chapter.audit()
    for key in audit.hidden:
        if key[0] == "ward":
            r = audit.range(key)
            assert r.low <= by_ward.loc[key[1], key[2]] <= r.high, key


def test_no_incidents_in_the_period_says_so_without_a_repeat_rate():
    frame, _ = crafted({"A": [1]}, previous=(40, 6))
    frame = frame[frame["date"] < pd.Timestamp(CURRENT.start)]
    result = measure(frame, None, area="Town", current=CURRENT, previous=PREVIOUS,
                     window_days=365, threshold=5, alpha=0.05, population=100_000)
    text = result.summary().text()
    assert "there were 0 domestic-abuse incidents" in text and "fell by 100.0%" in text
    assert "repeats" not in text and "not published" not in text


def test_the_attack_finds_what_the_old_tables_gave_away():
    """The attacker is not vacuous: on tables suppressed the old way (no line with one hidden
    cell, "<5" everywhere, rates and linked columns unchecked) it recovers the issue's leaks."""
    from smp_analysis.report.tables import protected_table

    wards = pd.DataFrame({
        "Ward": ["A", "B", "C", "Town total"],
        "Incidents": ["42", "<5", "<5", "44"],          # B + C = 2: both are 1
        "Repeat incidents": ["10", "0", "0", "10"],
        "Victims": ["32", "<5", "<5", "34"],
        "Repeat victims": ["8", "0", "0", "8"],
        "Repeat incident rate": ["23.8%", "–", "–", "22.7%"]})
    summary = pd.DataFrame({"Measure": ["Incidents", "Repeat incidents", "Victims"],
                            "Before": ["20", "0", "<5"], "Now": ["44", "10", "34"]})
    html = (protected_table(summary, "Domestic abuse in Town", counts=(), note="").
            _repr_html_() +
            protected_table(wards, "Domestic abuse by ward", counts=("Incidents",), note="")
            ._repr_html_())
    chapter = read_chapter(html)
    recovered = chapter.recovered(5)
    # victims = incidents - repeat incidents gives the hidden victims cell of the summary
    assert (recovered[("district", "previous", "victims")].low,
            recovered[("district", "previous", "victims")].high) == (20, 20)
    assert ("ward", "B", "incidents") in recovered and ("ward", "C", "victims") in recovered
    # a total with two hidden cells that must each be at least 1 and leave 2 to share
    assert chapter.differencing() == {("ward", "B", "incidents"): 1, ("ward", "C", "incidents"): 1}
