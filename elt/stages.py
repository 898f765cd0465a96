"""The pipeline's stages as plain functions: what the CLI and the DAG call.

Each stage is idempotent and safe to retry. Stages talk to each other only
through files (the raw DuckDB files, the warehouse), never through memory, so
Airflow can run them in separate processes and retry one alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from connectors.registry import SOURCES
from elt.settings import REPO_ROOT, Settings

DAG_ID = "saas_elt"
REPORT_DAG_ID = "saas_elt_report"
DBT_RESULTS = "dbt_results.json"  # next to each build's warehouse file


@dataclass
class StageResult:
    name: str
    ok: bool
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    report: str = ""  # the stage's own report (e.g. one line per suite), printed first
    extra: dict[str, object] = field(default_factory=dict)  # what the next stage needs

    def summary(self) -> str:
        status = "ok" if self.ok else "FAILED"
        lines = [self.report] if self.report else []
        lines.append(f"{self.name}: {status}" + (f" - {self.detail}" if self.detail else ""))
        lines += [f"  {k:<28} {v:>10,}" for k, v in self.counts.items()]
        return "\n".join(lines)


# --------------------------------------------------------------------------- extract
def extract(
    settings: Settings,
    source: str,
    *,
    full_refresh: bool = False,
    overrides: dict[str, object] | None = None,
) -> StageResult:
    """Run one source's connector into its own raw DuckDB file. `overrides` replace
    fields of the source's config (e.g. the mock APIs' URL and credentials)."""
    from connectors import run_sync

    config = settings.source_config(source, **(overrides or {}))
    with locked(settings, f"extract {source}", exclusive=[f"raw-{source}"]):
        result = run_sync(source, config=config, full_refresh=full_refresh)
    return StageResult(
        f"extract {source}",
        True,
        f"sync {result.sync_id} in {result.seconds:.1f}s",
        report=stream_table(source, result.streams.values()),
        extra={"source": source, "sync_id": result.sync_id, "rows": result.rows_per_stream},
    )


def stream_table(source: str, streams) -> str:
    """This run's work per stream (records read and written, pages, retries, seconds) and
    the table's total rows afterwards."""
    head = (
        f"{'stream':<34} {'mode':<12} {'read':>9} {'written':>9} {'pages':>6} "
        f"{'retries':>7} {'secs':>7} {'table rows':>11}"
    )
    lines = [head, "-" * len(head)]
    for s in streams:
        lines.append(
            f"{source + '.' + s.stream:<34} {s.mode:<12} {s.records_read:>9,} "
            f"{s.records_written:>9,} {s.pages:>6,} {s.retries:>7,} {s.seconds:>7.1f} {s.rows:>11,}"
        )
    return "\n".join(lines)


def source_overrides(env: dict[str, str], source: str) -> dict[str, object]:
    """`<SOURCE>_<FIELD>` entries of `env` as config fields of `source`."""
    prefix = f"{source.upper()}_"
    return {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}


# --------------------------------------------------------------------------- locks
def locked(settings: Settings, what: str, *, exclusive=(), shared=()):
    """Hold the named resources (see `elt.locks`) for a stage, waiting up to ELT_LOCK_WAIT."""
    from elt.locks import hold

    return hold(
        settings.data_dir / "locks",
        exclusive=exclusive,
        shared=shared,
        wait_s=settings.lock_wait_s,
        what=what,
    )


def raw_locks() -> list[str]:
    return [f"raw-{s}" for s in SOURCES]


# --------------------------------------------------------------------------- gates
def gate(
    settings: Settings,
    name: str,
    *,
    run_id: str,
    warehouse: Path | None = None,
    **overrides: object,
) -> StageResult:
    """A quality gate: `raw` (before dbt) or `marts` (a build, or the published warehouse).
    `overrides` tune `quality.QualityConfig` (e.g. all_rows=True)."""
    from elt.gates import run_gate

    with locked(settings, f"{name} gate", exclusive=["quality"], shared=raw_locks()):
        result = run_gate(settings, name, run_id=run_id, warehouse=warehouse, **overrides)
    detail = "critical check(s) failed: nothing downstream runs" if not result.ok else ""
    stage = StageResult(f"{name} gate", result.ok, detail, report=result.summary())
    stage.extra = {"quarantine_changed": result.quarantine_changed, "run_id": run_id}
    return stage


def check(
    settings: Settings, gates: tuple[str, ...] = ("raw", "marts"), *, all_rows: bool = False
) -> StageResult:
    """`elt check`: the gates alone, recorded in the audit; the marts gate reads the
    published warehouse. Publishes nothing. The raw gate validates the rows no passing
    gate has seen; `all_rows` validates every row."""
    from elt.publish import new_run_id

    run_id = new_run_id()
    results = [gate(settings, g, run_id=run_id, all_rows=all_rows) for g in gates]
    ok = all(r.ok for r in results)
    report = "\n".join(r.summary() for r in results)
    return StageResult(f"check ({', '.join(gates)})", ok, "", report=report)


# --------------------------------------------------------------------------- transform
def dbt_command(settings: Settings, *args: str) -> list[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return [
        str(dbt) if dbt.exists() else "dbt",
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target",
        settings.dbt_target,
        "--vars",
        json.dumps(settings.dbt_vars()),
    ]


def _die_with_parent() -> None:
    """In the child, before exec: the kernel SIGKILLs it when its parent dies (Linux), so a
    killed `elt transform` or Airflow task never leaves dbt writing on its own."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_child(cmd: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """A subprocess that dies with us (see `_die_with_parent`)."""
    return subprocess.run(cmd, env=env, check=False, preexec_fn=_die_with_parent, **kwargs)


def _missing_raw(settings: Settings) -> StageResult | None:
    missing = sorted({str(p) for p in settings.raw_files().values() if not p.exists()})
    if not missing:
        return None
    first = "`elt extract`" if settings.raw_format == "native" else "the Airbyte syncs"
    return StageResult(
        "transform (dbt build)",
        False,
        f"raw file(s) missing: {', '.join(missing)}; run {first} first "
        "(dbt ATTACHes them read-only)",
    )


def warehouses(settings: Settings):
    from elt.publish import Warehouses

    return Warehouses(settings.warehouse, keep=settings.keep_warehouses)


def build(
    settings: Settings,
    *,
    run_id: str,
    select: str | None = None,
    full_refresh: bool = False,
    docs: bool = True,
) -> StageResult:
    """`dbt build` (+ `dbt docs generate`) into a new warehouse file for `run_id`.

    The build starts from a copy of the published warehouse (`elt.publish`), so
    nothing a reader sees changes until `publish`. dbt runs in a subprocess that
    dies with this process; its run_results.json, kept next to the build as
    `dbt_results.json`, is the record of what passed (the DAG's per-model tasks
    report from it).
    """
    missing = _missing_raw(settings)
    if missing:
        return missing
    from quality.store import ensure_store

    what = "dbt build"
    with locked(settings, what, exclusive=["warehouse"], shared=[*raw_locks(), "quality"]):
        ensure_store(settings.quality_db)  # dbt ATTACHes it: quarantined records are left out
        target = warehouses(settings).start_build(run_id)
        result = _dbt_build(settings, target, select, full_refresh, docs)
        if result.extra["exit"] in (0, 1):  # dbt ran (1: some nodes failed); fold in its WAL
            warehouses(settings).seal(target)
    result.extra.update(run_id=run_id, build=str(target), full_refresh=full_refresh)
    return result


def build_for_tasks(
    settings: Settings,
    *,
    run_id: str,
    select: str | None,
    full_refresh: bool,
    per_node: bool,
) -> StageResult:
    """The DAG's `dbt_build`: one `dbt build` (no docs: the report DAG makes them). With
    per-node tasks, a failed model is its own task's failure, so this task fails only when
    dbt could not run at all or a test outside every node (a source test) failed."""
    from elt import dbt_graph

    result = build(settings, run_id=run_id, select=select, full_refresh=full_refresh, docs=False)
    if not per_node or result.extra.get("exit") not in (0, 1):
        return result
    results = json.loads(Path(result.extra["build"]).with_name(DBT_RESULTS).read_text())
    outside = dbt_graph.outside_nodes(results, dbt_graph.load()["nodes"])
    failed = [r for r in outside if r["status"] in dbt_graph.FAILED_STATUSES]
    result.ok = not failed
    result.report = "\n".join(
        f"  {r['unique_id']}: {r['status']} - {(r.get('message') or '').strip()[:300]}"
        for r in failed
    )
    if failed:
        result.detail += f"; {len(failed)} source test(s) failed: the models were not built"
    else:
        result.detail += " (each model's own status is in its task in the dbt group)"
    return result


def marts_row_counts(settings: Settings) -> dict[str, int]:
    """Rows per table of the published marts schema (read-only)."""
    import duckdb

    with locked(settings, "marts row counts", shared=["warehouse"]):
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            tables = con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
            return {
                t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for (t,) in tables
            }
        finally:
            con.close()


def build_node(
    settings: Settings, *, run_id: str, node_id: str, try_number: int, full_refresh: bool = False
) -> StageResult:
    """One model, seed or snapshot of run `run_id`'s build, with its tests: what its DAG task
    reports. The first try reports the run's `dbt build`; a node dbt skipped (an upstream
    failed, since retried) and every retry run `dbt build --select <node>` for real, in the
    same build file."""
    from elt import dbt_graph

    node = dbt_graph.load()["nodes"][node_id]
    name = f"{node['resource_type']} {node['name']}"
    target = warehouses(settings).build_path(run_id)
    results = target.with_name(DBT_RESULTS)
    if not results.exists():
        return StageResult(name, False, f"no dbt results for run {run_id} at {results}")
    outcome = dbt_graph.node_outcome(json.loads(results.read_text()), node_id, node)
    if outcome.status == "absent":
        return StageResult(name, True, "not selected in this run", extra={"skipped": True})
    if try_number <= 1 and outcome.status != "skipped":
        return StageResult(name, outcome.status == "success", "", report=outcome.text)
    shared = [*raw_locks(), "quality"]
    with locked(settings, f"dbt build {name}", exclusive=["warehouse"], shared=shared):
        own = results.with_name(f"dbt_results.{node['name']}.try{try_number}.json")
        ran = _dbt_build(settings, target, node["name"], full_refresh, False, own)
        if ran.extra["exit"] in (0, 1):
            warehouses(settings).seal(target)
        mine = json.loads(own.read_text()) if own.exists() else {"results": []}
        _merge_results(results, mine)
    outcome = dbt_graph.node_outcome(mine, node_id, node)
    why = "retry: rebuilt" if try_number > 1 else "upstream was retried: built now"
    return StageResult(name, outcome.status == "success", why, report=outcome.text)


def _merge_results(path: Path, newer: dict) -> None:
    """Fold a node's own `dbt build` results into the run's results file: the run report
    and later tasks see the newest result of every node."""
    merged = json.loads(path.read_text())
    fresh = {r["unique_id"] for r in newer["results"]}
    merged["results"] = [r for r in merged["results"] if r["unique_id"] not in fresh]
    merged["results"] += newer["results"]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged))
    os.replace(tmp, path)


def _stable_build_path(settings: Settings, target: Path) -> Path:
    """The same path for every run's build: `data/dbt/building` is a symlink to this run's
    build folder while dbt runs (we hold the warehouse lock; `_dbt_build` removes it). dbt
    hashes the profile, so a path that changed every run would throw away its partial
    parse and re-parse the whole project."""
    link = settings.dbt_target_dir.parent / "building"
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name("building.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.parent.resolve(), target_is_directory=True)
    os.replace(tmp, link)
    return link / target.name


def _dbt_build(
    settings: Settings,
    target: Path,
    select: str | None,
    full_refresh: bool,
    docs: bool,
    results_to: Path | None = None,
) -> StageResult:
    env = {
        # dbt needs no source credential: keep them out of its process, logs and artifacts
        **{k: v for k, v in os.environ.items() if not k.startswith(_source_prefixes())},
        **settings.dbt_env(),
        "ELT_WAREHOUSE_PATH": str(_stable_build_path(settings, target)),
        "DBT_TARGET_PATH": str(settings.dbt_target_dir),
        "DBT_LOG_PATH": str(settings.dbt_target_dir.parent / "logs"),
    }
    args = ["build"] + (["--select", select] if select else [])
    if full_refresh:
        args.append("--full-refresh")
    (settings.dbt_target_dir / "run_results.json").unlink(missing_ok=True)
    started = time.monotonic()
    try:
        proc = run_child(dbt_command(settings, *args), env)
        # `dbt docs generate` overwrites run_results.json; keep the build's own record.
        results = settings.dbt_target_dir / "run_results.json"
        kept = results_to or target.with_name(DBT_RESULTS)
        if results.exists():
            shutil.copyfile(results, kept)
        counts = _dbt_run_results(kept)
        ok = proc.returncode == 0
        if ok and docs:
            doc = run_child(dbt_command(settings, "docs", "generate"), env, capture_output=True)
            if doc.returncode != 0:
                sys.stderr.write(doc.stdout.decode(errors="replace")[-4000:])
                ok = False
    finally:  # never leave a link that dangles once the build is published or discarded
        Path(env["ELT_WAREHOUSE_PATH"]).parent.unlink(missing_ok=True)
    refresh = " --full-refresh" if full_refresh else ""
    detail = f"dbt build{refresh} exit {proc.returncode} in {time.monotonic() - started:.1f}s"
    return StageResult("transform (dbt build)", ok, detail, counts, extra={"exit": proc.returncode})


def dbt_parse(settings: Settings) -> subprocess.CompletedProcess:
    """`dbt parse`: writes the manifest (no database is touched)."""
    env = {
        **os.environ,
        **settings.dbt_env(),
        "DBT_TARGET_PATH": str(settings.dbt_target_dir),
        "DBT_LOG_PATH": str(settings.dbt_target_dir.parent / "logs"),
    }
    return run_child(dbt_command(settings, "parse"), env)


def publish(settings: Settings, *, run_id: str) -> StageResult:
    """Make run `run_id`'s build the published warehouse (atomic rename; see `elt.publish`)."""
    with locked(settings, "publish", exclusive=["warehouse"]):
        path = warehouses(settings).publish(run_id)
    return StageResult("publish", True, f"{settings.warehouse} is now run {run_id} ({path})")


def discard(settings: Settings, *, run_id: str, why: str) -> StageResult:
    with locked(settings, "discard", exclusive=["warehouse"]):
        kept = warehouses(settings).discard(run_id)
    current = warehouses(settings).current()
    still = f"run {current.run_id}" if current else "nothing published yet"
    return StageResult(
        "publish",
        False,
        f"NOT published ({why}); {settings.warehouse} still holds {still}; "
        f"the rejected build is kept at {kept}",
    )


def transform(
    settings: Settings,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    docs: bool = True,
    run_id: str | None = None,
) -> StageResult:
    """Build a new warehouse, run the marts gate on it, publish it only if the gate passes."""
    from elt.publish import new_run_id

    run_id = run_id or new_run_id()
    built = build(settings, run_id=run_id, select=select, full_refresh=full_refresh, docs=docs)
    if not built.ok:
        if built.extra.get("build"):
            discard(settings, run_id=run_id, why="dbt build failed")
        return built
    checked = gate(settings, "marts", run_id=run_id, warehouse=Path(built.extra["build"]))
    if not checked.ok:
        print(checked.summary())
        out = discard(settings, run_id=run_id, why="the marts gate failed")
        out.counts = built.counts
        return out
    published = publish(settings, run_id=run_id)
    built.report = "\n".join(filter(None, [checked.summary(), published.summary()]))
    return built


def _dbt_run_results(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    results = json.loads(path.read_text())["results"]
    counts: dict[str, int] = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        key = f"dbt {kind} {r['status']}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------- off the path
def docs_dir(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "docs"


def docs_indexes(settings: Settings) -> list[Path]:
    """Newest first: the report DAG's docs, then those of `elt transform`."""
    found = [d / "index.html" for d in (docs_dir(settings), settings.dbt_target_dir)]
    return sorted(found, key=lambda p: p.stat().st_mtime if p.exists() else 0, reverse=True)


def docs(settings: Settings) -> StageResult:
    """`dbt docs generate` for the published warehouse, off the pipeline's critical path:
    on a copy of the published file (dbt-duckdb opens read-write; readers of the published
    file must never be blocked), into its own target dir (data/dbt/docs)."""
    out = docs_dir(settings)
    scratch = out / "scratch" / settings.warehouse.name
    with locked(settings, "dbt docs (copy)", shared=["warehouse"]):
        if not settings.warehouse.exists():
            return StageResult("dbt docs", False, f"nothing published at {settings.warehouse}")
        scratch.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.warehouse, scratch)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(_source_prefixes())},
        **settings.dbt_env(),
        "ELT_WAREHOUSE_PATH": str(scratch),
        "DBT_TARGET_PATH": str(out),
        "DBT_LOG_PATH": str(out.parent / "logs"),
    }
    started = time.monotonic()
    try:
        with locked(settings, "dbt docs", shared=[*raw_locks(), "quality"]):
            proc = run_child(dbt_command(settings, "docs", "generate"), env, capture_output=True)
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.decode(errors="replace")[-4000:])
    took = f"in {time.monotonic() - started:.1f}s"
    return StageResult("dbt docs", proc.returncode == 0, f"{out / 'index.html'} {took}")


def _source_prefixes() -> tuple[str, ...]:
    return tuple(f"{s.upper()}_" for s in SOURCES)


# --------------------------------------------------------------------------- mock APIs
@contextlib.contextmanager
def mock_apis_env(settings: Settings) -> Iterator[dict[str, str]]:
    """Start the mock APIs on a free loopback port; yield env vars pointing at them."""
    from mock_apis.testing import MockServer

    server = MockServer(
        seed=settings.mock_seed,
        scale=settings.mock_scale,
        overlap_rate=settings.mock_overlap_rate,
        dirty_rate=settings.mock_dirty_rate,
    )
    with server:
        yield mock_env(server)


def mock_env(server) -> dict[str, str]:
    """The connectors' variables pointing at a running `MockServer`."""
    return {
        "MAILCHIMP_BASE_URL": f"{server.base_url}/3.0",
        "MAILCHIMP_API_KEY": server.mailchimp_api_key,
        "HUBSPOT_BASE_URL": server.base_url,
        "HUBSPOT_ACCESS_TOKEN": server.hubspot_token,
        # the local mock enforces no HubSpot rate limit: no client-side budget either
        "HUBSPOT_REQUESTS_PER_10S": "0",
        "HUBSPOT_SEARCH_REQUESTS_PER_S": "0",
    }


# --------------------------------------------------------------------------- airflow
AIRFLOW_USER = "admin"


def airflow_url(settings: Settings) -> str:
    host = settings.airflow_api_host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{settings.airflow_api_port}"


def airflow_password_file(settings: Settings) -> Path:
    """Where Airflow's simple auth manager writes the generated password of AIRFLOW_USER."""
    return settings.data_dir / "airflow" / "simple_auth_manager_passwords.json.generated"


def airflow_env(settings: Settings) -> dict[str, str]:
    """Embedded Airflow: SQLite metadata DB and logs under the data dir, our dags/."""
    home = settings.data_dir / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API__HOST": settings.airflow_api_host,
        "AIRFLOW__API__PORT": str(settings.airflow_api_port),
        # Airflow 3 runs every task through the API server's execution API; its URL
        # defaults to :8080 whatever the port, so it must follow AIRFLOW__API__PORT.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{airflow_url(settings)}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{AIRFLOW_USER}:admin",
        "ELT_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
    }


def run_dag_test(
    settings: Settings, extra_env: dict[str, str], dag_id: str = DAG_ID
) -> StageResult:
    """`airflow dags test` a DAG end to end on SQLite."""
    env = {**os.environ, **airflow_env(settings), **extra_env}
    airflow = shutil.which("airflow", path=env["PATH"]) or "airflow"
    started = time.monotonic()
    migrate = subprocess.CompletedProcess([], 0)
    if dag_id != REPORT_DAG_ID:  # the report DAG runs second and finds the DB migrated
        migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True)
    if migrate.returncode != 0:
        sys.stderr.write(migrate.stderr.decode(errors="replace")[-4000:])
        return StageResult("airflow dags test", False, "`airflow db migrate` failed")
    suffix = "" if dag_id == DAG_ID else f"_{dag_id}"
    log_path = settings.data_dir / "airflow" / f"dags_test{suffix}.log"
    print(f"airflow dags test {dag_id}: running (log: {log_path})", flush=True)
    with log_path.open("w") as log:
        proc = subprocess.run(
            [airflow, "dags", "test", dag_id], env=env, check=False, stdout=log, stderr=log
        )
    tries = _last_run_task_tries(settings, dag_id)
    # `dags test` exits 0 even when the run failed: the run's state is the verdict
    ok = proc.returncode == 0 and bool(tries) and "failed" not in _last_run_state(settings, dag_id)
    if not ok:
        sys.stderr.write("".join(log_path.read_text(errors="replace").splitlines(True)[-60:]))
    detail = f"exit {proc.returncode} in {time.monotonic() - started:.1f}s, log {log_path}"
    return StageResult(f"airflow dags test {dag_id}", ok, detail, counts=tries)


def _airflow_db(settings: Settings):
    import sqlite3

    db = settings.data_dir / "airflow" / "airflow.db"
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def _last_run_state(settings: Settings, dag_id: str) -> str:
    import sqlite3

    try:
        con = _airflow_db(settings)
        row = con.execute(
            "select state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        con.close()
    except sqlite3.Error:
        return "unknown"
    return row[0] if row else "none"


def _last_run_task_tries(settings: Settings, dag_id: str = DAG_ID) -> dict[str, int]:
    """Task -> tries of the newest DAG run, from the embedded Airflow's SQLite DB."""
    import sqlite3

    try:
        con = _airflow_db(settings)
        rows = con.execute(
            "select task_id, state, try_number from task_instance where run_id = "
            "(select run_id from dag_run where dag_id = ? order by id desc limit 1) "
            "and dag_id = ? order by start_date",
            (dag_id, dag_id),
        ).fetchall()
        con.close()
    except sqlite3.Error:
        return {}
    return {f"task {task:<40} {state or 'none':<15} tries": tries for task, state, tries in rows}


# --------------------------------------------------------------------------- run all
def run_all(
    settings: Settings, *, via_airflow: bool, start_mock: bool, dag_id: str = DAG_ID
) -> bool:
    """Every stage in order: (mock APIs) -> extract -> raw gate -> build -> marts gate ->
    publish. A failed gate stops the run and leaves the published warehouse as it was.
    Through Airflow, `dag_id` is the pipeline DAG (`airbyte_elt`: Airbyte extracts)."""
    results: list[StageResult] = []
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if start_mock:
            env = stack.enter_context(mock_apis_env(settings))
            print(f"mock APIs serving at {env['HUBSPOT_BASE_URL']}")
        if via_airflow:
            results.append(run_dag_test(settings, env, dag_id))
            if results[-1].ok:  # under a scheduler the marts asset event triggers it
                results.append(run_dag_test(settings, env, REPORT_DAG_ID))
        else:
            results += run_in_process(settings, env)

    ok = all(r.ok for r in results)
    if ok and not via_airflow:  # through Airflow, saas_elt_report writes it
        from elt import report

        report.write(settings)
    for r in results:
        print(r.summary())
    print(pipeline_summary(settings))
    latest = settings.data_dir / "reports" / "latest.html"
    print(f"  run report:       {latest if latest.exists() else '(not written)'}")
    return ok


def run_in_process(settings: Settings, env: dict[str, str]) -> list[StageResult]:
    from elt.publish import new_run_id

    run_id = new_run_id()
    # both sources at once, as the DAG runs them (one raw file each)
    with ThreadPoolExecutor(len(SOURCES), thread_name_prefix="extract") as pool:
        results = list(
            pool.map(lambda s: extract(settings, s, overrides=source_overrides(env, s)), SOURCES)
        )
    raw = gate(settings, "raw", run_id=run_id)
    results.append(raw)
    if raw.ok:
        refresh = bool(raw.extra.get("quarantine_changed"))
        results.append(transform(settings, run_id=run_id, full_refresh=refresh))
        results.append(retention(settings))
    else:
        results.append(StageResult("transform (dbt build)", False, "not run: the raw gate failed"))
    return results


def retention(settings: Settings) -> StageResult:
    """Delete sync-log, audit and released-quarantine rows older than ELT_RETENTION_DAYS."""
    from elt.retention import prune

    counts = prune(settings, locked=locked)
    return StageResult("retention", True, f"older than {settings.retention_days} days", counts)


# --------------------------------------------------------------------------- summary
def layer_row_counts(path: Path) -> dict[str, int]:
    """Rows in the base tables of each schema of a DuckDB file, opened read-only."""
    import duckdb

    if not path.exists():
        return {}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:  # another run is writing it: the summary is no reason to wait
        return {"(locked: another run is writing it)": 0}
    try:
        # Base tables only: warehouse views reference raw files ATTACHed by dbt.
        tables = con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            "and table_name not like '\\_%' escape '\\'"
        ).fetchall()
        counts: dict[str, int] = {}
        for catalog, schema, table in tables:
            n = con.execute(f'select count(*) from "{catalog}"."{schema}"."{table}"').fetchone()[0]
            counts[schema] = counts.get(schema, 0) + n
        return counts
    finally:
        con.close()


def last_gate_runs(settings: Settings) -> list[tuple]:
    """The newest run of each gate from the quality store (read-only)."""
    if not settings.quality_db.exists():
        return []
    import duckdb

    from elt.errors import Busy
    from elt.locks import hold

    try:
        with hold(settings.data_dir / "locks", shared=["quality"], wait_s=2, what="summary"):
            return _gate_runs(duckdb.connect(str(settings.quality_db), read_only=True))
    except (Busy, duckdb.IOException):
        return []  # a gate is writing it right now


def _gate_runs(con) -> list[tuple]:
    import duckdb

    try:
        return con.execute(
            "select gate, ok, critical, warnings, run_id from quality.quality.gate_runs "
            "qualify row_number() over (partition by gate order by finished_at desc) = 1 "
            "order by gate desc"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()


def pipeline_summary(settings: Settings) -> str:
    from elt.errors import Busy
    from elt.locks import hold

    lines = ["", "=== pipeline summary ==="]
    for source in SOURCES:
        try:  # a reader of the raw file like any other, but not one worth waiting for
            with hold(
                settings.data_dir / "locks", shared=[f"raw-{source}"], wait_s=2, what="summary"
            ):
                counts = layer_row_counts(settings.raw_path(source))
        except Busy:
            counts = {"(another run is writing it)": 0}
        for schema, n in counts.items():
            lines.append(f"  raw       {schema:<28} {n:>10,} rows")
    for schema, n in layer_row_counts(settings.warehouse).items():
        lines.append(f"  warehouse {schema:<28} {n:>10,} rows")
    current = warehouses(settings).current()
    if current:  # the published build's own dbt results
        for k, v in _dbt_run_results(current.path.with_name(DBT_RESULTS)).items():
            lines.append(f"  {k:<38} {v:>10,}")
    lines.append(f"  raw files:        {settings.raw_dir}")
    run = f" (published run {current.run_id})" if current else " (nothing published)"
    lines.append(f"  warehouse file:   {settings.warehouse}{run}")
    lines.append(f"  quality store:    {settings.quality_db} (audit, quarantine)")
    index = next((i for i in docs_indexes(settings) if i.exists()), None)
    lines.append(f"  dbt docs:         {index or '(not generated)'}")
    for gate_name, ok, critical, warnings, run_id in last_gate_runs(settings):
        verdict = "passed" if ok else "FAILED"
        lines.append(
            f"  {gate_name} gate (run {run_id}): {verdict}, {critical} critical, "
            f"{warnings} warning(s)"
        )
    qindex = settings.quality_docs_dir / "index.html"
    qdocs = qindex if qindex.exists() else "(not generated)"
    lines.append(f"  data-quality docs: {qdocs}")
    return "\n".join(lines)
