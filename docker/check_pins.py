"""Fail when an installed distribution's version differs from the lock.

Run at image build (docker/Dockerfile) and by tests/stack/test_compose.py against
the local venv, so the image and `make install` are held to the same file.

    python docker/check_pins.py requirements/constraints.txt

Exit 1 lists every mismatch. Distributions installed but absent from the lock
(the base image's own, a tool installed by hand) are listed, not failed.
"""

from __future__ import annotations

import sys
from importlib.metadata import distributions
from pathlib import Path

from packaging.utils import canonicalize_name

# Installers and the project itself are never pinned in the lock.
UNPINNED = {"pip", "setuptools", "wheel", "saas-elt"}


def read_lock(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}


def compare(lock: dict[str, str], have: dict[str, str]) -> tuple[list[str], list[str]]:
    """(installed at another version than the lock's, installed but not pinned)."""
    mismatched = [
        f"{name}: installed {version}, lock {lock[name]}"
        for name, version in sorted(have.items())
        if name in lock and lock[name] != version
    ]
    unlocked = sorted(n for n in have if n not in lock and n not in UNPINNED)
    return mismatched, unlocked


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    mismatched, unlocked = compare(read_lock(Path(argv[0])), installed())
    for line in mismatched:
        print(f"version differs from the lock: {line}", file=sys.stderr)
    for name in unlocked:
        print(f"installed but not in the lock (not checked): {name}", file=sys.stderr)
    if mismatched:
        print(f"{argv[0]}: fix the install or the lock (`make install` rebuilds from it)")
        return 1
    print(f"every installed distribution pinned in {argv[0]} has the pinned version")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
