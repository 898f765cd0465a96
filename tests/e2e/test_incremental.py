"""Hourly runs build the marts incrementally; after a sequence of advances of the world
(new, changed, unsubscribed and archived records) the published marts equal a full
refresh of the same raw data: the incremental path loses and doubles nothing."""

from __future__ import annotations

from reliability import elt, elt_env, marts_fingerprint, output, world


def test_incremental_runs_after_advances_equal_a_full_refresh(tmp_path):
    with world(31, dirty_rate=0.0) as server:
        env = elt_env(tmp_path, server)
        first = elt(env, "run", "--no-mock")
        assert first.returncode == 0, output(first)
        for step in range(3):
            changed = server.advance(days=1.5, change_rate=0.05)
            proc = elt(env, "run", "--no-mock")
            assert proc.returncode == 0, f"advance {step}: {changed}\n{output(proc)}"
            # the hourly path: incremental, not the full refresh a quarantine change forces
            assert "--full-refresh" not in proc.stdout, proc.stdout[-2000:]
    incremental = marts_fingerprint(tmp_path / "warehouse.duckdb")
    assert incremental["fct_email_events"][0] > 0
    full = elt(env, "transform", "--full-refresh")
    assert full.returncode == 0, output(full)
    assert marts_fingerprint(tmp_path / "warehouse.duckdb") == incremental
