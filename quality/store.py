"""The quality store: one DuckDB file (`<data>/quality.duckdb`) the gates own.

It keeps the evidence of every gate run (audit), the records held back from the
warehouse (quarantine) and what the next run compares against (volumes, the
fields seen per stream, the syncs a passing raw gate has validated). dbt
ATTACHes it read-only as `quality` and its staging models leave out the records
whose quarantine row has `released_at is null`.

Contract with dbt (dbt_project/macros/quarantine.sql):

    quality.quarantine(source, stream, record_key, check_name, reason, sync_id,
                       run_id, quarantined_at, released_at, released_run_id)

`record_key` is the stream's primary-key values cast to VARCHAR and joined with
'|' in primary-key order (members: `list_id|id`; contacts: `id`). `reason` is the
defect in words (invalid email, unknown status, future timestamp, unparseable
amount), `check_name` the rule that found it (`future_timestamp(createdate)`); an
added `detail` column holds the offending value.

Only the gates write here (`elt` holds the store's lock while one runs), each
gate run in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from quality.result import GateResult

SCHEMA = "quality"

QUARANTINE_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine (
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    reason VARCHAR,
    sync_id VARCHAR,
    run_id VARCHAR,
    quarantined_at TIMESTAMPTZ,
    released_at TIMESTAMPTZ,
    released_run_id VARCHAR
)
"""
#: Added after the contract above: the offending value and what it was compared with.
QUARANTINE_DETAIL = f"ALTER TABLE {SCHEMA}.quarantine ADD COLUMN IF NOT EXISTS detail VARCHAR"

#: Every result of every gate run, GX expectations and SQL checks alike.
AUDIT_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.audit (
    run_id VARCHAR NOT NULL,
    gate VARCHAR NOT NULL,
    suite VARCHAR NOT NULL,
    table_name VARCHAR,
    column_name VARCHAR,
    expectation VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    observed_value VARCHAR,
    unexpected_count BIGINT,
    sample_keys VARCHAR[],
    checked_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    key_columns VARCHAR[],
    hint VARCHAR
)
"""

#: One row per gate run: its verdict and counts (the data docs index lists these).
GATE_RUNS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.gate_runs (
    run_id VARCHAR NOT NULL,
    gate VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    ok BOOLEAN NOT NULL,
    critical INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    infos INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    summary VARCHAR
)
"""

#: Each stream's row and distinct-key counts after every passing raw gate.
VOLUMES_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.volumes (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    key_count BIGINT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
)
"""

#: The syncs whose rows a passing raw gate has validated: later runs check only newer rows.
VALIDATED_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.validated_syncs (
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    sync_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    validated_at TIMESTAMPTZ NOT NULL
)
"""

#: The fields (top-level `_raw` keys; `properties.<name>` for HubSpot objects) seen per
#: stream, with how often, so a field that goes missing can be told from a rare one.
FIELDS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.fields_seen (
    source VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    first_sync_id VARCHAR,
    first_run_id VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    records_with BIGINT NOT NULL,
    records_checked BIGINT NOT NULL,
    gone_sync_id VARCHAR,
    gone_run_id VARCHAR
)
"""

DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    QUARANTINE_DDL,
    QUARANTINE_DETAIL,
    AUDIT_DDL,
    GATE_RUNS_DDL,
    VOLUMES_DDL,
    VALIDATED_DDL,
    FIELDS_DDL,
]


class StoreLocked(RuntimeError):
    """Another process holds the quality store open."""


def _use(con: duckdb.DuckDBPyConnection) -> None:
    """Make `quality.<table>` name the store's schema. The file is usually called
    quality.duckdb, so its catalog is `quality` too and a bare `quality.x` is ambiguous."""
    catalog = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{catalog}".{SCHEMA}')
    con.execute(f'USE "{catalog}".{SCHEMA}')


def ensure_store(path: Path) -> Path:
    """Create the store file and its tables when missing (dbt attaches it; it must exist)."""
    with open_store(path):
        pass
    return path


@contextmanager
def open_store(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default schema is the store's (tables named without `quality.`),
    every table created if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise StoreLocked(
            f"the quality store {path} is held by another process (a dbt build attaches it "
            f"while it runs); run the gate after it. DuckDB said: {exc}"
        ) from exc
    try:
        _use(con)
        for statement in DDL[1:]:
            con.execute(statement.replace(f"{SCHEMA}.", "", 1))
        yield con
    finally:
        con.close()


# --------------------------------------------------------------------------- state
@dataclass
class FieldSeen:
    """One `fields_seen` row: a field of a stream's records and how often it was there."""

    first_sync_id: str | None
    first_run_id: str
    first_seen_at: datetime
    records_with: int
    records_checked: int
    gone_sync_id: str | None = None
    gone_run_id: str | None = None

    @property
    def share(self) -> float:
        return self.records_with / self.records_checked if self.records_checked else 1.0


FIELD_COLUMNS = (
    "first_sync_id, first_run_id, first_seen_at, records_with, records_checked, "
    "gone_sync_id, gone_run_id"
)


@dataclass
class StoreState:
    """What a raw gate compares against, read once at its start."""

    #: (source, stream) -> sync ids a passing raw gate validated
    validated: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: (source, stream) -> (run_id, row_count) of the last passing raw gate
    volumes: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: (source, stream) -> field -> what is known of it
    fields: dict[tuple[str, str], dict[str, FieldSeen]] = field(default_factory=dict)


def load_state(path: Path) -> StoreState:
    state = StoreState()
    with open_store(path) as con:
        for source, stream, sync_id in con.execute(
            "SELECT source, stream, sync_id FROM validated_syncs"
        ).fetchall():
            state.validated.setdefault((source, stream), set()).add(sync_id)
        for source, stream, run_id, rows in con.execute(
            "SELECT source, stream, arg_max(run_id, recorded_at), arg_max(row_count, recorded_at) "
            "FROM volumes GROUP BY ALL"
        ).fetchall():
            state.volumes[(source, stream)] = (run_id, rows)
        for source, stream, name, *rest in con.execute(
            f"SELECT source, stream, field, {FIELD_COLUMNS} FROM fields_seen"
        ).fetchall():
            state.fields.setdefault((source, stream), {})[name] = FieldSeen(*rest)
    return state


# --------------------------------------------------------------------------- retention
def prune(
    store_path: Path, older_than_days: int, *, docs_dir: Path | None = None
) -> dict[str, int]:
    """Delete audit rows, gate runs and released quarantine rows older than the retention,
    and volume rows except each stream's newest. Returns rows deleted per table.

    Quarantine rows still open are never deleted: they hold records back. With
    `docs_dir`, the data-docs pages of the deleted gate runs go too.
    """
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be >= 0, got {older_than_days}")
    if not store_path.exists():
        return {}
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    with open_store(store_path) as con:
        pages = con.execute(
            "SELECT run_id, gate FROM gate_runs WHERE finished_at < ?", [cutoff]
        ).fetchall()
        counts = {
            "audit rows": _delete(con, "audit WHERE checked_at < ?", cutoff),
            "gate runs": _delete(con, "gate_runs WHERE finished_at < ?", cutoff),
            "released quarantine rows": _delete(
                con, "quarantine WHERE released_at IS NOT NULL AND released_at < ?", cutoff
            ),
            "volume rows": _delete(
                con,
                "volumes v WHERE recorded_at < ? AND recorded_at < (SELECT max(recorded_at) "
                "FROM volumes w WHERE w.source = v.source AND w.stream = v.stream)",
                cutoff,
            ),
        }
    if docs_dir is not None:
        from quality.docs import page_path

        for run_id, gate in pages:
            page_path(docs_dir, run_id, gate).unlink(missing_ok=True)
    return counts


def _delete(con: duckdb.DuckDBPyConnection, what: str, cutoff: datetime) -> int:
    return con.execute(f"DELETE FROM {what}", [cutoff]).fetchall()[0][0]


# --------------------------------------------------------------------------- writes
# The gate calls these on one connection inside one transaction.
def replace_fields(
    con: duckdb.DuckDBPyConnection, fields: dict[tuple[str, str], dict[str, FieldSeen]]
) -> None:
    for (source, stream), seen in fields.items():
        con.execute("DELETE FROM fields_seen WHERE source = ? AND stream = ?", [source, stream])
        rows = [
            {"source": source, "stream": stream, "field": name, **dataclasses.asdict(f)}
            for name, f in sorted(seen.items())
        ]
        if rows:
            con.register("seen", pa.Table.from_pylist(rows))
            con.execute("INSERT INTO fields_seen BY NAME SELECT * FROM seen")
            con.unregister("seen")


def record_passing_raw(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    now: datetime,
    volumes: list[tuple[str, str, int, int]],
    validated: list[tuple[str, str, str]],
) -> None:
    """What the next raw gate compares against: this run's totals and the syncs it validated."""
    con.execute("DELETE FROM volumes WHERE run_id = ?", [run_id])
    if volumes:
        con.executemany(
            "INSERT INTO volumes VALUES (?, ?, ?, ?, ?, ?)",
            [[run_id, source, stream, rows, keys, now] for source, stream, rows, keys in volumes],
        )
    if validated:
        con.executemany(
            "INSERT INTO validated_syncs SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
            "validated_syncs WHERE source = ? AND stream = ? AND sync_id = ?)",
            [[s, t, sid, run_id, now, s, t, sid] for s, t, sid in validated],
        )


def record_results(
    con: duckdb.DuckDBPyConnection, result: GateResult, started: datetime, finished: datetime
) -> None:
    """The run's findings as audit rows and its verdict as a gate_runs row (a rerun of the
    same run and gate replaces them)."""
    key = [result.run_id, result.gate]
    con.execute("DELETE FROM audit WHERE run_id = ? AND gate = ?", key)
    con.execute("DELETE FROM gate_runs WHERE run_id = ? AND gate = ?", key)
    rows = [
        {
            "run_id": result.run_id,
            "gate": result.gate,
            "suite": f.suite,
            "table_name": f.table,
            "column_name": f.column,
            "expectation": f.expectation,
            "severity": f.severity,
            "success": f.success,
            "observed_value": f.observed,
            "unexpected_count": f.unexpected_count,
            "sample_keys": list(f.sample_keys),
            "checked_at": finished,
            "kind": f.kind,
            "key_columns": list(f.key_columns),
            "hint": f.hint or None,
        }
        for f in result.findings
    ]
    if rows:
        con.register("findings", pa.Table.from_pylist(rows, schema=_AUDIT_ARROW))
        con.execute("INSERT INTO audit BY NAME SELECT * FROM findings")
        con.unregister("findings")
    con.execute(
        "INSERT INTO gate_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.run_id,
            result.gate,
            started,
            finished,
            result.ok,
            len(result.critical),
            len(result.warnings),
            len(result.infos),
            len(result.findings),
            sum(f.success for f in result.findings),
            result.summary(),
        ],
    )


_AUDIT_ARROW = pa.schema(
    [
        ("run_id", pa.string()),
        ("gate", pa.string()),
        ("suite", pa.string()),
        ("table_name", pa.string()),
        ("column_name", pa.string()),
        ("expectation", pa.string()),
        ("severity", pa.string()),
        ("success", pa.bool_()),
        ("observed_value", pa.string()),
        ("unexpected_count", pa.int64()),
        ("sample_keys", pa.list_(pa.string())),
        ("checked_at", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
        ("key_columns", pa.list_(pa.string())),
        ("hint", pa.string()),
    ]
)


# --------------------------------------------------------------------------- reads
def gate_runs(con: duckdb.DuckDBPyConnection, limit: int) -> list[dict]:
    cur = con.execute(
        "SELECT run_id, gate, started_at, finished_at, ok, critical, warnings, infos, checks, "
        "passed, summary FROM gate_runs ORDER BY finished_at DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def audit_rows(con: duckdb.DuckDBPyConnection, run_id: str, gate: str) -> list[dict]:
    cur = con.execute(
        "SELECT suite, table_name, column_name, expectation, severity, success, observed_value, "
        "unexpected_count, sample_keys, key_columns, kind, hint FROM audit "
        "WHERE run_id = ? AND gate = ? ORDER BY suite, success, expectation",
        [run_id, gate],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
