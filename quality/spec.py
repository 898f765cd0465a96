"""The small vocabulary the suites are declared in.

Declarations stay plain data (no Great Expectations import) so `import quality`
is cheap and a suite reads like a table's contract. The runner turns each
`Check` into the GX 1.x expectation class it names, with its `severity`
(GX 1.x `Expectation.severity`: critical / warning / info).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: A suite's layer is the gate that runs it: `raw` before dbt, `marts` on a new build.
Layer = Literal["raw", "marts"]
#: critical fails the gate; warning is reported and the run goes on; info is recorded.
Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
#: Expectations about the whole table rather than each row: the raw gate runs them on
#: every row, while row-level ones see only the rows of syncs no passing gate has seen.
TABLE_LEVEL = frozenset(
    {"ExpectTableRowCountToBeBetween", "ExpectColumnDistinctValuesToContainSet"}
)
#: Which DuckDB file a table lives in: a raw source file or the dbt warehouse.
Database = Literal["mailchimp", "hubspot", "warehouse"]
#: A row condition: (column, operator, value); operator in ==, !=, <, <=, >, >=, in, not in.
Where = tuple[str, str, Any]
WHERE_OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")


@dataclass(frozen=True)
class Check:
    """One expectation: the GX class name, its arguments and why it holds."""

    gx_type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    why: str | None = None
    #: Only rows matching this condition are checked (GX `row_condition`).
    where: Where | None = None
    #: Fill `value_set` at run time from a column of another table in the same file.
    values_from: tuple[str, str] | None = None
    severity: Severity = "critical"

    def __post_init__(self) -> None:
        if self.where and self.where[1] not in WHERE_OPERATORS:
            raise ValueError(f"where operator {self.where[1]!r} not in {WHERE_OPERATORS}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} not in {SEVERITIES}")

    @property
    def table_level(self) -> bool:
        return self.gx_type in TABLE_LEVEL

    @property
    def column(self) -> str | None:
        """The checked column(s) as one name, for messages and the audit."""
        if "column" in self.kwargs:
            return self.kwargs["column"]
        if "column_list" in self.kwargs:
            return ", ".join(self.kwargs["column_list"])
        return None

    @property
    def columns(self) -> set[str]:
        """Columns the check reads, so the runner loads only those."""
        cols: set[str] = set()
        for key in ("column", "column_A", "column_B"):
            if key in self.kwargs:
                cols.add(self.kwargs[key])
        cols.update(self.kwargs.get("column_list", ()))
        if self.where:
            cols.add(self.where[0])
        return cols

    def describe(self) -> str:
        """Short human name, e.g. `expect_column_values_to_be_unique(id)`."""
        snake = "".join("_" + c.lower() if c.isupper() else c for c in self.gx_type).lstrip("_")
        target = self.kwargs.get("column") or self.kwargs.get("column_list")
        if target is None and "column_A" in self.kwargs:
            target = [self.kwargs["column_A"], self.kwargs["column_B"]]
        if isinstance(target, list | tuple):
            target = ", ".join(target)
        where = f" where {self.where[0]} {self.where[1]} {self.where[2]!r}" if self.where else ""
        return f"{snake}({target or ''}){where}"


@dataclass(frozen=True)
class TableSuite:
    """The expectations for one table in one DuckDB file."""

    layer: Layer
    database: Database
    table: str
    checks: Sequence[Check]
    #: None = find the schema in information_schema (the warehouse's depends on dbt).
    schema: str | None = None
    #: The table's primary key: failures name the offending rows by these columns.
    key: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """`raw.<source>.<table>` or `marts.<table>`: also the GX suite name."""
        if self.layer == "raw":
            return f"raw.{self.database}.{self.table}"
        return f"marts.{self.table}"

    @property
    def columns(self) -> list[str]:
        """Every column the checks read, and the key."""
        return sorted(set(self.key).union(*(c.columns for c in self.checks)))

    def frame_columns(self, checks: Sequence[Check]) -> list[str]:
        """The key first, then the columns `checks` read."""
        rest = set().union(*(c.columns for c in checks)) - set(self.key)
        return [*self.key, *sorted(rest)]


# --------------------------------------------------------------------------- helpers
def not_null(
    column: str,
    *,
    why: str | None = None,
    mostly: float | None = None,
    severity: Severity = "critical",
) -> Check:
    kwargs: dict[str, Any] = {"column": column}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return Check("ExpectColumnValuesToNotBeNull", kwargs, why, severity=severity)


def unique(*columns: str, why: str | None = None) -> Check:
    """Unique values; several columns make a compound key."""
    if len(columns) == 1:
        return Check("ExpectColumnValuesToBeUnique", {"column": columns[0]}, why)
    return Check("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}, why)


def primary_key(*columns: str) -> list[Check]:
    """A primary key: every part not null, the whole unique (contracts.md §2). The raw gate
    also compares rows with distinct keys over the whole table (`quality.volume`)."""
    why = "primary key (docs/contracts.md §2): rows merge on it"
    return [*(not_null(c, why=why) for c in columns), unique(*columns, why=why)]


def in_set(
    column: str,
    values: Iterable[Any] = (),
    *,
    why: str | None = None,
    where: Where | None = None,
    values_from: tuple[str, str] | None = None,
    severity: Severity = "critical",
) -> Check:
    """Values (nulls ignored, as GX does) drawn from a fixed set or another table's column."""
    return Check(
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": list(values)},
        why,
        where=where,
        values_from=values_from,
        severity=severity,
    )


def between(
    column: str,
    low: float | None = None,
    high: float | None = None,
    *,
    why: str | None = None,
    severity: Severity = "critical",
) -> Check:
    """Values within [low, high]; nulls are not checked."""
    return Check(
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        why,
        severity=severity,
    )


def matches(
    column: str,
    regex: str,
    *,
    why: str | None = None,
    where: Where | None = None,
    mostly: float | None = None,
    severity: Severity = "critical",
) -> Check:
    kwargs: dict[str, Any] = {"column": column, "regex": regex}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return Check("ExpectColumnValuesToMatchRegex", kwargs, why, where, severity=severity)


def not_matches(column: str, regex: str, *, why: str | None = None) -> Check:
    return Check("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": regex}, why)


def contains(column: str, values: Iterable[Any], *, why: str | None = None) -> Check:
    """The column's distinct values include every one of `values`."""
    return Check(
        "ExpectColumnDistinctValuesToContainSet",
        {"column": column, "value_set": list(values)},
        why,
    )


def min_rows(n: int = 1, *, why: str | None = None) -> Check:
    return Check("ExpectTableRowCountToBeBetween", {"min_value": n}, why)


def loaded() -> list[Check]:
    """The load metadata every raw table carries (contracts.md §2)."""
    why = "load metadata: every raw row records when and by which sync it arrived"
    return [not_null("_extracted_at", why=why), not_null("_sync_id", why=why)]
