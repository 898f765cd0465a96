"""The whole pipeline, end to end, as `make demo` runs it: mock APIs -> both
connectors -> dbt build -> Great Expectations, orchestrated by `airflow dags test`
on SQLite. Nothing is mocked but the SaaS vendors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ELT = str(Path(sys.executable).with_name("elt"))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e-data")
    env = {
        **os.environ,
        "ELT_DATA_DIR": str(data),
        "MOCK_SCALE": "0.05",
        "MOCK_SEED": "7",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    env.pop("AIRFLOW_HOME", None)  # the pipeline sets up its own under ELT_DATA_DIR
    proc = subprocess.run(
        [ELT, "run", "--airflow"], env=env, capture_output=True, text=True, timeout=900
    )
    return data, proc


def test_demo_pipeline_exits_zero_and_prints_the_summary(demo_run):
    _, proc = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "=== pipeline summary ===" in proc.stdout
    assert "MISSING stage" not in proc.stdout


def test_demo_pipeline_lands_rows_in_every_layer(demo_run):
    data, proc = demo_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    for source, table in (("mailchimp", "members"), ("hubspot", "contacts")):
        con = duckdb.connect(str(data / "raw" / f"{source}.duckdb"), read_only=True)
        n = con.execute(f"select count(*) from raw_{source}.{table}").fetchone()[0]
        con.close()
        assert n > 0, f"raw_{source}.{table} is empty"
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    people = con.execute(
        "select count(*) from information_schema.tables where table_name = 'dim_contacts'"
    ).fetchone()[0]
    assert people == 1
    schema = con.execute(
        "select table_schema from information_schema.tables where table_name = 'dim_contacts'"
    ).fetchone()[0]
    assert con.execute(f"select count(*) from {schema}.dim_contacts").fetchone()[0] > 0
    con.close()


def test_demo_pipeline_writes_dbt_docs_and_quality_docs(demo_run):
    data, proc = demo_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (data / "quality_docs").exists()
    assert "dbt docs:" in proc.stdout and "(not generated)" not in proc.stdout
