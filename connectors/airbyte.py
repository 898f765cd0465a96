"""The connectors as Airbyte-protocol sources (register them as custom connectors).

    python -m connectors.airbyte <mailchimp|hubspot> spec
    python -m connectors.airbyte <source> check --config config.json
    python -m connectors.airbyte <source> discover --config config.json
    python -m connectors.airbyte <source> read --config config.json --catalog catalog.json \
        [--state state.json]

Only protocol JSON goes to stdout (one message per line); logs go to stderr.
RECORD data holds exactly the stream's declared `properties` (typed columns and
`_raw`, the record as received). STATE messages are per stream and follow the
records they cover. `--state` accepts `[]`, a list of STREAM/GLOBAL/LEGACY state
messages (extra keys ignored) or a legacy `{stream: state}` object.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
from pydantic import SecretStr

from connectors.base import Checkpoint, Page, ReadContext, Source
from connectors.errors import ConnectorError
from connectors.loader import shape_rows
from connectors.streams import Stream
from connectors.sync import SOURCES, check_connection

log = logging.getLogger("connectors.airbyte")

# loader-side knobs: an Airbyte source only reads, so its spec leaves them out
_LOADER_ONLY = {
    "raw_path",
    "memory_limit",
    "duckdb_threads",
    "batch_pages",
    "batch_bytes",
    "statement_bytes",
    "prefetch_bytes",
}


def spec_of(source: str) -> dict[str, Any]:
    """The connection specification, generated from the source's pydantic config model:
    every field the reader uses, with its type, bounds, default and description; secrets
    (`SecretStr`) marked `airbyte_secret`."""
    model = SOURCES[source].config_type
    schema = model.model_json_schema(mode="serialization")
    props = {k: v for k, v in schema["properties"].items() if k not in _LOADER_ONLY}
    for name, prop in props.items():
        prop.pop("writeOnly", None)
        if model.model_fields[name].annotation is SecretStr:
            prop.update(type="string", airbyte_secret=True)
            prop.pop("format", None)
        if "default" in prop and isinstance(prop["default"], timedelta):
            prop["default"] = prop["default"].total_seconds()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{source} (saas-elt)",
        "type": "object",
        "required": [k for k in schema.get("required", []) if k in props],
        "additionalProperties": True,
        "properties": props,
    }


def emit(message: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(message) + b"\n")


def airbyte_stream(stream: Stream) -> dict[str, Any]:
    modes = ["full_refresh", "incremental"] if stream.incremental else ["full_refresh"]
    out: dict[str, Any] = {
        "name": stream.name,
        "json_schema": stream.json_schema(),
        "supported_sync_modes": modes,
        "source_defined_primary_key": [[k] for k in stream.primary_key],
    }
    if stream.incremental and stream.cursor_field:
        out["source_defined_cursor"] = True
        out["default_cursor_field"] = [stream.cursor_field]
    return out


class BadInput(Exception):
    """A --config/--catalog/--state file that cannot be read as JSON."""


def _load_json(path: str | None, flag: str = "--config") -> Any:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise BadInput(f"{flag} {path}: cannot read the file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{flag} {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc


def _trace_error(message: str, failure_type: str = "config_error") -> None:
    emit(
        {
            "type": "TRACE",
            "trace": {
                "type": "ERROR",
                "emitted_at": time.time() * 1000,
                "error": {"message": message, "failure_type": failure_type},
            },
        }
    )


def parse_state(raw: Any) -> dict[str, Any]:
    """Per-stream state from whatever shape the platform hands over."""
    if not raw:
        return {}
    if isinstance(raw, dict):  # legacy: {stream: state}
        return {k: v for k, v in raw.items() if isinstance(v, dict)}
    out: dict[str, Any] = {}
    for msg in raw:
        if not isinstance(msg, dict):
            continue
        kind = msg.get("type")
        if kind == "STREAM" or "stream" in msg:
            s = msg.get("stream") or {}
            name = (s.get("stream_descriptor") or {}).get("name")
            if name and s.get("stream_state") is not None:
                out[name] = s["stream_state"]
        elif kind == "GLOBAL":
            for s in (msg.get("global") or {}).get("stream_states") or []:
                name = (s.get("stream_descriptor") or {}).get("name")
                if name and s.get("stream_state") is not None:
                    out[name] = s["stream_state"]
        elif kind == "LEGACY" or "data" in msg:
            out.update({k: v for k, v in (msg.get("data") or {}).items() if isinstance(v, dict)})
    return out


def _state_message(stream: str, state: Any) -> dict[str, Any]:
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": state},
        },
    }


def _spec_message(source: str) -> dict[str, Any]:
    return {
        "type": "SPEC",
        "spec": {
            "documentationUrl": "https://example.invalid/docs/connectors",
            "connectionSpecification": spec_of(source),
            "supportsIncremental": True,
            "supported_destination_sync_modes": ["append", "append_dedup", "overwrite"],
        },
    }


def _config_or_none(src: Source, command: str, raw_config: dict[str, Any]) -> Any:
    """The validated config, or None once the failure is reported as protocol (a failed
    CONNECTION_STATUS for `check`, a TRACE error otherwise), secrets masked."""
    try:
        return src.config_type.model_validate(raw_config)
    except Exception as exc:  # report a bad config as protocol, not a traceback on stdout
        msg = f"invalid {src.name} config: {type(exc).__name__}: {exc}"
        for key in ("api_key", "access_token"):
            if isinstance(raw_config.get(key), str) and raw_config[key]:
                msg = msg.replace(raw_config[key], "***")
        if command == "check":
            emit(
                {
                    "type": "CONNECTION_STATUS",
                    "connectionStatus": {"status": "FAILED", "message": msg},
                }
            )
        else:
            _trace_error(msg)
        return None


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.airbyte")
    parser.add_argument("source", choices=sorted(SOURCES))
    parser.add_argument("command", choices=["spec", "check", "discover", "read"])
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args(argv)
    src = SOURCES[args.source]
    if args.command == "spec":
        emit(_spec_message(args.source))
        return 0
    if not args.config:
        parser.error(f"{args.command} needs --config")
    config = _config_or_none(src, args.command, _load_json(args.config) or {})
    if config is None:
        return 0 if args.command == "check" else 1
    client = src.make_client(config)
    try:
        if args.command == "check":
            try:
                check_connection(src, client)
                status = {"status": "SUCCEEDED"}
            except ConnectorError as exc:
                status = {"status": "FAILED", "message": client.redact(str(exc))}
            emit({"type": "CONNECTION_STATUS", "connectionStatus": status})
            return 0
        if args.command == "discover":
            streams = [airbyte_stream(s) for s in src.streams]
            emit({"type": "CATALOG", "catalog": {"streams": streams}})
            return 0
        if not args.catalog:
            parser.error("read needs --catalog")
        catalog = _load_json(args.catalog, "--catalog")
        return _read(src, config, client, catalog, parse_state(_load_json(args.state, "--state")))
    finally:
        client.close()


def _read(src, config, client, catalog: dict[str, Any], states: dict[str, Any]) -> int:
    configured = {}
    for cs in catalog.get("streams") or []:
        name = (cs.get("stream") or {}).get("name")
        configured[name] = cs.get("sync_mode", "full_refresh")
    unknown = [n for n in configured if n not in {s.name for s in src.streams}]
    if unknown:
        _trace_error(f"catalog names unknown {src.name} stream(s) {unknown}")
        return 1
    ctx = ReadContext(config=config, client=client, full_refresh=False)
    shaper = duckdb.connect()  # rows shaped by the loader's own SQL, in memory
    write = sys.stdout.buffer.write
    try:
        for stream in src.streams:  # source order: parents before children
            if stream.name not in configured:
                continue
            incremental = configured[stream.name] == "incremental" and stream.incremental
            ctx.full_refresh = not incremental
            state = states.get(stream.name) if incremental else None
            try:
                for item in src.readers[stream.name](ctx, state):
                    if isinstance(item, Checkpoint) and incremental:
                        emit(_state_message(stream.name, item.state))
                    elif isinstance(item, Page):
                        now = int(time.time() * 1000)
                        for row in shape_rows(shaper, stream, item):
                            record = {"stream": stream.name, "data": row, "emitted_at": now}
                            write(orjson.dumps({"type": "RECORD", "record": record}) + b"\n")
            except ConnectorError as exc:
                msg = client.redact(f"{src.name}.{stream.name}: {type(exc).__name__}: {exc}")
                log.error(msg)
                _trace_error(msg, "system_error")
                return 1
            sys.stdout.flush()
    finally:
        shaper.close()
    return 0


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    try:
        code = run(sys.argv[1:])
    except BadInput as exc:  # a protocol error message, not a traceback
        log.error(str(exc))
        _trace_error(str(exc))
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
