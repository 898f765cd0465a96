"""Run a source's streams into its raw DuckDB file: the one place reading meets loading.

Fetching runs in a producer thread (HTTP + JSON paging) while the main thread
loads batches into DuckDB (which releases the GIL), so network and parsing
overlap. Each batch commits its rows together with the newest checkpoint that
covers them; a failed stream rolls back only its open batch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from connectors import registry
from connectors.base import Checkpoint, Delete, Page, ReadContext, Source
from connectors.config import SourceConfig
from connectors.errors import ConfigError, ConnectorError, SyncFailed
from connectors.http import HttpClient
from connectors.loader import Loader, StreamResult, StreamWriter, source_lock
from connectors.streams import Stream

log = logging.getLogger("connectors.sync")

SOURCES: dict[str, Source] = {name: registry.load(name) for name in registry.SOURCES}


class Progress(Protocol):
    def start(self, source: str, stream: str) -> None: ...
    def advance(self, source: str, stream: str, records: int, pages: int) -> None: ...
    def finish(self, source: str, result: StreamResult) -> None: ...


class NullProgress:
    def start(self, source: str, stream: str) -> None:
        pass

    def advance(self, source: str, stream: str, records: int, pages: int) -> None:
        pass

    def finish(self, source: str, result: StreamResult) -> None:
        pass


@dataclass
class SyncResult:
    source: str
    sync_id: str
    raw_path: str
    streams: dict[str, StreamResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.status == "succeeded" for s in self.streams.values())

    @property
    def rows_per_stream(self) -> dict[str, int]:
        return {k: v.rows for k, v in self.streams.items()}

    @property
    def records_read(self) -> int:
        return sum(s.records_read for s in self.streams.values())


def get_source(name: str) -> Source:
    return registry.load(name)


def select_streams(source: Source, names: Iterable[str] | None) -> list[Stream]:
    if not names:
        return list(source.streams)
    wanted = [n.strip() for n in names if n.strip()]
    known = {s.name for s in source.streams}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(f"unknown {source.name} stream(s) {unknown}; available: {sorted(known)}")
    return [s for s in source.streams if s.name in wanted]


def check_connection(source: Source, client: HttpClient) -> None:
    """One cheap authenticated call, so bad credentials fail before anything is written."""
    client.get(source.check_path)


def run_sync(
    source: str,
    *,
    config: SourceConfig,
    full_refresh: bool = False,
    streams: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Sync one source into its raw DuckDB file. See the package docstring."""
    src = get_source(source)
    if not isinstance(config, src.config_type):
        raise ConfigError(
            f"{source} needs a {src.config_type.__name__}, got {type(config).__name__}"
        )
    if config.raw_path is None:
        raise ConfigError(f"{source}: config.raw_path (the raw DuckDB file) is not set")
    selected = select_streams(src, streams)
    sync_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{source}-{uuid.uuid4().hex[:8]}"
    result = SyncResult(source, sync_id, str(config.raw_path))
    t0 = time.monotonic()
    client = src.make_client(config)
    try:
        with source_lock(config.raw_path, source):
            check_connection(src, client)
            loader = Loader(
                config.raw_path,
                source,
                sync_id,
                memory_limit=config.memory_limit,
                threads=config.duckdb_threads,
                statement_bytes=config.statement_bytes,
            )
            try:
                loader.ensure_tables(src.streams)
                outcome = _run_lanes(src, config, client, loader, selected, full_refresh, progress)
                result.streams = {s.name: outcome[s.name] for s in selected if s.name in outcome}
            finally:
                loader.close()
    finally:
        client.close()
        result.seconds = time.monotonic() - t0
    if not result.ok:
        failed = {k: v.error for k, v in result.streams.items() if v.status != "succeeded"}
        raise SyncFailed(f"{source} sync {sync_id} failed for {failed}", result)
    return result


def _run_lanes(
    src: Source,
    config: SourceConfig,
    client: HttpClient,
    loader: Loader,
    selected: list[Stream],
    full_refresh: bool,
    progress: Progress | None,
) -> dict[str, StreamResult]:
    """The selected streams in the source's lanes, one thread each; the first lane uses
    `client` and `loader`, the others their own session and DuckDB connection."""
    progress = progress or NullProgress()
    outcome: dict[str, StreamResult] = {}

    def run_lane(streams: list[Stream], own: bool) -> None:
        lane_client = src.make_client(config) if own else client
        lane_loader = loader.lane() if own else loader
        ctx = ReadContext(
            config=config, client=lane_client, full_refresh=full_refresh, query=_reader(lane_loader)
        )
        try:
            snap = lane_loader.snapshot(streams)
            for stream in streams:
                sr = _run_stream(lane_loader, src, stream, ctx, progress, snap[stream.name])
                outcome[stream.name] = sr
                if sr.error and sr.error.startswith("AuthError"):
                    break
        finally:
            if own:
                lane_loader.close()
                lane_client.close()

    lanes = src.lanes_of(selected)
    _in_threads([(lane, i > 0) for i, lane in enumerate(lanes)], run_lane)
    return outcome


def _in_threads(jobs: list[tuple[Any, ...]], fn: Any) -> None:
    """Run fn(*job) for each job, the first in this thread and the rest in their own;
    re-raise the first exception once all have ended."""
    errors: list[BaseException] = []

    def guarded(*args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=job) for job in jobs[1:]]
    for t in threads:
        t.start()
    if jobs:
        guarded(*jobs[0])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def run_syncs(
    configs: Mapping[str, SourceConfig],
    *,
    streams: Mapping[str, Iterable[str] | None] | None = None,
    **kwargs: Any,
) -> dict[str, SyncResult | Exception]:
    """Sync several sources at once, one thread each (each has its own DuckDB file, so
    they never wait on each other's lock): the fetch of one overlaps the load of the
    other, and both cores work. `configs` maps each source to its config, `streams` to
    its stream names; `kwargs` go to every `run_sync`. Returns each source's result, or
    the exception (`SyncFailed`, `AuthError`, ...) it raised, in order."""
    out: dict[str, SyncResult | Exception] = {}

    def one(source: str) -> None:
        try:
            out[source] = run_sync(
                source, config=configs[source], streams=(streams or {}).get(source), **kwargs
            )
        except Exception as exc:  # handed back to the caller, per source
            out[source] = exc

    _in_threads([(s,) for s in configs], one)
    return {s: out[s] for s in configs}


def _reader(loader: Loader):
    def query(sql: str) -> list[tuple]:
        cur = loader.con.cursor()
        try:
            return cur.execute(sql).fetchall()
        finally:
            cur.close()

    return query


_DONE = object()


def _prefetch(items: Iterator[Any], depth: int, max_bytes: int) -> Iterator[Any]:
    """Run `items` in a thread, at most `depth` items and `max_bytes` page bytes ahead
    (at least one item); exceptions surface in the consumer."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    room = threading.Condition()
    ahead = 0  # page bytes produced and not yet taken by the consumer

    def produce() -> None:
        nonlocal ahead
        try:
            for item in items:
                n = item.nbytes if isinstance(item, Page) else 0
                with room:
                    while ahead and ahead + n > max_bytes and not stop.is_set():
                        room.wait(0.2)
                    ahead += n
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    t = threading.Thread(target=produce, name="connectors-fetch", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Page):
                with room:
                    ahead -= item.nbytes
                    room.notify()
            yield item
    finally:
        stop.set()
        t.join(timeout=5)


def _run_stream(
    loader: Loader,
    src: Source,
    stream: Stream,
    ctx: ReadContext,
    progress: Progress,
    snapshot: tuple[Any, int],
) -> StreamResult:
    """Read one stream into its table. `snapshot`: the stream's saved cursor and row count
    when its lane started (`Loader.snapshot`); only this stream writes its table and cursor."""
    cfg = ctx.config
    writer = StreamWriter(
        loader,
        stream,
        snapshot,
        full_refresh=ctx.full_refresh,
        batch_pages=cfg.batch_pages,
        batch_bytes=cfg.batch_bytes,
    )
    retries0 = ctx.client.retries
    progress.start(src.name, stream.name)
    try:
        writer.open()
        items = src.readers[stream.name](ctx, writer.state)
        for item in _prefetch(items, 2 * cfg.batch_pages + 4, cfg.prefetch_bytes):
            if isinstance(item, Checkpoint):
                writer.checkpoint(item.state)
            elif isinstance(item, Delete):
                writer.delete(item.column, item.values)
            else:
                writer.add(item)
                progress.advance(src.name, stream.name, item.records, 1)
        writer.result.retries = ctx.client.retries - retries0
        res = writer.close()
    except Exception as exc:
        writer.result.retries = ctx.client.retries - retries0
        error = f"{type(exc).__name__}: {ctx.client.redact(str(exc))}"
        log.error("%s.%s failed: %s", src.name, stream.name, error)
        if not isinstance(exc, ConnectorError | RuntimeError):
            log.debug("traceback", exc_info=True)
        res = writer.fail(exc, error)
    progress.finish(src.name, res)
    log.info(
        "%s.%s %s %s: read %d, wrote %d, %d pages, %d retries, %d rows, %.1fs",
        src.name,
        stream.name,
        res.mode,
        res.status,
        res.records_read,
        res.records_written,
        res.pages,
        res.retries,
        res.rows,
        res.seconds,
    )
    return res
