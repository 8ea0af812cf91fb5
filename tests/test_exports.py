"""Tables as data: every table of the appendix as CSV and in one workbook, cell for cell as the
page prints it (after disclosure control), under the number the build gave it."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from smp_analysis.report import export

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soup(built_appendix):
    return BeautifulSoup(built_appendix.html.read_text(encoding="utf-8"), "html.parser")


def _page_tables(soup):
    """Every table as the reader sees it: (caption id, caption text, header, rows)."""
    found = []
    for table in soup.select("table.smp-table"):
        caption = table.find("caption")
        rows = [[td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])]
                for tr in table.select("tbody tr")]
        found.append((caption.get("id"), caption.get_text(" ", strip=True),
                      [th.get_text(" ", strip=True) for th in table.select("thead th")], rows))
    return found


def _read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel on Windows reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_every_table_has_a_csv_with_the_cells_the_page_shows(soup, built_appendix):
    tables = _page_tables(soup)
    assert len(tables) >= 10
    files = sorted(p.name for p in built_appendix.tables.iterdir())
    assert len(files) == len(tables)
    for anchor, caption, header, rows in tables:
        # the file carries the number the build gave the table: table-4-2 <-> "Table 4.2:"
        number = re.match(r"Table (\d+)\.(\d+):", caption).groups()
        assert anchor == f"table-{number[0]}-{number[1]}"
        path = built_appendix.tables / f"2015-16-{anchor}.csv"
        assert _read_csv(path) == [header, *rows], path.name


def test_protected_tables_keep_disclosure_control_in_every_export(soup, built_appendix):
    """Victim counts of 1 to 4 never appear in a CSV or the workbook: the page shows '[c]'."""
    protected = [c.find_parent("table") for c in soup.find_all(
        "caption", string=re.compile(r"\[c\]: not published to protect confidentiality.*"
                                     "counts from 1 to 4"))]
    assert len(protected) == 3
    book = load_workbook(built_appendix.workbook)
    shown_small = 0
    for table in protected:
        anchor = table.find("caption")["id"]
        rows = _read_csv(built_appendix.tables / f"2015-16-{anchor}.csv")[1:]
        values = [v for row in rows for v in row]
        shown_small += values.count("[c]")
        assert not [v for v in values if re.fullmatch(r"[1-4]", v)]
        sheet = book[f"Table {anchor[6:].replace('-', '.')}"]
        cells = [c.value for row in sheet.iter_rows(min_row=4) for c in row]
        assert cells.count("[c]") == values.count("[c]")
        assert not [v for v in cells if v in (1, 2, 3, 4)]
    assert shown_small > 0


def test_workbook_prints_every_cell_as_the_page_does(soup, built_appendix):
    book = load_workbook(built_appendix.workbook)
    tables = _page_tables(soup)
    assert book.sheetnames == ["Contents"] + [f"Table {c.split(':')[0][6:]}" for _, c, _, _ in
                                              tables]
    contents = [c.value for row in book["Contents"].iter_rows() for c in row]
    assert "Synthetic demonstration data" in " ".join(str(v) for v in contents if v)
    numbers = 0
    for _anchor, caption, header, rows in tables:
        sheet = book[f"Table {caption.split(':')[0][6:]}"]
        grid = [[c for c in row] for row in sheet.iter_rows()]
        assert grid[0][0].value == caption  # caption, synthetic label, header, rows
        assert [c.value for c in grid[2][:len(header)]] == header
        for printed, cells in zip(rows, grid[3:], strict=True):
            for text, cell in zip(printed, cells, strict=False):
                if isinstance(cell.value, str):
                    assert cell.value == text and cell.data_type == "s"
                else:  # a number, with the format that prints it as the page does
                    numbers += 1
                    assert (cell.value, cell.number_format) == export.number_cell(text), text
    assert numbers > 100


def test_html_embeds_the_same_files_and_the_provenance_lists_them(soup, built_appendix):
    links = soup.select("p.smp-download a[download$='.csv']")
    assert len(links) == len(soup.select("table.smp-table"))
    for link in links:
        data = base64.b64decode(link["href"].split(",", 1)[1])
        assert data == (built_appendix.tables / link["download"]).read_bytes()
    workbook = soup.select_one("a.smp-download-all")
    assert base64.b64decode(workbook["href"].split(",", 1)[1]) == \
        built_appendix.workbook.read_bytes()
    listed = soup.select("#provenance table.smp-files tbody tr")
    assert len(listed) == len(links)
    for row in listed:
        cells = [td.get_text(strip=True) for td in row.find_all("td")]
        path = built_appendix.tables / cells[2]
        assert cells[4] == hashlib.sha256(path.read_bytes()).hexdigest()
    toc = [a["href"] for a in soup.select("nav.smp-toc a")]
    assert "#tables-as-data" in toc


def test_exports_are_reproducible(built_appendix, demo_params):
    """Rendering the same executed chapters again gives byte-identical CSVs and workbook."""
    import nbformat

    from smp_analysis import store
    from smp_analysis.params import load_params
    from smp_analysis.report import build, provenance
    from smp_analysis.store import queries

    params = load_params(demo_params)
    con = store.connect(params.data.store, read_only=True)
    try:
        inputs = queries.input_files(con)
    finally:
        con.close()
    prov = provenance.collect(params, inputs, project_dir=build.PROJECT_DIR)
    chapters = [(p.name, nbformat.read(p, as_version=4)) for p in built_appendix.executed]
    document = build.render_document(params, chapters, prov)
    assert document.workbook == built_appendix.workbook.read_bytes()
    for table in document.tables:
        path = built_appendix.tables / table.file_name(params.assessment)
        assert export.csv_bytes(table) == path.read_bytes()


def test_hostile_cells_stay_text(tmp_path):
    """A name from data that looks like a formula stays text in the workbook (CSV keeps the
    printed text; spreadsheet formula injection needs the workbook to store a formula)."""
    page = BeautifulSoup(
        '<table class="smp-table"><caption id="table-1-1">Table 1.1: By ward</caption>'
        '<thead><tr><th>Ward</th><th>Offences</th><th>Change</th></tr></thead><tbody>'
        '<tr><td>=HYPERLINK("http://x","y")</td><td class="smp-num">1,234</td>'
        '<td class="smp-num">-0.0%</td></tr>'
        '<tr><td>@SUM(A1)</td><td class="smp-num">&lt;5</td><td class="smp-num">+12.5%</td>'
        '</tr></tbody></table>', "html.parser")
    tables = export.collect(page)
    data = export.workbook_bytes(tables, title="t", source="s", synthetic=False)
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    sheet = load_workbook(path)["Table 1.1"]
    assert sheet["A3"].value == '=HYPERLINK("http://x","y")' and sheet["A3"].data_type == "s"
    assert (sheet["B3"].value, sheet["B4"].value) == (1234, "<5")
    assert sheet["C3"].value == 0 and sheet["C3"].number_format.endswith(";-0.0%")
    assert sheet["C4"].value == pytest.approx(0.125)
    assert export.csv_bytes(tables[0]).decode("utf-8-sig").splitlines()[1] == \
        '"=HYPERLINK(""http://x"",""y"")","1,234",-0.0%'
    # same input, same bytes (fixed zip times and document dates)
    assert export.workbook_bytes(tables, title="t", source="s", synthetic=False) == data


def test_number_cells_round_trip_the_printed_text():
    """Each number format prints the stored value back as the page printed it (checked with
    Excel's rules by hand for these formats)."""
    assert export.number_cell("12,345") == (12345, "#,##0")
    assert export.number_cell("-56") == (-56, "#,##0")
    assert export.number_cell("0.034") == (0.034, "0.000")
    assert export.number_cell("+4.4%") == (0.044, "+0.0%;-0.0%;+0.0%")
    assert export.number_cell("-2.2%") == (-0.022, "0.0%")
    assert export.number_cell("<0.001") is None
    assert export.number_cell("E07000110") is None
    assert export.number_cell("1,23") is None
