"""Extract benchmark: our connectors vs the fetch limit vs dlt, memory, incremental cost.

    .venv/bin/python bench/bench_extract.py [--scale 1] [--rss-scales 1,10] [--no-dlt]

The mock APIs run in their own process (so they do not share our GIL). Printed:
- full sync records/s (both sources) for: the fetch limit (one keep-alive client
  fetching + parsing every page, no load), our connectors (fetch + DuckDB merge),
  and dlt (bench/dlt_anchor, in bench/.venv-dlt; install with
  `python -m venv bench/.venv-dlt && bench/.venv-dlt/bin/pip install "dlt[duckdb]"`);
- peak RSS of a full sync at each --rss-scales (child process, ru_maxrss);
- incremental sync time after a ~1% advance, against the full sync's time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors import HubspotConfig, MailchimpConfig, run_sync  # noqa: E402
from connectors.base import Page, ReadContext  # noqa: E402
from connectors.sync import SOURCES  # noqa: E402
from elt.settings import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY  # noqa: E402

DLT_PY = ROOT / "bench" / ".venv-dlt" / "bin" / "python"


class Mock:
    def __init__(self, scale: float, seed: int = 42) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_apis", "--host", "127.0.0.1",
             "--port", str(port), "--seed", str(seed), "--scale", str(scale)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 600
        while True:
            try:
                requests.get(f"{self.base_url}/_admin/state", timeout=2)
                break
            except requests.RequestException:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mock APIs did not start") from None
                time.sleep(0.2)

    def advance(self, days: float, change_rate: float) -> dict:
        r = requests.post(
            f"{self.base_url}/_admin/advance",
            json={"days": days, "change_rate": change_rate},
            timeout=600,
        )
        return r.json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def configs(base_url: str, raw_dir: Path) -> dict:
    return {
        "mailchimp": MailchimpConfig(
            api_key=MOCK_MAILCHIMP_API_KEY,
            base_url=f"{base_url}/3.0",
            raw_path=raw_dir / "mailchimp.duckdb",
        ),
        "hubspot": HubspotConfig(
            access_token=MOCK_HUBSPOT_TOKEN, base_url=base_url, raw_path=raw_dir / "hubspot.duckdb"
        ),
    }


def fetch_limit(cfgs: dict) -> tuple[int, float]:
    """Every page of every stream through one keep-alive client, parsed, not loaded."""
    records, t0 = 0, time.perf_counter()
    for source, cfg in cfgs.items():
        src = SOURCES[source]
        client = src.make_client(cfg)
        ctx = ReadContext(config=cfg, client=client, full_refresh=True)
        for stream in src.streams:
            for item in src.readers[stream.name](ctx, None):
                if isinstance(item, Page):
                    records += item.records
        client.close()
    return records, time.perf_counter() - t0


def ours(cfgs: dict) -> tuple[int, float]:
    records, t0 = 0, time.perf_counter()
    for source, cfg in cfgs.items():
        records += run_sync(source, config=cfg).records_read
    return records, time.perf_counter() - t0


def dlt_anchor(base_url: str, out: Path) -> tuple[int, float] | str:
    if not DLT_PY.exists():
        return "not installed (see docstring)"
    proc = subprocess.run(
        [str(DLT_PY), str(ROOT / "bench" / "dlt_anchor" / "pipeline.py"), base_url,
         MOCK_MAILCHIMP_API_KEY, MOCK_HUBSPOT_TOKEN, str(out)],
        capture_output=True, text=True, check=False, cwd=out,
    )  # fmt: skip
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["records"], data["seconds"]


def rss_child(base_url: str, raw_dir: str) -> None:
    cfgs = configs(base_url, Path(raw_dir))
    n, dt = ours(cfgs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": n, "seconds": dt, "peak_rss_mb": peak}))


def peak_rss(scale: float) -> dict:
    mock = Mock(scale)
    tmp = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--rss-child", mock.base_url, str(tmp)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rss-scales", default="1,10")
    ap.add_argument("--no-dlt", action="store_true")
    ap.add_argument("--rss-child", nargs=2)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    rows: list[tuple[str, str, str, str]] = []
    mock = Mock(args.scale)
    tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    try:
        cfgs = configs(mock.base_url, tmp)
        fetch_limit(cfgs)  # warm the server's caches so every contender sees the same server
        n_f, t_f = fetch_limit(cfgs)
        n_o, t_o = ours(cfgs)
        rows.append(("fetch limit (1 keep-alive client, parse only)", f"{n_f:,}", f"{t_f:.2f}",
                     f"{n_f / t_f:,.0f}"))  # fmt: skip
        rows.append(("ours: full sync -> DuckDB (merge)", f"{n_o:,}", f"{t_o:.2f}",
                     f"{n_o / t_o:,.0f}"))  # fmt: skip
        if not args.no_dlt:
            d = dlt_anchor(mock.base_url, tmp)
            if isinstance(d, tuple):
                rows.append(("dlt: merge into DuckDB", f"{d[0]:,}", f"{d[1]:.2f}",
                             f"{d[0] / d[1]:,.0f}"))  # fmt: skip
            else:
                rows.append(("dlt: merge into DuckDB", "-", "-", d))
        mock.advance(days=1, change_rate=0.01)
        t0 = time.perf_counter()
        n_i = sum(run_sync(s, config=c).records_read for s, c in cfgs.items())
        t_i = time.perf_counter() - t0
        rows.append(("ours: incremental after 1% advance", f"{n_i:,}", f"{t_i:.2f}",
                     f"{100 * t_i / t_o:.1f}% of full"))  # fmt: skip
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nscale {args.scale}: full sync of both sources, records/s\n")
    print(f"{'contender':<48} {'records':>10} {'seconds':>8} {'rate':>16}")
    for r in rows:
        print(f"{r[0]:<48} {r[1]:>10} {r[2]:>8} {r[3]:>16}")
    rate = {r[0]: r[3] for r in rows}
    try:
        ours_rate = n_o / t_o
        print(f"\nours / fetch limit: {ours_rate / (n_f / t_f):.0%}")
        dl = [r for r in rows if r[0].startswith("dlt") and r[1] != "-"]
        if dl:
            print(f"ours / dlt: {ours_rate / float(dl[0][3].replace(',', '')):.1f}x")
    except (NameError, ZeroDivisionError):
        pass
    del rate
    if args.rss_scales:
        print("\npeak RSS of a full sync (child process)")
        base = None
        for s in [float(x) for x in args.rss_scales.split(",") if x]:
            r = peak_rss(s)
            base = base or r["peak_rss_mb"]
            mb, rate = r["peak_rss_mb"], r["records"] / r["seconds"]
            print(f"  scale {s:>5}: {r['records']:>10,} records  {mb:8.0f} MB  "
                  f"({mb / base:.2f}x)  {rate:,.0f} rec/s")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
