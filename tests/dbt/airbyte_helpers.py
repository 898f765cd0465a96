"""Our raw files rewritten as Airbyte's DuckDB destination writes the same streams.

One file, a schema `airbyte_<source>` per source, a "final table" per stream:
`_airbyte_raw_id` (a uuid per record), `_airbyte_extracted_at` (the record's
`emitted_at`, which the protocol carries in epoch milliseconds),
`_airbyte_meta` (`{"sync_id": <job id>, "changes": []}`), `_airbyte_generation_id`,
then one column per property of the stream's JSON schema
(`connectors.streams.Stream.json_schema`), typed from it. Values go the way an
Airbyte sync takes them: typed columns cast to the JSON-schema type (integers
become BIGINT), JSON values parsed and written back out by the destination (its
own spacing; a JSON null is a NULL), so nothing downstream can lean on our
loader's exact text or types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from connectors.registry import load

AIRBYTE_COLUMNS = (
    ("_airbyte_raw_id", "VARCHAR"),
    ("_airbyte_extracted_at", "TIMESTAMPTZ"),
    ("_airbyte_meta", "JSON"),
    ("_airbyte_generation_id", "BIGINT"),
)
GENERATION_ID = 0


def airbyte_type(prop: Mapping[str, Any]) -> str:
    """The column type Airbyte's DuckDB destination gives a JSON-schema property."""
    types = prop.get("type", [])
    kinds = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    if kinds == ["string"]:
        return {"date-time": "TIMESTAMPTZ", "date": "DATE"}.get(prop.get("format", ""), "VARCHAR")
    return {("integer",): "BIGINT", ("number",): "DOUBLE", ("boolean",): "BOOLEAN"}.get(
        tuple(kinds), "JSON"
    )


def final_table_columns(source: str, stream_name: str) -> list[tuple[str, str]]:
    """(name, type) of a stream's final table, in the destination's order."""
    stream = next(s for s in load(source).streams if s.name == stream_name)
    props = stream.json_schema()["properties"]
    return [*AIRBYTE_COLUMNS, *((name, airbyte_type(p)) for name, p in props.items())]


def _rewritten(text: str | None) -> str | None:
    """A JSON value as the destination writes it: parsed, then dumped with its own spacing."""
    if text is None:
        return None
    value = json.loads(text)
    return None if value is None else json.dumps(value)


def write_airbyte_raw(raw: Mapping[str, Path], out: Path) -> dict[str, int]:
    """Write `out` from our raw files (`{source: path}`); returns rows per `source.stream`.

    Syncs become Airbyte job ids (1, 2, ... in the order of our sync ids, which start
    with their UTC time); each table already holds one row per primary key (the loader
    merges on it), as a deduped incremental or an overwritten full-refresh stream does."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(out)) as con:
        con.create_function("airbyte_json", _rewritten, ["VARCHAR"], "VARCHAR")
        for source, path in raw.items():
            con.execute(f"attach '{path}' as native_{source} (read_only)")
        jobs = _job_ids(con, list(raw))
        con.execute("create temp table jobs (sync_id varchar, job_id bigint)")
        con.executemany("insert into jobs values (?, ?)", list(jobs.items()))
        for source in raw:
            con.execute(f"create schema airbyte_{source}")
            for stream in load(source).streams:
                rows[f"{source}.{stream.name}"] = _copy(con, source, stream.name)
        for source in raw:
            con.execute(f"detach native_{source}")
    return rows


def _job_ids(con: duckdb.DuckDBPyConnection, sources: list[str]) -> dict[str, int]:
    ids: set[str] = set()
    for source in sources:
        for stream in load(source).streams:
            found = con.execute(
                f'select distinct _sync_id from native_{source}.raw_{source}."{stream.name}" '
                "where _sync_id is not null"
            ).fetchall()
            ids |= {s for (s,) in found}
    return {sync_id: n for n, sync_id in enumerate(sorted(ids), start=1)}


def _copy(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> int:
    columns = final_table_columns(source, stream)
    ddl = ",\n  ".join(f'"{name}" {kind}' for name, kind in columns)
    con.execute(f'create table airbyte_{source}."{stream}" (\n  {ddl}\n)')
    values = {
        "_airbyte_raw_id": "cast(uuid() as varchar)",
        "_airbyte_extracted_at": "date_trunc('millisecond', r._extracted_at)",
        "_airbyte_meta": "json_object('sync_id', jobs.job_id, 'changes', json('[]'))",
        "_airbyte_generation_id": str(GENERATION_ID),
    }
    for name, kind in columns[len(AIRBYTE_COLUMNS) :]:
        value = f'r."{name}"'
        values[name] = f"airbyte_json({value})" if kind == "JSON" else f"cast({value} as {kind})"
    con.execute(
        f'insert into airbyte_{source}."{stream}" select '
        + ", ".join(f'{values[name]} as "{name}"' for name, _ in columns)
        + f' from native_{source}.raw_{source}."{stream}" r '
        "left join jobs on jobs.sync_id = r._sync_id"
    )
    return con.execute(f'select count(*) from airbyte_{source}."{stream}"').fetchone()[0]
