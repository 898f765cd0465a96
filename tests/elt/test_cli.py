"""The `elt` command line: every stage has a --help that explains it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ELT = [str(Path(sys.executable).with_name("elt"))]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ELT, *args], capture_output=True, text=True, timeout=120)


def test_top_level_help_lists_every_stage():
    out = run("--help")
    assert out.returncode == 0, out.stderr
    for cmd in ("mock-apis", "extract", "transform", "check", "run", "airflow"):
        assert cmd in out.stdout


@pytest.mark.parametrize("cmd", ["mock-apis", "extract", "transform", "check", "run"])
def test_each_stage_explains_itself(cmd):
    out = run(cmd, "--help")
    assert out.returncode == 0, out.stderr
    assert "Usage" in out.stdout
    assert "not built yet" not in out.stdout, f"`elt {cmd}` is still a placeholder"


def test_transform_without_raw_files_says_which_file_and_what_to_run(tmp_path):
    import os

    env = {**os.environ, "ELT_DATA_DIR": str(tmp_path)}
    out = subprocess.run([*ELT, "transform"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 1
    assert str(tmp_path / "raw" / "mailchimp.duckdb") in out.stdout
    assert "run `elt extract` first" in out.stdout
