"""The hourly run against the first one: the whole pipeline DAG (`airflow dags test
saas_elt` on SQLite: extract, gates, dbt with a task per model, publish) on a fresh
world, then after each ~1% advance of the world, with per-task seconds (not a test).

    python bench/bench_hourly.py [--scale 10] [--hours 2] [--change-rate 0.01] [--days 1]

The first run is a full one (no cursor, no warehouse). Each hourly run follows an
advance of the mock world that changes ~1% of its records (`--days 1 --change-rate
0.01`: the mock creates, updates, unsubscribes and archives change_rate x days of each
entity, and sends campaigns). Printed: wall seconds per task for the first
and the median hourly run, their ratio (target: hourly <= 25% of full at scale 10) and
what is left of the hourly run. dbt alone: the `dbt_build` task, full build vs
incremental (target <= 30%).
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

DAY = 86400.0


def task_seconds(db: Path) -> dict[str, float]:
    """Seconds per task of the newest `saas_elt` run (`dbt.*` tasks summed as `dbt.*`,
    plus their span as `dbt group`) and the run's span from first start to last end."""
    con = sqlite3.connect(db)
    (run_id,) = con.execute(
        "select run_id from dag_run where dag_id = 'saas_elt' order by id desc limit 1"
    ).fetchone()
    rows = con.execute(
        "select task_id, julianday(start_date), julianday(end_date) from task_instance "
        "where dag_id = 'saas_elt' and run_id = ? and start_date is not null",
        (run_id,),
    ).fetchall()
    con.close()
    out: dict[str, float] = {}
    nodes = [r for r in rows if r[0].startswith("dbt.")]
    for task_id, start, end in rows:
        if not task_id.startswith("dbt."):
            out[task_id] = round((end - start) * DAY, 2)
    if nodes:
        out["dbt group"] = round((max(r[2] for r in nodes) - min(r[1] for r in nodes)) * DAY, 2)
    out["dag span"] = round((max(r[2] for r in rows) - min(r[1] for r in rows)) * DAY, 2)
    return out


def run(settings, env: dict[str, str]) -> dict[str, float]:
    from elt import stages

    started = time.perf_counter()
    result = stages.run_dag_test(settings, env)
    wall = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"run failed: {result.summary()}")
    return {"wall": round(wall, 2), **task_seconds(settings.data_dir / "airflow" / "airflow.db")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=10.0)
    ap.add_argument("--hours", type=int, default=2, help="hourly runs after the first")
    ap.add_argument("--change-rate", type=float, default=0.01)
    ap.add_argument(
        "--days",
        type=float,
        default=1.0,
        help="mock days per advance: the mock changes change_rate x days of each entity",
    )
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    from mock_apis.testing import MockServer

    with tempfile.TemporaryDirectory(prefix="bench-hourly-") as tmp:
        os.environ.update(ELT_DATA_DIR=tmp, ELT_SCHEDULE="none", ELT_DBT_TASKS="per_node")
        from elt import stages
        from elt.settings import Settings

        settings = Settings()
        with MockServer(seed=args.seed, scale=args.scale) as server:
            env = stages.mock_env(server)
            print(f"scale {args.scale:g}, {os.cpu_count()} cores: first (full) run ...", flush=True)
            full = run(settings, env)
            print(f"  full: {full['wall']:.1f} s", flush=True)
            hourly = []
            for hour in range(args.hours):
                changed = server.advance(days=args.days, change_rate=args.change_rate)
                hourly.append(run(settings, env))
                print(f"  hour {hour + 1}: {hourly[-1]['wall']:.1f} s after {changed}", flush=True)
    report(args, full, hourly)


def report(args, full: dict[str, float], hourly: list[dict[str, float]]) -> None:
    median = {k: round(statistics.median(h.get(k, 0.0) for h in hourly), 2) for k in full}
    print(f"\n{'task':<22}{'full s':>10}{'hourly s':>10}")
    for key in full:
        print(f"{key:<22}{full[key]:>10.1f}{median[key]:>10.1f}")
    ratio = median["wall"] / full["wall"]
    dbt_ratio = median["dbt_build"] / full["dbt_build"]
    print(f"\nhourly / full (wall): {ratio:.1%}  (target <= 25% at scale 10)")
    print(f"dbt_build incremental / full: {dbt_ratio:.1%}  (target <= 30% at scale 10)")
    from results import record

    record(
        "bench_hourly",
        {
            "scale": args.scale,
            "hours": args.hours,
            "change_rate": args.change_rate,
            "days_per_advance": args.days,
            "full_s": full,
            "hourly_median_s": median,
            "hourly_runs_wall_s": [h["wall"] for h in hourly],
            "ratio_wall": round(ratio, 3),
            "ratio_dbt_build": round(dbt_ratio, 3),
        },
        anchors={"target_ratio_wall": 0.25, "target_ratio_dbt_build": 0.30},
    )


if __name__ == "__main__":
    main()
