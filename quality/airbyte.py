"""Airbyte-shaped raw: Airbyte's final tables read as our loader's raw tables.

Teams that sync with Airbyte have its DuckDB destination write one file, a schema
`airbyte_<source>` per source and a table per stream: `_airbyte_raw_id`,
`_airbyte_extracted_at`, `_airbyte_meta` (`{"sync_id": <job id>, "changes": [...]}`),
`_airbyte_generation_id`, then the stream's properties typed from its JSON schema
(integers as BIGINT). The raw gate's checks are written against our loader's
tables (`raw_<source>.<stream>` with `_raw`, `_extracted_at`, `_sync_id`), so
`connect` opens an in-memory database, ATTACHes the Airbyte file read-only and
defines there, per stream, a view `raw_<source>.<stream>` in that shape:
`_airbyte_extracted_at` as `_extracted_at`, the job id as `_sync_id` (the rows of
one sync, as the gate validates them: a per-record `_airbyte_raw_id` would make
every row a sync of its own), the declared columns cast back to their declared
types, and the other `_airbyte_*` columns left out. dbt's staging does the same
(`dbt_project/macros/raw_source.sql`), so quarantine keys match what it leaves out.
Airbyte keeps no `_sync_log` in the file: the gate's empty-full-sync check has no
sync history to read there and stays silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from quality.config import StreamSpec
from quality.reader import connect_read_only, quote

ALIAS = "airbyte"


def schema(source: str) -> str:
    """The schema Airbyte's DuckDB destination writes a source's streams to."""
    return f"airbyte_{source}"


def connect(
    path: Path, source: str, streams: Iterable[str], specs: Iterable[StreamSpec]
) -> tuple[duckdb.DuckDBPyConnection, dict[str, str]]:
    """An in-memory connection where `raw_<source>.<stream>` reads the Airbyte file at
    `path` as our raw table, for each of `streams` it holds; and, per stream it lacks
    or cannot map, what is wrong. Raises `quality.reader.TableMissing` /
    `DatabaseLocked` when the file is missing or a writer holds it."""
    connect_read_only(path).close()  # the reader's clear errors: missing file, a writer on it
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{_literal(path)}' AS {ALIAS} (READ_ONLY)")
        con.execute(f"CREATE SCHEMA raw_{source}")
        declared = {s.stream: {c.name: c.type for c in s.columns} for s in specs}
        found = _columns(con, source)
        problems = {}
        for stream in streams:
            columns = found.get(stream)
            if columns is None:
                problems[stream] = (
                    f"table {schema(source)}.{stream} not found in the Airbyte file {path}"
                )
                continue
            missing = [c for c in ("_airbyte_extracted_at", "_airbyte_meta") if c not in columns]
            if missing:
                problems[stream] = (
                    f"{schema(source)}.{stream} in {path} has no {', '.join(missing)}: "
                    "not a final table of Airbyte's DuckDB destination"
                )
                continue
            con.execute(_view_sql(source, stream, columns, declared.get(stream, {})))
        return con, problems
    except BaseException:
        con.close()
        raise


def _columns(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name, ordinal_position",
        [ALIAS, schema(source)],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _view_sql(source: str, stream: str, columns: list[str], declared: dict[str, str]) -> str:
    kept = [
        f"CAST({quote(c)} AS {declared[c]}) AS {quote(c)}" if c in declared else quote(c)
        for c in columns
        if not c.startswith("_airbyte_")
    ]
    return (
        f"CREATE VIEW raw_{source}.{quote(stream)} AS SELECT {', '.join(kept)}, "
        "_airbyte_extracted_at AS _extracted_at, "
        "json_extract_string(_airbyte_meta, '$.sync_id') AS _sync_id "
        f"FROM {ALIAS}.{schema(source)}.{quote(stream)}"
    )


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")
