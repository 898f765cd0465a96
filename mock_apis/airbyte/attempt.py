"""One attempt's reading side: the source's stdout, message by message, as the platform's
replication worker consumes it.

RECORDs are buffered per stream (NDJSON under the job's directory, for the destination
to load at commit); a STATE marks how many of its stream's records it covers (a
checkpoint); a TRACE STREAM_STATUS COMPLETE marks a stream finished; the first TRACE
ERROR is the attempt's failure reason (kept whole in `trace_error`, for the Config API's
failure summary); LOG messages go to the job log.

Stricter than the platform on purpose: a line that is not a valid protocol message
(not JSON, unknown type, a RECORD or STATE for a stream not in the configured catalog)
fails the attempt, where the platform would log and skip a non-JSON line. The
repo's connectors promise protocol-only stdout; the fake holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson


@dataclass
class StreamBuffer:
    path: Path
    out: IO[bytes]
    records: int = 0
    bytes: int = 0
    checkpoint_records: int = 0
    checkpoint_bytes: int = 0
    state: Any = None
    has_state: bool = False
    complete: bool = False


@dataclass
class Attempt:
    run_dir: Path
    streams: list[str]
    buffers: dict[str, StreamBuffer] = field(default_factory=dict)
    error: str | None = None
    trace_error: dict[str, Any] | None = None  # the TRACE ERROR that set `error`
    line_no: int = 0
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, name in enumerate(self.streams):
            path = self.run_dir / f"records-{i}.jsonl"
            self.buffers[name] = StreamBuffer(path, path.open("wb"))

    @property
    def records(self) -> int:
        return sum(b.records for b in self.buffers.values())

    def close(self) -> None:
        for buf in self.buffers.values():
            buf.out.close()

    def feed(self, line: bytes) -> bool:
        """Take one stdout line; False when it was not a valid message (reading stops)."""
        self.line_no += 1
        if not line.strip():
            return True
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            return self._bad("not JSON")
        kind = msg.get("type") if isinstance(msg, dict) else None
        handler = {
            "RECORD": self._record,
            "STATE": self._state,
            "TRACE": self._trace,
            "LOG": self._log,
        }.get(str(kind))
        if handler is not None:
            return handler(msg)
        if kind in ("SPEC", "CATALOG", "CONNECTION_STATUS", "CONTROL", "DESTINATION_CATALOG"):
            self.log.append(f"ignored a {kind} message from the source")
            return True
        return self._bad(f"unknown message type {kind!r}")

    def _bad(self, what: str) -> bool:
        self.error = self.error or (
            f"The source emitted an invalid Airbyte message on stdout line {self.line_no}: {what}."
        )
        return False

    def _record(self, msg: dict[str, Any]) -> bool:
        rec = msg.get("record")
        if not isinstance(rec, dict) or not isinstance(rec.get("data"), dict):
            return self._bad("a RECORD without an object `data`")
        buf = self.buffers.get(str(rec.get("stream")))
        if buf is None:
            return self._bad(f"a RECORD for stream {rec.get('stream')!r}, not in the catalog")
        emitted = rec.get("emitted_at")
        if not isinstance(emitted, int | float):
            return self._bad("a RECORD without a numeric `emitted_at`")
        data = orjson.dumps(rec["data"])
        buf.out.write(b'{"s":%d,"e":%d,"d":%b}\n' % (buf.records, int(emitted), data))
        buf.records += 1
        buf.bytes += len(data)
        return True

    def _state(self, msg: dict[str, Any]) -> bool:
        state = msg.get("state")
        if not isinstance(state, dict):
            return self._bad("a STATE without a `state` object")
        if state.get("type") == "GLOBAL":
            items = (state.get("global") or {}).get("stream_states") or []
        else:
            items = [state.get("stream")] if state.get("stream") else []
        if not items:
            return self._bad("a STATE that is neither per-stream nor global")
        for item in items:
            name = ((item or {}).get("stream_descriptor") or {}).get("name")
            buf = self.buffers.get(str(name))
            if buf is None:
                return self._bad(f"a STATE for stream {name!r}, not in the catalog")
            buf.state, buf.has_state = item.get("stream_state"), True
            buf.checkpoint_records, buf.checkpoint_bytes = buf.records, buf.bytes
        return True

    def _trace(self, msg: dict[str, Any]) -> bool:
        trace = msg.get("trace") or {}
        if trace.get("type") == "ERROR":
            error = trace.get("error") or {}
            text = error.get("message") or error.get("internal_message") or "unknown error"
            failure = error.get("failure_type")
            if self.error is None:
                self.trace_error = {**error, "emitted_at": trace.get("emitted_at")}
                self.error = f"{text} (failure_type: {failure})" if failure else text
        elif trace.get("type") == "STREAM_STATUS":
            status = trace.get("stream_status") or {}
            name = (status.get("stream_descriptor") or {}).get("name")
            if status.get("status") == "COMPLETE" and name in self.buffers:
                self.buffers[name].complete = True
        return True

    def _log(self, msg: dict[str, Any]) -> bool:
        log = msg.get("log") or {}
        self.log.append(f"[source] {log.get('level', 'INFO')} {log.get('message', '')}")
        return True
