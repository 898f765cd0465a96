"""What the reliability suite and `make soak` share: run `elt` as a user would, against a
mock server the test controls, and judge the result (raw = ground truth, marts consistent)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from connector_helpers import assert_matches_ground_truth, configs

from mock_apis.testing import MockServer

ELT = str(Path(sys.executable).with_name("elt"))
BIN = str(Path(sys.executable).parent)
#: columns that differ between two runs of the same data (when, by which sync)
VOLATILE = {"extracted_at", "sync_id", "_extracted_at", "_sync_id", "loaded_at"}
#: fault kinds and rates of a storm: every transient error the connectors must outlive
STORM = {
    "500": 0.04,
    "503": 0.02,
    "429_retry_after": 0.03,
    "truncated_json": 0.03,
    "drop_connection": 0.03,
    "slow": 0.02,
}


def elt_env(data: Path, server: MockServer | None, **extra: str) -> dict[str, str]:
    """`elt` pointed at `data` and at `server` (fast retries, no client-side budget)."""
    env = {
        **os.environ,
        "ELT_DATA_DIR": str(data),
        "PATH": os.pathsep.join([BIN, os.environ["PATH"]]),
        "DBT_THREADS": "2",
        "ELT_LOCK_WAIT": "600",
    }
    env.pop("AIRFLOW_HOME", None)  # the pipeline sets up its own under ELT_DATA_DIR
    if server is not None:
        env |= {
            "MAILCHIMP_BASE_URL": server.mailchimp_url,
            "MAILCHIMP_API_KEY": server.mailchimp_api_key,
            "HUBSPOT_BASE_URL": server.base_url,
            "HUBSPOT_ACCESS_TOKEN": server.hubspot_token,
            "HUBSPOT_REQUESTS_PER_10S": "0",
            "HUBSPOT_SEARCH_REQUESTS_PER_S": "0",
            **{f"{s}_BACKOFF_BASE_S": "0.01" for s in ("MAILCHIMP", "HUBSPOT")},
            **{f"{s}_BACKOFF_MAX_S": "0.2" for s in ("MAILCHIMP", "HUBSPOT")},
        }
    return env | extra


def elt(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ELT, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def output(proc: subprocess.CompletedProcess) -> str:
    out, err = proc.stdout[-4000:], proc.stderr[-4000:]
    return f"exit {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


def storm(server: MockServer, seed: int, scale: float = 1.0) -> dict[str, float]:
    faults = {k: v * scale for k, v in STORM.items()}
    for kind, rate in faults.items():
        server.set_faults(kind, rate, seed=seed, ms=50, retry_after=0)
    return faults


def faults_injected(server: MockServer) -> int:
    return sum(v for k, v in server.app.stats.items() if k.startswith("fault_"))


def raw_matches_truth(server: MockServer, data: Path) -> dict[str, int]:
    return assert_matches_ground_truth(server, configs(server, data / "raw"))


# --------------------------------------------------------------------------- marts
def marts_fingerprint(path: Path) -> dict[str, tuple[int, int]]:
    """Per mart table: rows and an order-free hash of every non-volatile column."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            "and table_schema like '%marts' order by 2"
        ).fetchall()
        out = {}
        for schema, table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? and table_catalog = current_database() "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in VOLATILE
            ]
            row = ", ".join(f'"{c}"' for c in cols)
            out[table] = con.execute(
                f"select count(*), coalesce(sum(hash(({row}))), 0)::hugeint % 1000000007 "
                f'from "{schema}"."{table}"'
            ).fetchone()
        return out
    finally:
        con.close()


def consistent(path: Path) -> list[str]:
    """Cross-mart invariants a mixed (half old, half new) warehouse breaks."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        checks = {
            "every campaign has its performance row": (
                "select (select count(*) from marts.dim_campaigns) = "
                "(select count(*) from marts.mart_campaign_performance)"
            ),
            "every deal's stage is a dimension row": (
                "select count(*) = 0 from marts.fct_deals f left join marts.dim_deal_stages s "
                "using (deal_stage_key) where s.deal_stage_key is null"
            ),
            "every event's person is a contact": (
                "select count(*) = 0 from marts.fct_email_events e left join "
                "marts.dim_contacts c using (person_key) where c.person_key is null"
            ),
        }
        return [name for name, sql in checks.items() if not con.execute(sql).fetchone()[0]]
    finally:
        con.close()


# --------------------------------------------------------------------------- kills
@dataclass
class Kill:
    at_s: float
    stage: str  # what was running when the kill landed
    orphans: list[str]  # processes of the run still alive 3 s later


def kill_run_at(env: dict[str, str], at_s: float, *args: str) -> Kill:
    """Start `elt run ...`, SIGKILL only the `elt` process after `at_s` seconds (its children
    must die with it), report what it was doing and which child outlived it."""
    # output to nowhere: an unread pipe would stall the run before the kill lands
    proc = subprocess.Popen(
        [ELT, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(at_s)
    parent = psutil.Process(proc.pid)
    children = parent.children(recursive=True)
    stage = _stage_of(children)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)
    orphans = [" ".join(c.cmdline()[:3]) for c in children if _alive(c)]
    for c in children:  # never leave one behind, whatever the verdict
        if _alive(c):
            c.kill()
    return Kill(at_s, stage, orphans)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stage_of(children: list[psutil.Process]) -> str:
    for c in children:
        try:
            line = " ".join(c.cmdline())
        except psutil.Error:
            continue
        if "dbt" in line:
            return "dbt docs" if "docs" in line else "dbt build"
    return "extract/gate/publish (in the elt process)"


def kill_times(seed: int, n: int, low: float, high: float) -> list[float]:
    rng = random.Random(seed)
    return sorted(round(rng.uniform(low, high), 2) for _ in range(n))


def world(seed: int, **overrides: Any) -> MockServer:
    """A small world: a pipeline run takes well under a minute."""
    return MockServer(seed=seed, scale=0.05, **overrides)
