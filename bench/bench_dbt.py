"""dbt build wall time on a real load: prints seconds per scale (not a test).

    .venv/bin/python bench/bench_dbt.py [--scales 1,10] [--threads 4]

For each scale: a mock world (seed 42) is served on a loopback port, both
connectors extract it into fresh raw files, then `dbt build` runs as the CLI
would (a subprocess, from dbt_project/, env vars pointing into a temp dir).
Printed per scale: raw rows, extract time, a full `dbt build` on an empty
warehouse, and a second `dbt build` with nothing new (incremental models merge
nothing, snapshots find no change).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors import HubspotConfig, MailchimpConfig, run_sync  # noqa: E402
from mock_apis.testing import MockServer  # noqa: E402

PROJECT = ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def load(scale: float, raw_dir: Path) -> tuple[int, float]:
    t0 = time.monotonic()
    with MockServer(seed=42, scale=scale) as s:
        mc = run_sync(
            "mailchimp",
            config=MailchimpConfig(
                api_key=s.mailchimp_api_key,
                base_url=s.mailchimp_url,
                raw_path=raw_dir / "mailchimp.duckdb",
            ),
        )
        hs = run_sync(
            "hubspot",
            config=HubspotConfig(
                access_token=s.hubspot_token,
                base_url=s.base_url,
                raw_path=raw_dir / "hubspot.duckdb",
            ),
        )
    rows = sum(mc.rows_per_stream.values()) + sum(hs.rows_per_stream.values())
    return rows, time.monotonic() - t0


def dbt_build(tmp: Path, threads: int) -> float:
    from quality.store import ensure_store

    env = {
        **os.environ,
        "ELT_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "ELT_QUALITY_PATH": str(ensure_store(tmp / "quality.duckdb")),
        "ELT_RAW_MAILCHIMP_PATH": str(tmp / "raw" / "mailchimp.duckdb"),
        "ELT_RAW_HUBSPOT_PATH": str(tmp / "raw" / "hubspot.duckdb"),
        "DBT_THREADS": str(threads),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
    }
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(DBT), "build", "--profiles-dir", ".", "--quiet", "--no-use-colors"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"dbt build failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated mock scales")
    ap.add_argument("--threads", type=int, default=4, help="dbt threads")
    args = ap.parse_args()
    print(f"dbt build wall time (threads={args.threads}, {os.cpu_count()} cores)")
    print(f"{'scale':>6} {'raw rows':>10} {'extract s':>10} {'build s':>9} {'rebuild s':>10}")
    per_scale = {}
    for scale in (float(x) for x in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-dbt-") as d:
            tmp = Path(d)
            rows, t_load = load(scale, tmp / "raw")
            t_full = dbt_build(tmp, args.threads)
            t_again = dbt_build(tmp, args.threads)
            line = f"{scale:>6g} {rows:>10,} {t_load:>10.1f} {t_full:>9.1f} {t_again:>10.1f}"
            print(line, flush=True)
            per_scale[f"{scale:g}"] = {
                "raw_rows": rows,
                "extract_s": round(t_load, 2),
                "build_s": round(t_full, 2),
                "rebuild_s": round(t_again, 2),
            }
    from results import record

    record("bench_dbt", {"threads": args.threads, "per_scale": per_scale})


if __name__ == "__main__":
    main()
