"""Quarantine: the raw gate's verdict on the records `quality.records` flags, and the store's rows.

A stream whose quarantined records exceed `quarantine_threshold` of its rows is
a critical failure (something upstream broke, holding records back would hide
it); below it, each reason is a warning with its count and sample keys, and the
run goes on without those records.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from quality.config import QualityConfig
from quality.raw import RawTable
from quality.records import REASONS
from quality.result import Finding


def quarantine_findings(
    candidates: pa.Table, facts: RawTable, config: QualityConfig
) -> list[Finding]:
    suite = f"raw.{facts.source}.{facts.stream}"
    rows = candidates.to_pylist()
    limit = config.quarantine_threshold
    held = len({r["record_key"] for r in rows})
    share = held / facts.rows if facts.rows else 0.0
    if not rows:
        return [
            Finding(
                suite,
                facts.table,
                None,
                "quarantine: records pass the record checks",
                "critical",
                True,
                observed=f"0 of {facts.rows} records",
                kind="quarantine",
            )
        ]
    over = share > limit
    per_kind = {k: sorted({r["record_key"] for r in rows if r["kind"] == k}) for k in kinds(rows)}
    counts = ", ".join(f"{REASONS[k]} {len(keys)}" for k, keys in per_kind.items())
    verdict = f"{held} of {facts.rows} records ({share:.1%}) quarantined ({counts}), " + (
        f"above the {limit:.0%} threshold" if over else f"within the {limit:.0%} threshold"
    )
    out = []
    for kind, keys in per_kind.items():
        mine = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["record_key"])
        out.append(
            Finding(
                suite,
                facts.table,
                ", ".join(sorted({r["column_name"] for r in mine})),
                f"quarantine: {kind}",
                "critical" if over else "warning",
                False,
                observed=f"{len(keys)} record(s): {verdict}; e.g. {mine[0]['detail']}",
                unexpected_count=len(keys),
                sample_keys=tuple(keys[: config.sample_size]),
                key_columns=facts.key,
                kind="quarantine",
                hint=_hint(over, facts),
            )
        )
    return out


def kinds(rows: list[dict]) -> list[str]:
    return sorted({r["kind"] for r in rows})


def duplicate_findings(rows: list[tuple], facts: RawTable, column: str, sample: int) -> Finding:
    """Emails shared by several live records of one stream: a warning, with their keys."""
    suite = f"raw.{facts.source}.{facts.stream}"
    keys = [k for _, ks in rows for k in ks]
    example = f"; e.g. {rows[0][0]} on {', '.join(rows[0][1])}" if rows else ""
    return Finding(
        suite,
        facts.table,
        column,
        "people: one live record per email",
        "warning",
        not rows,
        observed=f"{len(rows)} email(s) shared by {len(keys)} records{example}",
        unexpected_count=len(keys),
        sample_keys=tuple(keys[:sample]),
        key_columns=facts.key,
        kind="quarantine",
        hint="dbt merges them into one person; merge them in the source to keep it clean"
        if rows
        else "",
    )


def _hint(over: bool, facts: RawTable) -> str:
    if over:
        return (
            f"too many {facts.name} records fail: look at the source (or the rule) before "
            "rerunning; they stay quarantined until clean"
        )
    return "held back from the warehouse until a clean sync releases them"


def apply(
    con: duckdb.DuckDBPyConnection,
    candidates: dict[tuple[str, str], pa.Table],
    run_id: str,
    now: datetime,
) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """Quarantine new failures and release records that pass now, per checked stream.
    Returns (new rows, released keys) per stream. `con` is the store, in a transaction."""
    out = {}
    for (source, stream), table in candidates.items():
        con.register("candidates", table)
        released = con.execute(
            "UPDATE quarantine q SET released_at = $now, released_run_id = $run "
            "WHERE source = $source AND stream = $stream AND released_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM candidates c "
            "WHERE c.record_key = q.record_key AND c.check_name = q.check_name) "
            "RETURNING record_key",
            {"now": now, "run": run_id, "source": source, "stream": stream},
        ).fetchall()
        new = con.execute(
            "INSERT INTO quarantine BY NAME SELECT $source AS source, $stream AS stream, "
            "c.record_key, c.check_name, c.reason, c.detail, c.sync_id, $run AS run_id, "
            "$now AS quarantined_at FROM candidates c "
            "WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.source = $source "
            "AND q.stream = $stream AND q.record_key = c.record_key "
            "AND q.check_name = c.check_name AND q.released_at IS NULL)",
            {"now": now, "run": run_id, "source": source, "stream": stream},
        ).fetchall()[0][0]
        con.unregister("candidates")
        out[(source, stream)] = (new, sorted({r[0] for r in released}))
    return out


def released_finding(facts_table: str, suite: str, keys: list[str], sample: int) -> Finding:
    return Finding(
        suite,
        facts_table,
        None,
        "quarantine: records released",
        "info",
        True,
        observed=f"{len(keys)} record(s) pass every record check again and were released",
        unexpected_count=len(keys),
        sample_keys=tuple(keys[:sample]),
        kind="quarantine",
    )
