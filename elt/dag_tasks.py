"""The Airflow tasks both pipeline DAGs share: raw gate -> dbt build -> a task per dbt
node -> marts gate -> publish (and our connectors' extract, which `saas_elt` runs first).

`saas_elt` feeds them our connectors' raw files; `airbyte_elt` the tables Airbyte's DuckDB
destination writes. Which one travels in the XComs as `raw_format` (set by `raw_gate`),
so every later task reads the same raw layer with the same settings (`settings_for`).
The logic lives in `elt.stages`; these functions only turn its results into task
outcomes and log lines.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.sdk import TaskGroup, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from elt import alerts, dbt_graph
from elt.assets import MARTS, RAW
from elt.settings import Settings, get_settings

log = logging.getLogger("elt.tasks")


def default_args(settings: Settings) -> dict:
    return {
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=settings.retry_delay_s),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": alerts.on_task_failure,
    }


def settings_for(raw_format: str) -> Settings:
    """The environment's settings, reading the raw layer `raw_format` names."""
    settings = get_settings()
    if settings.raw_format == raw_format:
        return settings
    return settings.model_copy(update={"raw_format": raw_format})


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
    result = stages.extract(get_settings(), source, full_refresh=ctx["params"]["full_refresh"])
    _say(result)
    rows = result.extra["rows"]
    ctx["outlet_events"][RAW[source]].extra = {
        "sync_id": result.extra["sync_id"],
        "rows": sum(rows.values()),
        "rows_per_stream": rows,
    }
    return result.extra


@task(trigger_rule="none_failed")  # a source left out by params is skipped, not failed
def raw_gate(raw_format: str = "native") -> dict:
    from elt import stages
    from elt.publish import new_run_id

    result = stages.gate(settings_for(raw_format), "raw", run_id=new_run_id())
    _say(result)
    if not result.ok:
        raise RuntimeError("raw gate: critical check(s) failed; dbt does not run")
    return {**result.extra, "raw_format": raw_format}


@task
def dbt_build(gated: dict) -> dict:
    from elt import stages

    settings = settings_for(gated["raw_format"])
    params = get_current_context()["params"]
    result = stages.build_for_tasks(
        settings,
        run_id=gated["run_id"],
        select=params.get("dbt_select") or None,
        full_refresh=bool(gated["quarantine_changed"] or params.get("full_refresh")),
        per_node=settings.dbt_tasks == "per_node",
    )
    _say(result)
    if not result.ok:
        raise RuntimeError(f"dbt build: {result.detail}")
    return {**result.extra, "raw_format": gated["raw_format"]}


def _skip_unless_built(built: dict | None) -> dict:
    """`built` is None when dbt_build was skipped (airbyte_elt without Airbyte): then so
    is every task after it (they run on `none_failed`, for dbt_select's sake)."""
    if built is None:
        raise AirflowSkipException("dbt_build did not run: nothing to report or publish")
    return built


@task(trigger_rule="none_failed")  # runs when upstream nodes were left out by dbt_select
def dbt_node(built: dict | None, node_id: str) -> None:
    from elt import stages

    built = _skip_unless_built(built)
    result = stages.build_node(
        settings_for(built["raw_format"]),
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
def marts_gate(built: dict | None) -> dict:
    from pathlib import Path

    from elt import stages

    built = _skip_unless_built(built)
    settings = settings_for(built["raw_format"])
    result = stages.gate(settings, "marts", run_id=built["run_id"], warehouse=Path(built["build"]))
    _say(result)
    if not result.ok:
        _say(stages.discard(settings, run_id=built["run_id"], why="marts gate"))
        raise RuntimeError("marts gate: critical check(s) failed; nothing was published")
    return built


@task(outlets=[MARTS])
def publish(checked: dict) -> None:
    from elt import stages

    settings = settings_for(checked["raw_format"])
    _say(stages.publish(settings, run_id=checked["run_id"]))
    tables = stages.marts_row_counts(settings)
    get_current_context()["outlet_events"][MARTS].extra = {
        "run_id": checked["run_id"],
        "rows": sum(tables.values()),
        "rows_per_table": tables,
    }
    _say(stages.retention(settings))


def transform_and_publish(gated) -> None:
    """dbt (one task, or a task per node when ELT_DBT_TASKS=per_node), the marts gate and
    publish, downstream of a raw gate's output."""
    built = dbt_build(gated)
    last = [built]
    if get_settings().dbt_tasks == "per_node":
        last = _dbt_group(built)
    checked = marts_gate(built)
    last >> checked
    publish(checked)


def _dbt_group(built) -> list:
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
