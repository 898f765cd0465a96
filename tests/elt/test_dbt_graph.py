"""dags/dbt_graph.json from a manifest, and what a node's task reports from run_results."""

from __future__ import annotations

from elt import dbt_graph

P = "proj"


def _node(kind: str, name: str, *parents: str) -> dict:
    return {
        "unique_id": f"{kind}.{P}.{name}",
        "resource_type": kind,
        "name": name,
        "package_name": P,
        "depends_on": {"nodes": list(parents)},
    }


MANIFEST = {
    "metadata": {"project_name": P},
    "nodes": {
        n["unique_id"]: n
        for n in (
            _node("model", "dim", f"model.{P}.stg", f"seed.{P}.codes"),
            _node("model", "stg"),  # a model on sources only
            _node("seed", "codes"),
            _node("snapshot", "snap", f"model.{P}.stg"),
            _node("test", "not_null_stg_id.ab12", f"model.{P}.stg"),
            _node("test", "relationships_dim_stg.cd34", f"model.{P}.stg", f"model.{P}.dim"),
            _node("test", "source_not_null_raw_id.ef56"),  # on a source: no node reports it
            _node("analysis", "adhoc", f"model.{P}.dim"),
        )
    },
    "unit_tests": {
        f"unit_test.{P}.dim.test_dim": {
            "unique_id": f"unit_test.{P}.dim.test_dim",
            "depends_on": {"nodes": [f"model.{P}.dim"]},
        }
    },
}


def test_export_keeps_buildable_nodes_in_build_order_with_their_tests():
    nodes = dbt_graph.export(MANIFEST)["nodes"]
    order = list(nodes)
    assert set(order) == {
        f"model.{P}.dim",
        f"model.{P}.stg",
        f"seed.{P}.codes",
        f"snapshot.{P}.snap",
    }
    assert order.index(f"model.{P}.stg") < order.index(f"model.{P}.dim")
    assert order.index(f"seed.{P}.codes") < order.index(f"model.{P}.dim")
    assert nodes[f"model.{P}.stg"]["tests"] == [f"test.{P}.not_null_stg_id.ab12"]
    # a test on two models belongs to the one built last
    assert nodes[f"model.{P}.dim"]["tests"] == [
        f"test.{P}.relationships_dim_stg.cd34",
        f"unit_test.{P}.dim.test_dim",
    ]
    assert dbt_graph.task_id(nodes[f"seed.{P}.codes"]) == "seed_codes"
    assert dbt_graph.task_id(nodes[f"model.{P}.dim"]) == "dim"


def _results(**status: str) -> dict:
    return {
        "results": [
            {"unique_id": uid, "status": s, "execution_time": 0.5, "message": f"{s} msg"}
            for uid, s in status.items()
        ]
    }


def test_a_node_reports_its_own_status_and_its_tests():
    nodes = dbt_graph.export(MANIFEST)["nodes"]
    stg, dim = f"model.{P}.stg", f"model.{P}.dim"
    test_stg = f"test.{P}.not_null_stg_id.ab12"
    ok = dbt_graph.node_outcome(_results(**{stg: "success", test_stg: "pass"}), stg, nodes[stg])
    assert ok.status == "success"
    assert "model stg: success in 0.50s" in ok.text and "1 pass" in ok.text

    failed_test = _results(**{stg: "success", test_stg: "fail"})
    out = dbt_graph.node_outcome(failed_test, stg, nodes[stg])
    assert out.status == "failed" and "not_null_stg_id: fail" in out.text

    warned = dbt_graph.node_outcome(_results(**{stg: "success", test_stg: "warn"}), stg, nodes[stg])
    assert warned.status == "success"

    broken = dbt_graph.node_outcome(_results(**{dim: "error"}), dim, nodes[dim])
    assert broken.status == "failed" and "error msg" in broken.text
    assert dbt_graph.node_outcome(_results(**{dim: "skipped"}), dim, nodes[dim]).status == "skipped"
    assert dbt_graph.node_outcome(_results(), dim, nodes[dim]).status == "absent"


def test_source_tests_are_the_ones_outside_every_node():
    nodes = dbt_graph.export(MANIFEST)["nodes"]
    src = f"test.{P}.source_not_null_raw_id.ef56"
    results = _results(**{src: "fail", f"model.{P}.stg": "success"})
    assert [r["unique_id"] for r in dbt_graph.outside_nodes(results, nodes)] == [src]
