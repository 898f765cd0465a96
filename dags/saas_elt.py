"""
### saas_elt — MailChimp + HubSpot into one customer view

Extract both SaaS sources in parallel (each connector writes its own raw DuckDB
file, so they never contend for a lock), build the warehouse with dbt, then run
the Great Expectations checks. Every task is idempotent: connectors merge on
primary keys and commit their cursor with the rows, dbt models are rebuilt or
merged, checks only read.

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

    @task(task_id="dbt_build")
    def dbt_build() -> dict[str, int]:
        from elt import stages
        from elt.settings import get_settings

        result = stages.transform(get_settings())
        print(result.summary())
        if not result.ok:
            raise RuntimeError(f"dbt build failed: {result.detail}")
        return result.counts

    @task(task_id="quality_checks")
    def quality_checks() -> dict[str, int]:
        from elt import stages
        from elt.settings import get_settings

        result = stages.check(get_settings())
        print(result.summary())
        if not result.ok:
            raise RuntimeError("data-quality checks failed; see the data docs for details")
        return result.counts

    extracts = [extract.override(task_id=f"extract_{s}")(s) for s in SOURCES]
    extracts >> dbt_build() >> quality_checks()


saas_elt()
