"""Read the tables a suite checks out of DuckDB, read-only.

GX's SQL datasource does not work over duckdb-engine, so tables are read into
pandas here and validated as dataframes. Every connection is `read_only=True`
and short-lived: DuckDB allows one writer per file, and a checker must neither
block a connector or dbt nor wait for one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from quality.spec import TableSuite


class QualityError(RuntimeError):
    """A check could not run; the message says which file or table and what to do."""


class DatabaseLocked(QualityError):
    """Another process holds the DuckDB file open for writing."""


class TableMissing(QualityError):
    """The table (or its file) does not exist yet: the suite is skipped, not passed."""


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only, or say clearly that a writer holds it."""
    if not path.exists():
        raise TableMissing(f"database file {path} does not exist yet")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise DatabaseLocked(
            f"{path} is locked by a writer (a connector or dbt is running?); "
            f"rerun the checks when it finishes. DuckDB said: {exc}"
        ) from exc
    except duckdb.ConnectionException as exc:
        raise DatabaseLocked(
            f"{path} is already open read-write in this process; close that connection "
            f"before running the checks. DuckDB said: {exc}"
        ) from exc


@dataclass
class TableData:
    """A suite's table as read: where it was found and the columns it checks."""

    schema: str
    frame: pd.DataFrame
    #: values_from lookups: (table, column) -> distinct values.
    references: dict[tuple[str, str], list]


def _quote(name: str) -> str:
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


def read_table(con: duckdb.DuckDBPyConnection, suite: TableSuite) -> TableData:
    """Load only the columns the suite's checks read (all of them must exist)."""
    schema = find_schema(con, suite.table, suite.schema)
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, suite.table],
        ).fetchall()
    }
    missing = [c for c in suite.columns if c not in have]
    if missing:
        raise QualityError(
            f"{schema}.{suite.table} has no column(s) {missing} that suite {suite.name} checks; "
            f"it has {sorted(have)}. Fix the table or the declaration in quality/suites.py"
        )
    cols = ", ".join(_quote(c) for c in suite.columns) or "1 as _row"
    with warnings.catch_warnings():
        # duckdb's own .df() uses a pandas API that pandas 3.1 deprecates; not ours to fix.
        warnings.filterwarnings("ignore", message="The inplace keyword", module="duckdb")
        frame = con.sql(f"select {cols} from {_quote(schema)}.{_quote(suite.table)}").df()
    references = {}
    for check in suite.checks:
        if check.values_from:
            ref_table, ref_col = check.values_from
            try:
                ref_schema = find_schema(con, ref_table, suite.schema)
            except TableMissing as exc:
                raise QualityError(
                    f"suite {suite.name} checks {check.kwargs['column']} against "
                    f"{ref_table}.{ref_col}, but {exc}"
                ) from exc
            references[check.values_from] = [
                r[0]
                for r in con.execute(
                    f"select distinct {_quote(ref_col)} from "
                    f"{_quote(ref_schema)}.{_quote(ref_table)} where {_quote(ref_col)} is not null"
                ).fetchall()
            ]
    return TableData(schema, frame, references)
