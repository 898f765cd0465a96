"""Volume checks: a raw stream that shrinks, loses its keys' uniqueness, or syncs empty.

- the row count drops by more than `volume_drop_threshold` since the last
  passing raw gate (raw tables merge on the key, so they grow or stay; a drop
  means rows were deleted or a replace stream came back short);
- a full sync (`_sync_log.mode` full_refresh or replace) that read 0 records
  where the stream's previous full sync read some;
- rows != distinct primary keys over the whole table (the loader merges on
  the key; the row-level expectations only see the new rows).

Each is critical, except for a stream configured may-be-empty, where a drop or
an empty sync is a warning.
"""

from __future__ import annotations

from quality.config import QualityConfig
from quality.raw import FULL_MODES, RawTable
from quality.result import Finding


def volume_findings(
    facts: RawTable, previous: tuple[str, int] | None, validated: set[str], config: QualityConfig
) -> list[Finding]:
    soft = config.may_be_empty_stream(facts.source, facts.stream)
    severity = "warning" if soft else "critical"
    suite = f"raw.{facts.source}.{facts.stream}"
    out = [_drop(facts, previous, config, suite, severity)]
    empty = _empty_full_sync(facts, validated, suite, severity)
    if empty:
        out.append(empty)
    out.append(
        Finding(
            suite,
            facts.table,
            ", ".join(facts.key),
            "volume: rows == distinct primary keys (whole table)",
            "critical",
            facts.rows == facts.keys,
            observed=f"{facts.rows} rows, {facts.keys} distinct keys",
            unexpected_count=facts.rows - facts.keys,
            key_columns=facts.key,
            kind="volume",
            hint=""
            if facts.rows == facts.keys
            else "the loader merges on the key: rerun the "
            "sync with --full-refresh and report the duplicate keys",
        )
    )
    return out


def _drop(
    facts: RawTable,
    previous: tuple[str, int] | None,
    config: QualityConfig,
    suite: str,
    severity: str,
) -> Finding:
    limit = config.volume_drop_threshold
    expectation = f"volume: rows drop at most {limit:.0%} since the last passing raw gate"
    if previous is None:
        return Finding(
            suite,
            facts.table,
            None,
            expectation,
            severity,
            True,
            observed=f"{facts.rows} rows (no earlier passing raw gate to compare with)",
            kind="volume",
        )
    run_id, before = previous
    drop = (before - facts.rows) / before if before else 0.0
    ok = drop <= limit
    return Finding(
        suite,
        facts.table,
        None,
        expectation,
        severity,  # type: ignore[arg-type]
        ok,
        observed=f"{facts.rows} rows, {before} at run {run_id} ({-drop:+.1%})",
        unexpected_count=max(before - facts.rows, 0),
        kind="volume",
        hint=""
        if ok
        else "rows were deleted from raw or a replace stream came back short: "
        "check the source and the last sync's log before rerunning",
    )


def _empty_full_sync(
    facts: RawTable, validated: set[str], suite: str, severity: str
) -> Finding | None:
    full = [s for s in facts.log if s.mode in FULL_MODES]
    if len(full) < 2 or full[-1].sync_id in validated:
        return None
    last, before = full[-1], full[-2]
    ok = not (last.records_read == 0 and before.records_read > 0)
    return Finding(
        suite,
        facts.table,
        None,
        "volume: a full sync reads records when the previous one did",
        severity,  # type: ignore[arg-type]
        ok,
        observed=f"full sync {last.sync_id} read {last.records_read} record(s); "
        f"the previous full sync {before.sync_id} read {before.records_read}",
        kind="volume",
        hint=""
        if ok
        else "the source answered nothing: check its credentials and filters; if the stream "
        f"may legitimately be empty add {facts.name} to the may-be-empty streams",
    )
