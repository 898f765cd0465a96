"""Streams declared as data: name, primary key, cursor, typed columns and how to pull them.

A stream's typed columns are (name, DuckDB type, JSON path in the API record).
`rows_sql` turns that into one SQL SELECT the loader runs over a staging table
`stg(r, seq, parent_id)` holding each record's JSON text as the API sent it, so
DuckDB (not Python) parses records, casts types and keeps the record as `_raw`.
Streams whose rows are not one-per-record (email activity, pipeline stages,
associations) carry their own SELECT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPES = {
    "VARCHAR": {"type": ["null", "string"]},
    "JSON": {},
    "BOOLEAN": {"type": ["null", "boolean"]},
    "INTEGER": {"type": ["null", "integer"]},
    "BIGINT": {"type": ["null", "integer"]},
    "DOUBLE": {"type": ["null", "number"]},
    "TIMESTAMPTZ": {"type": ["null", "string"], "format": "date-time"},
}


@dataclass(frozen=True)
class Col:
    name: str
    type: str = "VARCHAR"
    path: str | None = None  # dotted path in the record; defaults to `name`

    @property
    def json_path(self) -> str:
        return self.path or self.name


@dataclass(frozen=True)
class Stream:
    """One raw table and the API collection that feeds it."""

    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Col, ...]
    records_key: str  # where records sit in a page body, e.g. "members"
    cursor_field: str | None = None  # the column incremental reads filter on
    incremental: bool = False
    # replaced whole on a first/--full-refresh sync; later, the reader yields `Delete`s for
    # the parents it re-reads (associations)
    replace: bool = False
    parent: str | None = None  # stream whose ids drive this one
    select: str | None = None  # custom SELECT over `stg` (rows != records)
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self, schema: str) -> str:
        cols = ",\n  ".join(
            f'"{c.name}" {c.type}' + (" NOT NULL" if c.name in self.primary_key else "")
            for c in self.columns
        )
        return (
            f'CREATE TABLE IF NOT EXISTS {schema}."{self.name}" (\n  {cols},\n'
            '  "_raw" JSON USING COMPRESSION zstd,\n'
            '  "_extracted_at" TIMESTAMPTZ,\n  "_sync_id" VARCHAR\n)'
        )

    def rows_sql(self) -> str:
        """SELECT <typed columns>, _raw, seq FROM stg(r, seq, parent_id)."""
        if self.select:
            return self.select
        shape: dict[str, Any] = {}
        for c in self.columns:
            if c.type == "JSON":
                continue  # read from the record itself: a JSON column may be a parent of others
            node = shape
            parts = c.json_path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = "JSON" if c.type == "JSON" else "VARCHAR"
        shape_sql = json.dumps(shape).replace("'", "''")
        exprs = []
        for c in self.columns:
            if c.type == "JSON":
                exprs.append(f"json_extract(r, '$.{c.json_path}') AS \"{c.name}\"")
                continue
            ref = "s" + "".join(f'."{p}"' for p in c.json_path.split("."))
            if c.name in ("list_id", "campaign_id"):
                ref = f"coalesce({ref}, parent_id)"
            exprs.append(
                f'{ref} AS "{c.name}"'
                if c.type in ("VARCHAR", "JSON")
                else f'TRY_CAST({ref} AS {c.type}) AS "{c.name}"'
            )
        # each record is parsed once, into its typed fields; `_raw` is its text as sent
        return (
            f"SELECT {', '.join(exprs)}, r AS _raw, seq FROM ("
            f"SELECT seq, parent_id, r, json_transform(r, '{shape_sql}') AS s FROM stg)"
        )

    def json_schema(self) -> dict[str, Any]:
        props = {c.name: dict(JSON_TYPES.get(c.type, {})) for c in self.columns}
        props["_raw"] = {"type": ["null", "object"]}
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": True,
            "properties": props,
        }


def by_name(streams: list[Stream]) -> dict[str, Stream]:
    return {s.name: s for s in streams}
