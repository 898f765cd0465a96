"""The dbt project on a second, server warehouse: PostgreSQL, from the same models.

One mock world is extracted once; dbt builds it on DuckDB (the `dev` target), and
the compose file's `pg-warehouse` job (docker/pg-warehouse.sh: the raw files
copied into PostgreSQL by `python -m elt.pg_warehouse`, then `dbt build --target
postgres`) runs natively against PostgreSQL from Debian's packages, started as
the compose file's postgres service is. Every mart must hold the same rows on
both, and every node of both builds must end the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shlex
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest
import stack_native as sn

from elt.pg_warehouse import LoadError, load_raw
from mock_apis.testing import MockServer

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

SCALE, SEED = 0.2, 5
PROJECT = sn.ROOT / "dbt_project"
BIN = Path(sys.executable).parent


def _missing() -> list[str]:
    return [b for b in ("initdb", "postgres", "pg_isready", "createdb") if not sn.find_binary(b)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Raw files of one mock world, extracted by `elt extract`."""
    root = tmp_path_factory.mktemp("pg-warehouse")
    data = root / "data"
    with MockServer(seed=SEED, scale=SCALE) as server:
        env = {
            **sn.base_env(),
            "ELT_DATA_DIR": str(data),
            "MAILCHIMP_BASE_URL": f"{server.base_url}/3.0",
            "MAILCHIMP_API_KEY": server.mailchimp_api_key,
            "HUBSPOT_BASE_URL": server.base_url,
            "HUBSPOT_ACCESS_TOKEN": server.hubspot_token,
        }
        proc = subprocess.run(
            [str(BIN / "elt"), "extract"], env=env, capture_output=True, text=True, timeout=600
        )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root, data


@pytest.fixture(scope="module")
def duckdb_build(world):
    from quality.store import ensure_store

    root, data = world
    env = {
        **sn.base_env(),
        "ELT_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "ELT_QUALITY_PATH": str(ensure_store(root / "quality.duckdb")),
        "ELT_RAW_MAILCHIMP_PATH": str(data / "raw" / "mailchimp.duckdb"),
        "ELT_RAW_HUBSPOT_PATH": str(data / "raw" / "hubspot.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target = root / "dbt_duckdb"
    proc = subprocess.run(
        [str(BIN / "dbt"), "build", "--project-dir", str(PROJECT), "--profiles-dir",
         str(PROJECT), "--target", "dev", "--target-path", str(target / "target"),
         "--log-path", str(target / "logs")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return proc, _node_statuses(target / "target" / "run_results.json")


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """PostgreSQL started as the compose file's postgres service (its initdb args)."""
    sn.skip_unless_installed(_missing(), "apt-get install postgresql")
    root = tmp_path_factory.mktemp("pg-server")
    env_file = root / "stack.env"
    sn.make_env_file(env_file)
    service = sn.compose_config(env_file, profiles=("pg-warehouse",))["services"]
    pg = service["postgres"]["environment"]
    (root / "logs").mkdir()
    with sn.processes(root / "logs") as procs:
        port = sn.start_postgres(
            procs,
            user=pg["POSTGRES_USER"],
            password=pg["POSTGRES_PASSWORD"],
            db=pg["POSTGRES_DB"],
            initdb_args=shlex.split(pg["POSTGRES_INITDB_ARGS"]),
        )
        job = service["pg-warehouse"]
        # The job reaches the server as `postgres:5432` on the compose network.
        assert (job["environment"]["PGHOST"], job["environment"]["PGPORT"]) == ("postgres", "5432")
        env = {**job["environment"], "PGHOST": "127.0.0.1", "PGPORT": str(port)}
        yield {"job": job, "env": env, "procs": procs}


@pytest.fixture(scope="module")
def postgres_build(world, postgres):
    _, data = world
    nmap = sn.NativeMap({"repo": sn.ROOT, "data": data, "airflow_home": data})
    argv = sn.localize_argv(sn.native_command(postgres["job"]), nmap, "pg-warehouse")
    env = {**sn.base_env(), **{k: nmap.text(v) for k, v in postgres["env"].items()}}
    proc = postgres["procs"].run("pg-warehouse", argv, env, timeout=600)
    statuses = _node_statuses(data / "dbt_postgres" / "target" / "run_results.json")
    return proc, statuses, env


def _node_statuses(path: Path) -> dict[str, str]:
    assert path.exists(), f"dbt wrote no {path}"
    return {r["unique_id"]: r["status"] for r in json.loads(path.read_text())["results"]}


# --------------------------------------------------------------------------- comparison
def _normal(value):
    """One Python value per figure, whichever driver read it."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return ("json", json.dumps(json.loads(value), sort_keys=True))
        except ValueError:
            return value
    if isinstance(value, dict):
        return ("json", json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def _rows(cursor, table: str) -> tuple[list[str], list[tuple]]:
    cursor.execute(f'select * from marts."{table}"')
    columns = [d[0] for d in cursor.description]
    rows = [tuple(_normal(v) for v in row) for row in cursor.fetchall()]
    return columns, sorted(rows, key=repr)


def _duckdb_marts(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_catalog = current_database() and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        cur = con.cursor()
        return {t: _rows(cur, t) for t in tables}
    finally:
        con.close()


def _postgres_marts(env: dict[str, str]) -> dict[str, tuple[list[str], list[tuple]]]:
    con = psycopg2.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        password=env["PGPASSWORD"],
        dbname=env["PGDATABASE"],
    )
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'BASE TABLE'"
            )
            tables = [t for (t,) in cur.fetchall()]
            return {t: _rows(cur, t) for t in tables}
    finally:
        con.close()


def _first_difference(a: list[tuple], b: list[tuple], columns: list[str]) -> str:
    for x, y in zip(a, b, strict=False):
        diffs = [
            f"{c}: {u!r} != {v!r}" for c, u, v in zip(columns, x, y, strict=True) if not _same(u, v)
        ]
        if diffs:
            return "; ".join(diffs[:5])
    return f"{len(a)} rows vs {len(b)} rows"


# --------------------------------------------------------------------------- tests
def test_every_model_builds_on_postgres_and_each_node_ends_as_on_duckdb(
    duckdb_build, postgres_build
):
    duck_proc, duck = duckdb_build
    pg_proc, pg, _ = postgres_build
    built = {k: v for k, v in pg.items() if k.split(".")[0] in ("model", "seed", "snapshot")}
    assert built and set(built.values()) == {"success"}, {
        k: v for k, v in built.items() if v != "success"
    } or pg_proc.stderr[-3000:]
    assert "error" not in pg.values(), [k for k, v in pg.items() if v == "error"]
    assert pg == duck, {
        k: (duck.get(k), pg.get(k)) for k in set(pg) | set(duck) if pg.get(k) != duck.get(k)
    }
    assert pg_proc.returncode == duck_proc.returncode, pg_proc.stdout[-3000:]


def test_the_marts_hold_the_same_figures_on_postgres_as_on_duckdb(
    world, duckdb_build, postgres_build
):
    root, _ = world
    duck = _duckdb_marts(root / "warehouse.duckdb")
    pg = _postgres_marts(postgres_build[2])
    assert set(duck) == set(pg) and len(duck) >= 9, (sorted(duck), sorted(pg))
    for table, (columns, rows) in duck.items():
        pg_columns, pg_rows = pg[table]
        assert pg_columns == columns, table
        assert rows, f"marts.{table} is empty: the comparison would prove nothing"
        same = len(rows) == len(pg_rows) and all(
            _same(u, v)
            for x, y in zip(rows, pg_rows, strict=True)
            for u, v in zip(x, y, strict=True)
        )
        assert same, f"marts.{table}: {_first_difference(rows, pg_rows, columns)}"


def test_the_loader_copies_every_raw_row_and_reloads_in_place(world, postgres, postgres_build):
    _, data = world
    env = postgres_build[2]
    raw = sorted((data / "raw").glob("*.duckdb"))
    with pytest.MonkeyPatch.context() as mp:
        for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"):
            mp.setenv(key, env[key])
        counts = load_raw(raw, dbname=env["PGDATABASE"])
        again = load_raw(raw, dbname=env["PGDATABASE"])
        with pytest.raises(LoadError, match="raw file"):
            load_raw([data / "raw" / "nowhere.duckdb"], dbname=env["PGDATABASE"])
    expected = {}
    for path in raw:
        con = duckdb.connect(str(path), read_only=True)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name like 'raw%'"
        ).fetchall():
            expected[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
        con.close()
    assert counts == expected == again
    assert expected["raw_mailchimp.members"] > 0 and expected["raw_hubspot.contacts"] > 0


def test_the_warehouse_database_sorts_by_bytes_and_runs_in_utc(postgres_build):
    env = postgres_build[2]
    con = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
        password=env["PGPASSWORD"], dbname=env["PGDATABASE"],
    )  # fmt: skip
    with con, con.cursor() as cur:
        cur.execute("select datcollate from pg_database where datname = current_database()")
        assert cur.fetchone()[0] == "C"
        cur.execute("show timezone")
        assert cur.fetchone()[0] == "UTC"
        cur.execute("select 'B' < 'a', 'Z' < 'a'")  # byte order, as DuckDB compares
        assert cur.fetchone() == (True, True)
    con.close()
