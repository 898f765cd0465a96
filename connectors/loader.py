"""The loader owns the raw DuckDB file: tables, merge on the primary key, state, sync log.

Design (docs/contracts.md §1-2): one file per source, schema `raw_<source>`.
Pages arrive as each record's JSON text, sliced from the response body by msgspec
without building Python objects; a batch of them becomes an Arrow table and one SQL
statement parses, types and de-duplicates them, then a `DELETE` of matching keys and
an `INSERT` merge them, so per-record work stays in DuckDB. The file is opened with
one DuckDB thread (the load shares two cores with the fetch thread; more threads
measured slower) and a 1 MB checkpoint threshold (a large commit is written straight
into the file instead of first into the WAL and again at the next checkpoint).
A stream's cursor is written to `_state` in the same transaction as the rows it
covers: killed at any point, the file holds committed rows and the cursor that
matches them, and the rerun (reading from `cursor - lookback`, merging on the
key) neither loses nor doubles a record.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from connectors.base import Page
from connectors.errors import LoadFailed, SourceLocked
from connectors.streams import Stream

log = logging.getLogger("connectors.loader")


def _utf8_array(bodies: list[bytes], valid: bytes | None = None) -> pa.Array:
    """Page bodies as one Arrow string array built from their buffers: no per-value
    conversion or UTF-8 check in Python (a third of a full sync's CPU otherwise). The
    bodies already parsed as JSON (orjson validates UTF-8), and DuckDB parses them again.
    `valid` is an optional Arrow validity bitmap (nulls)."""
    offsets = array("q", [0, *accumulate(map(len, bodies))])
    return pa.Array.from_buffers(
        pa.large_string(),
        len(bodies),
        [valid and pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(b"".join(bodies))],
    )


# Arrays are built from buffers, never with pa.array() on Python objects: that imports
# pandas (about 0.3-0.45 s per process, more than a whole incremental run's SQL).
def _str_array(values: Sequence[str | None]) -> pa.Array:
    if all(v is not None for v in values):
        return _utf8_array([v.encode() for v in values])  # type: ignore[union-attr]
    bits = bytearray((len(values) + 7) // 8)
    for i, v in enumerate(values):
        if v is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return _utf8_array([b"" if v is None else v.encode() for v in values], bytes(bits))


def _int64_array(values: Iterable[int]) -> pa.Array:
    buf = array("q", values)
    return pa.Array.from_buffers(pa.int64(), len(buf), [None, pa.py_buffer(buf)])


def _staging(pages: Sequence[Page], seq0: int = 0) -> pa.Table:
    """The records as `stg(r, seq, parent_id)`: one row per record, its JSON text as sent,
    `seq` its position in the batch from `seq0`. Built from buffers (a join and a length
    per record, in C); `parent_id` is dictionary encoded, one entry per page, so a page's
    records cost nothing in Python."""
    raws = [r for p in pages for r in p.raws]
    indices = array("i")
    for i, p in enumerate(pages):
        indices.extend(array("i", [i]) * len(p.raws))
    parent = pa.DictionaryArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), len(indices), [None, pa.py_buffer(indices)]),
        _str_array([p.parent_id for p in pages]),
    )
    return pa.Table.from_arrays(
        [_utf8_array(raws), _int64_array(range(seq0, seq0 + len(raws))), parent],
        names=["r", "seq", "parent_id"],
    )


def split_by_bytes(pages: Sequence[Page], limit: int) -> list[list[Page]]:
    """The pages' records in groups of at most `limit` bytes of JSON text (a record larger
    than `limit` is a group of its own), pages split at record boundaries. DuckDB's memory
    for parsing a statement's records grows with their bytes (~25-50x), so a statement's
    bytes, not its page count, is what bounds the memory a load needs."""
    groups: list[list[Page]] = [[]]
    size = 0
    for page in pages:
        start = 0
        for i, raw in enumerate(page.raws):
            n = len(raw)
            if size and size + n > limit:
                if i > start:
                    groups[-1].append(Page(page.raws[start:i], page.parent_id))
                groups.append([])
                size, start = 0, i
            size += n
        if start < len(page.raws):
            groups[-1].append(Page(page.raws[start:], page.parent_id))
    return [g for g in groups if g]


def shape_rows(con: duckdb.DuckDBPyConnection, stream: Stream, page: Page) -> list[dict[str, Any]]:
    """The rows a page becomes in the stream's raw table, as dicts (the Airbyte path): the
    same SQL the loader runs (`Stream.rows_sql`), on `con` (an in-memory connection).
    Timestamps come back as ISO-8601 strings and `_raw` as the JSON text (an
    `orjson.Fragment`, written out as it is)."""
    if not page.raws:
        return []
    cols = stream.column_names
    con.register("stg", _staging([page]))
    try:
        rows = con.execute(
            f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)}, _raw "
            f"FROM ({stream.rows_sql()}) ORDER BY seq"
        ).fetchall()
    finally:
        con.unregister("stg")
    out = []
    for row in rows:
        rec = {
            c: v.isoformat() if isinstance(v, datetime) else v
            for c, v in zip(cols, row, strict=False)
        }
        for c in stream.columns:
            if c.type == "JSON" and rec[c.name] is not None:
                rec[c.name] = orjson.Fragment(rec[c.name])
        rec["_raw"] = orjson.Fragment(row[-1])
        out.append(rec)
    return out


@contextmanager
def source_lock(raw_path: Path, source: str) -> Iterator[Path]:
    """Exclusive, non-blocking flock on `<raw_dir>/<source>.lock`; refuse when held."""
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = raw_path.parent / f"{source}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise SourceLocked(
                f"another {source} extract is running (lock file {lock_path} held by pid "
                f"{holder}); wait for it to finish or stop that process, then retry"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield lock_path
    finally:
        os.close(fd)  # closing releases the flock


def _with_offsets(groups: list[list[Page]]) -> Iterator[tuple[list[Page], int]]:
    """Each group with the batch position (`seq`) of its first record."""
    seq0 = 0
    for group in groups:
        yield group, seq0
        seq0 += sum(len(p.raws) for p in group)


# A commit bigger than this is checkpointed into the file directly, skipping the WAL.
CHECKPOINT_THRESHOLD = "1MB"


class Loader:
    def __init__(
        self,
        path: Path,
        source: str,
        sync_id: str,
        *,
        memory_limit: str = "160MB",
        threads: int = 1,
        statement_bytes: int = 1_000_000,
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.statement_bytes = statement_bytes
        self.schema = f"raw_{source}"
        self.sync_id = sync_id
        self.con = duckdb.connect(
            str(path),
            config={
                "memory_limit": memory_limit,
                "threads": threads,
                "checkpoint_threshold": CHECKPOINT_THRESHOLD,
            },
        )
        # DDL only for what is missing: each statement, even a no-op one, costs a
        # millisecond or so, a visible share of a small incremental sync
        self._tables = self._existing(["_state", "_sync_log"])
        if not self._tables:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        if "_state" not in self._tables:
            self.con.execute(
                f"CREATE TABLE IF NOT EXISTS {self.schema}._state ("
                "stream VARCHAR PRIMARY KEY, cursor JSON, updated_at TIMESTAMPTZ)"
            )
        if "_sync_log" not in self._tables:
            self.con.execute(
                f"CREATE TABLE IF NOT EXISTS {self.schema}._sync_log ("
                "sync_id VARCHAR, stream VARCHAR, mode VARCHAR, records_read BIGINT, "
                "records_written BIGINT, pages BIGINT, retries BIGINT, started_at TIMESTAMPTZ, "
                "finished_at TIMESTAMPTZ, status VARCHAR, error VARCHAR)"
            )
        self._in_tx = False

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    def lane(self) -> Loader:
        """Another loader on the same file (a DuckDB cursor: its own connection and
        transactions), for streams loading at the same time as this loader's."""
        other = object.__new__(Loader)
        other.path, other.schema, other.sync_id = self.path, self.schema, self.sync_id
        other.con = self.con.cursor()
        other.statement_bytes = self.statement_bytes
        other._tables = self._tables
        other._in_tx = False
        return other

    def close(self) -> None:
        if self._in_tx:
            self.rollback()
        self.con.close()

    # ------------------------------------------------------------------ tables
    def _existing(self, names: Sequence[str]) -> set[str]:
        """Which of the tables `names` exist in the schema. A statement naming them all
        costs ~1 ms; listing the catalog (`duckdb_tables()`) costs ~10 ms in a freshly
        opened instance, so the catalog is listed only when the probe fails."""
        probe = " UNION ALL ".join(f'(SELECT 1 FROM {self.schema}."{n}" LIMIT 0)' for n in names)
        try:
            self.con.execute(probe).fetchall()
            return set(names)
        except duckdb.CatalogException:
            return {
                name
                for (name,) in self.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [self.schema]
                ).fetchall()
            } & set(names)

    def ensure_tables(self, streams: Sequence[Stream]) -> None:
        missing = [s.name for s in streams if s.name not in self._tables]
        if missing:
            self._tables |= self._existing(missing)
        for s in streams:
            if s.name not in self._tables:
                self.con.execute(s.ddl(self.schema))
                self._tables.add(s.name)

    def table(self, stream: Stream) -> str:
        return f'{self.schema}."{stream.name}"'

    def count(self, stream: Stream) -> int:
        return self._sql(
            f"SELECT count(*) FROM {self.table(stream)}", stream=stream.name, what="count"
        ).fetchone()[0]

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    # ------------------------------------------------------------------ transactions
    def _sql(self, sql: str, params: Sequence[Any] | None = None, *, stream: str, what: str):
        """Every statement of a load goes through here. When one fails inside a transaction,
        DuckDB aborts the transaction and every later statement only reports "Current
        transaction is aborted"; so roll back at once and raise the first error, typed."""
        try:
            return self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            self._fail(exc, stream=stream, what=what)

    def _fail(self, exc: BaseException, *, stream: str, what: str):
        if self._in_tx:
            with suppress(duckdb.Error):  # COMMIT may already have rolled back
                self.rollback()
        hint = ""
        if isinstance(exc, duckdb.OutOfMemoryException):
            hint = " (raise the loader's memory_limit or lower statement_bytes)"
        elif isinstance(exc, duckdb.ConstraintException) and "NOT NULL" in str(exc):
            hint = " (the API sent a record without its primary key; nothing of it was loaded)"
        raise LoadFailed(
            f"{self.schema}.{stream}: {what} failed with {type(exc).__name__}: {exc}{hint}; "
            "the open batch (rows and cursor) was rolled back, earlier batches stay committed; "
            "rerun the sync to continue from the committed cursor",
            stream=stream,
            first_error=exc,
        ) from exc

    @contextmanager
    def _registered(self, name: str, table: pa.Table, *, stream: str) -> Iterator[None]:
        """An Arrow table visible to SQL as `name`; unregistering never masks a first error."""
        self.con.register(name, table)
        try:
            yield
        except BaseException:
            with suppress(duckdb.Error):
                self.con.unregister(name)
            raise
        try:
            self.con.unregister(name)
        except duckdb.Error as exc:
            self._fail(exc, stream=stream, what=f"unregister {name}")

    def begin(self, stream: str = "") -> None:
        self._sql("BEGIN TRANSACTION", stream=stream, what="BEGIN")
        self._in_tx = True

    def commit(self, stream: str = "") -> None:
        self._sql("COMMIT", stream=stream, what="COMMIT")
        self._in_tx = False

    def rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        finally:
            self._in_tx = False

    # ------------------------------------------------------------------ rows
    def delete_all(self, stream: Stream) -> None:
        self._sql(f"DELETE FROM {self.table(stream)}", stream=stream.name, what="DELETE all rows")

    def delete_keys(self, stream: Stream, column: str, values: Sequence[str]) -> int:
        """Delete the rows whose `column` is in `values`. Returns rows deleted."""
        if not values:
            return 0
        keys = pa.Table.from_arrays([_str_array(list(values))], names=["v"])
        with self._registered("_keys", keys, stream=stream.name):
            return int(
                self._sql(
                    f'DELETE FROM {self.table(stream)} WHERE "{column}" IN (SELECT v FROM _keys)',
                    stream=stream.name,
                    what=f"DELETE by {column}",
                ).fetchone()[0]
            )

    def write_pages(self, stream: Stream, pages: Sequence[Page], *, merge: bool = True) -> int:
        """Parse, type, de-duplicate and merge a batch of pages. Returns rows written.
        Within the batch the last copy of a key wins (`seq` is the record's position).
        Records are parsed `statement_bytes` at a time (`split_by_bytes`); a record
        without its primary key fails the stream (the key columns are NOT NULL)."""
        groups = split_by_bytes(pages, self.statement_bytes)
        if not groups:  # no pages, or only empty ones (a campaign with no unsubscribes)
            return 0
        cols = ", ".join(f'"{c}"' for c in stream.column_names)
        table, name = self.table(stream), stream.name
        if not merge:
            # nothing to merge against: straight inserts, duplicates removed by dedupe()
            return sum(
                self._parse_into(
                    stream,
                    group,
                    seq0,
                    f"INSERT INTO {table} ({cols}, _raw, _extracted_at, _sync_id) "
                    f"SELECT {cols}, _raw, now(), ? FROM ({stream.rows_sql()})",
                    [self.sync_id],
                )
                for group, seq0 in _with_offsets(groups)
            )
        for i, (group, seq0) in enumerate(_with_offsets(groups)):
            target = "CREATE OR REPLACE TEMP TABLE _batch AS" if i == 0 else "INSERT INTO _batch"
            self._parse_into(
                stream, group, seq0, f"{target} SELECT {cols}, _raw, seq FROM ({stream.rows_sql()})"
            )
        pk = ", ".join(f'"{k}"' for k in stream.primary_key)
        self._sql(
            f"DELETE FROM {table} WHERE ({pk}) IN (SELECT ({pk}) FROM _batch)"
            if len(stream.primary_key) > 1
            else f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM _batch)",
            stream=name,
            what="merge DELETE",
        )
        n = self._sql(
            f"INSERT INTO {table} ({cols}, _raw, _extracted_at, _sync_id) "
            f"SELECT {cols}, _raw, now(), ? FROM _batch "
            f"QUALIFY row_number() OVER (PARTITION BY {pk} ORDER BY seq DESC) = 1",
            [self.sync_id],
            stream=name,
            what="merge INSERT",
        ).fetchone()[0]
        self._sql("DROP TABLE _batch", stream=name, what="DROP _batch")
        return int(n)

    def _parse_into(
        self, stream: Stream, pages: list[Page], seq0: int, sql: str, params: list | None = None
    ) -> int:
        """Run `sql` (which reads `stg`) over these pages' records; returns its row count."""
        records = sum(len(p.raws) for p in pages)
        with self._registered("stg", _staging(pages, seq0), stream=stream.name):
            row = self._sql(
                sql, params, stream=stream.name, what=f"parsing {records} records"
            ).fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ state
    def all_state(self) -> dict[str, Any]:
        rows = self.con.execute(f"SELECT stream, cursor FROM {self.schema}._state").fetchall()
        return {k: orjson.loads(v) for k, v in rows if v is not None}

    def snapshot(self, streams: Sequence[Stream]) -> dict[str, tuple[Any, int]]:
        """Each stream's saved cursor (None when unset) and its raw table's row count, in one
        statement (a sync's fixed cost per stream is mostly statements like these)."""
        if not streams:
            return {}
        counts = " UNION ALL ".join(
            f"SELECT '{s.name}' AS stream, count(*) AS n FROM {self.table(s)}" for s in streams
        )
        rows = self._sql(
            f"SELECT c.stream, s.cursor, c.n FROM ({counts}) c "
            f"LEFT JOIN {self.schema}._state s USING (stream)",
            stream=",".join(s.name for s in streams),
            what="reading cursors and row counts",
        ).fetchall()
        return {k: (None if v is None else orjson.loads(v), int(n)) for k, v, n in rows}

    def set_state(self, stream: str, cursor: Any) -> None:
        value = orjson.dumps(cursor).decode()
        what = "writing the cursor to _state"
        updated = self._sql(
            f"UPDATE {self.schema}._state SET cursor = ?, updated_at = now() WHERE stream = ?",
            [value, stream],
            stream=stream,
            what=what,
        ).fetchone()[0]
        if not updated:  # an UPDATE costs a third of an upsert; a stream's first cursor inserts
            self._sql(
                f"INSERT INTO {self.schema}._state VALUES (?, ?, now())",
                [stream, value],
                stream=stream,
                what=what,
            )

    def restore_state(self, stream: str, cursor: Any) -> None:
        """Set the cursor to `cursor` (None: no cursor) in a transaction of its own."""
        if cursor is None:
            self.clear_state(stream)
        else:
            self.set_state(stream, cursor)

    def clear_state(self, stream: str) -> None:
        self._sql(
            f"DELETE FROM {self.schema}._state WHERE stream = ?",
            [stream],
            stream=stream,
            what="clearing _state",
        )

    # ------------------------------------------------------------------ sync log
    def log(
        self,
        *,
        stream: str,
        mode: str,
        records_read: int,
        records_written: int,
        pages: int,
        retries: int,
        started_at: datetime,
        status: str,
        error: str | None,
    ) -> None:
        self._sql(
            f"INSERT INTO {self.schema}._sync_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.sync_id,
                stream,
                mode,
                records_read,
                records_written,
                pages,
                retries,
                started_at,
                datetime.now(UTC),
                status,
                error,
            ],
            stream=stream,
            what="writing the _sync_log row",
        )

    def dedupe(self, stream: Stream) -> int:
        """Keep the newest row per key (append-mode loads only). Returns rows removed."""
        pk = ", ".join(f'"{k}"' for k in stream.primary_key)
        t = self.table(stream)
        dup = self._sql(
            f"SELECT count(*) - count(DISTINCT ({pk})) FROM {t}", stream=stream.name, what="dedupe"
        ).fetchone()[0]
        if not dup:
            return 0
        self._sql(
            f"DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() "
            f"OVER (PARTITION BY {pk} ORDER BY _extracted_at DESC, rowid DESC) AS rn FROM {t}) "
            "WHERE rn > 1)",
            stream=stream.name,
            what="dedupe DELETE",
        )
        return int(dup)


# --------------------------------------------------------------------------- one stream
@dataclass
class StreamResult:
    """One stream's run, as `_sync_log` records it."""

    stream: str
    mode: str
    status: str = "running"  # succeeded | failed
    records_read: int = 0
    records_written: int = 0
    pages: int = 0
    retries: int = 0
    rows: int = 0  # rows in the raw table afterwards
    seconds: float = 0.0
    error: str | None = None


# A first sync (empty table) commits this many bytes of page bodies at a time, not every
# batch: commits cost more than the inserts of small batches, while an open transaction's
# rows stay in memory, so peak RSS still does not grow with the size of a stream.
FIRST_SYNC_COMMIT_BYTES = 24_000_000


class StreamWriter:
    """One stream's write path in its raw file: batches pages (by count and bytes), merges
    them, writes the newest cursor in the same transaction as the rows it covers, commits
    by the stream's policy, and when a statement fails writes back the cursor of the last
    good commit. The sync drives it: `open`, then `add` / `checkpoint` / `delete` as the
    reader yields, then `close` or `fail`; both write the `_sync_log` row.

    Commit policy: an incremental stream commits every batch; a first sync (empty table)
    every FIRST_SYNC_COMMIT_BYTES; a replace stream (associations) once, at the end. The
    last batch stays open so the stream's log row commits with it."""

    def __init__(
        self,
        loader: Loader,
        stream: Stream,
        snapshot: tuple[Any, int],
        *,
        full_refresh: bool,
        batch_pages: int,
        batch_bytes: int,
    ) -> None:
        saved, rows_before = snapshot
        self.loader, self.stream = loader, stream
        self.batch_pages, self.batch_bytes = batch_pages, batch_bytes
        self.state = None if full_refresh else saved  # where the reader starts
        # a replace stream with state (associations) re-reads only what changed since then
        self._incremental = self.state is not None and (stream.incremental or stream.replace)
        if self._incremental:
            mode = "incremental"
        else:
            mode = "replace" if stream.replace else "full_refresh"
        self.result = StreamResult(stream.name, mode)
        # nothing to merge against: an empty table, or a replace stream replacing everything
        self._append = rows_before == 0 or (stream.replace and not self._incremental)
        self._committed_state = self._open_state = saved
        self._batch: list[Page] = []
        self._bytes = 0  # page bytes in the batch
        self._uncommitted = 0  # page bytes written since the last commit
        self._pending: list[Any] = []  # newest cursor not written yet
        self._started = datetime.now(UTC)
        self._t0 = time.monotonic()

    @property
    def mode(self) -> str:
        return self.result.mode

    def open(self) -> None:
        if self.stream.replace:
            self.loader.begin(self.stream.name)
            if not self._incremental:
                self.loader.delete_all(self.stream)

    def add(self, page: Page) -> None:
        self._batch.append(page)
        self._bytes += page.nbytes
        self.result.pages += 1
        self.result.records_read += page.records
        if len(self._batch) >= self.batch_pages or self._bytes >= self.batch_bytes:
            self._flush()

    def checkpoint(self, state: Any) -> None:
        """`state` is true once every page added before it is committed."""
        self._pending.append(state)

    def delete(self, column: str, values: Sequence[str]) -> None:
        """Delete rows by `column` in the open transaction (replace streams only)."""
        if not self.stream.replace:
            raise RuntimeError(f"{self.stream.name}: only replace streams may delete rows")
        self._write()
        self.loader.delete_keys(self.stream, column, values)

    def close(self) -> StreamResult:
        """Write the last batch, then the log row, and commit them together."""
        self._flush(final=True)
        if self.stream.replace:
            self.loader.dedupe(self.stream)
        self.result.status = "succeeded"
        self._log()
        self.loader.commit(self.stream.name)
        return self.result

    def fail(self, exc: BaseException, error: str) -> StreamResult:
        """Roll back the open batch; after a failed DuckDB statement, write back the cursor
        of the last good commit (a COMMIT that fails for lack of memory may not be
        all-or-nothing: rows and cursor must still agree, so the next run re-reads rather
        than skips); record the failure."""
        if self.loader.in_transaction:
            with suppress(duckdb.Error):
                self.loader.rollback()
        self.result.status, self.result.error = "failed", error
        name = f"{self.loader.schema}.{self.stream.name}"
        if isinstance(exc, LoadFailed):
            try:
                self.loader.restore_state(self.stream.name, self._committed_state)
            except LoadFailed as state_exc:
                log.error("%s: could not restore the cursor: %s", name, state_exc)
        try:
            self._log()
        except LoadFailed as log_exc:  # the stream's own error stays the one reported
            log.error("%s: could not record the failure: %s", name, log_exc)
        return self.result

    # ------------------------------------------------------------------ internals
    def _write(self) -> None:
        """Merge the batch into the open transaction (begun if needed), without committing."""
        if not self.loader.in_transaction:
            self.loader.begin(self.stream.name)
        if self._batch:
            self.result.records_written += self.loader.write_pages(
                self.stream, self._batch, merge=not self._append
            )
        self._uncommitted += self._bytes
        self._batch.clear()
        self._bytes = 0

    def _flush(self, final: bool = False) -> None:
        self._write()
        if final and self._append and not self.stream.replace:
            self.loader.dedupe(self.stream)
        if self._pending:
            self.loader.set_state(self.stream.name, self._pending[-1])
            self._open_state = self._pending[-1]
            self._pending.clear()
        due = not self._append or self._uncommitted >= FIRST_SYNC_COMMIT_BYTES
        if not self.stream.replace and not final and due:
            self.loader.commit(self.stream.name)
            self._committed_state = self._open_state
            self._uncommitted = 0

    def _log(self) -> None:
        r = self.result
        r.seconds = time.monotonic() - self._t0
        r.rows = self.loader.count(self.stream)
        self.loader.log(
            stream=r.stream,
            mode=r.mode,
            records_read=r.records_read,
            records_written=r.records_written,
            pages=r.pages,
            retries=r.retries,
            started_at=self._started,
            status=r.status,
            error=r.error,
        )
