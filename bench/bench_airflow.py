"""Airflow cost of dbt in the graph: the pipeline DAG with a task per dbt model vs the same
DAG with dbt as one `dbt build` task (ELT_DBT_TASKS=single), both through `airflow dags
test` on SQLite, the same world, interleaved (per_node, single, per_node, ...), neither
generating docs. Also: filling the DagBag with every DAG file in a warm process.

    python bench/bench_airflow.py [--scale 1.0] [--pairs 2]

Prints one line per run and a summary; no assertion (targets: per_node <= 1.3x single,
DagBag fill < 1 s warm).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def one_run(mode: str, scale: float, seed: int) -> dict[str, float]:
    from elt import stages
    from elt.settings import Settings

    with tempfile.TemporaryDirectory(prefix=f"bench-airflow-{mode}-") as tmp:
        os.environ.update(
            ELT_DATA_DIR=tmp, ELT_DBT_TASKS=mode, MOCK_SCALE=str(scale), MOCK_SEED=str(seed)
        )
        settings = Settings()
        with stages.mock_apis_env(settings) as env:
            started = time.perf_counter()
            result = stages.run_dag_test(settings, {**env, "ELT_DBT_TASKS": mode})
            wall = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"{mode}: {result.summary()}")
        return {"wall": wall, **_spans(Path(tmp) / "airflow" / "airflow.db")}


def _spans(db: Path) -> dict[str, float]:
    """Seconds from the first task's start to the last task's end, and of the dbt part."""
    con = sqlite3.connect(db)
    rows = con.execute(
        "select task_id, julianday(start_date), julianday(end_date) from task_instance "
        "where dag_id = 'saas_elt'"
    ).fetchall()
    con.close()
    day = 86400.0
    dbt = [r for r in rows if r[0] == "dbt_build" or r[0].startswith("dbt.")]
    return {
        "dag": (max(r[2] for r in rows) - min(r[1] for r in rows)) * day,
        "dbt": (max(r[2] for r in dbt) - min(r[1] for r in dbt)) * day,
        "tasks": float(len(rows)),
    }


def dagbag_fill(repeats: int = 5) -> tuple[float, float]:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    DagBag(dag_folder=str(REPO / "dags"))
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeats):
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(REPO / "dags"))
        warm.append(time.perf_counter() - started)
        assert not bag.import_errors, bag.import_errors
    return cold, statistics.median(warm)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    runs: dict[str, list[dict[str, float]]] = {"per_node": [], "single": []}
    for i in range(args.pairs):
        for mode in ("per_node", "single") if i % 2 == 0 else ("single", "per_node"):
            r = one_run(mode, args.scale, args.seed)
            runs[mode].append(r)
            print(
                f"{mode:<9} pair {i + 1}: airflow dags test {r['wall']:6.1f}s wall, DAG "
                f"{r['dag']:6.1f}s, dbt part {r['dbt']:6.1f}s, {r['tasks']:.0f} tasks",
                flush=True,
            )
    med = {m: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for m, rs in runs.items()}
    ratio = med["per_node"]["wall"] / med["single"]["wall"]
    print(
        f"\nscale {args.scale}, medians of {args.pairs}: per_node {med['per_node']['wall']:.1f}s"
        f" vs single {med['single']['wall']:.1f}s wall -> {ratio:.2f}x (target <= 1.3x); dbt "
        f"part {med['per_node']['dbt']:.1f}s vs {med['single']['dbt']:.1f}s"
    )
    cold, warm = dagbag_fill()
    from results import record

    record(
        "bench_airflow",
        {
            "scale": args.scale,
            "pairs": args.pairs,
            "runs_wall_s": {m: [round(r["wall"], 1) for r in rs] for m, rs in runs.items()},
            "median_wall_s": {m: round(v["wall"], 1) for m, v in med.items()},
            "median_dbt_part_s": {m: round(v["dbt"], 1) for m, v in med.items()},
            "ratio_per_node_to_single": round(ratio, 3),
            "dagbag_fill_warm_s": round(warm, 4),
        },
        {"target_ratio": 1.3, "dagbag_fill_target_s": 1.0},
    )
    print(
        f"DagBag fill (every DAG file): {cold:.2f}s first fill in this process, "
        f"{warm:.3f}s warm median (target < 1s)"
    )


if __name__ == "__main__":
    main()
