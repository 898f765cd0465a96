"""Apply the declared suites with Great Expectations (GX Core 1.x) and build data docs.

The GX project (suites, validation definitions, results) lives under
`<data>/gx`, next to the data it describes and out of the repository; the
suites are re-declared from `quality/suites.py` on every run, so the code is
the source of truth. Data docs go to `QualityConfig.docs_dir`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality.reader import (
    DatabaseLocked,
    QualityError,
    TableData,
    TableMissing,
    connect_read_only,
    read_table,
)
from quality.result import QualityResult, SuiteResult
from quality.spec import Check, Layer, TableSuite
from quality.suites import SUITES

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

DOCS_SITE = "quality_docs"
DATASOURCE = "duckdb_tables"


@dataclass(frozen=True)
class QualityConfig:
    """Where the checks read and write: each suite's `database` name (a source's raw file,
    or `warehouse`) to its DuckDB file; GX's stores; the data docs site."""

    databases: Mapping[str, Path]
    gx_dir: Path
    docs_dir: Path


def run_checks(
    config: QualityConfig,
    *,
    layers: Iterable[Layer] = ("raw", "warehouse"),
    suites: Sequence[TableSuite] | None = None,
) -> QualityResult:
    """Validate every declared table of the given layers; see `quality` for the contract."""
    layers = tuple(layers)
    unknown = set(layers) - {"raw", "warehouse"}
    if unknown:
        raise ValueError(f"unknown layer(s) {sorted(unknown)}; use 'raw' and/or 'warehouse'")
    chosen = [s for s in (SUITES if suites is None else suites) if s.layer in layers]

    outcomes: dict[str, SuiteResult] = {}
    context = source = None
    run_ids: list[Any] = []
    # One file at a time: read its tables (connection closed again), validate, let go.
    for path, group in _by_file(config, chosen).items():
        loaded: list[tuple[TableSuite, TableData, SuiteResult]] = []
        _read_group(path, group, outcomes, loaded)
        if loaded and context is None:
            context = _context(config)
            source = context.data_sources.add_or_update_pandas(DATASOURCE)
        for suite, data, outcome in loaded:
            try:
                run_ids.append(_validate(context, source, suite, data, outcome))
            except Exception as exc:  # a GX failure must not pass as success
                outcome.status = "error"
                outcome.reason = f"Great Expectations raised {type(exc).__name__}: {exc}"

    docs_index = _build_docs(context, run_ids, config.docs_dir) if run_ids else None

    return QualityResult(
        [outcomes[s.name] for s in chosen],
        docs_index=docs_index,
        declared={s.name: len(s.checks) for s in chosen},
    )


def _by_file(config: QualityConfig, suites: list[TableSuite]) -> dict[Path, list[TableSuite]]:
    groups: dict[Path, list[TableSuite]] = {}
    for suite in suites:
        if suite.database not in config.databases:
            raise ValueError(
                f"suite {suite.name} reads database {suite.database!r}, which the config does "
                f"not map to a file (known: {sorted(config.databases)})"
            )
        groups.setdefault(config.databases[suite.database], []).append(suite)
    return groups


def _read_group(
    path: Path,
    group: list[TableSuite],
    outcomes: dict[str, SuiteResult],
    loaded: list[tuple[TableSuite, TableData, SuiteResult]],
) -> None:
    """Read every table of one file through one short read-only connection."""

    def outcome(suite: TableSuite, status: str, reason: str | None = None) -> SuiteResult:
        result = SuiteResult(suite.name, suite.layer, suite.table, path, status, reason=reason)
        outcomes[suite.name] = result
        return result

    try:
        con = connect_read_only(path)
    except TableMissing as exc:
        step = "`elt transform`" if group[0].database == "warehouse" else "`elt extract`"
        for suite in group:
            outcome(suite, "skipped", f"{exc}; run {step} first")
        return
    except DatabaseLocked as exc:
        for suite in group:
            outcome(suite, "error", str(exc))
        return
    try:
        for suite in group:
            try:
                data = read_table(con, suite)
            except TableMissing as exc:
                outcome(suite, "skipped", f"{exc} in {path}")
            except QualityError as exc:
                outcome(suite, "error", f"{exc} ({path})")
            else:
                result = outcome(suite, "error", "read but not validated")
                result.rows = len(data.frame)
                result.table = f"{data.schema}.{suite.table}"
                loaded.append((suite, data, result))
    finally:
        con.close()


# --------------------------------------------------------------------------- GX
def _context(config: QualityConfig) -> AbstractDataContext:
    """A GX context whose stores live under `config.gx_dir`, with our docs site and no telemetry.

    Ephemeral, but with filesystem stores: results and suites persist (so the
    docs keep history) while GX's `great_expectations.yml` is never written or
    re-read — a file context re-parses it hundreds of times per run.
    """
    # GX 1.24 ships no telemetry client, but other 1.x releases post usage
    # statistics on import/context creation; only package registries are reachable here.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    root = config.gx_dir
    root.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(root)),
        data_docs_sites={
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(config.docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                # Validation pages already list each expectation; suite pages would
                # double the rendering time for nothing.
                "site_section_builders": {"expectations": "0", "profiling": "0"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _expectation(check: Check, data: TableData) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(check.kwargs)
    if check.values_from:
        kwargs["value_set"] = data.references[check.values_from]
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
    return getattr(gx.expectations, check.gx_type)(**kwargs, meta={"check": check.describe()})


def _validate(
    context: AbstractDataContext,
    source: Any,
    suite: TableSuite,
    data: TableData,
    outcome: SuiteResult,
) -> Any:
    """Run one table's checkpoint; fill `outcome`; return the validation result's id."""
    import great_expectations as gx

    asset = source.add_dataframe_asset(suite.name)
    batch = asset.add_batch_definition_whole_dataframe("whole table")

    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=[_expectation(c, data) for c in suite.checks],
            meta={"table": outcome.table, "file": str(outcome.path)},
        )
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[definition],
            result_format={"result_format": "SUMMARY"},
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": data.frame})
    ((result_id, validation),) = run.run_results.items()
    stats = validation.statistics
    outcome.evaluated = stats["evaluated_expectations"]
    outcome.successful = stats["successful_expectations"]
    outcome.unsuccessful = stats["unsuccessful_expectations"]
    failed = [r for r in validation.results if not r.success]
    outcome.failed_expectations = [_name(r) for r in failed]
    outcome.failures = [f"{_name(r)}: {_observed(r)}" for r in failed]
    outcome.status = "passed" if validation.success else "failed"
    outcome.reason = None
    return result_id


def _build_docs(context: AbstractDataContext, result_ids: list[Any], docs_dir: Path) -> Path:
    """Render this run's results and the index once.

    This is what `UpdateDataDocsAction` does per checkpoint; one checkpoint runs
    per table (each has its own dataframe), and GX re-renders the index and
    recompiles its templates on every call, so batching it saves most of the run time.
    """
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=result_ids)
    return docs_dir / "index.html"


def _name(result: Any) -> str:
    config = result.expectation_config
    return (config.meta or {}).get("check") or config.type


def _observed(result: Any) -> str:
    """What GX saw: enough to find the bad rows."""
    info = result.exception_info or {}
    # GX reports exceptions either flat or keyed by the metric that raised them.
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            return f"raised {entry.get('exception_message')}"
    details = result.result or {}
    if "unexpected_count" in details:
        sample = details.get("partial_unexpected_list") or []
        return (
            f"{details['unexpected_count']} unexpected "
            f"({details.get('unexpected_percent') or 0:.1f}%), e.g. {sample[:3]}"
        )
    return f"observed {details.get('observed_value')!r}"
