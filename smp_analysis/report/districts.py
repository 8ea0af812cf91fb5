"""One params file per district of the comparison area: ``smp appendix --all-districts``.

From a single params file, :func:`district_params` writes one params file per district of its
comparison area (the police force's districts in the LSOA lookup, or
``comparison_area.districts`` when listed), each district in turn as the focus area; the batch
then builds them all. Everything else (period, options, data, store) is the same. For each
district:

* ``assessment``: the given id suffixed with a slug of the district's name
  (``2023-24-tunbridge-wells``; with its code too, ``...-E07000116``, should two names give the
  same slug), so every appendix has its own outputs;
* ``focus_area``: the district's code and name as the lookup has them (without the " UA" the
  LSOA lookup appends to unitary authorities);
* ``partnership``: the given one for the given focus district; for the others, the district's
  name followed by "Community Safety Partnership" (as ``smp init`` names a partnership), since a
  partnership's real name cannot be guessed: edit the written files when it differs;
* ``title``: the given title with the partnership's name (or, failing that, the focus area's
  name) replaced by the district's; ``"<district>: <title>"`` when it holds neither.

The files are written to ``<out>/districts/<assessment>/``, with the data paths made absolute,
and their bytes only change when the given params file or the lookup changes (so a batch run
again skips the appendices that are up to date).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .. import store
from ..atomic import write_text_atomic
from ..params import _resolve_paths, load_params
from ..params_yaml import _read_yaml


def slug(name: str) -> str:
    """A file-name-safe form of a district's name.

    >>> slug("Tunbridge Wells"), slug("King's Lynn and West Norfolk")
    ('tunbridge-wells', 'king-s-lynn-and-west-norfolk')
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def comparison_districts(params_file: str | Path) -> list[tuple[str, str]]:
    """``(code, name)`` of every district of the params file's comparison area, from the
    store's lookup (the store must be up to date)."""
    from .context import Assessment

    params = load_params(params_file)
    con = store.connect(params.data.store, read_only=True)
    try:
        frame = Assessment(params, con).districts
    finally:
        con.close()
    # the LSOA lookup appends " UA" to unitary authorities ("Medway UA"); not part of the name
    return [(str(code), re.sub(r"\s+UA$", "", str(name).strip()))
            for code, name in frame["area_name"].items()]


def derive(raw: dict, code: str, name: str, ids: dict[str, str]) -> dict:
    """The params (as YAML data) for district `code` from the given file's `raw` data.

    >>> raw = {"assessment": "2023-24", "title": "Safer Maidstone Partnership: 2023-24",
    ...        "partnership": "Safer Maidstone Partnership",
    ...        "focus_area": {"code": "E07000110", "name": "Maidstone"}}
    >>> d = derive(raw, "E07000105", "Ashford", {"E07000105": "ashford"})
    >>> d["assessment"], d["partnership"]
    ('2023-24-ashford', 'Ashford Community Safety Partnership')
    >>> d["title"]
    'Ashford Community Safety Partnership: 2023-24'
    >>> derive(raw, "E07000110", "Maidstone", {"E07000110": "maidstone"})["title"]
    'Safer Maidstone Partnership: 2023-24'
    """
    focus = raw.get("focus_area") or {}
    given = str(raw.get("partnership", ""))
    title = str(raw.get("title", ""))
    if code == focus.get("code"):
        partnership = given
    else:
        partnership = f"{name} Community Safety Partnership"
        if given and given in title:
            title = title.replace(given, partnership)
        elif focus.get("name") and str(focus["name"]) in title:
            title = title.replace(str(focus["name"]), name)
        else:
            title = f"{name}: {title}"
    return {**raw, "assessment": f"{raw['assessment']}-{ids[code]}", "title": title,
            "partnership": partnership, "focus_area": {"code": code, "name": name}}


def district_params(params_file: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one params file per district of the comparison area (see the module's
    docstring); returns their paths, in the lookup's order of districts."""
    params_file = Path(params_file).resolve()
    raw, _ = _read_yaml(params_file)
    raw = _resolve_paths(raw, params_file.parent)
    districts = comparison_districts(params_file)
    slugs = [slug(name) or code for code, name in districts]
    ids = {code: s if slugs.count(s) == 1 else f"{s}-{code}"
           for (code, _), s in zip(districts, slugs, strict=True)}
    folder = Path(out_dir).resolve() / "districts" / str(raw["assessment"])
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for code, name in districts:
        data = derive(raw, code, name, ids)
        path = folder / f"{data['assessment']}.yaml"
        text = (f"# Written by `smp appendix --all-districts` from {params_file}:\n"
                f"# {name} ({code}) as the focus area. Edit that file, not this one.\n"
                + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        if not path.exists() or path.read_text() != text:
            write_text_atomic(path, text)
        written.append(path)
    return written
