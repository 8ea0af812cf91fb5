"""Joining chapters: numbering, empty sections, outputs kept and dropped (no kernel needed)."""

from __future__ import annotations

import nbformat
from bs4 import BeautifulSoup

from smp_analysis.report.build import assemble
from smp_analysis.report.markup import EMPTY, Notice, Prose


def _output(block) -> dict:
    bundle = {"text/plain": repr(block)}
    html = block._repr_html_()
    if html:
        bundle["text/html"] = html
    return nbformat.v4.new_output("display_data", data=bundle)


def _code(*outputs):
    cell = nbformat.v4.new_code_cell("display(x)")
    cell.outputs = list(outputs)
    return cell


def _table(caption: str):
    import pandas as pd

    from smp_analysis.report.tables import table

    return table(pd.DataFrame({"a": [1]}), caption)


def _chapter(*cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("params_file = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *cells]
    return nb


def test_chapters_sections_tables_and_figures_are_numbered_in_order():
    front = _chapter(nbformat.v4.new_markdown_cell("# Key findings"),
                     _code(_output(_table("front table"))))
    one = _chapter(nbformat.v4.new_markdown_cell("# Overview\n\nIntro."),
                   _code(_output(_table("first"))),
                   nbformat.v4.new_markdown_cell("## By type"),
                   _code(_output(_table("second")), _output(_table("third"))))
    two = _chapter(nbformat.v4.new_markdown_cell("# Rates"),
                   nbformat.v4.new_markdown_cell("## Districts"),
                   _code(_output(_table("fourth"))))
    merged = assemble([("00_summary.ipynb", front), ("01_a.ipynb", one), ("02_b.ipynb", two)])
    headings = [c.source.splitlines()[0] for c in merged.cells if c.cell_type == "markdown"]
    assert headings == ["# Key findings", "# 1. Overview", "## 1.1 By type", "# 2. Rates",
                        "## 2.1 Districts"]
    html = "".join(o["data"]["text/html"] for c in merged.cells if c.cell_type == "code"
                   for o in c.outputs)
    captions = [c.get_text() for c in BeautifulSoup(html, "html.parser").find_all("caption")]
    assert captions == ["Table: front table", "Table 1.1: first", "Table 1.2: second",
                        "Table 1.3: third", "Table 2.1: fourth"]
    ids = [c.get("id") for c in BeautifulSoup(html, "html.parser").find_all("caption")]
    assert ids == [None, "table-1-1", "table-1-2", "table-1-3", "table-2-1"]
    assert not any("parameters" in c.metadata.get("tags", []) for c in merged.cells)


def test_sections_with_nothing_to_show_are_dropped_with_their_prose():
    chapter = _chapter(
        nbformat.v4.new_markdown_cell("# Domestic abuse\n\nIntro."),
        _code(_output(Notice("No victim-level incident extract was supplied.", "unavailable"))),
        nbformat.v4.new_markdown_cell("## Marac\n\nProse about Marac."),
        _code(_output(EMPTY)),
        nbformat.v4.new_markdown_cell("## By ward"),
        _code(_output(EMPTY), _output(EMPTY)),
        nbformat.v4.new_markdown_cell("## Kept"),
        _code(_output(Prose("Something to say."))))
    merged = assemble([("05_da.ipynb", chapter)])
    text = "\n".join(c.source for c in merged.cells if c.cell_type == "markdown")
    assert "Marac" not in text and "By ward" not in text
    assert "# 1. Domestic abuse" in text and "## 1.1 Kept" in text
    assert [len(c.outputs) for c in merged.cells if c.cell_type == "code"] == [1, 1]


def test_stderr_and_empty_outputs_go_errors_stay():
    stderr = nbformat.v4.new_output("stream", name="stderr", text="warning\n")
    error = nbformat.v4.new_output("error", ename="E", evalue="boom", traceback=[])
    chapter = _chapter(nbformat.v4.new_markdown_cell("# A"),
                       _code(stderr, _output(EMPTY), error))
    (cell,) = [c for c in assemble([("01_a.ipynb", chapter)]).cells if c.cell_type == "code"]
    assert [o.output_type for o in cell.outputs] == ["error"]


def test_a_topic_without_its_data_says_why_and_shows_nothing_else(demo_params):
    import duckdb

    from smp_analysis.params import load_params
    from smp_analysis.report import Assessment
    from smp_analysis.topics import domestic_abuse

    sa = Assessment(load_params(demo_params), duckdb.connect())
    result = domestic_abuse.compute(sa)
    assert not result.available
    assert "No victim-level incident extract" in result.summary()._repr_html_()
    for part in (result.table(), result.marac_summary(), result.ward_figure(),
                 result.ward_table(), result.high_harm_table()):
        assert part is EMPTY
    assert result.headlines() == []
    assert domestic_abuse.compute(sa) is result  # cached on the assessment


def test_the_page_has_tab_stops_only_on_controls_and_alt_text_on_every_image(demo_params):
    """nbconvert's exporter would add a tab stop to every output area and a placeholder to an
    image without alt text in a pass over the whole page; the appendix's exporter skips that
    pass and the page decoration does what is wanted of it."""
    import pandas as pd

    from smp_analysis.params import load_params
    from smp_analysis.report import provenance
    from smp_analysis.report.build import render_document

    no_alt = nbformat.v4.new_output("display_data", data={
        "text/html": '<img src="data:image/png;base64,iVBORw0KGgo=">', "text/plain": "img"})
    chapter = _chapter(nbformat.v4.new_markdown_cell("# Overview\n\nIntro."),
                       _code(_output(Prose("Some words.")), no_alt))
    params = load_params(demo_params, check_files=False)
    inputs = pd.DataFrame(columns=["kind", "path", "sha256", "rows_read", "rows_loaded",
                                   "rows_quarantined", "synthetic"])
    prov = provenance.collect(params, inputs, project_dir=demo_params.parent, commit="abc")
    soup = BeautifulSoup(render_document(params, [("01_a.ipynb", chapter)], prov).html,
                         "html.parser")
    assert "Some words." in soup.get_text()
    stops = [t.name for t in soup.find_all(tabindex=True)]
    assert set(stops) <= {"a", "button", "input", "select", "textarea", "summary", "details"}
    images = soup.find_all("img")
    assert images and all(i.get("alt") for i in images)


def test_the_appendix_exporter_gives_the_page_nbconvert_s_exporter_gives(demo_params):
    """The appendix's exporter skips nbconvert's final BeautifulSoup pass; after the page
    decoration the page is the one nbconvert's own exporter gives (an nbconvert upgrade that
    changes what that pass or its set-up does fails here)."""
    import pandas as pd
    from nbconvert import HTMLExporter

    from smp_analysis.params import load_params
    from smp_analysis.report import provenance
    from smp_analysis.report.build import TEMPLATES_DIR, assemble, html_exporter
    from smp_analysis.report.page import decorate_document

    figure = nbformat.v4.new_output("display_data", data={
        "text/html": '<figure class="smp-figure"><img src="data:image/png;base64,iVBORw0KGgo="'
                     ' alt="A chart"/><figcaption>Figure: a chart</figcaption></figure>',
        "text/plain": "figure"})
    merged = assemble([("01_a.ipynb", _chapter(
        nbformat.v4.new_markdown_cell("# Overview\n\nIntro with *emphasis* & <b>tags</b>."),
        _code(_output(Prose("Some words.")), _output(_table("a table")), figure),
        nbformat.v4.new_markdown_cell("## More\n\n- a\n- b")))])
    params = load_params(demo_params, check_files=False)
    inputs = pd.DataFrame(columns=["kind", "path", "sha256", "rows_read", "rows_loaded",
                                   "rows_quarantined", "synthetic"])
    prov = provenance.collect(params, inputs, project_dir=demo_params.parent, commit="abc")
    stock = HTMLExporter(template_name="smp", extra_template_basedirs=[str(TEMPLATES_DIR)],
                         exclude_input=True, exclude_input_prompt=True,
                         exclude_output_prompt=True, embed_images=True)
    ours, _ = html_exporter().from_notebook_node(merged)
    theirs, _ = stock.from_notebook_node(merged)
    assert ours != theirs  # the pass was skipped
    assert decorate_document(ours, params, prov).html == \
        decorate_document(theirs, params, prov).html
