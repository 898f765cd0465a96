"""
### saas_elt_report — after every marts update: dbt docs and the run report

Scheduled on the Airflow asset `marts`, which the `publish` task of `saas_elt`
updates (its event carries the run id and rows per marts table). Off the
pipeline's critical path: generating dbt docs takes tens of seconds and nobody
waits for it before the marts are usable.

- `dbt_docs`: `dbt docs generate` on a copy of the published warehouse
  (`data/dbt/docs/index.html`).
- `run_report`: the static HTML run report (`data/reports/latest.html`).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from elt import alerts
from elt.assets import MARTS
from elt.settings import get_settings

SETTINGS = get_settings()


@dag(
    dag_id="saas_elt_report",
    schedule=[MARTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    default_args={
        "owner": "data-platform",
        "retries": 1,
        "retry_delay": timedelta(seconds=SETTINGS.retry_delay_s),
        "on_failure_callback": alerts.on_task_failure,
    },
    doc_md=__doc__,
    tags=["elt", "report", "dbt-docs"],
)
def saas_elt_report():
    @task
    def dbt_docs() -> None:
        from elt import stages

        result = stages.docs(SETTINGS)
        print(result.summary(), flush=True)
        if not result.ok:
            raise RuntimeError(f"dbt docs generate failed: {result.detail}")

    @task
    def run_report() -> str:
        from elt import report

        events = get_current_context()["triggering_asset_events"].get(MARTS, [])
        run_id = events[-1].extra.get("run_id") if events else None
        path = report.write(SETTINGS, run_id=run_id)
        print(f"run report: {path}", flush=True)
        return str(path)

    dbt_docs() >> run_report()


saas_elt_report()
