"""Data-quality gates: Great Expectations (GX Core 1.x) suites and SQL record checks over DuckDB.

Two gates stop bad data on its way to readers:

- `raw`, after the extracts and before dbt: reads the raw files read-only. GX
  validates each raw suite (row-level expectations on the rows of syncs no
  passing raw gate has seen, table-level ones on every row); SQL checks
  quarantine bad records (invalid email, unknown status, future timestamp,
  unparseable amount), watch volumes (a shrinking stream, an empty full sync,
  duplicate keys) and schema drift (new, gone and no-longer-castable fields).
- `marts`, after dbt built a new warehouse file and before it is published:
  reads that file read-only and validates the marts suites.

Every expectation has a severity (GX's `severity`): a failed `critical` one
fails the gate, a `warning` is reported and the run goes on, an `info` is
recorded. Every result lands in the quality store's audit table
(`quality.store`), and static data docs are rendered from it.

Where things are: `suites.py` (the expectations, per table) and `records.py`
(the quarantine rules) are declarations; `gate.py` runs a gate; `runner.py` is
the GX side, `reader.py` the DuckDB side; `volume.py`, `drift.py`,
`quarantine.py` the SQL checks; `store.py` the store; `docs.py` the data docs.

Public API::

    from quality import QualityConfig, StreamSpec, run_gate, prune

    config = QualityConfig(raw={"mailchimp": raw_mc, "hubspot": raw_hs},
                           store=data / "quality.duckdb", docs_dir=data / "quality_docs",
                           warehouse=build_file, streams=[StreamSpec(...), ...])
    result = run_gate("raw", config, run_id="20250601T000000-ab12")
    result.ok                  # no critical failure
    result.findings            # every result (Finding: suite, table, column, expectation,
                               # severity, success, observed, unexpected_count, sample_keys)
    result.critical, result.warnings, result.infos   # the failed ones, by severity
    result.quarantine_changed  # a record entered or left quarantine: rebuild with --full-refresh
    print(result.summary())    # one line per suite, one per critical failure and warning
    result.docs_index          # <docs_dir>/index.html
    prune(store, older_than_days=90)   # retention: audit and released quarantine rows

`elt.gates` builds the config from the settings and the connectors' streams.
Importing `quality` does not import Great Expectations (a gate does).
"""

import logging

from quality.config import DEFAULT_MAY_BE_EMPTY, ColumnSpec, QualityConfig, StreamSpec
from quality.gate import run_gate
from quality.result import Finding, GateResult, SuiteRun
from quality.store import ensure_store, prune
from quality.suites import SUITES

# A library logs, the application decides where to: no stderr fallback from us.
logging.getLogger("quality").addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_MAY_BE_EMPTY",
    "SUITES",
    "ColumnSpec",
    "Finding",
    "GateResult",
    "QualityConfig",
    "StreamSpec",
    "SuiteRun",
    "ensure_store",
    "prune",
    "run_gate",
]
