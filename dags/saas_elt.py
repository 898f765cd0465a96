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
`.env.example`); the tasks are `elt.dag_tasks` (shared with `airbyte_elt`) and the
logic lives in `elt.stages`: this file only wires them.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from elt.assets import RAW
from elt.dag_tasks import default_args, extract, raw_gate, transform_and_publish
from elt.settings import get_settings
from elt.stages import DAG_ID, SOURCES

SETTINGS = get_settings()
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


@dag(
    dag_id=DAG_ID,
    schedule=SETTINGS.airflow_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one run at a time; the stages also queue on file locks
    is_paused_upon_creation=False,
    default_args=default_args(SETTINGS),
    params=PARAMS,
    doc_md=__doc__,
    tags=["elt", "mailchimp", "hubspot", "dbt", "great-expectations"],
)
def saas_elt():
    extracts = [extract.override(task_id=f"extract_{s}", outlets=[RAW[s]])(s) for s in SOURCES]
    gated = raw_gate("native")
    extracts >> gated
    transform_and_publish(gated)


saas_elt()
