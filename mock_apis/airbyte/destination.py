"""The DuckDB destination: Airbyte "Destinations V2" final tables.

One table per stream, `<namespace>.<prefix><stream>`, with the metadata columns first:

    _airbyte_raw_id         VARCHAR      a uuid per record
    _airbyte_extracted_at   TIMESTAMPTZ  the RECORD's emitted_at
    _airbyte_meta           JSON         {"sync_id": <job id>, "changes": [...]}
    _airbyte_generation_id  BIGINT       bumped by each reset (clear) of the stream

then one column per property of the stream's JSON schema: string VARCHAR, string with
format date-time TIMESTAMPTZ (TIMESTAMP when `airbyte_type` is
timestamp_without_timezone), date DATE, integer BIGINT, number DOUBLE, boolean BOOLEAN;
object, array, unions and anything else JSON. A value that does not cast is written
NULL and listed in `changes` as {"field", "change": "NULLED", "reason":
"DESTINATION_TYPECAST_ERROR"}, as V2 destinations do.

Writes per sync mode, each stream in its own transaction (staged, then swapped in at
commit, so a failure leaves the previous table whole): overwrite replaces the table;
append inserts; append_dedup keeps one row per primary key, the latest by cursor, then
by extraction time, then by arrival. New schema properties become new columns.

DuckDB lets one process write a file: the database is opened for the write only and
closed at once; a write that finds the file locked retries for `lock_timeout_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

META_COLUMNS = [
    ("_airbyte_raw_id", "VARCHAR"),
    ("_airbyte_extracted_at", "TIMESTAMPTZ"),
    ("_airbyte_meta", "JSON"),
    ("_airbyte_generation_id", "BIGINT"),
]


@dataclass
class StreamLoad:
    """One stream's records for one write: lines `{"s": seq, "e": emitted_at_ms, "d":
    data}` in `records`; only those with `s < rows` are written."""

    stream: str
    namespace: str
    table: str
    destination_mode: str  # overwrite | append | append_dedup
    columns: list[tuple[str, str]]
    records: Path
    rows: int
    generation: int = 0
    primary_key: list[list[str]] = field(default_factory=list)
    cursor: list[str] = field(default_factory=list)


def sql_type(prop: Any) -> str:
    if not isinstance(prop, dict) or "anyOf" in prop or "oneOf" in prop:
        return "JSON"
    kind = prop.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k and k != "null"]
    if len(kinds) != 1:
        return "JSON"
    if kinds[0] == "string":
        if prop.get("format") == "date-time":
            naive = prop.get("airbyte_type") == "timestamp_without_timezone"
            return "TIMESTAMP" if naive else "TIMESTAMPTZ"
        return "DATE" if prop.get("format") == "date" else "VARCHAR"
    if kinds[0] == "integer" or prop.get("airbyte_type") == "integer":
        return "BIGINT"
    return {"number": "DOUBLE", "boolean": "BOOLEAN"}.get(kinds[0], "JSON")


def column_types(json_schema: dict[str, Any], selected: Iterable[str] | None = None):
    """(column, DuckDB type) per schema property, in schema order; only `selected` ones
    when field selection is on."""
    keep = set(selected) if selected is not None else None
    props = json_schema.get("properties") or {}
    return [(n, sql_type(p)) for n, p in props.items() if keep is None or n in keep]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_sql(column: str, kind: str) -> tuple[str, str | None]:
    """(typed expression, expression naming the column when the cast failed)."""
    path = _literal('$.d."' + column.replace("\\", "\\\\").replace('"', '\\"') + '"')
    raw, text = f"json_extract(j, {path})", f"json_extract_string(j, {path})"
    if kind == "JSON":
        return f"CASE WHEN json_type({raw}) = 'NULL' THEN NULL ELSE {raw} END", None
    if kind == "VARCHAR":
        return text, None
    typed = f"TRY_CAST({text} AS {kind})"
    return typed, f"CASE WHEN {text} IS NOT NULL AND {typed} IS NULL THEN {_literal(column)} END"


def _stage_sql(load: StreamLoad, sync_id: int) -> str:
    values, failures = [], []
    for column, kind in load.columns:
        value, failed = _value_sql(column, kind)
        values.append(f"{value} AS {quote(column)}")
        if failed:
            failures.append(failed)
    changes = (
        f"list_transform(list_filter([{', '.join(failures)}]::VARCHAR[], lambda x: x IS NOT "
        "NULL), lambda f: {'field': f, 'change': 'NULLED', 'reason': "
        "'DESTINATION_TYPECAST_ERROR'})"
        if failures
        else "[]"
    )
    return f"""
        CREATE OR REPLACE TEMP TABLE _ab_stage AS
        SELECT
            gen_random_uuid()::VARCHAR AS _airbyte_raw_id,
            make_timestamptz(CAST(json_extract_string(j, '$.e') AS BIGINT) * 1000)
                AS _airbyte_extracted_at,
            json_object('sync_id', {int(sync_id)}, 'changes', to_json({changes}))::JSON
                AS _airbyte_meta,
            CAST({int(load.generation)} AS BIGINT) AS _airbyte_generation_id,
            {", ".join([*values, "CAST(json_extract_string(j, '$.s') AS BIGINT) AS _ab_seq"])}
        FROM read_ndjson_objects({_literal(str(load.records))}) AS r(j)
        WHERE CAST(json_extract_string(j, '$.s') AS BIGINT) < {int(load.rows)}
    """


def _path_sql(path: list[str], prefix: str = "") -> str:
    head = prefix + quote(path[0])
    if len(path) == 1:
        return head
    return f"json_extract_string({head}, {_literal('$.' + '.'.join(path[1:]))})"


def connect(db_path: Path, lock_timeout_s: float = 30.0) -> duckdb.DuckDBPyConnection:
    if str(db_path).startswith("md:"):
        raise ValueError("MotherDuck (md:) is not supported by the fake DuckDB destination")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    while True:
        try:
            con = duckdb.connect(str(db_path))
            con.execute("SET TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def write(
    db_path: Path,
    loads: list[StreamLoad],
    sync_id: int,
    on_commit: Callable[[StreamLoad, int], None] | None = None,
) -> None:
    """Write each stream in its own transaction; `on_commit(load, rows)` after each
    commit (so the caller saves the state that covers exactly what was committed)."""
    con = connect(db_path)
    try:
        for load in loads:
            con.execute("BEGIN")
            try:
                rows = _write_one(con, load, sync_id)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            if on_commit is not None:
                on_commit(load, rows)
    finally:
        con.close()


def _write_one(con: duckdb.DuckDBPyConnection, load: StreamLoad, sync_id: int) -> int:
    (database,) = con.execute("SELECT current_database()").fetchone()
    schema = f"{quote(database)}.{quote(load.namespace)}"  # the file may share its name
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(_stage_sql(load, sync_id))
    target = f"{schema}.{quote(load.table)}"
    if load.destination_mode == "overwrite":
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS "
            "SELECT * EXCLUDE (_ab_seq) FROM _ab_stage ORDER BY _ab_seq"
        )
    else:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * EXCLUDE (_ab_seq) FROM _ab_stage "
            "LIMIT 0"
        )
        _add_new_columns(con, load, database, target)
        if load.destination_mode == "append_dedup":
            _merge(con, load, target)
        else:
            con.execute(
                f"INSERT INTO {target} BY NAME "
                "SELECT * EXCLUDE (_ab_seq) FROM _ab_stage ORDER BY _ab_seq"
            )
    (count,) = con.execute("SELECT count(*) FROM _ab_stage").fetchone()
    con.execute("DROP TABLE _ab_stage")
    return int(count)


def _add_new_columns(con, load: StreamLoad, database: str, target: str) -> None:
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
            [database, load.namespace, load.table],
        ).fetchall()
    }
    for column, kind in [*META_COLUMNS, *load.columns]:
        if column not in have:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {quote(column)} {kind}")


def _merge(con: duckdb.DuckDBPyConnection, load: StreamLoad, target: str) -> None:
    """Dedup on the primary key: the stored rows of the keys this batch touches compete
    with the batch; the winner per key replaces them."""
    keys = [_path_sql(k) for k in load.primary_key]
    match = " AND ".join(
        f"{_path_sql(k, 't.')} IS NOT DISTINCT FROM k.k{i}" for i, k in enumerate(load.primary_key)
    )
    cursor = f"{_path_sql(load.cursor)} DESC NULLS LAST, " if load.cursor else ""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ab_keys AS SELECT DISTINCT "
        + ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        + " FROM _ab_stage"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ab_merged AS
        SELECT * EXCLUDE (_ab_src, _ab_seq) FROM (
            SELECT t.*, 0 AS _ab_src, 0 AS _ab_seq FROM {target} AS t
            WHERE EXISTS (SELECT 1 FROM _ab_keys AS k WHERE {match})
            UNION ALL BY NAME
            SELECT *, 1 AS _ab_src FROM _ab_stage
        )
        QUALIFY row_number() OVER (
            PARTITION BY {", ".join(keys)}
            ORDER BY {cursor}_airbyte_extracted_at DESC, _ab_src DESC, _ab_seq DESC
        ) = 1
    """)
    con.execute(
        f"DELETE FROM {target} AS t WHERE EXISTS (SELECT 1 FROM _ab_keys AS k WHERE {match})"
    )
    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _ab_merged")
    con.execute("DROP TABLE _ab_merged")
    con.execute("DROP TABLE _ab_keys")


def clear(db_path: Path, tables: list[tuple[str, str]]) -> None:
    """A reset (clear): the streams' tables emptied, kept with their columns."""
    con = connect(db_path)
    try:
        (database,) = con.execute("SELECT current_database()").fetchone()
        for namespace, table in tables:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
                [database, namespace, table],
            ).fetchone()[0]
            if exists:
                con.execute(f"DELETE FROM {quote(database)}.{quote(namespace)}.{quote(table)}")
    finally:
        con.close()
