"""The pipeline DAG through `airflow dags test` (real Airflow on SQLite, real dbt, real
DuckDB): an API outage is retried by Airflow; a broken dbt model fails its own task,
and its retry really rebuilds it once fixed; a model that stays broken publishes
nothing and alerts a (real, local) webhook."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import duckdb
from reliability import elt, elt_env, output, world

from elt import dbt_graph

REPO = Path(__file__).resolve().parents[2]
BROKEN = "dim_campaigns"  # a mart with a downstream (mart_campaign_performance)
SEED = 11


def _project_with_a_broken_model(tmp_path: Path) -> tuple[Path, Path, str]:
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    sql = next(project.rglob(f"{BROKEN}.sql"))
    good = sql.read_text()
    sql.write_text("select error('broken on purpose by the test') as campaign_id\n")
    return project, sql, good


def _tasks(data: Path) -> dict[str, tuple[str, int]]:
    con = sqlite3.connect(data / "airflow" / "airflow.db")
    rows = con.execute(
        "select task_id, state, try_number from task_instance where dag_id = 'saas_elt' and "
        "run_id = (select run_id from dag_run where dag_id = 'saas_elt' order by id desc limit 1)"
    ).fetchall()
    con.close()
    return {t: (s, n) for t, s, n in rows}


def _asset_events(data: Path) -> dict[str, dict]:
    con = sqlite3.connect(data / "airflow" / "airflow.db")
    rows = con.execute(
        "select a.name, e.extra from asset_event e join asset a on a.id = e.asset_id order by e.id"
    ).fetchall()
    con.close()
    return {name: json.loads(extra) for name, extra in rows}


def _fix_when_dbt_has_run(data: Path, sql: Path, good: str, stop: threading.Event) -> None:
    """Like an engineer fixing the model once the build reported it: before Airflow retries."""
    while not stop.is_set():
        if list((data / "warehouse_versions").glob("*.building/dbt_results.json")):
            sql.write_text(good)
            return
        time.sleep(0.05)


def test_an_outage_and_a_broken_model_are_retried_and_the_run_succeeds(tmp_path):
    data = tmp_path / "data"
    project, sql, good = _project_with_a_broken_model(tmp_path)
    stop = threading.Event()
    fixer = threading.Thread(target=_fix_when_dbt_has_run, args=(data, sql, good, stop))
    with world(SEED) as server:
        # every MailChimp request fails until 3 have: more than the client's own retries
        server.set_faults("503", 1.0, seed=1, path_prefix="/3.0", max_count=3)
        env = elt_env(data, server, DBT_PROJECT_DIR=str(project), ELT_RETRY_DELAY="2")
        env["ELT_HTTP_MAX_RETRIES"] = "1"
        fixer.start()
        try:
            proc = elt(env, "run", "--airflow", "--no-mock")
        finally:
            stop.set()
            fixer.join()
    assert proc.returncode == 0, output(proc)
    tasks = _tasks(data)
    assert tasks["extract_mailchimp"] == ("success", 2), tasks
    assert tasks[f"dbt.{BROKEN}"] == ("success", 2), tasks
    # dbt skipped it in the run's build (its parent failed); it then built for real
    assert tasks["dbt.mart_campaign_performance"] == ("success", 1)
    assert tasks["publish"] == ("success", 1)
    # the grid: one task per dbt model, seed and snapshot, every one green
    graph = dbt_graph.load()["nodes"].values()
    nodes = {t: state for t, (state, _) in tasks.items() if t.startswith("dbt.")}
    assert set(nodes) == {f"dbt.{dbt_graph.task_id(n)}" for n in graph}
    assert set(nodes.values()) == {"success"}
    log = (data / "airflow" / "dags_test.log").read_text()
    assert f"model {BROKEN}: error" in log  # try 1 reported dbt's own error
    assert f"model {BROKEN}: success" in log and "retry: rebuilt" in log
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    n = con.execute("select count(*) from marts.mart_campaign_performance").fetchone()[0]
    con.close()
    assert n > 0
    events = _asset_events(data)
    assert events["raw_mailchimp"]["rows"] > 0 and events["raw_hubspot"]["rows"] > 0
    assert events["marts"]["rows_per_table"]["dim_campaigns"] > 0


def test_a_model_that_stays_broken_fails_alone_publishes_nothing_and_alerts(tmp_path, receiver):
    url, got = receiver
    data = tmp_path / "data"
    project, _, _ = _project_with_a_broken_model(tmp_path)
    with world(SEED) as server:
        env = elt_env(
            data,
            server,
            DBT_PROJECT_DIR=str(project),
            ELT_RETRY_DELAY="1",
            ELT_ALERT_WEBHOOK=url,
        )
        proc = elt(env, "run", "--airflow", "--no-mock")
    assert proc.returncode != 0, output(proc)
    tasks = _tasks(data)
    assert tasks[f"dbt.{BROKEN}"] == ("failed", 3), tasks  # two retries, each a real rebuild
    assert tasks["dbt.mart_campaign_performance"][0] == "upstream_failed"
    assert tasks["dbt.fct_deals"][0] == "success"  # other branches are built
    assert tasks["marts_gate"][0] == "upstream_failed"
    assert tasks["publish"][0] == "upstream_failed"
    assert not (data / "warehouse.duckdb").exists(), "a broken build was published"
    failed = [a for a in got if a["task_id"] == f"dbt.{BROKEN}"]
    assert len(failed) == 1, got
    assert failed[0]["dag_id"] == "saas_elt" and failed[0]["try_number"] == 3
    assert "failed" in failed[0]["error"]
