"""The committee PDF: A4, printed by the Chromium the browser tests use, every chapter on a new
page, tables not split, a running header and page numbers, the provenance in full. The pages
are also rasterised (pdftoppm) and looked at: none is blank."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def pdf(built_appendix, demo_params, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SMP_REQUIRE_BROWSER"):
            pytest.fail("SMP_REQUIRE_BROWSER is set but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    if not shutil.which("pdftotext"):
        if os.environ.get("SMP_REQUIRE_BROWSER"):
            pytest.fail("SMP_REQUIRE_BROWSER is set but poppler-utils is not installed")
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")
    from smp_analysis.params import load_params
    from smp_analysis.report.build import write_appendix_pdf

    folder = tmp_path_factory.mktemp("pdf")
    html = folder / built_appendix.html.name
    shutil.copy(built_appendix.html, html)
    return write_appendix_pdf(html, load_params(demo_params))


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def pages(pdf):
    return _pages(pdf)


@pytest.fixture(scope="module")
def soup(built_appendix):
    return BeautifulSoup(built_appendix.html.read_text(encoding="utf-8"), "html.parser")


def test_pages_are_a4_and_their_number_is_sane(pdf, pages):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5  # A4: 210 x 297 mm
    # ten chapters with maps and charts, a few pages each, and the provenance; a runaway
    # layout (a page per table row, or per figure) would give well over a hundred
    assert 12 <= len(pages) <= 75


def test_running_header_and_page_numbers_on_every_page(pages):
    for number, page in enumerate(pages, start=1):
        head = page.strip().splitlines()[0]
        assert "Safer Maidstone Partnership" in head and "2015-16 Strategic Assessment" in head
        assert f"Page {number} of {len(pages)}" in page
        assert "Synthetic demonstration data" in page


def test_each_chapter_starts_a_page_and_its_text_is_printed(pages, soup):
    headings = [h.get_text(" ", strip=True) for h in soup.select("main h1")
                if re.match(r"\d+\. ", h.get_text(strip=True))]
    assert len(headings) >= 6
    for heading in headings:
        words = " ".join(heading.split()[:5])
        tops = []
        for page in pages:
            flat = " ".join(page.split())
            # what follows the running header and the chapter's synthetic-data notice
            tops.append(" ".join(flat.split("person.")[-1].split()[:12]) if "person." in flat
                        else "")
        assert any(words in top for top in tops), heading
    # a sentence from inside each chapter is printed too
    for chapter in soup.select("main h1"):
        follow = chapter.find_next("p")
        if follow is not None and re.match(r"\d+\. ", chapter.get_text(strip=True)):
            sentence = " ".join(follow.get_text(" ", strip=True).split()[:8])
            assert any(sentence in " ".join(p.split()) for p in pages), sentence


def test_tables_that_fit_on_a_page_are_not_split(pages, soup):
    flat = [" ".join(p.split()) for p in pages]
    checked = 0
    for table in soup.select("table.smp-table"):
        rows = table.select("tbody tr")
        if len(rows) > 25:
            continue  # longer than a page: it may break, with its header repeated
        label = table.find("caption").get_text(" ", strip=True).split(":")[0] + ":"
        start = [i for i, p in enumerate(flat) if label in p]
        assert len(start) == 1, label
        # every word of the last row is printed after the caption on the caption's page
        # (cells wrap, so the words need not be next to each other in the text)
        last = re.findall(r"\w+", rows[-1].get_text(" ", strip=True))
        after_caption = set(re.findall(r"\w+", flat[start[0]].split(label, 1)[1]))
        assert set(last) <= after_caption, (label, set(last) - after_caption)
        checked += 1
    assert checked >= 10


def test_full_provenance_is_printed(pages, soup, demo_params):
    import hashlib

    text = " ".join(" ".join(p.split()) for p in pages)
    assert hashlib.sha256(demo_params.read_bytes()).hexdigest() in text.replace(" ", "")
    rows = soup.select("#provenance details table tbody tr")
    assert len(rows) > 190  # every police.uk month of the demo, reference tables, extracts
    for row in rows:  # every input file and its SHA-256, not only those shown before clipping
        name, sha = (td.get_text(strip=True) for td in row.find_all("td")[1:3])
        assert name in text and sha in text, name
    assert "Tables as data" in text and "Package versions" in text


def test_no_page_is_blank(pdf, tmp_path):
    """Look at the pages: rasterise them and check each has ink (a blank page would mean a
    stray page break)."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "20", str(pdf), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert images
    for path in images:
        grey = Image.open(path).convert("L")
        dark = sum(grey.histogram()[:200])
        assert dark > 0.01 * grey.width * grey.height, path.name
