"""A connection's streams: the public API's `configurations.streams` checked against the
source's discovered catalog (as the platform's catalog helper does), and the configured
catalog a `read` gets.

Rules kept from the real API: an unknown or duplicate stream is a 400; `syncMode`
defaults to `full_refresh_overwrite`; a mode must be one both the source stream and the
destination (DuckDB: overwrite, append, append_dedup) support; a source-defined cursor
or primary key cannot be overridden with a different one; incremental needs a cursor
and dedup a primary key, each naming a field of the stream's schema; selected fields
are top-level, must exist and include the primary key (dedup) and cursor (incremental).
No configurations at all selects every stream as `full_refresh_overwrite`.
"""

from __future__ import annotations

from typing import Any

from mock_apis.airbyte.problems import bad_request

SYNC_MODES: dict[str, tuple[str, str]] = {
    "full_refresh_overwrite": ("full_refresh", "overwrite"),
    "full_refresh_append": ("full_refresh", "append"),
    "incremental_append": ("incremental", "append"),
    "incremental_deduped_history": ("incremental", "append_dedup"),
}
DESTINATION_MODES = ("overwrite", "append", "append_dedup")  # what DuckDB supports


def by_name(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in catalog.get("streams") or []}


def valid_modes(stream: dict[str, Any]) -> list[str]:
    source_modes = stream.get("supported_sync_modes") or ["full_refresh"]
    return [
        mode
        for mode, (src, dst) in SYNC_MODES.items()
        if src in source_modes and dst in DESTINATION_MODES
    ]


def stream_fields(json_schema: dict[str, Any]) -> list[list[str]]:
    """Every field path of a schema, nested ones too (`[["a"], ["a", "b"]]`)."""
    out: list[list[str]] = []
    for name, prop in (json_schema.get("properties") or {}).items():
        out.append([name])
        if isinstance(prop, dict):
            out += [[name, *sub] for sub in stream_fields(prop)]
    return out


def stream_properties(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """`GET /streams`: each stream's modes, cursor and key, as `StreamProperties`."""
    return [
        {
            "streamName": s["name"],
            "streamnamespace": s.get("namespace"),
            "syncModes": valid_modes(s),
            "defaultCursorField": s.get("default_cursor_field") or [],
            "sourceDefinedCursorField": bool(s.get("source_defined_cursor")),
            "sourceDefinedPrimaryKey": s.get("source_defined_primary_key") or [],
            "propertyFields": stream_fields(s.get("json_schema") or {}),
        }
        for s in catalog.get("streams") or []
    ]


def resolve(requested: list[dict[str, Any]] | None, catalog: dict[str, Any]) -> list[dict]:
    """The stored stream configurations for a create/patch, or the API's 400."""
    streams = by_name(catalog)
    if not requested:
        return [_normalise({"name": n}, s) for n, s in streams.items()]
    seen: set[str] = set()
    out = []
    for cfg in requested:
        name = cfg.get("name")
        stream = streams.get(name)
        if stream is None or (cfg.get("namespace") or None) != stream.get("namespace"):
            raise bad_request(
                f"Invalid stream found: {name!r}. The list of valid streams include: "
                f"{sorted(streams)}.",
                stream=name,
            )
        if name in seen:
            raise bad_request(f"Duplicate stream found in configuration for: {name}.")
        seen.add(name)
        out.append(_normalise(cfg, stream))
    return out


def _normalise(cfg: dict[str, Any], stream: dict[str, Any]) -> dict[str, Any]:
    name = stream["name"]
    if cfg.get("mappers"):
        raise bad_request(f"Stream {name}: mappers are not supported by the fake Airbyte.")
    if cfg.get("includeFiles"):
        raise bad_request(f"Stream {name}: includeFiles is not supported by the fake Airbyte.")
    mode = cfg.get("syncMode") or "full_refresh_overwrite"
    if mode not in valid_modes(stream):
        raise bad_request(
            f"Cannot set sync mode to {mode} for stream {name}. Valid sync modes are: "
            f"{valid_modes(stream)}",
            stream=name,
            field="syncMode",
        )
    cursor = _cursor(cfg, stream, incremental=mode.startswith("incremental"))
    key = _primary_key(cfg, stream, dedup=mode == "incremental_deduped_history")
    out: dict[str, Any] = {"name": name, "syncMode": mode, "cursorField": cursor, "primaryKey": key}
    if cfg.get("selectedFields") is not None:
        out["selectedFields"] = _selected(cfg["selectedFields"], stream, mode, cursor, key)
    if cfg.get("destinationObjectName"):
        out["destinationObjectName"] = cfg["destinationObjectName"]
    return out


def _cursor(cfg: dict[str, Any], stream: dict[str, Any], incremental: bool) -> list[str]:
    name, given = stream["name"], cfg.get("cursorField") or []
    default = stream.get("default_cursor_field") or []
    if not incremental:
        return given or default
    if stream.get("source_defined_cursor"):
        if given and set(given) != set(default):
            raise bad_request(
                f"Cursor Field {given} is already defined by source for stream: {name}. "
                "Do not include a cursor field configuration for this stream.",
                stream=name,
                field="cursorField",
            )
        return default
    if given:
        valid = stream_fields(stream.get("json_schema") or {})
        if given not in valid:
            raise bad_request(
                f"Invalid cursor field for stream: {name}. The list of valid cursor fields "
                f"include: {valid}.",
                stream=name,
                field="cursorField",
            )
        return given
    if not default:
        raise bad_request(
            f"No default cursor field for stream: {name}. Please include a cursor field "
            "configuration for this stream.",
            stream=name,
            field="cursorField",
        )
    return default


def _primary_key(cfg: dict[str, Any], stream: dict[str, Any], dedup: bool) -> list[list[str]]:
    name, given = stream["name"], cfg.get("primaryKey") or []
    defined = stream.get("source_defined_primary_key") or []
    if defined and given and given != defined:
        raise bad_request(
            f"Primary key for stream: {name} is already pre-defined. Please remove the "
            f"primaryKey or provide the value as {defined}.",
            stream=name,
            field="primaryKey",
        )
    key = defined or given
    if dedup and not key:
        raise bad_request(
            f"No default primary key for stream: {name}. Please include a primary key "
            "configuration for this stream.",
            stream=name,
            field="primaryKey",
        )
    valid = stream_fields(stream.get("json_schema") or {})
    bad = [k for k in key if k not in valid]
    if bad:
        raise bad_request(
            f"Invalid primary key for stream: {name}. The list of valid primary key fields: "
            f"{valid}.",
            stream=name,
            field="primaryKey",
        )
    return key


def _selected(selected: list[dict], stream, mode: str, cursor, key) -> list[dict[str, Any]]:
    name = stream["name"]
    top = list((stream.get("json_schema") or {}).get("properties") or {})
    paths = [s.get("fieldPath") or [] for s in selected]
    if not paths or any(len(p) != 1 for p in paths):
        raise bad_request(
            f"Selected fields of stream {name} must be top-level fields, at least one: {top}.",
            stream=name,
            field="selectedFields",
        )
    fields = [p[0] for p in paths]
    problem = None
    if len(set(fields)) != len(fields):
        problem = f"Duplicate fields selected in configuration for stream: {name}."
    elif any(f not in top for f in fields):
        problem = f"Invalid fields selected for stream {name}. Valid field names: {top}."
    elif mode == "incremental_deduped_history" and any(k[0] not in fields for k in key):
        problem = f"Primary key fields are not selected properly for stream: {name}."
    elif mode.startswith("incremental") and cursor and cursor[0] not in fields:
        problem = f"Cursor field is not selected properly for stream: {name}."
    if problem:
        raise bad_request(problem, stream=name, field="selectedFields")
    return [{"fieldPath": [f]} for f in fields]


def configured_catalog(
    streams: list[dict[str, Any]],
    catalog: dict[str, Any],
    generations: dict[str, int],
    sync_id: int,
) -> dict[str, Any]:
    """The ConfiguredAirbyteCatalog a `read` gets for these stream configurations."""
    found = by_name(catalog)
    out = []
    for cfg in streams:
        source_mode, destination_mode = SYNC_MODES[cfg["syncMode"]]
        generation = generations.get(cfg["name"], 0)
        out.append(
            {
                "stream": found[cfg["name"]],
                "sync_mode": source_mode,
                "destination_sync_mode": destination_mode,
                "cursor_field": cfg.get("cursorField") or [],
                "primary_key": cfg.get("primaryKey") or [],
                "generation_id": generation,
                "minimum_generation_id": generation if destination_mode == "overwrite" else 0,
                "sync_id": sync_id,
            }
        )
    return {"streams": out}
