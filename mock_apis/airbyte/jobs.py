"""Jobs: a sync or reset of a connection, run in a background thread.

Life cycle as the public API shows it: `pending` when created, `running` once its
thread starts, then `succeeded`, `failed` or `cancelled` (DELETE /jobs/{id}). One
pending or running job per connection; another create answers 409.

A sync runs the source's image command through the protocol (`read --config --catalog
--state`, files in a private run directory), feeds its stdout to an `Attempt` and then
commits to the DuckDB destination (`destination.write`):

- a job that succeeds commits every stream and keeps each stream's last STATE as the
  connection's state, which the next job's `--state` carries;
- a job that fails or is cancelled commits, like Airbyte with Destinations V2, what was
  checkpointed: a stream the source marked COMPLETE (TRACE STREAM_STATUS) whole; an
  append or dedup stream up to its last STATE, with that state; nothing of an unfinished
  overwrite stream (its previous table stays) or of records after the last STATE.

The failure reason (TRACE error message, or the exit code and stderr tail, secrets
masked) is kept on the job (`_reason`) and in its log; the public JobResponse has no
field for it. Beside it, `_failure` keeps it as the Config API's `FailureReason`
(`failureOrigin`, `failureType`, `externalMessage`, ...; see `config_api`): a TRACE
ERROR is the source's, typed by its `failure_type`; other source failures are the
source's `system_error`; the destination's are the destination's; a source that does
not start, or a vanished connection, is `replication`'s; a crash of the fake or its
shutdown is `airbyte_platform`'s. A restart fails the jobs that were running.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from mock_apis.airbyte import catalog as catalogs
from mock_apis.airbyte import destination
from mock_apis.airbyte.attempt import Attempt
from mock_apis.airbyte.images import (
    ConnectorFailed,
    Images,
    discover,
    private_dir,
    tail,
    write_private,
)
from mock_apis.airbyte.problems import Problem, not_found
from mock_apis.airbyte.store import Store
from mock_apis.airbyte.validation import scrub, secret_names, secret_values

log = logging.getLogger("mock_apis.airbyte.jobs")

ACTIVE = ("pending", "running")
PUBLIC_FIELDS = (
    "jobId",
    "status",
    "jobType",
    "startTime",
    "connectionId",
    "lastUpdatedAt",
    "duration",
    "bytesSynced",
    "rowsSynced",
)


class JobFailed(Exception):
    """A job's failure: `str(exc)` is its reason, `failure` the Config API's
    `FailureReason` fields for it (origin, type, messages, timestamp in ms)."""

    def __init__(
        self,
        reason: str,
        origin: str = "replication",
        failure_type: str | None = "system_error",
        **extra: Any,
    ) -> None:
        super().__init__(reason)
        self.failure = failure_reason(reason, origin, failure_type, **extra)


# what Airbyte's FailureReason.failureType takes from a TRACE error's failure_type; any
# other value is a system_error there too
TRACE_FAILURE_TYPES = ("config_error", "system_error", "transient_error")


def failure_reason(
    external: str, origin: str | None, failure_type: str | None, **extra: Any
) -> dict[str, Any]:
    """A FailureReason as the Config API serves it, its None fields left out."""
    out = {
        "failureOrigin": origin,
        "failureType": failure_type,
        "externalMessage": external,
        "timestamp": int(time.time() * 1000),
        **extra,
    }
    return {k: v for k, v in out.items() if v is not None}


def trace_failure(trace_error: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """The source's FailureReason for its TRACE ERROR, as the platform builds it: its
    message external, internal_message internal, its failure_type (else system_error)."""
    declared = trace_error.get("failure_type")
    emitted = trace_error.get("emitted_at")

    def text(key: str) -> str | None:
        value = trace_error.get(key)
        return scrub(str(value), secrets) if value else None

    return failure_reason(
        text("message") or text("internal_message") or "unknown error",
        "source",
        declared if declared in TRACE_FAILURE_TYPES else "system_error",
        internalMessage=text("internal_message"),
        stacktrace=text("stack_trace"),
        timestamp=int(emitted) if isinstance(emitted, int | float) else None,
    )


class JobCancelled(Exception):
    pass


@dataclass
class Injection:
    """What the next job of a connection does instead of behaving: fail with `fail` after
    `after_records` records, or hang (run, reading nothing) until cancelled."""

    fail: str | None = None
    after_records: int = 0
    hang: bool = False


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: float) -> str:
    """ISO 8601 as Java's Duration prints it: PT0S, PT42S, PT1M5S, PT2H."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return "PT" + text + (f"{secs}S" if secs or not text else "")


def public(job: dict[str, Any]) -> dict[str, Any]:
    """The JobResponse fields of a stored job, as the API serves them."""
    out = {k: job[k] for k in PUBLIC_FIELDS if job.get(k) is not None}
    if job["status"] not in ACTIVE:
        out["lastUpdatedAt"] = iso(job["_updatedAt"])
    if job["status"] != "pending":
        out["duration"] = iso_duration(job["_updatedAt"] - job["_createdAt"])
    return out


class JobRunner:
    def __init__(self, store: Store, images: Images, data_dir: Path, hang_s: float = 600) -> None:
        self.store, self.images, self.data_dir = store, images, Path(data_dir)
        self.hang_s = hang_s
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        self._cancel: dict[int, threading.Event] = {}
        self._procs: dict[int, subprocess.Popen] = {}
        self._injections: dict[str, Injection] = {}
        self._stopping = False
        self._fail_orphans()

    # ------------------------------------------------------------------ API side
    def create(self, connection_id: str, job_type: str) -> dict[str, Any]:
        connection = self.store.get("connections", connection_id)
        if connection is None or connection.get("_deleted"):
            raise not_found("connection", connection_id)
        with self._lock:
            for job in self.store.all("jobs"):
                if job["connectionId"] == connection_id and job["status"] in ACTIVE:
                    raise Problem(
                        "try-again-later",
                        f"A sync is already running for: {connection_id} (job {job['jobId']}).",
                        connectionId=connection_id,
                        jobId=job["jobId"],
                    )
            now = time.time()
            job_id = self.store.next_job_id()
            job = {
                "jobId": job_id,
                "status": "pending",
                "jobType": job_type,
                "startTime": iso(now),
                "connectionId": connection_id,
                "bytesSynced": 0,
                "rowsSynced": 0,
                "_workspaceId": connection["workspaceId"],
                "_createdAt": now,
                "_updatedAt": now,
                "_history": [["pending", iso(now)]],
                "_reason": None,
                "_streams": {},
            }
            self.store.put("jobs", job_id, job)
            self._cancel[job_id] = threading.Event()
            thread = threading.Thread(target=self._execute, args=(job_id,), daemon=True)
            self._threads[job_id] = thread
        thread.start()
        return job

    def cancel(self, job_id: int) -> dict[str, Any]:
        job = self.store.get("jobs", job_id)
        if job is None:
            raise not_found("job", job_id)
        if job["status"] not in ACTIVE:
            raise Problem(
                "state-conflict",
                f"Job {job_id} is {job['status']}: only a pending or running job can be cancelled.",
                jobId=job_id,
            )
        self._stop(job_id)
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout=30)
        return self.store.get("jobs", job_id) or job

    def inject(self, connection_id: str, injection: Injection) -> None:
        if self.store.get("connections", connection_id) is None:
            raise not_found("connection", connection_id)
        self._injections[connection_id] = injection

    def shutdown(self) -> None:
        """Stop every running job (each ends failed) and wait for their threads."""
        self._stopping = True
        for job_id in list(self._threads):
            self._stop(job_id)
        for thread in list(self._threads.values()):
            thread.join(timeout=30)

    def _stop(self, job_id: int) -> None:
        event = self._cancel.get(job_id)
        if event is not None:
            event.set()
        proc = self._procs.get(job_id)
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def _fail_orphans(self) -> None:
        for job in self.store.all("jobs"):
            if job["status"] in ACTIVE:
                reason = (
                    "The fake Airbyte server stopped while this job ran; no attempt survives "
                    "a restart."
                )
                failure = failure_reason(reason, "airbyte_platform", "system_error")
                self._finish(job, "failed", reason, failure)

    # ------------------------------------------------------------------ worker side
    def job_dir(self, job_id: int) -> Path:
        return self.data_dir / "jobs" / str(job_id)

    def _note(self, job_id: int, line: str) -> None:
        path = self.job_dir(job_id) / "job.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(f"{iso(time.time())} {line}\n")

    def _set(self, job: dict[str, Any], **changes: Any) -> dict[str, Any]:
        with self.store.lock:
            current = self.store.get("jobs", job["jobId"]) or job
            current.update(changes)
            current["_updatedAt"] = time.time()
            if "status" in changes:
                current["_history"].append([changes["status"], iso(current["_updatedAt"])])
            self.store.put("jobs", current["jobId"], current)
            return current

    def log_lines(self, job_id: int, limit: int = 400) -> list[str]:
        """The last `limit` lines of the job's log."""
        path = self.job_dir(job_id) / "job.log"
        return path.read_text().splitlines()[-limit:] if path.exists() else []

    def _finish(
        self,
        job: dict[str, Any],
        status: str,
        reason: str | None = None,
        failure: dict[str, Any] | None = None,
    ) -> None:
        self._set(job, status=status, _reason=reason, _failure=failure)
        self._note(job["jobId"], f"job {status}" + (f": {reason}" if reason else ""))

    def _execute(self, job_id: int) -> None:
        job = self.store.get("jobs", job_id)
        assert job is not None
        job = self._set(job, status="running", _startedAt=time.time())
        self._note(job_id, f"job {job_id} ({job['jobType']}) of connection {job['connectionId']}")
        injection = self._injections.pop(job["connectionId"], None)
        try:
            if self._cancelled(job_id):  # cancelled while pending
                raise JobCancelled()
            if job["jobType"] == "reset":
                self._reset(job)
            else:
                self._sync(job, injection or Injection())
            status, reason, failure = "succeeded", None, None
        except JobCancelled:
            status, reason, failure = "cancelled", None, None
            if self._stopping:
                status, reason = "failed", "The fake Airbyte server stopped."
                failure = failure_reason(reason, "airbyte_platform", "system_error")
        except JobFailed as exc:
            status, reason, failure = "failed", str(exc), exc.failure
        except Exception as exc:  # a bug in the fake: the job fails, the server lives on
            log.exception("job %s crashed", job_id)
            reason = f"The fake Airbyte hit an internal error: {exc!r}"
            status, failure = "failed", failure_reason(reason, "airbyte_platform", "system_error")
        self._finish(job, status, reason, failure)
        with self._lock:
            self._procs.pop(job_id, None)
            self._cancel.pop(job_id, None)
            self._threads.pop(job_id, None)

    def _cancelled(self, job_id: int) -> bool:
        event = self._cancel.get(job_id)
        return event is not None and event.is_set()

    # ------------------------------------------------------------------ the parts
    def _parts(self, job: dict[str, Any]) -> dict[str, Any]:
        """The connection and everything it points to; a missing one fails the job."""
        connection = self.store.get("connections", job["connectionId"])
        source = connection and self.store.get("sources", connection["sourceId"])
        dest = connection and self.store.get("destinations", connection["destinationId"])
        definition = source and self.store.get("definitions", source["definitionId"])
        if not (connection and source and dest and definition):
            raise JobFailed("The connection, its source, destination or definition is gone.")
        return {
            "connection": connection,
            "source": source,
            "destination": dest,
            "definition": definition,
        }

    def _db_path(self, dest: dict[str, Any]) -> Path:
        path = Path(str(dest["configuration"].get("destination_path", "")))
        return path if path.is_absolute() else self.data_dir / path

    def _tables(self, parts: dict[str, Any], stream_catalog: dict[str, Any]):
        """(namespace, table) per configured stream, from the connection's namespace rules."""
        connection, dest = parts["connection"], parts["destination"]
        default = dest["configuration"].get("schema") or "main"
        rule = connection.get("namespaceDefinition") or "destination"
        found = catalogs.by_name(stream_catalog)
        out = {}
        for cfg in connection["configurations"]["streams"]:
            source_ns = (found.get(cfg["name"]) or {}).get("namespace") or ""
            namespace = default
            if rule == "source" and source_ns:
                namespace = source_ns
            elif rule == "custom_format":
                fmt = connection.get("namespaceFormat") or ""
                namespace = fmt.replace("${SOURCE_NAMESPACE}", source_ns) or default
            name = cfg.get("destinationObjectName") or cfg["name"]
            out[cfg["name"]] = (namespace, (connection.get("prefix") or "") + name)
        return out

    def catalog(self, source: dict[str, Any], refresh: bool = False) -> dict[str, Any]:
        """The source's discovered catalog, cached per source (a new configuration drops
        the cache). Raises `ConnectorFailed` when discover fails, `Problem` when the
        image is unknown."""
        cached = None if refresh else self.store.get("catalogs", source["sourceId"])
        if cached is not None:
            return cached["catalog"]
        definition = self.store.get("definitions", source["definitionId"]) or {}
        argv = self.images.command(
            definition.get("dockerRepository", "?"), definition.get("dockerImageTag", "?")
        )
        found = discover(argv, source["configuration"], self.data_dir / "tmp")
        self.store.put("catalogs", source["sourceId"], {"catalog": found})
        return found

    # ------------------------------------------------------------------ reset
    def _reset(self, job: dict[str, Any]) -> None:
        parts = self._parts(job)
        connection = parts["connection"]
        cached = self.store.get("catalogs", parts["source"]["sourceId"]) or {"catalog": {}}
        tables = self._tables(parts, cached["catalog"])
        try:
            destination.clear(self._db_path(parts["destination"]), list(tables.values()))
        except Exception as exc:
            raise JobFailed(f"The destination could not be cleared: {exc}", "destination") from exc
        state = self._state(connection["connectionId"])
        for name in tables:
            state["streams"].pop(name, None)
            state["generations"][name] = state["generations"].get(name, 0) + 1
        self.store.put("states", connection["connectionId"], state)
        self._note(job["jobId"], f"cleared {len(tables)} stream(s); state reset")

    def _state(self, connection_id: str) -> dict[str, Any]:
        return self.store.get("states", connection_id) or {"streams": {}, "generations": {}}

    # ------------------------------------------------------------------ sync
    def _sync(self, job: dict[str, Any], injection: Injection) -> None:
        parts = self._parts(job)
        definition, source = parts["definition"], parts["source"]
        try:
            argv = self.images.command(definition["dockerRepository"], definition["dockerImageTag"])
        except Problem as exc:
            raise JobFailed(exc.detail) from exc
        if injection.hang:
            self._note(job["jobId"], "injected hang: waiting until cancelled")
            if self._cancel[job["jobId"]].wait(self.hang_s):
                raise JobCancelled()
            raise JobFailed(
                f"Injected hang: not cancelled within {self.hang_s:.0f} s.",
                "source",
                "heartbeat_timeout",
            )
        try:
            stream_catalog = self.catalog(source)
        except ConnectorFailed as exc:
            raise JobFailed(f"discover failed: {exc}", "source") from exc
        except Problem as exc:
            raise JobFailed(f"discover failed: {exc}") from exc
        run_dir = private_dir(self.job_dir(job["jobId"]))
        secrets = secret_values(source["configuration"], secret_names(definition["spec"]))
        try:
            attempt, code, stderr = self._read(job, parts, argv, stream_catalog, run_dir, injection)
            for line in attempt.log:
                self._note(job["jobId"], scrub(line, secrets))
            if stderr:
                self._note(job["jobId"], "source stderr:\n" + scrub(stderr, secrets))
            self._commit(
                job, parts, stream_catalog, attempt, ok=attempt.error is None and code == 0
            )
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        if self._cancelled(job["jobId"]):
            raise JobCancelled()
        if attempt.error is not None:
            failed = JobFailed(scrub(attempt.error, secrets), "source")
            if attempt.trace_error is not None:
                failed.failure = trace_failure(attempt.trace_error, secrets)
            raise failed
        if code != 0:
            raise JobFailed(
                f"The source exited with code {code}: {scrub(tail(stderr), secrets)}", "source"
            )

    def _read(self, job, parts, argv, stream_catalog, run_dir: Path, injection: Injection):
        """Run `read`; (the attempt, exit code, stderr text)."""
        job_id, connection = job["jobId"], parts["connection"]
        streams = connection["configurations"]["streams"]
        state = self._state(connection["connectionId"])
        configured = catalogs.configured_catalog(
            streams, stream_catalog, state["generations"], job_id
        )
        incremental = {s["name"] for s in streams if s["syncMode"].startswith("incremental")}
        state_in = [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": s}}
            for n, s in state["streams"].items()
            if n in incremental
        ]
        args = [
            *argv,
            "read",
            "--config",
            str(write_private(run_dir / "config.json", parts["source"]["configuration"])),
            "--catalog",
            str(write_private(run_dir / "catalog.json", configured)),
            "--state",
            str(write_private(run_dir / "state.json", state_in)),
        ]
        attempt = Attempt(run_dir, [s["name"] for s in streams])
        if injection.fail is not None and injection.after_records <= 0:
            attempt.error = injection.fail
            attempt.close()
            return attempt, 1, ""
        self._note(job_id, f"read: {len(streams)} stream(s), state for {len(state_in)}")
        err_path = run_dir / "stderr.txt"
        with err_path.open("wb") as err:
            try:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=run_dir)
            except OSError as exc:
                attempt.close()
                raise JobFailed(f"The source could not start ({argv[0]}): {exc}") from exc
            self._procs[job_id] = proc
            if self._cancelled(job_id):
                proc.terminate()
            try:
                self._pump(proc, attempt, injection)
            finally:
                attempt.close()
                code = proc.wait()
        return attempt, code, err_path.read_text(errors="replace")

    def _pump(self, proc: subprocess.Popen, attempt: Attempt, injection: Injection) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not attempt.feed(line):
                proc.terminate()
                break
            if injection.fail is not None and attempt.records >= injection.after_records:
                attempt.error = attempt.error or injection.fail
                proc.terminate()
                break
        proc.stdout.close()

    def _plan(self, job, parts, stream_catalog, attempt: Attempt, ok: bool, generations):
        """What each stream may commit, {name: (load, buffer, bytes)}: all its records when
        the attempt succeeded or the source marked it COMPLETE; else, for an append or
        dedup stream, the records its last STATE covers; else nothing."""
        found = catalogs.by_name(stream_catalog)
        tables = self._tables(parts, stream_catalog)
        cancelled = self._cancelled(job["jobId"])
        plan = {}
        for cfg in parts["connection"]["configurations"]["streams"]:
            name, buf = cfg["name"], attempt.buffers[cfg["name"]]
            mode = catalogs.SYNC_MODES[cfg["syncMode"]][1]
            whole = (ok and not cancelled) or buf.complete
            if not whole and (mode == "overwrite" or not buf.has_state):
                continue
            selected = [f["fieldPath"][0] for f in cfg.get("selectedFields") or []] or None
            columns = destination.column_types(found[name].get("json_schema") or {}, selected)
            cursor = cfg.get("cursorField") or []
            if cursor and cursor[0] not in {c for c, _ in columns}:
                cursor = []  # not a column of the table: the latest extraction wins
            namespace, table = tables[name]
            load = destination.StreamLoad(
                stream=name,
                namespace=namespace,
                table=table,
                destination_mode=mode,
                columns=columns,
                records=buf.path,
                rows=buf.records if whole else buf.checkpoint_records,
                generation=generations.get(name, 0),
                primary_key=cfg.get("primaryKey") or [],
                cursor=cursor,
            )
            plan[name] = (load, buf, buf.bytes if whole else buf.checkpoint_bytes)
        return plan

    def _commit(self, job, parts, stream_catalog, attempt: Attempt, ok: bool) -> None:
        """Write what this attempt may commit; after each stream's commit, save the state
        that covers it."""
        connection = parts["connection"]
        state = self._state(connection["connectionId"])
        plan = self._plan(job, parts, stream_catalog, attempt, ok, state["generations"])
        totals = {"rows": 0, "bytes": 0, "streams": {}}

        def committed(load: destination.StreamLoad, rows: int) -> None:
            _, buf, size = plan[load.stream]
            totals["rows"] += rows
            totals["bytes"] += size
            totals["streams"][load.stream] = {
                "rows": rows,
                "table": f"{load.namespace}.{load.table}",
            }
            if buf.has_state:
                state["streams"][load.stream] = buf.state
            self.store.put("states", connection["connectionId"], state)

        try:
            loads = [load for load, _, _ in plan.values()]
            destination.write(self._db_path(parts["destination"]), loads, job["jobId"], committed)
        except Exception as exc:
            raise JobFailed(f"The DuckDB destination failed: {exc}", "destination") from exc
        finally:
            self._set(
                job,
                rowsSynced=totals["rows"],
                bytesSynced=totals["bytes"],
                _streams=totals["streams"],
                _recordsEmitted=attempt.records,
                _bytesEmitted=sum(b.bytes for b in attempt.buffers.values()),
            )
            self._note(job["jobId"], f"committed {orjson.dumps(totals['streams']).decode()}")
