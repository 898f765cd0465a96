"""Great Expectations (GX Core 1.x): the declared suites' expectations over pandas frames.

One ephemeral context per gate run, stores in memory: the suites are
re-declared from `quality/suites.py` on every run (the code is the source of
truth) and the evidence goes to the quality store's audit table, not to GX's
stores. Each table's frame is validated as one batch; every result becomes a
`Finding` carrying the expectation's severity and the primary keys of a sample
of offending rows (GX's `unexpected_index_column_names`).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from quality.result import Finding
from quality.spec import Check, TableSuite

DATASOURCE = "duckdb_tables"


@contextmanager
def quiet() -> Iterator[None]:
    """GX's chatter stays out of our logs: its INFO lines on import ("Skipping
    registering function ... closure"), and the warnings it and pandas raise."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _gx() -> Any:
    # GX 1.24 ships no telemetry client, but other 1.x releases post usage
    # statistics on import/context creation; only package registries are reachable here.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with quiet():
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine

    # A pandas batch gets a fingerprint: a hash of every value of the frame, as long as
    # it is under this many bytes. Nothing of ours reads it, and it costs more than the
    # expectations themselves on a large frame.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


class Validator:
    """Validates frames against checks in one ephemeral GX context."""

    def __init__(self, sample_size: int = 5) -> None:
        gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.gx = gx
        self.sample_size = sample_size
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        with quiet():
            self.context = gx.get_context(mode="ephemeral", project_config=config)
            self.source = self.context.data_sources.add_pandas(DATASOURCE)
        self._assets = 0

    def validate(
        self,
        suite: TableSuite,
        table: str,
        frame: pd.DataFrame,
        checks: Sequence[Check],
        refs: Mapping[tuple[str, str], list],
    ) -> list[Finding]:
        """One batch: every check's result, or one critical finding if GX raised."""
        self._assets += 1
        asset = self.source.add_dataframe_asset(f"{suite.name}#{self._assets}")
        batch_def = asset.add_batch_definition_whole_dataframe("rows")
        gx_suite = self.gx.ExpectationSuite(
            name=suite.name,
            expectations=[_expectation(self.gx, c, refs, i) for i, c in enumerate(checks)],
        )
        result_format = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": self.sample_size,
            "unexpected_index_column_names": list(suite.key),
        }
        try:
            with quiet():
                batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
                validation = batch.validate(gx_suite, result_format=result_format)
        except Exception as exc:  # a GX failure must not pass as success
            return [gx_error(suite, table, f"{type(exc).__name__}: {exc}")]
        return [_finding(r, suite, table, checks) for r in validation.results]


def gx_error(suite: TableSuite, table: str | None, what: str) -> Finding:
    return Finding(
        suite.name,
        table,
        None,
        "great expectations could not validate the suite",
        "critical",
        False,
        observed=what,
        kind="error",
        hint="fix the cause above and rerun the gate",
    )


def _expectation(gx: Any, check: Check, refs: Mapping[tuple[str, str], list], index: int) -> Any:
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(check.kwargs)
    if check.values_from:
        kwargs["value_set"] = refs[check.values_from]
    if check.where:
        column, op, value = check.where
        col = Column(column)
        conditions = {
            "==": col.__eq__,
            "!=": col.__ne__,
            "<": col.__lt__,
            "<=": col.__le__,
            ">": col.__gt__,
            ">=": col.__ge__,
            "in": col.is_in,
            "not in": col.is_not_in,
        }
        kwargs["row_condition"] = conditions[op](value)
    if check.why:
        kwargs["notes"] = check.why
    return getattr(gx.expectations, check.gx_type)(
        **kwargs, severity=check.severity, meta={"check": check.describe(), "index": index}
    )


def _finding(result: Any, suite: TableSuite, table: str, checks: Sequence[Check]) -> Finding:
    config = result.expectation_config
    meta = config.meta or {}
    name = meta.get("check") or config.type
    check = checks[int(meta["index"])] if "index" in meta else None
    severity = getattr(config.severity, "value", config.severity) or "critical"
    details = result.result or {}
    raised = _raised(result)
    rows = details.get("partial_unexpected_index_list") or []
    keys = tuple(_key(row, suite.key) for row in rows if isinstance(row, dict))
    return Finding(
        suite=suite.name,
        table=table,
        column=check.column if check else None,
        expectation=name,
        severity="critical" if raised else severity,
        success=bool(result.success) and not raised,
        observed=f"raised {raised}" if raised else _observed(details),
        unexpected_count=details.get("unexpected_count"),
        sample_keys=keys,
        key_columns=tuple(suite.key),
        kind="gx",
        hint=(check.why or "") if check and not result.success else "",
    )


def _raised(result: Any) -> str | None:
    info = result.exception_info or {}
    # GX reports exceptions either flat or keyed by the metric that raised them.
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


def text(value: Any) -> str:
    """A value for a message: nulls (None, NaN, NaT) read `null`."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "null"
    return str(value)


def _key(row: Mapping[str, Any], key: Sequence[str]) -> str:
    return "|".join(text(row.get(k)) for k in key)


def _observed(details: Mapping[str, Any]) -> str:
    """What GX saw: counts and a few values for row checks, the value for table checks."""
    if "unexpected_count" in details and details.get("element_count") is not None:
        n, total = details["unexpected_count"] or 0, details["element_count"]
        share = f" ({details.get('unexpected_percent') or 0:.1f}%)" if total else ""
        out = f"{n} of {total} rows unexpected{share}"
        values = [text(v) for v in details.get("partial_unexpected_list") or []]
        if n and any(v != "null" for v in values):
            out += f", e.g. {values[:5]}"
        return out
    observed = details.get("observed_value")
    if isinstance(observed, list) and len(observed) > 10:
        observed = [*observed[:10], f"... {len(observed) - 10} more"]
    return f"observed {text(observed)}"
