"""`make soak`: many pipeline runs under fault storms and SIGKILLs, judged like the
reliability suite, then one table of runs, faults injected, kills and verdicts.

    python tests/e2e/soak.py --rounds 6 --kills 3 --scale 0.05

Each round: a world (seed = round), a fault storm, `--kills` SIGKILLs of `elt run` at
random points (the published marts must be whole after each), one run to the end
(raw must equal the API's ground truth), and a fault-free reference run of the same
world whose marts the stormy run's must equal.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from reliability import (
    consistent,
    elt,
    elt_env,
    faults_injected,
    kill_run_at,
    kill_times,
    marts_fingerprint,
    raw_matches_truth,
    storm,
)

from mock_apis.testing import MockServer


def one_round(seed: int, kills: int, scale: float, root: Path) -> dict[str, object]:
    ref, run = root / f"ref-{seed}", root / f"run-{seed}"
    with MockServer(seed=seed, scale=scale) as server:
        proc = elt(elt_env(ref, server), "run", "--no-mock")
        if proc.returncode != 0:
            return {"seed": seed, "verdict": f"reference run failed ({proc.returncode})"}
    expected = marts_fingerprint(ref / "warehouse.duckdb")
    verdicts, stages = [], []
    started = time.monotonic()
    with MockServer(seed=seed, scale=scale) as server:
        storm(server, seed=seed)
        env = elt_env(run, server)
        for at in kill_times(seed, kills, 0.5, 30):
            kill = kill_run_at(env, at, "run", "--no-mock")
            stages.append(kill.stage.split()[0])
            if kill.orphans:
                verdicts.append(f"orphan after kill at {at}s: {kill.orphans}")
            published = run / "warehouse.duckdb"
            if published.exists() and consistent(published):
                verdicts.append(f"mixed marts after kill at {at}s")
        proc = elt(env, "run", "--no-mock")
        faults = faults_injected(server)
        if proc.returncode != 0:
            verdicts.append(f"final run exit {proc.returncode}")
        else:
            try:
                raw_matches_truth(server, run)
            except AssertionError as exc:
                verdicts.append(f"raw != truth: {str(exc)[:80]}")
            if marts_fingerprint(run / "warehouse.duckdb") != expected:
                verdicts.append("marts differ from the fault-free run")
    return {
        "seed": seed,
        "faults": faults,
        "kills": len(stages),
        "killed in": ",".join(stages),
        "seconds": round(time.monotonic() - started),
        "verdict": "; ".join(verdicts) or "ok",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="elt-soak-"))
    rows = []
    try:
        for seed in range(1, args.rounds + 1):
            rows.append(one_round(seed, args.kills, args.scale, root))
            print(rows[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cols = ["seed", "faults", "kills", "killed in", "seconds", "verdict"]
    print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    bad = [r for r in rows if r["verdict"] != "ok"]
    print(f"\n{len(rows)} rounds, {len(bad)} not ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
