"""A mock world's raw files, a quality store and a dbt warehouse built from them.

dbt runs in-process (`dbtRunner`) with the profile's env vars, as `elt.stages`
passes them; several warehouses (each with its own quality store) can be built
over the same raw files.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from connectors import HubspotConfig, MailchimpConfig, run_sync
from connectors.registry import SOURCES
from mock_apis.testing import MockServer
from quality.store import ensure_store

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
PASSED = ("success", "pass", "RunStatus.Success", "TestStatus.Pass")


class Warehouse:
    """A mock world, its raw files, a quality store and the dbt warehouse built from them."""

    def __init__(self, server: MockServer, root: Path, name: str = "warehouse") -> None:
        self.server = server
        self.root = root
        self.raw = {s: root / "raw" / f"{s}.duckdb" for s in SOURCES}
        self.path = root / f"{name}.duckdb"
        self.work = root / name  # dbt's target/ and logs/, and the quality store
        self.quality = ensure_store(self.work / "quality.duckdb")
        self.env = {
            "ELT_WAREHOUSE_PATH": str(self.path),
            "ELT_RAW_MAILCHIMP_PATH": str(self.raw["mailchimp"]),
            "ELT_RAW_HUBSPOT_PATH": str(self.raw["hubspot"]),
            "ELT_QUALITY_PATH": str(self.quality),
            "DBT_TARGET": "dev",
        }

    def sibling(self, name: str) -> Warehouse:
        """Another warehouse, with its own (empty) quality store, over the same raw files."""
        return Warehouse(self.server, self.root, name)

    def extract(self) -> None:
        s = self.server
        run_sync(
            "mailchimp",
            config=MailchimpConfig(
                api_key=s.mailchimp_api_key,
                base_url=s.mailchimp_url,
                raw_path=self.raw["mailchimp"],
            ),
        )
        run_sync(
            "hubspot",
            config=HubspotConfig(
                access_token=s.hubspot_token, base_url=s.base_url, raw_path=self.raw["hubspot"]
            ),
        )

    # ------------------------------------------------------------------ dbt
    def dbt(self, *args: str, project_dir: Path = PROJECT_DIR):
        """Any dbt command, in-process, on this warehouse; returns dbt's result unjudged."""
        from dbt.cli.main import dbtRunner

        argv = [
            *args,
            "--project-dir", str(project_dir),
            "--profiles-dir", str(project_dir),
            "--target-path", str(self.work / "target"),
            "--log-path", str(self.work / "logs"),
            "--no-use-colors",
            "--quiet",
        ]  # fmt: skip
        with pytest.MonkeyPatch.context() as mp:
            for k, v in self.env.items():
                mp.setenv(k, v)
            res = dbtRunner().invoke(argv)
        _release_duckdb()
        if res.exception is not None:
            raise res.exception
        return res

    def build(self, *flags: str) -> list[tuple[str, str]]:
        """`dbt build`; asserts dbt's success and returns (node, status) of every node
        that did not pass (no-ops)."""
        res = self.dbt("build", *flags)
        bad = not_passed(res)
        assert res.success, f"dbt build failed: {bad}"
        return bad

    # ------------------------------------------------------------------ reading
    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            # staging/intermediate are views over the raw files and the quality
            # store: attach them as dbt does
            for name, path in self.raw.items():
                con.execute(f"attach '{path}' as {name} (read_only)")
            con.execute(f"attach '{self.quality}' as quality (read_only)")
            return con.execute(sql, params or []).fetchall()

    def marts(self) -> dict[str, list[tuple]]:
        """Every mart table's rows, in a stable order, JSON text parsed."""
        tables = [
            t
            for (t,) in self.query(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_catalog = current_database() and table_type = 'BASE TABLE'"
            )
        ]
        rows = {t: self.query(f"select * from marts.{t}") for t in tables}
        return {t: sorted((tuple(map(_normal, r)) for r in rs), key=repr) for t, rs in rows.items()}

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, source: str, stream: str, record_key: str) -> None:
        """Hold a record back, as a quality gate does (quality/store.py's contract)."""
        self._store(
            "insert into quality.quality.quarantine "
            "(source, stream, record_key, check_name, reason, run_id, quarantined_at) "
            "values (?, ?, ?, 'test_check', 'held back by a test', 'test-run', now())",
            [source, stream, record_key],
        )

    def release_all(self) -> None:
        self._store(
            "update quality.quality.quarantine "
            "set released_at = now(), released_run_id = 'test-release' where released_at is null"
        )

    def _store(self, sql: str, params: list | None = None) -> None:
        with duckdb.connect() as con:
            con.execute(f"attach '{self.quality}' as quality")
            con.execute(sql, params or [])


def not_passed(res) -> list[tuple[str, str]]:
    """(node, status) of every node of a dbt run that did not pass."""
    return [(r.node.name, str(r.status)) for r in res.result if str(r.status) not in PASSED]


def _normal(value):
    """JSON text as data, so key order does not matter."""
    if isinstance(value, str) and value[:1] == "{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def _release_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open in the process after a run; close it so
    a test can open the warehouse read-only (as quality checks and BI do)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as cm

    with cm._LOCK:
        if cm._ENV is not None:
            cm._ENV.close()
            cm._ENV = None
