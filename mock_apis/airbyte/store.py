"""The fake's objects, kept in memory and persisted as JSON under `<data-dir>/store/`,
one file per kind, each rewritten atomically (temp file + rename) on every change: a
restarted fake, or another process reading the files, sees every object the last one
stored.

Kinds: `workspaces`, `definitions` (custom source definitions with their connector
spec), `sources`, `destinations`, `connections`, `jobs` (public fields plus the fake's
own, prefixed `_`), `states` (per connection: stream states and generations) and
`catalogs` (the last discovered catalog per source).
"""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Any

import orjson

KINDS = (
    "workspaces",
    "definitions",
    "sources",
    "destinations",
    "connections",
    "jobs",
    "states",
    "catalogs",
)


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / "store"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, Any]] = {k: self._load(k) for k in KINDS}
        self._meta: dict[str, Any] = self._load("meta") or {"next_job_id": 1}

    def _load(self, name: str) -> dict[str, Any]:
        path = self.dir / f"{name}.json"
        return orjson.loads(path.read_bytes()) if path.exists() else {}

    def _save(self, name: str, data: dict[str, Any]) -> None:
        path = self.dir / f"{name}.json"
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        os.replace(tmp, path)

    def get(self, kind: str, key: object) -> dict[str, Any] | None:
        with self.lock:
            found = self._data[kind].get(str(key))
            return copy.deepcopy(found) if found is not None else None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind`, in creation order."""
        with self.lock:
            return copy.deepcopy(list(self._data[kind].values()))

    def put(self, kind: str, key: object, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._data[kind][str(key)] = copy.deepcopy(obj)
            self._save(kind, self._data[kind])
            return obj

    def delete(self, kind: str, key: object) -> None:
        with self.lock:
            if self._data[kind].pop(str(key), None) is not None:
                self._save(kind, self._data[kind])

    def next_job_id(self) -> int:
        with self.lock:
            job_id = int(self._meta["next_job_id"])
            self._meta["next_job_id"] = job_id + 1
            self._save("meta", self._meta)
            return job_id
