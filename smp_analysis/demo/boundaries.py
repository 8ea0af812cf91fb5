"""Synthetic ward and LSOA boundaries for the demo county, so maps appear in the demo
appendices.

Each district gets a rounded outline around the disc its synthetic LSOA centroids were drawn
in; the outline is cut into one Voronoi cell per LSOA centroid (Okabe et al. 2000, *Spatial
Tessellations*), and the LSOA cells of each ward are dissolved into the ward. The cells are
handed to LSOAs in order of their angle around the district centre, following the lookup's
ward order, so every ward is one contiguous sector instead of scattered islands (the lookup's
wards were drawn at random in space). A cell therefore need not contain the synthetic crime
points of its LSOA: the maps use LSOA codes, never point-in-polygon.

Files are GeoJSON in WGS84 longitude/latitude (RFC 7946, as ONS publishes GeoJSON), with the
ONS column names ``LSOA11CD``/``LSOA11NM`` and ``WD23CD``/``WD23NM``. The generator has its
own random stream, so adding boundaries changes no other demo file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DISTRICTS

OUTLINE_VERTICES = 96
LON_STRETCH = 1.6  # the demo draws LSOA centroids in an ellipse 1.6 x wider in longitude
DISC_RADIUS = 0.09


def _outline(rng: np.random.Generator, lon: float, lat: float):
    """A wobbly ellipse (lon/lat vertices) just larger than the centroid disc."""
    angle = np.linspace(0, 2 * np.pi, OUTLINE_VERTICES, endpoint=False)
    wobble = np.zeros_like(angle)
    for k in (2, 3, 5):
        wobble += rng.uniform(0.005, 0.015) * np.sin(k * angle + rng.uniform(0, 2 * np.pi))
    radius = DISC_RADIUS * (1.1 + wobble)
    return lon + LON_STRETCH * radius * np.cos(angle), lat + radius * np.sin(angle)


def build_boundaries(geo: pd.DataFrame, rng: np.random.Generator):
    """LSOA and ward GeoDataFrames (EPSG:4326) for the synthetic geography `geo`."""
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    lsoas = []
    for d_index, district in enumerate(DISTRICTS):
        members = geo[geo["district"] == d_index]
        x, y = to_bng.transform(members["lon"].to_numpy(), members["lat"].to_numpy())
        ox, oy = to_bng.transform(*_outline(rng, district.lon, district.lat))
        outline = shapely.Polygon(np.column_stack([ox, oy]))
        points = shapely.MultiPoint(np.column_stack([x, y]))
        cells = shapely.voronoi_polygons(points, extend_to=outline.buffer(5000), ordered=True)
        cells = [cell.intersection(outline) for cell in cells.geoms]
        cx, cy = to_bng.transform(district.lon, district.lat)
        centres = np.array([[c.centroid.x, c.centroid.y] for c in cells])
        by_angle = np.argsort(np.arctan2(centres[:, 1] - cy, centres[:, 0] - cx), kind="stable")
        for row, cell_index in zip(members.itertuples(), by_angle, strict=True):
            lsoas.append({"LSOA11CD": row.lsoa_code, "LSOA11NM": row.lsoa_name,
                          "ward_code": row.ward_code, "ward_name": row.ward_name,
                          "geometry": cells[cell_index]})
    frame = gpd.GeoDataFrame(lsoas, geometry="geometry", crs="EPSG:27700")
    wards = frame.dissolve(by=["ward_code", "ward_name"], as_index=False, sort=True)
    wards = wards.rename(columns={"ward_code": "WD23CD", "ward_name": "WD23NM"})[
        ["WD23CD", "WD23NM", "geometry"]]
    lsoa_frame = frame[["LSOA11CD", "LSOA11NM", "geometry"]]
    return lsoa_frame.to_crs("EPSG:4326"), wards.to_crs("EPSG:4326")


def _feature_collection(frame, name: str) -> str:
    """GeoJSON text with coordinates rounded to 6 decimals (~10 cm), written the same way on
    every run (sorted keys, fixed separators)."""
    import shapely

    features = []
    for row in frame.itertuples(index=False):
        shape = shapely.set_precision(row.geometry, 1e-6)
        properties = {k: getattr(row, k) for k in frame.columns if k != "geometry"}
        geometry = json.loads(shapely.to_geojson(shape))
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "name": name, "features": features},
                      sort_keys=True, separators=(",", ":")) + "\n"


def write_boundaries(out: Path, geo: pd.DataFrame, rng: np.random.Generator) -> dict:
    """Write ``boundaries/lsoas.geojson`` and ``boundaries/wards.geojson`` under `out`."""
    lsoas, wards = build_boundaries(geo, rng)
    folder = out / "boundaries"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lsoas.geojson").write_text(_feature_collection(lsoas, "lsoas"), encoding="utf-8")
    (folder / "wards.geojson").write_text(_feature_collection(wards, "wards"), encoding="utf-8")
    return {"lsoas": len(lsoas), "wards": len(wards)}
