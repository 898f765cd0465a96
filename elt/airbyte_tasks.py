"""The Airflow tasks of `airbyte_elt` before the shared ones (`elt.dag_tasks`): find the
connections `elt airbyte deploy` made, and sync each through the Airbyte provider."""

from __future__ import annotations

import logging

from airflow.providers.airbyte.hooks.airbyte import AirbyteHook
from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator
from airflow.sdk import BaseHook, task
from airflow.sdk.exceptions import AirflowSkipException

from elt import airbyte
from elt.settings import get_settings

log = logging.getLogger("elt.tasks")
AIRBYTE_CONN_ID = "airbyte_default"


@task
def airbyte_connections() -> dict[str, str]:
    """The Airbyte connection per source that `elt airbyte deploy` wrote down; the run is
    skipped, saying why, when no Airbyte is configured for Airflow or nothing deployed."""
    try:
        BaseHook.get_connection(AIRBYTE_CONN_ID)
    except Exception as exc:  # AirflowNotFoundException, or what a secrets backend raises
        raise AirflowSkipException(
            f"no Airflow connection `{AIRBYTE_CONN_ID}` ({type(exc).__name__}): set "
            "AIRFLOW_CONN_AIRBYTE_DEFAULT (docs/airbyte.md) to run the pipeline through Airbyte"
        ) from None
    path = airbyte.connections_file(get_settings(), airbyte.load_settings())
    found = airbyte.read_connections(path)
    missing = [s for s in airbyte.SOURCES if s not in found]
    if missing:
        raise AirflowSkipException(
            f"{path}: no Airbyte connection id for {', '.join(missing)}; run "
            "`elt airbyte deploy` first"
        )
    for source, connection_id in found.items():
        log.info("%s: Airbyte connection %s", source, connection_id)
    return found


class AirbyteSync(AirbyteTriggerSyncOperator):
    """The provider's operator, submitting the sync, then waiting in the task: a retry
    triggers a new sync, and a failed or cancelled job fails the task with its id and
    Airbyte's reason (the provider's own wait reports only the status)."""

    def __init__(self, *, source: str, **kwargs) -> None:
        super().__init__(asynchronous=True, deferrable=False, **kwargs)
        self.source = source

    def execute(self, context) -> dict:
        job_id = int(super().execute(context))  # asynchronous: returns the job id
        hook = AirbyteHook(airbyte_conn_id=self.airbyte_conn_id)
        conn = hook.get_connection(self.airbyte_conn_id)
        cfg = airbyte.load_settings()
        done = airbyte.sync_outcome(hook, conn, job_id, self.source, cfg, log)
        log.info("%s", done["summary"])
        return done


def airbyte_sync(source: str) -> AirbyteSync:
    return AirbyteSync(
        task_id=f"sync_{source}",
        source=source,
        airbyte_conn_id=AIRBYTE_CONN_ID,
        connection_id=f"{{{{ ti.xcom_pull(task_ids='airbyte_connections')['{source}'] }}}}",
    )
