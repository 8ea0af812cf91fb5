"""The one path from data to the page: reviewer text, escaped.

Everything a reviewer reads that a topic produces is a :class:`Block` built here (or in
:mod:`.tables` / :mod:`.charts`, which use :func:`escape`). Topics write *plain text*: a
sentence is an ordinary ``str`` with values from data or params formatted into it. It is never
interpreted as Markdown or HTML; the block escapes the whole of it when it renders, so a ward
called ``<script>`` or ``[x](javascript:...)`` appears as those characters and nothing runs.
Unicode controls that reorder or hide text (bidi overrides such as U+202E, zero-width marks,
C0 controls) are shown as visible ``[U+202E]`` markers instead of acting on the page.

There is no public way to hand raw HTML to the page: :class:`Block` subclasses in this package
are the only producers of ``text/html`` output, and ``tests/test_escaping.py`` checks that no
topic or notebook builds HTML or Markdown itself.

>>> escape('Ward <b>"A"</b> & [x](javascript:alert(1))')
'Ward &lt;b&gt;&quot;A&quot;&lt;/b&gt; &amp; [x](javascript:alert(1))'
>>> escape("Maid\\u202estone")
'Maid[U+202E]stone'
>>> Prose("Crime rose <5%.")._repr_html_()
'<p class="smp-prose">Crime rose &lt;5%.</p>'
>>> Bullets(["a", "b & c"])._repr_html_()
'<ul class="smp-bullets"><li>a</li><li>b &amp; c</li></ul>'
>>> Empty()._repr_mimebundle_()
{}
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

SYNTHETIC_LABEL = "Synthetic demonstration data"
# A figure caption's opening; the appendix build numbers it: '<figcaption id="figure-4-1">Figure
# 4.1:' (here, not in .charts, so the build need not import matplotlib to know it)
FIGURE_LABEL = "<figcaption>Figure:"

# Characters that change how surrounding text is displayed without being seen: bidi
# embeddings, overrides and isolates (Unicode TR9), zero-width and invisible formatting
# characters, the BOM, and C0/C1 controls other than tab and newline.
_HIDDEN = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f"
                     "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")


def neutralise(text: str) -> str:
    """Replace invisible and reordering control characters by visible markers.

    >>> neutralise("a\\u202eb\\u200bc")
    'a[U+202E]b[U+200B]c'
    """
    return _HIDDEN.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def escape(value: object) -> str:
    """Any value as HTML text: special characters escaped, hidden controls made visible."""
    return html.escape(neutralise(str(value)), quote=True)


class Block:
    """Something a chapter displays. Renders itself as HTML in notebooks and the appendix."""

    __slots__ = ()

    def _repr_html_(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def text(self) -> str:
        """The visible text, for tests, logs and the plain-text repr."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def __bool__(self) -> bool:
        return True


class Prose(Block):
    """One or more paragraphs of plain text."""

    __slots__ = ("paragraphs",)

    def __init__(self, *paragraphs: str):
        object.__setattr__(self, "paragraphs", tuple(str(p) for p in paragraphs if p))

    def __setattr__(self, name, value):
        raise AttributeError("blocks are immutable")

    def _repr_html_(self) -> str:
        return "".join(f'<p class="smp-prose">{escape(p)}</p>' for p in self.paragraphs)

    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class Bullets(Block):
    """A bulleted list of plain-text items."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[str]):
        object.__setattr__(self, "items", tuple(str(i) for i in items if i))

    def __setattr__(self, name, value):
        raise AttributeError("blocks are immutable")

    def _repr_html_(self) -> str:
        if not self.items:
            return ""
        return ('<ul class="smp-bullets">' + "".join(f"<li>{escape(i)}</li>" for i in self.items)
                + "</ul>")

    def text(self) -> str:
        return "\n".join(f"- {i}" for i in self.items)


class Notice(Block):
    """A coloured notice box (the synthetic-data banner, a caveat, a missing-data note)."""

    __slots__ = ("message", "kind")
    KINDS = ("info", "synthetic", "unavailable", "warning")

    def __init__(self, message: str, kind: str = "info"):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}")
        object.__setattr__(self, "message", str(message))
        object.__setattr__(self, "kind", kind)

    def __setattr__(self, name, value):
        raise AttributeError("blocks are immutable")

    def _repr_html_(self) -> str:
        return (f'<div class="smp-notice smp-notice-{self.kind}" role="note">'
                f"{escape(self.message)}</div>")

    def text(self) -> str:
        return self.message


class Blocks(Block):
    """Several blocks shown together as one output (e.g. a sentence and its bullets)."""

    __slots__ = ("blocks",)

    def __init__(self, *blocks: Block):
        for b in blocks:
            if not isinstance(b, Block):
                raise TypeError(f"Blocks holds Block objects, not {type(b).__name__}")
        object.__setattr__(self, "blocks", tuple(b for b in blocks if not isinstance(b, Empty)))

    def __setattr__(self, name, value):
        raise AttributeError("blocks are immutable")

    def _repr_html_(self) -> str:
        return "".join(b._repr_html_() for b in self.blocks)

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.blocks:
            return {}
        return {"text/html": self._repr_html_(), "text/plain": self.text()}

    def text(self) -> str:
        return "\n\n".join(b.text() for b in self.blocks)


class Empty(Block):
    """Nothing to show (e.g. a table of a topic whose data are missing). The appendix build
    drops sections whose outputs are all empty, so no empty heading is left behind."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return ""

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {}

    def text(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False


EMPTY = Empty()
