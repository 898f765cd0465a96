"""Quality gates benchmark: each gate's wall time against the same checks as plain DuckDB SQL.

    .venv/bin/python bench/bench_gates.py [--scales 1,10] [--cache /tmp/elt-bench-gates]

Per scale, on a real-shaped mock world (seed 42, default dirty rate), extracted
by the connectors and built by dbt once and cached under --cache (scale 10
takes several minutes the first time):

- raw gate, first run: every row is new (a fresh quality store);
- raw gate, incremental: after a simulated sync that touched ~1% of each large
  stream's rows (and every row of the small full-refresh ones): the
  row-level expectations only see those rows;
- marts gate on the dbt-built warehouse.

For each gate: its wall time (GX already imported), the same gate without GX
suites (its SQL checks: record checks/quarantine, volume, drift, plus the store
and the docs), and the GX expectations rewritten as one DuckDB query per
suite over the same rows (unexpected counts and sample keys, as GX reports
them). Also GX's fixed costs: its import (a fresh interpreter) and the same
suites validated on empty frames (per-expectation overhead, independent of
the data). Target: gate <= 3 x (SQL checks + GX-as-SQL) + GX import.
The load average is printed: on a busy machine the numbers mean little.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from connectors import HubspotConfig, MailchimpConfig, run_sync  # noqa: E402
from elt.gates import quality_config  # noqa: E402
from elt.settings import Settings  # noqa: E402
from mock_apis.testing import MockServer  # noqa: E402
from quality import SUITES, QualityConfig, run_gate  # noqa: E402
from quality.reader import find_schema, quote, read_frame, references  # noqa: E402
from quality.spec import Check, TableSuite  # noqa: E402

DBT = Path(sys.executable).with_name("dbt")
SMALL = 1000  # tables this small are re-read whole by every sync (full-refresh streams)


# --------------------------------------------------------------------------- the world
def ensure_world(cache: Path, scale: float) -> Settings:
    """Raw files and a dbt-built warehouse for `scale`, built once and kept in `cache`."""
    settings = Settings(data_dir=cache / f"scale{scale:g}")
    raw = [settings.raw_path(s) for s in ("mailchimp", "hubspot")]
    if not all(p.exists() for p in raw):
        print(f"scale {scale:g}: extracting the mock world into {settings.raw_dir} ...", flush=True)
        with MockServer(seed=42, scale=scale) as s:
            common = {"http_timeout_s": 60.0}
            run_sync(
                "mailchimp",
                config=MailchimpConfig(
                    api_key=s.mailchimp_api_key, base_url=s.mailchimp_url, raw_path=raw[0], **common
                ),
            )
            run_sync(
                "hubspot",
                config=HubspotConfig(
                    access_token=s.hubspot_token,
                    base_url=s.base_url,
                    raw_path=raw[1],
                    requests_per_10s=0,
                    search_requests_per_s=0,
                    **common,
                ),
            )
    if not settings.warehouse.exists():
        print(f"scale {scale:g}: dbt build into {settings.warehouse} ...", flush=True)
        from quality import ensure_store

        ensure_store(settings.quality_db)  # dbt attaches it
        env = {
            **os.environ,
            **settings.dbt_env(),
            "DBT_TARGET_PATH": str(cache / "dbt_target"),
            "DBT_LOG_PATH": str(cache / "dbt_logs"),
        }
        cmd = [
            str(DBT),
            "build",
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
            "--exclude",
            "test_type:unit",
            "-q",
        ]
        subprocess.run(cmd, env=env, check=True)
    return settings


def simulate_sync(raw_dir: Path, sync_tag: str) -> None:
    """A sync that re-read every row of the small streams and ~1% of the large ones."""
    for source in ("mailchimp", "hubspot"):
        sync_id = f"{sync_tag}-{source}-bench"
        with duckdb.connect(str(raw_dir / f"{source}.duckdb")) as con:
            tables = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                    "AND table_name NOT LIKE '\\_%' ESCAPE '\\'",
                    [f"raw_{source}"],
                ).fetchall()
            ]
            for t in tables:
                table = f"raw_{source}.{quote(t)}"
                n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                where = "" if n <= SMALL else " WHERE hash(rowid) % 100 = 0"
                touched = con.execute(
                    f"UPDATE {table} SET _sync_id = ?, _extracted_at = now(){where}", [sync_id]
                ).fetchall()[0][0]
                mode = "full_refresh" if n <= SMALL else "incremental"
                con.execute(
                    f"INSERT INTO raw_{source}._sync_log VALUES "
                    "(?, ?, ?, ?, ?, 1, 0, now(), now(), 'succeeded', NULL)",
                    [sync_id, t, mode, touched, touched],
                )


# --------------------------------------------------------------------------- GX as SQL
def check_sql(check: Check, key: str, refs: dict, sample: int) -> str:
    """One GX expectation as an aggregate: [unexpected count, sample keys] (or a value)."""
    k = check.kwargs
    col = quote(k["column"]) if "column" in k else None
    cond = _where_sql(check.where)
    values = refs.get(check.values_from) if check.values_from else k.get("value_set")
    kind = check.gx_type
    if kind == "ExpectTableRowCountToBeBetween":
        return "count(*)"
    if kind == "ExpectColumnDistinctValuesToContainSet":
        return f"list_sort(list(DISTINCT {col}))"
    if kind in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        cols = [col] if col else [quote(c) for c in k["column_list"]]
        return f"count(*) OVER (PARTITION BY {', '.join(cols)}) > 1"
    bad = {
        "ExpectColumnValuesToNotBeNull": lambda: f"{col} IS NULL",
        "ExpectColumnValuesToBeInSet": lambda: f"{col} NOT IN ({_values(values)})",
        "ExpectColumnValuesToMatchRegex": lambda: f"NOT regexp_matches({col}, {_lit(k['regex'])})",
        "ExpectColumnValuesToNotMatchRegex": lambda: f"regexp_matches({col}, {_lit(k['regex'])})",
        "ExpectColumnValuesToBeBetween": lambda: _between(col, k["min_value"], k["max_value"]),
    }[kind]()
    return f"count(*) FILTER ({bad}{cond}), list({key}) FILTER ({bad}{cond})[1:{sample}]"


def _lit(v: object) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _values(values: list) -> str:
    return ", ".join(_lit(v) if isinstance(v, str) else str(v) for v in values) or "NULL"


def _between(col: str, low: object, high: object) -> str:
    parts = ([f"{col} < {low}"] if low is not None else []) + (
        [f"{col} > {high}"] if high is not None else []
    )
    return " OR ".join(parts)


def _where_sql(where: tuple | None) -> str:
    if not where:
        return ""
    column, op, value = where
    sql_op = {"==": "=", "in": "IN", "not in": "NOT IN"}.get(op, op)
    return f" AND {quote(column)} {sql_op} {_lit(value) if isinstance(value, str) else value}"


def suites_as_sql(
    con: duckdb.DuckDBPyConnection, suites: list[TableSuite], where: str, sample: int = 5
) -> float:
    """Run every suite's checks as SQL over the rows GX sees; return the seconds."""
    t0 = time.monotonic()
    for suite in suites:
        schema = find_schema(con, suite.table, suite.schema)
        table = f"{quote(schema)}.{quote(suite.table)}"
        key = "concat_ws('|', " + ", ".join(f"CAST({quote(c)} AS VARCHAR)" for c in suite.key) + ")"
        refs = references(con, suite, list(suite.checks))
        row = [c for c in suite.checks if not c.table_level]
        unique = [c for c in row if "Unique" in c.gx_type]
        plain = [c for c in row if c not in unique]
        filt = f" WHERE {where}" if where else ""
        if plain:
            aggs = ", ".join(check_sql(c, key, refs, sample) for c in plain)
            con.execute(f"SELECT {aggs} FROM {table}{filt}").fetchall()
        for c in unique:
            con.execute(
                f"SELECT count(*) FILTER (d), list(k) FILTER (d)[1:{sample}] FROM (SELECT "
                f"{key} AS k, {check_sql(c, key, refs, sample)} AS d FROM {table}{filt})"
            ).fetchall()
        whole = [c for c in suite.checks if c.table_level]
        if whole:
            aggs = ", ".join(check_sql(c, key, refs, sample) for c in whole)
            con.execute(f"SELECT {aggs} FROM {table}").fetchall()
    return time.monotonic() - t0


def gx_as_sql(config: QualityConfig, gate: str, new_sync: str | None) -> float:
    seconds = 0.0
    if gate == "marts":
        with duckdb.connect(str(config.warehouse), read_only=True) as con:
            return suites_as_sql(con, [s for s in SUITES if s.layer == "marts"], "")
    for source, path in config.raw.items():
        where = f"_sync_id = '{new_sync}-{source}-bench'" if new_sync else ""
        with duckdb.connect(str(path), read_only=True) as con:
            suites = [s for s in SUITES if s.layer == "raw" and s.database == source]
            seconds += suites_as_sql(con, suites, where)
    return seconds


# --------------------------------------------------------------------------- GX fixed cost
def gx_import_seconds() -> float:
    code = "import time, logging; t = time.monotonic(); import great_expectations; "
    code += "print(time.monotonic() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def gx_empty_frames_seconds(config: QualityConfig, gate: str) -> float:
    """The same suites on zero-row frames: GX's per-expectation cost, whatever the data."""
    from quality.runner import Validator

    layer = "marts" if gate == "marts" else "raw"
    jobs = []
    paths = {"warehouse": config.warehouse, **config.raw}
    for suite in (s for s in SUITES if s.layer == layer):
        with duckdb.connect(str(paths[suite.database]), read_only=True) as con:
            schema = find_schema(con, suite.table, suite.schema)
            frame = read_frame(con, schema, suite.table, suite.frame_columns(suite.checks), "false")
            jobs.append((suite, frame, references(con, suite, list(suite.checks))))
    validator = Validator()
    t0 = time.monotonic()
    for suite, frame, refs in jobs:
        validator.validate(suite, suite.table, frame, list(suite.checks), refs)
    return time.monotonic() - t0


# --------------------------------------------------------------------------- gates
def timed_gate(config: QualityConfig, gate: str, run_id: str) -> tuple[float, int]:
    t0 = time.monotonic()
    result = run_gate(gate, config, run_id=run_id)
    return time.monotonic() - t0, sum(r.checked or 0 for r in result.suites)


def bench_scale(cache: Path, scale: float, gx_import: float) -> list[tuple]:
    settings = ensure_world(cache, scale)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as tmp:
        work = Path(tmp)
        shutil.copytree(settings.raw_dir, work / "raw", ignore=shutil.ignore_patterns("*.lock"))
        base = quality_config(Settings(data_dir=work), warehouse=settings.warehouse)

        def cfg(name: str, **kw: object) -> QualityConfig:
            return dataclasses.replace(
                base, store=work / f"{name}.duckdb", docs_dir=work / f"docs-{name}", **kw
            )

        no_gx = {"suites": ()}
        for label, gate, new_sync in (
            ("raw, first run", "raw", None),
            ("raw, incremental", "raw", "20991231T000000"),
            ("marts", "marts", None),
        ):
            if new_sync:
                simulate_sync(work / "raw", new_sync)
            seconds, checked = timed_gate(cfg("full"), gate, f"{label}-gx")
            sql_checks, _ = timed_gate(cfg("nogx", **no_gx), gate, f"{label}-sql")
            as_sql = gx_as_sql(base, gate, new_sync)
            fixed = gx_empty_frames_seconds(base, gate)
            rows.append((scale, label, checked, seconds, sql_checks, as_sql, fixed, gx_import))
    return rows


def report(rows: list[tuple]) -> None:
    print()
    head = (
        f"{'scale':>5}  {'gate':<17} {'rows GX saw':>11}  {'gate s':>7}  {'SQL checks':>10}  "
        f"{'GX as SQL':>9}  {'GX part':>7}  {'GX fixed':>8}  {'import':>6}  {'target':>7}  ok"
    )
    print(head)
    print("-" * len(head))
    for scale, label, checked, gate, sql_checks, as_sql, fixed, imp in rows:
        target = 3 * (sql_checks + as_sql) + imp
        print(
            f"{scale:>5g}  {label:<17} {checked:>11,}  {gate:>7.2f}  {sql_checks:>10.2f}  "
            f"{as_sql:>9.2f}  {gate - sql_checks:>7.2f}  {fixed:>8.2f}  {imp:>6.2f}  "
            f"{target:>7.2f}  {'yes' if gate <= target else 'NO'}"
        )
    print(
        "\ngate s: the gate's wall time, GX already imported. SQL checks: the same gate without "
        "GX suites.\nGX as SQL: the GX expectations as DuckDB queries over the same rows. GX "
        "part: gate - SQL checks.\nGX fixed: the same suites on empty frames (per-expectation "
        "overhead). import: `import great_expectations`.\ntarget: 3 x (SQL checks + GX as SQL) "
        "+ import."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "elt-bench-gates"
    )
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPU(s)")
    gx_import = gx_import_seconds()
    print(f"import great_expectations: {gx_import:.2f}s (fresh interpreter)")
    import great_expectations  # noqa: F401  (in-process gates below run with GX imported)

    rows = []
    for scale in (float(s) for s in args.scales.split(",")):
        rows += bench_scale(args.cache, scale, gx_import)
    report(rows)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    from results import record

    figures, anchors = {}, {}
    for scale, label, checked, gate, sql_checks, as_sql, _fixed, imp in rows:
        key = f"scale {scale:g} / {label}"
        figures[key] = {"rows_gx_saw": checked, "gate_s": round(gate, 2)}
        anchors[key] = {
            "sql_checks_s": round(sql_checks, 2),
            "gx_as_sql_s": round(as_sql, 2),
            "target_s": round(3 * (sql_checks + as_sql) + imp, 2),
        }
    record("bench_gates", figures, anchors)


if __name__ == "__main__":
    main()
