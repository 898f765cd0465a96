"""The Airbyte path end to end, as a team running Airbyte would use it: `elt airbyte
deploy` against a fake of Airbyte's public API, then `elt airbyte run` (the airbyte_elt
DAG through `airflow dags test`, real Airflow, dbt, DuckDB and GX). The fake runs our
connectors through the Airbyte protocol against the mock APIs and writes the tables
Airbyte's DuckDB destination writes; the marts built from them must equal the native
pipeline's on the same world. A failed sync fails its task with the job id and reason,
and nothing is published."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from reliability import elt, elt_env, marts_fingerprint, output, world

from mock_apis.airbyte.testing import fake_airbyte

SEED = 17
REVOKED = "feedfacefeedfacefeedfacefeedface-us21"  # well-formed; the mock refuses it


def _env(data: Path, server, fake, **extra: str) -> dict[str, str]:
    raw = str(data / "airbyte" / "raw.duckdb")
    return elt_env(
        data,
        server,
        AIRBYTE_SERVER_URL=fake.url,
        AIRBYTE_CLIENT_ID=fake.client_id,
        AIRBYTE_CLIENT_SECRET=fake.client_secret,
        AIRBYTE_DESTINATION_PATH=raw,
        AIRBYTE_POLL_S="0.5",
        ELT_AIRBYTE_RAW_PATH=raw,
        ELT_RETRY_DELAY="1",
        AIRFLOW_CONN_AIRBYTE_DEFAULT=json.dumps(
            {
                "conn_type": "airbyte",
                "host": fake.url,
                "login": fake.client_id,
                "password": fake.client_secret,
                "schema": fake.token_url,
            }
        ),
        **extra,
    )


def _tasks(data: Path, dag_id: str = "airbyte_elt") -> dict[str, tuple[str, int]]:
    con = sqlite3.connect(data / "airflow" / "airflow.db")
    rows = con.execute(
        "select task_id, state, try_number from task_instance where dag_id = ? and run_id = "
        "(select run_id from dag_run where dag_id = ? order by id desc limit 1)",
        (dag_id, dag_id),
    ).fetchall()
    con.close()
    return {t: (s, n) for t, s, n in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One world; the native pipeline and the Airbyte one each load it into their own
    data dir, then a third data dir sees a sync that fails."""
    base = tmp_path_factory.mktemp("airbyte-e2e")
    out = {}
    with world(SEED) as server, fake_airbyte(base / "fake") as fake:
        native = elt(elt_env(base / "native", server), "run", "--no-mock")
        out["native"] = (base / "native", native)
        env = _env(base / "airbyte", server, fake)
        out["deploy"] = elt(env, "airbyte", "deploy")
        out["again"] = elt(env, "airbyte", "deploy")
        out["airbyte"] = (base / "airbyte", elt(env, "airbyte", "run"))
        out["connections"] = json.loads((base / "airbyte/airbyte/connections.json").read_text())
        out["jobs"] = [fake.job(j["jobId"]) for j in fake.objects("jobs")]

        # the MailChimp key is revoked: every sync of it fails in the source
        failing = base / "failing"
        env = _env(
            failing,
            server,
            fake,
            AIRBYTE_CONNECTIONS_FILE=str(failing / "c.json"),
            MAILCHIMP_API_KEY=REVOKED,
        )
        deployed = elt(env, "airbyte", "deploy", "--resend-secrets")
        assert deployed.returncode == 0, output(deployed)
        out["failing"] = (failing, elt(env, "airbyte", "run"))
    return out


def test_deploy_then_deploy_again_changes_nothing(runs):
    first, again = runs["deploy"], runs["again"]
    assert first.returncode == 0, output(first)
    assert "7 created" in first.stdout, first.stdout
    assert again.returncode == 0, output(again)
    assert "nothing was changed" in again.stdout, again.stdout
    assert set(runs["connections"]) == {"mailchimp", "hubspot"}


def test_the_airbyte_dag_builds_the_marts_from_airbyte_tables(runs):
    data, proc = runs["airbyte"]
    assert proc.returncode == 0, output(proc)
    tasks = _tasks(data)
    for name in ("airbyte_connections", "sync_mailchimp", "sync_hubspot", "raw_gate", "publish"):
        assert tasks[name] == ("success", 1), tasks
    assert {s for t, (s, _) in tasks.items() if t.startswith("dbt.")} == {"success"}
    # the syncs ran in the fake as Airbyte jobs and wrote the destination file
    done = [j for j in runs["jobs"] if j["job"]["connectionId"] in runs["connections"].values()]
    assert {j["job"]["status"] for j in done} == {"succeeded"}
    assert (data / "airbyte" / "raw.duckdb").exists()
    assert not (data / "raw").exists(), "the Airbyte path must not need our loader's files"
    log = (data / "airflow" / "dags_test_airbyte_elt.log").read_text()
    assert "mailchimp: Airbyte job" in log and "succeeded" in log


def test_the_marts_equal_the_native_pipelines_on_the_same_world(runs):
    native_data, native = runs["native"]
    airbyte_data, airbyte = runs["airbyte"]
    assert native.returncode == 0, output(native)
    assert airbyte.returncode == 0, output(airbyte)
    ours = marts_fingerprint(native_data / "warehouse.duckdb")
    theirs = marts_fingerprint(airbyte_data / "warehouse.duckdb")
    assert ours["fct_email_events"][0] > 0 and ours["dim_contacts"][0] > 0
    assert theirs == ours


def test_a_failed_sync_fails_its_task_with_the_job_id_and_reason(runs):
    data, proc = runs["failing"]
    assert proc.returncode != 0, output(proc)
    tasks = _tasks(data)
    assert tasks["sync_mailchimp"] == ("failed", 3), tasks  # each retry was a new sync
    assert tasks["raw_gate"][0] == "upstream_failed"
    assert tasks["publish"][0] == "upstream_failed"
    assert not (data / "warehouse.duckdb").exists(), "a failed sync was published"
    log = (data / "airflow" / "dags_test_airbyte_elt.log").read_text()
    failed = [line for line in log.splitlines() if "mailchimp: Airbyte job" in line]
    assert failed and all(" failed: " in line for line in failed), failed
    assert "(origin: source)" in failed[-1], failed[-1]  # Airbyte's reason, from the source
    assert len({line.split("Airbyte job ")[1].split()[0] for line in failed}) == 3  # 3 jobs
    assert REVOKED not in log and REVOKED not in proc.stdout + proc.stderr


def test_without_an_airbyte_connection_the_dag_is_skipped_saying_why(tmp_path):
    env = elt_env(tmp_path, None, ELT_RAW_FORMAT="airbyte")
    proc = elt(env, "airbyte", "run")
    tasks = _tasks(tmp_path)
    assert tasks["airbyte_connections"][0] == "skipped", tasks
    assert tasks["publish"][0] == "skipped", tasks
    log = (tmp_path / "airflow" / "dags_test_airbyte_elt.log").read_text()
    assert "AIRFLOW_CONN_AIRBYTE_DEFAULT" in log, output(proc)
