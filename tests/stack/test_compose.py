"""docker-compose.yml is valid Compose v2 (checked offline by the real binary)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = str(Path(sys.executable).with_name("docker-compose"))


def test_compose_file_validates_with_the_real_compose_binary():
    proc = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_compose_publishes_ports_on_loopback_only_and_points_airflow_at_the_mock():
    proc = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    cfg = json.loads(proc.stdout)
    for name, svc in cfg["services"].items():
        for port in svc.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    env = cfg["services"]["airflow"]["environment"]
    assert env["MAILCHIMP_BASE_URL"].startswith("http://mock-apis:")
    assert env["HUBSPOT_BASE_URL"].startswith("http://mock-apis:")
