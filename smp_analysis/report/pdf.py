"""The appendix as an A4 PDF for committee papers, printed by Chromium through Playwright.

The PDF is the HTML appendix printed with its print stylesheet (``@media print`` in
``templates/smp/index.html.j2``: a page break before each chapter, headings kept with what
follows, tables and figures not split when they fit on a page, download links hidden, the
provenance printed in full). Chromium adds the running header (partnership and assessment)
and footer (page N of M, and the synthetic-data label when it applies). The page is opened
from a file with the network off: the appendix is self-contained.

Browser: ``$SMP_CHROMIUM`` when set, else Debian's ``chromium`` (the one the browser tests
use), else a Chrome or Chromium on the PATH, else Playwright's own build (``playwright install
chromium``, the usual route on Windows and macOS).
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..atomic import write_bytes_atomic
from .markup import escape

# The flags the browser tests use: no sandbox (containers, root), no GPU, nothing fetched.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MARGINS = {"top": "20mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why and what to install."""


def find_browser() -> str | None:
    """The Chromium executable to print with, or None to try Playwright's own build."""
    explicit = os.environ.get("SMP_CHROMIUM")
    if explicit:
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def header_html(partnership: str, title: str) -> str:
    """Chromium's header template: escaped text, inline styles (it ignores the page's CSS)."""
    return (f'<div style="font-family: Arial, sans-serif; font-size: 8pt; color: #505a5f; '
            f'width: 100%; margin: 0 15mm; display: flex; justify-content: space-between;">'
            f"<span>{escape(partnership)}</span><span>{escape(title)}</span></div>")


def footer_html(label: str) -> str:
    stamp = (f'<span style="color: #a00000; font-weight: bold;">{escape(label)}</span>'
             if label else "<span></span>")
    return (f'<div style="font-family: Arial, sans-serif; font-size: 8pt; color: #505a5f; '
            f'width: 100%; margin: 0 15mm; display: flex; justify-content: space-between;">'
            f'{stamp}<span>Page <span class="pageNumber"></span> of '
            f'<span class="totalPages"></span></span></div>')


def write_pdf(html: Path, pdf: Path, *, partnership: str, title: str,
              synthetic_label: str = "") -> Path:
    """Print `html` to `pdf` (A4), atomically. Raises :class:`PdfError` with a plain reason."""
    # Playwright's sync API refuses to run inside an asyncio loop (a notebook, a dask
    # worker's event loop): a thread of its own has none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        data = pool.submit(_print, Path(html), header_html(partnership, title),
                           footer_html(synthetic_label)).result()
    write_bytes_atomic(pdf, data)
    return pdf


def _print(html: Path, header: str, footer: str) -> bytes:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the PDF is optional; the HTML never needs it
        raise PdfError("the PDF needs Playwright (pip install playwright)") from exc
    executable = find_browser()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:"))
                           else route.abort())
                page.goto(html.resolve().as_uri(), wait_until="load")
                # <details> (the list of input files) prints only when open
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                page.emulate_media(media="print")
                return page.pdf(format="A4", print_background=True, margin=MARGINS,
                                display_header_footer=True, header_template=header,
                                footer_template=footer)
            finally:
                browser.close()
    except PlaywrightError as exc:
        where = executable or "Playwright's own Chromium"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PdfError(
            f"Chromium ({where}) could not print the PDF: {first}. Install Debian's chromium "
            "(apt-get install chromium), or run `playwright install chromium`, or set "
            "SMP_CHROMIUM to a Chrome or Chromium executable") from None
