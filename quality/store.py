"""The quality store: one DuckDB file (`<data>/quality.duckdb`) the gates own.

It keeps the evidence of every gate run (audit), the records held back from the
warehouse (quarantine) and what the next run compares against (volumes, the
fields seen per stream). dbt ATTACHes it read-only as `quality` and its staging
models leave out the records whose quarantine row has `released_at is null`.

Contract with dbt (dbt_project/macros/quarantine.sql):

    quality.quarantine(source, stream, record_key, check_name, reason, sync_id,
                       run_id, quarantined_at, released_at, released_run_id)

`record_key` is the stream's primary-key values cast to VARCHAR and joined with
'|' in primary-key order (members: `list_id|id`; contacts: `id`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SCHEMA = "quality"

QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine (
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    reason VARCHAR,
    sync_id VARCHAR,
    run_id VARCHAR,
    quarantined_at TIMESTAMPTZ,
    released_at TIMESTAMPTZ,
    released_run_id VARCHAR
)
"""

DDL = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", QUARANTINE_DDL]


def ensure_store(path: Path) -> Path:
    """Create the store file and its tables when missing (dbt attaches it; it must exist)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for statement in DDL:
            con.execute(statement)
    finally:
        con.close()
    return path
