"""Facts about one raw table the raw gate's checks share: counts, syncs, and which rows are new.

"New" rows are those of syncs no passing raw gate has validated yet (plus any
row without a sync id): the row-level expectations and schema drift look at
those only, since earlier rows passed an earlier gate. A gate that fails
validates nothing, so its rows are checked again next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from quality.reader import quote

FULL_MODES = ("full_refresh", "replace")  # connectors.loader: a sync that read everything


@dataclass(frozen=True)
class SyncRun:
    """One succeeded `_sync_log` row of a stream."""

    sync_id: str
    mode: str
    records_read: int
    finished_at: datetime | None


@dataclass
class RawTable:
    source: str
    stream: str
    key: tuple[str, ...]
    rows: int = 0
    keys: int = 0
    #: rows per `_sync_id` (None: rows without one)
    syncs: dict[str | None, int] = field(default_factory=dict)
    #: sync ids whose rows no passing raw gate has validated (None included if present)
    pending: list[str | None] = field(default_factory=list)
    log: list[SyncRun] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.stream}"

    @property
    def table(self) -> str:
        return f"raw_{self.source}.{self.stream}"

    @property
    def pending_rows(self) -> int:
        return sum(self.syncs.get(s, 0) for s in self.pending)

    @property
    def latest_sync(self) -> str | None:
        """The newest pending sync that left rows (see `sync_order`)."""
        ids = [s for s in self.pending if s is not None and self.syncs.get(s)]
        return max(ids, key=sync_order) if ids else None

    def pending_filter(self, all_rows: bool) -> tuple[str, dict[str, Any]]:
        """SQL over the table (alias-free) selecting the new rows, and its parameters."""
        if all_rows or len(self.pending) == len(self.syncs):
            return "", {}
        ids = [s for s in self.pending if s is not None]
        null = "_sync_id IS NULL OR " if None in self.pending else ""
        return f"({null}_sync_id IN (SELECT unnest($pending::VARCHAR[])))", {"pending": ids}


def sync_order(sync_id: str) -> tuple[int, str]:
    """Sort key putting syncs in the order they ran: our sync ids start with their UTC
    time (text order is time order); Airbyte's are job ids, numbers that count up
    ("10" after "9")."""
    return (len(sync_id), sync_id) if sync_id.isdigit() else (0, sync_id)


def read_table_facts(
    con: duckdb.DuckDBPyConnection,
    source: str,
    stream: str,
    key: tuple[str, ...],
    validated: set[str],
) -> RawTable:
    """Counts (rows, distinct keys, rows per sync) of one raw table; the caller knows it exists."""
    table = f"raw_{source}.{quote(stream)}"
    facts = RawTable(source, stream, key)
    cols = ", ".join(quote(k) for k in key)
    facts.rows, facts.keys = con.execute(
        f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM (SELECT DISTINCT {cols} "
        f"FROM {table}))"
    ).fetchall()[0]
    facts.syncs = dict(con.execute(f"SELECT _sync_id, count(*) FROM {table} GROUP BY 1").fetchall())
    facts.pending = sorted(
        (s for s in facts.syncs if s not in validated), key=lambda s: (s is not None, s or "")
    )
    return facts


def read_sync_log(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, list[SyncRun]]:
    """Succeeded syncs per stream, oldest first; empty when the file has no sync log."""
    try:
        rows = con.execute(
            f"SELECT stream, sync_id, mode, records_read, finished_at FROM raw_{source}._sync_log "
            "WHERE status = 'succeeded' ORDER BY finished_at, sync_id"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    out: dict[str, list[SyncRun]] = {}
    for stream, sync_id, mode, read, finished in rows:
        out.setdefault(stream, []).append(SyncRun(sync_id, mode, read or 0, finished))
    return out
