"""Connector images as commands: there is no Docker here, so a definition's
`dockerRepository` names a command that speaks the Airbyte protocol.

Default: `saas-elt/source-<name>` runs `<python> -m connectors.airbyte <name>` (the
repo's Airbyte entry point; the fake runs it as a process and never imports it).
Overrides map a repository, or `repository:tag` (which wins), to an argv:
`{"acme/source-x": ["/usr/bin/source-x"], "acme/source-y:2.0": ["python", "y.py"]}`;
the CLI reads them from `FAKE_AIRBYTE_IMAGES` (JSON) or `--images`.

`run_protocol` runs one protocol command (`spec`, `check`, `discover`) to completion and
returns its messages; the config it needs goes to a private temp file deleted after.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mock_apis.airbyte.problems import bad_request

DEFAULT_PATTERN = re.compile(r"^saas-elt/source-([a-z0-9_]+)$")


class ConnectorFailed(Exception):
    """A connector command that exited non-zero, emitted a TRACE error or bad output."""


class Images:
    def __init__(
        self, overrides: Mapping[str, Sequence[str]] | None = None, python: str = sys.executable
    ) -> None:
        self.overrides = {k: list(v) for k, v in (overrides or {}).items()}
        self.python = python

    def command(self, repository: str, tag: str) -> list[str]:
        """The argv for `repository:tag`, or the API's 400 for an image nobody can run."""
        for key in (f"{repository}:{tag}", repository):
            if key in self.overrides:
                return list(self.overrides[key])
        match = DEFAULT_PATTERN.match(repository)
        if match:
            return [self.python, "-m", "connectors.airbyte", match.group(1)]
        known = ", ".join(sorted(self.overrides)) or "none"
        raise bad_request(
            f"Could not pull image {repository}:{tag}: no such image. The fake runs "
            "saas-elt/source-<name> as `python -m connectors.airbyte <name>` and the images "
            f"mapped in FAKE_AIRBYTE_IMAGES (mapped: {known}).",
            dockerRepository=repository,
            dockerImageTag=tag,
        )


def private_dir(parent: Path) -> Path:
    """A fresh directory only this user can read, for config files holding secrets."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=parent))


def write_private(path: Path, content: Any) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(content, fh)
    return path


def run_protocol(
    argv: Sequence[str],
    command: str,
    work_dir: Path,
    config: dict[str, Any] | None = None,
    timeout_s: float = 120.0,
) -> list[dict[str, Any]]:
    """Run `argv command [--config FILE]`; its protocol messages, or ConnectorFailed."""
    tmp = private_dir(work_dir)
    try:
        args = [*argv, command]
        if config is not None:
            args += ["--config", str(write_private(tmp / "config.json", config))]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=timeout_s, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConnectorFailed(f"`{command}` could not run: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    messages = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the platform logs non-protocol lines of these commands and moves on
    error = next((m for m in messages if trace_error(m)), None)
    if error is not None:
        raise ConnectorFailed(trace_error(error))
    if proc.returncode != 0:
        raise ConnectorFailed(
            f"`{command}` exited with code {proc.returncode}: {tail(proc.stderr)}"
        )
    return messages


def trace_error(message: Any) -> str | None:
    """The error text of a TRACE ERROR message, else None."""
    if not isinstance(message, dict) or message.get("type") != "TRACE":
        return None
    trace = message.get("trace") or {}
    if trace.get("type") != "ERROR":
        return None
    error = trace.get("error") or {}
    return str(error.get("message") or error.get("internal_message") or "unknown error")


def tail(stderr: bytes | str, lines: int = 15) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output on stderr)"


def spec_of(argv: Sequence[str], work_dir: Path) -> dict[str, Any]:
    """The connector's SPEC (`connectionSpecification` and the rest), as a pull + spec does."""
    for msg in run_protocol(argv, "spec", work_dir, timeout_s=60):
        if msg.get("type") == "SPEC" and isinstance(msg.get("spec"), dict):
            spec = msg["spec"]
            if isinstance(spec.get("connectionSpecification"), dict):
                return spec
    raise ConnectorFailed("`spec` emitted no SPEC message with a connectionSpecification")


def discover(argv: Sequence[str], config: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    for msg in run_protocol(argv, "discover", work_dir, config=config):
        if msg.get("type") == "CATALOG" and isinstance(msg.get("catalog"), dict):
            return msg["catalog"]
    raise ConnectorFailed("`discover` emitted no CATALOG message")
