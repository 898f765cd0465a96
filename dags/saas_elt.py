"""
### saas_elt — MailChimp + HubSpot into one customer view

Extract both SaaS sources in parallel (each connector writes its own raw DuckDB
file, so they never contend for a lock), gate the raw layer (records that fail
are quarantined; a critical failure stops the run), build a new warehouse file
with dbt, gate the marts on it, and only then publish it (an atomic rename:
readers see the old marts or the new). Every task is idempotent: connectors
merge on primary keys and commit their cursor with the rows, a build starts
from a copy of the published warehouse, gates only read and record.

Configuration comes from the environment through `elt.settings` (see
`.env.example`); this file holds no logic of its own.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from elt.stages import SOURCES

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="saas_elt",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["elt", "mailchimp", "hubspot", "dbt", "great-expectations"],
)
def saas_elt():
    @task
    def extract(source: str) -> dict[str, int]:
        from elt import stages
        from elt.settings import get_settings

        result = stages.extract(get_settings(), source)
        print(result.summary())
        return result.counts

    @task(task_id="raw_gate")
    def raw_gate() -> dict:
        from elt import stages
        from elt.publish import new_run_id
        from elt.settings import get_settings

        result = stages.gate(get_settings(), "raw", run_id=new_run_id())
        print(result.summary())
        if not result.ok:
            raise RuntimeError("raw gate: critical check(s) failed; dbt does not run")
        return result.extra

    @task(task_id="dbt_build")
    def dbt_build(gated: dict) -> dict:
        from elt import stages
        from elt.settings import get_settings

        refresh = bool(gated["quarantine_changed"])
        result = stages.build(get_settings(), run_id=gated["run_id"], full_refresh=refresh)
        print(result.summary())
        if not result.ok:
            raise RuntimeError(f"dbt build failed: {result.detail}")
        return result.extra

    @task(task_id="marts_gate")
    def marts_gate(built: dict) -> dict:
        from pathlib import Path

        from elt import stages
        from elt.settings import get_settings

        settings = get_settings()
        result = stages.gate(
            settings, "marts", run_id=built["run_id"], warehouse=Path(built["build"])
        )
        print(result.summary())
        if not result.ok:
            print(stages.discard(settings, run_id=built["run_id"], why="marts gate").summary())
            raise RuntimeError("marts gate: critical check(s) failed; nothing was published")
        return built

    @task(task_id="publish")
    def publish(checked: dict) -> None:
        from elt import stages
        from elt.settings import get_settings

        settings = get_settings()
        print(stages.publish(settings, run_id=checked["run_id"]).summary())
        print(stages.retention(settings).summary())

    extracts = [extract.override(task_id=f"extract_{s}")(s) for s in SOURCES]
    gated = raw_gate()
    extracts >> gated
    publish(marts_gate(dbt_build(gated)))


saas_elt()
