"""The assembled pipeline under faults, kills and contention, run as a user runs it (`elt`
in a subprocess) against mock APIs the test controls. Small worlds; `make soak` runs
the same judgements longer (tests/e2e/soak.py).

Each test here failed on main before the hardening work (commit message of the commit
that added this file says how): fault storms aside, which already passed for the raw
layer alone.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
import urllib.parse

import duckdb
import pytest
from reliability import (
    ELT,
    consistent,
    elt,
    elt_env,
    faults_injected,
    kill_run_at,
    kill_times,
    marts_fingerprint,
    output,
    raw_matches_truth,
    storm,
    world,
)

SEED = 11


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A fault-free run of the world every test here starts from: its data dir and marts."""
    data = tmp_path_factory.mktemp("reference")
    with world(SEED) as server:
        proc = elt(elt_env(data, server), "run", "--no-mock")
        assert proc.returncode == 0, output(proc)
    return data, marts_fingerprint(data / "warehouse.duckdb")


def test_a_fault_storm_through_the_cli_ends_like_a_fault_free_run(reference, tmp_path):
    _, expected = reference
    with world(SEED) as server:
        faults = storm(server, seed=1, scale=2.0)
        proc = elt(elt_env(tmp_path, server), "run", "--no-mock")
        assert proc.returncode == 0, output(proc)
        injected = faults_injected(server)
        assert injected > 10, f"the storm {faults} hardly fired ({injected})"
        raw_matches_truth(server, tmp_path)
    assert marts_fingerprint(tmp_path / "warehouse.duckdb") == expected


@pytest.mark.slow  # make test-all; `make test` has the Airflow outage test (test_airflow_dag.py)
def test_a_fault_storm_through_airflow_dags_test_ends_like_a_fault_free_run(reference, tmp_path):
    _, expected = reference
    with world(SEED) as server:
        storm(server, seed=2, scale=2.0)
        proc = elt(elt_env(tmp_path, server), "run", "--airflow", "--no-mock")
        assert proc.returncode == 0, output(proc)
        raw_matches_truth(server, tmp_path)
    assert marts_fingerprint(tmp_path / "warehouse.duckdb") == expected
    log = (tmp_path / "airflow" / "dags_test.log").read_text()
    for task in ("raw_gate", "dbt_build", "marts_gate", "publish"):
        assert task in log


@pytest.mark.parametrize("seed", [3, pytest.param(4, marks=pytest.mark.slow)])
def test_sigkill_anywhere_leaves_the_published_marts_whole(reference, tmp_path, seed):
    """Kill only the `elt` parent at random points of a run that changes the marts: its dbt
    child dies with it, and the published warehouse is always the old one or the new one."""
    ref_data, before = reference
    shutil.copytree(ref_data, tmp_path, dirs_exist_ok=True)
    published = tmp_path / "warehouse.duckdb"
    with world(SEED) as server:
        server.advance(days=3, change_rate=0.05)  # the next run changes the marts
        env = elt_env(tmp_path, server)
        seen = []
        for at in kill_times(seed, n=3, low=0.5, high=25):
            kill = kill_run_at(env, at, "run", "--no-mock")
            assert not kill.orphans, f"killed at {at}s during {kill.stage}: {kill.orphans} lived on"
            assert consistent(published) == [], f"mixed marts after a kill at {at}s"
            seen.append((kill.stage, marts_fingerprint(published)))
        proc = elt(env, "run", "--no-mock")
        assert proc.returncode == 0, output(proc)
        raw_matches_truth(server, tmp_path)
    after = marts_fingerprint(published)
    assert after != before, "the advanced world changes the marts"
    for stage, fingerprint in seen:
        assert fingerprint in (before, after), f"a kill during {stage} left other marts"


def test_two_runs_at_once_queue_and_a_reader_never_blocks_a_publish(reference, tmp_path):
    ref_data, before = reference
    shutil.copytree(ref_data, tmp_path, dirs_exist_ok=True)
    published = tmp_path / "warehouse.duckdb"
    reader = duckdb.connect(str(published), read_only=True)  # a BI tool left open
    try:
        with world(SEED) as server:
            server.advance(days=2, change_rate=0.05)
            env = elt_env(tmp_path, server)
            logs = [tmp_path.parent / f"{tmp_path.name}-run{i}.log" for i in range(2)]
            runs = [
                # to files, not pipes: a pipe nobody reads yet would block the run holding
                # the lock (and its dbt child) and deadlock the pair
                subprocess.Popen(
                    [ELT, "run", "--no-mock"], env=env, stdout=log.open("w"),
                    stderr=subprocess.STDOUT, text=True,
                )
                for log in logs
            ]  # fmt: skip
            codes = [r.wait(timeout=900) for r in runs]
        outs = [log.read_text() for log in logs]
        for code, out in zip(codes, outs, strict=True):
            assert code == 0, out[-4000:]
        assert any("waiting for" in out for out in outs), "one run waited for the other"
        old = reader.execute("select count(*) from marts.dim_contacts").fetchone()[0]
        assert old == before["dim_contacts"][0], "the open reader still reads the old marts"
    finally:
        reader.close()
    assert marts_fingerprint(published) != before
    assert consistent(published) == []


def test_a_stage_waits_for_the_lock_then_fails_clearly(reference, tmp_path):
    from elt.locks import hold

    shutil.copytree(reference[0], tmp_path, dirs_exist_ok=True)
    env = elt_env(tmp_path, None, ELT_LOCK_WAIT="2")
    with hold(tmp_path / "locks", exclusive=["warehouse"], wait_s=1, what="a test build"):
        started = time.monotonic()
        proc = elt(env, "transform", timeout=120)
    assert proc.returncode == 4, output(proc)
    assert time.monotonic() - started < 60
    assert "waiting for warehouse (held by `a test build`" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- secrets
def encodings(secret: str) -> dict[str, str]:
    """Every form a secret can leak in."""
    return {
        "raw": secret,
        "basic": base64.b64encode(f"anystring:{secret}".encode()).decode(),
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "prefix-20": secret[:20],
    }


def test_no_encoding_of_a_secret_lands_in_any_artifact(tmp_path):
    """An upstream that echoes the request headers in its error bodies, through the whole
    pipeline: raw files, sync logs, dbt artifacts, data docs, audit, Airflow logs."""
    with world(SEED) as server:
        server.set_faults("500", 0.1, seed=5, echo_headers=True)
        env = elt_env(tmp_path, server)
        proc = elt(env, "run", "--airflow", "--no-mock")
        assert proc.returncode == 0, output(proc)
        secrets = {"mailchimp": server.mailchimp_api_key, "hubspot": server.hubspot_token}
    leaks = []
    texts = {"stdout": proc.stdout, "stderr": proc.stderr}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
    for name, secret in secrets.items():
        for form, value in encodings(secret).items():
            leaks += [f"{name} {form} in {where}" for where, t in texts.items() if value in t]
    assert not leaks, "\n".join(leaks[:20])


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"MAILCHIMP_BASE_URL": "not a url"}, "MAILCHIMP_BASE_URL"),
        ({"HUBSPOT_BASE_URL": "ftp://example.com"}, "HUBSPOT_BASE_URL"),
        ({"HUBSPOT_BASE_URL": "http://127.0.0.1:99999"}, "HUBSPOT_BASE_URL"),
        ({"ELT_START_DATE": "2099-01-01"}, "ELT_START_DATE"),
        ({"ELT_DATA_DIR": ""}, "ELT_DATA_DIR"),
    ],
)
def test_a_setting_that_can_never_work_fails_at_once_in_one_message(tmp_path, variables, says):
    env = elt_env(tmp_path, None) | variables
    started = time.monotonic()
    proc = elt(env, "extract", timeout=60)
    assert proc.returncode == 2, output(proc)
    assert time.monotonic() - started < 20
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 4, proc.stderr


def test_a_closed_port_fails_fast_saying_connection_refused(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    env = elt_env(tmp_path, None) | {
        "MAILCHIMP_BASE_URL": f"http://127.0.0.1:{port}/3.0",
        "HUBSPOT_BASE_URL": f"http://127.0.0.1:{port}",
    }
    started = time.monotonic()
    proc = elt(env, "extract", "--source", "hubspot", timeout=120)
    assert proc.returncode == 3, output(proc)
    assert time.monotonic() - started < 30
    assert "connection refused" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_bad_credentials_print_one_message_not_a_traceback(tmp_path):
    with world(SEED) as server:
        env = elt_env(tmp_path, server) | {"HUBSPOT_ACCESS_TOKEN": "pat-na1-wrong"}
        proc = elt(env, "run", "--no-mock", timeout=300)
    assert proc.returncode == 3, output(proc)
    assert "Traceback" not in proc.stderr
    assert "401" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 6, proc.stderr
    with world(SEED) as server:
        env = elt_env(tmp_path, server) | {"HUBSPOT_ACCESS_TOKEN": "pat-na1-wrong"}
        debug = elt(env, "--debug", "extract", "--source", "hubspot", timeout=300)
    assert debug.returncode == 3, output(debug)
    assert "Traceback" in debug.stderr, "--debug shows where it failed"
