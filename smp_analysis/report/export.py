"""Tables as data: every table of an appendix as CSV, and all of them as one workbook.

The tables are read back from the rendered, numbered appendix (``table.smp-table``), so each
cell is exactly what the page shows, after formatting and disclosure control (a suppressed
count is the marker the page shows, ``[c]``, never the raw count), and each table keeps the number the
build gave it ("Table 4.2"). Nothing is recomputed.

- CSV: one file a table, UTF-8 with a byte-order mark (Excel on Windows then reads accented
  names correctly), RFC 4180 line ends, the header row then the rows, every cell as printed.
- Workbook (openpyxl): a contents sheet (title, what the cells are, the synthetic-data warning
  when it applies), then one sheet a table named after its number, caption above the header.
  Cells that print as plain numbers ("1,234", "12.3", "+5.8%") are stored as numbers with a
  number format that prints them the same way, so they can be summed; every other cell
  ("[c]", "–", "<0.001", names) is stored as text. Text is never stored as a formula, so a
  hostile name such as ``=HYPERLINK(...)`` stays text.

Outputs are reproducible: the same tables give the same bytes (the workbook's zip entries and
document dates are fixed, see :data:`FIXED_TIME`).

>>> from bs4 import BeautifulSoup
>>> page = BeautifulSoup('<table class="smp-table"><caption id="table-4-2">Table 4.2: By ward'
...     '</caption><thead><tr><th>Ward</th><th>Victims</th></tr></thead><tbody><tr><td>A</td>'
...     '<td class="smp-num">1,234</td></tr><tr><td>B</td><td class="smp-num">&lt;5</td></tr>'
...     '</tbody></table>', "html.parser")
>>> [t] = collect(page)
>>> t.number, t.caption, t.rows
('4.2', 'By ward', [['A', '1,234'], ['B', '<5']])
>>> csv_bytes(t).decode("utf-8-sig")
'Ward,Victims\\r\\nA,"1,234"\\r\\nB,<5\\r\\n'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

FIXED_TIME = dt.datetime(1980, 1, 1)  # the zip epoch, as reproducible builds use
_CAPTION = re.compile(r"^Table(?: (?P<number>\d+\.\d+))?:\s*")
_INTEGER = re.compile(r"^[+-]?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)$")
_DECIMAL = re.compile(r"^[+-]?(?:0|[1-9]\d*)\.(?P<places>\d+)$")
_PERCENT = re.compile(r"^[+-]?(?:0|[1-9]\d*)(?:\.(?P<places>\d+))?%$")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ExportedTable:
    """One table as the page shows it: its number ("4.2", or "" in the unnumbered front
    matter), the id of its caption, the caption text, the header and the rows of cells, and
    which cells sit in numeric columns (``smp-num``)."""

    number: str
    anchor: str
    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[list[bool]]

    @property
    def label(self) -> str:
        return f"Table {self.number}" if self.number else f"Table {self.anchor}"

    def file_name(self, assessment: str) -> str:
        """``2015-16-table-4-2.csv`` (the same name in the HTML link and on disk)."""
        return f"{_safe(assessment)}-{self.anchor}.csv"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "appendix"


def collect(soup) -> list[ExportedTable]:
    """Every ``table.smp-table`` of a rendered appendix, in page order."""
    found = []
    for i, table in enumerate(soup.find_all("table", class_="smp-table"), start=1):
        caption_tag = table.find("caption")
        caption = caption_tag.get_text(" ", strip=True) if caption_tag else ""
        match = _CAPTION.match(caption)
        number = (match.group("number") or "") if match else ""
        anchor = (caption_tag.get("id") if caption_tag is not None else None) or f"table-{i}"
        head, body = table.find("thead"), table.find("tbody")
        columns = [th.get_text(" ", strip=True) for th in (head.find_all("th") if head else [])]
        rows, numeric = [], []
        for tr in body.find_all("tr") if body else []:
            cells = tr.find_all(["td", "th"])
            rows.append([c.get_text(" ", strip=True) for c in cells])
            numeric.append(["smp-num" in (c.get("class") or []) for c in cells])
        found.append(ExportedTable(number, anchor, caption[match.end():] if match else caption,
                                   columns, rows, numeric))
    return found


def csv_bytes(table: ExportedTable) -> bytes:
    """The table as CSV: header, then rows, every cell as printed (UTF-8 with BOM, CRLF)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def number_cell(text: str) -> tuple[float | int, str] | None:
    """A printed number as ``(value, Excel number format)`` that prints it the same way, or
    None when the text is not a plain number.

    >>> number_cell("1,234"), number_cell("12.3"), number_cell("+5.8%"), number_cell("2014")
    ((1234, '#,##0'), (12.3, '0.0'), (0.058, '+0.0%;-0.0%;+0.0%'), (2014, '0'))
    >>> number_cell("<5"), number_cell("–"), number_cell("007")
    (None, None, None)
    """
    parsed = _parse_number(text)
    if parsed is None:
        return None
    value, fmt = parsed
    if text[0] == "+":  # printed with an explicit sign, zero included ("+0.0%")
        fmt = f"+{fmt};-{fmt};+{fmt}"
    elif text[0] == "-" and value == 0:  # "-0.0%": a small fall rounded to zero
        fmt = f"{fmt};-{fmt};-{fmt}"
    return value, fmt


def _parse_number(text: str) -> tuple[float | int, str] | None:
    if _INTEGER.match(text):
        value = int(text.replace(",", ""))
        return value, "#,##0" if "," in text or abs(value) < 1000 else "0"
    if match := _DECIMAL.match(text):
        return float(text), "0." + "0" * len(match.group("places"))
    if match := _PERCENT.match(text):
        places = len(match.group("places") or "")
        value = round(float(text.rstrip("%")) / 100, places + 2)
        return value, ("0." + "0" * places if places else "0") + "%"
    return None


def sheet_name(table: ExportedTable, used: set[str]) -> str:
    base = SHEET_FORBIDDEN.sub("-", table.label)[:31]
    name, i = base, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(name.lower())
    return name


def workbook_bytes(tables: list[ExportedTable], *, title: str, source: str,
                   synthetic: bool, synthetic_label: str = "") -> bytes:
    """All tables as one .xlsx: a contents sheet, then one sheet a table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    bold = Font(bold=True)
    _text(contents, 1, 1, title).font = Font(bold=True, size=14)
    _text(contents, 2, 1, source)
    _text(contents, 3, 1, "Every cell is as printed in the appendix, after formatting and "
                          "disclosure control: suppressed victim counts are text here too.")
    row = 4
    if synthetic:
        _text(contents, row, 1, synthetic_label).font = Font(bold=True, color="C00000")
        row += 1
    row += 1
    for col, heading in enumerate(("Sheet", "Table", "Caption", "Rows"), start=1):
        _text(contents, row, col, heading).font = bold
    used = {"contents"}
    for table in tables:
        name = sheet_name(table, used)
        row += 1
        _text(contents, row, 1, name)
        _text(contents, row, 2, table.label)
        _text(contents, row, 3, table.caption)
        contents.cell(row=row, column=4, value=len(table.rows))
        sheet = book.create_sheet(name)
        _text(sheet, 1, 1, f"{table.label}: {table.caption}").font = bold
        first = 2
        if synthetic:
            _text(sheet, 2, 1, synthetic_label).font = Font(bold=True, color="C00000")
            first = 3
        for col, heading in enumerate(table.columns, start=1):
            _text(sheet, first, col, heading).font = bold
        for r, (cells, numeric) in enumerate(zip(table.rows, table.numeric, strict=True),
                                             start=first + 1):
            for col, (text, is_number) in enumerate(zip(cells, numeric, strict=False), start=1):
                parsed = number_cell(text) if is_number else None
                if parsed is None:
                    _text(sheet, r, col, text)
                else:
                    cell = sheet.cell(row=r, column=col, value=parsed[0])
                    cell.number_format = parsed[1]
        sheet.freeze_panes = sheet.cell(row=first + 1, column=1)
        for col, heading in enumerate(table.columns, start=1):
            width = max([len(heading)] + [len(c[col - 1]) for c in table.rows if len(c) >= col])
            sheet.column_dimensions[get_column_letter(col)].width = min(60, max(8, width + 2))
    contents.column_dimensions["A"].width = 14
    contents.column_dimensions["B"].width = 12
    contents.column_dimensions["C"].width = 90
    book.properties.creator = "smp-analysis"
    book.properties.title = title
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _text(sheet, row: int, column: int, value: str):
    """A text cell that stays text (openpyxl would read a leading '=' as a formula)."""
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"
    return cell


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _fixed_zip(data: bytes) -> bytes:
    """The same workbook with fixed entry times and document dates (byte-identical rebuilds)."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content)
    return out.getvalue()


def workbook_name(assessment: str) -> str:
    return f"{_safe(assessment)}-tables.xlsx"


def write(tables: list[ExportedTable], workbook: bytes, *, out_dir: Path,
          assessment: str) -> tuple[Path, Path]:
    """Write the CSVs to ``out_dir/<assessment>/tables/`` (replacing the folder as a whole, so
    no stale table is left) and the workbook beside the HTML; returns both paths."""
    import shutil
    import tempfile

    from ..atomic import write_bytes_atomic

    folder = out_dir / assessment / "tables"
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tables.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the tables are as public as the HTML
    try:
        for table in tables:
            (staging / table.file_name(assessment)).write_bytes(csv_bytes(table))
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=".tables-old.", dir=folder.parent))
            folder.replace(old / "tables")
        staging.replace(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    book = out_dir / workbook_name(assessment)
    write_bytes_atomic(book, workbook)
    return folder, book
