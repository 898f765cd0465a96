"""The dbt project as Airflow draws it: one task per model, seed and snapshot.

`export(manifest)` reduces dbt's manifest.json to what the DAG needs: the nodes
that build something, their dependencies among themselves, and the tests (data
and unit tests) that belong to each. A test belongs to the parent dbt builds last
(a relationships test runs once both sides exist), so every test is reported by
exactly one task. The result is committed as `dags/dbt_graph.json` (`elt
dbt-graph` rewrites it; a test fails when it is stale), so parsing the DAG file
never runs dbt and works on a fresh clone.

`node_outcome(results, node)` reads one `dbt build`'s run_results.json for one
node and its tests: what the node's task reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

BUILDS = ("seed", "snapshot", "model")
GRAPH_FILE = Path(__file__).resolve().parents[1] / "dags" / "dbt_graph.json"
OK_STATUSES = {"success", "pass", "warn", "no-op"}
FAILED_STATUSES = {"error", "fail", "runtime error"}


def export(manifest: dict) -> dict:
    """{"nodes": {unique_id: {name, resource_type, depends_on, tests}}} in build order."""
    project = manifest_project(manifest)
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in BUILDS and n["package_name"] == project
    }
    # sorted: the manifest's node order varies between parses, and a test with two
    # independent parents goes to the one ranked last, so the order must not
    deps = {uid: sorted(d for d in _parents(nodes[uid]) if d in nodes) for uid in sorted(nodes)}
    order = list(TopologicalSorter(deps).static_order())
    rank = {uid: i for i, uid in enumerate(order)}
    tests: dict[str, list[str]] = {uid: [] for uid in nodes}
    checks = [
        *(n for n in manifest["nodes"].values() if n["resource_type"] == "test"),
        *manifest.get("unit_tests", {}).values(),
    ]
    for t in checks:
        parents = [d for d in _parents(t) if d in nodes]
        if parents:
            tests[max(parents, key=rank.__getitem__)].append(t["unique_id"])
    return {
        "nodes": {
            uid: {
                "name": nodes[uid]["name"],
                "resource_type": nodes[uid]["resource_type"],
                "depends_on": deps[uid],
                "tests": sorted(tests[uid]),
            }
            for uid in order
        }
    }


def _parents(node: dict) -> list[str]:
    return (node.get("depends_on") or {}).get("nodes") or []


def manifest_project(manifest: dict) -> str:
    return manifest["metadata"].get("project_name") or next(
        n["package_name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"
    )


def write(manifest_path: Path, out: Path = GRAPH_FILE) -> dict:
    graph = export(json.loads(manifest_path.read_text()))
    out.write_text(json.dumps(graph, indent=1, sort_keys=False) + "\n")
    return graph


def load(path: Path = GRAPH_FILE) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `elt dbt-graph` to write it")
    return json.loads(path.read_text())


def task_id(node: dict) -> str:
    """Model names are unique in a project; seeds and snapshots get their kind as prefix."""
    kind = node["resource_type"]
    return node["name"] if kind == "model" else f"{kind}_{node['name']}"


@dataclass
class NodeOutcome:
    status: str  # success | failed | skipped (dbt skipped it: an upstream failed) | absent
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def node_outcome(results: dict, uid: str, node: dict) -> NodeOutcome:
    """The node's own result and its tests' results from one run_results.json."""
    by_id = {r["unique_id"]: r for r in results.get("results", [])}
    own = by_id.get(uid)
    if own is None:
        return NodeOutcome("absent", [f"{node['resource_type']} {node['name']}: not in this build"])
    lines = [_line(node["resource_type"], node["name"], own)]
    statuses = [own["status"]]
    for test in node["tests"]:
        r = by_id.get(test)
        if r is not None:
            statuses.append(r["status"])
            if r["status"] not in ("pass", "success"):
                name = test.split(".")[-1 if test.startswith("unit_test.") else 2]
                lines.append("  " + _line("test", name, r))
    ran = statuses[1:]
    passed = sum(s == "pass" for s in ran)
    lines.append(f"  tests: {passed} pass, {len(ran) - passed} other, of {len(node['tests'])}")
    if own["status"] == "skipped":  # an upstream failed: its tests' results say nothing
        return NodeOutcome("skipped", lines)
    if any(s in FAILED_STATUSES for s in statuses):
        return NodeOutcome("failed", lines)
    return NodeOutcome("success", lines)


def outside_nodes(results: dict, graph: dict) -> list[dict]:
    """Results no node task reports: tests on sources only."""
    mine = set(graph) | {t for n in graph.values() for t in n["tests"]}
    return [
        r
        for r in results.get("results", [])
        if r["unique_id"] not in mine and r["unique_id"].startswith(("test.", "unit_test."))
    ]


def _line(kind: str, name: str, r: dict) -> str:
    msg = [m.strip() for m in (r.get("message") or "").splitlines() if m.strip()]
    show = r["status"] not in ("success", "pass", "skipped")
    detail = f" - {' | '.join(msg[:4])[:600]}" if msg and show else ""
    return f"{kind} {name}: {r['status']} in {r.get('execution_time', 0):.2f}s{detail}"
