"""The store: DuckDB register and lookups plus Parquet parts of police.uk rows.

``from smp_analysis import store`` gives :func:`connect` and friends; writing lives in
:mod:`smp_analysis.store.ingest`, reading in :mod:`smp_analysis.store.queries`.
"""

from .connection import SYNTHETIC_MARKER, connect, has_table, is_synthetic, parts_dir

__all__ = ["SYNTHETIC_MARKER", "connect", "has_table", "is_synthetic", "parts_dir"]
