"""The DuckDB side: read-only connections and the frames GX validates.

GX's SQL datasource does not work over duckdb-engine, so tables are read into
pandas here and validated as dataframes. DuckDB does the scanning: it projects
the checked columns (and filters the raw gate's rows) and hands them over as
Arrow, which pandas wraps without converting each string to a Python object.
Every connection is `read_only=True` and short-lived: DuckDB allows one writer
per file, and a checker must neither block a connector or dbt nor wait for one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from quality.spec import Check, TableSuite


class QualityError(RuntimeError):
    """A check could not run; the message says which file or table and what to do."""


class DatabaseLocked(QualityError):
    """Another process holds the DuckDB file open for writing."""


class TableMissing(QualityError):
    """The table (or its file) does not exist."""


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only, or say clearly that a writer holds it."""
    if not path.exists():
        raise TableMissing(f"database file {path} does not exist")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise DatabaseLocked(
            f"{path} is locked by a writer (a connector or dbt is running?); "
            f"rerun the gate when it finishes. DuckDB said: {exc}"
        ) from exc
    except duckdb.ConnectionException as exc:
        raise DatabaseLocked(
            f"{path} is already open read-write in this process; close that connection "
            f"before running the gate. DuckDB said: {exc}"
        ) from exc


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def find_schema(con: duckdb.DuckDBPyConnection, table: str, schema: str | None) -> str:
    """The schema holding `table`; when not given, discovered (dbt decides it)."""
    rows = con.execute(
        "select table_schema from information_schema.tables "
        "where table_name = ? and table_catalog = current_database()"
        + (" and table_schema = ?" if schema else "")
        + " order by table_schema",
        [table, schema] if schema else [table],
    ).fetchall()
    schemas = [r[0] for r in rows]
    if not schemas:
        where = f"schema {schema}" if schema else "any schema"
        raise TableMissing(f"table {table} not found in {where}")
    if len(schemas) == 1:
        return schemas[0]
    preferred = [s for s in schemas if s == "marts" or s.endswith("_marts")]
    if len(preferred) == 1:
        return preferred[0]
    raise QualityError(f"table {table} exists in several schemas {schemas}; which one is the mart?")


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def require_columns(con: duckdb.DuckDBPyConnection, schema: str, suite: TableSuite) -> None:
    """Every column the suite checks exists, or an error naming them and the fix."""
    have = table_columns(con, schema, suite.table)
    missing = [c for c in suite.columns if c not in have]
    if missing:
        raise QualityError(
            f"{schema}.{suite.table} has no column(s) {missing} that suite {suite.name} checks; "
            f"it has {sorted(have)}. Fix the table or the declaration in quality/suites.py"
        )


def read_frame(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[str],
    where: str = "",
    params: list[Any] | None = None,
) -> pd.DataFrame:
    """`columns` of the rows matching `where`, as a pandas frame backed by Arrow."""
    cols = ", ".join(quote(c) for c in columns) or "1 as _row"
    sql = f"select {cols} from {quote(schema)}.{quote(table)}" + (
        f" where {where}" if where else ""
    )
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def references(
    con: duckdb.DuckDBPyConnection, suite: TableSuite, checks: list[Check]
) -> dict[tuple[str, str], list]:
    """values_from lookups: (table, column) -> the distinct values of that column."""
    out: dict[tuple[str, str], list] = {}
    for check in checks:
        if not check.values_from or check.values_from in out:
            continue
        ref_table, ref_col = check.values_from
        try:
            ref_schema = find_schema(con, ref_table, suite.schema)
        except TableMissing as exc:
            raise QualityError(
                f"suite {suite.name} checks {check.kwargs['column']} against "
                f"{ref_table}.{ref_col}, but {exc}"
            ) from exc
        out[check.values_from] = [
            r[0]
            for r in con.execute(
                f"select distinct {quote(ref_col)} from {quote(ref_schema)}.{quote(ref_table)} "
                f"where {quote(ref_col)} is not null"
            ).fetchall()
        ]
    return out
