"""Write-audit-publish and run locks on real DuckDB files (no dbt: the e2e suite runs that)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from elt import publish as publish_mod
from elt.errors import Busy, ExpectedError
from elt.locks import hold
from elt.publish import Warehouses, new_run_id


def _build(store: Warehouses, run_id: str, value: int) -> Path:
    """A build: the published copy plus one table written the way dbt would."""
    path = store.start_build(run_id)
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT ? AS v", [value])
    con.close()
    store.seal(path)
    return path


def _value(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT v FROM marts.t").fetchone()[0]
    finally:
        con.close()


def test_a_build_starts_from_the_published_warehouse_and_publishes_atomically(tmp_path):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    _build(store, "r1", 1)
    assert not store.published.exists(), "nothing is published before publish()"
    store.publish("r1")
    assert _value(store.published) == 1
    copy = store.start_build("r2")
    assert _value(copy) == 1, "the build starts from the published marts (incrementals go on)"
    assert copy.name == "warehouse.duckdb", "same file name: DuckDB names the catalog after it"


def test_a_reader_holding_the_published_file_never_blocks_a_publish(tmp_path):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    _build(store, "r1", 1)
    store.publish("r1")
    reader = duckdb.connect(str(store.published), read_only=True)  # a BI tool, left open
    try:
        _build(store, "r2", 2)
        store.publish("r2")
        assert reader.execute("SELECT v FROM marts.t").fetchone()[0] == 1, "old marts, whole"
    finally:
        reader.close()
    assert _value(store.published) == 2, "a new open sees the new marts"


def test_a_failed_gate_leaves_the_published_warehouse_in_place(tmp_path):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    _build(store, "r1", 1)
    store.publish("r1")
    _build(store, "r2", 666)
    kept = store.discard("r2")
    assert _value(store.published) == 1
    assert kept is not None and _value(kept) == 666, "the rejected build is kept to look at"
    with pytest.raises(ExpectedError, match="no build for run r2"):
        store.publish("r2")


def test_versions_are_kept_and_rollback_publishes_an_earlier_one(tmp_path):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    for i, run in enumerate(["r1", "r2", "r3", "r4"], start=1):
        _build(store, run, i)
        store.publish(run)
    assert [v.run_id for v in store.versions()] == ["r4", "r3", "r2"], "current + 2 kept"
    assert store.rollback().run_id == "r3"
    assert _value(store.published) == 3
    assert store.rollback().run_id == "r2", "rolling back again goes further back"
    assert store.rollback("r4").run_id == "r4"
    assert _value(store.published) == 4
    with pytest.raises(ExpectedError, match="no published version 'r1'"):
        store.rollback("r1")


def test_a_warehouse_from_before_versioning_is_adopted_not_lost(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(published))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 7 AS v")
    con.close()
    store = Warehouses(published, keep=2)
    _build(store, new_run_id(), 8)
    store.publish(store.root.glob("*.building").__next__().name.removesuffix(".building"))
    assert _value(published) == 8
    assert [_value(v.path) for v in store.versions()] == [8, 7]


def test_a_build_killed_midway_is_cleared_by_the_next_build_of_that_run(tmp_path, monkeypatch):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    _build(store, "r1", 1)
    store.publish("r1")
    store.start_build("r2")  # ... and the process dies here
    monkeypatch.setattr(publish_mod, "STALE_BUILD_S", 0)
    time.sleep(0.01)
    _build(store, "r3", 3)
    assert not (store.root / "r2.building").exists(), "stale builds are cleared"
    assert _value(store.published) == 1


def test_a_crash_between_the_two_renames_of_publish_keeps_the_old_warehouse(tmp_path, monkeypatch):
    store = Warehouses(tmp_path / "warehouse.duckdb", keep=2)
    _build(store, "r1", 1)
    store.publish("r1")
    _build(store, "r2", 2)
    real = os.replace
    calls = []

    def dies_on_the_link(src, dst):
        calls.append(dst)
        if Path(dst) == store.published:
            raise KeyboardInterrupt("killed")
        real(src, dst)

    monkeypatch.setattr(publish_mod.os, "replace", dies_on_the_link)
    with pytest.raises(KeyboardInterrupt):
        store.publish("r2")
    monkeypatch.setattr(publish_mod.os, "replace", real)
    assert _value(store.published) == 1, "readers still see the old marts, whole"
    _build(store, "r3", 3)
    store.publish("r3")
    assert _value(store.published) == 3


# --------------------------------------------------------------------------- locks
def test_an_exclusive_lock_waits_for_the_holder_then_proceeds(tmp_path, capsys):
    order = []
    held = threading.Event()

    def first():
        with hold(tmp_path, exclusive=["warehouse"], wait_s=10, what="first"):
            held.set()
            time.sleep(0.6)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    held.wait()
    with hold(tmp_path, exclusive=["warehouse"], wait_s=10, what="second"):
        order.append("second in")
    t.join()
    assert order == ["first done", "second in"]
    assert "second: waiting for warehouse (held by `first`" in capsys.readouterr().err


def test_readers_share_and_a_writer_waits_for_them(tmp_path):
    with hold(tmp_path, shared=["raw-mailchimp"], wait_s=1, what="gate"):
        with hold(tmp_path, shared=["raw-mailchimp"], wait_s=1, what="build"):
            pass  # two readers at once
        busy = pytest.raises(Busy, match="extract: raw-mailchimp is still held by")
        with busy, hold(tmp_path, exclusive=["raw-mailchimp"], wait_s=0.5, what="extract"):
            pass


def test_a_lock_is_released_when_its_holder_is_killed(tmp_path):
    code = (
        "import sys, time; from pathlib import Path; from elt.locks import hold\n"
        "with hold(Path(sys.argv[1]), exclusive=['quality'], wait_s=5, what='victim'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "held"
    with pytest.raises(Busy), hold(tmp_path, exclusive=["quality"], wait_s=0.3, what="next"):
        pass
    child.kill()
    child.wait()
    with hold(tmp_path, exclusive=["quality"], wait_s=2, what="next"):
        pass


def test_unknown_lock_names_are_refused(tmp_path):
    refused = pytest.raises(ValueError, match="unknown lock resource")
    with refused, hold(tmp_path, exclusive=["everything"], wait_s=1, what="x"):
        pass
