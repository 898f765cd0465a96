"""The raw contract holds for both paths: our connectors' raw files, or the file
Airbyte's DuckDB destination writes for the same streams (ELT_RAW_FORMAT=airbyte,
dbt var `raw_format`).

The session's small extracted world (`raw_world`) is rewritten in Airbyte's shape
(`airbyte_helpers`); then, through `elt`'s own stages and settings, each path runs
the raw gate and `dbt build` into a warehouse of its own: the gates must see the
same things and quarantine the same records, and the marts must hold the same rows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pytest
import yaml
from airbyte_helpers import airbyte_type, write_airbyte_raw
from warehouse_helpers import PROJECT_DIR

from connectors.registry import SOURCES, load
from elt import stages
from elt.gates import run_gate
from elt.publish import new_run_id
from elt.settings import Settings
from quality import Finding, GateResult

pytestmark = pytest.mark.timeout(600)

#: Mart columns compared with care, and why. Sync ids name different syncs on each path
#: (ours vs Airbyte job ids): left out wherever a mart carries one. Extraction times
#: reach Airbyte as the protocol's `emitted_at`, epoch milliseconds: compared at that
#: precision.
SYNC_ID_COLUMNS = {"sync_id"}
EXTRACTED_AT_COLUMNS = {"extracted_at"}


@dataclass
class RawPath:
    """One raw path through the pipeline: its settings, raw gate result and dbt build."""

    settings: Settings
    gate: GateResult
    build: stages.StageResult

    @property
    def warehouse(self) -> Path:
        return Path(self.build.extra["build"])

    def dbt_results(self) -> dict[str, str]:
        results = json.loads(self.warehouse.with_name(stages.DBT_RESULTS).read_text())
        return {r["unique_id"]: r["status"] for r in results["results"]}

    def quarantine(self) -> set[tuple]:
        with duckdb.connect(str(self.settings.quality_db), read_only=True) as con:
            return set(
                con.execute(
                    "select source, stream, record_key, check_name from quality.quality.quarantine "
                    "where released_at is null"
                ).fetchall()
            )


def _run(settings: Settings) -> RawPath:
    """Raw gate, then `dbt build` (no docs), as `elt run` does before its marts gate."""
    run_id = new_run_id()
    gate = run_gate(settings, "raw", run_id=run_id)
    build = stages.build(settings, run_id=run_id, docs=False)
    assert build.ok, f"{settings.raw_format} build failed: {build.detail} {build.counts}"
    return RawPath(settings, gate, build)


@pytest.fixture(scope="module")
def paths(raw_world, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RawPath]:
    """Both paths over the same records. Native: `raw/` is the session's raw files, and
    ELT_AIRBYTE_RAW_PATH names a file that does not exist. Airbyte: no `raw/` at all,
    the Airbyte file at its default place."""
    native_dir = tmp_path_factory.mktemp("native-path")
    (native_dir / "raw").symlink_to(raw_world.root / "raw", target_is_directory=True)
    native = Settings(
        data_dir=native_dir,
        raw_format="native",
        airbyte_raw_path=native_dir / "no-airbyte" / "raw.duckdb",
        _env_file=None,
    )
    airbyte_dir = tmp_path_factory.mktemp("airbyte-path")
    airbyte = Settings(data_dir=airbyte_dir, raw_format="airbyte", _env_file=None)
    write_airbyte_raw(raw_world.raw, airbyte.airbyte_raw)
    return {"native": _run(native), "airbyte": _run(airbyte)}


# ------------------------------------------------------------------ the Airbyte file
def test_the_airbyte_file_has_the_final_tables_airbyte_writes(paths) -> None:
    with duckdb.connect(str(paths["airbyte"].settings.airbyte_raw), read_only=True) as con:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'airbyte_mailchimp' and table_name = 'reports' "
            "order by ordinal_position"
        ).fetchall()
        meta = con.execute(
            "select count(*), count(distinct _airbyte_raw_id), "
            "count(*) filter (where json_type(_airbyte_meta, '$.sync_id') = 'UBIGINT'), "
            "count(*) filter (where json_array_length(_airbyte_meta, '$.changes') = 0) "
            "from airbyte_hubspot.contacts"
        ).fetchone()
    assert cols[:4] == [
        ("_airbyte_raw_id", "VARCHAR"),
        ("_airbyte_extracted_at", "TIMESTAMP WITH TIME ZONE"),
        ("_airbyte_meta", "JSON"),
        ("_airbyte_generation_id", "BIGINT"),
    ]
    assert ("emails_sent", "BIGINT") in cols and ("open_rate", "DOUBLE") in cols
    assert cols[-1] == ("_raw", "JSON")
    rows, ids, job_ids, no_changes = meta
    assert rows > 0 and ids == rows and job_ids == rows and no_changes == rows


def test_every_type_airbyte_changes_is_declared_for_the_cast_back() -> None:
    """dbt's `raw_source` casts back the source columns that declare a `data_type`:
    exactly those whose type Airbyte's JSON-schema typing changes, to the loader's."""
    declared = {}
    for source in SOURCES:
        doc = yaml.safe_load(
            (PROJECT_DIR / "models" / "staging" / source / f"_{source}__sources.yml").read_text()
        )
        for table in doc["sources"][0]["tables"]:
            for col in table.get("columns", []):
                if col.get("data_type"):
                    declared[(source, table["name"], col["name"])] = col["data_type"].upper()
    expected = {}
    for source in SOURCES:
        for stream in load(source).streams:
            props = stream.json_schema()["properties"]
            for col in stream.columns:
                if airbyte_type(props[col.name]) != col.type:
                    expected[(source, stream.name, col.name)] = col.type
    assert expected, "no type differs: the test would prove nothing"
    assert declared == expected


# ------------------------------------------------------------------ the raw gate
def test_the_raw_gate_sees_the_same_findings_on_both_paths(paths) -> None:
    def seen(result: GateResult) -> set[Finding]:
        # `observed` names the sync a finding first showed in: ours, or an Airbyte job id
        return {replace(f, observed="") for f in result.findings}

    native, airbyte = paths["native"].gate, paths["airbyte"].gate
    assert native.ok and airbyte.ok, [f.message() for f in airbyte.critical + native.critical]
    assert not [f for f in airbyte.findings if f.kind == "error"]
    assert seen(airbyte) == seen(native)


def test_both_paths_quarantine_the_same_records(paths) -> None:
    held = paths["native"].quarantine()
    assert held, "the world has no dirty record: the comparison would prove nothing"
    assert paths["airbyte"].quarantine() == held


# ------------------------------------------------------------------ dbt
def _marts(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'marts' order by table_name, ordinal_position",
        [db],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def _comparable(db: str, table: str, columns: list[tuple[str, str]]) -> str:
    exprs = [
        f"date_trunc('millisecond', {c}) as {c}" if c in EXTRACTED_AT_COLUMNS else c
        for c, _ in columns
        if c not in SYNC_ID_COLUMNS
    ]
    return f"select {', '.join(exprs)} from {db}.marts.{table}"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"select count(*) from ({sql})").fetchone()[0]


def test_every_mart_holds_the_same_rows_on_both_paths(paths) -> None:
    with duckdb.connect() as con:
        for name, path in paths.items():
            con.execute(f"attach '{path.warehouse}' as {name} (read_only)")
        native, airbyte = _marts(con, "native"), _marts(con, "airbyte")
        assert native and airbyte == native  # same tables, columns, types
        for table, columns in native.items():
            ours = _comparable("native", table, columns)
            theirs = _comparable("airbyte", table, columns)
            assert _count(con, ours) > 0, f"{table} is empty: the comparison would prove nothing"
            only_native = _count(con, f"{ours} except all {theirs}")
            only_airbyte = _count(con, f"{theirs} except all {ours}")
            assert (only_native, only_airbyte) == (0, 0), table


def test_the_source_tests_run_on_the_columns_each_path_has(paths) -> None:
    for name, extracted_at in (("native", "_extracted_at"), ("airbyte", "_airbyte_extracted_at")):
        results = paths[name].dbt_results()
        ours = {
            u: s
            for u, s in results.items()
            if u.startswith("test.elt_warehouse.source_not_null_") and "extracted_at" in u
        }
        assert len(ours) == sum(len(load(s).streams) for s in SOURCES), name
        assert all(f"_{extracted_at}." in u and s == "pass" for u, s in ours.items()), ours


def _dbt(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """dbt as `elt` runs it (`stages.dbt_command`: the settings' --vars; `dbt_env`), on a
    scratch warehouse next to the settings' data."""
    scratch = settings.data_dir / "scratch"
    scratch.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **settings.dbt_env(),
        "ELT_WAREHOUSE_PATH": str(scratch / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
    }
    cmd = stages.dbt_command(settings, *args)
    proc = stages.run_child(cmd, env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc


def _attached(settings: Settings) -> dict[str, Path]:
    """The databases dbt's profile ATTACHes besides the warehouse: name -> file."""
    sql = "select database_name, path from duckdb_databases() where not internal"
    proc = _dbt(settings, "show", "--inline", sql, "--output", "json", "--quiet")
    rows = json.loads(proc.stdout)["show"]
    return {
        r["database_name"]: Path(r["path"]).resolve()
        for r in rows
        if r["database_name"] != "warehouse"
    }


def test_source_freshness_reads_the_airbyte_extraction_time(paths) -> None:
    settings = paths["airbyte"].settings
    _dbt(settings, "source", "freshness")
    sources = json.loads((settings.data_dir / "scratch" / "target" / "sources.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in sources["results"]}
    assert len(statuses) == sum(len(load(s).streams) for s in SOURCES)
    assert set(statuses.values()) == {"pass"}


# ------------------------------------------------------------------ the switch
def test_airbyte_mode_attaches_the_one_airbyte_file_once_and_no_loader_file(paths) -> None:
    settings = paths["airbyte"].settings
    assert _attached(settings) == {
        "airbyte": settings.airbyte_raw.resolve(),
        "quality": settings.quality_db.resolve(),
    }


def test_native_mode_never_needs_the_airbyte_file(paths) -> None:
    native = paths["native"].settings
    assert not native.airbyte_raw.exists()  # the gate and the build above ran without it
    assert native.raw_files() == {s: native.raw_path(s) for s in SOURCES}
    assert _attached(native) == {
        **{s: native.raw_path(s).resolve() for s in SOURCES},
        "quality": native.quality_db.resolve(),
    }


def test_airbyte_mode_reads_one_file_for_every_source(paths) -> None:
    airbyte = paths["airbyte"].settings
    assert airbyte.raw_files() == dict.fromkeys(SOURCES, airbyte.airbyte_raw)
    assert not airbyte.raw_dir.exists()  # no loader file was needed
    gone = Settings(
        data_dir=airbyte.data_dir,
        raw_format="airbyte",
        airbyte_raw_path=airbyte.data_dir / "none.duckdb",
        _env_file=None,
    )
    missing = stages.build(gone, run_id=new_run_id(), docs=False)
    assert not missing.ok and "none.duckdb" in missing.detail
    assert "Airbyte" in missing.detail and "elt extract" not in missing.detail


def test_a_stream_airbyte_has_not_synced_is_not_checked_and_named(paths, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, raw_format="airbyte", _env_file=None)
    settings.airbyte_raw.parent.mkdir(parents=True)
    shutil.copyfile(paths["airbyte"].settings.airbyte_raw, settings.airbyte_raw)
    with duckdb.connect(str(settings.airbyte_raw)) as con:
        con.execute("drop table airbyte_hubspot.owners")
    result = run_gate(settings, "raw", run_id=new_run_id())
    errors = [f for f in result.findings if f.kind == "error"]
    assert not result.ok
    assert [f.suite for f in errors] == ["raw.hubspot.owners"]
    assert "airbyte_hubspot.owners not found in the Airbyte file" in errors[0].observed
    assert "Airbyte" in errors[0].hint
