"""The appendix page around the chapters: cover, contents, tables as data, provenance.

:func:`decorate` takes nbconvert's HTML of the joined, numbered chapters and adds the cover
(what, where, when, which data and code), the table of contents (from the rendered headings,
so links always match), a CSV download link after every table and the workbook of all tables
(:mod:`.export`; embedded as data: URIs so the appendix stays one self-contained file), the
provenance section, and the synthetic-data banner. Every value is escaped
(:func:`~smp_analysis.report.markup.escape`). It also removes the tab stops nbconvert puts on
output areas (only links and controls should take keyboard focus).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from ..params import AssessmentParams
from . import export, provenance
from .markup import SYNTHETIC_LABEL, escape, neutralise
from .words import plural


@dataclass(frozen=True)
class Document:
    """A rendered appendix: the HTML and its tables as data (the same numbers and cells)."""

    html: str
    tables: list[export.ExportedTable]
    workbook: bytes


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def decorate(body: str, params: AssessmentParams, prov: provenance.Provenance) -> str:
    """Add the synthetic banner, cover page, table of contents and provenance section."""
    return decorate_document(body, params, prov).html


INTERACTIVE = {"a", "button", "input", "select", "textarea", "summary", "details"}


def decorate_document(body: str, params: AssessmentParams, prov: provenance.Provenance) -> Document:
    soup = BeautifulSoup(body, "html.parser")
    if soup.title is not None:
        soup.title.string = neutralise(params.title)  # bs4 escapes it when serialising
    main = soup.find("main")
    for anchor in main.find_all("a", class_="anchor-link"):
        anchor.decompose()
    # nbconvert's lab template makes every output area a tab stop; a keyboard user should
    # stop only on links and controls (wide tables wrap instead of scrolling, see the CSS)
    for tag in soup.find_all(tabindex=True):
        if tag.name not in INTERACTIVE:
            del tag["tabindex"]
    for image in main.find_all("img", alt=False):  # every figure has its own; never none
        image["alt"] = "No description has been provided for this image"
    tables = export.collect(main)
    synthetic_label = SYNTHETIC_LABEL if prov.synthetic else ""
    workbook = export.workbook_bytes(tables, title=params.title,
                                     source=f"{params.partnership}: tables of the Strategic "
                                            f"Assessment data appendix ({params.current.name})",
                                     synthetic=prov.synthetic,
                                     synthetic_label=_synthetic_sentence() if prov.synthetic
                                     else "")
    downloads = _add_download_links(soup, main, tables, params.assessment)
    used = {tag["id"] for tag in soup.find_all(id=True)}
    headings = []
    for tag in main.find_all(["h1", "h2"]):
        if not tag.get("id"):
            tag["id"] = _slug(tag.get_text(" ", strip=True), used)
        headings.append(tag)
    cover = BeautifulSoup(_cover_html(params, prov, headings), "html.parser")
    main.insert(0, cover)
    main.append(BeautifulSoup(_provenance_html(prov, _tables_html(params.assessment, downloads,
                                                                   workbook)), "html.parser"))
    if prov.synthetic:
        banner = soup.new_tag("div", attrs={"class": "smp-synthetic-banner", "role": "note"})
        banner.string = _synthetic_sentence()
        main.insert(0, banner)
        footer = soup.new_tag("footer", attrs={"class": "smp-synthetic-banner"})
        footer.string = synthetic_label
        main.append(footer)
    return Document(str(soup), tables, workbook)


def _synthetic_sentence() -> str:
    return (f"{SYNTHETIC_LABEL}: this appendix was built from generated data and describes no "
            "real place or person.")


def _data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _size(data: bytes) -> str:
    return f"{max(1, round(len(data) / 1024)):,} KB"


def _add_download_links(soup, main, tables: list[export.ExportedTable],
                        assessment: str) -> list[tuple[export.ExportedTable, str, bytes]]:
    """A 'Download Table 4.2 as CSV' link after every table. The CSV travels inside the link
    (a data: URI), so the appendix stays one self-contained file that can be emailed."""
    downloads = []
    for table, tag in zip(tables, main.find_all("table", class_="smp-table"), strict=True):
        data = export.csv_bytes(table)
        name = table.file_name(assessment)
        paragraph = soup.new_tag("p", attrs={"class": "smp-download"})
        link = soup.new_tag("a", attrs={"href": _data_uri("text/csv;charset=utf-8", data),
                                        "download": name})
        link.string = f"Download {table.label} as CSV"
        paragraph.append(link)
        paragraph.append(f" ({_size(data)})")
        tag.insert_after(paragraph)
        downloads.append((table, name, data))
    return downloads


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tables_html(assessment: str, downloads, workbook: bytes) -> str:
    e = escape
    name = export.workbook_name(assessment)
    rows = "".join(
        f'<tr><td><a href="#{e(t.anchor)}">{e(t.label)}</a></td><td>{e(t.caption)}</td>'
        f"<td>{e(file)}</td><td>{len(t.rows):,}</td><td>{hashlib.sha256(data).hexdigest()}</td></tr>"
        for t, file, data in downloads)
    count = len(downloads)
    return f"""
  <h3 id="tables-as-data">Tables as data</h3>
  <p>Every table is also available as data, with the same numbers and the same disclosure
  control as printed here: each as a CSV file (listed below) and all of them in one workbook,
  {e(name)}. The build writes them beside this appendix ({e(name)}, and the folder
  {e(assessment)}/tables/), and this file carries them too:</p>
  <p class="smp-download"><a class="smp-download-all" href="{_data_uri(XLSX, workbook)}"
  download="{e(name)}">Download all {plural(count, "table")} as one workbook</a>
  ({e(name)}, {_size(workbook)}); each table's CSV is linked below the table.</p>
  <table class="smp-files"><thead><tr><th scope="col">table</th><th scope="col">caption</th>
  <th scope="col">CSV file</th><th scope="col">rows</th><th scope="col">SHA-256</th></tr></thead>
  <tbody>{rows}</tbody></table>"""


def _cover_html(params: AssessmentParams, prov: provenance.Provenance, headings) -> str:
    e = escape
    toc = "".join(
        f'<li class="toc-{h.name}"><a href="#{e(h["id"])}">{e(h.get_text(" ", strip=True))}</a></li>'
        for h in headings)
    data_note = SYNTHETIC_LABEL if prov.synthetic else "Police recorded crime (data.police.uk format)"
    return f"""
<section class="smp-cover" id="cover">
  <h1>{e(params.title)}</h1>
  <p>{e(params.partnership)}: Strategic Assessment data appendix</p>
  <dl>
    <dt>Focus area</dt><dd>{e(params.focus_area.name)} ({e(params.focus_area.code)})</dd>
    <dt>Compared with</dt><dd>{e(params.comparison_area.name)}</dd>
    <dt>Assessment period</dt><dd>{e(params.current.name)}</dd>
    <dt>Compared period</dt><dd>{e(params.previous.name)}</dd>
    <dt>Data</dt><dd>{e(data_note)}</dd>
    <dt>Produced</dt><dd>{e(prov.run_at)} by smp-analysis {e(prov.packages.get("smp-analysis", ""))}</dd>
    <dt>Code version</dt><dd>{e(prov.git_commit)}</dd>
    <dt>Parameters file</dt><dd>{e(str(params.source_file.name if params.source_file else ""))}
      (SHA-256 {e(prov.params_sha256[:16])}&hellip;)</dd>
  </dl>
  <p>Full provenance (every input file with its SHA-256, package versions, parameters) is in
  <a href="#provenance">Provenance</a>. Every table is also available as data (CSV, and one
  workbook of all tables): see <a href="#tables-as-data">Tables as data</a>.</p>
</section>
<nav class="smp-toc" id="contents" aria-label="Table of contents">
  <h2>Contents</h2>
  <ul>{toc}<li class="toc-h2"><a href="#provenance">Provenance</a></li>
  <li class="toc-h3"><a href="#tables-as-data">Tables as data</a></li></ul>
</nav>"""


def _provenance_html(prov: provenance.Provenance, tables_html: str = "") -> str:
    e = escape
    inputs, totals = prov.input_rows()  # victim-level extracts' counts pass disclosure control
    rows = "".join(
        f"<tr><td>{e(str(r.kind))}</td><td>{e(Path(str(r.path)).name)}</td><td>{e(str(r.sha256))}</td>"
        f"<td>{e(r.rows_read)}</td><td>{e(r.rows_loaded)}</td><td>{e(r.rows_quarantined)}</td></tr>"
        for r in inputs.itertuples())
    packages = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in prov.packages.items())
    return f"""
<section class="smp-provenance" id="provenance">
  <h2>Provenance</h2>
  <p>Run at {e(prov.run_at)}; code version {e(prov.git_commit)}.</p>
  <h3>Parameters (SHA-256 {e(prov.params_sha256)})</h3>
  <pre>{e(prov.params_yaml)}</pre>
  <h3>Input files ({len(inputs)}; {e(totals)})</h3>
  <details><summary>Show every input file and its SHA-256</summary>
  <table><thead><tr><th>kind</th><th>file</th><th>SHA-256</th><th>rows read</th>
  <th>rows loaded</th><th>rows quarantined</th></tr></thead><tbody>{rows}</tbody></table>
  </details>
  {tables_html}
  <h3>Package versions</h3>
  <table><tbody>{packages}</tbody></table>
</section>"""
