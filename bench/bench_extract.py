"""Extract benchmark: our connectors vs the fetch limit vs dlt, memory, incremental cost.

    .venv/bin/python bench/bench_extract.py [--scale 1] [--rss-scales 1,10] [--repeat 3] [--no-dlt]

The mock APIs run in their own process (so they do not share our GIL), serving
real-shaped records (full MailChimp members with `_links`, HubSpot portals with
hundreds of properties). Printed:
- the full sync's records, MB of JSON and requests per source (HubSpot's property
  batch reads included), and what HubSpot's default request budget would add against
  the real API (the local mock enforces no limit, so the bench runs without it);
- DuckDB's own load limit: the same records from local NDJSON files into the same
  tables with the same SQL (`Stream.rows_sql`), all cores, no HTTP;
- full sync records/s (both sources) for: the fetch limit (one keep-alive client
  making every request of a full sync and parsing every body in full with orjson,
  no load), our connectors (fetch + DuckDB merge; they slice records with msgspec
  and leave the parsing to DuckDB),
  for information the same requests from a stock client (plain requests.Session and
  `resp.json()`: slower than the fetch limit, which uses our tuned client and orjson),
  and dlt (bench/dlt_anchor, in bench/.venv-dlt, created with `pip install "dlt[duckdb]"`
  on first use when missing);
- peak RSS of a full sync at each --rss-scales (child process, ru_maxrss), and in the
  same child an incremental sync after a ~1% advance, against that full sync's time;
- incremental sync time after a ~1% advance, against the full sync's time (--scale),
  and a rerun right after it (nothing new: the fixed cost every sync pays); for
  information, the incremental's own requests replayed by the fetch-limit client (its
  HTTP and parsing alone, no load; the server's caches are warm then, as for the fetch
  limit).
Fetch limit, full and incremental run --repeat times (fresh raw files each time);
the best run counts and the spread is printed. A final table checks the targets
(>= 40% of the fetch limit, >= 4x dlt, peak RSS at scale 10 <= 1.5x scale 1, an
incremental at scale 10 <= 10% of its full sync).
The load average is printed: on a busy machine the numbers mean little.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors import HubspotConfig, MailchimpConfig  # noqa: E402
from connectors.base import Page, ReadContext  # noqa: E402
from connectors.http import HttpClient  # noqa: E402
from connectors.sync import SOURCES, run_syncs  # noqa: E402
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY  # noqa: E402

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
        # the local mock enforces no rate limit: no client-side budget (its cost against
        # the real API is printed from the request count)
        "hubspot": HubspotConfig(
            access_token=MOCK_HUBSPOT_TOKEN,
            base_url=base_url,
            raw_path=raw_dir / "hubspot.duckdb",
            requests_per_10s=0,
            search_requests_per_s=0,
        ),
    }


@contextmanager
def noting_requests(cfgs: dict) -> Iterator[dict[str, list[tuple]]]:
    """Note each request any of our clients makes meanwhile (from any thread), per source."""
    plan: dict[str, list[tuple]] = {s: [] for s in cfgs}
    by_url = {}
    for source, cfg in cfgs.items():
        client = SOURCES[source].make_client(cfg)
        by_url[client.base_url] = source
        client.close()
    real = HttpClient.request

    def noting(self, method, path, *, params=None, json=None, decode=None):
        plan[by_url[self.base_url]].append((method, path, dict(params) if params else None, json))
        return real(self, method, path, params=params, json=json, decode=decode or orjson.loads)

    HttpClient.request = noting
    try:
        yield plan
    finally:
        HttpClient.request = real


def record_plan(cfgs: dict, dump_dir: Path | None = None) -> tuple[dict[str, list[tuple]], int]:
    """Run every reader (full refresh, no load) and note each request it makes and the
    records its pages hold: the fetch limit replays exactly these requests. With
    `dump_dir`, each stream's records are also written there as NDJSON (for the DuckDB
    load limit)."""
    records = 0
    with noting_requests(cfgs) as plan:
        for source, cfg in cfgs.items():
            src = SOURCES[source]
            client = src.make_client(cfg)
            ctx = ReadContext(config=cfg, client=client, full_refresh=True)
            for stream in src.streams:
                chunks: list[bytes] = []
                for item in src.readers[stream.name](ctx, None):
                    if isinstance(item, Page):
                        records += item.records
                        if dump_dir is not None and item.raws:
                            chunks.append(b"\n".join(bytes(r) for r in item.raws) + b"\n")
                if dump_dir is not None:
                    (dump_dir / f"{source}.{stream.name}.ndjson").write_bytes(b"".join(chunks))
            client.close()
    return plan, records


def duckdb_limit(dump_dir: Path, records: int) -> tuple[float, int]:
    """DuckDB's own load limit: the same records, from local NDJSON files, into the same
    table shapes (typed columns + `_raw`) with the same SQL (`Stream.rows_sql`), all
    cores, default memory. No HTTP. Returns (seconds, JSON bytes)."""
    import duckdb

    nbytes = sum(f.stat().st_size for f in dump_dir.glob("*.ndjson"))
    db = dump_dir / "limit.duckdb"
    t0 = time.perf_counter()
    con = duckdb.connect(str(db), config={"threads": os.cpu_count() or 2})
    for source, src in SOURCES.items():
        con.execute(f"CREATE SCHEMA raw_{source}")
        for stream in src.streams:
            path = dump_dir / f"{source}.{stream.name}.ndjson"
            con.execute(stream.ddl(f"raw_{source}"))
            if not path.exists() or not path.stat().st_size:
                continue
            cols = ", ".join(f'"{c}"' for c in stream.column_names)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE stg AS SELECT json::VARCHAR AS r, "
                "row_number() OVER () AS seq, NULL::VARCHAR AS parent_id "
                f"FROM read_ndjson_objects('{path}')"
            )
            con.execute(
                f'INSERT INTO raw_{source}."{stream.name}" ({cols}, _raw, _extracted_at, _sync_id) '
                f"SELECT {cols}, _raw, now(), 'limit' FROM ({stream.rows_sql()})"
            )
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - t0, nbytes


def fetch_limit(cfgs: dict, plan: dict[str, list[tuple]]) -> float:
    """The anchor: one keep-alive client (ours: session, auth, retry loop) making every
    request of `plan` (a full sync's, or any sync's) and parsing every body in full with
    orjson. No load."""
    t0 = time.perf_counter()
    for source, cfg in cfgs.items():
        client = SOURCES[source].make_client(cfg)
        for method, path, params, body in plan[source]:
            client.request(method, path, params=params, json=body, decode=orjson.loads)
        client.close()
    return time.perf_counter() - t0


def body_bytes(cfgs: dict, plan: dict[str, list[tuple]]) -> int:
    """Bytes of JSON the plan's responses carry."""
    total = 0
    for source, cfg in cfgs.items():
        client = SOURCES[source].make_client(cfg)
        for method, path, params, body in plan[source]:
            total += len(client.request(method, path, params=params, json=body, decode=len).body)
        client.close()
    return total


def fetch_stock(cfgs: dict, plan: dict[str, list[tuple]]) -> float:
    """For information only: the same requests from a stock keep-alive client, as one is
    first written (a plain `requests.Session`, `resp.json()` with the standard library's
    json). The target is checked against `fetch_limit`, which is faster and so stricter."""
    t0 = time.perf_counter()
    for source, cfg in cfgs.items():
        session = requests.Session()
        if source == "mailchimp":
            session.auth = ("anystring", cfg.api_key.get_secret_value())
            base = cfg.url
        else:
            session.headers["Authorization"] = f"Bearer {cfg.access_token.get_secret_value()}"
            base = cfg.base_url
        for method, path, params, body in plan[source]:
            resp = session.request(
                method, base.rstrip("/") + path, params=params, json=body, timeout=60
            )
            resp.raise_for_status()
            resp.json()
        session.close()
    return time.perf_counter() - t0


def ours(cfgs: dict) -> tuple[int, float]:
    """Both sources at once, as `elt extract` and the DAG run them."""
    t0 = time.perf_counter()
    out = run_syncs(cfgs)
    seconds = time.perf_counter() - t0
    for res in out.values():
        if isinstance(res, Exception):
            raise res
    return sum(r.records_read for r in out.values()), seconds


def ensure_dlt() -> str | None:
    """Create bench/.venv-dlt with dlt[duckdb] when missing; None when ready, else why not."""
    if DLT_PY.exists():
        return None
    venv = DLT_PY.parent.parent
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(DLT_PY), "-m", "pip", "install", "--quiet", "dlt[duckdb]"],
            check=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        return f"could not install dlt into {venv}: {exc}"
    return None


def dlt_anchor(base_url: str, out: Path) -> tuple[int, float] | str:
    problem = ensure_dlt()
    if problem:
        return problem
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
    """A full sync (its peak RSS), then an advance and an incremental sync at this scale."""
    cfgs = configs(base_url, Path(raw_dir))
    n, dt = ours(cfgs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    requests.post(
        f"{base_url}/_admin/advance", json={"days": 1, "change_rate": 0.01}, timeout=600
    ).raise_for_status()
    n_i, t_i = ours(cfgs)
    print(json.dumps({"records": n, "seconds": dt, "peak_rss_mb": peak,
                      "incr_records": n_i, "incr_seconds": t_i}))  # fmt: skip


def peak_rss(scale: float) -> dict:
    mock = Mock(scale)
    tmp = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    try:
        record_plan(configs(mock.base_url, tmp))  # warm the server's caches, as for the runs above
        proc = subprocess.run(
            [sys.executable, __file__, "--rss-child", mock.base_url, str(tmp)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return f"best {fmt.format(values[0])} (runs: {', '.join(fmt.format(v) for v in values)})"


def main() -> None:
    # One linear script, read top to bottom: set up, measure every contender in the same
    # runs, then print the table; the measuring steps are the functions above. It stays
    # long on purpose: split, its parts would only pass the same locals around.
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rss-scales", default="1,10")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-dlt", action="store_true")
    ap.add_argument("--rss-child", nargs=2)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    print(f"start: {_load()} on {os.cpu_count()} cpus", flush=True)
    fetch_rates: list[float] = []
    stock_rates: list[float] = []  # information: a stock requests + json client
    full_rates: list[float] = []
    incr_ratios: list[float] = []
    rerun_ratios: list[float] = []  # a sync right after the incremental: nothing new
    http_ratios: list[float] = []  # the incremental's requests alone (fetch limit client)
    paired: list[float] = []  # ours / fetch limit within each run (measured back to back)
    n_f = n_o = n_i = 0
    dlt_result: tuple[int, float] | str = "skipped (--no-dlt)"
    mock = Mock(args.scale)
    try:
        dump = Path(tempfile.mkdtemp(prefix="bench-extract-dump-"))
        cfgs = configs(mock.base_url, dump)
        # warm the server's caches so every contender sees the same server; keep the records
        plan0, n_plan = record_plan(cfgs, dump_dir=dump)
        n_requests = {src: len(reqs) for src, reqs in plan0.items()}
        n_bytes = body_bytes(cfgs, plan0)
        t_limit, ndjson_bytes = duckdb_limit(dump, n_plan)
        shutil.rmtree(dump, ignore_errors=True)
        print(f"full sync: {n_plan:,} records, {n_bytes / 1e6:,.1f} MB of JSON in "
              f"{sum(n_requests.values()):,} requests ({n_requests}); DuckDB load limit "
              f"(same records from local NDJSON, {ndjson_bytes / 1e6:,.1f} MB, same tables "
              f"and SQL, {os.cpu_count()} threads): {t_limit:.2f}s = "
              f"{n_plan / t_limit:,.0f} rec/s", flush=True)  # fmt: skip
        for i in range(args.repeat):
            tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
            try:
                cfgs = configs(mock.base_url, tmp)
                plan, n_f = record_plan(cfgs)  # also re-warms after the previous run's advance
                t_f = fetch_limit(cfgs, plan)
                t_s = fetch_stock(cfgs, plan)
                n_o, t_o = ours(cfgs)
                if i == 0 and not args.no_dlt:
                    dlt_result = dlt_anchor(mock.base_url, tmp)
                mock.advance(days=1, change_rate=0.01)
                with noting_requests(cfgs) as incr_plan:
                    n_i, t_i = ours(cfgs)
                _, t_r = ours(cfgs)  # nothing new since: the fixed cost of a sync
                # the incremental's own requests, fetched and parsed without load
                t_h = fetch_limit(cfgs, incr_plan)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            fetch_rates.append(n_f / t_f)
            stock_rates.append(n_f / t_s)
            full_rates.append(n_o / t_o)
            incr_ratios.append(t_i / t_o)
            rerun_ratios.append(t_r / t_o)
            http_ratios.append(t_h / t_o)
            paired.append((n_o / t_o) / (n_f / t_f))
            print(f"run {i + 1}: fetch limit {n_f / t_f:,.0f} rec/s (stock client "
                  f"{n_f / t_s:,.0f}), ours {n_o:,} rec in "
                  f"{t_o:.2f}s = {n_o / t_o:,.0f} rec/s, incremental {n_i:,} rec in {t_i:.2f}s "
                  f"({100 * t_i / t_o:.1f}% of full), rerun with nothing new {t_r:.2f}s "
                  f"({100 * t_r / t_o:.1f}%); the incremental's requests alone {t_h:.2f}s "
                  f"({100 * t_h / t_o:.1f}%); {_load()}", flush=True)  # fmt: skip
    finally:
        mock.stop()
    fetch_rates.sort(reverse=True)
    stock_rates.sort(reverse=True)
    full_rates.sort(reverse=True)
    incr_ratios.sort()
    rerun_ratios.sort()
    http_ratios.sort()
    mb = n_bytes / 1e6
    print(f"\nscale {args.scale}: full sync of both sources ({n_o:,} records, {mb:,.1f} MB of "
          "JSON), records/s")  # fmt: skip
    print(f"  DuckDB load limit (local files, no HTTP):      {n_plan / t_limit:,.0f}")
    print(f"  fetch limit (1 keep-alive client, parse only): {_spread(fetch_rates)}")
    print(f"  (info) stock client, requests + json:          {_spread(stock_rates)}")
    print(f"  ours: full sync -> DuckDB:                     {_spread(full_rates)}")
    print(
        f"  ours, MB/s of JSON:                            "
        f"{mb * full_rates[0] / n_o:,.1f} (fetch limit {mb * fetch_rates[0] / n_f:,.1f})"
    )
    hs_req = n_requests.get("hubspot", 0)
    print(
        f"  requests per full sync: {n_requests}; against the real HubSpot the default "
        f"budget (100 per 10 s) alone makes its {hs_req:,} requests take >= "
        f"{max(0, hs_req - 100) / 10:,.0f}s"
    )
    print(f"  ours / fetch limit, run by run:                "
          f"{', '.join(f'{r:.0%}' for r in paired)}")  # fmt: skip
    print(f"  ours: incremental/full time:                   {_spread(incr_ratios, '{:.1%}')}")
    print(f"  ours: rerun with nothing new / full time:      {_spread(rerun_ratios, '{:.1%}')}")
    print(f"  (info) the incremental's requests alone / full: {_spread(http_ratios, '{:.1%}')}")
    if isinstance(dlt_result, tuple):
        dlt_rate = dlt_result[0] / dlt_result[1]
        print(f"  dlt: merge into DuckDB: {dlt_result[0]:,} records in {dlt_result[1]:.1f}s")
    else:
        dlt_rate = None
        print(f"  dlt: {dlt_result}")
    rss: dict[float, float] = {}
    incr_at: dict[float, float] = {}
    if args.rss_scales:
        print("\npeak RSS of a full sync, then an incremental sync after a 1% advance "
              "(child process, one run per scale)")  # fmt: skip
        for s in [float(x) for x in args.rss_scales.split(",") if x]:
            r = peak_rss(s)
            rss[s] = r["peak_rss_mb"]
            incr_at[s] = r["incr_seconds"] / r["seconds"]
            print(f"  scale {s:>5}: {r['records']:>10,} records  {r['peak_rss_mb']:8.0f} MB  "
                  f"{r['records'] / r['seconds']:,.0f} rec/s in {r['seconds']:.2f}s; incremental "
                  f"{r['incr_records']:,} records in {r['incr_seconds']:.2f}s "
                  f"({incr_at[s]:.1%} of full)", flush=True)  # fmt: skip
    best_f, best_o = fetch_rates[0], full_rates[0]
    rows: list[tuple[str, str, str, bool | None]] = [
        ("fetch limit (rec/s)", f"{best_f:,.0f}", "-", None),
        ("ours, full sync (rec/s)", f"{best_o:,.0f}", "-", None),
        ("  (info) ours / stock client", f"{best_o / stock_rates[0]:.0%}", "-", None),
        ("DuckDB load limit (rec/s)", f"{n_plan / t_limit:,.0f}", "-", None),
        ("ours / load limit", f"{best_o / (n_plan / t_limit):.0%}", "-", None),
        ("ours / fetch limit", f"{best_o / best_f:.0%}", ">= 40%", best_o / best_f >= 0.4),
        ("dlt (rec/s)", f"{dlt_rate:,.0f}" if dlt_rate else "-", "-", None),
        ("ours / dlt", f"{best_o / dlt_rate:.1f}x" if dlt_rate else "-", ">= 4x",
         best_o / dlt_rate >= 4 if dlt_rate else None),
    ]  # fmt: skip
    if 1.0 in rss and 10.0 in rss:
        ratio = rss[10.0] / rss[1.0]
        rows += [
            ("peak RSS scale 1 (MB)", f"{rss[1.0]:,.0f}", "-", None),
            ("peak RSS scale 10 (MB)", f"{rss[10.0]:,.0f}", "-", None),
            ("peak RSS 10 / 1", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5),
        ]
    rows.append((f"incremental / full, scale {args.scale:g}", f"{incr_ratios[0]:.1%}", "-", None))
    for s, ratio in incr_at.items():  # the target is at scale 10
        target = s == 10.0
        rows.append((f"incremental / full, scale {s:g}", f"{ratio:.1%}",
                     "<= 10%" if target else "-", ratio <= 0.10 if target else None))  # fmt: skip
    print(f"\n{'metric':<32} {'value':>12} {'target':>9}  result")
    for name, value, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{name:<32} {value:>12} {target:>9}  {verdict}")
    print(f"\nend: {_load()}")
    _record(args.scale, n_o, best_o, incr_at, rss, n_plan / t_limit, best_f, dlt_rate)


def _record(scale, n_o, best_o, incr_at, rss, load_limit, best_f, dlt_rate) -> None:
    """bench/results/bench_extract.json (see bench/results.py)."""
    from results import record

    record(
        "bench_extract",
        {
            "scale": scale,
            "records": n_o,
            "records_per_s": {"ours, full sync": round(best_o)},
            "incremental_over_full": {f"scale {s:g}": round(r, 4) for s, r in incr_at.items()},
            "peak_rss_mb": {f"scale {s:g}": round(r) for s, r in rss.items()},
        },
        {
            "records_per_s": {
                "DuckDB load limit": round(load_limit),
                "fetch limit": round(best_f),
                **({"dlt": round(dlt_rate)} if dlt_rate else {}),
            },
            "targets": {"ours / fetch limit": ">= 40%", "ours / dlt": ">= 4x",
                        "peak RSS 10 / 1": "<= 1.5x", "incremental / full at 10": "<= 10%"},
        },
    )  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
