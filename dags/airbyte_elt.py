"""
### airbyte_elt — the same warehouse, with Airbyte doing the extract

For teams that run Airbyte: `elt airbyte deploy` registers our connectors there
(docs/airbyte.md) and writes down one connection per source. This DAG triggers
each connection's sync through the Airbyte provider (the `airbyte-api` SDK) and
waits for the job in the same task (a retry is a new sync; a failed or
cancelled job fails the task with the job id and Airbyte's reason). Then it
runs the same raw gate, dbt (a task per model), marts gate and publish as
`saas_elt`, on the tables Airbyte's DuckDB destination wrote
(`raw_format: airbyte`: `_airbyte_extracted_at`, `_airbyte_meta`'s sync id and
the typed columns map onto the raw contract).

Skipped, saying why, unless Airflow has an Airbyte connection
(`AIRFLOW_CONN_AIRBYTE_DEFAULT`) and the deploy wrote the connection ids.
Manual by default (`AIRBYTE_DAG_SCHEDULE`, e.g. `@hourly`).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from elt.airbyte_tasks import airbyte_connections, airbyte_sync
from elt.dag_tasks import default_args, raw_gate, transform_and_publish
from elt.settings import get_settings
from elt.stages import SOURCES

SETTINGS = get_settings()


@dag(
    dag_id="airbyte_elt",
    schedule=SETTINGS.airbyte_dag_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    default_args=default_args(SETTINGS),
    doc_md=__doc__,
    tags=["elt", "airbyte", "dbt", "great-expectations"],
)
def airbyte_elt():
    syncs = [airbyte_sync(source) for source in SOURCES]
    airbyte_connections() >> syncs
    gated = raw_gate.override(trigger_rule="all_success")("airbyte")
    syncs >> gated
    transform_and_publish(gated)


airbyte_elt()
