"""Schema drift: the records' `_raw` against what the stream declares and what was seen before.

Over the new rows of a stream (see `quality.raw`):
- a new field (a top-level key of `_raw`, or `properties.<key>` for HubSpot
  objects) never seen before -> info;
- a field gone: seen before, absent from every record of the latest sync ->
  warning. A sparse field (MailChimp's `last_note` is on ~4% of members) is
  judged by how often it was there: it counts as gone only when its share of
  earlier records predicts at least `GONE_EXPECTED` of them in that sync;
- a typed column no longer castable: the `_raw` value at the column's JSON path
  is present (not null, not blank) while the typed column is NULL (the loader's
  TRY_CAST failed: `member_rating` "high", `last_changed` sent as epoch int) ->
  critical.
Each names the first sync where it showed. The first run records the fields
seen as the stream's baseline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

import duckdb

from quality.config import StreamSpec
from quality.raw import RawTable, sync_order
from quality.reader import quote
from quality.records import record_key
from quality.result import Finding
from quality.store import FieldSeen

#: Records of the latest sync a field's past share must predict before its absence counts.
GONE_EXPECTED = 5
UNTYPED = ("VARCHAR", "JSON")


def json_path(path: str) -> str:
    return "$." + ".".join(quote(p) for p in path.split("."))


def field_counts(
    con: duckdb.DuckDBPyConnection, spec: StreamSpec, where: str, params: dict
) -> dict[str | None, tuple[int, Counter]]:
    """Per sync id: its new records and how many of them carry each field."""
    keys = [
        ("json_keys(_raw)" if p == "" else f"json_keys(_raw, '{json_path(p)}')", p)
        for p in spec.field_paths
    ]
    # distinct key sets, grouped by their hash: records of a stream share a few shapes
    inner = ", ".join(f"{k} AS k{i}, hash(k{i}) AS h{i}" for i, (k, _) in enumerate(keys))
    hashes = ", ".join(f"h{i}" for i in range(len(keys)))
    sets = ", ".join(f"any_value(k{i})" for i in range(len(keys)))
    sql = (
        f"SELECT _sync_id, {sets}, count(*) FROM (SELECT _sync_id, {inner} "
        f"FROM raw_{spec.source}.{quote(spec.stream)}{' WHERE ' + where if where else ''}) "
        f"GROUP BY _sync_id, {hashes}"
    )
    out: dict[str | None, tuple[int, Counter]] = {}
    for sync_id, *found, n in con.sql(sql, params=params or None).fetchall():
        total, counts = out.get(sync_id, (0, Counter()))
        for (_, prefix), names in zip(keys, found, strict=True):
            for name in names or ():
                counts[f"{prefix}.{name}" if prefix else name] += n
        out[sync_id] = (total + n, counts)
    return out


def field_drift(
    spec: StreamSpec,
    facts: RawTable,
    counts: dict[str | None, tuple[int, Counter]],
    known: dict[str, FieldSeen],
    run_id: str,
    now: datetime,
) -> tuple[list[Finding], dict[str, FieldSeen]]:
    """Findings about fields, and the stream's fields as the store should keep them."""
    suite, table = f"raw.{spec.source}.{spec.stream}", facts.table
    checked = sum(n for n, _ in counts.values())
    seen: Counter = sum((c for _, c in counts.values()), Counter())
    first = {
        f: min((s for s, (_, c) in counts.items() if c[f] and s), key=sync_order, default=None)
        for f in seen
    }
    fields = {f: replace(k, records_checked=k.records_checked + checked) for f, k in known.items()}
    findings: list[Finding] = []
    for name, n in seen.items():
        if name in fields:
            fields[name] = replace(
                fields[name], records_with=fields[name].records_with + n, gone_sync_id=None
            )
            continue
        fields[name] = FieldSeen(first[name], run_id, now, n, checked)
        if known:
            findings.append(_new_field(suite, table, name, first[name], n))
    if not known:
        findings.append(_baseline(suite, table, len(seen), checked))
    latest = facts.latest_sync
    if known and latest in counts:
        findings += _gone(suite, table, known, fields, counts[latest], latest, run_id)
    return findings, fields


def _new_field(suite: str, table: str, name: str, sync_id: str | None, n: int) -> Finding:
    return Finding(
        suite,
        table,
        name,
        "drift: no new field",
        "info",
        False,
        observed=f"new field {name!r} in {n} record(s), first in sync {sync_id}",
        unexpected_count=n,
        kind="drift",
        hint="add it to the stream's typed columns if the warehouse needs it",
    )


def _baseline(suite: str, table: str, fields: int, records: int) -> Finding:
    return Finding(
        suite,
        table,
        None,
        "drift: fields recorded",
        "info",
        True,
        observed=f"baseline: {fields} field(s) over {records} record(s)",
        kind="drift",
    )


def _gone(
    suite: str,
    table: str,
    known: dict[str, FieldSeen],
    fields: dict[str, FieldSeen],
    latest: tuple[int, Counter],
    sync_id: str,
    run_id: str,
) -> list[Finding]:
    n, present = latest
    out = []
    for name, before in known.items():
        if present[name] or before.gone_sync_id or before.share * n < GONE_EXPECTED:
            continue
        fields[name] = replace(fields[name], gone_sync_id=sync_id, gone_run_id=run_id)
        out.append(
            Finding(
                suite,
                table,
                name,
                "drift: no field gone",
                "warning",
                False,
                observed=f"field {name!r} absent from all {n} record(s) of sync {sync_id}; "
                f"it was on {before.share:.0%} of {before.records_checked} earlier record(s)",
                unexpected_count=n,
                kind="drift",
                hint="the source stopped sending it: check what reads it downstream",
            )
        )
    return out


def type_drift(
    con: duckdb.DuckDBPyConnection,
    spec: StreamSpec,
    facts: RawTable,
    where: str,
    params: dict,
    sample_size: int,
) -> list[Finding]:
    """Typed columns NULL where `_raw` holds a value: one finding per column, or one pass."""
    typed = [c for c in spec.columns if c.type.upper() not in UNTYPED]
    if not typed or not spec.record_columns:
        return []
    rows = con.sql(_type_drift_sql(spec, typed, where, sample_size), params=params or None)
    suite, by_name = f"raw.{spec.source}.{spec.stream}", {c.name: c for c in typed}
    failed = [r for r in rows.fetchall() if r[1]]
    if not failed:
        return [
            Finding(
                suite,
                facts.table,
                None,
                "drift: typed columns castable from _raw",
                "critical",
                True,
                observed=f"{len(typed)} typed column(s) over {facts.pending_rows} new rows",
                kind="drift",
            )
        ]
    return [_uncastable(suite, facts, by_name[col], *rest) for col, *rest in failed]


def _type_drift_sql(spec: StreamSpec, typed: list, where: str, sample_size: int) -> str:
    """One JSON parse per row with a NULL typed column: all its paths extracted at once."""
    names = ", ".join(f"'{c.name}'" for c in typed)
    nulls = ", ".join(f"r.{quote(c.name)} IS NULL" for c in typed)
    paths = ", ".join("'" + json_path(c.path).replace("'", "''") + "'" for c in typed)
    any_null = " OR ".join(f"r.{quote(c.name)} IS NULL" for c in typed)
    value = "json_type(v) <> 'NULL' AND NOT (json_type(v) = 'VARCHAR' AND trim(v->>'$') = '')"
    return (
        "SELECT col, count(*), min(sync_id), list(k ORDER BY k)[1:" + str(sample_size) + "], "
        "any_value(v->>'$') FROM (SELECT r._sync_id AS sync_id, "
        f"{record_key(spec.primary_key)} AS k, unnest([{names}]) AS col, "
        f"unnest([{nulls}]) AS is_null, unnest(json_extract(r._raw, [{paths}])) AS v "
        f"FROM raw_{spec.source}.{quote(spec.stream)} r "
        f"WHERE ({any_null}){' AND ' + where if where else ''}) "
        f"WHERE is_null AND {value} GROUP BY col ORDER BY col"
    )


def _uncastable(suite, facts, column, n, first_sync, keys, example) -> Finding:
    return Finding(
        suite,
        facts.table,
        column.name,
        "drift: typed columns castable from _raw",
        "critical",
        False,
        observed=f"{n} record(s) have {column.path} = {example!r} that is not a "
        f"{column.type}; first in sync {first_sync}",
        unexpected_count=n,
        sample_keys=tuple(keys),
        key_columns=facts.key,
        kind="drift",
        hint=f"the source changed the type of {column.path}: fix the column's declared type "
        "in the connector (then --full-refresh the stream) or get the source fixed",
    )
