"""Chapter: data quality of the police.uk files behind the report: reconciliation (rows read =
loaded + quarantined), the stored data-quality findings (missing months, implausible volumes,
repeated Crime IDs, quarantined rows) and rows no district can claim.

Scope: only the police forces the report's areas draw on (the focus area's and the comparison
districts'), and their files; a store shared with other forces shows nothing of theirs.

Methods: :mod:`smp_analysis.methods.quality` (computed once per ingest, see
:mod:`smp_analysis.store.quality`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.disclosure import VICTIM_LEVEL_KINDS
from ..report.markup import Block, Prose
from ..report.tables import table
from ..report.words import count, join, plural
from ..store import quality, queries


@dataclass(frozen=True)
class DataQuality(TopicResult):
    current: ReportingPeriod
    previous: ReportingPeriod
    forces: tuple[str, ...] = ()
    files: pd.DataFrame | None = None  # police.uk files with their reconciliation counts
    quarantine: pd.DataFrame | None = None  # path, force, month, reason, rows
    anomalies: pd.DataFrame | None = None  # force, month, kind, detail
    force_monthly: pd.DataFrame | None = None  # force, month, crimes, asb, rows, no_lsoa
    unplaced: pd.DataFrame | None = None  # reason, count (assessment period)
    period_rows: int = 0  # rows in the assessment period
    synthetic: bool = False

    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        return Prose(self._reconciliation_sentence(), self._anomalies_sentence(),
                     self._unplaced_sentence())

    @when_available
    def figure(self) -> charts.Figure:
        flagged = self.anomalies[self.anomalies["kind"].str.startswith("implausibly")]
        forces = join(sorted(set(self.force_monthly["force"].astype(str))))
        marks = ("no month is flagged" if flagged.empty else
                 "flagged months: " + ", ".join(f"{m:%B %Y}" for m in flagged["month"]))
        return charts.monthly_with_flags(
            self.force_monthly, flagged, value="crimes",
            title="Recorded crime per month (excluding ASB), whole force",
            caption=f"Monthly recorded crime for {forces}, whose data this report uses; rings "
                    "mark months whose volume is implausibly low or high against neighbouring "
                    "months or the same months of previous years.",
            alt=f"Line chart of monthly recorded crime excluding anti-social behaviour for "
                f"{forces}, {len(self.force_monthly)} months; {marks}.",
            synthetic=self.synthetic)

    @when_available
    def findings_table(self) -> Block:
        a = self.anomalies
        view = pd.DataFrame({
            "Force": a["force"].astype(str),
            "Month": [f"{m:%b %Y}" if pd.notna(m) else "–" for m in a["month"]],
            "Finding": a["kind"], "Detail": a["detail"]})
        if view.empty:
            return Prose("The checks found nothing to report for these forces.")
        return table(view, f"Data-quality findings for {join(list(self.forces))}")

    @when_available
    def quarantine_table(self) -> Block:
        q = self.quarantine
        if q.empty:
            return Prose("No row was quarantined.")
        view = pd.DataFrame({"File": [Path(p).name for p in q["path"]],
                             "Reason": q["reason"], "Rows": q["rows"]})
        return table(view, "Rows set aside, by file and reason", counts=("Rows",))

    def headlines(self) -> list[str]:
        return [] if self.missing else [self._anomalies_sentence()]

    def _reconciliation_sentence(self) -> str:
        files = self.files
        read, loaded = int(files["rows_read"].sum()), int(files["rows_loaded"].sum())
        quarantined = int(files["rows_quarantined"].sum())
        status = ("Every row is accounted for" if read == loaded + quarantined
                  else "WARNING: the counts do not reconcile")
        return (f"This report uses {count(len(files))} police.uk files of {join(list(self.forces))}"
                f" holding "
                f"{count(read)} rows: {count(loaded)} were loaded and {count(quarantined)} were "
                f"quarantined (set aside with their file, line and reason). {status}: no row "
                "was dropped silently.")

    def _anomalies_sentence(self) -> str:
        anomalies = self.anomalies
        if anomalies.empty:
            return (f"The checks found no missing months, implausible volumes or duplicated "
                    f"records in the data of {join(list(self.forces))}.")
        touching = anomalies[anomalies["month"].between(pd.Timestamp(self.previous.start),
                                                        pd.Timestamp(self.current.end))]
        text = (f"The checks made {plural(len(anomalies), 'finding')} in the data of "
                f"{join(list(self.forces))}; {count(len(touching))} "
                f"{'concerns' if len(touching) == 1 else 'concern'} the two periods "
                "compared here "
                f"({self.previous.name} and {self.current.name}).")
        volume = touching[touching["kind"].str.startswith(("implausibly", "missing"))]
        if len(volume):
            listed = join([f"{m:%B %Y}" for m in sorted(set(volume["month"]))])
            text += f" Figures for {listed} should be read with care: see the table below."
        return text

    def _unplaced_sentence(self) -> str:
        total = int(self.unplaced["count"].sum()) if len(self.unplaced) else 0
        if self.period_rows == 0:
            return f"There are no records for {self.current.name}."
        share = 100 * total / self.period_rows
        return (f"In {self.current.name}, {count(total)} of {count(self.period_rows)} records "
                f"({share:.1f}%) have no location or an LSOA missing from the lookup, so they "
                "count towards force totals but not towards any district.")


def without_victim_level(quarantine: pd.DataFrame, anomalies: pd.DataFrame,
                         victim_paths: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantine rows and findings without those of victim-level extracts: a count of one or
    two rows set aside for a reason is a fact about a victim's record (their row counts are
    published, with disclosure control, in the provenance table only).

    >>> q = pd.DataFrame({"path": ["/d/2020-01-kent-street.csv", "/d/incidents.csv"],
    ...                   "force": ["kent", None], "month": [pd.Timestamp("2020-01-01"), pd.NaT],
    ...                   "reason": ["bad date", "bad date"], "rows": [2, 1]})
    >>> a = pd.DataFrame({"force": ["kent", None], "month": q["month"],
    ...                   "kind": ["rows quarantined"] * 2,
    ...                   "detail": ["2 rows: bad date", "1 row: bad date"]})
    >>> kept_q, kept_a = without_victim_level(q, a, {"/d/incidents.csv"})
    >>> kept_q["rows"].tolist(), kept_a["detail"].tolist()
    ([2], ['2 rows: bad date'])
    """
    victim = quarantine["path"].isin(victim_paths)
    # the findings derived from those rows (store.quality words them this way): no path is
    # kept with a finding, but a victim extract has no force and no month
    derived = {f"{plural(int(n), 'row')}: {reason}" for n, reason in
               zip(quarantine.loc[victim, "rows"], quarantine.loc[victim, "reason"], strict=True)}
    drop = ((anomalies["kind"] == "rows quarantined") & anomalies["force"].isna()
            & anomalies["month"].isna() & anomalies["detail"].isin(derived))
    return (quarantine[~victim].reset_index(drop=True),
            anomalies[~drop].reset_index(drop=True))


@topic
def compute(sa: Assessment) -> DataQuality:
    forces = tuple(dict.fromkeys((*sa.forces, *sa.comparison_forces)))
    if not forces:
        return DataQuality(current=sa.current, previous=sa.previous, missing=(
            f"The data store holds no police.uk records located in {sa.focus_name} or its "
            "comparison districts, so there is nothing to check."))
    files = queries.input_files(sa.con, forces)
    files = files[files["kind"] == "police_uk"].reset_index(drop=True)
    monthly = queries.force_monthly(sa.con)
    monthly = monthly[monthly["force"].isin(forces)].reset_index(drop=True)
    anomalies = quality.stored_anomalies(sa.con)
    anomalies = anomalies[anomalies["force"].isin(forces)].reset_index(drop=True)
    quarantine = queries.quarantine_summary(sa.con)
    quarantine = quarantine[quarantine["path"].isin(set(files["path"]))].reset_index(drop=True)
    unplaced = [queries.unplaced_counts(sa.con, start=sa.current.start, end=sa.current.end,
                                        falls_within=force) for force in forces]
    unplaced = pd.concat(unplaced, ignore_index=True).groupby("reason", as_index=False)[
        "count"].sum()
    in_period = monthly["month"].between(pd.Timestamp(sa.current.start),
                                         pd.Timestamp(sa.current.end))
    every_file = queries.input_files(sa.con)
    quarantine, anomalies = without_victim_level(quarantine, anomalies, set(
        every_file.loc[every_file["kind"].isin(VICTIM_LEVEL_KINDS), "path"]))
    return DataQuality(
        current=sa.current, previous=sa.previous, forces=forces, files=files,
        quarantine=quarantine, anomalies=anomalies, force_monthly=monthly, unplaced=unplaced,
        period_rows=int(monthly.loc[in_period, "rows"].sum()), synthetic=sa.synthetic)
