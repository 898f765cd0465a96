"""Every DAG file imports cleanly, is tagged, retries, and wires the stages in order."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory, monkeypatch_module):
    home = tmp_path_factory.mktemp("airflow_home")
    monkeypatch_module.setenv("AIRFLOW_HOME", str(home))
    monkeypatch_module.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch_module.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= 1


def test_every_dag_file_is_found_by_the_scheduler_heuristic():
    # Airflow silently skips files that mention neither "airflow" nor "dag".
    for path in DAGS_DIR.glob("*.py"):
        text = path.read_text().lower()
        assert "airflow" in text and "dag" in text, path


def test_every_dag_has_tags_docs_owner_retries_and_alerts(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.max_active_runs == 1, dag_id
        for t in dag.tasks:
            assert t.owner == "data-platform", f"{dag_id}.{t.task_id} has no owner"
            assert t.retries >= 1, f"{dag_id}.{t.task_id} does not retry"
            assert t.on_failure_callback, f"{dag_id}.{t.task_id} alerts nobody"


def test_filling_the_dagbag_again_is_fast_enough_to_measure_in_the_bench(dagbag):
    # the bench measures it; here only that every file is found and parsed each time
    from airflow.dag_processing.dagbag import DagBag

    again = DagBag(dag_folder=str(DAGS_DIR))
    assert set(again.dags) == set(dagbag.dags) == {"saas_elt", "saas_elt_report", "airbyte_elt"}


def test_pipeline_dag_gates_raw_then_builds_then_gates_marts_then_publishes(dagbag):
    dag = dagbag.dags["saas_elt"]
    ids = {t.task_id for t in dag.tasks if not t.task_id.startswith("dbt.")}
    assert ids == {
        "extract_mailchimp",
        "extract_hubspot",
        "raw_gate",
        "dbt_build",
        "marts_gate",
        "publish",
    }
    assert dag.get_task("extract_mailchimp").upstream_task_ids == set()
    assert dag.get_task("extract_hubspot").upstream_task_ids == set()
    assert dag.get_task("raw_gate").upstream_task_ids == {"extract_mailchimp", "extract_hubspot"}
    assert dag.get_task("dbt_build").upstream_task_ids == {"raw_gate"}
    assert dag.get_task("publish").upstream_task_ids == {"marts_gate"}


def test_every_dbt_model_seed_and_snapshot_is_a_task_wired_as_dbt_wires_it(dagbag):
    from elt import dbt_graph

    dag = dagbag.dags["saas_elt"]
    graph = dbt_graph.load()["nodes"]
    kinds = {n["resource_type"] for n in graph.values()}
    assert kinds == {"model", "seed", "snapshot"}
    assert sum(n["resource_type"] == "model" for n in graph.values()) >= 30
    tid = {uid: f"dbt.{dbt_graph.task_id(n)}" for uid, n in graph.items()}
    in_dag = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert in_dag == set(tid.values())
    children = {p for n in graph.values() for p in n["depends_on"]}
    for uid, node in graph.items():
        task = dag.get_task(tid[uid])
        assert task.upstream_task_ids == {"dbt_build", *(tid[p] for p in node["depends_on"])}
        assert task.trigger_rule == "none_failed"  # a node left out by dbt_select is skipped
    leaves = {tid[uid] for uid in graph if uid not in children}
    assert dag.get_task("marts_gate").upstream_task_ids == {"dbt_build", *leaves}


def test_dbt_graph_file_matches_the_dbt_project(tmp_path):
    """dags/dbt_graph.json is what the DAG draws; it must be today's project (`elt dbt-graph`)."""
    import json
    import os
    import subprocess
    import sys

    from elt import dbt_graph

    env = {**os.environ, "ELT_DATA_DIR": str(tmp_path)}
    dbt = str(Path(sys.executable).with_name("dbt"))
    project = DAGS_DIR.parent / "dbt_project"
    target = tmp_path / "target"
    proc = subprocess.run(
        [dbt, "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**env, "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(tmp_path / "logs")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    fresh = dbt_graph.export(json.loads((target / "manifest.json").read_text()))
    assert fresh["nodes"] == dbt_graph.load()["nodes"], (
        "dags/dbt_graph.json is stale: run `elt dbt-graph` and commit it"
    )


def test_assets_raw_per_source_and_marts_drive_the_report_dag(dagbag):
    from elt.assets import MARTS, RAW

    dag = dagbag.dags["saas_elt"]
    for source, asset in RAW.items():
        assert dag.get_task(f"extract_{source}").outlets == [asset]
    assert MARTS in dag.get_task("publish").outlets
    report = dagbag.dags["saas_elt_report"]
    assert list(report.timetable.asset_condition.objects) == [MARTS]
    assert {t.task_id for t in report.tasks} == {"dbt_docs", "run_report"}


def test_params_default_to_the_whole_pipeline_and_reject_nonsense(dagbag):
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["saas_elt"].params
    defaults = params.validate()
    assert defaults == {
        "full_refresh": False,
        "sources": ["mailchimp", "hubspot"],
        "dbt_select": None,
    }
    for bad in (
        {"sources": ["salesforce"]},
        {"sources": []},
        {"full_refresh": "yes"},
        {"dbt_select": "marts; rm -rf /"},
    ):
        with pytest.raises(ParamValidationError):
            trial = ParamsDict(params)
            for k, v in bad.items():
                trial[k] = v
            trial.validate()
