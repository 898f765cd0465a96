"""Bench results as files and pictures.

Each bench script calls `record(name, figures, anchors)` after it ran: it writes
`bench/results/<name>.json` (figures, their anchors or targets, when, on what
machine). `python bench/results.py` (also the end of `make bench`) gathers every
recorded bench into `bench/results/latest.json` and `latest.md`, and draws PNG
plots with matplotlib: dbt/extract stage times against scale, throughput against
the anchors, and the Airflow per-node cost. Only what a bench measured is shown;
a bench that was not run is listed as missing.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCHES = (
    "bench_mock_apis",
    "bench_extract",
    "bench_dbt",
    "bench_gates",
    "bench_airflow",
    "bench_hourly",
)


def record(name: str, figures: dict, anchors: dict | None = None) -> Path:
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "bench": name,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "figures": figures,
        "anchors": anchors or {},
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return path


def gather() -> dict:
    found = {}
    for name in BENCHES:
        path = RESULTS / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def markdown(found: dict) -> str:
    lines = ["# Bench results (`make bench`)", ""]
    for name in BENCHES:
        doc = found.get(name)
        if not doc:
            lines += [f"## {name}", "", "not run yet", ""]
            continue
        m = doc["machine"]
        lines += [
            f"## {name}",
            "",
            f"measured {doc['measured_at']} on {m['cores']} cores, Python {m['python']}, "
            f"load average {m['load_average_1m']}",
            "",
            "| figure | value |",
            "|---|---|",
        ]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in _flat(doc["figures"]).items()]
        if doc["anchors"]:
            lines += ["", "| anchor / target | value |", "|---|---|"]
            lines += [f"| {k} | {_fmt(v)} |" for k, v in _flat(doc["anchors"]).items()]
        lines.append("")
    pictures = sorted(p.name for p in RESULTS.glob("*.png"))
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in pictures]
    return "\n".join(lines) + "\n"


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= _flat(v, f"{key} / ")
        else:
            out[key] = v
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def plots(found: dict) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    for name, draw in (
        ("bench_dbt", _stage_times),
        ("bench_airflow", _airflow),
        ("bench_extract", _throughput),
        ("bench_hourly", _hourly),
    ):
        if name in found:
            fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
            if draw(ax, found[name]):
                fig.tight_layout()
                out = RESULTS / f"{name}.png"
                fig.savefig(out)
                made.append(out)
            plt.close(fig)
    return made


def _stage_times(ax, doc: dict) -> bool:
    per_scale = doc["figures"]["per_scale"]
    scales = sorted(per_scale, key=float)
    for stage in ("extract_s", "build_s", "rebuild_s"):
        ax.plot(
            [float(s) for s in scales],
            [per_scale[s][stage] for s in scales],
            marker="o",
            label={
                "extract_s": "extract (both sources)",
                "build_s": "dbt build, first",
                "rebuild_s": "dbt build, nothing new",
            }[stage],
        )
    ax.set(xscale="log", xlabel="mock scale", ylabel="seconds", title="Stage time vs scale")
    ax.legend()
    return True


def _airflow(ax, doc: dict) -> bool:
    f = doc["figures"]
    modes = ["per_node", "single"]
    ax.bar(modes, [f["median_wall_s"][m] for m in modes], color=["#4c72b0", "#999999"])
    target = doc["anchors"].get("target_ratio", 1.3) * f["median_wall_s"]["single"]
    ax.axhline(target, color="red", linestyle="--", label="target: 1.3x single")
    ax.set(ylabel="airflow dags test, seconds", title="dbt per-node tasks vs one task")
    ax.legend()
    return True


def _throughput(ax, doc: dict) -> bool:
    bars = {**doc["figures"].get("records_per_s", {}), **doc["anchors"].get("records_per_s", {})}
    if not bars:
        return False
    ax.barh(list(bars), list(bars.values()), color="#4c72b0")
    ax.set(xlabel="records/s", title="Extract throughput vs anchors")
    return True


def _hourly(ax, doc: dict) -> bool:
    f = doc["figures"]
    tasks = [k for k in f["full_s"] if k not in ("wall", "dag span")]
    y = range(len(tasks))
    ax.barh([i + 0.2 for i in y], [f["full_s"][t] for t in tasks], 0.4, label="first (full)")
    ax.barh(
        [i - 0.2 for i in y], [f["hourly_median_s"].get(t, 0) for t in tasks], 0.4, label="hourly"
    )
    ax.set_yticks(list(y), tasks)
    ax.set(
        xlabel="seconds",
        title=f"Full vs hourly run, scale {f['scale']:g}: {f['ratio_wall']:.0%} of the wall time",
    )
    ax.legend()
    return True


def main() -> None:
    found = gather()
    (RESULTS / "latest.json").write_text(json.dumps(found, indent=1, default=str) + "\n")
    made = plots(found)
    (RESULTS / "latest.md").write_text(markdown(found))
    missing = [b for b in BENCHES if b not in found]
    print(f"{RESULTS / 'latest.md'}: {len(found)} bench(es), plots {[p.name for p in made]}")
    if missing:
        print(f"not recorded yet: {', '.join(missing)}", file=sys.stderr)


if __name__ == "__main__":
    main()
