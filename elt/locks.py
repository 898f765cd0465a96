"""Runs queue behind each other instead of colliding on DuckDB's file locks.

DuckDB lets one process write a file, or any number read it, never both. Each
stage takes the same kind of lock on what it touches, *before* opening it, and
waits for it (up to `ELT_LOCK_WAIT`, printing who holds it) instead of failing:

| resource          | exclusive (writes)            | shared (reads)                 |
|-------------------|-------------------------------|--------------------------------|
| `raw-<source>`    | extract of that source        | raw gate, dbt build            |
| `quality`         | raw and marts gates           | dbt build (attaches quarantine)|
| `warehouse`       | dbt build, publish, rollback  | (readers need no lock: they    |
|                   |                               | read a published file, see     |
|                   |                               | `elt.publish`)                 |

Locks are `flock(2)` on files under `<data>/locks/`: released by the kernel
when the holder exits, even on SIGKILL, so a crashed run never wedges the next.
Resources are always taken in the order above, so two runs cannot deadlock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from elt.errors import Busy

#: the order every caller takes resources in (raw sources first, by name)
ORDER = ("raw-", "quality", "warehouse")
POLL_S = 0.2
MESSAGE_EVERY_S = 30.0


def _rank(resource: str) -> tuple[int, str]:
    for i, prefix in enumerate(ORDER):
        if resource.startswith(prefix):
            return i, resource
    raise ValueError(f"unknown lock resource {resource!r}; known: raw-<source>, quality, warehouse")


def _holder(path: Path) -> str:
    try:
        text = path.with_suffix(".holder").read_text().strip()
    except OSError:
        return "another run"
    return text or "another run"


def _acquire(path: Path, exclusive: bool, wait_s: float, what: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    started = time.monotonic()
    next_message = 0.0
    while True:
        try:
            fcntl.flock(fd, mode)
            return fd
        except BlockingIOError:
            waited = time.monotonic() - started
            if waited >= wait_s:
                os.close(fd)
                raise Busy(
                    f"{what}: {path.stem} is still held by {_holder(path)} after waiting "
                    f"{waited:.0f} s",
                    hint="let that run finish (or stop it), or wait longer with "
                    "ELT_LOCK_WAIT=<seconds>",
                ) from None
            if waited >= next_message:
                print(
                    f"{what}: waiting for {path.stem} (held by {_holder(path)}); "
                    f"up to {wait_s:.0f} s more (ELT_LOCK_WAIT)",
                    file=sys.stderr,
                    flush=True,
                )
                next_message = waited + MESSAGE_EVERY_S
            time.sleep(POLL_S)


@contextlib.contextmanager
def hold(
    lock_dir: Path,
    *,
    exclusive: Sequence[str] = (),
    shared: Sequence[str] = (),
    wait_s: float,
    what: str,
) -> Iterator[None]:
    """Hold `exclusive` and `shared` resources for the block, waiting up to `wait_s` for each."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    wanted = {r: True for r in exclusive} | {r: False for r in shared if r not in exclusive}
    fds: list[int] = []
    try:
        for resource in sorted(wanted, key=_rank):
            path = lock_dir / f"{resource}.lock"
            fds.append(_acquire(path, wanted[resource], wait_s, what))
            if wanted[resource]:
                since = datetime.now(UTC).strftime("%H:%M:%S UTC")
                holder = f"`{what}` (pid {os.getpid()}, since {since})"
                path.with_suffix(".holder").write_text(holder)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)  # closing the descriptor releases its flock
