"""The two gates: `raw` after the extracts (before dbt), `marts` on a new build (before publishing).

Raw gate, per source file (opened read-only, closed before GX runs; a file
Airbyte wrote is read through `quality.airbyte`'s views in our loader's shape):
1. facts per stream: rows, distinct keys, rows per sync, the new rows;
2. the suite's frames: the new rows for row-level expectations, every row for
   table-level ones (row counts, distinct-value sets);
3. SQL checks: record checks -> quarantine, volume, schema drift.
Then GX validates the frames, and one store transaction records the
quarantine, the fields seen, the audit rows, the gate run and (when it passed)
the volumes and the syncs it validated. The data docs are rendered last.

Marts gate: every marts suite over every row of the build file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from quality import airbyte, drift, quarantine
from quality.config import QualityConfig, StreamSpec
from quality.docs import render
from quality.raw import RawTable, read_sync_log, read_table_facts
from quality.reader import (
    DatabaseLocked,
    QualityError,
    TableMissing,
    connect_read_only,
    find_schema,
    read_frame,
    references,
    require_columns,
)
from quality.records import (
    DUPLICATE_PEOPLE,
    RECORD_CHECKS,
    candidates_sql,
    duplicate_people_sql,
)
from quality.result import Finding, Gate, GateResult, SuiteRun
from quality.spec import Check, TableSuite
from quality.store import (
    FieldSeen,
    StoreState,
    load_state,
    open_store,
    record_passing_raw,
    record_results,
    replace_fields,
)
from quality.suites import SUITES
from quality.volume import volume_findings

log = logging.getLogger("quality")

#: A GX batch to validate: suite, schema.table, frame, checks, values_from lookups.
Job = tuple[TableSuite, str, Any, list[Check], dict]


@dataclass
class RawWrites:
    """What a raw gate leaves in the store besides its findings."""

    quarantine: dict[tuple[str, str], pa.Table] = field(default_factory=dict)
    facts: dict[tuple[str, str], RawTable] = field(default_factory=dict)
    fields: dict[tuple[str, str], dict[str, FieldSeen]] = field(default_factory=dict)


def run_gate(gate: Gate, config: QualityConfig, *, run_id: str) -> GateResult:
    """Run one gate; see the module docstring. `ok` is False when a critical check failed."""
    if gate not in ("raw", "marts"):
        raise ValueError(f"unknown gate {gate!r}; use 'raw' or 'marts'")
    started, t0 = datetime.now(UTC), time.monotonic()
    result = GateResult(gate, run_id)
    writes = None
    if gate == "raw":
        writes = _raw_gate(config, result)
    else:
        _marts_gate(config, result)
    _record(config, result, writes, started)
    result.seconds = time.monotonic() - t0
    result.docs_page = render(config.store, config.docs_dir, run_id, gate, runs=config.docs_runs)
    result.docs_index = config.docs_dir / "index.html"
    _log(result)
    return result


def _suites(config: QualityConfig, layer: str) -> list[TableSuite]:
    return [s for s in (SUITES if config.suites is None else config.suites) if s.layer == layer]


def _validate(jobs: Sequence[Job], config: QualityConfig, result: GateResult) -> None:
    if not jobs:
        return
    from quality.runner import Validator

    validator = Validator(config.sample_size)
    for suite, table, frame, checks, refs in jobs:
        result.findings += validator.validate(suite, table, frame, checks, refs)


def _error(name: str, table: str | None, what: str, hint: str) -> Finding:
    return Finding(
        name,
        table,
        None,
        "suite could not run",
        "critical",
        False,
        observed=what,
        kind="error",
        hint=hint,
    )


# --------------------------------------------------------------------------- raw
def _raw_gate(config: QualityConfig, result: GateResult) -> RawWrites:
    gate = RawGate(config, load_state(config.store), result)
    for source, path in config.raw.items():
        gate.source(source, path)
    _validate(gate.jobs, config, result)
    return gate.writes


class RawGate:
    """Reads what the raw gate needs from each source file, one file at a time."""

    def __init__(self, config: QualityConfig, state: StoreState, result: GateResult) -> None:
        self.config, self.state, self.result = config, state, result
        self.suites = _suites(config, "raw")
        self.writes = RawWrites()
        self.jobs: list[Job] = []

    def source(self, source: str, path: Path) -> None:
        names = [s.table for s in self.suites if s.database == source]
        names += [
            s.stream for s in self.config.streams if s.source == source and s.stream not in names
        ]
        unmapped: dict[str, str] = {}
        try:
            if self.config.raw_format == "airbyte":
                con, unmapped = airbyte.connect(path, source, names, self.config.streams)
            else:
                con = connect_read_only(path)
        except (TableMissing, DatabaseLocked) as exc:
            for stream in names:
                self.not_checked(f"raw.{source}.{stream}", str(exc))
            return
        try:
            sync_log = read_sync_log(con, source)
            for stream in names:
                if stream in unmapped:
                    hint = "run the Airbyte connection's sync of this stream first"
                    self.not_checked(f"raw.{source}.{stream}", unmapped[stream], hint)
                    continue
                self.stream(con, source, stream, sync_log.get(stream, []))
        finally:
            con.close()

    def not_checked(self, name: str, why: str, hint: str = "run `elt extract` first") -> None:
        self.result.suites.append(SuiteRun(name, note="not checked"))
        self.result.findings.append(_error(name, None, why, hint))

    def stream(self, con: duckdb.DuckDBPyConnection, source: str, stream: str, log: list) -> None:
        """Everything the raw gate reads from one table."""
        name, spec = f"raw.{source}.{stream}", self.config.stream(source, stream)
        suite = next((s for s in self.suites if (s.database, s.table) == (source, stream)), None)
        validated = self.state.validated.get((source, stream), set())
        key = spec.primary_key if spec else suite.key if suite else ()
        try:
            find_schema(con, stream, f"raw_{source}")
            facts = read_table_facts(con, source, stream, key, validated)
        except TableMissing as exc:
            self.not_checked(name, str(exc))
            return
        except duckdb.Error as exc:
            hint = "the table does not have the declared key: check the connector's stream"
            self.not_checked(name, f"counting raw_{source}.{stream} failed: {exc}", hint)
            return
        facts.log = log
        self.writes.facts[(source, stream)] = facts
        where, params = facts.pending_filter(self.config.all_rows)
        run = SuiteRun(name, facts.table, facts.rows, facts.pending_rows if where else facts.rows)
        self.result.suites.append(run)
        if suite:
            self.jobs += self.frames(con, suite, facts, where, params, run)
        previous = self.state.volumes.get((source, stream))
        self.result.findings += volume_findings(facts, previous, validated, self.config)
        try:
            self.quarantine(con, facts)
            if spec and facts.pending_rows:
                self.drift(con, spec, facts, *facts.pending_filter(all_rows=False))
        except duckdb.Error as exc:
            hint = "fix the raw table or the rule in quality/records.py and rerun"
            self.result.findings.append(
                _error(name, facts.table, f"a SQL check failed: {exc}", hint)
            )

    def frames(
        self,
        con: duckdb.DuckDBPyConnection,
        suite: TableSuite,
        facts: RawTable,
        where: str,
        params: dict,
        run: SuiteRun,
    ) -> list[Job]:
        """The new rows for row-level checks, every row for table-level ones."""
        skip_min_rows = self.config.may_be_empty_stream(facts.source, facts.stream)
        checks = [
            c
            for c in suite.checks
            if not (skip_min_rows and c.gx_type == "ExpectTableRowCountToBeBetween")
        ]
        schema, table = f"raw_{facts.source}", facts.table
        try:
            require_columns(con, schema, suite)
            refs = references(con, suite, checks)
            if not where:
                frame = read_frame(con, schema, suite.table, suite.frame_columns(checks))
                return [(suite, table, frame, checks, refs)]
            jobs: list[Job] = []
            rows = [c for c in checks if not c.table_level]
            if rows and facts.pending_rows:
                cols = suite.frame_columns(rows)
                frame = read_frame(con, schema, suite.table, cols, where, params)
                jobs.append((suite, table, frame, rows, refs))
            elif rows:
                run.note = "no new rows for the row-level expectations"
            whole = [c for c in checks if c.table_level]
            if whole:
                frame = read_frame(con, schema, suite.table, suite.frame_columns(whole))
                jobs.append((suite, table, frame, whole, refs))
            return jobs
        except (QualityError, duckdb.Error) as exc:
            hint = "fix the table or the declaration in quality/suites.py"
            self.result.findings.append(_error(suite.name, table, str(exc), hint))
            return []

    def quarantine(self, con: duckdb.DuckDBPyConnection, facts: RawTable) -> None:
        where = (facts.source, facts.stream)
        rules = [c for c in RECORD_CHECKS if (c.source, c.stream) == where]
        if not rules or not facts.key:
            return
        params = {"tolerance_hours": self.config.future_tolerance_hours}
        table = con.sql(candidates_sql(rules, facts.key), params=params).to_arrow_table()
        self.writes.quarantine[where] = table
        self.result.findings += quarantine.quarantine_findings(table, facts, self.config)
        for column in (c for s, t, c in DUPLICATE_PEOPLE if (s, t) == where):
            rows = con.sql(duplicate_people_sql(*where, column, facts.key)).fetchall()
            sample = self.config.sample_size
            self.result.findings.append(quarantine.duplicate_findings(rows, facts, column, sample))

    def drift(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: StreamSpec,
        facts: RawTable,
        where: str,
        params: dict,
    ) -> None:
        sample = self.config.sample_size
        self.result.findings += drift.type_drift(con, spec, facts, where, params, sample)
        if not spec.field_paths:
            return
        counts = drift.field_counts(con, spec, where, params)
        known = self.state.fields.get((spec.source, spec.stream), {})
        now, run_id = datetime.now(UTC), self.result.run_id
        findings, fields = drift.field_drift(spec, facts, counts, known, run_id, now)
        self.result.findings += findings
        self.writes.fields[(spec.source, spec.stream)] = fields


# --------------------------------------------------------------------------- marts
def _marts_gate(config: QualityConfig, result: GateResult) -> None:
    suites = _suites(config, "marts")
    if config.warehouse is None:
        raise ValueError("QualityConfig.warehouse is not set: the marts gate reads that file")
    try:
        con = connect_read_only(config.warehouse)
    except (TableMissing, DatabaseLocked) as exc:
        for suite in suites:
            result.suites.append(SuiteRun(suite.name, note="not checked"))
            result.findings.append(_error(suite.name, None, str(exc), "run the dbt build first"))
        return
    jobs: list[Job] = []
    try:
        for suite in suites:
            jobs += _marts_job(con, suite, result)
    finally:
        con.close()
    _validate(jobs, config, result)


def _marts_job(con: duckdb.DuckDBPyConnection, suite: TableSuite, result: GateResult) -> list[Job]:
    run = SuiteRun(suite.name)
    result.suites.append(run)
    try:
        schema = find_schema(con, suite.table, suite.schema)
        run.table = f"{schema}.{suite.table}"
        require_columns(con, schema, suite)
        refs = references(con, suite, list(suite.checks))
        frame = read_frame(con, schema, suite.table, suite.frame_columns(suite.checks))
    except (QualityError, duckdb.Error) as exc:
        run.note = "not checked"
        hint = "the dbt build did not produce it as declared: see dbt's output, or fix the suite"
        result.findings.append(_error(suite.name, run.table, str(exc), hint))
        return []
    run.rows = run.checked = len(frame)
    return [(suite, run.table, frame, list(suite.checks), refs)]


# --------------------------------------------------------------------------- record
def _record(
    config: QualityConfig, result: GateResult, writes: RawWrites | None, started: datetime
) -> None:
    """One store transaction: quarantine, fields, (if passed) volumes and validated syncs,
    then the audit rows and the gate run."""
    now = datetime.now(UTC)
    with open_store(config.store) as con:
        con.execute("BEGIN")
        if writes is not None:
            _record_raw(con, config, result, writes, now)
        record_results(con, result, started, now)
        con.execute("COMMIT")


def _record_raw(
    con: duckdb.DuckDBPyConnection,
    config: QualityConfig,
    result: GateResult,
    writes: RawWrites,
    now: datetime,
) -> None:
    applied = quarantine.apply(con, writes.quarantine, result.run_id, now)
    for (source, stream), (_, released) in applied.items():
        if released:
            table = writes.facts[(source, stream)].table
            result.findings.append(
                quarantine.released_finding(
                    table, f"raw.{source}.{stream}", released, config.sample_size
                )
            )
    held = con.execute("SELECT count(*) FROM quarantine WHERE released_at IS NULL").fetchall()[0][0]
    new = sum(n for n, _ in applied.values())
    released = sum(len(keys) for _, keys in applied.values())
    result.quarantine = {"open": held, "new": new, "released": released}
    result.quarantine_changed = bool(new or released)
    replace_fields(con, writes.fields)
    if result.ok:
        facts = writes.facts.values()
        volumes = [(f.source, f.stream, f.rows, f.keys) for f in facts]
        validated = [(f.source, f.stream, s) for f in facts for s in f.pending if s is not None]
        record_passing_raw(con, result.run_id, now, volumes, validated)


def _log(result: GateResult) -> None:
    """One line per suite, then each critical failure and warning, then the verdict."""
    for run in result.suites:
        log.info("%s gate: %s", result.gate, result.suite_line(run))
    for finding in result.critical:
        log.error("%s", finding.message())
    for finding in result.warnings:
        log.warning("%s", finding.message())
    verdict = "passed" if result.ok else "FAILED"
    log.info(
        "%s gate %s in %.1fs: %d critical, %d warning(s); data docs %s",
        result.gate,
        verdict,
        result.seconds,
        len(result.critical),
        len(result.warnings),
        result.docs_page,
    )
