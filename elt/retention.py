"""Retention: evidence is kept for ELT_RETENTION_DAYS, then deleted.

- each raw file's `_sync_log` rows that finished earlier (docs/contracts.md §2);
- the quality store's audit rows and released quarantine rows (`quality.prune`).

Raw records themselves are never deleted here: they are the data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from connectors.registry import SOURCES
from elt.settings import Settings


def prune(settings: Settings, *, locked: Callable[..., Any]) -> dict[str, int]:
    """Delete what is older than the retention; returns rows deleted per place."""
    import quality

    cutoff = datetime.now(UTC) - timedelta(days=settings.retention_days)
    counts: dict[str, int] = {}
    for source in SOURCES:
        path = settings.raw_path(source)
        if not path.exists():
            continue
        with locked(settings, "retention", exclusive=[f"raw-{source}"]):
            try:
                con = duckdb.connect(str(path))
            except duckdb.IOException:
                # a reader outside `elt` has it open: housekeeping waits for the next run
                counts[f"{source} sync log skipped (file busy)"] = 0
                continue
            try:
                n = con.execute(
                    f"DELETE FROM raw_{source}._sync_log WHERE finished_at < ?", [cutoff]
                ).fetchone()[0]
            except duckdb.CatalogException:
                n = 0  # no sync log yet
            finally:
                con.close()
        counts[f"{source} sync-log rows deleted"] = n
    if settings.quality_db.exists():
        with locked(settings, "retention", exclusive=["quality"]):
            deleted = quality.prune(
                settings.quality_db, settings.retention_days, docs_dir=settings.quality_docs_dir
            )
        counts.update({f"quality {k} deleted": v for k, v in deleted.items()})
    return counts
