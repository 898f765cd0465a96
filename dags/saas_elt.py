"""
### saas_elt — MailChimp + HubSpot into one customer view

Extract both SaaS sources in parallel (each connector writes its own raw DuckDB
file, so they never contend for a lock), gate the raw layer (records that fail
are quarantined; a critical failure stops the run), build a new warehouse file
with dbt, gate the marts on it, and only then publish it (an atomic rename:
readers see the old marts or the new).

**dbt in the graph.** `dbt_build` runs one `dbt build` into this run's private
warehouse file; then each model, seed and snapshot is a task of the `dbt` group
(drawn from `dags/dbt_graph.json`, in dependency order) that reports its own
status, time and tests. A failed model fails its task and its downstream are not
run; **clearing or retrying that task rebuilds that model for real**
(`dbt build --select <model>` in the same file), and the downstream then build.

**Params** (Trigger DAG w/ config): `full_refresh` (re-read the sources whole and
rebuild incremental models), `sources` (which to extract), `dbt_select` (a dbt
selector; empty = everything).

**Assets**: each source's raw layer (`raw_mailchimp`, `raw_hubspot`) and the
published `marts`, with row counts as event metadata; `saas_elt_report` runs on
every `marts` update. A failed task POSTs an alert to `ELT_ALERT_WEBHOOK` if set.

Configuration comes from the environment through `elt.settings` (see
`.env.example`); the logic lives in `elt.stages`: this file only wires it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pendulum
from airflow.sdk import Param, TaskGroup, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from elt import alerts, dbt_graph
from elt.assets import MARTS, RAW
from elt.settings import get_settings
from elt.stages import DAG_ID, SOURCES

SETTINGS = get_settings()
log = logging.getLogger("saas_elt")
DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=SETTINGS.retry_delay_s),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": alerts.on_task_failure,
}
PARAMS = {
    "full_refresh": Param(
        False, type="boolean", description="Re-read every stream whole; rebuild incremental models."
    ),
    "sources": Param(
        list(SOURCES),
        type="array",
        items={"type": "string", "enum": list(SOURCES)},
        minItems=1,
        uniqueItems=True,
        description="Sources to extract this run (the others keep their raw data).",
    ),
    "dbt_select": Param(
        None,
        type=["null", "string"],  # a typed param without "null" is a required field in the UI
        maxLength=500,
        pattern=r"^[A-Za-z0-9_.:+*@,/ -]*$",
        description="dbt node selection, e.g. `marts` or `+mart_campaign_performance`; "
        "empty builds everything.",
    ),
}


def _say(result) -> None:
    """Each line through the task's logger: it lands in the task's own log group in order
    (stdout is read asynchronously and can end up under "Post Execute")."""
    for line in result.summary().splitlines():
        log.info("%s", line)


@task
def extract(source: str) -> dict:
    from elt import stages

    ctx = get_current_context()
    if source not in ctx["params"]["sources"]:
        raise AirflowSkipException(f"{source} not in params.sources")
    result = stages.extract(SETTINGS, source, full_refresh=ctx["params"]["full_refresh"])
    _say(result)
    rows = result.extra["rows"]
    ctx["outlet_events"][RAW[source]].extra = {
        "sync_id": result.extra["sync_id"],
        "rows": sum(rows.values()),
        "rows_per_stream": rows,
    }
    return result.extra


@task(trigger_rule="none_failed")  # a source left out by params is skipped, not failed
def raw_gate() -> dict:
    from elt import stages
    from elt.publish import new_run_id

    result = stages.gate(SETTINGS, "raw", run_id=new_run_id())
    _say(result)
    if not result.ok:
        raise RuntimeError("raw gate: critical check(s) failed; dbt does not run")
    return result.extra


@task
def dbt_build(gated: dict) -> dict:
    from elt import stages

    params = get_current_context()["params"]
    result = stages.build_for_tasks(
        SETTINGS,
        run_id=gated["run_id"],
        select=params["dbt_select"] or None,
        full_refresh=bool(gated["quarantine_changed"] or params["full_refresh"]),
        per_node=SETTINGS.dbt_tasks == "per_node",
    )
    _say(result)
    if not result.ok:
        raise RuntimeError(f"dbt build: {result.detail}")
    return result.extra


@task(trigger_rule="none_failed")  # runs when upstream nodes were left out by dbt_select
def dbt_node(built: dict, node_id: str) -> None:
    from elt import stages

    result = stages.build_node(
        SETTINGS,
        run_id=built["run_id"],
        node_id=node_id,
        try_number=get_current_context()["ti"].try_number,
        full_refresh=built["full_refresh"],
    )
    _say(result)
    if result.extra.get("skipped"):
        raise AirflowSkipException(result.detail)
    if not result.ok:
        raise RuntimeError(f"{result.name} failed; its downstream models do not run")


@task(trigger_rule="none_failed")
def marts_gate(built: dict) -> dict:
    from pathlib import Path

    from elt import stages

    result = stages.gate(SETTINGS, "marts", run_id=built["run_id"], warehouse=Path(built["build"]))
    _say(result)
    if not result.ok:
        _say(stages.discard(SETTINGS, run_id=built["run_id"], why="marts gate"))
        raise RuntimeError("marts gate: critical check(s) failed; nothing was published")
    return built


@task(outlets=[MARTS])
def publish(checked: dict) -> None:
    from elt import stages

    _say(stages.publish(SETTINGS, run_id=checked["run_id"]))
    tables = stages.marts_row_counts(SETTINGS)
    get_current_context()["outlet_events"][MARTS].extra = {
        "run_id": checked["run_id"],
        "rows": sum(tables.values()),
        "rows_per_table": tables,
    }
    _say(stages.retention(SETTINGS))


@dag(
    dag_id=DAG_ID,
    schedule=SETTINGS.airflow_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one run at a time; the stages also queue on file locks
    is_paused_upon_creation=False,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    doc_md=__doc__,
    tags=["elt", "mailchimp", "hubspot", "dbt", "great-expectations"],
)
def saas_elt():
    extracts = [extract.override(task_id=f"extract_{s}", outlets=[RAW[s]])(s) for s in SOURCES]
    gated = raw_gate()
    extracts >> gated
    built = dbt_build(gated)
    last = [built]
    if SETTINGS.dbt_tasks == "per_node":
        last = _dbt_group(dbt_node, built)
    checked = marts_gate(built)
    last >> checked
    publish(checked)


def _dbt_group(dbt_node, built) -> list:
    """One task per dbt model/seed/snapshot, wired as dbt's own graph; returns the leaves."""
    graph = dbt_graph.load()["nodes"]
    tasks = {}
    with TaskGroup("dbt", tooltip="one task per dbt model, seed and snapshot, with its tests"):
        for uid, node in graph.items():  # build order: parents first
            t = dbt_node.override(task_id=dbt_graph.task_id(node), doc_md=node["resource_type"])(
                built, uid
            )
            for parent in node["depends_on"]:
                tasks[parent] >> t
            tasks[uid] = t
    children = {p for n in graph.values() for p in n["depends_on"]}
    return [t for uid, t in tasks.items() if uid not in children]


saas_elt()
