"""Run chapter notebooks with papermill and render ONE self-contained HTML appendix.

The chapters of an appendix run in worker processes that keep the library imported and one
IPython shell each (:mod:`.worker`, :mod:`.engine`): on two or more cores, in two workers at
once (each taking the next chapter as it becomes free), else one after another in one. The
chapters of a worker share one :class:`~.context.Assessment`, and the key findings are handed
every chapter's results, so nothing is computed twice for them. A batch of appendices reuses
worker processes across appendices (:mod:`.batch`).

The build reads the store; it does not ingest (:func:`smp_analysis.pipeline.prepare_store`
brings the store up to date first). Joining the chapters, it numbers them ("1. Overview"),
their sections ("1.1") and their tables and figures ("Table 1.2", "Figure 4.1") in order, and
drops sections whose outputs are all empty (a topic without its data shows one sentence, not
empty headings). Text reaches the page only through the report layer's blocks, which escape
every value (:mod:`smp_analysis.report.markup`).

The output is written atomically: the HTML is rendered to a temporary file in the target
folder and moved into place only when every chapter ran. A failed chapter leaves the previous
appendix untouched and keeps the executed notebook, with its error, under ``failed/``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from .. import store
from ..params import AssessmentParams, load_params
from ..pipeline import prepare_store
from ..store import queries
from . import provenance
from .markup import FIGURE_LABEL, SYNTHETIC_LABEL
from .page import Document, decorate, decorate_document  # noqa: F401 - decorate: re-exported
from .tables import TABLE_LABEL

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

PROJECT_DIR = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CHAPTER = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
log = logging.getLogger(__name__)  # one line a chapter; `smp appendix` prints them


class AppendixError(RuntimeError):
    """A chapter failed; the message says which, why and where the executed notebook is."""


@dataclass(frozen=True)
class AppendixResult:
    html: Path
    executed: list[Path]
    seconds: dict[str, float]
    tables: Path | None = None  # folder of CSVs, one a table
    workbook: Path | None = None  # every table in one .xlsx
    pdf: Path | None = None


def chapters(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if CHAPTER.match(p.name))
    if not found:
        raise AppendixError(f"no chapter notebooks (NN_name.ipynb) in {notebooks_dir}")
    return found


# A single build on two or more cores runs the chapters in two worker processes at once. The
# first starts with the priorities and the chapters showing results the priorities computed
# (domestic abuse, partner indicators: nothing is computed twice); the second with the two
# longest chapters no other needs. Then each takes whichever chapter is left, in the order of
# LONGEST_FIRST and then by name, as it becomes free; the key findings run last, in the
# first, handed every topic result both computed.
FIRST_WORKER = ("01_priorities", "06_domestic_abuse", "08_partner_indicators")
SECOND_WORKER = ("09_places", "05_expected_volumes")
LONGEST_FIRST = ("10_patterns", "03_rates", "02_overview")


def build_appendix(params_file: str | Path, *, out_dir: str | Path = PROJECT_DIR / "reports",
                   notebooks_dir: Path = NOTEBOOKS_DIR, progress: bool = False,
                   workers: int | None = None, prepare: bool = True,
                   pdf: bool = False) -> AppendixResult:
    """Validate params, update the store, run every chapter, write the HTML appendix, its
    tables as CSV and as one workbook, the resume manifest, and (`pdf=True`) an A4 PDF beside
    the HTML.

    The chapters run in reused worker processes (:mod:`.worker`), which import the library
    once and share the topic results between chapters; they start importing while the store
    is brought up to date. With `workers` 2 (the default on a machine with two or more cores)
    two processes run the chapters at the same time (:data:`FIRST_WORKER` in one,
    :data:`SECOND_WORKER` in the other, then whichever is left as each becomes free), and the
    key findings are handed the results of both; with 1, every chapter runs in one. The HTML
    is the same either way. `prepare=False` skips the store update (a batch prepares each
    store once). Each finished chapter is logged (logger
    ``smp_analysis.report.build``, level INFO).
    """
    from . import manifest, runs, worker

    params_file = Path(params_file).resolve()
    params = load_params(params_file)
    to_run = chapters(notebooks_dir)
    if workers is None:
        workers = 2 if _cores() >= 2 else 1
    in_two = (workers >= 2 and not worker.IN_WORKER
              and sum(not p.name.startswith(FRONT_MATTER) for p in to_run) >= 2)
    if not worker.IN_WORKER:
        worker.submit(worker.warm_up)
        if in_two:
            worker.submit(worker.warm_up, lane=1)
    if prepare:
        prepare_store(params, progress=progress)
    inputs = manifest.inputs_digest(params.data.store)
    fingerprints = None if inputs is None else manifest.stamp(
        params_file, inputs, manifest.code_version(to_run))
    where = {"out_dir": Path(out_dir).resolve(), "notebooks_dir": Path(notebooks_dir).resolve(),
             "fingerprints": fingerprints}
    if in_two:
        result = runs.run_appendix_in_two(params_file, **where)
    else:
        result = worker.call(runs.run_appendix, params_file, **where)
    if pdf:
        result = dataclasses.replace(result, pdf=write_appendix_pdf(result.html, params))
    return result


def _cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def write_appendix_pdf(html_path: Path, params: AssessmentParams, *,
                       synthetic: bool | None = None) -> Path:
    """Print a written appendix to ``<assessment>.pdf`` beside it (A4, Chromium; see
    :mod:`.pdf`). If printing fails, no PDF of an older build is left beside the new HTML."""
    from .pdf import write_pdf

    if synthetic is None:
        con = store.connect(params.data.store, read_only=True)
        try:
            synthetic = bool(queries.input_files(con)["synthetic"].any())
        finally:
            con.close()
    log.info("%s: printing the PDF", params.assessment)
    pdf_path = Path(html_path).with_suffix(".pdf")
    try:
        write_pdf(html_path, pdf_path, partnership=params.partnership, title=params.title,
                  synthetic_label=SYNTHETIC_LABEL if synthetic else "")
    except Exception:
        pdf_path.unlink(missing_ok=True)
        raise
    return pdf_path


FRONT_MATTER = "00_"  # chapters named 00_* (the key findings) are not numbered
CHAPTER_START = "smp-chapter-start"  # a cell tag; nbconvert writes it as class celltag_...
SECTION = re.compile(r"^##(?!#)\s*")
CHAPTER_HEADING = re.compile(r"^#(?!#)\s*(.*)$", re.MULTILINE)
SECTION_HEADING = re.compile(r"^##(?!#)\s*(.*)$", re.MULTILINE)


def assemble(chapters: list[tuple[str, nbformat.NotebookNode]]) -> nbformat.NotebookNode:
    """One notebook of every chapter's cells, in order: parameter cells, stderr and empty
    outputs removed, empty sections dropped, chapters, sections, tables and figures numbered.

    `chapters` are ``(file name, executed notebook)`` pairs; names starting ``00_`` are front
    matter and keep their headings and captions unnumbered.
    """
    merged = nbformat.v4.new_notebook()
    merged.metadata = copy.deepcopy(chapters[0][1].metadata)
    merged.metadata.pop("papermill", None)
    number = 0
    for name, nb in chapters:
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & {"parameters", "injected-parameters", "remove-cell"}:
                continue
            cell = copy.deepcopy(cell)
            # nbstripout numbers every chapter's cells from 0, so ids collide when chapters are
            # joined and nbconvert replaces them with random ones: the same inputs would not
            # give the same HTML. Ids made from the chapter name are unique and stable.
            cell["id"] = f"{Path(name).stem}-{len(cells)}"[-64:]
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if _shows_something(o)]
            cells.append(cell)
        cells = _without_empty_sections(cells)
        if cells:  # the print stylesheet starts each chapter on a new page
            tags = cells[0].setdefault("metadata", {}).setdefault("tags", [])
            cells[0].metadata.tags = [*tags, CHAPTER_START]
        if not name.startswith(FRONT_MATTER):
            number += 1
            _number(cells, number)
        merged.cells.extend(cells)
    return merged


def _shows_something(output) -> bool:
    if output.output_type == "stream":
        return output.name != "stderr" and bool(output.text.strip())
    if output.output_type in ("display_data", "execute_result"):
        data = output.get("data", {})
        if any(k.startswith("image/") for k in data):
            return True
        return any(str(_text(data.get(k, ""))).strip() for k in ("text/html", "text/plain"))
    return True  # errors are kept so a failure is never hidden


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _without_empty_sections(cells: list) -> list:
    """Drop each level-2 section (its heading cell up to the next heading of level 1 or 2)
    whose code cells show nothing: its topic had nothing to show."""
    kept, section = [], []

    def flush():
        if section and (not SECTION.match(section[0].source)
                        or any(c.cell_type == "code" and c.outputs for c in section)):
            kept.extend(section)
        section.clear()

    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            flush()
        section.append(cell)
    flush()
    return kept


def _number(cells: list, chapter: int) -> None:
    """Number the chapter heading, its sections and its tables and figures in place."""
    sections = iter(range(1, 1000))
    counters = {"table": iter(range(1, 1000)), "figure": iter(range(1, 1000))}

    def label(kind: str, tag: str, name: str):
        def replace(_match) -> str:
            n = next(counters[kind])
            return f'<{tag} id="{kind}-{chapter}-{n}">{name} {chapter}.{n}:'
        return replace

    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = CHAPTER_HEADING.sub(lambda m: f"# {chapter}. {m.group(1)}",
                                              cell.source)
            cell.source = SECTION_HEADING.sub(
                lambda m: f"## {chapter}.{next(sections)} {m.group(1)}", cell.source)
            continue
        for output in cell.get("outputs", []):
            html_text = output.get("data", {}).get("text/html")
            if html_text is None:
                continue
            html_text = _text(html_text)
            html_text = re.sub(re.escape(TABLE_LABEL), label("table", "caption", "Table"),
                               html_text)
            html_text = re.sub(re.escape(FIGURE_LABEL), label("figure", "figcaption", "Figure"),
                               html_text)
            output["data"]["text/html"] = html_text


def render(params: AssessmentParams, chapters: list[tuple[str, nbformat.NotebookNode]],
           prov: provenance.Provenance) -> str:
    return render_document(params, chapters, prov).html


def render_document(params: AssessmentParams, chapters: list[tuple[str, nbformat.NotebookNode]],
                    prov: provenance.Provenance) -> Document:
    merged = assemble(chapters)
    body, _ = html_exporter().from_notebook_node(merged)
    return decorate_document(body, params, prov)


@functools.cache
def html_exporter() -> HTMLExporter:
    """The appendix's exporter, made once a process: making one loads and compiles its
    templates (half a second), and a worker renders many appendices."""
    from .exporter import AppendixExporter  # nbconvert: only where appendices are rendered

    return AppendixExporter(template_name="smp", extra_template_basedirs=[str(TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)


@dataclass(frozen=True)
class AppendixOutcome:
    """One appendix of a batch: built (``result``) or failed (``error``, the reason)."""

    params_file: Path
    assessment: str | None = None
    result: AppendixResult | None = None
    error: str | None = None
    skipped: bool = False  # up to date: its manifest matched, nothing was rebuilt

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def html(self) -> Path | None:
        return self.result.html if self.result is not None else None

    @property
    def executed(self) -> list[Path]:
        return self.result.executed if self.result is not None else []

    @property
    def seconds(self) -> dict[str, float]:
        return self.result.seconds if self.result is not None else {}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, AppendixError | RuntimeError | ValueError | OSError) else \
        f"{type(exc).__name__}: {text}"


def build_appendices(params_files: list[str | Path], *, out_dir: str | Path = PROJECT_DIR /
                     "reports", notebooks_dir: Path = NOTEBOOKS_DIR, workers: int = 2,
                     progress: bool = False, scheduler: str | None = None,
                     force: bool = False, prepare: bool = True) -> list[AppendixOutcome]:
    """Build many appendices (every partnership of a county, several years...): one
    :class:`AppendixOutcome` per params file, in order. See :mod:`.batch` (processes, store
    preparation once per store, resume and `force`, `scheduler` for a running dask cluster;
    `prepare=False` when the stores are already up to date)."""
    from .batch import build_batch

    return build_batch(params_files, out_dir=out_dir, notebooks_dir=notebooks_dir,
                       workers=workers, progress=progress, scheduler=scheduler, force=force,
                       prepare=prepare)


def outcomes_table(outcomes: list[AppendixOutcome]) -> str:
    """The end-of-run table: one line per params file, built or failed with the reason.

    >>> print(outcomes_table([AppendixOutcome(Path("a.yaml"), "a", error="bad\\nmore")]))
    appendix  params  status  detail
    a         a.yaml  FAILED  bad
    1 failed of 1
    """
    rows = [(o.assessment or "-", o.params_file.name,
             "FAILED" if not o.ok else "unchanged" if o.skipped else "built",
             str(o.html) if o.ok else (o.error or "").splitlines()[0])
            for o in outcomes]
    header = ("appendix", "params", "status", "detail")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header[:3], widths, strict=True)) + "  "
             + header[3]]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
              for r in rows]
    failed = sum(not o.ok for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    lines.append((f"{failed} failed of {len(outcomes)}" if failed else
                  f"{len(outcomes)} built") + (f" ({skipped} unchanged since their last build, "
                                               "not rebuilt)" if skipped else ""))
    return "\n".join(lines)
