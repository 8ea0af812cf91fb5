"""Reviewer tables: captioned, formatted, every header and cell escaped.

A :class:`Table` keeps the display frame (for CSV export and tests) and renders its own HTML:
no pandas Styler (which neither escapes cells nor gives stable ids). The caption starts with a
``Table`` label that the appendix build numbers by chapter and order ("Table 4.2"); topics never
type a number (escaped text can never produce the label's ``<caption>`` tag).

>>> import pandas as pd
>>> t = table(pd.DataFrame({"Ward": ["<b>A</b>"], "Offences": [1234]}), "By ward",
...           counts=("Offences",))
>>> html = t._repr_html_()
>>> "&lt;b&gt;A&lt;/b&gt;" in html and "1,234" in html and "<b>" not in html
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .markup import Block, escape

MISSING = "–"
# The caption's opening; the appendix build turns it into '<caption id="table-4-2">Table 4.2:'
TABLE_LABEL = "<caption>Table:"


def _format_p(p: float) -> str:
    """Example:

    >>> _format_p(0.0001), _format_p(0.0342)
    ('<0.001', '0.034')
    """
    return "<0.001" if p < 0.001 else f"{p:.3f}"


FORMATS: dict[str, Callable[[float], str]] = {
    "count": "{:,.0f}".format,
    "difference": "{:,.0f}".format,
    "percent": "{:+.1f}%".format,
    "rate": "{:.1f}".format,
    "p_value": _format_p,
}


@dataclass(frozen=True, repr=False)
class Table(Block):
    """A table for reviewers. `kinds` maps columns to a format in :data:`FORMATS`;
    `count_columns` are marked ``smp-count`` (and ``smp-protected`` when the counts come from
    victim-level data and have been through disclosure control)."""

    frame: pd.DataFrame
    caption: str
    kinds: dict = field(default_factory=dict)
    count_columns: tuple[str, ...] = ()
    protected: bool = False
    note: str = ""

    def _cell(self, column: str, value) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return MISSING
        kind = self.kinds.get(column)
        return FORMATS[kind](value) if kind else str(value)

    def cells(self) -> pd.DataFrame:
        """The table as reviewers see it: every cell formatted as text."""
        return pd.DataFrame({c: [self._cell(c, v) for v in self.frame[c]]
                             for c in self.frame.columns}, index=self.frame.index)

    def _repr_html_(self) -> str:
        shown = self.cells()
        head = "".join(f'<th scope="col">{escape(c)}</th>' for c in shown.columns)
        numeric = {c for c in shown.columns if c in self.kinds or c in self.count_columns
                   or pd.api.types.is_numeric_dtype(self.frame[c])}
        rows = []
        for _, row in shown.iterrows():
            tds = []
            for column, value in row.items():
                classes = []
                if column in numeric:
                    classes.append("smp-num")
                if column in self.count_columns:
                    classes.append("smp-count smp-protected" if self.protected else "smp-count")
                attr = f' class="{" ".join(classes)}"' if classes else ""
                tds.append(f"<td{attr}>{escape(value)}</td>")
            rows.append("<tr>" + "".join(tds) + "</tr>")
        caption = escape(self.caption + (f". {self.note}" if self.note else ""))
        return (f'<table class="smp-table">{TABLE_LABEL} {caption}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def text(self) -> str:
        return f"Table: {self.caption}\n{self.cells().to_string(index=False)}"


def table(frame: pd.DataFrame, caption: str, *, counts: tuple[str, ...] = (),
          differences: tuple[str, ...] = (), percents: tuple[str, ...] = (),
          rates: tuple[str, ...] = (), p_values: tuple[str, ...] = ()) -> Table:
    """Format columns by kind: counts '1,234', differences '-56', percents '+5.8%', rates
    '12.3', p '0.034'."""
    kinds: dict = {}
    for kind, columns in (("count", counts), ("difference", differences), ("percent", percents),
                          ("rate", rates), ("p_value", p_values)):
        kinds.update(dict.fromkeys(columns, kind))
    return Table(frame.reset_index(drop=True), caption, kinds, tuple(counts))


def protected_table(display: pd.DataFrame, caption: str, *, counts: tuple[str, ...],
                    note: str) -> Table:
    """A table of victim-level figures already passed through disclosure control (cells are
    text); `note` explains the suppression rule and follows the caption."""
    return Table(display.reset_index(drop=True), caption, {}, tuple(counts), protected=True,
                 note=note)
