"""Compare the visible text of demo appendices built by two versions of the code.

Used to check that a restructuring changes no sentence or number a reviewer reads. It builds
the demo appendices of every ``params/*.yaml`` with the code at ``--before`` (a git ref, checked
out into a temporary worktree, run with this checkout's virtual environment) and with the
working tree, then prints, per appendix, a unified diff of the visible text, one line per
paragraph, list item, heading, caption or table row. The run time and the code version are
masked (they differ on every build), and so is the store's path (each checkout builds its
own store from the same input files).

Run: .venv/bin/python benchmarks/compare_text.py --before HEAD~1
     .venv/bin/python benchmarks/compare_text.py --html OLD.html NEW.html
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

PROJECT = Path(__file__).resolve().parents[1]
BLOCKS = ("h1", "h2", "h3", "p", "li", "caption", "figcaption", "tr", "dt", "dd", "pre",
          "div.smp-notice", "div.smp-synthetic-banner", "footer")
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<run time>"),
    (re.compile(r"\b[0-9a-f]{40}(\+dirty)?\b|not a git checkout"), "<code version>"),
    (re.compile(r"smp-analysis \S+"), "smp-analysis <version>"),
    # each checkout builds its own store (the inputs are the same files)
    (re.compile(r"(store: )\S+"), r"\1<store path>"),
]


def visible_lines(html: str) -> list[str]:
    """The text a reviewer reads, one line per block element, whitespace collapsed."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    lines = []
    for element in soup.select(", ".join(BLOCKS)):
        if element.find_parent(["li", "tr", "pre"]) is not None and element.name != "tr":
            continue
        text = " ".join(element.get_text(" ", strip=True).split())
        for pattern, mask in VOLATILE:
            text = pattern.sub(mask, text)
        if text:
            lines.append(text)
    return lines


def diff(old: Path, new: Path) -> list[str]:
    return list(difflib.unified_diff(visible_lines(old.read_text(encoding="utf-8")),
                                     visible_lines(new.read_text(encoding="utf-8")),
                                     fromfile=str(old), tofile=str(new), lineterm="", n=0))


def build(checkout: Path, out: Path) -> None:
    """Build every demo appendix of `checkout` into `out` with this virtual environment."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    data = PROJECT / "data"
    (checkout / "data").mkdir(exist_ok=True)
    for name in ("demo",):
        link = checkout / "data" / name
        if not link.exists():
            link.symlink_to(data / name)
    params = sorted(str(p) for p in (checkout / "params").glob("*.yaml"))
    code = ("import sys; from smp_analysis.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    subprocess.run([sys.executable, "-c", code, "appendix", "--params", *params, "--out",
                    str(out), "--workers", "1"], check=True, cwd=checkout, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="git ref of the old version")
    parser.add_argument("--html", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    pairs: list[tuple[Path, Path]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.html:
            pairs = [tuple(args.html)]
        elif args.before:
            worktree = tmp / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before],
                           check=True, cwd=PROJECT, capture_output=True)
            try:
                build(worktree, tmp / "old")
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(worktree)],
                               cwd=PROJECT, capture_output=True)
            build(PROJECT, tmp / "new")
            pairs = [(old, tmp / "new" / old.name) for old in sorted((tmp / "old").glob("*.html"))]
        else:
            parser.error("give --before REF or --html OLD NEW")
        changed = 0
        for old, new in pairs:
            lines = diff(old, new)
            print(f"== {old.name}: {'identical visible text' if not lines else 'differs'}")
            changed += bool(lines)
            for line in lines[2:]:
                print(line)
        return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
