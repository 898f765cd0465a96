"""Write-audit-publish for the DuckDB warehouse: readers see the old marts or the new, never a mix.

DuckDB 2.0 cannot rename schemas, and an open reader blocks a writer of the
same file, so a build never writes the published file. Instead:

1. `start_build` copies the published warehouse (incremental models and
   snapshots go on from it) into `<versions>/<run_id>.building/`; dbt builds
   there.
2. The marts gate reads that file (read-only).
3. `publish` renames the folder to `<versions>/<run_id>/` and swaps a hard link
   to its file into place as the published path (`rename(2)`: atomic). Readers
   holding the old file keep reading the old marts until they reopen.
   A failed gate calls `discard` instead: the folder becomes `<run_id>.failed`
   (the newest one is kept to look at) and the published file is untouched.

The published path (default `data/warehouse.duckdb`) is therefore immutable
once published; open it read-only. The last `keep` published versions besides
the current one stay in `<versions>/` and `rollback` links one back into
place. A build killed at any point leaves a `.building` folder that the next
build clears; the published file never changes until step 3 finishes.

The file keeps the published file's name (e.g. `warehouse.duckdb`) inside each
version folder: DuckDB names the catalog after the file, and the models' views
name their catalog.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from elt.errors import ExpectedError

BUILDING, FAILED = ".building", ".failed"
STALE_BUILD_S = 24 * 3600


@dataclass(frozen=True)
class Version:
    run_id: str
    path: Path
    current: bool


class Warehouses:
    """The published warehouse file and its versions folder (next to it: same file system)."""

    def __init__(self, published: Path, keep: int = 2) -> None:
        self.published = published
        self.root = published.parent / f"{published.stem}_versions"
        self.keep = keep

    # ------------------------------------------------------------------ build
    def build_path(self, run_id: str) -> Path:
        return self.root / f"{run_id}{BUILDING}" / self.published.name

    def start_build(self, run_id: str) -> Path:
        """A private copy of the published warehouse (or nothing: a first build) to build into."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.build_path(run_id)
        for stale in self.root.glob(f"*{BUILDING}"):
            # this run's earlier try, or a build killed long ago (another run's build may
            # still be waiting for its gate in a separate process: leave recent ones)
            if stale == path.parent or time.time() - stale.stat().st_mtime > STALE_BUILD_S:
                shutil.rmtree(stale)
        path.parent.mkdir()
        if self.published.exists():
            shutil.copyfile(self.published, path)
        return path

    def seal(self, build: Path) -> None:
        """Fold any write-ahead log into the file, so the published file is one self-contained
        file that read-only openers can read without replaying anything."""
        con = duckdb.connect(str(build))
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
        wal = build.with_name(build.name + ".wal")
        if wal.exists():
            raise ExpectedError(f"{wal} is still there after a checkpoint; not publishing")

    def publish(self, run_id: str) -> Path:
        """Make the sealed build of `run_id` the published warehouse, atomically."""
        build_dir = self.build_path(run_id).parent
        if not build_dir.exists():
            raise ExpectedError(
                f"no build for run {run_id} in {self.root}",
                hint="build first (`elt transform`); a build is published once",
            )
        final = self.root / run_id
        os.replace(build_dir, final)
        self._link_into_place(final / self.published.name)
        self.prune()
        return final / self.published.name

    def discard(self, run_id: str) -> Path | None:
        """Set a build aside (its gate failed); keep only the newest failed one."""
        build_dir = self.build_path(run_id).parent
        if not build_dir.exists():
            return None
        for old in self.root.glob(f"*{FAILED}"):
            shutil.rmtree(old)
        failed = self.root / f"{run_id}{FAILED}"
        os.replace(build_dir, failed)
        return failed / self.published.name

    # ------------------------------------------------------------------ versions
    def versions(self) -> list[Version]:
        """Published versions, newest first."""
        if not self.root.exists():
            return []
        found = []
        for folder in self.root.iterdir():
            file = folder / self.published.name
            if folder.suffix in (BUILDING, FAILED) or not file.exists():
                continue
            current = self.published.exists() and os.path.samefile(file, self.published)
            found.append(Version(folder.name, file, current))
        return sorted(found, key=lambda v: v.run_id, reverse=True)  # run ids sort by time

    def current(self) -> Version | None:
        return next((v for v in self.versions() if v.current), None)

    def rollback(self, run_id: str | None = None) -> Version:
        """Publish an earlier version again: `run_id`, or the one before the current."""
        versions = self.versions()
        if run_id is None:
            cur = self.current()
            older = [v for v in versions if cur is None or v.run_id < cur.run_id]
            if not older:
                raise ExpectedError(
                    f"no earlier published warehouse in {self.root} to roll back to",
                    hint=f"keep more versions with ELT_KEEP_WAREHOUSES (now {self.keep})",
                )
            target = older[0]
        else:
            matches = [v for v in versions if v.run_id == run_id]
            if not matches:
                known = ", ".join(v.run_id for v in versions) or "none"
                raise ExpectedError(f"no published version {run_id!r} (kept: {known})")
            target = matches[0]
        self._link_into_place(target.path)
        return Version(target.run_id, target.path, True)

    def prune(self) -> list[str]:
        """Delete published versions beyond the current one and `keep` earlier ones."""
        removed = []
        older = [v for v in self.versions() if not v.current]
        for v in older[self.keep :]:
            shutil.rmtree(v.path.parent)
            removed.append(v.run_id)
        return removed

    # ------------------------------------------------------------------ internals
    def _link_into_place(self, file: Path) -> None:
        self._adopt_unversioned()
        tmp = self.published.with_name(f".{self.published.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(file, tmp)
        except OSError:  # no hard links on this file system: a copy, still swapped atomically
            shutil.copyfile(file, tmp)
        os.replace(tmp, self.published)

    def _adopt_unversioned(self) -> None:
        """A published file from before versioning (or copied in by hand) becomes a version,
        so publishing over it never loses it."""
        if not self.published.exists():
            return
        for v in self.versions():
            if v.current:
                return
        stamp = datetime.fromtimestamp(self.published.stat().st_mtime, UTC)
        folder = self.root / f"{new_run_id(stamp)}-adopted"
        folder.mkdir(parents=True, exist_ok=True)
        os.link(self.published, folder / self.published.name)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time and unique on one machine: `20261130T153012_123456Z`."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S_%f}Z"
