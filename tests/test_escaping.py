"""Text from data or params reaches the page only through the report layer's escaping.

Unit checks of every block, static checks that no topic or notebook builds HTML or Markdown
itself, and an end-to-end check: a demo appendix whose every text field (params title,
partnership, area and period names, baseline-exclusion reasons, recording-change sources;
ward, district, force, LSOA and file names) carries a script payload, opened in Debian's
Chromium: no script runs, no ``javascript:`` link exists, the payload is shown as text.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from smp_analysis.report.markup import Blocks, Bullets, Notice, Prose, escape, neutralise
from smp_analysis.report.tables import table

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = "<img src=x onerror=window.__pwned=1>"
LINK = "[click](javascript:window.__pwned=1)"
RTL = "\u202e"


def payload(tag: str) -> str:
    """A hostile value: script, event handler, Markdown javascript: link and an RTL override."""
    return f"{tag}{SCRIPT}{IMG}{LINK}{RTL}dne"


def file_payload(tag: str) -> str:
    """The same for a file name (no '/' allowed)."""
    return f"{tag}<svg onload=window.__pwned=1>{IMG}{LINK}{RTL}"


# ---------------------------------------------------------------- every block escapes

@pytest.mark.parametrize("block", [
    Prose(payload("P")), Bullets([payload("B")]), Notice(payload("N")),
    Blocks(Prose(payload("P")), Bullets([payload("B")])),
    table(pd.DataFrame({payload("H"): [payload("C")], "n": [3]}), payload("CAP"),
          counts=("n",)),
], ids=["prose", "bullets", "notice", "blocks", "table"])
def test_blocks_escape_every_value(block):
    html = block._repr_html_()
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert RTL not in html and "[U+202E]" in html
    assert "<a " not in html  # Markdown is never interpreted


def test_figures_escape_caption_and_alt_and_draw_dollars_literally():
    from smp_analysis.report import charts

    rates = pd.DataFrame({"area_name": ["$x_1^2$ 50%", "_Under", payload("D")],
                          "rate_per_1000": [50.0, 40.0, 30.0]}, index=["A", "B", "C"])
    figure = charts.rate_bars(rates, focus="A", reference=45.0, title="Cost $5 ^ 100%",
                              caption=payload("CAP"), alt=payload("ALT"), synthetic=True)
    html = figure._repr_html_()
    assert html.count("<img") == 1 and "<script" not in html
    assert 'alt="ALT&lt;script&gt;' in html and "CAP&lt;script&gt;" in html
    assert len(figure.png) > 1000


def test_escape_shows_hidden_controls_and_keeps_real_scripts():
    assert escape("Ward\u202eA\u200b") == "Ward[U+202E]A[U+200B]"
    assert neutralise("a\nb\tc") == "a\nb\tc"
    arabic, welsh = "الشارع الرئيسي", "Llanfair Pwllgwyngyll"  # legitimate text passes
    assert escape(arabic) == arabic and escape(welsh) == welsh


# ---------------------------------------------------------------- nothing bypasses it

TOPICS = sorted((PROJECT / "smp_analysis" / "topics").glob("*.py"))
NOTEBOOKS = sorted((PROJECT / "notebooks").glob("*.py"))
BYPASS = re.compile(r"_repr_html_|_repr_markdown_|IPython|markupsafe|Markup\(|HTML\(|Markdown\(")


@pytest.mark.parametrize("path", TOPICS + NOTEBOOKS, ids=lambda p: p.name)
def test_topics_and_notebooks_build_no_html_or_markdown(path):
    assert not BYPASS.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_only_display_library_blocks(path):
    """No f-strings or conditionals; imports only from the report layer and topics."""
    import jupytext

    code = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "code")
    tree = ast.parse(code)
    banned = (ast.JoinedStr, ast.If, ast.IfExp, ast.BoolOp)
    assert [type(n).__name__ for n in ast.walk(tree) if isinstance(n, banned)] == []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module in ("smp_analysis.report", "smp_analysis.topics"), node.module
        assert not isinstance(node, ast.Import)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_headings_carry_no_hand_typed_numbers(path):
    text = path.read_text(encoding="utf-8")
    assert not re.findall(r"^# #+ *\d", text, re.MULTILINE)
    assert not re.findall(r"(Table|Figure) \d+\.\d+", text)


# ---------------------------------------------------------------- end to end, in Chromium

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIELDS = ("TITLE", "PARTNERSHIP", "FOCUS", "COMPARISON", "PERIOD", "PREVIOUS", "EXCLUSION",
          "SOURCE", "WARD", "DISTRICT", "FORCE", "FILE", "INDICATOR", "GROUP", "TARGET")


def _hostile_demo(demo_dir: Path, target: Path) -> Path:
    """A copy of the demo data whose names carry payloads."""
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("police_uk"))
    force = payload("FORCE").encode()
    for source in sorted((demo_dir / "police_uk").rglob("*-street.csv")):
        dest = target / "police_uk" / source.parent.name / source.name
        if source.name.startswith("2012-03"):  # the month with quarantined rows
            dest = dest.with_name(f"2012-03-kent{file_payload('FILE')}-street.csv")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read_bytes().replace(b",Kent Police,Kent Police,",
                                                     b"," + force + b"," + force + b","))
    geo = target / "geography"
    lookup = pd.read_csv(geo / "PoliceforceLSOA.csv", dtype=str, keep_default_na=False,
                         index_col=0)
    lookup.loc[lookup["Local authority code"] == "E07000105",
               "Local authority name"] = payload("DISTRICT")
    lookup.loc[lookup.index[0], "LSOA Name"] = payload("LSOA")
    lookup["Police_force"] = payload("POLICEFORCE")
    lookup.to_csv(geo / "PoliceforceLSOA.csv", lineterminator="\n")
    wards = pd.read_csv(geo / "ward_lookup.csv", dtype=str, keep_default_na=False)
    wards.loc[wards["ward_name"] == "High Street", "ward_name"] = payload("WARD")
    wards.to_csv(geo / "ward_lookup.csv", index=False, lineterminator="\n")
    partner = target / "indicators" / "partner_indicators.csv"
    rows = pd.read_csv(partner, dtype=str, keep_default_na=False)
    rows.loc[rows["indicator_id"] == "assault_admissions", "indicator_label"] = \
        payload("INDICATOR")
    rows.to_csv(partner, index=False, lineterminator="\n")
    return target


@pytest.fixture(scope="module")
def hostile_appendix(demo_dir, demo_params, tmp_path_factory):
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import prepare_store
    from smp_analysis.report.build import build_appendix

    work = tmp_path_factory.mktemp("hostile")
    data = _hostile_demo(demo_dir, work / "demo")
    raw = yaml.safe_load(demo_params.read_text())
    raw["data"] = {k: (str(v).replace(str(demo_dir), str(data)) if isinstance(v, str) else
                       [str(x).replace(str(demo_dir), str(data)) for x in v])
                   for k, v in raw["data"].items()}
    raw["data"]["store"] = str(work / "store.duckdb")
    raw.update(title=payload("TITLE"), partnership=payload("PARTNERSHIP"))
    raw["focus_area"]["name"] = payload("FOCUS")
    raw["comparison_area"] = {"name": payload("COMPARISON"),
                              "police_force": payload("POLICEFORCE")}
    raw["period"]["name"] = payload("PERIOD")
    raw["previous_period"] = {"start": "2012-10-01", "end": "2013-09-30",
                              "name": payload("PREVIOUS")}
    raw["options"]["baseline_exclusions"] = [{"start": "2011-06-01", "end": "2011-06-30",
                                              "reason": payload("EXCLUSION")}]
    raw["options"]["recording_changes"][0]["source"] = payload("SOURCE")
    raw["comparison_groups"][0]["name"] = payload("GROUP")
    for target in raw["targets"]:
        target["group"] = payload("GROUP") if "group" in target else None
        target["description"] = payload("TARGET")
        if target["group"] is None:
            del target["group"]
    params = work / "hostile.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    prepare_store(load_params(params))
    return build_appendix(params, out_dir=work / "reports", prepare=False).html


@pytest.mark.slow
def test_hostile_appendix_source_has_no_live_markup(hostile_appendix):
    from bs4 import BeautifulSoup

    text = hostile_appendix.read_text(encoding="utf-8")
    assert "__pwned" in text  # the payloads are there...
    soup = BeautifulSoup(text, "html.parser")  # ...but never as markup
    assert not [s for s in soup.find_all("script") if "__pwned" in s.get_text()]
    assert not soup.find_all("svg")
    handlers = [(tag.name, a) for tag in soup.find_all(True) for a in tag.attrs
                if a.lower().startswith("on")]
    assert handlers == []
    assert not [a for a in soup.find_all("a", href=True)
                if a["href"].strip().lower().startswith("javascript:")]
    assert RTL not in text


@pytest.mark.slow
def test_hostile_appendix_in_chromium(hostile_appendix):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SMP_REQUIRE_BROWSER"):
            pytest.fail("SMP_REQUIRE_BROWSER is set but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(hostile_appendix.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert dialogs == []
        assert page.evaluate("document.querySelectorAll('[onerror],[onload]').length") == 0
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
        body = page.inner_text("body")
        title = page.title()
        browser.close()
    assert title.startswith("TITLE<script>")
    for field in FIELDS:
        shown = file_payload(field) if field == "FILE" else payload(field)
        visible = shown.replace(RTL, "[U+202E]")
        assert visible in body, f"{field} payload is not shown as literal text"
