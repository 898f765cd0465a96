"""`elt mock-apis` serves on its own and its admin sub-commands drive a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ELT = str(Path(sys.executable).with_name("elt"))


@pytest.fixture(scope="module")
def served():
    """A real `elt mock-apis --port 0` process; yields its URL from the printed line."""
    env = {**os.environ, "MOCK_SCALE": "0.1", "MOCK_SEED": "5"}
    proc = subprocess.Popen(
        [ELT, "mock-apis", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if line.startswith("MOCK_APIS_URL="):
            url = line.strip().split("=", 1)[1]
        elif not line and proc.poll() is not None:
            break
    assert url, "elt mock-apis never printed MOCK_APIS_URL="
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ELT, "mock-apis", *args], capture_output=True, text=True, timeout=120)


def test_served_process_binds_loopback_and_answers_health(served):
    assert served.startswith("http://127.0.0.1:")
    assert requests.get(f"{served}/_admin/health", timeout=10).status_code == 200


def test_ground_truth_command_writes_every_stream_to_a_file(served, tmp_path):
    out = tmp_path / "truth.json"
    proc = cli("ground-truth", "--url", served, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    truth = json.loads(out.read_text())
    for stream in ("members", "email_activity", "contacts", "deals", "deal_contacts"):
        assert truth[stream], f"ground truth has no {stream}"


def test_advance_command_adds_records_seen_in_the_next_ground_truth(served, tmp_path):
    before = tmp_path / "before.json"
    after = tmp_path / "after.json"
    assert cli("ground-truth", "--url", served, "--out", str(before)).returncode == 0
    proc = cli("advance", "--url", served, "--days", "2", "--change-rate", "0.05")
    assert proc.returncode == 0, proc.stderr
    assert cli("ground-truth", "--url", served, "--out", str(after)).returncode == 0
    b, a = json.loads(before.read_text()), json.loads(after.read_text())
    assert len(a["members"]) > len(b["members"])
    assert len(a["contacts"]) > len(b["contacts"])


def test_faults_command_injects_and_clear_faults_removes_them(served):
    proc = cli("faults", "--url", served, "--kind", "503", "--rate", "1.0", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    headers = {"Authorization": "Bearer pat-na1-00000000-0000-0000-0000-000000000000"}
    hit = requests.get(f"{served}/crm/v3/owners", headers=headers, timeout=10)
    assert hit.status_code == 503
    assert cli("clear-faults", "--url", served).returncode == 0
    ok = requests.get(f"{served}/crm/v3/owners", headers=headers, timeout=10)
    assert ok.status_code == 200


def test_python_m_mock_apis_serves_with_explicit_flags_only():
    """`python -m mock_apis` (what the bench starts) needs no settings: flags only."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_apis", "--port", "0", "--scale", "0.02", "--seed", "3"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(Path(__file__).parents[2])},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("MOCK_APIS_URL=http://127.0.0.1:"), line
        url = line.strip().split("=", 1)[1]
        assert requests.get(f"{url}/_admin/health", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
