"""An intruder's attack on a published domestic-abuse chapter, from its HTML alone.

Nothing here comes from :mod:`smp_analysis.topics.domestic_abuse`: the tables are read back
from the published HTML, and what a reader knows about the figures (sums over wards, linked
columns, published rates to their printed precision) is written out again from the
definitions in docs/methods.md. Each suppressed cell is then attacked twice: by the integer
programs of :mod:`smp_analysis.report.disclosure_audit`, and by a plain differencing attack
that needs no solver (so a bug in the solver cannot hide a leak on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from bs4 import BeautifulSoup

from smp_analysis.report.disclosure_audit import Audit, Relation, at_most, total

SUMMARY_ROWS = {"Incidents": "incidents", "of which crimes": "crimes", "Victims": "victims",
                "Repeat incidents": "repeat_incidents", "Repeat victims": "repeat_victims",
                "Marac referrals": "marac_referrals", "Repeat Marac referrals": "marac_repeats"}
SUMMARY_RATES = {"Repeat incident rate": ("repeat_incidents", "incidents"),
                 "Repeat victim rate": ("repeat_victims", "victims"),
                 "Incidents per victim": ("incidents", "victims"),
                 "Marac repeat rate": ("marac_repeats", "marac_referrals")}
WARD_COLUMNS = {"Incidents": "incidents", "Repeat incidents": "repeat_incidents",
                "Victims": "victims", "Repeat victims": "repeat_victims"}
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")


def is_hidden(text: str) -> bool:
    """Anything in a count cell that is not a number and not 'not applicable'."""
    return not NUMBER.match(text) and text not in ("–", "")


@dataclass
class Chapter:
    """What the published chapter says: known figures, hidden figures, relations."""

    published: dict = field(default_factory=dict)
    hidden: set = field(default_factory=set)
    relations: list = field(default_factory=list)
    wards: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)  # a figure printed two different ways
    rates: list = field(default_factory=list)  # (text, numerator key, denominator key)

    def see(self, key, text: str) -> None:
        if is_hidden(text):
            if key not in self.published:
                self.hidden.add(key)
            return
        if text == "–":
            return
        value = int(text.replace(",", ""))
        if key in self.published and self.published[key] != value:
            self.conflicts.append((key, self.published[key], value))
        self.published[key] = value
        self.hidden.discard(key)  # printed somewhere: known

    def rate(self, text: str, numerator, denominator) -> None:
        """A published ratio, to its printed precision, as two linear inequalities."""
        if is_hidden(text) or text == "–":
            return
        self.rates.append((text, numerator, denominator))
        digits = text.rstrip("%")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        value = Fraction(digits) / (100 if text.endswith("%") else 1)
        half = Fraction(1, 2 * 10 ** decimals) / (100 if text.endswith("%") else 1)
        for bound, sign in ((value - half, -1), (value + half, 1)):
            # sign * (numerator - bound * denominator) <= 0, scaled to integers
            scale = bound.denominator
            self.relations.append(Relation(((numerator, sign * scale),
                                            (denominator, -sign * bound.numerator)), "<="))

    def audit(self) -> Audit:
        keys = sorted(self.hidden, key=repr)
        return Audit(self.published, keys, self.relations)

    def recovered(self, threshold: int) -> dict:
        """Hidden cells the integer programs narrow to fewer than threshold + 1 values."""
        audit = self.audit()
        return {k: audit.range(k) for k in audit.unprotected(threshold)}

    def differencing(self) -> dict:
        """Plain attack, no solver: any total with one unknown part gives it away; a total
        whose unknown parts (each at least 1) add up to their number makes them all 1."""
        known = dict(self.published)
        found: dict = {}
        changed = True
        while changed:
            changed = False
            for r in self.relations:
                if r.kind != "==" or any(abs(c) != 1 for _, c in r.terms):
                    continue
                unknown = [(k, c) for k, c in r.terms if k not in known]
                if not unknown:
                    continue
                rest = r.constant - sum(c * known[k] for k, c in r.terms if k in known)
                if len(unknown) == 1:
                    (k, c), = unknown
                    value = rest * c
                elif all(c == 1 for _, c in unknown) and rest == len(unknown):
                    value = 1
                else:
                    continue
                for k, _ in (unknown if len(unknown) > 1 else unknown[:1]):
                    known[k] = found[k] = value
                changed = True
        return {k: v for k, v in found.items() if k in self.hidden}


def _tables(html: str) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    out = {}
    for table in soup.find_all("table"):
        caption = table.find("caption")
        if caption is None:
            continue
        text = caption.get_text(" ", strip=True)
        rows = [[c.get_text(strip=True) for c in tr.find_all(["td", "th"])]
                for tr in table.find_all("tr")]
        for name, pattern in (("summary", r"Domestic abuse in "), ("wards", r"Domestic abuse by ward"),
                              ("high_harm", r"High-harm domestic-abuse")):
            if re.search(pattern, text):
                out[name] = rows
    return out


def read_chapter(html: str, *, one_first_incident: bool = True, plausible: bool = False) -> Chapter:
    """The chapter's tables and what the definitions imply between their figures. With
    `plausible`, the reader also assumes what usually holds: incidents = victims + repeat
    incidents in every area (no victim had an incident before the period) and district
    victims = the sum of ward victims (no victim in two wards); use it only on data where
    that is true, or the audit finds no table that fits."""
    tables = _tables(html)
    ch = Chapter()
    if "summary" in tables:
        header, *rows = tables["summary"]
        periods = {1: "previous", 2: "current"}
        for row in rows:
            for col, period in periods.items():
                if row[0] in SUMMARY_ROWS:
                    ch.see(("district", period, SUMMARY_ROWS[row[0]]), row[col])
                elif row[0] in SUMMARY_RATES:
                    num, den = SUMMARY_RATES[row[0]]
                    ch.rate(row[col], ("district", period, num), ("district", period, den))
        for period in periods.values():
            ch.relations += _linked(lambda m, p=period: ("district", p, m), one_first_incident)
            ch.relations.append(at_most(("district", period, "crimes"),
                                        ("district", period, "incidents")))
            ch.relations.append(at_most(("district", period, "marac_repeats"),
                                        ("district", period, "marac_referrals")))
    if "wards" in tables:
        header, *rows = tables["wards"]
        *body, total_row = rows
        ch.wards = [r[0] for r in body]
        for r in rows:
            key = (lambda m, w=r[0]: ("ward", w, m)) if r is not total_row else \
                (lambda m: ("district", "current", m))
            for col, name in enumerate(header):
                if name in WARD_COLUMNS:
                    ch.see(key(WARD_COLUMNS[name]), r[col])
                elif name == "Repeat incident rate":
                    ch.rate(r[col], key("repeat_incidents"), key("incidents"))
        for w in ch.wards:
            ch.relations += _linked(lambda m, w=w: ("ward", w, m), one_first_incident)
        for m in ("incidents", "repeat_incidents"):
            ch.relations.append(total(("district", "current", m), [("ward", w, m) for w in ch.wards]))
        for m in ("victims", "repeat_victims"):
            ch.relations.append(at_most(("district", "current", m), [("ward", w, m) for w in ch.wards]))
            ch.relations += [at_most(("ward", w, m), ("district", "current", m)) for w in ch.wards]
    if "high_harm" in tables:
        header, *rows = tables["high_harm"]
        *body, total_row = rows
        kinds = header[1:]
        for r in rows:
            w = None if r is total_row else r[0]
            for kind, text in zip(kinds, r[1:], strict=True):
                ch.see(("high_harm", w, kind), text)
        names = [r[0] for r in body]
        for kind in kinds:
            ch.relations.append(total(("high_harm", None, kind), [("high_harm", w, kind) for w in names]))
        if "wards" in tables:
            for w in names:
                ch.relations.append(at_most([("high_harm", w, k) for k in kinds], ("ward", w, "incidents")))
        ch.relations.append(at_most([("high_harm", None, k) for k in kinds],
                                    ("district", "current", "incidents")))
    if plausible:
        areas = [lambda m, p=p: ("district", p, m) for p in ("previous", "current")]
        areas += [lambda m, w=w: ("ward", w, m) for w in ch.wards]
        for key in areas:
            ch.relations.append(total(key("incidents"), [key("victims"), key("repeat_incidents")]))
        for m in ("victims", "repeat_victims"):
            if ch.wards:
                ch.relations.append(total(("district", "current", m),
                                          [("ward", w, m) for w in ch.wards]))
    known = set(ch.published) | ch.hidden
    ch.relations = [r for r in ch.relations if all(k in known for k in r.cells)]
    return ch


def _linked(key, one_first_incident: bool) -> list[Relation]:
    i, r, v, rv = (key(m) for m in ("incidents", "repeat_incidents", "victims", "repeat_victims"))
    out = [at_most(r, i), at_most(v, i), at_most(rv, v), at_most(rv, r), at_most([v, r], [i, rv])]
    if one_first_incident:
        out.append(at_most(i, [v, r]))
    return out
