"""Helpers: defects written straight into raw DuckDB files, as a later sync would load them."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb

from elt.gates import run_gate
from elt.settings import Settings
from quality import GateResult

_SYNCS = itertools.count(1)

#: The SQL-built raw tables hold 2-4 rows, one of them dirty on purpose: a 25-50% share
#: that the default 5% quarantine threshold would fail. The synced world tests the threshold.
TINY = {"quarantine_threshold": 0.5}


def execute(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Change a file; the connection is closed before the gate runs."""
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).fetchall()


def new_sync(
    settings: Settings,
    source: str,
    stream: str,
    set_sql: str = "",
    where: str = "true",
    *,
    mode: str = "incremental",
    records_read: int | None = None,
) -> str:
    """A sync that re-loaded the rows matching `where` of one raw table, changed by `set_sql`
    (e.g. `_raw = json_merge_patch(_raw, '{"x": 1}'), x = 1`), and logged it in `_sync_log`.
    Sync ids start with a UTC time, so this one sorts after the real sync's."""
    sync_id = f"20991231T{next(_SYNCS):06d}-{source}-test"
    sets = ", ".join(filter(None, [set_sql, "_sync_id = $sync", "_extracted_at = now()"]))
    with duckdb.connect(str(settings.raw_path(source))) as con:
        touched = con.execute(
            f"UPDATE raw_{source}.{stream} SET {sets} WHERE {where}", {"sync": sync_id}
        ).fetchall()[0][0]
        read = touched if records_read is None else records_read
        con.execute(
            f"INSERT INTO raw_{source}._sync_log VALUES "
            "(?, ?, ?, ?, ?, 1, 0, now(), now(), 'succeeded', NULL)",
            [sync_id, stream, mode, read, touched],
        )
    return sync_id


def keys(settings: Settings, source: str, stream: str, key: str, where: str) -> list[str]:
    """Record keys (the store's `record_key`) of the rows matching `where`, sorted."""
    rows = execute(
        settings.raw_path(source),
        f"SELECT {key} FROM raw_{source}.{stream} WHERE {where} ORDER BY 1",
    )
    return [r[0] for r in rows]


def quarantine_rows(settings: Settings, where: str = "true") -> list[dict]:
    with duckdb.connect(str(settings.quality_db), read_only=True) as con:
        cur = con.execute(f"SELECT * FROM quality.quality.quarantine WHERE {where} ORDER BY ALL")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def audit_rows(settings: Settings, run_id: str) -> list[dict]:
    with duckdb.connect(str(settings.quality_db), read_only=True) as con:
        cur = con.execute("SELECT * FROM quality.quality.audit WHERE run_id = ?", [run_id])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def raw_gate(settings: Settings, run_id: str, **overrides) -> GateResult:
    return run_gate(settings, "raw", run_id=run_id, **overrides)


def failed(result: GateResult, suite: str, expectation: str) -> list:
    """The failed findings of `suite` whose expectation starts with `expectation`."""
    return [
        f
        for f in result.findings
        if f.failed and f.suite == suite and f.expectation.startswith(expectation)
    ]
