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
    assert len(widths) == 7 and all(w > 100 for w in widths)


def test_clicking_a_toc_link_scrolls_to_the_chapter(page):
    link = page.locator("nav.smp-toc a", has_text="2. Crime rates compared with other districts")
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
