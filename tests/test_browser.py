"""The appendix as a reviewer sees it: Debian's Chromium driven by Playwright, offline."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(built_appendix, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SMP_REQUIRE_BROWSER"):
            pytest.fail("SMP_REQUIRE_BROWSER is set but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(built_appendix.html.as_uri())
        page.wait_for_load_state("load")
        page.requests = requests
        yield page
        page.screenshot(path=str(tmp_path_factory.mktemp("shots") / "appendix.png"))
        browser.close()


def test_page_makes_no_network_requests(page):
    external = [u for u in page.requests if not u.startswith(("file:", "data:"))]
    assert external == []


def test_images_render(page):
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    # every chart and map of the appendix decodes (test_appendix counts them)
    assert len(widths) >= 7 and all(w > 100 for w in widths)


def test_clicking_a_toc_link_scrolls_to_the_chapter(page):
    link = page.locator("nav.smp-toc a", has_text="3. Crime rates compared with other districts")
    link.click()
    target = page.evaluate("location.hash")
    assert target.startswith("#")
    top = page.evaluate(f"document.getElementById({target[1:]!r}).getBoundingClientRect().top")
    banner = page.locator(".smp-synthetic-banner").first.bounding_box()
    # the heading lands just below the sticky banner, not hidden under it
    assert banner["y"] + banner["height"] <= top < 300


def test_synthetic_banner_stays_visible_when_scrolled(page):
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = page.locator(".smp-synthetic-banner").first.bounding_box()
    assert box is not None and 0 <= box["y"] < 100


# ------------------------------------------------------------------ accessibility (axe-core)
def _axe():
    """axe-core: $SMP_AXE_JS when set (e.g. a newer axe.min.js from `npm pack axe-core`, as
    .ci/run does), else the copy pinned with axe-playwright-python."""
    from axe_playwright_python.sync_playwright import Axe

    path = os.environ.get("SMP_AXE_JS")
    return Axe.from_file(path) if path else Axe()


def test_axe_core_finds_no_violations(page):
    """Every axe-core rule (WCAG 2.0-2.2 A and AA, and best practices) passes on the whole
    appendix: cover, contents, chapters, tables, figures, download links, provenance."""
    page.evaluate("window.scrollTo(0, 0)")
    results = _axe().run(page, options={"resultTypes": ["violations"], "runOnly": {
        "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                  "best-practice"]}})
    version = results.response["testEngine"]["version"]
    assert results.violations_count == 0, f"axe-core {version}:\n{results.generate_report()}"


def test_only_links_and_controls_take_keyboard_focus(page):
    stray = page.eval_on_selector_all(
        "[tabindex]", "els => els.filter(e => !['A', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', "
        "'SUMMARY', 'DETAILS'].includes(e.tagName)).map(e => e.outerHTML.slice(0, 80))")
    assert stray == []


def test_contents_links_look_like_links_and_are_big_enough(page):
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    boxes = page.eval_on_selector_all("nav.smp-toc a", """els => els.map(e => {
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return {h: r.height, w: r.width, line: s.textDecorationLine, colour: s.color}; })""")
    assert len(boxes) >= 10
    for box in boxes:
        assert box["h"] >= 24 and box["w"] >= 24, box  # WCAG 2.2 target size (minimum)
        assert "underline" in box["line"] and box["colour"] != "rgb(0, 0, 0)", box


def test_every_table_downloads_as_the_csv_the_build_wrote(page, built_appendix):
    links = page.locator("p.smp-download a[download$='.csv']")
    assert links.count() == page.locator("table.smp-table").count() >= 10
    first = links.first
    with page.expect_download() as info:
        first.click()
    download = info.value
    on_disk = built_appendix.tables / download.suggested_filename
    assert download.suggested_filename == first.get_attribute("download")
    assert open(download.path(), "rb").read() == on_disk.read_bytes()


def test_workbook_downloads_from_the_provenance(page, built_appendix):
    link = page.locator("a.smp-download-all")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == built_appendix.workbook.name
    assert open(download.path(), "rb").read() == built_appendix.workbook.read_bytes()
