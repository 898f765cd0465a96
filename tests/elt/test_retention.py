"""Retention: sync-log, audit and released-quarantine rows older than ELT_RETENTION_DAYS go;
newer ones, open quarantines and the raw records themselves stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from elt import stages
from elt.settings import Settings
from quality.store import ensure_store

OLD = datetime.now(UTC) - timedelta(days=40)
NEW = datetime.now(UTC) - timedelta(days=1)


def _sync_log(settings: Settings, source: str) -> None:
    path = settings.raw_path(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"CREATE SCHEMA raw_{source}")
    con.execute(
        f"CREATE TABLE raw_{source}._sync_log (sync_id VARCHAR, stream VARCHAR, mode VARCHAR, "
        "records_read BIGINT, records_written BIGINT, pages BIGINT, retries BIGINT, "
        "started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR, error VARCHAR)"
    )
    con.execute(f"CREATE TABLE raw_{source}.records AS SELECT 1 AS id, ?::TIMESTAMPTZ AS t", [OLD])
    for sync_id, at in (("old", OLD), ("new", NEW)):
        con.execute(
            f"INSERT INTO raw_{source}._sync_log VALUES (?, 's', 'full', 1, 1, 1, 0, ?, ?, "
            "'succeeded', NULL)",
            [sync_id, at, at],
        )
    con.close()


def _quality(settings: Settings) -> None:
    ensure_store(settings.quality_db)
    con = duckdb.connect(str(settings.quality_db))
    q = "quality.quality.quarantine (source, stream, record_key, check_name, reason, sync_id, "
    q += "run_id, quarantined_at, released_at, released_run_id)"
    rows = [
        ("released long ago", OLD, OLD),
        ("released yesterday", OLD, NEW),
        ("still held", OLD, None),
    ]
    for key, since, released in rows:
        con.execute(
            f"INSERT INTO {q} VALUES ('hubspot', 'contacts', ?, 'c', 'r', 's', 'r1', ?, ?, 'r2')",
            [key, since, released],
        )
    for run, at in (("old run", OLD), ("new run", NEW)):
        con.execute(
            "INSERT INTO quality.quality.audit (run_id, gate, suite, expectation, severity, "
            "success, checked_at, kind) VALUES (?, 'raw', 's', 'e', 'info', true, ?, 'gx')",
            [run, at],
        )
    con.close()


def _rows(path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_retention_deletes_only_what_is_older_than_the_setting(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, retention_days=30)
    for source in ("mailchimp", "hubspot"):
        _sync_log(settings, source)
    _quality(settings)

    result = stages.retention(settings)

    assert result.ok
    assert result.counts["mailchimp sync-log rows deleted"] == 1
    for source in ("mailchimp", "hubspot"):
        path = settings.raw_path(source)
        assert _rows(path, f"select sync_id from raw_{source}._sync_log") == [("new",)]
        assert _rows(path, f"select count(*) from raw_{source}.records") == [(1,)]
    keys = _rows(settings.quality_db, "select record_key from quality.quality.quarantine")
    assert sorted(keys) == [("released yesterday",), ("still held",)]
    runs = _rows(settings.quality_db, "select run_id from quality.quality.audit")
    assert runs == [("new run",)]
