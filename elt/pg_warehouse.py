"""The raw layer in PostgreSQL, for `dbt build --target postgres` (a server warehouse).

The connectors write DuckDB files (docs/contracts.md §1); this copies each raw
file's schema (`raw_<source>`, every table, the bookkeeping ones too) into a
PostgreSQL database of the same shape, so the dbt project builds there from the
same models. DuckDB's own postgres extension would do it in one statement, but
extensions are downloaded per DuckDB release and none is reachable offline for
ours, so the path is plain: DuckDB writes each table as CSV, PostgreSQL's COPY
reads it.

Each source is replaced whole in one transaction (TRUNCATE + COPY; a table whose
columns changed is dropped and created again, taking dbt's views on it along:
the next `dbt build` recreates them), so readers see the old rows or the new
ones, never a mix. Row counts are compared with DuckDB's before the commit.

    python -m elt.pg_warehouse [--dbname NAME [--create-database]] [--raw-dir DIR]

Connection: libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE),
the same ones the dbt profile's `postgres` target reads.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

# DuckDB column type -> PostgreSQL column type, spelt as format_type() prints it
# (so an existing table's columns compare equal). JSON stays text-exact (`json`,
# not `jsonb`): `_raw` keeps the API's text as received.
TYPES = {
    "VARCHAR": "text",
    "JSON": "json",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "UUID": "uuid",
}
DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
# Collations whose order is the bytes' (code points'), as DuckDB compares strings;
# the models' tie-breaks (`order by ... id`) then agree between the two warehouses.
BYTE_ORDER_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8"}


class LoadError(RuntimeError):
    """The raw layer could not be copied; the message says which table and why."""


def quote(*names: str) -> str:
    """A double-quoted (qualified) identifier, as DuckDB and PostgreSQL both read it."""
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def pg_column(name: str, duckdb_type: str) -> tuple[str, str]:
    """(DuckDB select expression, PostgreSQL type) for one column. Types without a
    PostgreSQL twin (lists, structs, maps) travel as JSON."""
    if duckdb_type in TYPES:
        return quote(name), TYPES[duckdb_type]
    decimal = DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return quote(name), "numeric({},{})".format(*decimal.groups())
    return f"to_json({quote(name)})::varchar", "json"


def raw_tables(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, DuckDB type)] for the raw_* schemas of a file."""
    rows = con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name like 'raw\\_%' escape '\\' "
        "order by schema_name, table_name, column_index"
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        tables.setdefault((schema, table), []).append((column, dtype))
    return tables


def _existing_columns(cur, schema: str, table: str) -> list[tuple[str, str]]:
    cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        (schema, table),
    )
    return cur.fetchall()


def _prepare_table(cur, schema: str, table: str, columns: list[tuple[str, str]]) -> None:
    """TRUNCATE when the columns match, else (re)create the table."""
    wanted = [(c, pg_column(c, t)[1]) for c, t in columns]
    target = quote(schema, table)
    if _existing_columns(cur, schema, table) == wanted:
        cur.execute(f"truncate table {target}")
        return
    cur.execute(f"drop table if exists {target} cascade")
    cur.execute(f"create table {target} ({', '.join(f'{quote(c)} {t}' for c, t in wanted)})")


def copy_table(
    duck: duckdb.DuckDBPyConnection,
    cur,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    workdir: Path,
) -> int:
    """One table: DuckDB -> CSV -> COPY. Returns the rows copied (checked)."""
    exprs = ", ".join(pg_column(c, t)[0] for c, t in columns)
    source = quote(schema, table)
    csv = workdir / f"{schema}.{table}.csv"
    # FORCE_QUOTE: every non-null value is quoted, so '' stays '' and NULL stays NULL.
    duck.execute(
        f"copy (select {exprs} from {source}) to '{csv}' "
        "(format csv, header false, force_quote *, nullstr '')"
    )
    expected = duck.execute(f"select count(*) from {source}").fetchone()[0]
    _prepare_table(cur, schema, table, columns)
    with csv.open("rb") as f:
        cur.copy_expert(f"copy {source} from stdin with (format csv)", f)
    loaded = cur.rowcount
    csv.unlink()
    if loaded != expected:
        raise LoadError(f"{schema}.{table}: DuckDB has {expected} rows, COPY loaded {loaded}")
    return loaded


def load_raw_file(pg, path: Path) -> dict[str, int]:
    """Every raw table of one DuckDB file, in one PostgreSQL transaction."""
    duck = duckdb.connect(str(path), read_only=True)
    counts: dict[str, int] = {}
    try:
        duck.execute("set TimeZone = 'UTC'")
        tables = raw_tables(duck)
        if not tables:
            raise LoadError(f"{path}: no raw_* schema in it; run `elt extract` first")
        with tempfile.TemporaryDirectory(prefix="elt-pg-load-") as tmp, pg, pg.cursor() as cur:
            for schema in sorted({s for s, _ in tables}):
                cur.execute(f"create schema if not exists {quote(schema)}")
            for (schema, table), columns in tables.items():
                counts[f"{schema}.{table}"] = copy_table(
                    duck, cur, schema, table, columns, Path(tmp)
                )
    finally:
        duck.close()
    return counts


def ensure_database(dbname: str, **connect) -> None:
    """Create the warehouse database (UTF-8, byte-order collation) if missing and
    pin its sessions to UTC, as the DuckDB profile pins TimeZone."""
    admin = psycopg2.connect(dbname="postgres", **connect)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL(
                        "create database {} encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8' "
                        "template template0"
                    ).format(sql.Identifier(dbname))
                )
            cur.execute(
                sql.SQL("alter database {} set timezone to 'UTC'").format(sql.Identifier(dbname))
            )
    finally:
        admin.close()


def check_database(pg) -> None:
    with pg.cursor() as cur:
        cur.execute("select datcollate from pg_database where datname = current_database()")
        collation = cur.fetchone()[0]
    if collation not in BYTE_ORDER_COLLATIONS:
        raise LoadError(
            f"database collation is {collation!r}; the models' string ordering needs one of "
            f"{sorted(BYTE_ORDER_COLLATIONS)} (create it with --create-database, or "
            "`create database ... lc_collate 'C' template template0`)"
        )


def load_raw(raw_files: list[Path], *, dbname: str | None = None, create: bool = False) -> dict:
    """Copy every raw DuckDB file into PostgreSQL; returns rows per table.
    The connection comes from libpq's PG* variables (dbname overrides PGDATABASE)."""
    missing = [str(p) for p in raw_files if not p.exists()]
    if missing or not raw_files:
        raise LoadError(f"raw file(s) missing: {', '.join(missing) or '(none found)'}")
    if create and not dbname:
        raise LoadError("creating the database needs its name (--dbname)")
    connect = {"dbname": dbname} if dbname else {}
    if create:
        ensure_database(dbname)
    pg = psycopg2.connect(**connect)
    try:
        check_database(pg)
        counts: dict[str, int] = {}
        for path in raw_files:
            counts.update(load_raw_file(pg, path))
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("analyze")
        return counts
    finally:
        pg.close()


def main(argv: list[str] | None = None) -> int:
    from elt.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m elt.pg_warehouse", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--raw-dir", type=Path, default=None, help="default: $ELT_DATA_DIR/raw")
    parser.add_argument("--dbname", default=None, help="default: PGDATABASE")
    parser.add_argument(
        "--create-database",
        action="store_true",
        help="create the --dbname database if missing (C collation, UTC sessions)",
    )
    args = parser.parse_args(argv)
    raw_dir = args.raw_dir or get_settings().raw_dir
    started = time.monotonic()
    try:
        counts = load_raw(
            sorted(raw_dir.glob("*.duckdb")), dbname=args.dbname, create=args.create_database
        )
    except (LoadError, psycopg2.Error, duckdb.Error) as exc:
        print(f"loading {raw_dir} into PostgreSQL failed: {exc}", file=sys.stderr)
        return 1
    for table, n in counts.items():
        print(f"  {table:<40} {n:>10,}")
    print(
        f"{len(counts)} tables, {sum(counts.values()):,} rows in {time.monotonic() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
