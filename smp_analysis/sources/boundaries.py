"""Reader for ward and LSOA boundary files (the maps' geography).

Formats: anything GDAL reads through pyogrio, in practice the files ONS publishes on the Open
Geography Portal: GeoJSON (WGS84 longitude/latitude, RFC 7946), GeoPackage or shapefile
(usually British National Grid, EPSG:27700). The code column is found by its ONS name
(``WD23CD``, ``LSOA11CD``, ``LSOA21CD``...) or by this project's names (``ward_code``,
``lsoa_code``), or named in params; the name column likewise (``WD23NM``, ``ward_name``...).

Validation reports every problem in the file at once, each naming the feature (1-based, in
file order): blank or malformed codes, a code on more than one feature, missing, empty or
non-polygon geometry, no coordinate reference system (a shapefile without its ``.prj``), and
coordinates that fall outside Great Britain once converted (a file whose CRS is wrong).
Invalid polygons (self-intersections, common in digitised boundaries) are repaired with
``shapely.make_valid`` and counted. Geometries are returned in British National Grid
(metres), so areas, distances and scale bars are true.

Whether the codes match the LSOA or ward lookup is checked when the file is loaded into the
store (:func:`smp_analysis.store.boundaries.load_boundaries`), which knows the lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem

BRITISH_NATIONAL_GRID = "EPSG:27700"
# GB extent in British National Grid metres (OS: the grid covers 0-700 km E, 0-1300 km N)
GB_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)

LEVELS = {
    "ward": {"pattern": r"^[EWSN]05\d{6}$", "what": "a ward code (E05, W05... and 6 digits)",
             "code": (r"^WD\d{2}CD$", r"^ward_code$", r"^code$"),
             "name": (r"^WD\d{2}NM$", r"^ward_name$", r"^name$")},
    "lsoa": {"pattern": r"^[EW]01\d{6}$", "what": "an LSOA code (E01 or W01 and 6 digits)",
             "code": (r"^LSOA\d{2}CD$", r"^lsoa_code$", r"^code$"),
             "name": (r"^LSOA\d{2}NM$", r"^lsoa_name$", r"^name$")},
}


@dataclass
class BoundaryFile:
    """A validated boundary file: ``frame`` has ``feature, code, name, geometry`` (a
    GeoDataFrame in British National Grid)."""

    path: str
    level: str
    frame: object  # geopandas.GeoDataFrame
    code_column: str
    source_crs: str
    repaired: int


def _find_column(columns, patterns, given: str | None) -> str | None:
    if given is not None:
        return given if given in columns else None
    for pattern in patterns:
        for column in columns:
            if re.fullmatch(pattern, str(column), flags=re.IGNORECASE):
                return column
    return None


def read_boundaries(path: str | Path, level: str, *, code_column: str | None = None
                    ) -> BoundaryFile:
    """Read and validate a ward (``level="ward"``) or LSOA (``"lsoa"``) boundary file."""
    import geopandas as gpd
    import shapely

    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}")
    spec = LEVELS[level]
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise InputError(Problem(where, "boundary file not found"))
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several GDAL error types; all mean unreadable
        raise InputError(Problem(where, "not a readable GeoJSON, GeoPackage or shapefile "
                                 f"({type(exc).__name__}: {exc})")) from None
    if len(frame) == 0:
        raise InputError(Problem(where, "the file holds no features"))
    column = _find_column(list(frame.columns), spec["code"], code_column)
    if column is None:
        wanted = (f"the column {code_column!r} named in params" if code_column else
                  "a code column such as " + (" or ".join(
                      ["WD23CD", "ward_code"] if level == "ward" else ["LSOA11CD", "lsoa_code"])))
        raise InputError(Problem(where, f"{wanted} is missing; the file has "
                                 f"{', '.join(map(str, frame.columns))}. Name the column in "
                                 f"params (data.boundaries.{level}_code_column)"))
    name_column = _find_column(list(frame.columns), spec["name"], None)
    problems: list[Problem] = []
    if frame.crs is None:
        problems.append(Problem(where, "the file has no coordinate reference system (for a "
                                "shapefile, the .prj file is missing); ONS files are in "
                                "EPSG:27700 or EPSG:4326: save the file with its CRS"))
    codes = frame[column].astype("string").str.strip()
    pattern = re.compile(spec["pattern"])
    first_seen: dict[str, int] = {}
    for number, code in enumerate(codes, start=1):
        if pd.isna(code) or code == "":
            problems.append(Problem(where, f"feature {number}: the code is blank", None, column))
        elif not pattern.fullmatch(code):
            problems.append(Problem(where, f"feature {number}: {code!r} is not {spec['what']}",
                                    None, column))
        elif code in first_seen:
            problems.append(Problem(where, f"feature {number}: code {code} is also on feature "
                                    f"{first_seen[code]}; each area needs one feature", None,
                                    column))
        else:
            first_seen[code] = number
    geometry = frame.geometry
    repaired = 0
    fixed = []
    for number, shape in enumerate(geometry, start=1):
        if shape is None or shape.is_empty:
            problems.append(Problem(where, f"feature {number}: no geometry"))
            fixed.append(None)
            continue
        if shape.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(where, f"feature {number}: a {shape.geom_type}, not an "
                                    "area (Polygon or MultiPolygon)"))
            fixed.append(None)
            continue
        if not shape.is_valid:
            shape = _polygonal(shapely.make_valid(shape))
            repaired += 1
            if shape is None:
                problems.append(Problem(where, f"feature {number}: the polygon is invalid and "
                                        "could not be repaired"))
        fixed.append(shape)
    if problems:
        raise InputError(problems)
    out = gpd.GeoDataFrame({
        "feature": range(1, len(frame) + 1),
        "code": codes.astype(str).to_numpy(),
        "name": (frame[name_column].astype("string").fillna("").to_numpy()
                 if name_column is not None else codes.astype(str).to_numpy()),
    }, geometry=gpd.GeoSeries(fixed, crs=frame.crs))
    source_crs = frame.crs.to_string()
    out = out.to_crs(BRITISH_NATIONAL_GRID)
    minx, miny, maxx, maxy = out.total_bounds
    if not (minx >= GB_BOUNDS[0] - 1e4 and miny >= GB_BOUNDS[1] - 1e4
            and maxx <= GB_BOUNDS[2] + 1e4 and maxy <= GB_BOUNDS[3] + 1e4):
        raise InputError(Problem(where, f"the coordinates fall outside Great Britain once "
                                 f"converted from {source_crs}; is the file's coordinate "
                                 "reference system right?"))
    return BoundaryFile(where, level, out, column, source_crs, repaired)


def _polygonal(shape):
    """The polygon parts of a repaired geometry (make_valid can add lines), or None."""
    import shapely

    if shape.geom_type in ("Polygon", "MultiPolygon"):
        return shape
    parts = [g for g in getattr(shape, "geoms", []) if g.geom_type in ("Polygon",
                                                                         "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)
