"""The whole spine on demo data: papermill chapters -> one self-contained HTML appendix."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from smp_analysis.report.build import AppendixError, build_appendix

PROJECT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soup(built_appendix):
    return BeautifulSoup(built_appendix.html.read_text(encoding="utf-8"), "html.parser")


def test_every_chapter_was_executed_without_errors(built_appendix):
    names = [p.stem for p in built_appendix.executed]
    assert names == ["00_summary", "01_priorities", "02_overview", "03_rates", "04_data_quality",
                     "05_expected_volumes", "06_domestic_abuse", "07_recording_practice",
                     "08_partner_indicators", "09_places", "10_patterns"]
    for path in built_appendix.executed:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error"


def test_no_code_is_shown(soup):
    assert not soup.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-Editor, div.highlight")
    text = soup.get_text()
    assert "import " not in text and "Assessment.open" not in text and "params_file" not in text


def test_no_external_resources(soup):
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for el in soup.find_all(tag):
            value = el.get(attr)
            assert value is None or value.startswith("data:"), (tag, value)
    assert not soup.find_all("script", src=True)


def test_synthetic_banner_is_shown(soup):
    banners = soup.select(".smp-synthetic-banner")
    assert banners and "Synthetic demonstration data" in banners[0].get_text()
    # each chapter repeats it, and every chart says it inside the image
    assert len(soup.select(".smp-notice-synthetic")) == 11


def test_toc_links_all_resolve(soup):
    ids = {el["id"] for el in soup.find_all(id=True)}
    links = [a["href"][1:] for a in soup.find_all("a", href=True) if a["href"].startswith("#")]
    toc = [a["href"][1:] for a in soup.select("nav.smp-toc a")]
    assert len(toc) >= 5
    assert [x for x in links if x not in ids] == []
    headings = [soup.find(id=x).get_text(" ", strip=True) for x in toc]
    assert "1. Priorities" in headings
    assert "2. Overview of recorded crime and anti-social behaviour" in headings


def test_every_figure_has_real_alt_text_and_a_caption(soup):
    images = soup.find_all("img")
    # 7 + the rates funnel + 9 partner-indicator funnels + places (two maps, Lorenz curves)
    # + the priority ranking
    # + patterns (two)
    assert len(images) == 23
    for img in images:
        alt = img.get("alt", "")
        assert len(alt) > 40 and "No description" not in alt
        assert img.find_parent("figure").find("figcaption").get_text(strip=True)


# what a caption may call a colour, and the pixels that show it (the house colours: dark blue
# #12436D, orange #F46A25, near-black #0B0C0C; greys of any shade)
CAPTION_COLOURS = {
    "dark blue": lambda r, g, b: (abs(r - 0x12) < 8) & (abs(g - 0x43) < 8) & (abs(b - 0x6D) < 8),
    "orange": lambda r, g, b: (abs(r - 0xF4) < 8) & (abs(g - 0x6A) < 8) & (abs(b - 0x25) < 8),
    "black": lambda r, g, b: (r < 0x20) & (g < 0x20) & (b < 0x20),
    "grey": lambda r, g, b: (abs(r - g) < 6) & (abs(g - b) < 6) & (r > 0x30) & (r < 0xE0),
}


def test_every_colour_a_caption_names_is_in_its_figure(soup):
    """A caption that says "Maidstone in orange" is read as fact: the colour must be there,
    as a mark, not a few antialiased pixels."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    checked = 0
    for img in soup.find_all("img"):
        caption = img.find_parent("figure").find("figcaption").get_text(" ", strip=True)
        named = [c for c in CAPTION_COLOURS if re.search(rf"\b{c}\b", caption)]
        if "blue" in re.sub(r"dark blue", "", caption):
            named.append("dark blue")  # "falls in blue": the house blue
        if not named:
            continue
        data = base64.b64decode(img["src"].split(",", 1)[1])
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
        r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        for colour in named:
            assert int(CAPTION_COLOURS[colour](r, g, b).sum()) >= 30, (colour, caption)
            checked += 1
    assert checked >= 12  # the funnels, the priorities, anticipated volumes, changes, rates


def test_provenance_block(soup, demo_params, built_appendix):
    block = soup.find(id="provenance")
    text = block.get_text(" ", strip=True)
    assert hashlib.sha256(demo_params.read_bytes()).hexdigest() in text
    for package in ("pandas", "statsmodels", "papermill", "duckdb"):
        assert package in text
    assert re.search(r"code version ([0-9a-f]{40}|not a git checkout)", text)
    # all 192 demo months plus the reference tables, each with its SHA-256
    rows = block.select("details table tbody tr")
    # police.uk months, reference tables, victim extracts, the partner-indicator file, ward
    # and LSOA boundaries
    assert len(rows) == 192 + 5 + 2 + 1 + 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.find_all("td")[2].get_text()) for r in rows)


def test_headline_sentence_comes_from_the_data(soup):
    text = soup.get_text(" ", strip=True)
    assert re.search(r"Total recorded crime (rose|fell) by \d+\.\d% \([\d,]+ (more|fewer) "
                     r"offences\), from [\d,]+ to [\d,]+\.", text)
    assert re.search(r"Maidstone's recorded crime rate of \d+\.\d crimes per 1,000 residents is "
                     r"the \d+(st|nd|rd|th) highest of the 13 districts in Kent", text)


def test_failed_chapter_keeps_previous_report_and_the_failed_notebook(
        built_appendix, demo_params, tmp_path):
    out = built_appendix.html.parent
    before = built_appendix.html.read_bytes()
    notebooks = tmp_path / "notebooks"
    shutil.copytree(PROJECT / "notebooks", notebooks)
    broken = nbformat.read(notebooks / "03_rates.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(broken, notebooks / "03_rates.ipynb")
    with pytest.raises(AppendixError) as info:
        build_appendix(demo_params, out_dir=out, notebooks_dir=notebooks)
    message = str(info.value)
    assert "03_rates" in message and "deliberate failure" in message
    assert built_appendix.html.read_bytes() == before
    kept = out / "2015-16" / "failed" / "03_rates.ipynb"
    assert kept.exists()
    errors = [o for c in nbformat.read(kept, as_version=4).cells for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors and errors[0].evalue == "deliberate failure"
    assert not list(out.glob(".*.tmp"))


def test_data_quality_chapter_reports_the_demo_defects(soup):
    text = soup.get_text(" ", strip=True)
    assert re.search(r"uses 192 police\.uk files of Kent Police holding [\d,]+ rows: [\d,]+ "
                     r"were loaded and 5 were quarantined", text)
    findings = soup.find("caption", string=re.compile("Data-quality findings")).find_parent("table")
    rows = [tr.get_text(" ", strip=True) for tr in findings.select("tbody tr")]
    assert any("Jun 2011" in r and "implausibly low volume" in r for r in rows)
    assert sum("rows quarantined" in r for r in rows) == 5


def test_expected_chapter_finds_the_demo_recording_step(soup):
    """2013-14 violence in the demo carries a +25% recording step from April 2014: it must
    stand out against anticipated volumes while total crime stays close to them."""
    table = soup.find("caption", string=re.compile("actual and anticipated volumes")
                      ).find_parent("table")
    rows = {tr.find_all("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in
                                                         tr.find_all("td")]
            for tr in table.select("tbody tr")}
    violence = float(rows["Violence and sexual offences"][3].rstrip("%"))
    total = float(rows["Total recorded crime"][3].rstrip("%"))
    assert violence > 10 and abs(total) < 10


def test_batch_builds_several_appendices_in_parallel(demo_params, built_appendix, tmp_path):
    """Two assessments from one store, built by two worker processes."""
    from smp_analysis.report.build import build_appendices

    second = tmp_path / "2016-17.yaml"
    second.write_text(demo_params.read_text()
                      .replace('assessment: "2015-16"', 'assessment: "2016-17"')
                      .replace("start: 2013-10-01", "start: 2014-10-01")
                      .replace("end: 2014-09-30", "end: 2015-09-30")
                      .replace('name: "October 2013 to September 2014"',
                               'name: "October 2014 to September 2015"'))
    results = build_appendices([demo_params, second], out_dir=tmp_path / "out", workers=2)
    assert [r.html.name for r in results] == ["2015-16.html", "2016-17.html"]
    assert all(r.html.stat().st_size > 100_000 for r in results)
    assert "October 2014 to September 2015" in results[1].html.read_text()


def test_key_findings_repeat_the_chapters(soup):
    """The summary's sentences are the chapters' own, so they cannot disagree."""
    findings = soup.find(id="Key-findings").find_next("ul").get_text(" ", strip=True)
    body = soup.get_text(" ", strip=True)
    rank = re.search(r"Maidstone's recorded crime rate of [^.]+\.\d[^.]*\.", findings).group(0)
    assert body.count(rank) >= 2
    assert "Violence and sexual offences: net of recording" in findings
